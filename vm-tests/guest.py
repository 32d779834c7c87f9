"""The boot files and xl configurations of the guests test_guests.py starts on an installed host.

Pure: bytes and text in, bytes and text out. The guest is the host's own dom0 kernel with a small
initramfs built here: a static busybox from the build machine, the Xen front-end drivers taken
from the host (so they match its kernel), and an /init that reports on its console, pings dom0
over the management bridge, writes a marker at the start of its disk and powers off. Every line
it prints for the test starts with "XH-GUEST <token>:", the token being fresh for each run (given
on the guest's kernel command line), so a line from an earlier run can never satisfy a wait.
"""
from __future__ import annotations

import gzip
import lzma
import re
import stat
import struct

BUSYBOX = "/bin/busybox"            # Debian's busybox-static on the build machine (Makefile APT_PACKAGES)
FRONT_ENDS = ("xen-netfront", "xen-blkfront")     # modules in Debian's kernel (=m), no dependencies
GUEST_ADDR = "10.0.2.77/24"         # on the host's QEMU user network: outside what its DHCP hands out
GUEST_MAC = "00:16:3e:5a:17:01"     # Xen's OUI
DISK_MARKER = "XH-DISK {token}"     # the first line of the guest's disk after its run

INIT = r"""#!/bin/sh
# The test guest's /init (vm-tests/guest.py). Lines for the test start with "XH-GUEST <token>:".
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
token=none addr= peer= stay=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        xh_token=*) token=${arg#*=} ;;
        xh_addr=*) addr=${arg#*=} ;;
        xh_peer=*) peer=${arg#*=} ;;
        xh_stay=*) stay=${arg#*=} ;;
    esac
done
say() { echo "XH-GUEST $token: $*"; }
# devices appear a moment after their driver is loaded
await() { i=0; while [ ! -e "$1" ] && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done; [ -e "$1" ]; }
say "hello from Linux $(uname -r), $(cat /sys/hypervisor/guest_type 2>/dev/null || echo unknown) guest"
for m in /lib/xen/*.ko; do insmod "$m" || say "insmod $m FAILED"; done
# only the devices the xl config gave the guest are on its xenbus
if ls /sys/bus/xen/devices | grep -q '^vif-'; then
    if await /sys/class/net/eth0 && ip link set eth0 up && ip addr add "$addr" dev eth0; then
        say "eth0 $addr $(cat /sys/class/net/eth0/address)"
        i=0
        until ping -c 1 -W 2 "$peer" >/dev/null 2>&1; do
            i=$((i+1)); [ $i -ge 30 ] && break
            sleep 1
        done
        if [ $i -lt 30 ]; then say "ping $peer ok"; else say "ping $peer FAILED"; fi
    else
        say "eth0 FAILED"
    fi
fi
if ls /sys/bus/xen/devices | grep -q '^vbd-'; then
    if await /dev/xvda; then
        say "xvda $(cat /sys/block/xvda/size) sectors"
        printf 'XH-DISK %s\n' "$token" > /marker
        if dd if=/marker of=/dev/xvda bs=512 conv=notrunc,sync,fsync 2>/dev/null; then
            say "xvda written"
        else
            say "xvda write FAILED"
        fi
    else
        say "xvda FAILED"
    fi
fi
sync
say "done"
if [ "$stay" = 1 ]; then
    # run until the host asks the guest to shut down: the kernel answers a Xen shutdown request
    # (xl shutdown) by running poweroff_cmd, which says so on the console and powers off
    printf '#!/bin/sh\necho "XH-GUEST %s: shutdown requested" > /dev/console\nsync\nexec poweroff -f\n' \
        "$token" > /sbin/xh-shutdown
    chmod 755 /sbin/xh-shutdown
    echo /sbin/xh-shutdown > /proc/sys/kernel/poweroff_cmd
    say "running until shut down"
    while :; do sleep 60; done
fi
poweroff -f
"""


def cpio_newc(entries: list[tuple[str, int, bytes, tuple[int, int]]]) -> bytes:
    """A "newc" cpio archive, what the kernel unpacks as an initramfs: (name, mode, data, (rdev
    major, minor)) each; owner root, time 0 (the same inputs give the same bytes)."""
    out = bytearray()

    def add(ino: int, name: str, mode: int, data: bytes, rdev: tuple[int, int]) -> None:
        encoded = name.encode() + b"\0"
        nlink = 2 if stat.S_ISDIR(mode) else 1
        fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(encoded), 0)
        out.extend(b"070701" + b"".join(b"%08X" % f for f in fields) + encoded)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (name, mode, data, rdev) in enumerate(entries, start=1):
        add(ino, name, mode, data, rdev)
    add(0, "TRAILER!!!", 0, b"", (0, 0))
    return bytes(out)


def is_static_elf(data: bytes) -> bool:
    """An x86-64 ELF executable without a program interpreter (runs with no libraries)."""
    if data[:5] != b"\x7fELF\x02" or len(data) < 64:
        return False
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    types = [struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)]
    return 3 not in types          # PT_INTERP


def module_bytes(path: str, data: bytes) -> bytes:
    """A kernel module as insmod takes it: the host's modules are compressed (Debian: .ko.xz);
    busybox's insmod hands the kernel what it reads."""
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".gz"):
        return gzip.decompress(data)
    if path.endswith(".ko"):
        return data
    raise ValueError(f"{path}: a module compression this guest cannot unpack")


