"""Build the live installer system the ISO and PXE share: kernel, initrd and one live-boot squashfs.

The squashfs is the installer environment plus the installer package and its boot-time service, in
one file so that live-boot's fetch= can load it over HTTP on a network boot.

  CACHE/live/<key>/live/{vmlinuz, initrd.img, filesystem.squashfs}
"""
from __future__ import annotations

import glob
import os
import shutil

from . import envbuild
from .common import IMAGE_DIR, PROJECT_DIR, cached, digest, finished, run, say, tree_bytes

OVERLAY = os.path.join(IMAGE_DIR, "installer-env", "overlay")
FILES = ("vmlinuz", "initrd.img", "filesystem.squashfs")


def key(env: str) -> str:
    parts = [env] + tree_bytes(os.path.join(PROJECT_DIR, "installer")) + tree_bytes(OVERLAY)
    with open(__file__, "rb") as f:
        parts.append(f.read())
    return digest(parts)


def build(force: bool = False) -> str:
    """The directory holding FILES (cached by the environment, the installer code and the overlay)."""
    env = envbuild.build()
    k = key(env)
    base, out, done = cached("live", k, "live", "live installer system", force)
    if done:
        return out
    os.makedirs(out)
    boot = os.path.join(env, "boot")
    shutil.copy(sorted(glob.glob(os.path.join(boot, "vmlinuz-*")))[-1], os.path.join(out, "vmlinuz"))
    shutil.copy(sorted(glob.glob(os.path.join(boot, "initrd.img-*")))[-1], os.path.join(out, "initrd.img"))
    stage = os.path.join(base, "stage")
    # hard links: a cheap copy of the cached environment that we only ever add to or unlink from
    run(["cp", "-al", env, stage])
    _add(os.path.join(PROJECT_DIR, "installer"), os.path.join(stage, "usr/lib/python3/dist-packages/installer"))
    _add(OVERLAY, stage)
    run(["mksquashfs", stage, os.path.join(out, "filesystem.squashfs"), "-comp", "xz", "-Xbcj", "x86",
         "-b", "1M", "-noappend", "-no-progress", "-quiet", "-e", "boot"])
    shutil.rmtree(stage)
    say("live system: " + ", ".join(f"{n} {os.path.getsize(os.path.join(out, n)) / 2**20:.1f} MiB"
                                    for n in FILES))
    return finished("live", k, base, out)


def _add(src: str, dest: str) -> None:
    """Copy src over dest, never writing through a hard link into the cached environment."""
    def copy(s: str, d: str) -> None:
        if os.path.lexists(d):
            os.unlink(d)
        shutil.copy2(s, d, follow_symlinks=False)
    shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True, copy_function=copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
