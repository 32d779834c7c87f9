"""What every step shares. Until the side effects land (issue #3), steps can only dry-run."""
from __future__ import annotations

from ..errors import InstallerError


def dry_run(ctx, step) -> None:
    """Report each planned action as done-in-dry-run, with progress."""
    total = max(len(step.actions), 1)
    for i, action in enumerate(step.actions, 1):
        ctx.log(f"dry run: {action}")
        ctx.progress(i / total)


def run(ctx, step) -> None:
    if not ctx.dry_run:
        raise InstallerError(f"step {step.name!r} cannot make real changes yet: only dry runs are "
                             "implemented (real installs arrive with the install-to-disk work)")
    dry_run(ctx, step)
