"""Leave the target clean: logs and the answer file on it, everything unmounted."""
from __future__ import annotations

import os
import shutil


TITLE = "Finishing"
LOG_DIR = "/var/log/installer"


def actions(cfg, plan) -> list[str]:
    return ["copy the installer log, the event stream and the masked answer file to "
            f"{LOG_DIR} on the target",
            "unmount the target file systems and flush the disks"]


def run(ctx, step) -> None:
    save_logs(ctx)
    ctx.progress(0.5)
    ctx.target.release()
    ctx.progress(1.0)


def save_logs(ctx) -> None:
    """Installer log, events so far, masked answer file and plan into the target's log dir."""
    dest = ctx.target.path(LOG_DIR)
    os.makedirs(dest, exist_ok=True)
    for src in (ctx.log_path, ctx.events_path):
        if src and os.path.exists(src):
            shutil.copy(src, dest)
    if ctx.answerfile_masked:
        with open(os.path.join(dest, "answerfile.xml"), "w") as f:
            f.write(ctx.answerfile_masked)
    with open(os.path.join(dest, "plan.txt"), "w") as f:
        f.write(ctx.plan_text)
    os.chmod(dest, 0o700)
