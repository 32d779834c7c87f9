"""Leave the target clean: logs and the answer file on it, everything unmounted."""
from .base import run  # noqa: F401

TITLE = "Finishing"


def actions(cfg, plan) -> list[str]:
    return ["copy the installer log, the event stream and the masked answer file to "
            "/var/log/installer on the target",
            "unmount the target file systems and flush the disks"]
