"""The one way the installer runs external programs: logged, timed, secrets masked."""
from __future__ import annotations

import logging
import re
import subprocess
import time
from dataclasses import dataclass

from .errors import InstallerError

log = logging.getLogger("installer.runner")
MASK = "********"


class Secrets:
    """Strings that must never reach a log, event or support bundle."""

    _URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^/@\s:]*):(?P<pw>[^/@\s]*)@",
                               re.IGNORECASE)
    _ASSIGN = re.compile(r"(?P<key>\b(?:sshpassword|password|passwd|token)=)(?P<val>\S+)", re.IGNORECASE)

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, value: str | None) -> None:
        if value and len(value) >= 3:
            self._values.add(value)

    def mask(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
        text = self._URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
        return self._ASSIGN.sub(lambda m: m["key"] + MASK, text)


SECRETS = Secrets()


class CommandError(InstallerError):
    def __init__(self, result: "Result"):
        self.result = result
        tail = result.stderr.strip().splitlines()[-3:]
        super().__init__(f"{result.argv[0]} failed with exit code {result.returncode}"
                         + (": " + " | ".join(tail) if tail else ""))


@dataclass
class Result:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    duration: float


def run(argv: list[str], check: bool = True, input: str | None = None, timeout: float | None = 600,
        secrets: Secrets = SECRETS) -> Result:
    shown = secrets.mask(" ".join(argv))
    start = time.monotonic()
    try:
        proc = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout,
                              errors="replace")
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    except FileNotFoundError:
        code, out, err = 127, "", f"{argv[0]}: command not found"
    except subprocess.TimeoutExpired:
        code, out, err = 124, "", f"timed out after {timeout} s"
    result = Result(argv, code, out, secrets.mask(err), time.monotonic() - start)
    log.info("ran %s -> %d in %.2fs%s", shown, code, result.duration,
             f"; stderr: {result.stderr.strip()[-500:]}" if code and result.stderr.strip() else "")
    if check and code != 0:
        raise CommandError(result)
    return result
