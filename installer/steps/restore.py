"""Put a backed-up installation back in place of the current one."""
from .base import run  # noqa: F401

TITLE = "Restoring the backup"


def actions(cfg, plan) -> list[str]:
    disk = plan.primary()
    root, backup = disk.part_path("root"), disk.part_path("backup")
    return [f"check that {backup} holds a complete backup",
            f"format {root} as ext4 'root-{plan.ids.suffix}' and copy {backup} onto it"]
