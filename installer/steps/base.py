"""The real run of steps that can only be dry-run so far (backup, restore: the upgrade issue)."""
from __future__ import annotations

from ..errors import InstallerError


def run(ctx, step) -> None:
    raise InstallerError(f"step {step.name!r} cannot make real changes yet: upgrade, reinstall "
                         "with backup and restore arrive with the upgrade work")
