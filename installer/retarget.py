"""An install aimed at a disk the command line names rather than the answer file's primary disk
(--target-disk, --target-image), and the machine a disk image stands for. Pure: shared by the build
machine's checks (image_install) and the install inside the environment (cli)."""
from __future__ import annotations

import dataclasses

from .config import DiskRef, InstallConfig, PrimaryDisk
from .machine import NIC, Disk, Machine


def retarget(cfg: InstallConfig, disk_path: str) -> InstallConfig:
    """A copy of the config whose primary disk is the given one (other disks cannot exist here)."""
    disk = DiskRef(path=disk_path)
    primary = PrimaryDisk(disk) if cfg.primary_disk is None else dataclasses.replace(cfg.primary_disk, disk=disk)
    return dataclasses.replace(cfg, primary_disk=primary)


def virtual_nics(cfg: InstallConfig) -> list[NIC]:
    """The NIC the answer file names, for a machine we cannot see (the one the image will boot on)."""
    iface = cfg.interface
    if iface is None:
        return [NIC("eth0", "")]
    return [NIC(iface.name or "eth0", iface.mac or "", link=None)]


def image_machine(cfg: InstallConfig, disks: list[Disk], boot_mode: str) -> Machine:
    """The machine an image will boot on: its disks as given, NICs from the answer file, memory and
    CPUs unknown (dom0 gets the base memory and one vCPU), Secure Boot off."""
    # An image has no firmware of its own, so no Secure Boot state to read (None would warn "could not
    # be read" on every UEFI image): it must boot with Secure Boot disabled, as docs/install.md says.
    return Machine(boot_mode=boot_mode, memory_mib=0, cpu_count=1, disks=disks, nics=virtual_nics(cfg),
                   secure_boot=False)
