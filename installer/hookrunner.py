"""Fetch and run answer-file hook scripts (the XCP-ng <script> contract).

installation-start: no argument; filesystem-populated: the target root; installation-complete:
"0" on success, "1" on failure.
"""
from __future__ import annotations

import os
import tempfile

from . import fetch as fetch_mod
from . import runner
from .config import Hook
from .errors import InstallerError

MAX_SCRIPT_BYTES = fetch_mod.SCRIPT_MAX
TIMEOUT = 1800


class HookError(InstallerError):
    pass


def fetch(hook: Hook) -> bytes:
    try:
        data = fetch_mod.fetch_bytes(hook.location, f"{hook.stage} script", MAX_SCRIPT_BYTES)
    except InstallerError as exc:
        raise HookError(str(exc)) from None
    if not data.startswith(b"#!"):
        raise HookError(f"{fetch_mod.shown(hook.location)} is not a script: it must start with "
                        "a #! line")
    return data


def run_hook(hook: Hook, args: list[str], log, data: bytes | None = None) -> None:
    """Run a script: the copy fetched before any disk was touched (data), else fetched now."""
    data = fetch(hook) if data is None else data
    with tempfile.TemporaryDirectory(prefix="hook-") as tmp:
        path = os.path.join(tmp, "script")
        with open(path, "wb") as fh:
            fh.write(data)
        os.chmod(path, 0o700)
        result = runner.run([path, *args], check=False, timeout=TIMEOUT)
    for line in (result.stdout + result.stderr).splitlines()[-50:]:
        log(f"{hook.stage} hook: {runner.SECRETS.mask(line)}")
    if result.returncode != 0:
        raise HookError(f"{hook.stage} hook {fetch_mod.shown(hook.location)} exited with "
                        f"code {result.returncode}")
