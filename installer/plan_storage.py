"""The planner's storage half: which disks the config names, and what a fresh install or a
reinstall writes on them (partitions, the RAID1 device, the local SR). Pure, like the planner."""
from __future__ import annotations

from dataclasses import dataclass, field

from . import eligibility, holdings, layout
from .config import DiskRef, InstallConfig, Mode
from .layout import GIB, MIB
from .machine import Disk, Machine
from .plantypes import DiskPlan, Ids, RaidPlan, SRPlan


@dataclass
class Target:
    """Where the host's own partitions go: a disk, or the RAID1 device over its members."""
    path: str
    size: int
    sector: int                                             # logical sector size, bytes
    members: list[DiskPlan] = field(default_factory=list)   # RAID members, used whole


class StoragePlanner:
    """Resolves the disks the config names and lays them out, collecting every problem (the plan
    is refused) and warning (the plan goes ahead) instead of stopping at the first."""

    def __init__(self, cfg: InstallConfig, machine: Machine, ids: Ids):
        self.cfg, self.machine, self.ids = cfg, machine, ids
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.used: dict[str, str] = {}     # kernel name -> role, to catch a disk used twice
        self.sr_on_primary = False         # the primary disk was also named as a guest disk

    # -- which disk -----------------------------------------------------------------------------
    def disk_list(self) -> str:
        return ", ".join(d.summary() for d in self.machine.disks) or "none"

    def resolve(self, ref: DiskRef, role: str) -> Disk | None:
        if ref.path:
            disk = self.machine.find_disk(ref.path)
            if disk is None:
                self.problems.append(f"{role} {ref.path} does not exist on this machine; disks "
                                     f"present: {self.disk_list()}")
                return None
        else:
            m = ref.match
            found = [d for d in self.machine.disks
                     if (not m.serial or d.serial == m.serial) and (not m.model or d.model == m.model)
                     and (not m.min_size or d.size >= m.min_size) and (not m.max_size or d.size <= m.max_size)]
            if len(found) != 1:
                what = "no disk matches" if not found else \
                    f"{len(found)} disks ({', '.join(d.name for d in found)}) match"
                crit = ref.describe().removeprefix("disk matching ")
                self.problems.append(f"{role}: {what} {crit}; exactly one must match; "
                                     f"disks present: {self.disk_list()}")
                return None
            disk = found[0]
        if disk.name in self.used:
            if role == "guest disk" and self.used[disk.name] in ("primary disk", "guest disk"):
                return self.merged_guest(ref, disk)
            self.problems.append(f"{role} {disk.path} is already used as {self.used[disk.name]}")
            return None
        self.used[disk.name] = role
        if disk.install_media:
            self.problems.append(f"{role} {disk.path} holds the installer media; choose another disk")
        for reason in disk.in_use:
            self.problems.append(f"{role} {disk.path} is in use: {reason}")
        if disk.readonly:
            self.problems.append(f"{role} {disk.path} is read-only")
        return disk

    def merged_guest(self, ref: DiskRef, disk: Disk) -> None:
        """XCP-ng reads the primary disk and the guest disks as one set: a second reference to a
        disk adds nothing, except that the primary disk named as a guest disk carries the SR."""
        if self.used[disk.name] == "guest disk":
            self.warnings.append(f"guest disk {ref.describe()} is {disk.path}, already a guest disk; "
                                 "it is used once, as in XCP-ng")
        else:
            override = "" if self.cfg.primary_disk.guest_storage else ", overriding guest-storage=\"no\""
            self.warnings.append(f"guest disk {ref.describe()} is the primary disk {disk.path}: as in "
                                 f"XCP-ng, this puts the local SR on the primary disk{override}")
            self.sr_on_primary = True
        return None

    # -- what is written on them ----------------------------------------------------------------
    def storage(self) -> tuple[list[DiskPlan], RaidPlan | None, SRPlan | None]:
        """Every disk a fresh install or a reinstall writes (RAID members, primary, guests), the
        RAID1 device and the local SR; ([], None, None) when the primary disk cannot be used."""
        target = self.primary_target()
        if target is None or not self.usable(target):
            return [], None, None
        guest_disks = [d for d in (self.resolve(ref, "guest disk") for ref in self.cfg.guest_disks) if d]
        # resolved first: naming the primary disk as a guest disk puts the SR on it
        guest_storage = self.cfg.primary_disk.guest_storage or self.sr_on_primary
        primary = self.primary_plan(target, guest_storage)
        if primary is None:
            return [], None, None
        guests = self.guest_plans(guest_disks)
        if self.cfg.mode == Mode.REINSTALL:
            self.reinstall_backup(primary)
        disks = target.members + [primary] + guests
        for dp in disks:
            self.existing_data(dp)
        return disks, self.raid_plan(target), self.sr_plan(primary if guest_storage else None, guests)

    def primary_target(self) -> Target | None:
        """The install target (a disk or a RAID1 device); None when a disk is missing (said)."""
        cfg = self.cfg
        if cfg.raid:
            members = [d for d in (self.resolve(r, "RAID member") for r in cfg.raid.members) if d]
            if len(members) != len(cfg.raid.members):
                return None
            # metadata 1.0 lives at the end of each member; leave it 1 MiB
            size = (min(d.size for d in members) // MIB - 1) * MIB
            if len({d.logical_sector_size for d in members}) > 1:
                self.problems.append("RAID members have different logical sector sizes: "
                                     + ", ".join(f"{d.name}={d.logical_sector_size}" for d in members))
            return Target(cfg.raid.device, size, max(d.logical_sector_size for d in members),
                          [DiskPlan(d.path, "raid-member", d.size, table="") for d in members])
        disk = self.resolve(cfg.primary_disk.disk, "primary disk")
        if disk is None:
            return None
        return Target(disk.path, disk.size, disk.logical_sector_size)

    def usable(self, target: Target) -> bool:
        """Big enough for the host (a 0-byte disk or a RAID of tiny members is refused here);
        a warning for large sectors that BIOS firmware rarely boots from."""
        if target.size < layout.MIN_PRIMARY_DISK:
            self.problems.append(f"primary disk {target.path} is {target.size / GIB:.1f} GiB; at least "
                                 f"{layout.MIN_PRIMARY_DISK // GIB} GiB is needed (the host's own "
                                 f"partitions take {layout.fixed_mib() / 1024:.1f} GiB)")
            return False
        if target.sector != 512 and self.machine.boot_mode == "bios":
            self.warnings.append(f"{target.path} has {target.sector}-byte sectors: most BIOS firmware "
                                 "cannot boot from such a disk; UEFI is recommended")
        return True

    def primary_plan(self, target: Target, guest_storage: bool) -> DiskPlan | None:
        """The host's partitions on the target, after a preserved first partition if any."""
        pd = self.cfg.primary_disk
        shift, first = self.preserved_first(target.path)
        try:
            parts = layout.primary_layout(target.size, self.machine.boot_mode, self.ids.suffix,
                                          guest_storage, pd.sr_at_end, first, shift)
        except ValueError:
            self.problems.append(f"primary disk {target.path}: the host's partitions "
                                 f"({layout.fixed_mib() / 1024:.1f} GiB and the local SR) do not fit "
                                 f"after the preserved first partition, which ends at {first} MiB")
            return None
        return DiskPlan(target.path, "primary", target.size, partitions=parts, keep=[1] if shift else [])

    def preserved_first(self, path: str) -> tuple[int, int]:
        """(number shift, first free MiB) when an existing first partition must be kept."""
        want = self.cfg.primary_disk.preserve_first_partition
        disk = self.machine.find_disk(path)
        first = disk.partition(1) if disk else None
        if want == "false" or first is None:
            if want == "true":
                self.problems.append(f"preserve-first-partition=\"true\" but {path} has no first partition")
            return 0, 1
        utility = first.type.lower() in ("de", "0xde") or first.label.lower().startswith("dellutility")
        if want == "if-utility" and not utility:
            return 0, 1
        return 1, -(-(first.start + first.size) // MIB)

    def guest_plans(self, disks: list[Disk]) -> list[DiskPlan]:
        """One SR partition on each guest disk big enough to carry one."""
        plans = []
        for disk in disks:
            if disk.size < layout.MIN_GUEST_DISK:
                self.problems.append(f"guest disk {disk.path} is {disk.size / 2**20:.0f} MiB; at least "
                                     f"{layout.MIN_GUEST_DISK // 2**20} MiB is needed")
            else:
                plans.append(DiskPlan(disk.path, "guest", disk.size, partitions=layout.guest_layout(disk.size)))
        return plans

    def raid_plan(self, target: Target) -> RaidPlan | None:
        if not self.cfg.raid:
            return None
        return RaidPlan(device=target.path, level=1, metadata="1.0",
                        members=[m.path for m in target.members], size=target.size)

    def sr_plan(self, primary: DiskPlan | None, guests: list[DiskPlan]) -> SRPlan | None:
        """The local SR over the primary disk's SR partition (if it carries one) and the guest disks."""
        devices = ([primary.part_path("sr")] if primary else []) + [g.part_path("guest-sr") for g in guests]
        if not devices:
            return None
        return SRPlan(self.cfg.sr_type.value, self.ids.sr_uuid, f"VG_XenStorage-{self.ids.sr_uuid}", devices)

    def reinstall_backup(self, primary: DiskPlan) -> None:
        disk = self.machine.find_disk(primary.path)
        if disk is None or eligibility.root(disk) is None:
            self.warnings.append(f"mode=\"reinstall\": no existing installation on {primary.path}; "
                                 "nothing to back up, this is a fresh install")
            return
        if refused := eligibility.reinstall_refused(disk, primary.part("backup")):
            self.problems.append(f"mode=\"reinstall\": {primary.path}: {refused}; use mode=\"fresh\" "
                                 "to discard it")
            return
        primary.keep.append(2)

    def existing_data(self, dp: DiskPlan) -> None:
        """Name what an erased disk holds today (plan, console, log); refuse it if asked to."""
        disk = self.machine.find_disk(dp.path)
        if disk is None:
            return
        found = holdings.holdings(disk, self.machine)
        if self.cfg.mode == Mode.REINSTALL and 2 in dp.keep:
            # the installation survives as the new backup, which replaces the old one
            lost = [h for h in found if h.kind != "installation"]
        else:
            lost = [h for h in found if h.partition not in dp.keep]
        if not holdings.holds_data(lost):
            return
        dp.holds = [h.text for h in lost]
        role = {"primary": "primary disk", "guest": "guest disk", "raid-member": "RAID member"}[dp.role]
        if self.cfg.existing_data == "refuse":
            self.problems.append(f"{role} {dp.path} holds data and existing data is protected "
                                 f"(existing-data=\"refuse\" or existing_data=refuse at boot): "
                                 f"{holdings.describe(lost)}; nothing was touched. Choose an empty disk, "
                                 "clear this one first, or allow erasing it")
        else:
            self.warnings.append(f"{role} {dp.path} will be ERASED, destroying {holdings.describe(lost)}")
