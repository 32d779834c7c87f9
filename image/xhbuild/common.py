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
from installer import cachelock  # noqa: E402
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
    otherwise the build dir is emptied for a new build, which ends with finished().

    One process at a time builds a kind (the others wait, then reuse its build); the build is held
    in use by this process until it ends (installer/cachelock.py has the locks and their order)."""
    base = os.path.join(CACHE, kind, key)
    out = os.path.join(base, result)
    os.makedirs(os.path.dirname(base), exist_ok=True)
    _lock_kind(kind, what)
    lock = cachelock.build_lock(kind, key)
    if not force and cachelock.acquire(lock, exclusive=False) and cachelock.is_complete(kind, key):
        say(f"{what} {key} is up to date")
        publish(kind, key, out)
        cachelock.release(cachelock.kind_lock(kind))
        return base, out, True
    # unfinished (a builder was killed: its locks died with it) or forced: rebuilt in place, which
    # must wait for the users of a finished build of the same key to let go
    deadline = time.monotonic() + REBUILD_WAIT
    while not cachelock.acquire(lock, exclusive=True, wait=False):
        if time.monotonic() > deadline:
            raise SystemExit(f"cannot rebuild the {what} {key}: another process is using it "
                             f"(shared lock on {lock}); try again when it has finished")
        time.sleep(0.2)
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    _STARTED[kind] = time.monotonic()
    return base, out, False


_STARTED: dict[str, float] = {}
REBUILD_WAIT = 10.0   # seconds; users of an unfinished build only hold it while they look at it


def _lock_kind(kind: str, what: str) -> None:
    path = cachelock.kind_lock(kind)
    if not cachelock.acquire(path, exclusive=True, wait=False):
        say(f"waiting for another process building the {what} ({path})")
        cachelock.acquire(path, exclusive=True)


def finished(kind: str, key: str, base: str, out: str) -> str:
    """Mark the build complete (the marker is written last, atomically), keep it in use, publish."""
    tmp = os.path.join(base, cachelock.MARKER + ".tmp")
    with open(tmp, "w") as f:   # holds the build time, for the report
        f.write(f"{time.monotonic() - _STARTED.pop(kind, time.monotonic()):.1f}\n")
    os.replace(tmp, os.path.join(base, cachelock.MARKER))
    cachelock.acquire(cachelock.build_lock(kind, key), exclusive=False)   # other builders are locked out
    publish(kind, key, out)
    cachelock.release(cachelock.kind_lock(kind))
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

# an essential hook too: efivarfs (the firmware's variables: Secure Boot state, boot entries) in the
# initrd, so that its init-top script mounts it on a UEFI boot (the kernel loads the module on mount)
# before systemd starts. Without it mdadm's initramfs hook adds the module only when the machine
# building the image booted by UEFI, and that mount fails ("unknown filesystem type 'efivarfs'").
# Added, not listed for loading: a BIOS boot never tries it.
EFIVARFS_INITRD = ('mkdir -p "$1/etc/initramfs-tools/hooks" && printf \'#!/bin/sh\\n[ "$1" = prereqs ] && exit 0\\n'
                   '. /usr/share/initramfs-tools/hook-functions\\nmanual_add_modules efivarfs\\n\' '
                   '> "$1/etc/initramfs-tools/hooks/xenhost-efivarfs" && '
                   'chmod 755 "$1/etc/initramfs-tools/hooks/xenhost-efivarfs"')


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


def prune(kind: str, keep: str) -> list[str]:
    """Drop other builds of this kind (each is hundreds of MB and nothing points at it any more),
    except those another process is using or building; returns the keys removed."""
    base = os.path.join(CACHE, kind)
    keys = {name[:-len(".lock")] if name.endswith(".lock") else name for name in os.listdir(base)
            if not name.startswith(".") and name not in ("current", "current.new")}
    removed = []
    for name in sorted(keys - {keep}):
        full = os.path.join(base, name)
        if os.path.islink(full) or (os.path.exists(full) and not os.path.isdir(full)):
            continue
        lock = cachelock.build_lock(kind, name)
        if cachelock.holds(lock) or not cachelock.acquire(lock, exclusive=True, wait=False):
            say(f"keeping the older {kind} build {name}: it is in use or being built")
            continue
        if os.path.isdir(full):
            say(f"removing the older {kind} build {name}")
            shutil.rmtree(full, ignore_errors=True)
        os.unlink(lock)   # while still locked: a process waiting on it sees it was removed
        cachelock.release(lock)
        removed.append(name)
    return removed
