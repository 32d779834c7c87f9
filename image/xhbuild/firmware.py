"""The non-free firmware set (image/firmware.txt) both roots get, and the dpkg filter that keeps only
the files it names.

The filter is a dpkg configuration file that exists only while the root is built: an essential hook
writes it before any firmware or microcode package is unpacked, a customize hook removes it, so that
on an installed host `apt install firmware-<x>` for a missing device installs the whole package.

dpkg keeps every link and directory whose path starts with the fixed part (up to the first wildcard)
of any path-include, whatever an exclude says. As the filter must include the parent directories of
kept files by name (intel, intel/ice), all the links and directories below them stay: links such as
intel/vpu/vpu_37xx_v0.0.bin although the files they point at were left out, and directories that
stay empty. No filter can take them out, so prune() removes, from the finished root, the links that
lead nowhere and then the empty directories, until none is left (dangling() is the rule, on a
listing of the root).

A glob that matches nothing (a typo, or a file a new package version renamed) would ship an image
without that device's firmware and no error: check() stops the build instead, naming the glob and
its package (unmatched() is the rule, on the root's files and the packages' dpkg file lists).
"""
from __future__ import annotations

import fnmatch
import os
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .common import IMAGE_DIR, say

LIST = os.path.join(IMAGE_DIR, "firmware.txt")
FIRMWARE_DIR = "/usr/lib/firmware"
FIRMWARE_DIRS = (FIRMWARE_DIR, "/lib/firmware")     # the second only where /lib is not a link to usr/lib
FILTER = "/etc/dpkg/dpkg.cfg.d/50xenhost-firmware"
# the CPU microcode packages (product/packages.txt) keep their microcode, which the initramfs hooks
# read; intel-microcode ships nothing else, amd64-microcode also amd/amd_sev_*.sbin (updates of the
# PSP's SEV firmware, for hosts that run SEV-encrypted guests: Xen's dom0 does not) and amdtee/ (a
# laptop power-management applet), which the filter leaves out
MICROCODE = ("amd-ucode/*", "intel-ucode/*")


@dataclass(frozen=True)
class Firmware:
    package: str
    keep: tuple[str, ...]       # globs under FIRMWARE_DIR
    drop: tuple[str, ...]       # globs under FIRMWARE_DIR left out again
    line: int = 0               # of the list


def load(path: str | None = None) -> list[Firmware]:
    path = path or LIST
    out = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            words = line.split("#")[0].split()
            if not words:
                continue
            globs = words[1:]
            keep = tuple(g for g in globs if not g.startswith("!"))
            # only Debian's firmware-* packages: the list goes into both roots, and the other
            # packages with firmware files, the CPU microcode, are the product's alone (MICROCODE)
            if not keep or not words[0].startswith("firmware-") or any(g.startswith("/") for g in globs):
                raise SystemExit(f"{path}:{number}: expected 'firmware-<name> <glob>... [!<glob>...]' "
                                 "with globs relative to /usr/lib/firmware (only firmware-* packages: "
                                 "CPU microcode goes into product/packages.txt)")
            out.append(Firmware(words[0], keep, tuple(g[1:] for g in globs if g.startswith("!")), number))
    return out


def packages(path: str | None = None) -> list[str]:
    return [fw.package for fw in load(path)]


def dpkg_filter(path: str | None = None) -> str:
    """dpkg path filters (the last matching one wins): nothing under /usr/lib/firmware, except the
    kept globs, without the dropped ones."""
    entries = load(path)
    kept = [*MICROCODE, *(g for fw in entries for g in fw.keep)]
    # dpkg makes no directory that an exclude matched, even for an included file inside it: each
    # kept glob's parent directories are included by name (intel, intel/ice, intel/ice/ddp)
    parents = sorted({"/".join(g.split("/")[:i]) for g in kept for i in range(1, g.count("/") + 1)})
    lines = [f"path-exclude={FIRMWARE_DIR}/*"]
    lines += [f"path-include={FIRMWARE_DIR}/{d}" for d in parents]
    lines += [f"path-include={FIRMWARE_DIR}/{g}" for g in kept]
    lines += [f"path-exclude={FIRMWARE_DIR}/{g}" for fw in entries for g in fw.drop]
    return "\n".join(lines) + "\n"


def hooks(path: str | None = None) -> tuple[str, str]:
    """(essential hook writing the filter, customize hook removing it again)."""
    text = dpkg_filter(path).replace("\n", "\\n")
    return (f'mkdir -p "$1/etc/dpkg/dpkg.cfg.d" && printf "{text}" > "$1{FILTER}"',
            f'rm -f "$1{FILTER}"')


def key_parts() -> list[str]:
    """What a root's build key holds of the firmware treatment: the packages, the filter and this
    module (the pruning rule)."""
    with open(__file__) as f:
        return [repr(packages()), dpkg_filter(), f.read()]


MAX_LINKS = 40      # links followed in one path, as the kernel does


def resolve(entries: dict[str, str | None], path: str) -> str | None:
    """Where path leads inside a root listed as entries (path from / -> link target, None for
    anything else): an absolute target starts again at the root's top, as in a chroot; None when it
    leads to nothing (a missing name, or a loop of links)."""
    todo = [p for p in path.split("/") if p]
    here, hops = "/", 0
    while todo:
        part = todo.pop(0)
        if part == ".":
            continue
        if part == "..":
            here = posixpath.dirname(here)
            continue
        step = posixpath.join(here, part)
        if step not in entries:
            return None
        target = entries[step]
        if target is None:
            here = step
            continue
        hops += 1
        if hops > MAX_LINKS:
            return None
        todo = [p for p in target.split("/") if p] + todo
        if target.startswith("/"):
            here = "/"
    return here


