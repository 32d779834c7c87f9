"""What a machine offers an interactive install: usable disks (and why others are not), RAID
partners, existing installations and backups (and why one cannot be upgraded), NICs, warnings.

Pure functions of a Machine, so the wizard's screens show exactly what the planner will accept.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import layout
from .machine import Disk, Machine
from .product import DEFAULT as DEFAULT_PRODUCT, Product

MIN_RAM_MIB = 1024


@dataclass
class DiskOffer:
    disk: Disk
    usable: bool
    reason: str = ""        # why not usable, shown beside the greyed-out disk

    @property
    def name(self) -> str:
        return self.disk.name


@dataclass
class Existing:
    disk: str               # kernel name
    version: str            # "" when unknown
    upgrade: bool           # offered for upgrade
    restore: bool           # a backup is there to restore
    reason: str = ""        # why no upgrade is offered


def size_text(size: int) -> str:
    return f"{size / 2**40:.1f} TiB" if size >= 2**40 else f"{size / 2**30:.1f} GiB"


def content(disk: Disk) -> str:
    """What is on a disk today, in a few words, so the operator sees what an install destroys."""
    if not disk.partitions and not disk.signatures:
        return "empty"
    if disk.partitions:
        kinds = sorted({p.fstype or "unformatted" for p in disk.partitions})
        table = {"gpt": "GPT", "dos": "MBR"}.get(disk.table, "partition table")
        return f"{table}, {len(disk.partitions)} partitions ({', '.join(kinds)})"
    return ", ".join(disk.signatures)


@dataclass(frozen=True)
class Holding:
    """One thing found on a disk that writing a new layout over it destroys."""
    kind: str               # installation | backup | volume-group | raid-member | file-system | partition-table
    text: str               # for people: "volume group VG_XenStorage-... with 3 logical volumes (partition 3)"
    partition: int | None = None   # where it lives; None: the disk as a whole
    data: bool = True       # False only for an empty partition table


_TABLES = {"gpt": "GPT", "dos": "MBR"}


def _where(number: int | None) -> str:
    return f"partition {number}" if number is not None else "the whole disk"


def _pv(owner, number: int | None, machine: Machine, here: str) -> Holding:
    """A volume group, with the other places it spans: erasing one PV breaks the whole group."""
    if not owner.vg:
        return Holding("volume-group", f"an LVM physical volume, volume group not read ({_where(number)})", number)
    others = []
    for d in machine.disks:
        places = [(d.vg, d.path, None)] + [(p.vg, f"{d.path} partition {p.number}", p.number) for p in d.partitions]
        others += [name for vg, name, n in places if vg == owner.vg and (d.path, n) != (here, number)]
    lvs = f"{owner.lv_count} logical volume{'s' if owner.lv_count != 1 else ''}"
    also = f"; it also spans {', '.join(others)}" if others else ""
    return Holding("volume-group", f"volume group {owner.vg} with {lvs} ({_where(number)}{also})", number)


def _content(fstype: str, label: str, number: int | None, owner, machine: Machine, here: str) -> Holding | None:
    if fstype == "LVM2_member":
        return _pv(owner, number, machine, here)
    if fstype == "linux_raid_member":
        return Holding("raid-member", f"a software RAID member ({_where(number)})", number)
    if not fstype:
        return None
    named = f"labelled {label}" if label else "without a label"
    what = "swap space" if fstype == "swap" else f"{fstype} file system"
    return Holding("file-system", f"{what} {named} ({_where(number)})", number)


def holdings(disk: Disk, machine: Machine) -> list[Holding]:
    """What a disk holds today, most valuable first: an installation (product and version), its
    backup, volume groups with their LV counts, file systems with labels, the partition table.
    The plan, the engine's warnings and the wizard name these before anything is erased."""
    found: list[Holding] = []
    covered: set[int] = set()
    if _installed(disk):
        root = disk.partition(1)
        info = next((i for i in machine.installations if i.disk == disk.name), None)
        name = " ".join(x for x in (info.product, info.version) if x) if info else ""
        what = f"an installation of {name}" if name else "an installation (version not read)"
        found.append(Holding("installation", f"{what} (partition 1, {root.label})", 1))
        covered.add(1)
        if _has_backup(disk):
            backup = disk.partition(2)
            found.append(Holding("backup", f"the backup of an earlier installation (partition 2"
                                 f"{', ' + backup.label if backup.label else ''})", 2))
            covered.add(2)
    for part in sorted(disk.partitions, key=lambda p: p.number):
        if part.number not in covered:
            item = _content(part.fstype, part.label, part.number, part, machine, disk.path)
            found += [item] if item else []
    for sig in disk.signatures:
        if sig not in _TABLES and sig not in ("PMBR",):
            item = _content(sig, disk.label, None, disk, machine, disk.path)
            found += [item] if item else []
    if disk.table:
        table = _TABLES.get(disk.table, disk.table)
        n = len(disk.partitions)
        text = (f"a partition table ({table}, {n} partition{'s' if n != 1 else ''})" if n
                else f"an empty partition table ({table})")
        found.append(Holding("partition-table", text, None, data=bool(n)))
    return found


