"""Build the hybrid installer ISO (BIOS El Torito + UEFI ESP image + USB-bootable MBR, by
grub-mkrescue): the live installer system (livebuild: kernel, initrd, squashfs) and the product
tree.

  /live/vmlinuz, /live/initrd.img, /live/filesystem.squashfs   installer environment (live-boot)
  /xenhost/                                                      product tree (.treeinfo, images, pool)
  /boot/grub/grub.cfg                                            boot menu

The menu loads GRUB's video drivers: without them GRUB on UEFI boots Linux "in blind mode", with
no framebuffer, and the interactive entry shows nothing on the screen.
"""
from __future__ import annotations

import os
import shutil

from . import livebuild, productbuild
from .common import cached, digest, finished, run, say
from installer.product import DEFAULT as PRODUCT

MENU = """\
set timeout=5
set default=0
insmod all_video
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
menuentry "{brand} {version}: install (interactive)" {{
	linux /live/vmlinuz boot=live net.ifnames=0 quiet console=tty0
	initrd /live/initrd.img
}}
menuentry "{brand} {version}: install with serial console (ttyS0)" {{
	linux /live/vmlinuz boot=live net.ifnames=0 console=tty0 console=ttyS0,115200
	initrd /live/initrd.img
}}
menuentry "{brand} {version}: unattended install (answer file on the media)" {{
	linux /live/vmlinuz boot=live net.ifnames=0 console=tty0 console=ttyS0,115200 answerfile=file:///run/live/medium/answerfile.xml
	initrd /live/initrd.img
}}
menuentry "{brand} {version}: rescue shell" {{
	linux /live/vmlinuz boot=live net.ifnames=0 console=tty0 console=ttyS0,115200 systemd.unit=rescue.target
	initrd /live/initrd.img
}}
"""


def build(force: bool = False) -> str:
    live = livebuild.build()
    tree = productbuild.build()
    p = PRODUCT
    with open(__file__, "rb") as f:
        k = digest([live, tree, f.read()])
    out_dir, iso, done = cached("iso", k, "installer.iso", "installer ISO", force)
    if done:
        return iso
    stage = os.path.join(out_dir, "stage")
    os.makedirs(os.path.join(stage, "boot", "grub"))
    shutil.copytree(live, os.path.join(stage, "live"), copy_function=os.link)
    shutil.copytree(tree, os.path.join(stage, "xenhost"), copy_function=os.link)
    with open(os.path.join(stage, "boot", "grub", "grub.cfg"), "w") as f:
        f.write(MENU.format(brand=p.brand, version=p.version))
    run(["grub-mkrescue", "-o", iso, stage, "--", "-volid", f"{p.brand.upper()}_{p.version.replace('.', '_')}"])
    shutil.rmtree(stage)
    say(f"ISO: {os.path.getsize(iso) / 2**20:.0f} MiB at {iso}")
    return finished("iso", k, out_dir, iso)
