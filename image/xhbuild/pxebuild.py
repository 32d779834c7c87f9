"""Build the network-boot artifacts: one directory to serve over TFTP (boot loaders, kernel, initrd)
and HTTP (the live squashfs, the product tree), with sample boot configs for pxelinux (BIOS), GRUB
(BIOS and UEFI network boot) and iPXE.

  pxelinux.0 ldlinux.c32 pxelinux.cfg/default     BIOS PXE with pxelinux (DHCP boot file pxelinux.0)
  grub/i386-pc/core.0 grub/x86_64-efi/core.efi    GRUB network boot (boot file per firmware kind)
  grub/grub.cfg
  xenhost.ipxe                                    iPXE script (chain http://SERVER/xenhost/xenhost.ipxe)
  vmlinuz initrd.img filesystem.squashfs          the live installer system
  tree/                                           the product tree (<source type="url">.../tree</source>)

The configs say http://SERVER/xenhost: the operator replaces SERVER with the HTTP server that serves
this directory at /xenhost/ (README.txt).
"""
from __future__ import annotations

import os
import shutil

from . import livebuild, productbuild
from .common import cached, digest, finished, run, say
from installer.product import DEFAULT as PRODUCT

BASE = "http://SERVER/xenhost"
PXELINUX = ("/usr/lib/PXELINUX/pxelinux.0", "/usr/lib/syslinux/modules/bios/ldlinux.c32")
LIVE = f"boot=live fetch={BASE}/filesystem.squashfs ethdevice=eth0 net.ifnames=0"
CONSOLES = "console=tty0 console=ttyS0,115200"
ENTRIES = (   # (label, title, installer arguments); the first is the default
    ("unattended", "unattended install (answer file over HTTP)", f"answerfile={BASE}/answerfile.xml"),
    ("interactive", "install (interactive)", ""),
    ("rescue", "rescue shell", "systemd.unit=rescue.target"),
)


def _args(extra: str) -> str:
    return " ".join(a for a in (LIVE, CONSOLES, extra) if a)


def pxelinux_cfg() -> str:
    p = PRODUCT
    out = [f"SAY {p.brand} {p.version} network installer: type a label (or wait 5 s for "
           f"'{ENTRIES[0][0]}'); labels: {' '.join(e[0] for e in ENTRIES)}",
           "SERIAL 0 115200", f"DEFAULT {ENTRIES[0][0]}", "PROMPT 1", "TIMEOUT 50", ""]
    for label, title, extra in ENTRIES:
        out += [f"LABEL {label}", f"  # {p.brand} {p.version}: {title}", "  KERNEL vmlinuz",
                "  INITRD initrd.img", f"  APPEND {_args(extra)}", "  IPAPPEND 2", ""]
    return "\n".join(out)


def grub_cfg() -> str:
    p = PRODUCT
    out = ["set timeout=5", "set default=0", "insmod all_video",    # else no framebuffer on UEFI
           "serial --unit=0 --speed=115200",
           "terminal_input console serial", "terminal_output console serial", ""]
    for _label, title, extra in ENTRIES:   # files come from the TFTP server GRUB was loaded from
        out += [f'menuentry "{p.brand} {p.version}: {title}" {{',
                f"\tlinux /vmlinuz {_args(extra)}", "\tinitrd /initrd.img", "}", ""]
    return "\n".join(out)


def ipxe_script() -> str:
    p = PRODUCT
    label, title, extra = ENTRIES[0]
    return "\n".join([
        "#!ipxe", f"# {p.brand} {p.version}: {title}. Edit answerfile= for your host.",
        "dhcp", f"kernel {BASE}/vmlinuz initrd=initrd.img {_args(extra)}",
        f"initrd {BASE}/initrd.img", "boot", ""])


README = """{brand} {version} network installer
==========================================

Serve this directory twice:
  - over TFTP (the DHCP server's boot file: pxelinux.0 for BIOS PXE; grub/i386-pc/core.0 or
    grub/x86_64-efi/core.efi for GRUB network boot on BIOS or UEFI; or chain xenhost.ipxe from iPXE);
  - over HTTP at http://SERVER/xenhost/ (live-boot fetches filesystem.squashfs from there, the
    installer fetches the answer file, and <source type="url">http://SERVER/xenhost/tree</source>
    points at the product tree in tree/).
Replace SERVER in pxelinux.cfg/default, grub/grub.cfg and xenhost.ipxe with that server's address.

Kernel parameters (docs/cmdline.md has all of them):
  boot=live fetch=URL/filesystem.squashfs ethdevice=eth0   the installer system, over HTTP, via eth0
  answerfile=URL                                           unattended install (http, https, ftp, file)
  network_device=eth0|MAC|all  network_config=dhcp|static:ip=...;gateway=...;dns=...
  console=tty0 console=ttyS0,115200                        progress on every console named
  atexit=reboot|poweroff|shell
The machine needs at least 1 GiB of RAM (the squashfs is held in memory).
"""


def build(force: bool = False) -> str:
    live = livebuild.build()
    tree = productbuild.build()
    inputs = [live, tree, pxelinux_cfg(), grub_cfg(), ipxe_script(), README]
    for path in PXELINUX:
        if not os.path.exists(path):
            raise SystemExit(f"missing {path}: install the Debian packages pxelinux syslinux-common")
        with open(path, "rb") as f:
            inputs.append(f.read())
    with open(__file__, "rb") as f:
        inputs.append(f.read())
    k = digest(inputs)
    base, out, done = cached("pxe", k, "pxe", "PXE artifacts", force)
    if done:
        return out
    os.makedirs(os.path.join(out, "pxelinux.cfg"))
    for name in livebuild.FILES:
        os.link(os.path.join(live, name), os.path.join(out, name))
    shutil.copytree(tree, os.path.join(out, "tree"), copy_function=os.link)
    for path in PXELINUX:
        shutil.copy(path, out)
    run(["grub-mknetdir", f"--net-directory={out}", "--subdir=grub"])
    p = PRODUCT
    for rel, text in (("pxelinux.cfg/default", pxelinux_cfg()), ("grub/grub.cfg", grub_cfg()),
                      ("xenhost.ipxe", ipxe_script()),
                      ("README.txt", README.format(brand=p.brand, version=p.version))):
        with open(os.path.join(out, rel), "w") as f:
            f.write(text)
    say(f"PXE artifacts in {out}")
    return finished("pxe", k, base, out)
