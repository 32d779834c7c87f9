"""Check the targets once more and record the plan before anything is written."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import Callable

from .. import hookrunner
from ..config import Hook
from ..errors import InstallerError
from ..machine import Disk
from ..probe import probe
from ..tree import open_tree, signature_required

TITLE = "Preparing"


def actions(cfg, plan) -> list[str]:
    targets = ", ".join(d.path for d in plan.disks) or "none"
    return [f"check that no target disk is mounted, used as swap or held by LVM/RAID ({targets})",
            "check the product tree's signature (and, on local media, its files) before any disk is touched",
            "write the plan and the masked answer file to the installer log"] + (
        ["fetch every hook script now, so a missing one fails before any disk is touched"] if cfg.hooks else [])


@dataclass(frozen=True)
class Checked:
    """What prepare checked and fetched before any disk is touched, for the steps after it."""
    disks: dict[str, Disk] = field(default_factory=dict)      # the live target disks, by path
    hook_scripts: dict[tuple[str, str], bytes] = field(default_factory=dict)   # (stage, location)


def run(ctx, step) -> None:
    names = [d.path.removeprefix("/dev/") for d in ctx.plan.disks]
    live = probe(include_loop=True, only=names)
    busy = [f"{d.path}: {', '.join(d.in_use)}" for d in live.disks if d.in_use]
    missing = sorted(set(names) - {d.name for d in live.disks})
    if missing:
        raise InstallerError(f"target disk(s) {', '.join('/dev/' + n for n in missing)} disappeared")
    changed = [f"{d.path} is {now.size} bytes, the plan was made for {d.size}"
               for d in ctx.plan.disks if (now := live.find_disk(d.path)) and now.size != d.size]
    if changed:
        raise InstallerError("the target disks are not the ones planned for: " + "; ".join(changed))
    if busy:
        raise InstallerError("refusing to touch target disks that are in use: " + "; ".join(busy)
                             + ". Unmount them, swapoff, deactivate their volume groups (vgchange -an) "
                             "or stop the RAID, then run the install again")
    if ctx.plan.raid:
        raise InstallerError("software RAID1 installs are planned but not implemented for real runs "
                             "yet (they need a Linux kernel with MD support: the installer VM)")
    if any(d.keep for d in ctx.plan.disks):
        raise InstallerError("installs that keep existing partitions (preserve-first-partition, "
                             "reinstall over a backup) are not implemented for real runs yet")
    # a local or NFS tree is hashed in place, so a bad medium fails before any disk is touched;
    # a remote one only by its small manifest. laydown installs only its own checked copies.
    with tempfile.TemporaryDirectory(prefix="tree-") as tmp:
        tree = open_tree(ctx.cfg, cache_dir=tmp, local=ctx.local_tree)
        tree.verify(signature_required(ctx.cfg), ctx.warn, files=not tree.remote)
    ctx.log(f"product tree {tree.describe()} verified")
    scripts = fetch_hooks(ctx.cfg.hooks, ctx.log) if ctx.run_hooks else {}
    ctx.checked = Checked({d.path: d for d in live.disks}, scripts)
    for line in ctx.plan_text.splitlines():
        ctx.log(line)
    ctx.progress(1.0)


def fetch_hooks(hooks: list[Hook], log: Callable[[str], None]) -> dict[tuple[str, str], bytes]:
    """Every hook script is fetched (and checked to be a script) now, before any disk is touched:
    a 404 found after the disks were wiped would leave a half-installed host. Each runs later from
    this copy."""
    scripts = {}
    for hook in hooks:
        scripts[(hook.stage, hook.location)] = hookrunner.fetch(hook)
        log(f"{hook.stage} script fetched")
    return scripts
