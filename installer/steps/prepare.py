"""Check the targets once more and record the plan before anything is written."""
from .base import run  # noqa: F401

TITLE = "Preparing"


def actions(cfg, plan) -> list[str]:
    targets = ", ".join(d.path for d in plan.disks) or "none"
    return [f"check that no target disk is mounted, used as swap or held by LVM/RAID ({targets})",
            "write the plan and the masked answer file to the installer log"]