def holds_data(found: list[Holding]) -> bool:
    return any(h.data for h in found)


def describe(found: list[Holding]) -> str:
    return "; ".join(h.text for h in found) or "nothing"


def _blocker(disk: Disk, minimum: int) -> str:
    if disk.install_media:
        return "holds the installer media"
    if disk.readonly:
        return "read-only"
    if disk.in_use:
        return "in use: " + "; ".join(disk.in_use)
    if disk.size < minimum:
        return f"too small: {size_text(disk.size)}, at least {size_text(minimum)} needed"
    return ""


def primary_disks(machine: Machine) -> list[DiskOffer]:
    return [DiskOffer(d, not r, r) for d in machine.disks for r in [_blocker(d, layout.MIN_PRIMARY_DISK)]]


def guest_disks(machine: Machine, taken: set[str]) -> list[DiskOffer]:
    """Every disk but those already used (primary disk, RAID members)."""
    return [DiskOffer(d, not r, r) for d in machine.disks if d.name not in taken
            for r in [_blocker(d, layout.MIN_GUEST_DISK)]]


def raid_partners(machine: Machine, primary: str) -> list[Disk]:
    """Disks that can mirror the primary disk (RAID1): big enough, same logical sector size."""
    first = next((d for d in machine.disks if d.name == primary), None)
    if first is None:
        return []
    return [o.disk for o in primary_disks(machine) if o.usable and o.name != primary
            and o.disk.logical_sector_size == first.logical_sector_size]


def _installed(disk: Disk) -> bool:
    root = disk.partition(1)
    return bool(root and root.fstype == "ext4" and root.label.startswith("root-"))


def _has_backup(disk: Disk) -> bool:
    backup = disk.partition(2)
    return _installed(disk) and bool(backup and backup.fstype == "ext4")


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def existing(machine: Machine, product: Product = DEFAULT_PRODUCT) -> list[Existing]:
    """Installations and backups found on the disks, each with what can be done with it."""
    found = []
    for disk in machine.disks:
        if not _installed(disk):
            continue
        info = next((i for i in machine.installations if i.disk == disk.name), None)
        version = info.version if info else ""
        esp = any(p.type.upper() == layout.GUID["esp"] for p in disk.partitions)
        installed_mode = "uefi" if esp else "bios"
        reason = ""
        if installed_mode != machine.boot_mode:
            reason = (f"installed for {installed_mode.upper()} boot, but the installer was booted in "
                      f"{machine.boot_mode.upper()} mode")
        elif info and not info.booted:
            reason = "this installation never completed its first boot"
        elif version and _version_key(version) > _version_key(product.version):
            reason = f"version {version} is newer than this installer's {product.version}"
        elif disk.partition(2) is None:
            reason = "no backup partition to keep the current installation in"
        found.append(Existing(disk.name, version, not reason, _has_backup(disk), reason))
    return found


def hardware_warnings(machine: Machine) -> list[str]:
    warnings = []
    if machine.memory_mib and machine.memory_mib < MIN_RAM_MIB:
        warnings.append(f"this machine has {machine.memory_mib} MiB of RAM; at least {MIN_RAM_MIB} MiB "
                        "is needed to run guests")
    if not machine.virtualization:
        warnings.append("the CPU shows no hardware virtualization (VT-x/AMD-V): only PV guests will run")
    return warnings


def boot_warnings(machine: Machine) -> list[str]:
    """Worth knowing before an interactive install, but no obstacle to the plan."""
    if machine.boot_mode == "bios":
        return ["the installer was booted in legacy BIOS mode: the host will boot in BIOS mode too; "
                "boot the installer in UEFI mode for a UEFI host"]
    return []
