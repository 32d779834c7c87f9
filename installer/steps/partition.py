"""Wipe old signatures and write the partition tables (and the RAID1 device)."""
from .. import storage

TITLE = "Partitioning"


def actions(cfg, plan) -> list[str]:
    out = []
    for disk in plan.disks:
        if disk.table == "keep":
            continue
        keep = f" except partition(s) {', '.join(map(str, disk.keep))}" if disk.keep else ""
        out.append(f"wipe all file system, RAID and partition table signatures on {disk.path}{keep}")
        if disk.role == "raid-member":
            continue
        if plan.raid and disk.path == plan.raid.device:
            members = ", ".join(plan.raid.members)
            out.append(f"create RAID1 {disk.path} from {members} (metadata {plan.raid.metadata})")
        rows = "; ".join(f"{p.number} {p.name} {p.start_mib}-{p.end_mib} MiB" for p in disk.partitions)
        out.append(f"write a GPT on {disk.path}: {rows}")
    return out


def run(ctx, step) -> None:
    disks = [d for d in ctx.plan.disks if d.table == "gpt"]
    for i, dp in enumerate(disks, 1):
        storage.wipe(ctx.checked.disks[dp.path], ctx.log)
        ctx.progress(0.5 * i / len(disks))
    storage.write_tables(disks, ctx.log)
    ctx.progress(1.0)
