"""Build the hybrid installer ISO: the live installer system (livebuild: kernel, initrd, squashfs)
and the product tree, booting on BIOS (El Torito, and a hybrid MBR for USB sticks) and on UEFI with
or without Secure Boot (Debian's signed shim and GRUB, signedboot.py, in an EFI system image that is
both the UEFI El Torito entry and GPT partition 2). Made by xorriso itself: grub-mkrescue cannot
take a prebuilt EFI image.

  /live/vmlinuz, /live/initrd.img, /live/filesystem.squashfs   installer environment (live-boot)
  /xenhost/                                                      product tree (.treeinfo, images, pool)
  /boot/grub/grub.cfg                                            boot menu (BIOS and UEFI)
  /boot/grub/i386-pc/eltorito.img                                BIOS GRUB, every module it uses built in
  /boot/grub/efi.img                                             EFI system image (signedboot.ESP)
  /.disk/info, /.disk/<marker>                                   how both GRUBs find this medium

No GRUB module files are on the medium: under Secure Boot GRUB loads none, and the build machine's
GRUB 2.06 modules would not fit Debian 13's signed GRUB 2.12 anyway. The menu uses only commands
built into both GRUBs (signedboot.check_grub, BIOS_MODULES). It loads GRUB's video drivers: without
them GRUB on UEFI boots Linux "in blind mode", with no framebuffer, and the interactive entry shows
nothing on the screen.
"""
from __future__ import annotations

import os
import shutil

from . import livebuild, productbuild, signedboot
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
CFG = "boot/grub/grub.cfg"
BIOS_IMAGE = "boot/grub/i386-pc/eltorito.img"
ESP_IMAGE = "boot/grub/efi.img"
BOOT_HYBRID = "/usr/lib/grub/i386-pc/boot_hybrid.img"    # the MBR that starts BIOS_IMAGE from a USB stick
# built into the BIOS core (grub-mkimage adds their dependencies): the menu, the command line an
# operator edits it on (vm-tests type the boot line there), and finding the medium
BIOS_MODULES = ("biosdisk", "iso9660", "part_msdos", "part_gpt", "normal", "configfile", "search", "test",
                "echo", "minicmd", "linux", "boot", "serial", "terminal", "all_video", "ls", "cat",
                "reboot", "halt", "sleep", "chain")
TOOLS = {"xorriso": "xorriso", "mformat": "mtools", "grub-mkimage": "grub-common"}


def marker(key: str) -> str:
    """A file only this build's medium has: the GRUBs look for it, not for any Debian medium's
    /.disk/info, so that another attached medium is never taken for this one."""
    return f".disk/xenhost-{key}"


def find_medium(key: str, then: tuple[str, ...] = (), otherwise: tuple[str, ...] = ()) -> str:
    """GRUB config that makes the medium (the device with the marker) root, and its /boot/grub the
    prefix; then or otherwise some more commands."""
    lines = [f"if search --no-floppy --file --set=root /{marker(key)}; then", "\tset prefix=($root)/boot/grub",
             *[f"\t{c}" for c in then]]
    if otherwise:
        lines += ["else", *[f"\t{c}" for c in otherwise]]
    return "\n".join([*lines, "fi", ""])


def bios_early_config(key: str) -> str:
    """Embedded in the BIOS core; without the marker the prefix stays /boot/grub on the boot device."""
    return find_medium(key)


def esp_config(key: str) -> str:
    """boot/grub/grub.cfg in the EFI system image. Debian's signed GRUB (gcdx64) reads it when it
    was started from the image as a disk partition (a USB stick); started from a CD it finds the
    ISO's own /boot/grub at once."""
    return find_medium(key, then=("source $prefix/grub.cfg",),
                       otherwise=(f'echo "No /{marker(key)} on any disk: cannot find the installer medium"',))


def disk_info(key: str) -> str:
    """/.disk/info: what gcdx64 searches for when its prefix is not there (Debian's convention)."""
    return f"{PRODUCT.brand} {PRODUCT.version} installer (build {key})\n"


