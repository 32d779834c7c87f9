"""Copy the existing root file system into the backup partition before it is replaced."""
from .base import run  # noqa: F401

TITLE = "Backing up the existing installation"


def actions(cfg, plan) -> list[str]:
    disk = plan.primary()
    root, backup = disk.part_path("root"), disk.part_path("backup")
    return [f"format {backup} as ext4 'backup-{plan.ids.suffix}'",
            f"copy every file of {root} to {backup} (permissions, ACLs, xattrs kept)",
            f"record the backup's product version and date in {backup}"]
