"""Verify the product tree and unpack the dom0 root image onto the target root."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time

from ..config import Mode
from ..errors import InstallerError
from ..tree import Tree, open_tree, release_sha256, signature_required

TITLE = "Installing the host system"
DOWNLOADS = "/var/cache/xenhost-install"     # on the target root: remote trees land here, not in RAM
POOL_KEY = "/usr/share/xenhost/keys/build-key.gpg"


def actions(cfg, plan) -> list[str]:
    disk = plan.primary()
    src = cfg.sources[0] if cfg.sources else None
    where = "the installer media" if src is None or src.type == "local" else src.location
    check = cfg.repo_gpgcheck if src is None or src.repo_gpgcheck is None else src.repo_gpgcheck
    gpg = "" if check else " (signature check DISABLED by repo-gpgcheck=false)"
    out = [f"mount {disk.part_path('root')} as the target root",
           f"verify the product tree's signed manifest and root image from {where}{gpg}",
           f"unpack {plan.product.brand} {plan.product.version} "
           f"(Debian {plan.product.platform_version}, Xen {plan.product.xen_version}) onto it"]
    if plan.mode != Mode.UPGRADE:
        out.insert(1, f"mount {disk.part_path('logs')} on /var/log")
    for pkg in extra_packages(cfg):
        out.append(f"install {pkg} from the product tree's signed package pool")
    for extra in cfg.sources[1:]:
        out.append(f"install packages from the additional source {extra.location}")
    return out


def extra_packages(cfg) -> list[str]:
    return ["openvswitch-switch"] if cfg.network_backend.value == "openvswitch" else []


def run(ctx, step) -> None:
    if ctx.cfg.sources[1:]:
        raise InstallerError("additional package sources (supplemental packs) are not supported yet")
    disk, target = ctx.plan.primary(), ctx.target
    target.mount(disk.part_path("root"), "/", "ext4")
    target.mount(disk.part_path("logs"), "/var/log", "ext4")
    cache = target.path(DOWNLOADS)
    tree = open_tree(ctx.cfg, cache_dir=cache, local=ctx.local_tree)
    ctx.log(f"product tree: {tree.describe()}")
    # prepare warned about a disabled check and hashed a local tree's files early; what is
    # installed is read only from copies on the target, each checked as it was written
    info = tree.verify(signature_required(ctx.cfg), lambda _msg: None, files=False)
    general = info["general"]
    ctx.log(f"verified {general.get('name')} {general.get('version')} build {general.get('build')}")
    if general.get("version") != ctx.plan.product.version:
        ctx.warn(f"the product tree holds version {general.get('version')}, the installer expected "
                 f"{ctx.plan.product.version}")
    started = time.monotonic()
    image = tree.root_image()
    ctx.log(f"copied and checked the root image ({os.path.getsize(image) >> 20} MiB) in "
            f"{time.monotonic() - started:.1f} s")
    ctx.progress(0.1)
    _unpack(ctx, image, target.root)
    os.unlink(image)
    if extra_packages(ctx.cfg):
        _install_from_pool(ctx, tree, info, extra_packages(ctx.cfg))
    shutil.rmtree(cache, ignore_errors=True)
    ctx.progress(1.0)


def _unpack(ctx, image: str, root: str) -> None:
    """unsquashfs with its percentage output turned into progress events."""
    argv = ["unsquashfs", "-f", "-percentage", "-d", root, image]
    ctx.log("unpacking the root image: " + " ".join(argv))
    with tempfile.TemporaryFile("w+") as errors:   # a pipe could fill up and stall unsquashfs
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True)
        last = 0
        for line in proc.stdout:
            m = re.match(r"\s*(\d+)\s*$", line)
            if m and int(m.group(1)) >= last + 5:
                last = int(m.group(1))
                ctx.progress(0.1 + 0.8 * last / 100)
        code = proc.wait()
        errors.seek(0)
        err = errors.read()
    if code:
        hint = " (no space left on the target root)" if "No space left" in err else ""
        raise InstallerError(f"unpacking the root image failed{hint}: {err.strip()[-300:]}")


def _install_from_pool(ctx, tree: Tree, info, packages: list[str]) -> None:
    """apt inside the target, from the tree's pool only, trusting only the product key."""
    if "pool" not in info or "suite" not in info["pool"]:
        raise InstallerError(f"product tree {tree.describe()}: .treeinfo has no [pool] with a suite, "
                             f"so {' '.join(packages)} cannot be installed")
    pool = info["pool"]
    try:
        pool_dir = _copy_pool(tree, pool)
    except InstallerError as exc:
        raise InstallerError(f"installing {' '.join(packages)} from the pool failed: {exc}") from None
    target = ctx.target
    inside = "/run/xenhost-pool"
    os.makedirs(target.path(inside), exist_ok=True)
    target.chroot(["true"])   # mounts /run etc. first, so the bind below lands on top of them
    target.mount(pool_dir, inside, options="bind,ro")
    shutil.copy(POOL_KEY, target.path("/run/xenhost-pool.gpg"))
    sources = target.path("/run/xenhost-pool.list")
    with open(sources, "w") as f:
        f.write(f"deb [signed-by=/run/xenhost-pool.gpg] file:{inside} {pool['suite']} {pool.get('component', 'main')}\n")
    opts = ["-o", "Dir::Etc::SourceList=/run/xenhost-pool.list", "-o", "Dir::Etc::SourceParts=-",
            "-o", "Dir::State::Lists=/run/xenhost-lists", "-o", "APT::Get::List-Cleanup=0"]
    os.makedirs(target.path("/run/xenhost-lists/partial"), exist_ok=True)
    res = target.chroot(["apt-get", *opts, "update"], check=False)
    if res.returncode or "NO_PUBKEY" in res.stderr or "not signed" in res.stderr:
        raise InstallerError(f"the package pool does not verify: {res.stderr.strip()[-300:]}")
    res = target.chroot(["apt-get", *opts, "-y", "--no-install-recommends", "install", *packages], check=False)
    if res.returncode:
        if "Hash Sum mismatch" in res.stderr:
            bad = re.findall(r"Failed to fetch \S*/(\S+\.deb)", res.stderr)
            raise InstallerError(f"installing {' '.join(packages)} from the pool failed: "
                                 f"{', '.join(bad) or 'a package'} does not match the signed pool index "
                                 "(Hash Sum mismatch): the tree is corrupt or was tampered with")
        raise InstallerError(f"installing {' '.join(packages)} from the pool failed: "
                             f"{res.stderr.strip()[-300:]}")
    ctx.log(f"installed from the pool: {' '.join(packages)}")


