"""Run the answer file's hook scripts for one stage (the engine runs this step only when hooks are
to run; otherwise it reports the actions as a dry run)."""
from __future__ import annotations

from ..hookrunner import run_hook


def actions_for(cfg, stage: str, args: list[str]) -> list[str]:
    shown = " ".join(args)
    return [f"run {stage} script {h.location}{' ' + shown if shown else ''}" for h in cfg.hooks_for(stage)]


def run(ctx, step) -> None:
    stage = step.name.removeprefix("hooks-")
    hooks = ctx.cfg.hooks_for(stage)
    args = [ctx.target_root] if stage == "filesystem-populated" else []
    for i, hook in enumerate(hooks, 1):
        run_hook(hook, args, ctx.log, ctx.checked.hook_scripts.get((hook.stage, hook.location)))
        ctx.progress(i / len(hooks))
