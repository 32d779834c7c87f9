"""Fetch and run answer-file hook scripts (the XCP-ng <script> contract).

installation-start: no argument; filesystem-populated: the target root; installation-complete:
"0" on success, "1" on failure, and then the reason in one line in $XENHOST_FAILURE (our extension:
a per-host PXE report can say why without anyone at the console).
"""
from __future__ import annotations

import os
import tempfile
import unicodedata

from . import fetch as fetch_mod
from . import runner
from .config import Hook
from .errors import InstallerError

MAX_SCRIPT_BYTES = fetch_mod.SCRIPT_MAX
TIMEOUT = 1800
FAILURE_VARIABLE = "XENHOST_FAILURE"
FAILURE_MAX = 1000          # characters of the reason handed on: one line, for a report or a log


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


def _shown(char: str) -> str:
    """A character as an environment variable and a terminal may carry it: a control character
    (NUL cannot be in the environment at all, ESC would drive the terminal a report is read on) or a
    lone surrogate (not UTF-8: a failed command's undecodable output) as an escape, e.g. \\x1b."""
    if unicodedata.category(char) in ("Cc", "Cs"):
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    return char


def one_line(reason: str) -> str:
    """A failure's reason as a script may pass it on: secrets masked, one line of printable
    characters, at most FAILURE_MAX."""
    text = "".join(map(_shown, " ".join(runner.SECRETS.mask(reason).split())))
    return text if len(text) <= FAILURE_MAX else text[:FAILURE_MAX - 3] + "..."


def run_hook(hook: Hook, args: list[str], log, data: bytes | None = None, failure: str = "") -> None:
    """Run a script: the copy fetched before any disk was touched (data), else fetched now; failure:
    why the install failed, for the script's $XENHOST_FAILURE."""
    data = fetch(hook) if data is None else data
    env = {**os.environ, FAILURE_VARIABLE: one_line(failure)} if failure else None
    with tempfile.TemporaryDirectory(prefix="hook-") as tmp:
        path = os.path.join(tmp, "script")
        with open(path, "wb") as fh:
            fh.write(data)
        os.chmod(path, 0o700)
        try:
            result = runner.run([path, *args], check=False, timeout=TIMEOUT, env=env)
        except (OSError, ValueError) as exc:       # e.g. a temporary directory mounted noexec
            raise HookError(f"{hook.stage} hook {fetch_mod.shown(hook.location)} could not run: "
                            f"{runner.SECRETS.mask(str(exc))}") from None
    for line in (result.stdout + result.stderr).splitlines()[-50:]:
        log(f"{hook.stage} hook: {runner.SECRETS.mask(line)}")
    if result.returncode != 0:
        raise HookError(f"{hook.stage} hook {fetch_mod.shown(hook.location)} exited with "
                        f"code {result.returncode}")
