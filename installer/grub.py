"""GRUB 2 for BIOS and UEFI: the host's boot menu (grub.cfg) with the Xen and dom0 command lines,
and GRUB installed without grub-install (works on loop devices and in VMs alike).

grub-install cannot relate BLKPG-added loop partitions to their disk, so we do its work with the
target's own GRUB: grub-mkimage builds the core image with an early config that finds the root file
system by label; for BIOS we place core.img in the BIOS-boot partition and boot.img in the MBR
(keeping the protective partition table) or, with location="partition", in the root partition's
first sector (ext4 leaves its first 1024 bytes to boot code), patching their sector pointers as
grub-bios-setup does; for UEFI the image goes into the ESP with mtools (no vfat mount needed), at
EFI/<product>/grubx64.efi and at the removable-media path EFI/BOOT/BOOTX64.EFI.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import struct

from . import runner
from .errors import InstallerError
from .hostconfig import render

MODULES_COMMON = ["part_gpt", "part_msdos", "ext2", "fat", "search", "search_label", "search_fs_uuid",
                  "normal", "configfile", "echo", "test", "multiboot2", "gzio", "linux", "serial",
                  "terminal", "all_video", "gfxterm", "sleep", "reboot", "halt", "ls", "cat"]
# boot.img offsets (grub-core/boot/i386/pc/boot.S) and diskboot.img's first blocklist
KERNEL_SECTOR, BOOT_DRIVE, DRIVE_CHECK, BPB_START, BPB_END = 0x5C, 0x64, 0x66, 0x03, 0x5A
TABLE_START = 0x1B8          # disk signature + partition table + 0x55AA: kept from the disk
BLOCKLIST_START = 0x200 - 12     # diskboot.img: start LBA (8 bytes), sector count (2 bytes)


def kernel_files(root: str) -> dict:
    """The newest dom0 kernel, its initrd and the Xen image in the target's /boot."""
    def newest(pattern: str) -> str:
        found = sorted(glob.glob(os.path.join(root, "boot", pattern)))
        if not found:
            raise InstallerError(f"the target has no /boot/{pattern}: the root image is incomplete")
        return os.path.basename(found[-1])
    return {"kernel": newest("vmlinuz-*"), "initrd": newest("initrd.img-*"), "xen": newest("xen-*.gz")}


_SERIAL = re.compile(r"ttyS(?P<unit>[0-9]{1,2})(,(?P<speed>[0-9]{1,7})((?P<parity>[noe])(?P<bits>[5-8])r?)?)?")
PARITY = {"n": "no", "o": "odd", "e": "even"}


def parse_serial(spec: str | None) -> dict | None:
    """'ttyS1,57600e7' -> unit 1, speed 57600, even parity, 7 data bits (for GRUB, Xen's comN= and
    Linux's console=); without them 115200 8n1."""
    m = _SERIAL.fullmatch(spec or "")
    if not m:
        return None
    parity, bits = m["parity"] or "n", int(m["bits"] or 8)
    return {"tty": f"ttyS{int(m['unit'])}", "unit": int(m["unit"]), "speed": int(m["speed"] or 115200),
            "parity": PARITY[parity], "bits": bits, "xen": f"{bits}{parity}1", "linux": f"{parity}{bits}"}


def xen_command_line(plan) -> str:
    """Xen's arguments common to every boot entry (consoles and safe-mode options are the entry's).
    ucode=scan: Xen loads CPU microcode from the early cpio at the start of the dom0 initrd."""
    return (f"dom0_mem={plan.dom0_memory_mib}M,max:{plan.dom0_memory_mib}M "
            f"dom0_max_vcpus=1-{plan.dom0_vcpus} crashkernel=256M,below=4G ucode=scan")


def dom0_command_line(root_label: str) -> str:
    """The dom0 kernel's arguments common to every boot entry, the rescue one without Xen too."""
    return f"root=LABEL={root_label} ro net.ifnames=0"


def grub_cfg(plan, cfg, files: dict) -> str:
    serial = parse_serial(cfg.bootloader.serial_console)
    com_unit = serial["unit"] if serial else 0
    com_name = f"com{com_unit + 1}"
    label = plan.primary().part("root").label
    return render("grub.cfg.j2", brand=plan.product.brand, version=plan.product.version,
                  xen_version=plan.product.xen_version, root_label=label, serial=serial,
                  default=1 if serial else 0, xen_args=xen_command_line(plan),
                  com=f"{com_name}={serial['speed']},{serial['xen']}" if serial else f"{com_name}=115200,8n1",
                  com_name=com_name, dom0_args=dom0_command_line(label), **files)


def early_cfg(label: str) -> str:
    return (f"search --no-floppy --label --set=root {label}\n"
            "set prefix=($root)/boot/grub\n")


