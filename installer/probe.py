"""Describe the live machine (disks, NICs, memory, CPU, firmware) with pyudev and sysfs.

Works without udevd (as on the build machine): sysfs gives sizes and sector sizes, `sfdisk --json`
reads partition tables in user space (the kernel may lack partition parsers) and `blkid -p` probes
signatures, also inside partitions that have no device node.
"""
from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

from . import eligibility, runner, secureboot
from .layout import partition_path
from .machine import HAP_FLAGS, NIC, Disk, Installation, Machine, Partition

SKIP_PREFIXES = ("ram", "zram", "dm-", "sr", "fd", "nbd")
# Where the medium we booted from is mounted: live-boot (our ISO/USB stick) uses /run/live/medium,
# and /run/live/findiso for the disk holding an ISO file booted with findiso=.
MEDIA_MOUNTS = ("/run/live/medium", "/run/live/findiso", "/run/install/media", "/run/initramfs/live",
                "/cdrom")


def _read(path: Path, default: str = "") -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return default


def _blkid(dev: str, offset: int | None = None, size: int | None = None) -> dict[str, str]:
    argv = ["blkid", "-p", "-o", "udev"]
    if offset is not None:
        argv += ["-O", str(offset), "-S", str(size)]
    res = runner.run(argv + [dev], check=False, timeout=30)
    props = {}
    for line in res.stdout.splitlines():
        key, _, value = line.partition("=")
        props[key] = value
    return props


def _partitions(dev: str, sector: int) -> tuple[str, list[Partition]]:
    res = runner.run(["sfdisk", "--json", dev], check=False, timeout=30)
    if res.returncode != 0 or not res.stdout.strip():
        return "", []
    table = json.loads(res.stdout).get("partitiontable", {})
    parts = []
    for entry in table.get("partitions", []):
        number = int("".join(ch for ch in entry["node"][len(dev):] if ch.isdigit()) or 0)
        start, size = entry["start"] * sector, entry["size"] * sector
        props = _blkid(dev, start, size)
        parts.append(Partition(number=number, start=start, size=size, type=entry.get("type", ""),
                               name=entry.get("name", ""), fstype=props.get("ID_FS_TYPE", ""),
                               label=props.get("ID_FS_LABEL", ""), uuid=props.get("ID_FS_UUID", "")))
    return table.get("label", ""), parts


def _mounts() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in _read(Path("/proc/mounts")).splitlines():
        src, target = line.split()[:2]
        if src.startswith("/dev/"):
            found.setdefault(os.path.realpath(src), []).append(target)
    return found


def _swaps() -> set[str]:
    lines = _read(Path("/proc/swaps")).splitlines()[1:]
    return {os.path.realpath(line.split()[0]) for line in lines if line.strip()}


def _by_id() -> dict[str, list[str]]:
    links: dict[str, list[str]] = {}
    base = Path("/dev/disk/by-id")
    if base.is_dir():
        for link in sorted(base.iterdir()):
            links.setdefault(os.path.realpath(link), []).append(link.name)
    return links


def _usage(name: str, sysdir: Path, mounts, swaps) -> tuple[list[str], bool]:
    """Why a disk is busy, and whether it carries the installer media."""
    reasons, media = [], False
    nodes = [name] + [p.name for p in sysdir.iterdir() if p.name.startswith(name)]
    for node in nodes:
        dev = "/dev/" + node
        for target in mounts.get(dev, []):
            reasons.append(f"{dev} is mounted at {target}")
            media = media or target in MEDIA_MOUNTS
        if dev in swaps:
            reasons.append(f"{dev} is in use as swap")
        holders = sysdir / node / "holders" if node != name else sysdir / "holders"
        if holders.is_dir():
            for holder in sorted(os.listdir(holders)):
                reasons.append(f"{dev} is held by {holder} (LVM, RAID or device-mapper)")
    return reasons, media


