"""Build the hybrid installer ISO (BIOS El Torito + UEFI ESP image + USB-bootable MBR, by
grub-mkrescue): the installer environment as a live-boot squashfs, its kernel and initrd, and the
product tree.

  /live/vmlinuz, /live/initrd.img, /live/filesystem.squashfs   installer environment (live-boot)
  /xenhost/                                                      product tree (.treeinfo, images, pool)
  /boot/grub/grub.cfg                                            boot menu
"""
from __future__ import annotations

import glob
import os
import shutil

from . import envbuild, productbuild
from .common import IMAGE_DIR, PROJECT_DIR, cached, digest, finished, run, say, tree_bytes
from installer.product import DEFAULT as PRODUCT

MENU = """\
set timeout=5
set default=0
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
menuentry "{brand} {version}: install (interactive)" {{
	linux /live/vmlinuz boot=live components net.ifnames=0 quiet console=tty0
	initrd /live/initrd.img
}}
menuentry "{brand} {version}: install with serial console (ttyS0)" {{
	linux /live/vmlinuz boot=live components net.ifnames=0 console=tty0 console=ttyS0,115200
	initrd /live/initrd.img
}}
menuentry "{brand} {version}: unattended install (answer file on the media)" {{
	linux /live/vmlinuz boot=live components net.ifnames=0 console=tty0 console=ttyS0,115200 answerfile=file:///run/live/medium/answerfile.xml
	initrd /live/initrd.img
}}
menuentry "{brand} {version}: rescue shell" {{
	linux /live/vmlinuz boot=live components net.ifnames=0 console=tty0 console=ttyS0,115200 systemd.unit=rescue.target
	initrd /live/initrd.img
}}
"""


def build(force: bool = False) -> str:
    env = envbuild.build()
    tree = productbuild.build()
    p = PRODUCT
    parts = ([env, tree, MENU] + tree_bytes(os.path.join(PROJECT_DIR, "installer"))
             + tree_bytes(os.path.join(IMAGE_DIR, "installer-env", "overlay")))
    with open(__file__, "rb") as f:
        parts.append(f.read())
    k = digest(parts)
    out_dir, iso, done = cached("iso", k, "installer.iso", "installer ISO", force)
    if done:
        return iso
    stage = os.path.join(out_dir, "stage")
    os.makedirs(os.path.join(stage, "live"))
    os.makedirs(os.path.join(stage, "boot", "grub"))
    boot = os.path.join(env, "boot")
    shutil.copy(sorted(glob.glob(os.path.join(boot, "vmlinuz-*")))[-1], os.path.join(stage, "live", "vmlinuz"))
    shutil.copy(sorted(glob.glob(os.path.join(boot, "initrd.img-*")))[-1], os.path.join(stage, "live", "initrd.img"))
    # the installer package goes in as a second squashfs layer (live-boot stacks /live/*.squashfs)
    code = os.path.join(out_dir, "code")
    shutil.copytree(os.path.join(PROJECT_DIR, "installer"), os.path.join(code, "usr/lib/python3/dist-packages/installer"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(os.path.join(IMAGE_DIR, "installer-env", "overlay"), code, symlinks=True, dirs_exist_ok=True)
    run(["mksquashfs", env, os.path.join(stage, "live", "filesystem.squashfs"), "-comp", "xz",
         "-noappend", "-no-progress", "-quiet", "-e", "boot"])
    run(["mksquashfs", code, os.path.join(stage, "live", "installer.squashfs"), "-comp", "xz",
         "-noappend", "-no-progress", "-quiet"])
    with open(os.path.join(stage, "live", "filesystem.module"), "w") as f:
        f.write("filesystem.squashfs\ninstaller.squashfs\n")
    shutil.copytree(tree, os.path.join(stage, "xenhost"), copy_function=os.link)
    with open(os.path.join(stage, "boot", "grub", "grub.cfg"), "w") as f:
        f.write(MENU.format(brand=p.brand, version=p.version))
    run(["grub-mkrescue", "-o", iso, stage, "--", "-volid", f"{p.brand.upper()}_{p.version.replace('.', '_')}"])
    shutil.rmtree(code)
    say(f"ISO: {os.path.getsize(iso) / 2**20:.0f} MiB at {iso}")
    return finished("iso", k, out_dir, iso)
