"""Create file systems, swap and the local SR's LVM volume group."""
from .. import storage
from ..layout import partition_path

TITLE = "Creating file systems"


def actions(cfg, plan) -> list[str]:
    out = []
    for disk in plan.disks:
        for p in disk.partitions:
            dev = partition_path(disk.path, p.number)
            if p.fstype in ("ext4", "vfat"):
                out.append(f"mkfs {p.fstype} on {dev} labelled {p.label}")
            elif p.fstype == "swap":
                out.append(f"mkswap on {dev} labelled {p.label}")
    if plan.sr:
        out.append(f"LVM physical volumes on {', '.join(plan.sr.devices)}")
        out.append(f"volume group {plan.sr.vg} for the local SR ({plan.sr.type})")
        if plan.sr.type == "ext":
            out.append("at first boot on the host: one logical volume over the group, formatted ext4 "
                       "for the file-based SR")
    return out


def run(ctx, step) -> None:
    storage.make_filesystems(ctx.plan, ctx.log)
    ctx.progress(1.0)
