"""Set root's password hash in a shadow file: the hash is never put on a command line or in a log."""
from __future__ import annotations

from .errors import InstallerError


def set_root_hash(shadow: str, hashed: str) -> None:
    """Replace root's password field in place (the file keeps its owner and mode)."""
    with open(shadow) as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        fields = line.split(":")
        if fields[0] == "root" and len(fields) > 1:
            fields[1] = hashed
            lines[i] = ":".join(fields)
            break
    else:
        raise InstallerError(f"{shadow} has no root account")
    with open(shadow, "w") as f:
        f.write("\n".join(lines) + "\n")