def _copy_pool(tree: Tree, pool) -> str:
    """Copy the pool apt will read into the tree's cache, each file checked on its copy along the
    signed chain: .treeinfo -> Release -> Packages -> .debs. apt checks the same chain again (and
    InRelease's signature); it never reads the tree itself. Returns the copy's pool directory."""
    top = pool.get("path", "pool")
    dists = f"{top}/dists/{pool['suite']}"
    index = f"{pool.get('component', 'main')}/binary-amd64/Packages"
    release = tree.copy(f"{dists}/Release", tree.checksum(f"{dists}/Release"))
    for signed in ("InRelease", "Release.gpg"):
        try:
            tree.copy(f"{dists}/{signed}")
        except InstallerError:
            pass              # either one may be absent; apt refuses a pool with neither
    want = release_sha256(release, index)
    if want is None:
        raise InstallerError(f"product tree {tree.describe()}: the pool's Release file lists no {index}")
    packages_file = tree.copy(f"{dists}/{index}", want, against="the pool's signed Release file")
    for ext in (".gz", ".xz"):    # apt may prefer a compressed index: give it the same, checked
        if (digest := release_sha256(release, index + ext)) is not None:
            try:
                tree.copy(f"{dists}/{index}{ext}", digest, against="the pool's signed Release file")
            except InstallerError as exc:
                if "does not match" in str(exc):
                    raise
    with open(packages_file) as f:
        stanzas = [dict(re.findall(r"^(Filename|SHA256): (\S+)$", block, re.M))
                   for block in f.read().split("\n\n") if block.strip()]
    for fields in stanzas:
        if "Filename" not in fields or "SHA256" not in fields:
            raise InstallerError(f"product tree {tree.describe()}: the pool index has an entry without "
                                 f"a Filename and a SHA256 ({fields.get('Filename', '?')})")
        tree.copy(f"{top}/{fields['Filename']}", fields["SHA256"], against="the pool's signed index")
    return os.path.join(tree.cache_dir, top)
