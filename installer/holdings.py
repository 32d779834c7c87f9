"""What a disk holds today, in words, so nothing is erased unannounced: the plan, the engine's
warnings and the wizard's disk lists all name it from here. Pure functions of a Machine.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import eligibility
from .machine import Disk, Machine

_TABLES = {"gpt": "GPT", "dos": "MBR"}


def content(disk: Disk) -> str:
    """What is on a disk today, in a few words, so the operator sees what an install destroys."""
    if not disk.partitions and not disk.signatures:
        return "empty"
    if disk.partitions:
        kinds = sorted({p.fstype or "unformatted" for p in disk.partitions})
        table = _TABLES.get(disk.table, "partition table")
        return f"{table}, {len(disk.partitions)} partitions ({', '.join(kinds)})"
    return ", ".join(disk.signatures)


@dataclass(frozen=True)
class Holding:
    """One thing found on a disk that writing a new layout over it destroys."""
    kind: str               # installation | backup | volume-group | raid-member | file-system | partition-table
    text: str               # for people: "volume group VG_XenStorage-... with 3 logical volumes (partition 3)"
    partition: int | None = None   # where it lives; None: the disk as a whole
    data: bool = True       # False only for an empty partition table
    name: str = ""          # an installation's name for disk lists: "an installation of Xenhost 8.2"


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
    backup, volume groups with their LV counts, file systems with labels, the partition table."""
    found: list[Holding] = []
    covered: set[int] = set()
    root = eligibility.root(disk)
    if root is not None:
        info = eligibility.details(disk, machine)
        name = " ".join(x for x in (info.product, info.version) if x) if info else ""
        what = f"an installation of {name}" if name else "an installation (version not read)"
        found.append(Holding("installation", f"{what} (partition {root.number}, {root.label})", root.number,
                             name=what))
        covered.add(root.number)
        backup = eligibility.backup(disk)
        if backup is not None:
            found.append(Holding("backup", f"the backup of an earlier installation (partition {backup.number}"
                                 f"{', ' + backup.label if backup.label else ''})", backup.number))
            covered.add(backup.number)
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


def brief(disk: Disk, machine: Machine) -> str:
    """What a disk holds, named in a few words for a disk list ("an installation of Xenhost 8.2,
    its backup, a local SR (4 logical volumes)"); content()'s words when nothing has a name."""
    found = holdings(disk, machine)
    names = []
    for h in found:
        owner = disk if h.partition is None else disk.partition(h.partition)
        if h.kind == "installation":
            names.append(h.name)
        elif h.kind == "backup":
            names.append("its backup" if names else "a backup of an installation")
        elif h.kind == "volume-group" and owner.vg.startswith("VG_XenStorage"):
            names.append(f"a local SR ({owner.lv_count} logical volume{'s' if owner.lv_count != 1 else ''})")
    return ", ".join(names) if names else content(disk)     # the Summary lists everything, by name


def holds_data(found: list[Holding]) -> bool:
    return any(h.data for h in found)


def describe(found: list[Holding]) -> str:
    return "; ".join(h.text for h in found) or "nothing"
