"""Write the host's configuration files (rendered in the plan) into the target."""
from __future__ import annotations

import os

from ..errors import InstallerError
from .base import dry_run

TITLE = "Configuring the host"


def actions(cfg, plan) -> list[str]:
    out = [f"write {f.path}" for f in plan.files]
    if cfg.root_password.hash:
        out.append("set the root password hash")
    if plan.mode in ("fresh", "reinstall"):
        out.append(f"link /etc/localtime to {cfg.timezone}; console keymap {cfg.keymap}")
        for service in cfg.services:
            out.append(f"{'enable' if service.state == 'enabled' else 'disable'} service {service.name}")
        out.append("write the machine-id; SSH host keys are made at first boot")
    if plan.mode == "upgrade":
        out.append("carry over the preserved configuration from the backup")
    return out


def run(ctx, step) -> None:
    if ctx.dry_run:
        return dry_run(ctx, step)
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
        _set_root_hash(t.path("/etc/shadow"), cfg.root_password.hash)
        ctx.log("root password hash set")
    zone = t.path(f"/usr/share/zoneinfo/{cfg.timezone}")
    if not os.path.exists(zone):
        raise InstallerError(f"time zone {cfg.timezone} does not exist on the target")
    if os.path.lexists(t.path("/etc/localtime")):
        os.unlink(t.path("/etc/localtime"))
    os.symlink(f"/usr/share/zoneinfo/{cfg.timezone}", t.path("/etc/localtime"))
    with open(t.path("/etc/default/keyboard"), "w") as f:
        layout, _, variant = cfg.keymap.partition("-")
        f.write(f'XKBMODEL="pc105"\nXKBLAYOUT="{layout}"\nXKBVARIANT="{variant if variant != "latin1" else ""}"\n'
                'XKBOPTIONS=""\nBACKSPACE="guess"\n')
    with open(t.path("/etc/machine-id"), "w") as f:
        f.write(ctx.plan.ids["installation_uuid"].replace("-", "") + "\n")
    for service in cfg.services:
        verb = "enable" if service.state == "enabled" else "disable"
        res = t.chroot(["systemctl", verb, service.name], check=False)
        if res.returncode:
            raise InstallerError(f"cannot {verb} service {service.name}: {res.stderr.strip()[-200:]}")
        ctx.log(f"service {service.name} {verb}d")
    ctx.progress(1.0)


def _set_root_hash(shadow: str, hashed: str) -> None:
    """Replace root's password field; the hash is never put on a command line or in a log."""
    with open(shadow) as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        fields = line.split(":")
        if fields[0] == "root":
            fields[1] = hashed
            lines[i] = ":".join(fields)
            break
    else:
        raise InstallerError("the target has no root account in /etc/shadow")
    with open(shadow, "w") as f:
        f.write("\n".join(lines) + "\n")