def dangling(entries: dict[str, str | None], dirs: tuple[str, ...] = FIRMWARE_DIRS) -> list[str]:
    """The links under dirs of a listed root (as resolve()) that lead to nothing, sorted."""
    return sorted(p for p, target in entries.items() if target is not None
                  and p.startswith(tuple(d + "/" for d in dirs)) and resolve(entries, p) is None)


def root_entries(root: str) -> dict[str, str | None]:
    """The listing resolve() reads, of an unpacked root: every name in it, links with their targets."""
    out: dict[str, str | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            out["/" + os.path.relpath(full, root)] = os.readlink(full) if os.path.islink(full) else None
    return out


def prune(root: str) -> tuple[list[str], list[str]]:
    """Remove the links under the firmware directory of an unpacked root that lead to nothing, then
    the directories left empty below it, again until nothing changes (a link to a directory that
    held only such links leads to nothing once that directory is gone); returns both (paths from /)
    and says how many."""
    links: list[str] = []
    emptied: list[str] = []
    while True:
        entries = root_entries(root)
        found = dangling(entries)
        for path in found:
            os.unlink(root + path)
        removed = _remove_empty_dirs(root, entries)
        links += found
        emptied += removed
        if not found and not removed:
            break
    shown = ", ".join(os.path.relpath(p, FIRMWARE_DIR) if p.startswith(FIRMWARE_DIR) else p for p in links)
    say(f"firmware: removed {len(links)} links to files the filter left out"
        f"{f' ({shown})' if links else ''} and {len(emptied)} directories left empty")
    return sorted(links), sorted(emptied)


def _remove_empty_dirs(root: str, entries: dict[str, str | None]) -> list[str]:
    """Remove the empty directories below the firmware directories of a root; returns them."""
    emptied = []
    # only a directory reached without a link (/lib/firmware is usr/lib/firmware on merged /usr)
    for top in (root + d for d in FIRMWARE_DIRS if resolve(entries, d) == d):
        for dirpath, _dirs, _files in os.walk(top, topdown=False):
            if dirpath != top and not os.listdir(dirpath):
                os.rmdir(dirpath)
                emptied.append("/" + os.path.relpath(dirpath, root))
    return emptied


def unmatched(entries: list[Firmware], installed: Iterable[str],
              shipped: Mapping[str, Iterable[str]]) -> list[tuple[Firmware, str]]:
    """The globs of entries that match nothing, with their entry, as the list writes them (a dropped
    one with its !): a kept glob no file of the root that its package ships, a dropped one no path
    its package ships. installed: the root's files and the links that lead somewhere (one that leads
    nowhere installs nothing), paths from /; shipped: package -> the
    paths dpkg lists for it (the ones the filter left out too). Matched as dpkg does (`*` crosses /)."""
    files = set(installed)
    out = []
    for fw in entries:
        own = [p for p in shipped.get(fw.package, ()) if p.startswith(FIRMWARE_DIR + "/")]
        present = [p for p in own if p in files]
        out += [(fw, g) for g in fw.keep if not fnmatch.filter(present, f"{FIRMWARE_DIR}/{g}")]
        out += [(fw, "!" + g) for g in fw.drop if not fnmatch.filter(own, f"{FIRMWARE_DIR}/{g}")]
    return out


def _dpkg_list(root: str, package: str) -> list[str]:
    """The paths dpkg lists for an installed package of a root (none when it has no list)."""
    for name in (package, f"{package}:amd64"):
        path = os.path.join(root, "var/lib/dpkg/info", f"{name}.list")
        if os.path.exists(path):
            with open(path) as f:
                return f.read().splitlines()
    return []


def check(root: str, path: str | None = None) -> None:
    """Stop the build when a glob of the list matches nothing in a finished root (after prune())."""
    entries = load(path)
    listing = root_entries(root)
    installed = []
    for dirpath, dirnames, filenames in os.walk(root + FIRMWARE_DIR):
        names = filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        paths = ("/" + os.path.relpath(os.path.join(dirpath, n), root) for n in names)
        installed += [p for p in paths if listing.get(p) is None or resolve(listing, p) is not None]
    shipped = {fw.package: _dpkg_list(root, fw.package) for fw in entries}
    misses = unmatched(entries, installed, shipped)
    if misses:
        raise SystemExit("the firmware list has globs that match nothing in the built root:\n" + "\n".join(
            f"{path or LIST}:{fw.line}: {fw.package} {g}: {_why(fw.package, g, shipped[fw.package])}"
            for fw, g in misses))
    say(f"firmware: every glob of the {len(entries)} packages matches ({len(installed)} files and links)")


def _why(package: str, glob_: str, listed: list[str]) -> str:
    if not listed:
        return f"dpkg lists no file of {package} (not installed?)"
    matching = fnmatch.filter(listed, f"{FIRMWARE_DIR}/{glob_.lstrip('!')}")
    if matching and not glob_.startswith("!"):
        return (f"{package} ships {len(matching)} such paths ({matching[0]}, ...) but none of them is a file "
                "in the root")
    return (f"{package} ships no such file under {FIRMWARE_DIR} ({len(listed)} paths in its dpkg list): "
            "a typo, or a file its current version no longer has")