def bios_core_argv(out: str, early_config: str) -> list[str]:
    return ["grub-mkimage", "-O", "i386-pc-eltorito", "-p", "/boot/grub", "-c", early_config, "-o", out,
            *BIOS_MODULES]


def xorriso_argv(iso: str, stage: str, volid: str) -> list[str]:
    """The hybrid layout grub-mkrescue made, minus its HFS+ and APM parts: El Torito BIOS (with the
    boot info GRUB's hybrid MBR needs) and UEFI entries, a protective MBR, and a GPT whose
    partition 2 is the EFI system image in place."""
    return ["xorriso", "-as", "mkisofs", "-o", iso, "-r", "-V", volid,
            "--grub2-mbr", BOOT_HYBRID, "--protective-msdos-label", "-efi-boot-part", "--efi-boot-image",
            "-c", "boot/boot.catalog",
            "-b", BIOS_IMAGE, "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", "--grub2-boot-info",
            "-eltorito-alt-boot", "-e", ESP_IMAGE, "-no-emul-boot",
            "--sort-weight", "0", "/", "--sort-weight", "1", "/boot", stage]


def menu() -> str:
    return MENU.format(brand=PRODUCT.brand, version=PRODUCT.version)


def _need_tools() -> None:
    missing = sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})
    if not os.path.exists(BOOT_HYBRID):
        missing.append("grub-pc-bin")
    if missing:
        raise SystemExit(f"missing ISO build tools; install the Debian packages: {' '.join(missing)}")


def assemble(stage: str, iso: str, efi: str, key: str, volid: str) -> None:
    """Add the boot loaders and menu to stage (which holds live/ and xenhost/), then write iso."""
    efi_cfg = os.path.join(os.path.dirname(iso), "esp-grub.cfg")
    early = os.path.join(os.path.dirname(iso), "bios-early.cfg")
    os.makedirs(os.path.join(stage, os.path.dirname(BIOS_IMAGE)), exist_ok=True)
    os.makedirs(os.path.join(stage, ".disk"), exist_ok=True)
    texts = {os.path.join(stage, CFG): menu(), os.path.join(stage, ".disk", "info"): disk_info(key),
             os.path.join(stage, marker(key)): "", efi_cfg: esp_config(key), early: bios_early_config(key)}
    for path, text in texts.items():
        with open(path, "w") as f:
            f.write(text)
    run(bios_core_argv(os.path.join(stage, BIOS_IMAGE), early))
    files = {dest: os.path.join(efi, name) for dest, name in signedboot.ESP.items()}
    signedboot.make_esp(os.path.join(stage, ESP_IMAGE), {**files, CFG: efi_cfg}, serial=key[:8])
    run(xorriso_argv(iso, stage, volid))
    os.unlink(efi_cfg)
    os.unlink(early)


def build(force: bool = False) -> str:
    _need_tools()
    live = livebuild.build()
    tree = productbuild.build()
    efi = signedboot.build()
    p = PRODUCT
    sources = []
    for module in (__file__, signedboot.__file__):
        with open(module, "rb") as f:
            sources.append(f.read())
    k = digest([live, tree, efi, *sources])
    out_dir, iso, done = cached("iso", k, "installer.iso", "installer ISO", force)
    if done:
        return iso
    signedboot.check_grub(efi, "gcdx64.efi", {"the menu": menu(), "the EFI image's grub.cfg": esp_config(k)})
    stage = os.path.join(out_dir, "stage")
    os.makedirs(stage)
    shutil.copytree(live, os.path.join(stage, "live"), copy_function=os.link)
    shutil.copytree(tree, os.path.join(stage, "xenhost"), copy_function=os.link)
    assemble(stage, iso, efi, k, f"{p.brand.upper()}_{p.version.replace('.', '_')}")
    shutil.rmtree(stage)
    say(f"ISO: {os.path.getsize(iso) / 2**20:.0f} MiB at {iso}")
    return finished("iso", k, out_dir, iso)
