"""The build report: size and build time of each current build in the cache, every component's share
of the ISO and of the two roots, what the initrds carry (CPU microcode, firmware), the firmware and
microcode packages and versions that went in, those of the signed EFI boot files (shim, GRUB), and the
ISO against its size goal. Everything is read from the build outputs (contents.py); nothing here is a
measured constant.
"""
from __future__ import annotations

import fnmatch
import glob
import os
import subprocess

from . import contents, firmware
from .common import CACHE

MiB = 2 ** 20
ISO_GOAL_MB = 450           # the goal, in MB (10^6 bytes): XCP-ng's ISO is about 600 MB
# (cache kind, what, files whose size is reported, relative to the build's result)
ITEMS = (
    ("env", "installer environment (unpacked)", None),
    ("product", "product root image", "images/root.squashfs"),
    ("product", "product package pool", "pool"),
    ("live", "live squashfs (installer system)", "filesystem.squashfs"),
    ("live", "installer kernel", "vmlinuz"),
    ("live", "installer initrd", "initrd.img"),
    ("efi", "signed EFI boot files (shim, GRUB, MokManager)", None),
    ("iso", "installer ISO", ""),
    ("pxe", "PXE directory (hard links to the above)", None),
)
# the ISO's files by component (first match wins); what no file holds is the file system itself,
# the boot catalogue and the hybrid MBR/GPT
ISO_PARTS = (
    ("product root image", ("/xenhost/images/*",)),
    ("product package pool", ("/xenhost/pool/*",)),
    ("live squashfs (installer system)", ("/live/filesystem.squashfs",)),
    ("installer kernel", ("/live/vmlinuz",)),
    ("installer initrd", ("/live/initrd.img",)),
    ("EFI boot image", ("/boot/grub/efi.img", "/efi.img", "/EFI/*", "/efi/*")),      # xorriso's, grub-mkrescue's
    ("boot loader files (GRUB)", ("/boot/*",)),
    ("other files (manifest, license, ...)", ("*",)),
)
# a root's files by component (first match wins)
ROOT_PARTS = (
    ("kernel and modules", ("/boot/vmlinuz-*", "/boot/System.map-*", "/boot/config-*", "/usr/lib/modules/*")),
    ("initrd", ("/boot/initrd.img-*",)),
    ("Xen hypervisor and toolstack", ("/boot/xen*", "/usr/lib/xen-*", "/usr/lib/x86_64-linux-gnu/libxen*")),
    ("HVM device model (QEMU, its ROMs)", ("/usr/libexec/xen-qemu-system-*", "/usr/share/qemu/*")),
    ("guest firmware (SeaBIOS, OVMF)", ("/usr/share/seabios/*", "/usr/share/ovmf/*")),
    ("CPU microcode files", ("/usr/lib/firmware/intel-ucode/*", "/usr/lib/firmware/amd-ucode/*")),
    ("NIC and storage firmware", ("/usr/lib/firmware/*",)),
    ("everything else", ("*",)),
)
# an initrd's members (paths without the leading /)
INITRD_PARTS = (
    ("CPU microcode (early cpio, read by Xen)", ("kernel/x86/microcode/*",)),
    ("firmware", ("usr/lib/firmware/*", "lib/firmware/*")),
    ("kernel modules", ("usr/lib/modules/*", "lib/modules/*")),
    ("everything else", ("*",)),
)
# packages named in the report besides the firmware set
PACKAGES = ("amd64-microcode", "intel-microcode", "qemu-system-xen", "seabios", "ovmf", "linux-image-amd64",
            "xen-hypervisor-4.20-amd64")


def classify(files: dict[str, int], parts) -> list[tuple[str, int]]:
    """(component, bytes) in the order of parts, components holding nothing left out."""
    sums = {name: 0 for name, _ in parts}
    for path, size in files.items():
        for name, globs in parts:
            if any(fnmatch.fnmatchcase(path, g) for g in globs):
                sums[name] += size
                break
    return [(name, n) for name, n in sums.items() if n]


def iso_shares(files: dict[str, int], iso_size: int) -> list[tuple[str, int]]:
    rows = classify(files, ISO_PARTS)
    rest = iso_size - sum(files.values())
    return rows + ([("file system, boot records, padding", rest)] if rest > 0 else [])


def goal_line(iso_size: int) -> str:
    mb = iso_size / 1e6
    verdict = "within the goal" if mb <= ISO_GOAL_MB else f"OVER the goal by {mb - ISO_GOAL_MB:.1f} MB"
    return f"check: ISO size {mb:.1f} MB of the {ISO_GOAL_MB} MB goal: {verdict}"


def share_table(title: str, rows: list[tuple[str, int]], total: int) -> list[str]:
    """A titled table of components, MiB and percent of total."""
    width = max([len(name) for name, _ in rows] + [9])
    out = [title]
    for name, n in rows:
        out.append(f"  {name.ljust(width)}  {n / MiB:8.1f} MiB  {100 * n / total:5.1f} %" if total else
                   f"  {name.ljust(width)}  {n / MiB:8.1f} MiB")
    out.append(f"  {'total'.ljust(width)}  {total / MiB:8.1f} MiB")
    return out


