"""The product tree: find it, check its signed manifest (.treeinfo) and the files it lists.

A tree is a directory (the installer media, or a copy) or an http(s)/ftp URL. Remote files are
fetched into a directory the caller chooses (on the target disk, not in RAM).
"""
from __future__ import annotations

import configparser
import hashlib
import http.client
import os
import re
import shutil
import urllib.parse
import urllib.request

from . import nfs, runner
from .errors import InstallerError

MEDIA = "/run/install/media"
TRUSTED_KEYRING = "/usr/share/xenhost/keys/build-key.gpg"


class Tree:
    def __init__(self, location: str, cache_dir: str | None = None):
        self.location = location.rstrip("/") or "/"
        self.remote = "://" in location and not location.startswith("file://")
        if location.startswith("file://"):
            self.location = location[len("file://"):]
        self.opener = urllib.request.build_opener()
        if self.remote:
            self.location, self.opener = _credentials(self.location)
        self.cache_dir = cache_dir
        self.info: configparser.ConfigParser | None = None
        self.label: str | None = None      # how to name it when location is a mount point

    def describe(self) -> str:
        return runner.SECRETS.mask(self.label or self.location)

    def fetch(self, name: str) -> str:
        """A local path for a file of the tree (downloaded when the tree is remote)."""
        if not self.remote:
            path = os.path.join(self.location, name)
            if not os.path.exists(path):
                raise InstallerError(f"product tree {self.describe()}: {name} is missing")
            return path
        if not self.cache_dir:
            raise InstallerError("internal error: a remote product tree needs a download directory")
        if name.startswith("/") or ".." in name.split("/"):
            raise InstallerError(f"product tree {self.describe()}: refusing the file name {name!r}")
        dest = os.path.join(self.cache_dir, name)
        if os.path.exists(dest):
            return dest
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        url = f"{self.location}/{name}"
        try:
            with self.opener.open(url, timeout=60) as resp, open(dest + ".part", "wb") as out:
                shutil.copyfileobj(resp, out, 1 << 20)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            raise InstallerError(f"cannot download {runner.SECRETS.mask(url)}: {exc}") from None
        os.replace(dest + ".part", dest)
        return dest

    def verify(self, check_signature: bool, warn, files: bool = True) -> configparser.ConfigParser:
        """Check the manifest's signature, then (files=True) every file it lists against its sha256."""
        manifest = self.fetch(".treeinfo")
        if check_signature:
            sig = self.fetch(".treeinfo.asc")
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
        for name, want in (info["checksums"].items() if files else ()):
            algo, _, digest = want.partition(":")
            if algo != "sha256":
                raise InstallerError(f"product tree {self.describe()}: unsupported checksum {algo} for {name}")
            got = sha256(self.fetch(name))
            if got != digest:
                raise InstallerError(f"product tree {self.describe()}: {name} does not match the signed "
                                     f"manifest (sha256 {got[:16]}..., expected {digest[:16]}...): "
                                     "the tree is corrupt or was tampered with")
        self.info = info
        return info

    def root_image(self) -> str:
        name = self.info["images-x86_64"]["root"]
        if name not in self.info["checksums"]:
            raise InstallerError(f"product tree {self.describe()}: the root image {name} has no checksum")
        return self.fetch(name)


def _credentials(url: str):
    """user:password@ in a URL becomes basic auth (urllib would take it for a port); the password
    is registered as a secret so no message can show it."""
    parts = urllib.parse.urlsplit(url)
    opener = urllib.request.build_opener()
    if parts.username is None:
        return url, opener
    runner.SECRETS.add(parts.password)
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    bare = urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    mgr = urllib.request.HTTPPasswordMgrWithPriorAuth()
    mgr.add_password(None, bare, urllib.parse.unquote(parts.username),
                     urllib.parse.unquote(parts.password or ""), is_authenticated=True)
    return bare, urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(mgr))


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


def open_tree(cfg, cache_dir: str | None = None) -> Tree:
    """The product tree of the first <source>, or of the installer media. An NFS export is
    mounted read-only and then read as a local tree."""
    src = cfg.sources[0] if cfg.sources else None
    if src is None or src.type == "local":
        return Tree(os.environ.get("XENHOST_TREE", MEDIA), cache_dir)
    if src.type == "nfs":
        tree = Tree(nfs.mount_dir(src.location), cache_dir)
        tree.label = f"{src.location} (NFS)"
        return tree
    return Tree(src.location, cache_dir)


def signature_required(cfg) -> bool:
    src = cfg.sources[0] if cfg.sources else None
    return cfg.repo_gpgcheck if src is None or src.repo_gpgcheck is None else src.repo_gpgcheck