def probe_disk(device, include_loop: bool = False, mounts=None, swaps=None, by_id=None) -> Disk | None:
    name = device.sys_name
    if name.startswith(SKIP_PREFIXES) or (name.startswith("loop") and not include_loop):
        return None
    sysdir = Path(device.sys_path)
    size = int(_read(sysdir / "size", "0")) * 512
    if size == 0:
        return None
    dev = device.device_node or "/dev/" + name
    logical = int(_read(sysdir / "queue/logical_block_size", "512"))
    props = device.properties
    in_use, media = _usage(name, sysdir, mounts if mounts is not None else _mounts(),
                           swaps if swaps is not None else _swaps())
    table, parts = _partitions(dev, logical)
    whole = _blkid(dev)
    sigs = [s for s in (whole.get("ID_PART_TABLE_TYPE"), whole.get("ID_FS_TYPE")) if s]
    return Disk(
        name=name, size=size, logical_sector_size=logical,
        physical_sector_size=int(_read(sysdir / "queue/physical_block_size", str(logical))),
        model=props.get("ID_MODEL", "").replace("_", " ") or _read(sysdir / "device/model"),
        serial=props.get("ID_SERIAL_SHORT", "") or _read(sysdir / "device/serial"),
        by_id=(by_id if by_id is not None else _by_id()).get(dev, []),
        removable=_read(sysdir / "removable") == "1",
        rotational=_read(sysdir / "queue/rotational") == "1",
        readonly=_read(sysdir / "ro") == "1",
        install_media=media, in_use=in_use, table=table, signatures=sigs,
        label=whole.get("ID_FS_LABEL", "") if whole.get("ID_FS_TYPE") else "", partitions=parts)


def _volume_groups(disks: list[Disk]) -> None:
    """Each LVM physical volume's volume group and LV count, read from the LVM metadata by pvs
    (nothing is activated, so this works without device-mapper); PVs without a node are skipped."""
    pvs: dict[str, Disk | Partition] = {}
    for disk in disks:
        if "LVM2_member" in disk.signatures:
            pvs[disk.path] = disk
        for part in disk.partitions:
            if part.fstype == "LVM2_member" and os.path.exists(partition_path(disk.path, part.number)):
                pvs[partition_path(disk.path, part.number)] = part
    if not pvs:
        return
    argv = ["pvs", "--readonly", "--noheadings", "--nameprefixes", "-o", "pv_name,vg_name,lv_count"]
    for dev in pvs:
        argv += ["--devices", dev]
    for line in runner.run(argv + list(pvs), check=False, timeout=60).stdout.splitlines():
        found = dict(re.findall(r"(\w+)='([^']*)'", line))
        where = pvs.get(found.get("LVM2_PV_NAME", ""))
        if where is not None and found.get("LVM2_VG_NAME"):
            where.vg = found["LVM2_VG_NAME"]
            where.lv_count = int(found.get("LVM2_LV_COUNT") or 0)


def _nics() -> list[NIC]:
    import pyudev   # lazily: only a live probe needs it, recorded machines and planning do not
    try:
        import netifaces
    except ImportError:  # addresses are informative only
        netifaces = None
    nics = []
    for dev in pyudev.Context().list_devices(subsystem="net"):
        sysdir = Path(dev.sys_path)
        if "/virtual/" in dev.sys_path:
            continue
        name = dev.sys_name
        carrier = _read(sysdir / "carrier")
        speed = _read(sysdir / "speed")
        driver = Path(os.path.realpath(sysdir / "device/driver")).name if (sysdir / "device/driver").exists() else ""
        addrs = []
        if netifaces is not None:
            info = netifaces.ifaddresses(name)
            for family in (netifaces.AF_INET, netifaces.AF_INET6):
                addrs += [a["addr"] for a in info.get(family, [])]
        nics.append(NIC(name=name, mac=_read(sysdir / "address").lower(), driver=driver,
                        link=None if carrier == "" else carrier == "1",
                        speed_mbps=int(speed) if speed.lstrip("-").isdigit() and int(speed) > 0 else None,
                        addresses=addrs))
    return sorted(nics, key=lambda n: n.name)


