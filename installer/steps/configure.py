"""Write the host's configuration files (rendered in the plan) into the target."""
from .base import run  # noqa: F401

TITLE = "Configuring the host"


def actions(cfg, plan) -> list[str]:
    out = [f"write {f.path}" for f in plan.files]
    if cfg.root_password.hash:
        out.append("set the root password hash")
    if plan.mode in ("fresh", "reinstall"):
        out.append(f"link /etc/localtime to {cfg.timezone}; console keymap {cfg.keymap}")
        for service in cfg.services:
            out.append(f"{'enable' if service.state == 'enabled' else 'disable'} service {service.name}")
        out.append("generate a new machine-id and SSH host keys at first boot")
    if plan.mode == "upgrade":
        out.append("carry over the preserved configuration from the backup")
    return out
