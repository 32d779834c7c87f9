"""The answer file's disks: <primary-disk>, <guest-disk>s, <raid>, a disk named or matched
(<match serial= model= min-size= max-size=>), and the rules between their roles."""
from __future__ import annotations

import re

from . import values
from .answerfile_reader import Reader
from .answerfile_xcpng import preserve_first
from .config import DiskMatch, DiskRef, InstallConfig, PrimaryDisk, Raid
from .xmlsafe import Node


def disk_ref(r: Reader, node: Node) -> DiskRef | None:
    match = r.one(node, "match")
    if match is not None:
        if node.stripped_text():
            r.report.error(f"<{node.tag}> has both a disk name and <match>; use one",
                           node.text_line, node.text_column)
        return DiskRef(match=disk_match(r, match))
    path = r.text(node, values.disk_name, "a disk name such as sda, nvme0n1 or "
                  "disk/by-id/..., or a <match> element")
    return DiskRef(path=path) if path else None


def disk_named(r: Reader, node: Node) -> DiskRef | None:
    """A disk given by its name only (<existing-installation>, <backup-disk>)."""
    path = r.text(node, values.disk_name, "a disk name")
    return DiskRef(path=path) if path else None


def disk_match(r: Reader, node: Node) -> DiskMatch:
    m = DiskMatch(serial=r.value(node, ("serial",), lambda v: _criterion(v, "serial number")),
                  model=r.value(node, ("model",), lambda v: _criterion(v, "model name")),
                  min_size=r.value(node, ("min-size",), lambda v: _match_size(v, "every")),
                  max_size=r.value(node, ("max-size",), lambda v: _match_size(v, "no")))
    if not node.attrs:   # a bad criterion was reported already
        r.err(node, "<match> needs at least one of serial, model, min-size, max-size")
    if m.min_size is not None and m.max_size is not None and m.min_size > m.max_size:
        r.err(node, "<match> min-size is larger than max-size")
    return m


def primary_disk(r: Reader, node: Node) -> PrimaryDisk | None:
    ref = disk_ref(r, node)
    pfp = r.value(node, ("preserve-first-partition",), preserve_first, "if-utility")
    if ref is None:
        return None
    return PrimaryDisk(
        disk=ref,
        guest_storage=r.value(node, ("guest-storage", "gueststorage"), values.boolean, True),
        sr_at_end=r.value(node, ("sr-at-end",), values.boolean, True),
        preserve_first_partition=pfp)


def guest_disks(r: Reader, primary: PrimaryDisk | None) -> list[DiskRef]:
    """XCP-ng merges the primary disk and the guest disks as a set: a disk listed twice, or the
    primary disk listed as a guest disk, means the same as listing it once (with a warning)."""
    nodes = r.children(r.root, "guest-disk")
    for wrapper in r.children(r.root, "guest-disks"):
        nodes += r.children(wrapper, "guest-disk")
    refs, seen = [], {}
    for node in nodes:
        ref = disk_ref(r, node)
        if ref is None:
            continue
        key = ref.describe()
        if primary is not None and key == primary.disk.describe():
            override = "" if primary.guest_storage else ", overriding guest-storage=\"no\""
            r.report.warning(f"guest disk {key} is the primary disk: as in XCP-ng, this puts the "
                             f"local SR on the primary disk (partition 3){override}",
                             node.line, node.column)
            primary.guest_storage = True
            continue
        if key in seen:
            r.report.warning(f"guest disk {key} is listed twice (first at line {seen[key]}); it "
                             "is used once, as in XCP-ng", node.line, node.column)
            continue
        seen[key] = node.line
        refs.append(ref)
    return refs


def raid(r: Reader, node: Node) -> Raid | None:
    device = r.value(node, ("device",), _md_device, required=True)
    members = [m for m in (disk_ref(r, d) for d in r.children(node, "disk")) if m]
    if len(members) < 2:
        r.err(node, f"<raid> needs at least two <disk> members, found {len(members)}")
    paths = [m.path for m in members]
    if len(set(paths)) != len(paths):
        r.err(node, "<raid> lists the same disk twice")
    return Raid(device=device, members=members) if device else None


def check_roles(r: Reader, cfg: InstallConfig) -> None:
    """The primary disk, the RAID device and its members, and the guest disks agree."""
    if cfg.primary_disk is None:
        return
    primary = cfg.primary_disk.disk.path
    if cfg.raid:
        if primary != cfg.raid.device:
            r.err(r.root, f"<raid device=\"{cfg.raid.device}\"> is defined but the primary disk is "
                  f"{primary}; name the RAID device in <primary-disk>")
        members = {m.path for m in cfg.raid.members}
        for ref in cfg.guest_disks:
            if ref.path in members:
                r.err(r.root, f"{ref.path} is a RAID member and cannot also be a guest disk")
    elif primary and primary.startswith("/dev/md"):
        r.err(r.root, f"the primary disk {primary} looks like a RAID device but no <raid> defines it")


def _md_device(value: str) -> str:
    path = values.disk_name(value)
    if not re.fullmatch(r"/dev/md([0-9]+|/[A-Za-z0-9._-]+)", path):
        raise ValueError(f"a RAID device must be an md device such as md127, got {value!r}")
    return path


def _criterion(value: str, what: str) -> str:
    """A <match> text criterion: an empty one would match every disk."""
    if not value.strip():
        raise ValueError(f"an empty {what} would match every disk; give the disk's {what} or leave "
                         "the attribute out")
    return value.strip()


def _match_size(value: str, matches: str) -> int:
    size = values.size_bytes(value)
    if size == 0:
        raise ValueError(f"a size of 0 would match {matches} disk; give a size like 500G, or leave "
                         "the attribute out")
    return size
