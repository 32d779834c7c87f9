"""Locks on the image build cache (XENHOST_CACHE), shared by the builders (image/xhbuild) and the
users of their results (installs through envchroot, the vm-tests, builds depending on a build).

  CACHE/<kind>/.build.lock   exclusive while a process builds (or reuses and publishes) any <kind>
  CACHE/<kind>/<key>.lock    shared while a process uses the build <kind>/<key>; exclusive while it
                             is being built, rebuilt or removed
  CACHE/<kind>/<key>/complete  written last: a build without it is unfinished and never used

flock(2) locks belong to the open file and die with the process, so a killed builder or user never
leaves a stale lock behind. Lock order: a process holding a kind's build lock may only wait for the
build lock of a kind after it in env -> live -> iso|pxe, product -> iso|pxe (today no process holds
two build locks at once); build locks of builds in use are never waited for, only tried.
"""
from __future__ import annotations

import fcntl
import os
import sys

from .errors import InstallerError

CACHE = os.environ.get("XENHOST_CACHE", "/var/cache/xenhost-build")
MARKER = "complete"

_held: dict[str, int] = {}   # lock file -> open descriptor holding it, for this process's lifetime


def kind_lock(kind: str) -> str:
    return os.path.join(CACHE, kind, ".build.lock")


def build_lock(kind: str, key: str) -> str:
    return os.path.join(CACHE, kind, key + ".lock")


def is_complete(kind: str, key: str) -> bool:
    return os.path.isfile(os.path.join(CACHE, kind, key, MARKER))


def acquire(path: str, exclusive: bool, wait: bool = True) -> bool:
    """Lock the file at path (created if missing) and keep it locked until release(); a lock this
    process holds already is converted. False if wait is off and another process holds it."""
    op = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if wait else fcntl.LOCK_NB)
    while True:
        fd = _held.pop(path, None)
        if fd is None:
            fd = _open(path)
        try:
            fcntl.flock(fd, op)
        except BlockingIOError:
            os.close(fd)   # dropping a lock we held before: callers only try what they do not hold
            return False
        # a remover unlinks the file while holding it exclusively: a lock on that old file
        # protects nothing, so lock the file now at path instead
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            _held[path] = fd
            return True
        os.close(fd)


def release(path: str) -> None:
    fd = _held.pop(path, None)
    if fd is not None:
        os.close(fd)


def holds(path: str) -> bool:
    return path in _held


def _open(path: str) -> int:
    try:
        try:
            return os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except PermissionError:   # a cache another user (root) built: its lock files exist
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise InstallerError(f"cannot open the build cache lock {path}: {exc.strerror}") from None


def locate(path: str) -> tuple[str, str] | None:
    """(kind, key) of the cached build holding path, or None for a path outside the cache."""
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(CACHE))
    parts = rel.split(os.sep)
    if rel.startswith("..") or len(parts) < 2 or parts[1].startswith(".") or parts[1] == "current":
        return None
    return parts[0], parts[1]


def use(path: str) -> str:
    """Hold the build that holds path in use (a shared lock, until this process ends or calls
    done_with): prune and rebuilds leave it alone. Paths outside the cache are returned as they are."""
    found = locate(path)
    if found is None:
        return path
    kind, key = found
    lock = build_lock(kind, key)
    if not os.path.isdir(os.path.join(CACHE, kind, key)):
        raise InstallerError(f"{path}: the cached {kind} build {key} is gone (removed by a newer build)")
    if not acquire(lock, exclusive=False, wait=False):
        print(f"waiting for the {kind} build {key}: another process is building it", file=sys.stderr, flush=True)
        acquire(lock, exclusive=False)
    if not is_complete(kind, key):
        release(lock)
        raise InstallerError(f"{path}: the cached {kind} build {key} is unfinished or was removed; "
                             f"build it again (image/build.py)")
    return path


def done_with(path: str) -> None:
    found = locate(path)
    if found is not None:
        release(build_lock(*found))
