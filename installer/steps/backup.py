"""Copy the existing root file system into the backup partition before it is replaced."""
from ..layout import partition_path
from .base import run  # noqa: F401

TITLE = "Backing up the existing installation"


def actions(cfg, plan) -> list[str]:
    disk = plan.primary()
    root, backup = partition_path(disk.path, 1), partition_path(disk.path, 2)
    return [f"format {backup} as ext4 'backup-{plan.ids['suffix']}'",
            f"copy every file of {root} to {backup} (permissions, ACLs, xattrs kept)",
            f"record the backup's product version and date in {backup}"]
