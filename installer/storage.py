"""Target disk side effects: wipe, GPT layout, file systems, the SR's volume group (blivet).

Runs inside the installer environment only (blivet needs libblockdev 3). Works on real disks and on
disk images attached as loop devices, with or without udevd and kernel partition parsers:
  * blivet is restricted to the target disks and told that a target loop device is a disk;
  * partition nodes are (re)added with partx (BLKPG), which works where re-reading does not;
  * blivet numbers new partitions in on-disk order, so XCP-ng's numbering (root 1 in the middle of
    the disk, logs 5 first, ...) and the GPT names are applied afterwards by rewriting the table.
"""
from __future__ import annotations

import contextlib
import os
import re
import time
import uuid

from . import runner
from .errors import InstallerError
from .layout import MIB, partition_path

_BLIVET_READY = False


def _blivet(targets: list[str]):
    """Import blivet adjusted for this environment; return a Blivet limited to targets."""
    global _BLIVET_READY
    import blivet
    from blivet import udev

    names = {os.path.basename(t) for t in targets}
    if not _BLIVET_READY:
        is_loop = udev.device_is_loop
        # a target disk image on a loop device is a disk to us, not a loop "file"
        udev.device_is_loop = lambda info: not _is_target(udev.device_get_name(info)) and is_loop(info)
        if not os.path.exists("/run/udev/control"):
            # no udevd: blivet would sleep a second per settle when it believes it is in a chroot,
            # and udev's database lacks what blkid would have added (ID_FS_*, ID_PART_*)
            udev.settle = lambda quiet=False: None
            to_dict = udev.device_to_dict
            udev.device_to_dict = lambda device: _with_blkid(to_dict(device))
        _BLIVET_READY = True
    _TARGETS.clear()
    _TARGETS.update(names)
    b = blivet.Blivet()
    b.exclusive_disks = sorted(names)
    b.reset()
    return b


_TARGETS: set[str] = set()


def _is_target(name: str) -> bool:
    """A target disk or one of its partitions (loop0, loop0p3; sda, sda3; nvme0n1p2)."""
    def part_of(t: str) -> bool:      # loop1p2 / nvme0n1p2 need the "p" (loop10 is not loop1's)
        rest = name[len(t):]
        if t[-1].isdigit():
            return rest.startswith("p") and rest[1:].isdigit()
        return rest.isdigit()
    return any(name == t or (name.startswith(t) and part_of(t)) for t in _TARGETS)


def _with_blkid(info: dict) -> dict:
    """Add the properties udevd's blkid builtin would have stored, for target devices only."""
    name = info.get("DEVNAME", "")
    if "ID_FS_TYPE" not in info and _is_target(os.path.basename(name)):
        res = runner.run(["blkid", "-p", "-o", "udev", name], check=False)
        for line in res.stdout.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                info.setdefault(key, value)
    return info


def _sectors(dev: str) -> int:
    name = os.path.basename(os.path.realpath(dev))
    with open(f"/sys/class/block/{name}/queue/logical_block_size") as f:
        return int(f.read())


def refresh_partitions(disk: str) -> None:
    """Make the kernel's partition nodes match the table (BLKPG; no re-read needed)."""
    runner.run(["partx", "-u", disk], check=False)
    runner.run(["partx", "-a", disk], check=False)
    expected = _expected_nodes(disk)
    for _ in range(50):  # devtmpfs creates the nodes asynchronously
        if all(os.path.exists(p) for p in expected):
            return
        time.sleep(0.1)
    missing = [p for p in expected if not os.path.exists(p)]
    raise InstallerError(f"the kernel did not create partition device(s) {', '.join(missing)} on {disk}")


def _expected_nodes(disk: str) -> list[str]:
    res = runner.run(["partx", "-g", "-o", "NR", disk], check=False)
    return [partition_path(disk, int(n)) for n in res.stdout.split()]


@contextlib.contextmanager
def _region(disk: str, start: int, size: int):
    """A loop device over part of a disk: reaches old partitions whatever the kernel parsed."""
    dev = runner.run(["losetup", "--find", "--show", "--offset", str(start), "--sizelimit", str(size),
                      disk]).stdout.strip()
    try:
        yield dev
    finally:
        runner.run(["losetup", "--detach", dev], check=False)


def wipe(disk, log) -> None:
    """Erase every signature blkid knows (fs, LVM, RAID, swap, tables) in old partitions, then
    on the disk itself (GPT primary and backup, protective MBR). disk: machine.Disk."""
    for part in disk.partitions:
        with _region(disk.path, part.start, part.size) as dev:
            res = runner.run(["wipefs", "--all", "--force", dev])
            if res.stdout.strip():
                log(f"{disk.path} partition {part.number}: {' '.join(res.stdout.split())}")
    runner.run(["partx", "-d", disk.path], check=False)
    res = runner.run(["wipefs", "--all", "--force", disk.path])
    if res.stdout.strip():
        log(f"{disk.path}: {' '.join(res.stdout.split())}")


