"""Cache directories, input hashing and command running shared by the builds."""
from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import time

IMAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT_DIR = os.path.dirname(IMAGE_DIR)
sys.path.insert(0, PROJECT_DIR)   # the builds share the installer's product identity and helpers
from installer.envchroot import CACHE  # noqa: E402  (outside the checkout; the installer reads it too)
from installer.tree import sha256 as file_sha256  # noqa: E402,F401

KEYS = os.environ.get("XENHOST_KEYS", "/var/lib/xenhost-build/keys")
HOST_TOOLS = {"mmdebstrap": "mmdebstrap", "mksquashfs": "squashfs-tools", "gpg": "gpg",
              "dpkg-scanpackages": "dpkg-dev"}


def say(msg: str) -> None:
    print(f"[build] {msg}", file=sys.stderr, flush=True)


def run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    say("$ " + shlex.join(argv))
    start = time.monotonic()
    env = {**os.environ, "PIP_ROOT_USER_ACTION": "ignore", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    res = subprocess.run(argv, check=False, env=env, **kw)
    if res.returncode:
        raise SystemExit(f"build command failed with exit {res.returncode}: {shlex.join(argv)}")
    say(f"  ({time.monotonic() - start:.1f} s)")
    return res


def need_tools() -> None:
    missing = sorted({pkg for tool, pkg in HOST_TOOLS.items() if shutil.which(tool) is None})
    if missing:
        raise SystemExit(f"missing build tools; install the Debian packages: {' '.join(missing)}")


def digest(parts: list[bytes | str]) -> str:
    h = hashlib.sha256()
    for p in parts:
        b = p.encode() if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "little") + b)
    return h.hexdigest()[:16]


def tree_bytes(path: str) -> list[bytes]:
    """Names, modes and contents of every file under path, in a stable order."""
    out = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, path)
            with open(full, "rb") as f:
                out += [rel.encode(), oct(os.stat(full).st_mode & 0o777).encode(), f.read()]
    return out


def cached(kind: str, key: str, result: str, what: str, force: bool) -> tuple[str, str, bool]:
    """(build dir, result path, done): a finished build of these inputs is reused and published;
    otherwise the build dir is emptied for a new build, which ends with finished()."""
    base = os.path.join(CACHE, kind, key)
    out = os.path.join(base, result)
    if os.path.exists(os.path.join(base, "complete")) and not force:
        say(f"{what} {key} is up to date")
        publish(kind, key, out)
        return base, out, True
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    _STARTED[kind] = time.monotonic()
    return base, out, False


_STARTED: dict[str, float] = {}


def finished(kind: str, key: str, base: str, out: str) -> str:
    with open(os.path.join(base, "complete"), "w") as f:   # holds the build time, for the report
        f.write(f"{time.monotonic() - _STARTED.pop(kind, time.monotonic()):.1f}\n")
    publish(kind, key, out)
    return out


def mmdebstrap(pkgs: list[str], hooks: list[str], target: str, sources: list[str],
               dpkg_excludes: tuple[str, ...] = (), essential_hooks: tuple[str, ...] = ()) -> None:
    """A trixie root of pkgs (apt variant, no docs or man pages) with customize hooks (and hooks
    that run before pkgs are installed)."""
    run(["mmdebstrap", "--variant=apt", "--mode=root", "--format=directory",
         f"--include={','.join(pkgs)}", "--aptopt=Acquire::Retries \"3\"",
         "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-include=/usr/share/doc/*/copyright",
         "--dpkgopt=path-exclude=/usr/share/man/*", *[f"--dpkgopt=path-exclude={p}" for p in dpkg_excludes],
         *[f"--essential-hook={h}" for h in essential_hooks],
         *[f"--customize-hook={h}" for h in hooks], "trixie", target, *sources])


# an essential hook: runs before the kernel is installed, so its one initrd is made with xz (the
# modules inside are compressed already; the rest still shrinks by a quarter)
XZ_INITRD = ('mkdir -p "$1/etc/initramfs-tools/conf.d" && '
             'echo COMPRESS=xz > "$1/etc/initramfs-tools/conf.d/xenhost.conf"')


# kernel modules no Xen host or installer needs (under usr/lib/modules/<version>/kernel/), left out
# by dpkg itself, so depmod and the initrd only ever see what is there
UNNEEDED_MODULES = ("sound", "drivers/media", "drivers/net/wireless", "net/wireless", "net/mac80211",
                    "net/bluetooth", "drivers/bluetooth", "drivers/iio", "drivers/staging", "drivers/isdn",
                    "drivers/input/joystick", "drivers/input/touchscreen", "drivers/net/can", "net/can")


def module_excludes(*extra: str) -> tuple[str, ...]:
    return tuple(f"/usr/lib/modules/*/kernel/{rel}/*" for rel in UNNEEDED_MODULES + extra)


def read_list(path: str) -> list[str]:
    with open(path) as f:
        return [w for line in f for w in line.split("#")[0].split()]


def publish(kind: str, key: str, path: str) -> None:
    """Point CACHE/<kind>/current at a finished build (atomically)."""
    link = os.path.join(CACHE, kind, "current")
    tmp = link + ".new"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(os.path.relpath(path, os.path.dirname(link)), tmp)
    os.replace(tmp, link)
    say(f"{kind} {key}: {path}")
    prune(kind, key)


def prune(kind: str, keep: str) -> None:
    """Drop older builds of this kind: each is hundreds of MB and nothing points at it any more."""
    base = os.path.join(CACHE, kind)
    for name in os.listdir(base):
        full = os.path.join(base, name)
        if name not in (keep, "current") and not os.path.islink(full) and os.path.isdir(full):
            say(f"removing the older {kind} build {name}")
            shutil.rmtree(full, ignore_errors=True)
