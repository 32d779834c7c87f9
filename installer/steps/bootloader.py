"""GRUB 2 with Xen multiboot2 entries, for BIOS or UEFI."""
from .. import bootloader
from .base import dry_run

TITLE = "Installing the boot loader"


def actions(cfg, plan) -> list[str]:
    disk = plan.primary()
    boot = disk.part_path("boot")
    out = []
    if plan.boot_mode == "uefi":
        out.append(f"install GRUB for UEFI into the ESP {boot}, also as EFI/BOOT/BOOTX64.EFI")
        if cfg.bootloader.write_boot_entry:
            out.append("add a UEFI boot entry with efibootmgr (a failure is only a warning)")
    else:
        where = disk.path if cfg.bootloader.location == "mbr" else disk.part_path("root")
        out.append(f"install GRUB for BIOS: boot code on {where}, core image in {boot}")
    default = "serial console" if cfg.bootloader.serial_console else "default"
    out.append(f"Xen entries (default, serial console, safe mode, fallback; {default} first) with "
               f"dom0_mem={plan.dom0_memory_mib}M,max:{plan.dom0_memory_mib}M "
               f"dom0_max_vcpus=1-{plan.dom0_vcpus}, root=LABEL=root-{plan.ids['suffix']}")
    return out


def run(ctx, step) -> None:
    if ctx.dry_run:
        return dry_run(ctx, step)
    bootloader.install(ctx, ctx.target, ctx.warn)
    ctx.log(f"GRUB installed for {ctx.plan.boot_mode.upper()} on {ctx.plan.primary().path}")
    ctx.progress(1.0)
