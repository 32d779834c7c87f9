"""The non-free firmware set (image/firmware.txt) both roots get, and the dpkg filter that keeps only
the files it names.

The filter is a dpkg configuration file that exists only while the root is built: an essential hook
writes it before any firmware or microcode package is unpacked, a customize hook removes it, so that
on an installed host `apt install firmware-<x>` for a missing device installs the whole package.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from .common import IMAGE_DIR

LIST = os.path.join(IMAGE_DIR, "firmware.txt")
FIRMWARE_DIR = "/usr/lib/firmware"
FILTER = "/etc/dpkg/dpkg.cfg.d/50xenhost-firmware"
# the CPU microcode packages (product/packages.txt) keep all of theirs: the initramfs hooks read them
MICROCODE = ("amd-ucode/*", "intel-ucode/*")


@dataclass(frozen=True)
class Firmware:
    package: str
    keep: tuple[str, ...]       # globs under FIRMWARE_DIR
    drop: tuple[str, ...]       # globs under FIRMWARE_DIR left out again


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
            if not keep or not words[0].startswith("firmware-") or any(g.startswith("/") for g in globs):
                raise SystemExit(f"{path}:{number}: expected 'firmware-<name> <glob>... [!<glob>...]' "
                                 "with globs relative to /usr/lib/firmware")
            out.append(Firmware(words[0], keep, tuple(g[1:] for g in globs if g.startswith("!"))))
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
