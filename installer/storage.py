"""Target disk side effects: wipe, GPT layout, file systems, the SR's volume group (blivet).

Runs inside the installer environment only (blivet needs libblockdev 3). Works on real disks and on
disk images attached as loop devices, with or without udevd and kernel partition parsers:
  * blivet is restricted to the target disks and told that a target loop device is a disk;
  * partition nodes are (re)added with partx (BLKPG), which works where re-reading does not;
  * blivet numbers new partitions in on-disk order, so XCP-ng's numbering (root 1 in the middle of
    the disk, logs 5 first, ...) and the GPT names are applied afterwards with sgdisk.
"""
from __future__ import annotations

import contextlib
import os
import time

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
    return any(name == t or (name.startswith(t) and name[len(t):].lstrip("p").isdigit())
               for t in _TARGETS)


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
    for _ in range(50):  # devtmpfs creates the nodes asynchronously
        if all(os.path.exists(p) for p in _expected_nodes(disk)):
            return
        time.sleep(0.1)
    missing = [p for p in _expected_nodes(disk) if not os.path.exists(p)]
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
    import uuid

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


def transpositions(order: list[int]) -> list[tuple[int, int]]:
    """Swaps of GPT entries that give entry i (1-based, on-disk order) the number order[i-1]."""
    current = {i: want for i, want in enumerate(order, 1)}       # entry -> the number it must get
    swaps = []
    for target in sorted(current.values()):
        src = next(i for i, want in current.items() if want == target)
        if src != target:
            swaps.append((src, target))
            current[src], current[target] = current[target], current[src]
    return swaps


def _number_and_name(dp, log) -> None:
    """Move GPT entries to XCP-ng's numbers (sgdisk --transpose) and set the partition names."""
    order = [p.number for p in sorted(dp.partitions, key=lambda p: p.start_mib)]
    args = [a for src, dst in transpositions(order) for a in ("--transpose", f"{src}:{dst}")]
    for p in dp.partitions:
        args += ["--change-name", f"{p.number}:{p.name}"]
    runner.run(["sgdisk", *args, dp.path])
    refresh_partitions(dp.path)
    log(f"{dp.path}: GPT " + ", ".join(f"{p.number} {p.name}" for p in
                                       sorted(dp.partitions, key=lambda p: p.start_mib)))


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
        runner.run(["sgdisk", *[a for p in dp.partitions for a in ("--typecode", f"{p.number}:{p.type_guid}")],
                    dp.path])
        refresh_partitions(dp.path)
        for p in dp.partitions:
            if p.fstype:
                log(f"{partition_path(dp.path, p.number)}: {p.fstype}" + (f" {p.label}" if p.label else ""))
    if plan.sr and pvs:
        log(f"volume group {plan.sr.vg} on {', '.join(d.path for d in pvs)}")
