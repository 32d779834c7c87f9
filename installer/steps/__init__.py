"""The install steps, in order. Planning asks each for its actions; the engine runs them."""
from __future__ import annotations

from ..config import Mode
from ..plantypes import StepPlan
from . import (backup, bootloader, configure, filesystems, finish, hooks, laydown, partition,
               prepare, restore)

TARGET_ROOT = "/tmp/installer/target"
MODULES = {"prepare": prepare, "backup": backup, "restore": restore, "partition": partition,
           "filesystems": filesystems, "laydown": laydown, "bootloader": bootloader,
           "configure": configure, "finish": finish}
SEQUENCES = {
    Mode.FRESH: ("prepare", "hooks-installation-start", "partition", "filesystems", "laydown",
              "hooks-filesystem-populated", "bootloader", "configure", "finish"),
    Mode.REINSTALL: ("prepare", "hooks-installation-start", "backup", "partition", "filesystems",
                  "laydown", "hooks-filesystem-populated", "bootloader", "configure", "finish"),
    Mode.UPGRADE: ("prepare", "hooks-installation-start", "backup", "laydown",
                "hooks-filesystem-populated", "bootloader", "configure", "finish"),
    Mode.RESTORE: ("prepare", "hooks-installation-start", "restore", "bootloader", "finish"),
}
FINAL_HOOK = "hooks-installation-complete"


def module(name: str):
    return hooks if name.startswith("hooks-") else MODULES[name]


def plan_steps(cfg, plan) -> list[StepPlan]:
    steps = []
    for name in SEQUENCES[plan.mode]:
        if name.startswith("hooks-"):
            stage = name.removeprefix("hooks-")
            args = [TARGET_ROOT] if stage == "filesystem-populated" else []
            acts = hooks.actions_for(cfg, stage, args)
            if acts:
                steps.append(StepPlan(name, f"Running {stage} hooks", acts))
            continue
        if name == "backup" and plan.mode == Mode.REINSTALL and 2 not in plan.primary().keep:
            continue
        mod = MODULES[name]
        steps.append(StepPlan(name, mod.TITLE, mod.actions(cfg, plan)))
    final = hooks.actions_for(cfg, "installation-complete", ["0|1"])
    if final:
        steps.append(StepPlan(FINAL_HOOK, "Running installation-complete hooks", final))
    return steps