def _cpu(info: str | None = None) -> tuple[int, str, str, bool | None]:
    """CPU count, model, VT-x/AMD-V (vmx, svm or "") and whether it has hardware-assisted paging,
    EPT or NPT (None without VT-x/AMD-V: no guest would use it). The installer runs on bare metal,
    so these are the CPU's own flags as the firmware left them, not a hypervisor's."""
    info = _read(Path("/proc/cpuinfo")) if info is None else info
    model, flags = "", set()
    for line in info.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "processor" and flags:
            break                           # the first CPU's lines are enough
        if key.strip() == "model name" and not model:
            model = value.strip()
        elif key.strip() in ("flags", "vmx flags"):     # since Linux 5.6 "vmx flags" lists ept too
            flags |= set(value.split())
    virt = "vmx" if "vmx" in flags else "svm" if "svm" in flags else ""
    hap = HAP_FLAGS[virt] in flags if virt else None
    return os.cpu_count() or 1, model, virt, hap


def _memory_mib() -> int:
    for line in _read(Path("/proc/meminfo")).splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 0


FIRSTBOOT_DIR = "/usr/lib/xenhost/firstboot.d"
STAMP_DIR = "/var/lib/misc"


def _debugfs(device: str, request: str) -> str:
    """Read an ext4 file system without mounting it (debugfs opens it read-only)."""
    return runner.run(["debugfs", "-R", request, device], check=False, timeout=60).stdout


def _names(listing: str) -> set[str]:
    # `ls -p` lines: /inode/mode/uid/gid/name/size/
    return {f[5] for f in (line.split("/") for line in listing.splitlines()) if len(f) > 6 and f[5] not in (".", "..")}


def installation_details(device: str, disk_name: str) -> Installation:
    """Product, version and whether the first boot ran to the end (every first-boot script left its
    stamp), read from an installed root file system."""
    inventory = dict(re.findall(r"^(\w+)='([^']*)'", _debugfs(device, "cat /etc/xensource-inventory"), re.M))
    scripts = _names(_debugfs(device, f"ls -p {FIRSTBOOT_DIR}"))
    stamps = _names(_debugfs(device, f"ls -p {STAMP_DIR}"))
    return Installation(disk_name, inventory.get("PRODUCT_BRAND", ""), inventory.get("PRODUCT_VERSION", ""),
                        booted=bool(scripts) and all(f"ran-{s}" in stamps for s in scripts))


def _installations(disks: list[Disk]) -> list[Installation]:
    found = []
    for disk in disks:
        root = eligibility.root(disk)
        if root is not None:
            device = partition_path(disk.path, root.number)
            if os.path.exists(device):
                found.append(installation_details(device, disk.name))
    return found


def probe(include_loop: bool = False, only: list[str] | None = None) -> Machine:
    """Describe this machine. `only` restricts disks to these kernel names (e.g. test loop devices)."""
    import pyudev   # lazily: only a live probe needs it, recorded machines and planning do not
    mounts, swaps, by_id = _mounts(), _swaps(), _by_id()
    disks = []
    for dev in pyudev.Context().list_devices(subsystem="block", DEVTYPE="disk"):
        if only is not None and dev.sys_name not in only:
            continue
        disk = probe_disk(dev, include_loop or only is not None, mounts, swaps, by_id)
        if disk:
            disks.append(disk)
    _volume_groups(disks)
    cpus, model, virt, hap = _cpu()
    uefi = Path("/sys/firmware/efi").is_dir()
    secure = secureboot.read_state(uefi)
    machine = Machine(boot_mode="uefi" if uefi else "bios", memory_mib=_memory_mib(), cpu_count=cpus,
                      cpu_model=model, virtualization=virt, hap=hap, secure_boot=secure.enabled,
                      secure_boot_setup_mode=secure.setup_mode, disks=sorted(disks, key=lambda d: d.name),
                      nics=_nics(), installations=_installations(disks))
    logging.getLogger("installer.probe").info("Secure Boot: %s (%s)", secureboot.shown(machine), secure.evidence)
    return machine
