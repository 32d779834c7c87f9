"""The boot loader step: GRUB 2 with Xen multiboot2 entries, for BIOS or UEFI (installer/grub.py)."""
from .. import grub

TITLE = "Installing the boot loader"


def actions(cfg, plan) -> list[str]:
    disk = plan.primary()
    boot = disk.part_path("boot")
    out = []
    if plan.boot_mode == "uefi":
        out.append(f"install GRUB for UEFI into the ESP {boot}, also as EFI/BOOT/BOOTX64.EFI")
        if cfg.bootloader.write_boot_entry:
            out.append("add a UEFI boot entry with efibootmgr (a failure is only a warning)")
    elif cfg.bootloader.location == "mbr":
        out.append(f"install GRUB for BIOS: boot code on {disk.path}, core image in {boot}")
    else:
        out.append(f"install GRUB for BIOS: boot code on {disk.part_path('root')} (its first sector; "
                   f"the MBR of {disk.path} is not written), core image in {boot}")
    default = "serial console" if cfg.bootloader.serial_console else "default"
    dom0 = grub.dom0_command_line(f"root-{plan.ids.suffix}")
    out.append(f"write /boot/grub/grub.cfg for the kernels the root image holds: Xen entries (default, "
               f"serial console, safe mode, fallback; {default} first); Xen {grub.xen_command_line(plan)}; "
               f"dom0 {dom0}")
    return out


def run(ctx, step) -> None:
    grub.install(ctx, ctx.target, ctx.warn)
    disk = ctx.plan.primary()
    on_partition = ctx.plan.boot_mode == "bios" and ctx.cfg.bootloader.location == "partition"
    ctx.log(f"GRUB installed for {ctx.plan.boot_mode.upper()} on "
            f"{disk.part_path('root') if on_partition else disk.path}")
    ctx.progress(1.0)
