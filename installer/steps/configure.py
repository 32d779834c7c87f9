"""Write the host's configuration files (rendered in the plan) into the target."""
from __future__ import annotations

import os

from ..config import Mode
from ..errors import InstallerError
from ..shadow import set_root_hash

TITLE = "Configuring the host"


def actions(cfg, plan) -> list[str]:
    out = [f"write {f.path}" for f in plan.files]
    if cfg.root_password.hash:
        out.append("set the root password hash")
    if plan.mode in (Mode.FRESH, Mode.REINSTALL):
        out.append(f"link /etc/localtime to {cfg.timezone}")
        for service in cfg.services:
            out.append(f"{'enable' if service.state == 'enabled' else 'disable'} service {service.name}")
        out.append("SSH host keys are made at first boot")
    if plan.mode == Mode.UPGRADE:
        out.append("carry over the preserved configuration from the backup")
    return out


def run(ctx, step) -> None:
    t, cfg = ctx.target, ctx.cfg
    for i, f in enumerate(ctx.plan.files, 1):
        path = t.path(f.path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.islink(path):       # e.g. resolv.conf pointing into /run
            os.unlink(path)
        with open(path, "w") as out:
            out.write(f.content)
        os.chmod(path, f.mode)
        ctx.progress(0.6 * i / len(ctx.plan.files))
    if cfg.root_password.hash:
        set_root_hash(t.path("/etc/shadow"), cfg.root_password.hash)
        ctx.log("root password hash set")
    zone = t.path(f"/usr/share/zoneinfo/{cfg.timezone}")
    if not os.path.exists(zone):
        raise InstallerError(f"time zone {cfg.timezone} does not exist on the target")
    if os.path.lexists(t.path("/etc/localtime")):
        os.unlink(t.path("/etc/localtime"))
    os.symlink(f"/usr/share/zoneinfo/{cfg.timezone}", t.path("/etc/localtime"))
    for service in cfg.services:
        verb = "enable" if service.state == "enabled" else "disable"
        res = t.chroot(["systemctl", verb, service.name], check=False)
        if res.returncode:
            raise InstallerError(f"cannot {verb} service {service.name}: {res.stderr.strip()[-200:]}")
        ctx.log(f"service {service.name} {verb}d")
    ctx.progress(1.0)

