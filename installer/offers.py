"""What a machine offers the wizard's disk screens: usable primary and guest disks (and why the
others are greyed), RAID partners, and what stops an install before the first question (no disk
can hold the host, no network interface). Pure functions of a Machine; what can be done with
existing installations is eligibility's, what disks hold is holdings', both shared with the planner.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import eligibility, layout
from .machine import Disk, Machine, gib
from .product import Product


@dataclass
class DiskOffer:
    disk: Disk
    usable: bool
    reason: str = ""        # why not usable, shown beside the greyed-out disk

    @property
    def name(self) -> str:
        return self.disk.name


def size_text(size: int) -> str:
    if size >= 2**40:
        return f"{size / 2**40:.1f} TiB"
    return gib(size) if size >= 2**30 else f"{size / 2**20:.1f} MiB"


def _blocker(disk: Disk, minimum: int) -> str:
    if busy := eligibility.blocker(disk):
        return busy
    if disk.size < minimum:
        return f"too small: {size_text(disk.size)}, at least {size_text(minimum)} needed"
    return ""


def primary_disks(machine: Machine) -> list[DiskOffer]:
    return [DiskOffer(d, not r, r) for d in machine.disks for r in [_blocker(d, layout.MIN_PRIMARY_DISK)]]


def guest_disks(machine: Machine, taken: set[str]) -> list[DiskOffer]:
    """Every disk but those already used (primary disk, RAID members)."""
    return [DiskOffer(d, not r, r) for d in machine.disks if d.name not in taken
            for r in [_blocker(d, layout.MIN_GUEST_DISK)]]


def raid_partners(machine: Machine, primary: str) -> list[Disk]:
    """Disks that can mirror the primary disk (RAID1): big enough, same logical sector size."""
    first = next((d for d in machine.disks if d.name == primary), None)
    if first is None:
        return []
    return [o.disk for o in primary_disks(machine) if o.usable and o.name != primary
            and o.disk.logical_sector_size == first.logical_sector_size]


def fresh_refused(machine: Machine) -> str:
    """Why no clean install is possible ("" when one is): each disk with why it cannot hold the host."""
    offers = primary_disks(machine)
    if not offers:
        return "no disk was found"
    if any(o.usable for o in offers):
        return ""
    return "no disk can hold the host: " + "; ".join(f"{o.name}: {o.reason}" for o in offers)


def blockers(machine: Machine, product: Product) -> list[str]:
    """Why the wizard cannot go past Welcome, in words ([] when it can): no disk, no disk that can
    hold the host (each with its reason) while nothing can be upgraded or restored, no NIC."""
    found = []
    kept = any(e.can_upgrade or (e.has_backup and e.can_restore) for e in eligibility.existing(machine, product))
    if not machine.disks:
        found.append("No disk was found. Check that the disk controller is enabled in the firmware "
                     "and supported by this installer.")
    elif (refused := fresh_refused(machine)) and not kept:
        found.append(refused[0].upper() + refused[1:] + ".")
    if not machine.nics:
        found.append("No network interface was found. A host needs one for its management network.")
    return found