def initramfs(busybox: bytes, modules: dict[str, bytes]) -> bytes:
    """The guest's initramfs, gzip-compressed: busybox, /init, and the modules (name -> the .ko's
    bytes, uncompressed), which /init loads in name order."""
    if not is_static_elf(busybox):
        raise ValueError("busybox is not a static x86-64 executable (install busybox-static)")
    d, f, x = stat.S_IFDIR | 0o755, stat.S_IFREG | 0o644, stat.S_IFREG | 0o755
    none = (0, 0)
    entries = [(name, d, b"", none) for name in
               ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "lib", "lib/xen", "tmp")]
    # the kernel opens /dev/console for /init's output before /init mounts devtmpfs
    entries.append(("dev/console", stat.S_IFCHR | 0o600, b"", (5, 1)))
    entries.append(("bin/busybox", x, busybox, none))
    entries.append(("bin/sh", stat.S_IFLNK | 0o777, b"busybox", none))
    entries.append(("init", x, INIT.encode(), none))
    entries += [(f"lib/xen/{name}.ko", f, data, none) for name, data in sorted(modules.items())]
    return gzip.compress(cpio_newc(entries), compresslevel=6, mtime=0)


def cmdline(token: str, peer: str, addr: str = GUEST_ADDR, stay: bool = False) -> str:
    """The guest kernel's command line: console on Xen's PV console, a panic ends the domain
    (on_reboot destroys it) instead of hanging until the test's timeout, and what /init needs.
    stay: after "done", run until asked to shut down (then "shutdown requested", and power off)."""
    if not re.fullmatch(r"[\w.-]+", token):
        raise ValueError(f"token {token!r}: letters, digits, '.', '-' and '_' only")
    return f"console=hvc0 panic=1 xh_token={token} xh_addr={addr} xh_peer={peer}" + (" xh_stay=1" if stay else "")


def _xl(settings: list[tuple[str, object]]) -> str:
    def value(v: object) -> str:
        if isinstance(v, int):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(i) for i in v) + "]"
        text = str(v)
        if '"' in text or "\n" in text:
            raise ValueError(f"{text!r} cannot be quoted in an xl config")
        return f'"{text}"'
    return "".join(f"{key} = {value(v)}\n" for key, v in settings)


def linux_config(name: str, kind: str, kernel: str, ramdisk: str, extra: str, bridge: str = "xenbr0",
                 disk: str | None = None, memory_mib: int = 128, mac: str = GUEST_MAC) -> str:
    """xl config of a direct-kernel Linux guest, "pv" or "pvh": one vCPU, a NIC on the bridge, the
    disk (a block device in dom0: an LV of the SR, or a loop device over a file in it) as xvda;
    any end of the guest destroys it (nothing restarts behind the test's back)."""
    if kind not in ("pv", "pvh"):
        raise ValueError(f"kind {kind!r}: pv or pvh")
    settings: list[tuple[str, object]] = [
        ("name", name), ("type", kind), ("kernel", kernel), ("ramdisk", ramdisk), ("extra", extra),
        ("memory", memory_mib), ("vcpus", 1), ("vif", [f"mac={mac},bridge={bridge}"])]
    if disk:
        # target= last: it takes the rest of the spec, commas included
        settings.append(("disk", [f"format=raw,vdev=xvda,access=rw,target={disk}"]))
    settings += [("on_poweroff", "destroy"), ("on_reboot", "destroy"), ("on_crash", "destroy")]
    return _xl(settings)


def hvm_config(name: str, serial_log: str, bios: str = "seabios") -> str:
    """xl config of an HVM guest with no disk: hvmloader, then the firmware (SeaBIOS, or OVMF for
    UEFI guests), which finds nothing to boot. hvmloader's and SeaBIOS's debug output go to Xen's
    console (I/O port 0xe9, "(dN) ..." in xl dmesg); the emulated serial port, where OVMF writes
    its boot manager's lines, to serial_log. OVMF wants more memory than SeaBIOS."""
    if bios not in ("seabios", "ovmf"):
        raise ValueError(f"bios must be seabios or ovmf, not {bios!r}")
    memory_mib = 64 if bios == "seabios" else 256
    return _xl([("name", name), ("type", "hvm"), ("bios", bios), ("memory", memory_mib), ("vcpus", 1),
                ("boot", "c"), ("vnc", 0), ("sdl", 0), ("serial", f"file:{serial_log}"),
                ("on_poweroff", "destroy"), ("on_reboot", "destroy"), ("on_crash", "destroy")])


def said(console: str, token: str) -> list[str]:
    """What the guest of this run said on its console, in order (without the prefix)."""
    return re.findall(rf"^XH-GUEST {re.escape(token)}: (.*?)\r?$", console, re.M)


def seabios_lines(xen_log: str, domid: int) -> list[str]:
    """Lines of domain domid in Xen's console (xl dmesg) that come from SeaBIOS or hvmloader."""
    return firmware_lines(xen_log, domid, "SeaBIOS")


def firmware_lines(xen_log: str, domid: int, firmware: str) -> list[str]:
    """Lines of domain domid in Xen's console that come from hvmloader or name the firmware
    ("(d3) Loading OVMF ...")."""
    return [m.group(0) for m in re.finditer(rf"^.*\(d{domid}\) .*(?:{re.escape(firmware)}|HVM Loader).*$",
                                            xen_log, re.M)]


# what OVMF's boot manager and shell write on the guest's serial port when nothing boots
OVMF_SERIAL = re.compile(r"BdsDxe|UEFI Interactive Shell|Shell> |Boot Manager|TianoCore")
