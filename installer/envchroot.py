"""Run the installer inside the installer environment from a build machine (host side).

The environment (image/, cached under XENHOST_CACHE) is a Debian trixie root; blivet and the
storage tools must come from there, not from the build machine. Each run gets a private mount
namespace (unshare): the cached root is mounted read-only under a tmpfs overlay, with /dev, /proc,
/sys, a fresh /run and /tmp, the checkout's installer package, the product tree and an output
directory. When the run ends, or is killed, the kernel drops every one of those mounts, so nothing
needs cleaning up and concurrent runs cannot see each other.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile

from . import cachelock
from .cachelock import CACHE
from .errors import InstallerError

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# where things appear inside the environment
CODE, MEDIA, OUT = "/opt/xenhost", "/run/install/media", "/run/install/out"


def current(kind: str) -> str:
    """The newest built installer environment ("env") or product tree ("product"), held in use
    by this process (cachelock.use) so that no build removes it while we run from it."""
    for _attempt in range(3):   # a newer build may replace and remove it between the two steps
        path = os.path.realpath(os.path.join(CACHE, kind, "current"))
        if not os.path.isdir(path):
            what = {"env": "installer environment", "product": "product tree"}[kind]
            raise InstallerError(f"the {what} is not built: run `make {kind}` (or image/build.py {kind}) "
                                 f"first; looked in {CACHE}/{kind}/current")
        try:
            return cachelock.use(path)
        except InstallerError:
            if os.path.realpath(os.path.join(CACHE, kind, "current")) == path:
                raise
    return cachelock.use(os.path.realpath(os.path.join(CACHE, kind, "current")))


def in_environment() -> bool:
    return os.path.exists("/usr/share/xenhost/keys/build-key.gpg")


def script(work: str, env_root: str, tree: str | None, out_dir: str, argv: list[str]) -> str:
    """The shell run inside the new mount namespace: build the root, then chroot into it."""
    q = shlex.quote
    lines = [
        "set -eu",
        f'W={q(work)}',
        'mount -t tmpfs -o mode=0755 xenhost-env "$W"',
        'mkdir "$W/upper" "$W/work" "$W/root"',
        f'mount -t overlay xenhost-env -o lowerdir={q(env_root)},upperdir="$W/upper",workdir="$W/work" "$W/root"',
        'R="$W/root"',
        'mount --rbind /dev "$R/dev"',
        'mount -t proc proc "$R/proc"',
        'mount --rbind /sys "$R/sys"',
        'mount -t tmpfs -o mode=0755 run "$R/run"',
        'mount -t tmpfs tmp "$R/tmp"',
        f'mkdir -p "$R{CODE}" "$R{MEDIA}" "$R{OUT}"',
        f'mount --bind {q(PROJECT_DIR)} "$R{CODE}"',
        f'mount -o remount,bind,ro "$R{CODE}"',
        f'mount --bind {q(out_dir)} "$R{OUT}"',
    ]
    if tree:
        lines += [f'mount --bind {q(tree)} "$R{MEDIA}"', f'mount -o remount,bind,ro "$R{MEDIA}"']
    inner = ["/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", f"PYTHONPATH={CODE}",
             "LANG=C.UTF-8", "HOME=/root", "TERM=" + os.environ.get("TERM", "dumb"),
             *argv]
    lines.append(f'exec chroot "$R" /bin/sh -c \'cd {CODE} && exec "$@"\' - ' + shlex.join(inner))
    return "\n".join(lines) + "\n"


def run(argv: list[str], tree: str | None, out_dir: str, env_root: str | None = None) -> int:
    """Run `python -m installer ARGV` inside the environment; return its exit code."""
    return run_command(["python3", "-m", "installer", *argv], tree, out_dir, env_root)


def run_command(argv: list[str], tree: str | None, out_dir: str, env_root: str | None = None) -> int:
    """Run ARGV inside the environment (working directory: the checkout); return its exit code."""
    if shutil.which("unshare") is None:
        raise InstallerError("unshare (util-linux) is needed to enter the installer environment")
    env_root = cachelock.use(env_root) if env_root else current("env")
    if tree:
        cachelock.use(tree)   # a product tree from the cache: kept until this process ends
    os.makedirs(out_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="xenhost-env.")
    try:
        with open(os.path.join(work, "enter.sh"), "w") as f:
            f.write(script(os.path.join(work, "mnt"), env_root, tree, os.path.abspath(out_dir), argv))
        os.mkdir(os.path.join(work, "mnt"))
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh",
                               os.path.join(work, "enter.sh")]).returncode
    finally:
        # never rmtree: a mount left behind by accident must not be walked into (/dev, a disk)
        for name in ("enter.sh", "mnt", ""):
            try:
                (os.unlink if name.endswith(".sh") else os.rmdir)(os.path.join(work, name))
            except OSError:
                pass
