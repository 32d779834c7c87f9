"""The product tree: find it, check its signed manifest (.treeinfo) and the files it lists.

A tree is a directory (the installer media, or a mounted NFS export) or an http(s)/ftp/file URL.
Files are copied (through installer.fetch) into a directory the caller chooses (on the target disk,
not in RAM) and checked as copied; only the copies are used.
"""
from __future__ import annotations

import configparser
import hashlib
import os
import re
import urllib.parse

from . import fetch, nfs, runner
from .errors import InstallerError

MEDIA = "/run/install/media"
TRUSTED_KEYRING = "/usr/share/xenhost/keys/build-key.gpg"


class Tree:
    """location: a directory (installer media, a mounted NFS export) or an http(s)/ftp/file URL.

    Every file used from a tree is a copy in cache_dir, hashed as it is written and checked against
    the signed manifest: what is checked is what is used, whatever the tree's medium does later."""

    def __init__(self, location: str, cache_dir: str | None = None):
        self.location = location.rstrip("/") or "/"
        self.remote = "://" in location and not location.lower().startswith("file://")
        if not self.remote and "://" in location:
            self.location = fetch.parse(location, ("file",)).path.rstrip("/") or "/"
        elif self.remote:
            fetch.parse(self.location, ("http", "https", "ftp"))   # a bad URL fails here, in words
        self.cache_dir = cache_dir
        self.info: configparser.ConfigParser | None = None
        self.label: str | None = None      # how to name it when location is a mount point

    def describe(self) -> str:
        return runner.SECRETS.mask(self.label) if self.label else fetch.shown(self.location)

    def local(self, name: str) -> str:
        """The path of a file of a local tree, to check it in place (nothing installed is read
        from here)."""
        path = os.path.join(self.location, self._checked_name(name))
        if not os.path.exists(path):
            raise InstallerError(f"product tree {self.describe()}: {name} is missing")
        return path

    def copy(self, name: str, expect: str | None = None, against: str = "the signed manifest") -> str:
        """A copy of a file of the tree in cache_dir; with expect (a sha256), checked on the bytes
        as they were written, and removed if they do not match."""
        name = self._checked_name(name)
        if not self.cache_dir:
            raise InstallerError("internal error: copying from a product tree needs a directory")
        dest = os.path.join(self.cache_dir, name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        what = f"product tree file {name}"
        if self.remote:
            got = fetch.fetch_file(f"{self.location}/{urllib.parse.quote(name)}", dest, what)
        else:
            got = fetch.copy_local(self.local(name), dest, what)
        if expect is not None and got != expect:
            os.unlink(dest)
            raise InstallerError(f"product tree {self.describe()}: {name} does not match {against} "
                                 f"(sha256 {got[:16]}..., expected {expect[:16]}...): the tree is "
                                 "corrupt or was tampered with")
        return dest

    def _checked_name(self, name: str) -> str:
        if name.startswith("/") or ".." in name.split("/") or not name:
            raise InstallerError(f"product tree {self.describe()}: refusing the file name {name!r}")
        return name

    def checksum(self, name: str) -> str:
        """The sha256 the verified manifest gives for name."""
        want = self.info["checksums"].get(name) if self.info else None
        if want is None:
            raise InstallerError(f"product tree {self.describe()}: {name} has no checksum in the "
                                 "signed manifest")
        algo, _, digest = want.partition(":")
        if algo != "sha256":
            raise InstallerError(f"product tree {self.describe()}: unsupported checksum {algo} for {name}")
        return digest

    def verify(self, check_signature: bool, warn, files: bool = True) -> configparser.ConfigParser:
        """Check the manifest's signature (on a copy, which is then the one read), then
        (files=True) every file it lists against its sha256: in place for a local tree (an early
        check of the medium), as copies for a remote one."""
        manifest = self.copy(".treeinfo")
        if check_signature:
            sig = self.copy(".treeinfo.asc")
            if not os.path.exists(TRUSTED_KEYRING):
                raise InstallerError(f"the trusted product key {TRUSTED_KEYRING} is missing from the "
                                     "installer environment")
            res = runner.run(["gpgv", "--keyring", TRUSTED_KEYRING, sig, manifest], check=False)
            if res.returncode:
                raise InstallerError(f"product tree {self.describe()}: the manifest .treeinfo does not "
                                     "verify against the trusted product key (tampered, or signed by "
                                     f"another key): {res.stderr.strip().splitlines()[-1:]}")
        else:
            warn(f"product tree {self.describe()}: signature check disabled (repo-gpgcheck=false)")
        info = configparser.ConfigParser(interpolation=None)
        info.optionxform = str
        try:
            with open(manifest) as f:
                info.read_file(f)
        except (configparser.Error, UnicodeDecodeError) as exc:
            raise InstallerError(f"product tree {self.describe()}: unreadable .treeinfo: {exc}") from None
        for section in ("general", "images-x86_64", "checksums"):
            if section not in info:
                raise InstallerError(f"product tree {self.describe()}: .treeinfo has no [{section}]")
        self.info = info
        for name in (info["checksums"] if files else ()):
            digest = self.checksum(name)
            if self.remote:
                os.unlink(self.copy(name, digest))
                continue
            got = sha256(self.local(name))
            if got != digest:
                raise InstallerError(f"product tree {self.describe()}: {name} does not match the signed "
                                     f"manifest (sha256 {got[:16]}..., expected {digest[:16]}...): "
                                     "the tree is corrupt or was tampered with")
        return info

    def root_image(self) -> str:
        """A checked copy of the root image."""
        name = self.info["images-x86_64"]["root"]
        return self.copy(name, self.checksum(name))


def release_sha256(release: str, rel: str) -> str | None:
    """The sha256 a (signed, verified) apt Release file gives for rel."""
    with open(release) as f:
        m = re.search(r"^ ([0-9a-f]{64}) +\d+ " + re.escape(rel) + r"$", f.read(), re.M)
    return m.group(1) if m else None


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def open_tree(cfg, cache_dir: str | None = None, local: str | None = None) -> Tree:
    """The product tree of the first <source>, or for a local source the directory local (default:
    the installer media). An NFS export is mounted read-only and then read as a local tree."""
    src = cfg.sources[0] if cfg.sources else None
    if src is None or src.type == "local":
        return Tree(local or MEDIA, cache_dir)
    if src.type == "nfs":
        tree = Tree(nfs.mount_dir(src.location), cache_dir)
        tree.label = f"{src.location} (NFS)"
        return tree
    return Tree(src.location, cache_dir)


def signature_required(cfg) -> bool:
    src = cfg.sources[0] if cfg.sources else None
    return cfg.repo_gpgcheck if src is None or src.repo_gpgcheck is None else src.repo_gpgcheck
