"""Build the product tree: signed .treeinfo, squashfs dom0 root image, signed apt package pool.

  tree/.treeinfo            INI manifest (XCP-ng's name): product identity, files and their sha256
  tree/.treeinfo.asc        detached signature by the project build key
  tree/images/root.squashfs the dom0 root (mmdebstrap of product/packages.txt + product/overlay)
  tree/pool/                apt repository (dists/xenhost, signed Release) of product/pool-packages.txt

Cached by inputs under CACHE/product/<key>/tree; CACHE/product/current points at the newest.
"""
from __future__ import annotations

import configparser
import datetime
import glob
import gzip
import os
import shutil
import subprocess

from . import firmware, mirror, signing
from .common import (EFIVARFS_INITRD, IMAGE_DIR, PROJECT_DIR, XZ_INITRD, cached, digest, file_sha256, finished,
                     mmdebstrap, module_excludes, need_tools, read_list, run, say, tree_bytes)
from installer.product import DEFAULT as PRODUCT

SRC = os.path.join(IMAGE_DIR, "product")
POOL_SUITE = "xenhost"
# Files the installer verifies, in the order they are listed in .treeinfo.
MANIFEST_FILES = ("images/root.squashfs", f"pool/dists/{POOL_SUITE}/Release", "EULA")
# the license the wizard shows (the installer carries the same text for network boots)
EULA = os.path.join(PROJECT_DIR, "installer", "data", "EULA")


# dom0 speaks English (as XCP-ng's does): message catalogues would be a tenth of the image;
# GRUB boots xen.gz by multiboot2 in both firmware modes, so xen.efi (29 MB) is not needed;
# libxl loads OVMF for UEFI guests from /usr/share/ovmf/OVMF.fd only: the QEMU pflash variants, their
# descriptors and the test keys (12 MB) are not needed
EXCLUDES = ("/usr/share/locale/*", "/boot/xen-*.efi", *module_excludes(), "/usr/share/OVMF/*",
            "/usr/share/ovmf/PkKek-1-snakeoil.*", "/usr/share/qemu/firmware/*-edk2-*.json")
# zstd at its strongest with 1 MiB blocks: 4 % smaller than the defaults (the microcode and the
# compressed modules and initrd hardly shrink), and unpacked as fast by laydown
SQUASHFS = ("-comp", "zstd", "-Xcompression-level", "19", "-b", "1M")
# the microcode defaults in the overlay (early cpio for every CPU vendor, whatever CPU builds the
# image) are conffiles of their packages: written after them, so the initrd is made once more
MICROCODE_INITRD = 'chroot "$1" update-initramfs -u -k all'


def key() -> str:
    parts = tree_bytes(SRC) + [open(EULA).read(), signing.public_key(), "\n".join(mirror.derive().sources()), repr(PRODUCT),
                               repr(EXCLUDES), XZ_INITRD, EFIVARFS_INITRD, *firmware.key_parts()]
    with open(__file__, "rb") as f:
        parts.append(f.read())
    return digest(parts)


def build(force: bool = False) -> str:
    need_tools()
    k = key()
    base, tree, done = cached("product", k, "tree", "product tree", force)
    if done:
        return tree
    rootfs, debs = os.path.join(base, "rootfs"), os.path.join(base, "pool-debs")
    os.makedirs(os.path.join(tree, "images"))
    os.makedirs(debs)
    _root(rootfs, debs)
    run(["mksquashfs", rootfs, os.path.join(tree, "images/root.squashfs"), *SQUASHFS,
         "-noappend", "-no-progress", "-quiet"])
    shutil.rmtree(rootfs)
    _pool(os.path.join(tree, "pool"), debs)
    shutil.rmtree(debs)
    shutil.copy(EULA, os.path.join(tree, "EULA"))
    _manifest(tree, k)
    return finished("product", k, base, tree)


