"""What a machine and the installations on its disks are fit for: which installation can be
upgraded, which backup restored, whether a reinstall can keep the old installation as its backup,
and, when not, why, in words; and what makes the machine a poor host (warnings, no obstacle).

The one rule for every front end: the planner (answer files) refuses with these reasons, the wizard
greys the same choices with the same reasons. Pure functions of a Machine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .layout import GUID, MIB, NUMBERS, PlannedPartition
from .machine import Disk, Installation, Machine, Partition
from .product import Product

MIN_RAM_MIB = 1024


# -- what is on a disk ----------------------------------------------------------------------------
def root(disk: Disk) -> Partition | None:
    """Partition 1 when it is an installation's root file system: ext4 labelled root-<suffix>."""
    part = disk.partition(NUMBERS["root"])
    return part if part and part.fstype == "ext4" and part.label.startswith("root-") else None


def backup(disk: Disk) -> Partition | None:
    """Partition 2 when it holds the backup of an installation (ext4, next to an installation)."""
    part = disk.partition(NUMBERS["backup"])
    return part if root(disk) and part and part.fstype == "ext4" else None


def boot_mode(disk: Disk) -> str:
    """The firmware an installation on this disk boots with: an EFI system partition means UEFI."""
    return "uefi" if any(p.type.upper() == GUID["esp"] for p in disk.partitions) else "bios"


def details(disk: Disk, machine: Machine) -> Installation | None:
    """What the probe read from the installation's root; None when the description has nothing."""
    return next((i for i in machine.installations if i.disk == disk.name), None)


def blocker(disk: Disk) -> str:
    """Why nothing may be written to this disk at all; "" when it may."""
    if disk.install_media:
        return "holds the installer media"
    if disk.readonly:
        return "read-only"
    if disk.in_use:
        return "in use: " + "; ".join(disk.in_use)
    return ""


# -- the decisions ----------------------------------------------------------------------------------
def _version_key(version: str) -> tuple[int, ...]:
    """8.3 and 8.3.0 compare equal; a part's leading digits count (8.3.1-rc1 is 8.3.1)."""
    key = [int(m.group()) if (m := re.match(r"\d+", p)) else 0 for p in version.split(".")]
    while key and key[-1] == 0:
        key.pop()
    return tuple(key)


def _no_installation(disk: Disk) -> str:
    part = disk.partition(NUMBERS["root"])
    found = f"{part.fstype or 'no file system'} labelled {part.label or '(none)'}" if part else "no partition 1"
    return f"no installation found (partition 1 must be an ext4 file system labelled root-*; found {found})"


def _other_mode(what: str, installed: str, machine: Machine) -> str:
    return (f"{what} for {installed.upper()} boot, but the installer was booted in "
            f"{machine.boot_mode.upper()} mode; boot the installer in {installed.upper()} mode")


def upgrade_refused(disk: Disk, machine: Machine, product: Product) -> str:
    """Why the installation on this disk cannot be upgraded to `product`; "" when it can.
    A downgrade is refused; the same version is allowed (a repair)."""
    if root(disk) is None:
        return _no_installation(disk)
    if busy := blocker(disk):
        return busy
    if boot_mode(disk) != machine.boot_mode:
        return _other_mode("installed", boot_mode(disk), machine)
    if disk.partition(NUMBERS["backup"]) is None:
        return "no backup partition (2) to keep the current installation in"
    info = details(disk, machine)
    if info is None:      # a description without the probe's reading: nothing more to check
        return ""
    if not (info.product and info.version):
        return "its product and version could not be read (/etc/xensource-inventory)"
    if not info.booted:
        return "this installation never completed its first boot"
    if info.product != product.brand:
        return f"it is an installation of {info.product}, not of {product.brand}"
    if _version_key(info.version) > _version_key(product.version):
        return f"version {info.version} is newer than this installer's {product.version}"
    return ""


