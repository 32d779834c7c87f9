"""Build the installer environment: a Debian trixie root (mmdebstrap) with blivet from PyPI.

Cached by its inputs under CACHE/env/<key>/root; CACHE/env/current points at the newest build.
The installer package itself is not copied in here: runs bind-mount the checkout (see
installer/envchroot.py) and the media builds copy it, so code changes never force a rebuild.
"""
from __future__ import annotations

import os
import subprocess
import sys

from . import firmware, mirror, signing
from .common import CACHE, EFIVARFS_INITRD, IMAGE_DIR, XZ_INITRD, module_excludes, cached, digest, finished, mmdebstrap, need_tools, read_list, run, say

SRC = os.path.join(IMAGE_DIR, "installer-env")
KEY_IN_ENV = "usr/share/xenhost/keys/build-key.gpg"
INPUTS = ("packages.txt", "requirements.txt", "lvm-noudev.conf")   # overlay/ goes on the media only
# the installer's console uses the firmware framebuffer: no GPU drivers
EXCLUDES = ("/usr/share/locale/*", *module_excludes("drivers/gpu", "drivers/infiniband"))


def key() -> str:
    parts = [open(os.path.join(SRC, name), "rb").read() for name in INPUTS]
    parts += [signing.public_key(), "\n".join(mirror.derive().sources()), repr(EXCLUDES), XZ_INITRD, EFIVARFS_INITRD,
              *firmware.key_parts()]
    with open(__file__, "rb") as f:
        parts.append(f.read())
    return digest(parts)


def path() -> str:
    return os.path.join(CACHE, "env", key(), "root")


def build(force: bool = False) -> str:
    need_tools()
    k = key()
    base, root, done = cached("env", k, "root", "installer environment", force)
    if done:
        return root
    wheels = os.path.join(base, "wheels")
    run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--require-hashes",
         "--only-binary", ":all:", "-d", wheels, "-r", os.path.join(SRC, "requirements.txt")])
    tmp = root + ".tmp"
    add_filter, drop_filter = firmware.hooks()
    # the firmware set too: the installer needs its network (answer files, trees, fetch=), and the
    # initrd gets the firmware of the NIC drivers it holds
    mmdebstrap(read_list(os.path.join(SRC, "packages.txt")) + firmware.packages(),
               ['mkdir -p "$1/usr/share/xenhost/keys" "$1/opt/xenhost" "$1/run/install/media" '
                '"$1/run/install/out"',
                f"upload {signing.PUBLIC} /{KEY_IN_ENV}",
                f"upload {os.path.join(SRC, 'lvm-noudev.conf')} /etc/lvm/lvm-noudev.conf",
                # sshd runs only for sshpassword=, with keys made on the machine (installer/debugssh.py)
                'chroot "$1" systemctl disable ssh.service && rm -f "$1"/etc/ssh/ssh_host_*',
                drop_filter],
               tmp, mirror.derive().sources(), dpkg_excludes=EXCLUDES,
               essential_hooks=(XZ_INITRD, EFIVARFS_INITRD, add_filter))
    firmware.prune(tmp)
    firmware.check(tmp)
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
    return finished("env", k, base, root)


def _merge_lvm_conf(root: str) -> None:
    """Append the no-udev overrides to lvm.conf (later settings of a section win in LVM)."""
    src = os.path.join(root, "etc/lvm/lvm-noudev.conf")
    with open(src) as f, open(os.path.join(root, "etc/lvm/lvm.conf"), "a") as conf:
        conf.write("\n# xenhost installer environment\n" + f.read())
    os.unlink(src)