def _root(rootfs: str, debs: str) -> None:
    pool = " ".join(read_list(os.path.join(SRC, "pool-packages.txt")))
    overlay = os.path.join(SRC, "overlay")
    add_filter, drop_filter = firmware.hooks()
    hooks = [
        f'copy-in {overlay}/etc {overlay}/usr /',
        'chroot "$1" systemctl enable xenhost-firstboot.service',
        MICROCODE_INITRD,
        # the pool: what the extra packages need beyond the root image, resolved against it
        'rm -f "$1"/var/cache/apt/archives/*.deb',
        f'chroot "$1" apt-get -y -q --download-only install {pool}',
        f'cp "$1"/var/cache/apt/archives/*.deb {debs}/',
        # per-host identity is made by the installer or at first boot, never shipped
        'rm -f "$1"/etc/ssh/ssh_host_* "$1"/etc/hostname',
        ': > "$1/etc/machine-id"; rm -f "$1/var/lib/dbus/machine-id"',
        drop_filter,
    ]
    mmdebstrap(read_list(os.path.join(SRC, "packages.txt")) + firmware.packages(), hooks, rootfs,
               mirror.derive().sources(), dpkg_excludes=EXCLUDES,
               essential_hooks=(XZ_INITRD, EFIVARFS_INITRD, add_filter))
    firmware.prune(rootfs)
    firmware.check(rootfs)


def _pool(pool: str, debs: str) -> None:
    """A flat-pool apt repository with a signed Release (Release.gpg and InRelease)."""
    pkgdir = os.path.join(pool, "pool")
    os.makedirs(pkgdir)
    for deb in glob.glob(os.path.join(debs, "*.deb")):
        shutil.copy2(deb, pkgdir)
    dist = os.path.join(pool, "dists", POOL_SUITE)
    bindir = os.path.join(dist, "main", "binary-amd64")
    os.makedirs(bindir)
    packages = subprocess.run(["dpkg-scanpackages", "--multiversion", "pool"], cwd=pool,
                              check=True, capture_output=True).stdout
    with open(os.path.join(bindir, "Packages"), "wb") as f:
        f.write(packages)
    with open(os.path.join(bindir, "Packages.gz"), "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(packages)
    lines = [f"Origin: {PRODUCT.brand}", f"Label: {PRODUCT.brand} pool", f"Suite: {POOL_SUITE}",
             f"Codename: {POOL_SUITE}", "Architectures: amd64", "Components: main",
             f"Date: {datetime.datetime.now(datetime.timezone.utc):%a, %d %b %Y %H:%M:%S UTC}",
             "SHA256:"]
    for rel in ("main/binary-amd64/Packages", "main/binary-amd64/Packages.gz"):
        full = os.path.join(dist, rel)
        lines.append(f" {file_sha256(full)} {os.path.getsize(full)} {rel}")
    release = os.path.join(dist, "Release")
    with open(release, "w") as f:
        f.write("\n".join(lines) + "\n")
    signing.sign(release, os.path.join(dist, "Release.gpg"))
    signing.clearsign(release, os.path.join(dist, "InRelease"))
    say(f"pool: {len(os.listdir(pkgdir))} packages")


def _manifest(tree: str, k: str) -> None:
    p = PRODUCT
    ti = configparser.ConfigParser(interpolation=None)
    ti.optionxform = str    # keep file names' case
    ti["general"] = {"name": p.brand, "family": p.name, "version": p.version, "build": k,
                     "arch": "x86_64", "platform_name": p.platform_name,
                     "platform_version": p.platform_version, "xen_version": p.xen_version,
                     "timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    ti["images-x86_64"] = {"root": "images/root.squashfs"}
    ti["pool"] = {"path": "pool", "suite": POOL_SUITE, "component": "main"}
    ti["checksums"] = {name: f"sha256:{file_sha256(os.path.join(tree, name))}" for name in MANIFEST_FILES}
    path = os.path.join(tree, ".treeinfo")
    with open(path, "w") as f:
        ti.write(f)
    signing.sign(path, path + ".asc")
