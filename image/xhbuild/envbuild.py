"""Build the installer environment: a Debian trixie root (mmdebstrap) with blivet from PyPI.

Cached by its inputs under CACHE/env/<key>/root; CACHE/env/current points at the newest build.
The installer package itself is not copied in here: runs bind-mount the checkout (see
installer/envchroot.py) and the media builds copy it, so code changes never force a rebuild.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

from . import mirror, signing
from .common import CACHE, IMAGE_DIR, digest, need_tools, publish, read_list, run, say

SRC = os.path.join(IMAGE_DIR, "installer-env")
KEY_IN_ENV = "usr/share/xenhost/keys/build-key.gpg"
INPUTS = ("packages.txt", "requirements.txt", "lvm-noudev.conf")   # overlay/ goes on the media only


def key() -> str:
    parts = [open(os.path.join(SRC, name), "rb").read() for name in INPUTS]
    parts += [signing.public_key(), "\n".join(mirror.derive().sources())]
    with open(__file__, "rb") as f:
        parts.append(f.read())
    return digest(parts)


def path() -> str:
    return os.path.join(CACHE, "env", key(), "root")


def build(force: bool = False) -> str:
    need_tools()
    k = key()
    base = os.path.join(CACHE, "env", k)
    root = os.path.join(base, "root")
    if os.path.exists(os.path.join(base, "complete")) and not force:
        say(f"installer environment {k} is up to date")
        publish("env", k, root)
        return root
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    wheels = os.path.join(base, "wheels")
    run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--require-hashes",
         "--only-binary", ":all:", "-d", wheels, "-r", os.path.join(SRC, "requirements.txt")])
    pkgs = ",".join(read_list(os.path.join(SRC, "packages.txt")))
    tmp = root + ".tmp"
    run(["mmdebstrap", "--variant=apt", "--mode=root", "--format=directory", f"--include={pkgs}",
         "--aptopt=Acquire::Retries \"3\"",
         "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-include=/usr/share/doc/*/copyright",
         "--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/locale/*",
         "--customize-hook=mkdir -p \"$1/usr/share/xenhost/keys\" \"$1/opt/xenhost\" "
         "\"$1/run/install/media\" \"$1/run/install/out\"",
         f"--customize-hook=upload {signing.PUBLIC} /{KEY_IN_ENV}",
         f"--customize-hook=upload {os.path.join(SRC, 'lvm-noudev.conf')} /etc/lvm/lvm-noudev.conf",
         "trixie", tmp, *mirror.derive().sources()])
    # blivet: pure Python wheel, verified by hash above, unpacked into Debian's shared dist-packages
    run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--no-compile",
         "--find-links", wheels, "--require-hashes", "--target",
         os.path.join(tmp, "usr/lib/python3/dist-packages"), "-r",
         os.path.join(SRC, "requirements.txt")])
    _merge_lvm_conf(tmp)
    check = subprocess.run(["chroot", tmp, "python3", "-c",
                            "import blivet, parted, pyudev, urwid, jinja2, netifaces; "
                            "print(blivet.__version__)"], capture_output=True, text=True)
    if check.returncode:
        raise SystemExit(f"the built environment cannot import its libraries:\n{check.stderr}")
    say(f"blivet {check.stdout.strip()} imports in the environment")
    os.rename(tmp, root)
    open(os.path.join(base, "complete"), "w").close()
    publish("env", k, root)
    return root


def _merge_lvm_conf(root: str) -> None:
    """Append the no-udev overrides to lvm.conf (later settings of a section win in LVM)."""
    src = os.path.join(root, "etc/lvm/lvm-noudev.conf")
    with open(src) as f, open(os.path.join(root, "etc/lvm/lvm.conf"), "a") as conf:
        conf.write("\n# xenhost installer environment\n" + f.read())
    os.unlink(src)
