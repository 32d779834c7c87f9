"""Verify the product tree and unpack the dom0 root image onto the target root."""
from .base import run  # noqa: F401

TITLE = "Installing the host system"


def actions(cfg, plan) -> list[str]:
    disk = plan.primary()
    src = cfg.sources[0] if cfg.sources else None
    where = "the installer media" if src is None or src.type == "local" else src.location
    check = cfg.repo_gpgcheck if src is None or src.repo_gpgcheck is None else src.repo_gpgcheck
    gpg = "" if check else " (signature check DISABLED by repo-gpgcheck=false)"
    out = [f"verify the product tree's signed manifest and root image from {where}{gpg}",
           f"mount {disk.part_path('root')} as the target root",
           f"unpack {plan.product['brand']} {plan.product['version']} "
           f"(Debian {plan.product['platform_version']}, Xen {plan.product['xen_version']}) onto it"]
    if plan.mode != "upgrade":
        out.append(f"mount {disk.part_path('logs')} on /var/log")
    for extra in cfg.sources[1:]:
        out.append(f"install packages from the additional source {extra.location}")
    return out
