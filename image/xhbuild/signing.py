"""The project build key: generated on first build, kept outside the checkout.

The secret part signs the product tree's manifest and pool; the public part is baked into the
installer environment, which refuses a tree it does not verify.
"""
from __future__ import annotations

import os
import subprocess

from .common import KEYS, run, say

UID = "Xenhost build key (local builds) <build@xenhost.invalid>"
PUBLIC = os.path.join(KEYS, "build-key.gpg")      # binary keyring, usable by gpgv and apt


def _gpg(*args: str) -> list[str]:
    return ["gpg", "--homedir", os.path.join(KEYS, "gnupg"), "--batch", "--quiet", *args]


def ensure_key() -> str:
    """Return the path of the public keyring, generating the key pair once."""
    if os.path.exists(PUBLIC):
        return PUBLIC
    home = os.path.join(KEYS, "gnupg")
    os.makedirs(home, mode=0o700, exist_ok=True)
    say(f"generating the project build key in {KEYS}")
    run(_gpg("--passphrase", "", "--quick-gen-key", UID, "ed25519", "sign", "never"))
    with open(PUBLIC + ".tmp", "wb") as f:
        f.write(subprocess.run(_gpg("--export", UID), check=True, capture_output=True).stdout)
    os.replace(PUBLIC + ".tmp", PUBLIC)
    return PUBLIC


def public_key() -> bytes:
    with open(ensure_key(), "rb") as f:
        return f.read()


def sign(path: str, armor_out: str) -> None:
    """Detached signature of path into armor_out (also used for apt's Release.gpg)."""
    ensure_key()
    if os.path.exists(armor_out):
        os.unlink(armor_out)
    run(_gpg("--local-user", UID, "--armor", "--detach-sign", "--output", armor_out, path))


def clearsign(path: str, out: str) -> None:
    ensure_key()
    if os.path.exists(out):
        os.unlink(out)
    run(_gpg("--local-user", UID, "--clearsign", "--output", out, path))
