"""The one way the installer runs external programs: logged, timed, secrets masked."""
from __future__ import annotations

import functools
import json
import logging
import re
import subprocess
import time
from dataclasses import dataclass
from xml.sax.saxutils import escape

from .errors import InstallerError

log = logging.getLogger("installer.runner")
MASK = "********"


class Secrets:
    """Strings that must never reach a log, event or support bundle.

    Two layers: values registered with add() (passwords, hashes, tokens) are replaced wherever they
    appear, in their plain, percent-encoded, JSON and XML spellings; and what looks like a
    credential is masked even if nobody registered it: the user info of a URL and the values of
    secret-looking keys (token=, X-Amz-Signature=, password=, ...). When unsure, mask: a word masked
    too many costs a reader a guess, a leaked one costs a password. Every pass is linear in the
    text (each regex starts only at the start of a run, no nested repetition): logs may hold
    megabytes of hostile input.
    """

    # key=value: the value is a secret if a word of the key (split at _ . -) or its ending says so
    KEY_WORDS = frozenset({"token", "sig", "signature", "credential", "credentials", "password",
                           "passwd", "pwd", "pass", "passphrase", "secret", "apikey", "key", "auth",
                           "authorization", "sshpassword", "session", "pw", "code", "jsessionid",
                           "sessionid", "sid"})
    KEY_ENDINGS = ("token", "secret", "password", "passwd", "signature", "apikey", "credential")
    # user:password@: the user name stays readable if it looks like a name; a long one may be a
    # token (GitHub's TOKEN:x-oauth-basic@) and is masked too
    _USER_KEPT = re.compile(r"[A-Za-z0-9._~+-]{1,20}")

    _URL_WORD = re.compile(r"(?<!\S)\S*?://\S*")
    _KEY = re.compile(r"(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]+)=")
    _QUOTED = re.compile(r"\"[^\"\n]*\"|'[^'\n]*'")
    _FREE_VALUE = re.compile(r"(?:[^\s\"'<>\\]|\\\S)*")
    _QUERY_VALUE = re.compile(r"(?:[^\s\"'<>\\&#]|\\\S)*")    # after ? & ;: ends at & or #

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._ordered: list[str] = []

    def add(self, value: str | None) -> None:
        if not value or len(value) < 3:
            return
        spellings = {value, _percent(value, plus=False), _percent(value, plus=True),
                     json.dumps(value)[1:-1], escape(value, {'"': "&quot;", "'": "&apos;"})}
        if not spellings <= self._values:
            self._values |= spellings
            self._ordered = sorted(self._values, key=len, reverse=True)

    def add_all(self, values) -> None:
        """Register every value of an iterable (InstallConfig.secrets, say)."""
        for value in values:
            self.add(value)

    def mask(self, text: str) -> str:
        for value in self._ordered:
            if value in text:
                text = text.replace(value, MASK)
        if "://" in text:
            text = self._URL_WORD.sub(self._mask_userinfo, text)
        if "=" in text:
            text = self._mask_values(text)
        return text

    @classmethod
    def _mask_userinfo(cls, m: re.Match) -> str:
        """scheme://user:password@host, scheme://TOKEN@host. A raw / or @ in a password is taken in:
        the user info runs up to the word's last @ (an @ later in the path only masks more)."""
        word = m.group()
        start = word.find("://") + 3
        end = word.rfind("@")
        if end < start:
            return word
        user, colon, _ = word[start:end].partition(":")
        shown = f"{user}:{MASK}" if colon and cls._USER_KEPT.fullmatch(user) else MASK
        return word[:start] + shown + word[end:]

    def _mask_values(self, text: str) -> str:
        out, pos = [], 0
        secret = self.secret_key
        for m in self._KEY.finditer(text):
            if not secret(m.group(1)) or m.start() < pos:
                continue
            start = m.end()
            quoted = self._QUOTED.match(text, start)
            if quoted:
                start, end = start + 1, quoted.end() - 1
            else:
                if text[start:start + 1] in ("\"", "'"):    # an unclosed quote: up to the blank
                    start += 1
                query = text[m.start() - 1:m.start()] in ("?", "&", ";")
                end = (self._QUERY_VALUE if query else self._FREE_VALUE).match(text, start).end()
            if end > start and text[start:end] != MASK:
                out += [text[pos:start], MASK]
                pos = end
        return "".join(out) + text[pos:] if out else text

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def secret_key(key: str) -> bool:
        low = key.lower()
        return low.endswith(Secrets.KEY_ENDINGS) or not Secrets.KEY_WORDS.isdisjoint(re.split(r"[_.-]", low))


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_PERCENT = [chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in range(256)]
_PERCENT_PLUS = [("+" if b == 0x20 else c) for b, c in enumerate(_PERCENT)]


def _percent(value: str, plus: bool) -> str:
    """A value as a URL carries it (urllib.parse.quote(value, safe="") or quote_plus), by table:
    a registered value may be a megabyte long."""
    table = _PERCENT_PLUS if plus else _PERCENT
    return "".join([table[b] for b in value.encode("utf-8", "surrogatepass")])


# The process's mask: the log filters, events and run() apply it to everything they write. No
# parser fills it (answer file, boot line, wizard): each returns what it found (InstallConfig.secrets,
# BootOptions.secrets) and the front end registers that right after parsing, session.run_engine once
# more (SECRETS.add_all(...)). fetch registers a location's credentials before it sends them.
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
        secrets: Secrets = SECRETS, env: dict[str, str] | None = None) -> Result:
    """env: the command's whole environment (None: this process's)."""
    shown = secrets.mask(" ".join(argv))
    start = time.monotonic()
    try:
        proc = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout,
                              errors="replace", env=env)
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
