"""The boot files and xl configs of the guests vm-tests/test_guests.py starts on an installed host
(vm-tests/guest.py): the initramfs read back by another cpio implementation (busybox's), /init
checked by a shell, the xl configs' text, and the parsing of what the guest and Xen say."""
from __future__ import annotations

import gzip
import lzma
import os
import shutil
import struct
import subprocess

import pytest

import guest

BUSYBOX = shutil.which("busybox") or guest.BUSYBOX
needs_busybox = pytest.mark.skipif(not os.path.exists(BUSYBOX), reason="busybox-static is not installed (make deps)")


def static_elf(payload: bytes = b"") -> bytes:
    """The smallest x86-64 ELF header with no program headers: static as far as the check goes."""
    header = bytearray(64)
    header[:5] = b"\x7fELF\x02"
    struct.pack_into("<QHH", header, 0x20, 64, 0, 0)      # e_phoff; e_phentsize, e_phnum at 0x36 below
    struct.pack_into("<HH", header, 0x36, 56, 0)
    return bytes(header) + payload


MODULES = {"xen-netfront": b"\x7fELF net module", "xen-blkfront": b"\x7fELF blk module"}


@pytest.fixture
def unpacked(tmp_path):
    path = tmp_path / "initrd.img"
    path.write_bytes(guest.initramfs(static_elf(b"busybox here"), MODULES))
    cpio = tmp_path / "initrd.cpio"
    cpio.write_bytes(gzip.decompress(path.read_bytes()))
    return cpio


@needs_busybox
def test_the_initramfs_lists_what_the_guest_needs(unpacked):
    listing = subprocess.run([BUSYBOX, "cpio", "-t", "-v", "-F", str(unpacked)], capture_output=True, text=True)
    assert listing.returncode == 0, listing.stderr
    entries = {line.split()[-1] if " -> " not in line else line.split()[-3]: line
               for line in listing.stdout.splitlines()}
    assert set(entries) == {"bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "lib", "lib/xen",
                            "tmp", "dev/console", "bin/busybox", "bin/sh", "init", "lib/xen/xen-blkfront.ko",
                            "lib/xen/xen-netfront.ko"}, listing.stdout
    assert entries["init"].startswith("-rwxr-xr-x") and entries["bin/busybox"].startswith("-rwxr-xr-x")
    assert entries["dev/console"].startswith("crw-------")
    assert entries["bin/sh"].startswith("lrwxrwxrwx") and entries["bin/sh"].endswith("bin/sh -> busybox")
    assert entries["lib"].startswith("drwxr-xr-x")
    assert all(" 0/0 " in line for line in entries.values()), listing.stdout        # owned by root


@needs_busybox
def test_the_initramfs_unpacks_to_the_same_bytes(unpacked, tmp_path):
    out = tmp_path / "root"
    out.mkdir()
    res = subprocess.run([BUSYBOX, "cpio", "-i", "-d", "-F", str(unpacked), "init", "bin/busybox", "lib/xen/*"],
                         cwd=out, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert (out / "init").read_text() == guest.INIT
    assert (out / "bin" / "busybox").read_bytes() == static_elf(b"busybox here")
    assert (out / "lib" / "xen" / "xen-netfront.ko").read_bytes() == MODULES["xen-netfront"]
    assert os.access(out / "init", os.X_OK)


def test_the_initramfs_is_the_same_for_the_same_inputs():
    one = guest.initramfs(static_elf(), MODULES)
    assert one == guest.initramfs(static_elf(), dict(reversed(MODULES.items())))
    assert one[:2] == b"\x1f\x8b"            # gzip, which the kernel unpacks
    assert b"TRAILER!!!" in gzip.decompress(one)[-16:]


def test_a_dynamic_busybox_is_refused(tmp_path):
    with pytest.raises(ValueError, match="busybox-static"):
        guest.initramfs(open("/bin/ls", "rb").read(), MODULES)       # needs libc: not for an initramfs
    with pytest.raises(ValueError, match="busybox-static"):
        guest.initramfs(b"#!/bin/sh\n", MODULES)


@needs_busybox
def test_the_build_machines_busybox_is_static_and_has_the_applets_init_uses():
    with open(BUSYBOX, "rb") as f:
        assert guest.is_static_elf(f.read())
    applets = set(subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True).stdout.split())
    assert {"sh", "mount", "insmod", "ip", "ping", "dd", "sleep", "poweroff", "grep", "ls", "cat", "sync",
            "uname", "printf"} <= applets


