"""Check the targets once more and record the plan before anything is written."""
import tempfile

from ..errors import InstallerError
from ..tree import open_tree, signature_required
from .base import dry_run

TITLE = "Preparing"


def actions(cfg, plan) -> list[str]:
    targets = ", ".join(d.path for d in plan.disks) or "none"
    return [f"check that no target disk is mounted, used as swap or held by LVM/RAID ({targets})",
            "check the product tree's signature (and, on local media, its files) before any disk is touched",
            "write the plan and the masked answer file to the installer log"] + (
        ["fetch every hook script now, so a missing one fails before any disk is touched"] if cfg.hooks else [])


def run(ctx, step) -> None:
    if ctx.dry_run:
        return dry_run(ctx, step)
    from ..probe import probe

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
    ctx.machine_disks = {d.path: d for d in live.disks}
    # a local or NFS tree is hashed in place, so a bad medium fails before any disk is touched;
    # a remote one only by its small manifest. laydown installs only its own checked copies.
    with tempfile.TemporaryDirectory(prefix="tree-") as tmp:
        tree = open_tree(ctx.cfg, cache_dir=tmp)
        tree.verify(signature_required(ctx.cfg), ctx.warn, files=not tree.remote)
    ctx.log(f"product tree {tree.describe()} verified")
    fetch_hooks(ctx)
    for line in ctx.plan_text.splitlines():
        ctx.log(line)
    ctx.progress(1.0)


def fetch_hooks(ctx) -> None:
    """Every hook script is fetched (and checked to be a script) now, before any disk is touched:
    a 404 found after the disks were wiped would leave a half-installed host. Each runs later from
    this copy."""
    from ..hookrunner import fetch
    if not ctx.run_hooks:
        return
    for hook in ctx.cfg.hooks:
        ctx.hook_scripts[(hook.stage, hook.location)] = fetch(hook)
        ctx.log(f"{hook.stage} script fetched")
