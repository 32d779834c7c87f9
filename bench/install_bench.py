#!/usr/bin/python3
"""Install benchmark: our image-based install vs. the raw unpack floor vs. a package-based laydown.

Runs, in one go on the same machine, and prints side by side:
  1. `install --target-image` of the default product into a fresh disk image, split by step
     (from the event stream);
  2. the raw floor for the same bytes: unsquashfs of the same root image onto a fresh ext4 file
     system of the same size, then sync;
  3. a package-based laydown: mmdebstrap of the product's package list into the same kind of fresh
     file system (downloads included, as a package-based installer would do them).
Needs root and the built images (make images). Figures vary run to run on this shared machine: read
the ratios, not the absolute seconds.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "image"))
sys.path.insert(0, ROOT)
from xhbuild import mirror  # noqa: E402
from xhbuild.common import read_list  # noqa: E402
from installer import envchroot  # noqa: E402

VENV_PY = os.path.join(ROOT, ".venv", "bin", "python")
ANSWERFILE = os.path.join(ROOT, "answerfiles", "examples", "fresh-dhcp.xml")


def sh(argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


def fresh_fs(tmp: str, name: str):
    """An 18 GiB sparse image with ext4, loop-attached and mounted: the size of our root partition."""
    img = os.path.join(tmp, name + ".img")
    with open(img, "wb") as f:
        f.truncate(18 << 30)
    dev = sh(["losetup", "--find", "--show", img]).stdout.strip()
    sh(["mkfs.ext4", "-q", "-L", name, dev])
    mnt = os.path.join(tmp, name)
    os.makedirs(mnt)
    sh(["mount", dev, mnt])
    return dev, mnt


def release(dev: str, mnt: str) -> None:
    subprocess.run(["umount", mnt], check=False)
    subprocess.run(["losetup", "--detach", dev], check=False)


def ours(tmp: str) -> tuple[float, dict]:
    out = os.path.join(tmp, "out")
    start = time.monotonic()
    subprocess.run([VENV_PY, "-m", "installer", "install", "--answerfile", ANSWERFILE, "--target-image",
                    os.path.join(tmp, "host.img"), "--size", "64G", "--out", out], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total = time.monotonic() - start
    steps = {}
    with open(os.path.join(out, "events.jsonl")) as f:
        for line in f:
            e = json.loads(line)
            if e["type"] == "step-end":
                steps[e["step"]] = e["duration"]
    return total, steps


def raw_floor(tmp: str, image: str) -> float:
    dev, mnt = fresh_fs(tmp, "floor")
    try:
        start = time.monotonic()
        sh(["unsquashfs", "-f", "-no-progress", "-d", mnt, image])
        sh(["sync"])
        return time.monotonic() - start
    finally:
        release(dev, mnt)


def package_laydown(tmp: str) -> float:
    dev, mnt = fresh_fs(tmp, "packages")
    pkgs = ",".join(read_list(os.path.join(ROOT, "image", "product", "packages.txt")))
    try:
        start = time.monotonic()
        sh(["mmdebstrap", "--quiet", "--variant=apt", "--mode=root", "--format=directory",
            f"--include={pkgs}", "--skip=check/empty", "trixie", mnt, *mirror.derive().sources()])
        sh(["sync"])
        return time.monotonic() - start
    finally:
        release(dev, mnt)


def main() -> int:
    if os.geteuid() != 0:
        print("the benchmark needs root", file=sys.stderr)
        return 2
    tree = envchroot.current("product")
    image = os.path.join(tree, "images", "root.squashfs")
    with tempfile.TemporaryDirectory(prefix="xenhost-bench.", dir="/var/tmp") as tmp:
        total, steps = ours(tmp)
        floor = raw_floor(tmp, image)
        pkg = package_laydown(tmp)
    print(f"root image: {os.path.getsize(image) / 2**20:.0f} MiB squashfs ({image})")
    print(f"{'install, by step':<40}{'seconds':>10}")
    for name, secs in steps.items():
        print(f"  {name:<38}{secs:>10.1f}")
    print(f"  {'total (CLI wall time, incl. entering the env)':<38}{total:>10.1f}")
    print()
    print(f"{'laydown comparison':<40}{'seconds':>10}{'vs floor':>10}")
    rows = [("raw floor: unsquashfs + sync", floor), ("our laydown step", steps.get("laydown", 0.0)),
            ("our laydown + finish (its sync)", steps.get("laydown", 0.0) + steps.get("finish", 0.0)),
            ("our whole install", total), ("package-based: mmdebstrap + sync", pkg)]
    for label, secs in rows:
        print(f"  {label:<38}{secs:>10.1f}{secs / floor:>9.1f}x")
    print(f"\npackage-based laydown / our whole install: {pkg / total:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
