"""The build report: size and build time of each current build in the cache."""
from __future__ import annotations

import os

from .common import CACHE

MiB = 2 ** 20
# (cache kind, what, files whose size is reported, relative to the build's result)
ITEMS = (
    ("env", "installer environment (unpacked)", None),
    ("product", "product root image", "images/root.squashfs"),
    ("product", "product package pool", "pool"),
    ("live", "live squashfs (installer system)", "filesystem.squashfs"),
    ("live", "installer kernel", "vmlinuz"),
    ("live", "installer initrd", "initrd.img"),
    ("iso", "installer ISO", ""),
    ("pxe", "PXE directory (hard links to the above)", None),
)


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


def _build_seconds(result: str) -> str:
    """The build time finished() wrote into the build's completion marker, beside its result."""
    with open(os.path.join(os.path.dirname(result), "complete")) as f:
        text = f.read().strip()
    return f"{float(text):.0f} s" if text else "-"


def render() -> str:
    rows = [("item", "size", "build time")]
    timed: set[str] = set()
    for kind, what, rel in ITEMS:
        current = os.path.join(CACHE, kind, "current")
        if not os.path.exists(current):
            rows.append((what, "not built", "-"))
            continue
        result = os.path.realpath(current)
        path = result if not rel else os.path.join(result, rel)
        shown = '"' if kind in timed else _build_seconds(result)
        timed.add(kind)
        rows.append((what, f"{_size(path) / MiB:.1f} MiB", shown))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, width)))
             for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines) + "\n(build time: of the cached build that produced the item; \" = same build)\n"