def restore_refused(disk: Disk, machine: Machine) -> str:
    """Why the backup on this disk cannot be restored; "" when it can."""
    if root(disk) is None:
        return _no_installation(disk)
    if backup(disk) is None:
        part = disk.partition(NUMBERS["backup"])
        found = (part.fstype or "no file system") if part else "no partition 2"
        return f"no backup found (partition 2 must be an ext4 file system; found {found})"
    if busy := blocker(disk):
        return busy
    if boot_mode(disk) != machine.boot_mode:
        return _other_mode("the backup was made", boot_mode(disk), machine)
    return ""


def reinstall_refused(disk: Disk, new_backup: PlannedPartition | None) -> str:
    """Why a reinstall over this disk's installation cannot keep it as the new backup ("" when
    it can): the old root is copied into the new layout's backup partition, which must be where
    the existing backup partition is."""
    old = disk.partition(NUMBERS["backup"])
    if old is None or new_backup is None or \
            (old.start, old.size) != (new_backup.start_mib * MIB, new_backup.size_mib * MIB):
        return ("the existing layout has no backup partition where the new layout puts one, so the "
                "existing installation cannot be backed up")
    return ""


@dataclass(frozen=True)
class Existing:
    """An installation found on a disk, and what can be done with it."""
    disk: str                   # kernel name
    product: str                # "" when not read
    version: str                # "" when not read
    upgrade_refused: str        # why it cannot be upgraded; "" when it can
    has_backup: bool            # a backup of an earlier installation is on the disk
    restore_refused: str        # why that backup cannot be restored; "" when it can

    @property
    def can_upgrade(self) -> bool:
        return not self.upgrade_refused

    @property
    def can_restore(self) -> bool:
        return not self.restore_refused


def existing(machine: Machine, product: Product) -> list[Existing]:
    """Every installation on the machine's disks, each with what can be done with it."""
    found = []
    for disk in machine.disks:
        if root(disk) is None:
            continue
        info = details(disk, machine)
        found.append(Existing(disk.name, info.product if info else "", info.version if info else "",
                              upgrade_refused(disk, machine, product), backup(disk) is not None,
                              restore_refused(disk, machine)))
    return found


def backup_disks(machine: Machine) -> list[Disk]:
    """Disks carrying a backup, restorable or not (a restore that names no disk needs exactly one)."""
    return [d for d in machine.disks if backup(d) is not None]


# -- the machine as a host: worth knowing, no obstacle ----------------------------------------------
def hardware_warnings(machine: Machine) -> list[str]:
    warnings = []
    if machine.memory_mib and machine.memory_mib < MIN_RAM_MIB:
        warnings.append(f"this machine has {machine.memory_mib} MiB of RAM; at least {MIN_RAM_MIB} MiB "
                        "is needed to run guests")
    if not machine.virtualization:
        warnings.append("the CPU shows no hardware virtualization (VT-x/AMD-V): only PV guests will run")
    elif machine.hap is False:
        # a feature of the CPU model (Intel EPT since Nehalem, AMD NPT since Barcelona, not on every
        # model since), which the firmware can hardly turn off; a hypervisor may hide it from its VMs
        vt, paging = {"vmx": ("VT-x", "EPT"), "svm": ("AMD-V", "NPT")}[machine.virtualization]
        warnings.append(f"the CPU has {vt} but no {paging} (hardware-assisted paging): HVM and PVH guests will "
                        f"not run (Debian's Xen has no shadow paging), only PV guests; {paging} comes with the "
                        "CPU model, firmware rarely has a switch for it; in a virtual machine, enable nested paging")
    return warnings


def boot_warnings(machine: Machine) -> list[str]:
    """The host boots with the firmware mode the installer was booted in."""
    if machine.boot_mode == "bios":
        return ["the installer was booted in legacy BIOS mode: the host will boot in BIOS mode too; "
                "boot the installer in UEFI mode for a UEFI host"]
    return []
