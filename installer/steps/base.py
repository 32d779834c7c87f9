"""What every step shares: dry runs, and refusing what is not implemented for real yet."""
from __future__ import annotations

from ..errors import InstallerError


def dry_run(ctx, step) -> None:
    """Report each planned action as done-in-dry-run, with progress."""
    total = max(len(step.actions), 1)
    for i, action in enumerate(step.actions, 1):
        ctx.log(f"dry run: {action}")
        ctx.progress(i / total)


def run(ctx, step) -> None:
    """For steps that only dry-run so far (backup, restore: the upgrade issue)."""
    if not ctx.dry_run:
        raise InstallerError(f"step {step.name!r} cannot make real changes yet: upgrade, reinstall "
                             "with backup and restore arrive with the upgrade work")
    dry_run(ctx, step)
