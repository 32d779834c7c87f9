"""Planning: InstallConfig + Machine -> Plan. Pure: no I/O, no clock, no randomness (ids come in)."""
from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import dataclass, field

from . import layout, offers
from .config import DiskRef, InstallConfig, Mode, _plain
from .errors import PlanError
from .layout import GIB, MIB, PlannedPartition, partition_path
from .machine import Disk, Machine
from .product import DEFAULT as DEFAULT_PRODUCT, Product



@dataclass(frozen=True)
class Ids:
    """Everything random about an install, chosen once outside the planner."""
    installation_uuid: str
    control_domain_uuid: str
    sr_uuid: str
    suffix: str           # file system label suffix: root-<suffix>
    date: str = "1970-01-01T00:00:00Z"

    @classmethod
    def new(cls, date: str) -> "Ids":
        u = uuid.uuid4()
        return cls(str(u), str(uuid.uuid4()), str(uuid.uuid4()), u.hex[:6], date)


FIXED_IDS = Ids("00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002",
                "00000000-0000-4000-8000-000000000003", "abcdef", "2026-01-01T00:00:00Z")


@dataclass
class DiskPlan:
    path: str
    role: str                         # primary | guest | raid-member | existing
    size: int
    wipe: bool = True
    table: str = "gpt"                # gpt | "" (whole-disk RAID member) | keep
    partitions: list[PlannedPartition] = field(default_factory=list)
    keep: list[int] = field(default_factory=list)   # partition numbers preserved as they are
    holds: list[str] = field(default_factory=list)  # what the disk holds today and this install destroys

    def part(self, role: str) -> PlannedPartition | None:
        return next((p for p in self.partitions if p.role == role), None)

    def part_path(self, role: str) -> str:
        """A partition's device by role: the planned one, or XCP-ng's number on a kept layout."""
        p = self.part(role)
        if p:
            return partition_path(self.path, p.number)
        if not self.partitions and role in layout.NUMBERS:
            return partition_path(self.path, layout.NUMBERS[role])
        return ""


@dataclass
class SRPlan:
    type: str
    uuid: str
    vg: str
    devices: list[str]


@dataclass
class StepPlan:
    name: str
    title: str
    actions: list[str] = field(default_factory=list)


@dataclass
class FilePlan:
    path: str
    content: str
    mode: int = 0o644