def initrd_lines(what: str, data: bytes) -> list[str]:
    """An initrd's size and what it holds: the microcode share is exact (stored uncompressed, as
    Xen reads it), the others are sizes before compression."""
    early, main = contents.initrd_members(data)
    head = (f"{what}: {len(data) / MiB:.1f} MiB: {sum(early.values()) / MiB:.1f} MiB in uncompressed "
            f"archives at its start, then the {contents.main_compression(data)} main part")
    return [head] + [f"  {name}: {n / MiB:.1f} MiB" for name, n in classify({**main, **early}, INITRD_PARTS)]


def package_line(where: str, versions: dict[str, str]) -> list[str]:
    """The firmware set's packages and versions in a root (image/firmware.txt), and the other
    packages this work depends on; a firmware package that did not go in is named."""
    wanted = firmware.packages()
    shown = [f"{p} {versions[p]}" for p in [*wanted, *PACKAGES] if p in versions]
    missing = [p for p in wanted if p not in versions]
    return ([f"packages in {where}: " + (", ".join(shown) if shown else "none of them")] +
            ([f"  MISSING from {where} (image/firmware.txt): {' '.join(missing)}"] if missing else []))


def _size(path: str) -> int:
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                total += os.lstat(full).st_size
    return total


def tree_files(root: str) -> dict[str, int]:
    """Path (from /) -> size of every regular file of an unpacked root."""
    out = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full) and os.path.isfile(full):
                out["/" + os.path.relpath(full, root)] = os.lstat(full).st_size
    return out


def _build_seconds(result: str) -> str:
    """The build time finished() wrote into the build's completion marker, beside its result."""
    with open(os.path.join(os.path.dirname(result), "complete")) as f:
        text = f.read().strip()
    return f"{float(text):.0f} s" if text else "-"


def _current(kind: str) -> str | None:
    current = os.path.join(CACHE, kind, "current")
    return os.path.realpath(current) if os.path.exists(current) else None


def builds_table() -> list[str]:
    rows = [("item", "size", "build time")]
    timed: set[str] = set()
    for kind, what, rel in ITEMS:
        result = _current(kind)
        if result is None:
            rows.append((what, "not built", "-"))
            continue
        path = result if not rel else os.path.join(result, rel)
        shown = '"' if kind in timed else _build_seconds(result)
        timed.add(kind)
        rows.append((what, f"{_size(path) / MiB:.1f} MiB", shown))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, width)))
             for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return lines + ["(build time: of the cached build that produced the item; \" = same build)"]


def _section(make) -> list[str]:
    """A section of the report, or why it cannot be shown (a tool or a build is missing)."""
    try:
        return [""] + make()
    except (OSError, subprocess.CalledProcessError, ValueError) as e:
        return ["", f"({make.__doc__.splitlines()[0]}: not available: {e})"]


def _iso() -> list[str]:
    """ISO contents"""
    iso = _current("iso")
    if iso is None:
        return ["ISO contents: the ISO is not built"]
    size = os.path.getsize(iso)
    return share_table("ISO contents (share of the ISO file)", iso_shares(contents.iso_files(iso), size),
                       size) + [goal_line(size)]


def _efi() -> list[str]:
    """signed EFI boot files"""
    efi = _current("efi")
    if efi is None:
        return ["signed EFI boot files: not built"]
    with open(os.path.join(efi, "versions.txt")) as f:      # "package version" lines (signedboot.py)
        shown = [" ".join(line.split()) for line in f if line.strip()]
    return ["packages of the signed EFI boot files (ISO and PXE): " + ", ".join(shown)]


def _product() -> list[str]:
    """product root image contents"""
    tree = _current("product")
    if tree is None:
        return ["product root image: not built"]
    image = os.path.join(tree, "images/root.squashfs")
    files = contents.squashfs_files(image)
    total = sum(files.values())
    lines = share_table(f"product root image: {os.path.getsize(image) / MiB:.1f} MiB squashfs of {total / MiB:.1f} "
                        "MiB of files (share of the unpacked files)", classify(files, ROOT_PARTS), total)
    initrds = sorted(p for p in files if fnmatch.fnmatchcase(p, "/boot/initrd.img-*"))
    if initrds:
        lines += initrd_lines(f"product initrd {initrds[-1]}", contents.squashfs_cat(image, initrds[-1]))
    status = contents.squashfs_cat(image, "var/lib/dpkg/status").decode()
    return lines + package_line("the product root", contents.dpkg_versions(status))


def _env() -> list[str]:
    """installer environment contents"""
    root = _current("env")
    if root is None:
        return ["installer environment: not built"]
    files = tree_files(root)
    lines = share_table("installer environment (share of the unpacked files)", classify(files, ROOT_PARTS),
                        sum(files.values()))
    live = _current("live")
    initrd = os.path.join(live, "initrd.img") if live else (sorted(glob.glob(os.path.join(root, "boot/initrd.img-*")))
                                                              or [""])[-1]
    if initrd and os.path.exists(initrd):
        with open(initrd, "rb") as f:
            lines += initrd_lines("installer initrd", f.read())
    with open(os.path.join(root, "var/lib/dpkg/status")) as f:
        return lines + package_line("the installer environment", contents.dpkg_versions(f.read()))


def render() -> str:
    lines = builds_table()
    for section in (_iso, _efi, _product, _env):
        lines += _section(section)
    return "\n".join(lines) + "\n"