def write_tables(disk_plans, log) -> None:
    """One blivet commit: a GPT on each disk plan with its partitions at their exact places."""
    from blivet.formats import get_format
    from blivet.partitioning import do_partitioning

    b = _blivet([d.path for d in disk_plans])
    for dp in disk_plans:
        disk = b.devicetree.get_device_by_path(dp.path)
        if disk is None:
            raise InstallerError(f"blivet does not see the target disk {dp.path}")
        ss = _sectors(dp.path)
        b.format_device(disk, get_format("disklabel", device=disk.path, label_type="gpt"))
        for p in sorted(dp.partitions, key=lambda p: p.start_mib):
            start = p.start_mib * MIB // ss
            end = p.end_mib * MIB // ss - 1
            part = b.new_partition(start=start, end=end, parents=[disk], size=None,
                                   part_type_uuid=uuid.UUID(p.type_guid))
            b.create_device(part)
    do_partitioning(b)
    b.do_it()
    for dp in disk_plans:
        _number_and_name(dp, log)


def _number_and_name(dp, log) -> None:
    """Give the GPT entries XCP-ng's numbers, names and types in one table rewrite."""
    rewrite_table(dp, renumber=True)
    log(f"{dp.path}: GPT " + ", ".join(f"{p.number} {p.name}" for p in
                                       sorted(dp.partitions, key=lambda p: p.start_mib)))


def rewrite_table(dp, renumber: bool) -> None:
    """Rewrite the GPT from an edited `sfdisk --dump` (see edit_dump); sfdisk, unlike sgdisk, does
    not sleep a second per write. Then bring the kernel's partition nodes up to date."""
    dump = runner.run(["sfdisk", "--dump", dp.path]).stdout
    runner.run(["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", "--wipe", "never", dp.path],
               input=edit_dump(dump, dp, renumber))
    refresh_partitions(dp.path)


def edit_dump(dump: str, dp, renumber: bool) -> str:
    """Give each entry of an sfdisk dump the plan's number (sfdisk takes it from the device name),
    GPT name and type GUID; start, size and GUIDs stay. renumber=True: entries are numbered in
    on-disk order (as blivet made them); False: they already carry the plan's numbers."""
    by_start = sorted(dp.partitions, key=lambda p: p.start_mib)
    out = []
    for line in dump.splitlines():
        m = re.match(r"^(/dev/\S+?)(\d+)\s*:\s*(.*)$", line)
        if not m:
            out.append(line)
            continue
        index = int(m.group(2))
        wanted = (by_start[index - 1:index] if renumber
                  else [q for q in dp.partitions if q.number == index])
        if not wanted:
            raise InstallerError(f"{dp.path}: the partition table has an entry {index} that the plan "
                                 "does not know; refusing to rewrite it")
        p = wanted[0]
        fields = [f for f in (x.strip() for x in m.group(3).split(","))
                  if not f.startswith(("type=", "name=", "attrs="))]
        fields += [f"type={p.type_guid}", f'name="{p.name}"']
        out.append(f"{partition_path(dp.path, p.number)} : {', '.join(fields)}")
    return "\n".join(out) + "\n"


def make_filesystems(plan, log) -> None:
    """A second blivet commit on the numbered partitions: file systems, swap, PVs and the VG."""
    from blivet.formats import get_format

    disks = [d for d in plan.disks if d.partitions]
    b = _blivet([d.path for d in disks])
    pvs = []
    for dp in disks:
        for p in dp.partitions:
            path = partition_path(dp.path, p.number)
            dev = b.devicetree.get_device_by_path(path)
            if dev is None:
                raise InstallerError(f"blivet does not see the new partition {path}")
            if p.fstype in ("ext4", "vfat"):
                fmt = get_format(p.fstype, device=path, label=p.label)
            elif p.fstype == "swap":
                fmt = get_format("swap", device=path, label=p.label)
            elif p.fstype == "lvm-pv":
                fmt = get_format("lvmpv", device=path)
                pvs.append(dev)
            else:
                continue
            b.format_device(dev, fmt)
    if plan.sr and pvs:
        vg = b.new_vg(name=plan.sr.vg, parents=pvs)
        b.create_device(vg)
    b.do_it()
    for dp in disks:
        # blivet retypes partitions from their format (an ESP becomes "basic data"): restore the plan's
        rewrite_table(dp, renumber=False)
        for p in dp.partitions:
            if p.fstype:
                log(f"{partition_path(dp.path, p.number)}: {p.fstype}" + (f" {p.label}" if p.label else ""))
    if plan.sr and pvs:
        log(f"volume group {plan.sr.vg} on {', '.join(d.path for d in pvs)}")