@dataclass
class Plan:
    mode: str
    boot_mode: str
    product: dict
    ids: dict
    disks: list[DiskPlan]
    raid: dict | None
    sr: SRPlan | None
    dom0_memory_mib: int
    dom0_vcpus: int
    hostname: str
    management: dict
    steps: list[StepPlan]
    at_exit: str = "reboot"
    files: list[FilePlan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def primary(self) -> DiskPlan | None:
        return next((d for d in self.disks if d.role in ("primary", "existing")), None)


class _Planner:
    def __init__(self, cfg: InstallConfig, machine: Machine, ids: Ids, product: Product):
        self.cfg, self.machine, self.ids, self.product = cfg, machine, ids, product
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.used: dict[str, str] = {}     # kernel name -> role, to catch a disk used twice
        self.sr_on_primary = False         # the primary disk was also named as a guest disk

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

    # -- storage ----------------------------------------------------------------------------
    def primary_target(self) -> tuple[str, int, int, list[DiskPlan]]:
        """Path, size and sector size of the install target (a disk or a RAID1 device)."""
        cfg = self.cfg
        if cfg.raid:
            members = [d for d in (self.resolve(r, "RAID member") for r in cfg.raid.members) if d]
            if len(members) != len(cfg.raid.members):
                return "", 0, 512, []   # the missing member is reported already
            # metadata 1.0 lives at the end of each member; leave it 1 MiB
            size = (min(d.size for d in members) // MIB - 1) * MIB
            sector = max(d.logical_sector_size for d in members)
            if len({d.logical_sector_size for d in members}) > 1:
                self.problems.append("RAID members have different logical sector sizes: "
                                     + ", ".join(f"{d.name}={d.logical_sector_size}" for d in members))
            plans = [DiskPlan(d.path, "raid-member", d.size, table="") for d in members]
            return cfg.raid.device, size, sector, plans
        disk = self.resolve(cfg.primary_disk.disk, "primary disk")
        if disk is None:
            return "", 0, 512, []
        return disk.path, disk.size, disk.logical_sector_size, []

    def storage(self) -> tuple[list[DiskPlan], dict | None, SRPlan | None]:
        cfg = self.cfg
        path, size, sector, member_plans = self.primary_target()
        if not path:   # a 0-byte disk (or RAID of tiny members) is refused as too small below
            return [], None, None
        if size < layout.MIN_PRIMARY_DISK:
            self.problems.append(f"primary disk {path} is {size / GIB:.1f} GiB; at least "
                                 f"{layout.MIN_PRIMARY_DISK // GIB} GiB is needed (the host's own "
                                 f"partitions take {layout.fixed_mib() / 1024:.1f} GiB)")
            return [], None, None
        if sector != 512 and self.machine.boot_mode == "bios":
            self.warnings.append(f"{path} has {sector}-byte sectors: most BIOS firmware cannot boot "
                                 "from such a disk; UEFI is recommended")
        pd = cfg.primary_disk
        guest_disks = [d for d in (self.resolve(ref, "guest disk") for ref in cfg.guest_disks) if d]
        guest_storage = pd.guest_storage or self.sr_on_primary
        shift, first = self.preserved_first(path)
        try:
            parts = layout.primary_layout(size, self.machine.boot_mode, self.ids.suffix,
                                          guest_storage, pd.sr_at_end, first, shift)
        except ValueError:
            self.problems.append(f"primary disk {path}: the host's partitions "
                                 f"({layout.fixed_mib() / 1024:.1f} GiB and the local SR) do not fit "
                                 f"after the preserved first partition, which ends at {first} MiB")
            return [], None, None
        primary = DiskPlan(path, "primary", size, partitions=parts, keep=[1] if shift else [])
        guests = []
        for disk in guest_disks:
            if disk.size < layout.MIN_GUEST_DISK:
                self.problems.append(f"guest disk {disk.path} is {disk.size / 2**20:.0f} MiB; at least "
                                     f"{layout.MIN_GUEST_DISK // 2**20} MiB is needed")
            else:
                guests.append(DiskPlan(disk.path, "guest", disk.size, partitions=layout.guest_layout(disk.size)))
        if cfg.mode == Mode.REINSTALL:
            self.reinstall_backup(primary)
        raid = None
        if cfg.raid:
            raid = {"device": cfg.raid.device, "level": 1, "metadata": "1.0",
                    "members": [m.path for m in member_plans], "size": size}
        sr = None
        devices = ([primary.part_path("sr")] if guest_storage else []) + [g.part_path("guest-sr") for g in guests]
        if devices:
            sr = SRPlan(cfg.sr_type.value, self.ids.sr_uuid, f"VG_XenStorage-{self.ids.sr_uuid}", devices)
        disks = member_plans + [primary] + guests
        for dp in disks:
            self.existing_data(dp)
        return disks, raid, sr

    def existing_data(self, dp: DiskPlan) -> None:
        """Name what an erased disk holds today (plan, console, log); refuse it if asked to."""
        disk = self.machine.find_disk(dp.path)
        if disk is None:
            return
        found = offers.holdings(disk, self.machine)
        if self.cfg.mode == Mode.REINSTALL and 2 in dp.keep:
            # the installation survives as the new backup, which replaces the old one
            lost = [h for h in found if h.kind != "installation"]
        else:
            lost = [h for h in found if h.partition not in dp.keep]
        if not offers.holds_data(lost):
            return
        dp.holds = [h.text for h in lost]
        role = {"primary": "primary disk", "guest": "guest disk", "raid-member": "RAID member"}[dp.role]
        if self.cfg.existing_data == "refuse":
            self.problems.append(f"{role} {dp.path} holds data and existing data is protected "
                                 f"(existing-data=\"refuse\" or existing_data=refuse at boot): "
                                 f"{offers.describe(lost)}; nothing was touched. Choose an empty disk, "
                                 "clear this one first, or allow erasing it")
        else:
            self.warnings.append(f"{role} {dp.path} will be ERASED, destroying {offers.describe(lost)}")

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

    def reinstall_backup(self, primary: DiskPlan) -> None:
        disk = self.machine.find_disk(primary.path)
        root = disk.partition(1) if disk else None
        if root is None or not root.label.startswith("root-"):
            self.warnings.append(f"mode=\"reinstall\": no existing installation on {primary.path}; "
                                 "nothing to back up, this is a fresh install")
            return
        old, new = disk.partition(2), primary.part("backup")
        if old is None or new is None or (old.start, old.size) != (new.start_mib * MIB, new.size_mib * MIB):
            self.problems.append(f"mode=\"reinstall\": the existing layout of {primary.path} has no "
                                 "backup partition where the new layout puts one, so the existing "
                                 "installation cannot be backed up; use mode=\"fresh\" to discard it")
            return
        primary.keep.append(2)

    # -- upgrade / restore ---------------------------------------------------------------------
    def existing(self, ref: DiskRef | None, what: str) -> DiskPlan | None:
        if ref is None:
            candidates = [d for d in self.machine.disks if self.has_backup(d)]
            if len(candidates) != 1:
                self.problems.append(f"restore: {len(candidates)} disks carry a backup "
                                     f"({', '.join(d.name for d in candidates) or 'none'}); name one "
                                     "with <backup-disk>")
                return None
            ref = DiskRef(path=candidates[0].path)
        disk = self.resolve(ref, what)
        if disk is None:
            return None
        root = disk.partition(1)
        if root is None or root.fstype != "ext4" or not root.label.startswith("root-"):
            found = f"{root.fstype or 'no file system'} labelled {root.label or '(none)'}" if root else "no partition 1"
            self.problems.append(f"{what} {disk.path}: no installation found (partition 1 must be an "
                                 f"ext4 file system labelled root-*; found {found})")
            return None
        if disk.partition(2) is None:
            self.problems.append(f"{what} {disk.path}: no backup partition (2)")
            return None
        esp = any(p.type.upper() == layout.GUID["esp"] for p in disk.partitions)
        if (self.machine.boot_mode == "uefi") != esp:
            installed = "UEFI" if esp else "BIOS"
            self.problems.append(f"{what} {disk.path} was installed for {installed} boot but this "
                                 f"machine booted in {self.machine.boot_mode.upper()} mode; boot the "
                                 f"installer in {installed} mode")
        suffix = root.label[len("root-"):]
        self.ids = dataclasses.replace(self.ids, suffix=suffix)
        self.replaced(disk)
        return DiskPlan(disk.path, "existing", disk.size, wipe=False, table="keep",
                        keep=[p.number for p in disk.partitions])

    def replaced(self, disk: Disk) -> None:
        """An upgrade or a restore formats one partition: say which, and what it holds today."""
        found = {h.partition: h.text for h in offers.holdings(disk, self.machine) if h.partition in (1, 2)}
        if self.cfg.mode == Mode.RESTORE:
            self.warnings.append(f"restore: {disk.path} partition 1 is formatted and replaced by the "
                                 f"backup, destroying {found.get(1, 'the current installation')}")
        elif 2 in found:
            self.warnings.append(f"upgrade: {disk.path} partition 2 is formatted for the new backup, "
                                 f"destroying {found[2]}")

    @staticmethod
    def has_backup(disk: Disk) -> bool:
        backup = disk.partition(2)
        return bool(backup and backup.fstype == "ext4" and disk.partition(1)
                    and disk.partition(1).label.startswith("root-"))

    # -- network ---------------------------------------------------------------------------------
    def management(self) -> dict:
        iface = self.cfg.interface
        if iface is None:
            return {}
        nic = self.machine.find_nic(iface.name, iface.mac)
        if nic is None:
            nics = ", ".join(f"{n.name} ({n.mac})" for n in self.machine.nics) or "none"
            want = iface.name or iface.mac
            self.problems.append(f"management interface {want} does not exist on this machine; "
                                 f"NICs present: {nics}")
            return {}
        if iface.name and iface.mac and nic.mac != iface.mac:
            self.problems.append(f"management interface {iface.name} has MAC {nic.mac}, not {iface.mac}")
        names = sorted(n.name for n in self.machine.nics)
        m = re.match(r"^eth(\d+)$", nic.name)
        index = int(m.group(1)) if m else names.index(nic.name)
        if nic.link is False:
            self.warnings.append(f"management interface {nic.name} has no link")
        return {"nic": nic.name, "mac": nic.mac, "bridge": f"xenbr{index}", "vlan": iface.vlan,
                "ipv4": _plain(iface.ipv4), "ipv6": _plain(iface.ipv6)}

    def machine_checks(self) -> None:
        self.warnings += offers.hardware_warnings(self.machine)

    def bootloader_checks(self, primary: DiskPlan | None) -> None:
        if self.cfg.bootloader.location != "partition" or primary is None or self.cfg.mode == Mode.RESTORE:
            return
        if self.machine.boot_mode == "uefi":
            self.warnings.append('<bootloader location="partition"> has no effect on UEFI: GRUB goes '
                                 "into the EFI system partition whatever the location")
        else:
            self.warnings.append(f'<bootloader location="partition">: GRUB\'s boot code goes into the '
                                 f"first sector of the root partition {primary.part_path('root')}, and "
                                 f"the boot code in the MBR of {primary.path} is left as it is: the host "
                                 "boots only if another boot loader chainloads that partition")


def source_warnings(cfg: InstallConfig) -> list[str]:
    """A signature check turned off (or an ignored source) is never silent: plan warnings become
    warning events, which the console and the log show."""
    out = []
    src = cfg.sources[0] if cfg.sources else None
    if not (cfg.repo_gpgcheck if src is None or src.repo_gpgcheck is None else src.repo_gpgcheck):
        out.append("signature check OFF (repo-gpgcheck=\"false\" or no-repo-gpgcheck): the product "
                   "tree's manifest is not verified against the product key, so a tampered tree "
                   "would be installed")
    if not cfg.gpgcheck or any(s.gpgcheck is False for s in cfg.sources):
        out.append("gpgcheck=\"false\" (or no-gpgcheck) has no effect: Debian packages carry no "
                   "signatures of their own; each one is checked against the package pool's signed "
                   "index, which stays checked")
    for d in cfg.driver_sources:
        out.append(f"<driver-source> {d.location or d.type} is ignored: driver disks are not "
                   "supported; nothing from it is loaded or installed")
    return out


def make_plan(cfg: InstallConfig, machine: Machine, ids: Ids = FIXED_IDS,
              product: Product = DEFAULT_PRODUCT) -> Plan:
    """Compute the whole plan or raise PlanError listing every problem."""
    from .hostconfig import render_files
    from .steps import plan_steps

    p = _Planner(cfg, machine, ids, product)
    p.machine_checks()
    p.warnings += source_warnings(cfg)
    raid = sr = None
    if cfg.mode in (Mode.FRESH, Mode.REINSTALL):
        disks, raid, sr = p.storage()
        management = p.management()
    else:
        ref = cfg.existing_installation if cfg.mode == Mode.UPGRADE else cfg.backup_disk
        what = "existing installation" if cfg.mode == Mode.UPGRADE else "backup disk"
        existing = p.existing(ref, what)
        disks, management = ([existing] if existing else []), {}
    p.bootloader_checks(next((d for d in disks if d.role in ("primary", "existing")), None))
    if cfg.sources[1:]:
        p.problems.append("additional package sources (supplemental packs) are not supported yet: "
                          f"give one <source> (found {len(cfg.sources)}); nothing was touched")
    if p.problems:
        raise PlanError(p.problems)
    plan = Plan(mode=cfg.mode.value, boot_mode=machine.boot_mode, product=dataclasses.asdict(product),
                ids=dataclasses.asdict(p.ids), disks=disks, raid=raid, sr=sr,
                dom0_memory_mib=layout.dom0_memory_mib(machine.memory_mib),
                dom0_vcpus=layout.dom0_vcpus(machine.cpu_count),
                hostname=cfg.hostname or "localhost.localdomain", management=management,
                steps=[], at_exit=cfg.at_exit.value, warnings=p.warnings)
    if cfg.mode in (Mode.FRESH, Mode.REINSTALL):
        plan.files = render_files(cfg, plan)
    plan.steps = plan_steps(cfg, plan)
    return plan