@needs_busybox
@pytest.mark.parametrize("shell", ["busybox", "sh"])
def test_init_is_valid_shell(shell, tmp_path):
    init = tmp_path / "init"
    init.write_text(guest.INIT)
    argv = [BUSYBOX, "sh", "-n", str(init)] if shell == "busybox" else ["sh", "-n", str(init)]
    res = subprocess.run(argv, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_modules_are_unpacked_for_insmod():
    ko = b"\x7fELF module bytes"
    assert guest.module_bytes("/usr/lib/modules/6.12/kernel/drivers/net/xen-netfront.ko.xz",
                              lzma.compress(ko, format=lzma.FORMAT_XZ)) == ko
    assert guest.module_bytes("x.ko.gz", gzip.compress(ko)) == ko
    assert guest.module_bytes("x.ko", ko) == ko
    with pytest.raises(ValueError, match="x.ko.zst: a module compression"):
        guest.module_bytes("x.ko.zst", ko)


def test_the_guest_kernel_command_line():
    assert guest.cmdline("a1b2", "10.0.2.15") == ("console=hvc0 panic=1 xh_token=a1b2 xh_addr=10.0.2.77/24 "
                                                  "xh_peer=10.0.2.15")
    with pytest.raises(ValueError, match="token"):
        guest.cmdline("two words", "10.0.2.15")


def test_the_pv_config():
    text = guest.linux_config("xh-test-pv", "pv", "/boot/vmlinuz-6.12", "/var/tmp/xh-guests/initrd.img",
                              "console=hvc0 xh_token=t", disk="/dev/VG_XenStorage-1/xh-test-pv-disk")
    assert text == """\
name = "xh-test-pv"
type = "pv"
kernel = "/boot/vmlinuz-6.12"
ramdisk = "/var/tmp/xh-guests/initrd.img"
extra = "console=hvc0 xh_token=t"
memory = 128
vcpus = 1
vif = ["mac=00:16:3e:5a:17:01,bridge=xenbr0"]
disk = ["format=raw,vdev=xvda,access=rw,target=/dev/VG_XenStorage-1/xh-test-pv-disk"]
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
"""


def test_the_pvh_config_without_a_disk():
    text = guest.linux_config("g", "pvh", "/k", "/r", "x")
    assert 'type = "pvh"' in text and "\ndisk = " not in text and 'vif = ["mac=' in text
    with pytest.raises(ValueError, match="pv or pvh"):
        guest.linux_config("g", "hvm", "/k", "/r", "x")
    with pytest.raises(ValueError, match="cannot be quoted"):
        guest.linux_config("g", "pv", "/k", "/r", 'a "quoted" word')


def test_the_hvm_config():
    text = guest.hvm_config("xh-test-hvm", "/var/tmp/xh-guests/xh-test-hvm-serial.log")
    assert text == """\
name = "xh-test-hvm"
type = "hvm"
bios = "seabios"
memory = 64
vcpus = 1
boot = "c"
vnc = 0
sdl = 0
serial = "file:/var/tmp/xh-guests/xh-test-hvm-serial.log"
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
"""
    uefi = guest.hvm_config("u", "/s", bios="ovmf")
    assert 'bios = "ovmf"' in uefi and "memory = 256" in uefi
    with pytest.raises(ValueError, match="seabios or ovmf"):
        guest.hvm_config("u", "/s", bios="rombios")


def test_what_the_guest_said_is_read_from_its_console_log():
    log = ("[    0.000000] Linux version 6.12\r\n"
           "XH-GUEST 0ld: done\r\n"                             # an earlier run's guest
           "XH-GUEST t0k: hello from Linux 6.12, PV guest\r\n"
           "[    2.100000] xen_netfront: Initialising Xen virtual ethernet driver\r\n"
           "XH-GUEST t0k: ping 10.0.2.15 ok\r\n"
           "XH-GUEST t0k: done\n")
    assert guest.said(log, "t0k") == ["hello from Linux 6.12, PV guest", "ping 10.0.2.15 ok", "done"]
    assert guest.said(log, "other") == []


def test_seabios_lines_are_those_of_the_domain():
    dmesg = ("(XEN) HVM: Hardware Assisted Paging (HAP) detected\n"
             "(XEN) (d1) HVM Loader\n"
             "(XEN) (d2) HVM Loader\n"
             "(XEN) (d2) Loading SeaBIOS ...\n"
             "(XEN) (d2) SeaBIOS (version 1.16.3-debian-1.16.3-2)\n"
             "(XEN) (d12) SeaBIOS (version 1.16.3-debian-1.16.3-2)\n")
    assert guest.seabios_lines(dmesg, 2) == ["(XEN) (d2) HVM Loader", "(XEN) (d2) Loading SeaBIOS ...",
                                             "(XEN) (d2) SeaBIOS (version 1.16.3-debian-1.16.3-2)"]
    ovmf = dmesg + "(XEN) (d3) HVM Loader\n(XEN) (d3) Loading OVMF ...\n"
    assert guest.firmware_lines(ovmf, 3, "OVMF") == ["(XEN) (d3) HVM Loader", "(XEN) (d3) Loading OVMF ..."]
    assert guest.firmware_lines(ovmf, 2, "OVMF") == ["(XEN) (d2) HVM Loader"]
    assert guest.OVMF_SERIAL.search("BdsDxe: failed to load Boot0001") and not guest.OVMF_SERIAL.search("SeaBIOS")


@needs_busybox
@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: namespaces, chroot, a veth pair")
def test_init_runs_through_in_a_sandbox(tmp_path):
    """/init from the real initramfs, run here in a chroot inside new mount, PID and network
    namespaces: a fake sysfs and disk file stand in for Xen's devices, a veth for the vif, the
    kernel command line is written in; insmod and poweroff are replaced by echo (and a poweroff
    that slipped through would only end the PID namespace)."""
    with open(BUSYBOX, "rb") as f:
        image = guest.initramfs(f.read(), MODULES)
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "initrd.cpio").write_bytes(gzip.decompress(image))
    res = subprocess.run([BUSYBOX, "cpio", "-i", "-d", "-F", str(tmp_path / "initrd.cpio"), "init", "bin/*", "lib/*"],
                         cwd=root, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    for d in ("proc", "sys", "dev", "sbin", "usr/bin", "usr/sbin", "tmp"):
        (root / d).mkdir(parents=True, exist_ok=True)
    init = guest.INIT
    for real, stub in (("mount -t sysfs sysfs /sys\n", ""), ("mount -t devtmpfs devtmpfs /dev\n", ""),
                       ('insmod "$m"', 'echo insmod "$m"'), ("poweroff -f", "echo poweroff"),
                       ("$(cat /proc/cmdline)", guest.cmdline("t0k", "10.0.2.77"))):
        assert real in init
        init = init.replace(real, stub)
    (root / "init").write_text(init)
    sysfs = {"sys/hypervisor/guest_type": "PV\n", "sys/block/xvda/size": "131072\n",
             "sys/class/net/eth0/address": guest.GUEST_MAC + "\n", "sys/bus/xen/devices/vif-0/x": "",
             "sys/bus/xen/devices/vbd-51712/x": ""}
    for path, text in sysfs.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    (root / "dev" / "xvda").write_bytes(b"\xff" * 4096)
    script = f"ip link set lo up && ip link add eth0 type veth peer name eth1 && ip link set eth1 up && " \
             f"exec chroot {root} /init"
    res = subprocess.run(["unshare", "--mount", "--pid", "--fork", "--net", "sh", "-c", script],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert guest.said(res.stdout, "t0k") == [
        "hello from Linux " + os.uname().release + ", PV guest", f"eth0 {guest.GUEST_ADDR} {guest.GUEST_MAC}",
        "ping 10.0.2.77 ok", "xvda 131072 sectors", "xvda written", "done"], res.stdout
    assert "echo poweroff" not in res.stdout and res.stdout.rstrip().endswith("poweroff")
    written = (root / "dev" / "xvda").read_bytes()
    assert written[:512] == (guest.DISK_MARKER.format(token="t0k") + "\n").encode().ljust(512, b"\0")
    assert written[512:] == b"\xff" * 3584        # one sector, nothing past it
