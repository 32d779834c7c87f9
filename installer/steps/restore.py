"""Put a backed-up installation back in place of the current one."""
from ..layout import partition_path
from .base import run  # noqa: F401

TITLE = "Restoring the backup"


def actions(cfg, plan) -> list[str]:
    disk = plan.primary()
    root, backup = partition_path(disk.path, 1), partition_path(disk.path, 2)
    return [f"check that {backup} holds a complete backup",
            f"format {root} as ext4 'root-{plan.ids['suffix']}' and copy {backup} onto it"]
