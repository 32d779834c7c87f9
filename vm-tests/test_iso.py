"""Installer media scenarios on the ISO (numbers as in the installer-media issue):

1. BIOS, unattended, answer file over HTTP (answerfile=http://...), typed at GRUB's command line
   over the serial console as an operator editing the entry would.
2. UEFI (OVMF), unattended, static IPv4 for the installer and the host, a second disk as guest disk;
   the answer file and the product tree come over NFS (a real NFSv4 server on 127.0.0.1).
4. An answer file naming a missing disk: a clear failure on the console, the disk untouched.
5. The VM killed in the middle of laydown (at a progress line of the unpacking), then a clean
   re-install onto the same disk.

Each successful install powers off (atexit=poweroff); the disk then boots by itself to HOST READY.
The guests reach the test's HTTP server on 127.0.0.1 only through guestfwd (restrict=on).
"""
from __future__ import annotations

import os
import time

import pytest
from answers import DHCP, STATIC, answerfile
from media import SERVER, blank_disk, boot_iso, booted_host, copy_tree, record, run_install

from installer import cachelock

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="vm-tests need root (image builds)")
UNATTENDED = f"answerfile=http://{SERVER}/a.xml atexit=poweroff"


def test_iso_bios_unattended_install_over_http(iso, www, ssh_key, tmp_path):
    root, port = www
    hostname = "xh-iso.vm-test.invalid"
    (root / "a.xml").write_text(answerfile(ssh_key.public, hostname, DHCP))
    disk = blank_disk(str(tmp_path / "disk.img"))
    timings: dict[str, float] = {}
    run_install(boot_iso("iso-bios-http", iso, disk, port, UNATTENDED), timings)
    with booted_host("iso-bios-http", disk, "bios", ssh_key.private, hostname, "10.0.2.15/24", timings):
        pass
    record("1 ISO BIOS, answer file over HTTP", timings)


def test_iso_uefi_static_two_disks_over_nfs(iso, www, nfs_server, ssh_key, tmp_path):
    _root, port = www
    export, nfs_port = nfs_server
    hostname = "xh-iso-uefi.vm-test.invalid"
    copy_tree(cachelock.use(os.path.realpath(os.path.join(os.path.dirname(iso), "..", "..", "product", "current"))),
              str(export / "tree"))
    (export / "a.xml").write_text(answerfile(ssh_key.public, hostname, STATIC, extra="<guest-disk>vdb</guest-disk>",
                                             source=f'<source type="nfs">{SERVER}:/export/tree</source>'))
    disk = blank_disk(str(tmp_path / "disk.img"))
    guest = blank_disk(str(tmp_path / "guest.img"), size=20 << 30)
    timings: dict[str, float] = {}
    # the installer's own network is static too; ';' would end a GRUB command unquoted
    args = ("network_device=eth0 'network_config=static:ip=10.0.2.15;netmask=255.255.255.0;"
            f"gateway=10.0.2.2;dns=10.0.2.3' answerfile=nfs://{SERVER}/export/a.xml atexit=poweroff")
    vm = boot_iso("iso-uefi-static", iso, disk, port, args, firmware="uefi", extra_disks=[guest],
                  nfs_port=nfs_port)
    run_install(vm, timings)
    assert "installer: network: eth0 10.0.2.15/24" in vm.console()
    assert f"product tree {SERVER}:/export/tree" in vm.console(), vm.console()[-3000:]
    with booted_host("iso-uefi-static", disk, "uefi", ssh_key.private, hostname, "10.0.2.15/24", timings,
                     extra_disks=[guest]) as ssh:
        pvs = dict(line.split() for line in ssh("pvs --noheadings -o pv_name,vg_name").splitlines())
        assert set(pvs) == {"/dev/vda3", "/dev/vdb1"}, pvs
        assert len(set(pvs.values())) == 1 and next(iter(pvs.values())).startswith("VG_XenStorage-")
        assert "iface xenbr0 inet static" in ssh("cat /etc/network/interfaces")
        assert ssh("test -d /sys/firmware/efi && echo uefi").strip() == "uefi"
    record("2 ISO UEFI, static IPv4, guest disk, NFS", timings)


def test_iso_install_naming_a_missing_disk_fails_clearly_and_writes_nothing(iso, www, ssh_key, tmp_path):
    root, port = www
    (root / "a.xml").write_text(answerfile(ssh_key.public, "xh.invalid", DHCP, disk="sdz"))
    pattern = os.urandom(1 << 20)
    disk = blank_disk(str(tmp_path / "disk.img"), pattern)
    start = time.monotonic()
    vm = boot_iso("iso-bios-missing-disk", iso, disk, port, UNATTENDED)
    try:
        vm.wait_for_or_restart(r"installer: answer file: ", 600)
        vm.wait_for(r"installer: INSTALLATION FAILED: the install cannot be planned", 900)
        vm.wait_for(r"support bundle: /run/install/support-", 120)     # printed after the failure
        text = vm.console()
        assert "plan error: primary disk /dev/sdz" in text and "vda" in text, text[-2000:]
        assert "no disk was touched" in text
        vm.wait_exit(300)
    finally:
        vm.stop()
    with open(disk, "rb") as f:
        assert f.read(1 << 20) == pattern, "the disk was written"
    record("4 ISO BIOS, missing disk (fails)", {"installer boot + failure": time.monotonic() - start})


def test_iso_install_killed_in_laydown_then_reinstalled(iso, www, ssh_key, tmp_path):
    root, port = www
    hostname = "xh-iso-again.vm-test.invalid"
    (root / "a.xml").write_text(answerfile(ssh_key.public, hostname, DHCP))
    disk = blank_disk(str(tmp_path / "disk.img"))
    timings: dict[str, float] = {}
    vm = boot_iso("iso-bios-killed", iso, disk, port, UNATTENDED)
    try:
        vm.wait_for_or_restart(r"installer: answer file: ", 600)
        # a progress line of laydown (unsquashfs) means the root image is half written
        vm.wait_for(r"(?s)\[4/7\] Installing the host system(?:(?!\[5/7\]).)*?\n +[1-9]0% \(", 1200)
        killed_at = vm.console()
        timings["boot and install until killed"] = time.monotonic() - vm.started
    finally:
        vm.stop()      # SIGTERM: QEMU quits at once, the guest gets no chance to flush or clean up
    assert "[5/7]" not in killed_at, "the install got past laydown before the VM was killed"
    with open(disk, "rb") as f:
        assert f.read(512)[510:] == b"\x55\xaa", "the killed install had not even partitioned"
    vm = boot_iso("iso-bios-killed", iso, disk, port, UNATTENDED)
    run_install(vm, timings)
    with booted_host("iso-bios-killed", disk, "bios", ssh_key.private, hostname, "10.0.2.15/24", timings) as ssh:
        assert ssh("cat /var/log/installer/answerfile.xml").count("<hostname>") == 1
    record("5 ISO BIOS, killed in laydown, re-installed", timings)
