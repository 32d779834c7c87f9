"""Root password handling: SHA-512 crypt (Drepper's SHA-crypt) in pure Python.

Python 3.13 (the installer environment's) has no `crypt` module, and we must never shell out with a
plaintext password on a command line, so we compute the hash ourselves.
"""
from __future__ import annotations

import hashlib
import re
import secrets

_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Byte triples of the final digest in the order SHA-crypt encodes them.
_ORDER = [(0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26),
          (6, 27, 48), (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32),
          (12, 33, 54), (34, 55, 13), (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38),
          (18, 39, 60), (40, 61, 19), (62, 20, 41)]
ROUNDS_DEFAULT = 5000
MIN_LENGTH = 6  # XCP-ng refuses shorter root passwords
# SHA-crypt hashes the password len(password) times over: time grows with the square of its length.
# libxcrypt (the host's PAM) refuses passphrases of 512 bytes or more: such a password could never
# log in. A longer plaintext is refused where it is given (answer file, wizard): see too_long().
MAX_LENGTH = 128        # characters
MAX_BYTES = 511         # in UTF-8
GOOD_LENGTH = 8


def too_long(password: str) -> str | None:
    """Why a plaintext password is too long ("at most ..."), or None."""
    if len(password) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters long (it has {len(password)})"
    size = len(password.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        return (f"at most {MAX_BYTES} bytes long in UTF-8 (it has {size}): the host's crypt() "
                "takes no more")
    return None


def _b64(b2: int, b1: int, b0: int, n: int) -> str:
    w = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(n):
        out.append(_ITOA64[w & 0x3F])
        w >>= 6
    return "".join(out)


def _repeat(digest: bytes, length: int) -> bytes:
    return (digest * (length // len(digest) + 1))[:length]


def sha512_crypt(password: str, salt: str | None = None, rounds: int = ROUNDS_DEFAULT) -> str:
    pw = password.encode("utf-8")
    if salt is None:
        salt = "".join(secrets.choice(_ITOA64) for _ in range(16))
    s = salt.encode("ascii")[:16]
    rounds = max(1000, min(rounds, 999_999_999))

    b = hashlib.sha512(pw + s + pw).digest()
    a = hashlib.sha512(pw + s)
    a.update(_repeat(b, len(pw)))
    n = len(pw)
    while n:
        a.update(b if n & 1 else pw)
        n >>= 1
    c = a.digest()
    dp = hashlib.sha512()
    for _ in range(len(pw)):      # not pw * len(pw): that is len(pw)² bytes in memory at once
        dp.update(pw)
    p = _repeat(dp.digest(), len(pw))
    sd = _repeat(hashlib.sha512(s * (16 + c[0])).digest(), len(s))
    for i in range(rounds):
        h = hashlib.sha512(p if i & 1 else c)
        if i % 3:
            h.update(sd)
        if i % 7:
            h.update(p)
        h.update(c if i & 1 else p)
        c = h.digest()

    encoded = "".join(_b64(c[x], c[y], c[z], 4) for x, y, z in _ORDER) + _b64(0, 0, c[63], 2)
    spec = "" if rounds == ROUNDS_DEFAULT else f"rounds={rounds}$"
    return f"$6${spec}{s.decode()}${encoded}"


def verify(password: str, hashed: str) -> bool:
    m = re.match(r"^\$6\$(rounds=(\d+)\$)?([^$]{0,16})\$", hashed)
    if not m:
        raise ValueError("only SHA-512 crypt hashes can be verified here")
    rounds = int(m.group(2)) if m.group(2) else ROUNDS_DEFAULT
    return secrets.compare_digest(sha512_crypt(password, m.group(3), rounds), hashed)


_C = r"[./0-9A-Za-z]"
_HASH_FORMATS = {
    "sha512-crypt": re.compile(rf"^\$6\$(rounds=\d{{1,9}}\$)?{_C}{{1,16}}\${_C}{{86}}$"),
    "sha256-crypt": re.compile(rf"^\$5\$(rounds=\d{{1,9}}\$)?{_C}{{1,16}}\${_C}{{43}}$"),
    "yescrypt": re.compile(rf"^\$y\${_C}+\${_C}+\${_C}{{43}}$"),
    "bcrypt": re.compile(rf"^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\${_C}{{53}}$"),
    "md5-crypt": re.compile(rf"^\$1\${_C}{{1,8}}\${_C}{{22}}$"),
}
WEAK_FORMATS = ("md5-crypt",)


def hash_format(hashed: str) -> str:
    """Name the crypt(5) format of a hash, or raise ValueError saying what is accepted."""
    for name, pattern in _HASH_FORMATS.items():
        if pattern.fullmatch(hashed):
            return name
    raise ValueError("not a valid crypt(5) password hash: expected SHA-512 ($6$...), SHA-256 "
                     "($5$...), yescrypt ($y$...) or bcrypt ($2b$...), e.g. from "
                     "'mkpasswd -m sha-512'")
