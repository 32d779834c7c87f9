"""Fetch and run answer-file hook scripts (the XCP-ng <script> contract).

installation-start: no argument; filesystem-populated: the target root; installation-complete:
"0" on success, "1" on failure.
"""
from __future__ import annotations

import os
import tempfile
import urllib.request

from . import nfs, runner
from .config import Hook
from .errors import InstallerError

MAX_SCRIPT_BYTES = 4 * 1024 * 1024
TIMEOUT = 1800


class HookError(InstallerError):
    pass


def fetch(hook: Hook, timeout: float = 60) -> bytes:
    if hook.type == "nfs":
        with tempfile.TemporaryDirectory(prefix="hook-nfs-") as tmp:
            try:
                nfs.fetch_file(hook.location, os.path.join(tmp, "script"))
            except InstallerError as exc:
                raise HookError(f"cannot fetch {hook.location}: {exc}") from None
            with open(os.path.join(tmp, "script"), "rb") as f:
                data = f.read(MAX_SCRIPT_BYTES + 1)
        return _checked(hook, data)
    try:
        with urllib.request.urlopen(hook.location, timeout=timeout) as resp:
            data = resp.read(MAX_SCRIPT_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise HookError(f"cannot fetch {runner.SECRETS.mask(hook.location)}: {exc}") from None
    return _checked(hook, data)


def _checked(hook: Hook, data: bytes) -> bytes:
    if len(data) > MAX_SCRIPT_BYTES:
        raise HookError(f"{hook.location} is larger than {MAX_SCRIPT_BYTES} bytes")
    if not data.startswith(b"#!"):
        raise HookError(f"{runner.SECRETS.mask(hook.location)} is not a script: it must start with "
                        "a #! line")
    return data


def run_hook(hook: Hook, args: list[str], log) -> None:
    data = fetch(hook)
    with tempfile.TemporaryDirectory(prefix="hook-") as tmp:
        path = os.path.join(tmp, "script")
        with open(path, "wb") as fh:
            fh.write(data)
        os.chmod(path, 0o700)
        result = runner.run([path, *args], check=False, timeout=TIMEOUT)
    for line in (result.stdout + result.stderr).splitlines()[-50:]:
        log(f"{hook.stage} hook: {runner.SECRETS.mask(line)}")
    if result.returncode != 0:
        raise HookError(f"{hook.stage} hook {runner.SECRETS.mask(hook.location)} exited with "
                        f"code {result.returncode}")
