"""sshpassword= on the boot line: SSH into the installer environment for debugging, as in XCP-ng.

root's password in the installer (never the installed host's) is set from the hash made when the
boot line was read, so the password itself reaches no command line, log or event; the host keys are
made on this machine, then sshd starts (the environment never starts it otherwise).
"""
from __future__ import annotations

import os

from . import runner
from .errors import InstallerError
from .shadow import set_root_hash

DROP_IN = "etc/ssh/sshd_config.d/50-xenhost-installer.conf"


def prepare(root: str, password_hash: str) -> None:
    """The files: root's hash in etc/shadow and an sshd drop-in letting root in with it."""
    set_root_hash(os.path.join(root, "etc/shadow"), password_hash)
    path = os.path.join(root, DROP_IN)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("# sshpassword= on the installer's boot line: root logs in with that password\n"
                "PermitRootLogin yes\nPasswordAuthentication yes\n")


def enable(password_hash: str) -> str:
    """Prepare this installer environment and start sshd; what to tell the console."""
    prepare("/", password_hash)
    runner.run(["ssh-keygen", "-A"])
    res = runner.run(["systemctl", "start", "ssh.service"], check=False)
    if res.returncode:
        raise InstallerError(f"sshpassword=: sshd did not start: {res.stderr.strip()[-200:]}")
    return "SSH into the installer is enabled: log in as root with the password given by sshpassword="