def install(ctx, target, warn) -> None:
    plan, cfg = ctx.plan, ctx.cfg
    disk = plan.primary()
    files = kernel_files(target.root)
    grub_dir = target.path("/boot/grub")
    os.makedirs(grub_dir, exist_ok=True)
    with open(os.path.join(grub_dir, "grub.cfg"), "w") as f:
        f.write(grub_cfg(plan, cfg, files))
    with open(target.path("/boot/grub/early.cfg"), "w") as f:
        f.write(early_cfg(disk.part("root").label))
    fmt = "x86_64-efi" if plan.boot_mode == "uefi" else "i386-pc"
    src = target.path(f"/usr/lib/grub/{fmt}")
    if not os.path.isdir(src):
        raise InstallerError(f"the target has no GRUB for {fmt} (/usr/lib/grub/{fmt})")
    shutil.copytree(src, os.path.join(grub_dir, fmt), dirs_exist_ok=True)
    modules = MODULES_COMMON + (["biosdisk"] if fmt == "i386-pc" else ["efi_gop", "efi_uga"])
    out = f"/boot/grub/{fmt}/core.{'efi' if fmt == 'x86_64-efi' else 'img'}"
    target.chroot(["grub-mkimage", "-O", fmt, "-o", out, "-p", "/boot/grub",
                   "-c", "/boot/grub/early.cfg", *modules])
    if fmt == "i386-pc":
        _bios(disk, target.path(f"/boot/grub/{fmt}/boot.img"), target.path(out), cfg.bootloader.location)
    else:
        _uefi(ctx, disk, target.path(out), warn)


def _bios(disk, boot_img: str, core_img: str, location: str = "mbr") -> None:
    """Do what grub-bios-setup does for a GPT disk with a BIOS-boot partition: core.img there, and
    boot.img (which loads core.img's first sector) in the MBR or in the root partition's first sector."""
    part = disk.part("boot")
    start = part.start_mib * 2048                         # BIOS boot needs 512-byte sectors
    with open(core_img, "rb") as f:
        core = bytearray(f.read())
    sectors = (len(core) + 511) // 512
    if sectors > part.size_mib * 2048:
        raise InstallerError(f"GRUB's core image ({len(core)} bytes) does not fit the BIOS boot partition")
    core += b"\0" * (sectors * 512 - len(core))
    # diskboot.img loads the rest of core.img from this blocklist: (start LBA, sector count)
    struct.pack_into("<QH", core, BLOCKLIST_START, start + 1, sectors - 1)
    with open(boot_img, "rb") as f:
        boot = bytearray(f.read(512))
    with open(disk.path, "r+b") as dev:
        dev.seek(start * 512)
        dev.write(core)
        dev.flush()
        os.fsync(dev.fileno())
    # The MBR keeps the disk's partition table; a partition's boot sector keeps boot.img's 0x55AA,
    # which chainloaders check. The root partition is written through its own device: the mounted
    # ext4 rewrites its first block (superblock included) from that device's cache.
    with open(disk.path if location == "mbr" else disk.part_path("root"), "r+b") as dev:
        old = dev.read(512)
        boot[BPB_START:BPB_END] = old[BPB_START:BPB_END]
        if location == "mbr":
            boot[TABLE_START:512] = old[TABLE_START:512]
        struct.pack_into("<Q", boot, KERNEL_SECTOR, start)
        boot[BOOT_DRIVE] = 0xFF                            # use the drive the BIOS booted from
        boot[DRIVE_CHECK:DRIVE_CHECK + 2] = b"\x90\x90"    # hard disk: skip the floppy probe
        dev.seek(0)
        dev.write(boot)
        dev.flush()
        os.fsync(dev.fileno())


def _uefi(ctx, disk, efi_image: str, warn) -> None:
    esp = disk.part_path("boot")
    vendor = ctx.plan.product.name
    mtools = ["env", "MTOOLS_SKIP_CHECK=1"]
    for d in ("::/EFI", "::/EFI/BOOT", f"::/EFI/{vendor}"):
        runner.run([*mtools, "mmd", "-D", "s", "-i", esp, d], check=False)
    for dest in (f"::/EFI/{vendor}/grubx64.efi", "::/EFI/BOOT/BOOTX64.EFI"):
        runner.run([*mtools, "mcopy", "-o", "-i", esp, efi_image, dest])
    if not ctx.cfg.bootloader.write_boot_entry:
        ctx.log("no firmware boot entry written (write-boot-entry=false, or the disk is for another "
                "machine); the host boots through the removable-media path EFI/BOOT/BOOTX64.EFI")
        return
    if not os.path.isdir("/sys/firmware/efi/efivars"):
        warn("not booted in UEFI mode here: no firmware boot entry written; the host boots through "
             "the removable-media path EFI/BOOT/BOOTX64.EFI")
        return
    res = runner.run(["efibootmgr", "--quiet", "--create", "--disk", disk.path, "--part",
                      str(disk.part("boot").number), "--label", ctx.plan.product.brand,
                      "--loader", f"\\EFI\\{vendor}\\grubx64.efi"], check=False)
    if res.returncode:
        warn(f"efibootmgr could not add a boot entry ({res.stderr.strip()[-200:]}); the host boots "
             "through the removable-media path EFI/BOOT/BOOTX64.EFI")
