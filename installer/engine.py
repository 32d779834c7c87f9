"""Run a plan's steps in order, report through events, and fail cleanly.

The engine owns dry runs: a step's run() is called only for real; in a dry run the engine reports
the step's planned actions instead (hook scripts follow run_hooks, not dry_run). A failing step
stops the run; the error event and the finished event name the step and the reason;
installation-complete hooks still run, with "1".
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from . import steps as step_registry
from .config import InstallConfig
from .errors import InstallerError
from .events import Events
from .hookrunner import run_hook
from .plantypes import Plan
from .steps.finish import save_logs
from .steps.prepare import Checked
from .target import Target

log = logging.getLogger("installer.engine")


@dataclass
class Context:
    cfg: InstallConfig
    plan: Plan
    events: Events
    dry_run: bool = True
    run_hooks: bool = False
    target_root: str = step_registry.TARGET_ROOT
    plan_text: str = ""
    answerfile_masked: str = ""
    log_path: str | None = None
    events_path: str | None = None
    local_tree: str | None = None      # the local product tree (None: the installer media)
    checked: Checked = field(default_factory=Checked)   # set by the prepare step, and only there
    target: Target | None = None
    current: str = ""
    _index: int = 0
    _total: int = 1

    def __post_init__(self) -> None:
        if self.target is None:
            self.target = Target(self.target_root)

    def log(self, message: str) -> None:
        log.info("%s: %s", self.current, message)
        self.events.emit("log", step=self.current, message=message)

    def warn(self, message: str) -> None:
        log.warning("%s: %s", self.current, message)
        self.events.emit("warning", step=self.current, message=message)

    def progress(self, ratio: float) -> None:
        ratio = max(0.0, min(1.0, ratio))
        overall = (self._index - 1 + ratio) / self._total
        self.events.emit("progress", step=self.current, ratio=round(ratio, 4),
                         overall=round(overall, 4))


@dataclass
class Outcome:
    success: bool
    failed_step: str | None = None
    message: str = ""


def run(ctx: Context) -> Outcome:
    steps = [s for s in ctx.plan.steps if s.name != step_registry.FINAL_HOOK]
    ctx._total = len(steps)
    start = time.monotonic()
    for warning in ctx.plan.warnings:   # what will be erased, among others: console and log too
        log.warning("plan: %s", warning)
        ctx.events.emit("warning", step="plan", message=warning)
    outcome = Outcome(True)
    for index, step in enumerate(steps, 1):
        ctx.current, ctx._index = step.name, index
        ctx.events.emit("step-start", step=step.name, title=step.title, index=index,
                        total=len(steps), actions=list(step.actions))
        step_start = time.monotonic()
        try:
            _run_step(ctx, step)
        except InstallerError as exc:
            outcome = Outcome(False, step.name, str(exc))
        except Exception as exc:  # a bug: still report which step and why, never just a traceback
            log.exception("step %s crashed", step.name)
            outcome = Outcome(False, step.name, f"internal error: {type(exc).__name__}: {exc}")
        if not outcome.success:
            ctx.events.emit("error", step=step.name, message=outcome.message)
            break
        ctx.events.emit("step-end", step=step.name, duration=round(time.monotonic() - step_start, 3))
    if not outcome.success:
        _salvage(ctx)
    _final_hooks(ctx, outcome)
    ctx.events.emit("finished", status="success" if outcome.success else "failed",
                    failed_step=outcome.failed_step, message=outcome.message,
                    duration=round(time.monotonic() - start, 3))
    return outcome


def _run_step(ctx: Context, step) -> None:
    """The step for real, or in a dry run each planned action reported as such, with progress."""
    for_real = ctx.run_hooks if step.name.startswith("hooks-") else not ctx.dry_run
    if for_real:
        step_registry.module(step.name).run(ctx, step)
        return
    total = max(len(step.actions), 1)
    # a dry run may run hook scripts (run_hooks): say plainly when one was not run
    skipped = " (not run)" if step.name.startswith("hooks-") else ""
    for i, action in enumerate(step.actions, 1):
        ctx.log(f"dry run: {action}{skipped}")
        ctx.progress(i / total)


def _salvage(ctx: Context) -> None:
    """After a failure: keep the logs on the target when it is mounted, then let go of it."""
    if not ctx.target.mounted():
        return
    try:
        save_logs(ctx)
    except OSError as exc:
        ctx.warn(f"could not copy the logs to the target: {exc}")
    try:
        ctx.target.release()
    except InstallerError as exc:
        ctx.warn(str(exc))


def _final_hooks(ctx: Context, outcome: Outcome) -> None:
    """installation-complete hooks always run; their failure cannot change the outcome."""
    flag = "0" if outcome.success else "1"
    failure = "" if outcome.success else f"step {outcome.failed_step}: {outcome.message}"
    ctx.current = step_registry.FINAL_HOOK
    for hook in ctx.cfg.hooks_for("installation-complete"):
        if not ctx.run_hooks:
            ctx.log(f"dry run: installation-complete script {hook.location} {flag} not run")
            continue
        try:
            run_hook(hook, [flag], ctx.log, ctx.checked.hook_scripts.get((hook.stage, hook.location)),
                     failure=failure)
            ctx.log(f"installation-complete hook {hook.location} ran with {flag}")
        except InstallerError as exc:
            ctx.warn(str(exc))
        except Exception as exc:  # noqa: BLE001 - the outcome is decided: it must still be reported
            log.exception("installation-complete hook %s", hook.location)
            ctx.warn(f"installation-complete hook {hook.location} failed: {type(exc).__name__}: {exc}")
