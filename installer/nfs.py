"""NFS sources: answer files, hooks and product trees on an NFS export, mounted read-only.
Files are read through installer.fetch, which copies and checks them.

Locations are XCP-ng's: server:/path, nfs://server/path or nfs://server:/path. Needs the kernel's
NFS client and mount.nfs (the installer environment has both; the build host may not).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile

from . import runner
from .errors import InstallerError

MOUNTS = "/run/install/nfs"


def split(location: str) -> tuple[str, str]:
    """(server, absolute path) of an NFS location."""
    loc = location.strip()
    if loc.lower().startswith("nfs://"):
        rest = loc[len("nfs://"):]
        server, _, path = rest.partition("/")
        server = server.rstrip(":")
        path = "/" + path
    else:
        server, _, path = loc.partition(":")
    if not server or not path.startswith("/"):
        raise InstallerError(f"{location!r} is not an NFS location like server:/path or nfs://server/path")
    return server, os.path.normpath(path)


def _mount(server: str, path: str, where: str) -> None:
    os.makedirs(where, exist_ok=True)
    res = runner.run(["mount", "-t", "nfs", "-o", "ro,nolock,soft,timeo=100,retrans=3,retry=0",
                      f"{server}:{path}", where], check=False, timeout=120)
    if res.returncode:
        raise InstallerError(f"cannot mount the NFS export {server}:{path}: "
                             f"{(res.stderr or res.stdout).strip()[-300:] or f'exit {res.returncode}'}")


def mount_dir(location: str) -> str:
    """The local path of an exported directory, mounted once for the installer's lifetime."""
    server, path = split(location)
    where = os.path.join(MOUNTS, hashlib.sha256(f"{server}:{path}".encode()).hexdigest()[:12])
    if not os.path.ismount(where):
        _mount(server, path, where)
    return where


@contextlib.contextmanager
def mounted_file(server: str, path: str):
    """The local path of one file of an export: its directory is mounted just for the copy."""
    directory, name = os.path.split(path)
    os.makedirs(MOUNTS, exist_ok=True)
    where = tempfile.mkdtemp(dir=MOUNTS)
    try:
        _mount(server, directory or "/", where)
        try:
            yield os.path.join(where, name)
        finally:
            runner.run(["umount", where], check=False)
    finally:
        try:
            os.rmdir(where)
        except OSError:    # still mounted: leave it rather than hide the real error
            pass
