"""Planning: InstallConfig + Machine -> Plan. Pure: no I/O, no clock, no randomness (ids come in)."""
from __future__ import annotations

import dataclasses
import re

from . import eligibility, holdings, layout, secureboot
from .config import DiskRef, InstallConfig, Mode
from .errors import PlanError
from .hostconfig import render_files
from .machine import Disk, Machine
from .plan_storage import StoragePlanner
from .plantypes import FIXED_IDS, DiskPlan, Ids, ManagementPlan, Plan
from .product import DEFAULT as DEFAULT_PRODUCT, Product
from .steps import SEQUENCES, plan_steps


class _Planner(StoragePlanner):
    """The whole planner: storage (plan_storage), upgrade and restore, network, overall checks."""

    def __init__(self, cfg: InstallConfig, machine: Machine, ids: Ids, product: Product):
        super().__init__(cfg, machine, ids)
        self.product = product

    # -- upgrade / restore ---------------------------------------------------------------------
    def existing(self, ref: DiskRef | None, what: str) -> DiskPlan | None:
        """The disk an upgrade or a restore works on, if eligibility allows it (the wizard offers
        exactly the same choices, with the same reasons)."""
        if ref is None:
            candidates = eligibility.backup_disks(self.machine)
            if len(candidates) != 1:
                self.problems.append(f"restore: {len(candidates)} disks carry a backup "
                                     f"({', '.join(d.name for d in candidates) or 'none'}); name one "
                                     "with <backup-disk>")
                return None
            ref = DiskRef(path=candidates[0].path)
        reported = len(self.problems)
        disk = self.resolve(ref, what)
        if disk is None or len(self.problems) > reported:   # missing or busy: said already
            return None
        if self.cfg.mode == Mode.UPGRADE:
            refused, verb = eligibility.upgrade_refused(disk, self.machine, self.product), "upgraded"
        else:
            refused, verb = eligibility.restore_refused(disk, self.machine), "restored"
        if refused:
            self.problems.append(f"{what} {disk.path} cannot be {verb}: {refused}")
            return None
        suffix = eligibility.root(disk).label[len("root-"):]
        self.ids = dataclasses.replace(self.ids, suffix=suffix)
        self.replaced(disk)
        return DiskPlan(disk.path, "existing", disk.size, wipe=False, table="keep",
                        keep=[p.number for p in disk.partitions])

    def replaced(self, disk: Disk) -> None:
        """An upgrade or a restore formats one partition: say which, and what it holds today."""
        found = {h.partition: h.text for h in holdings.holdings(disk, self.machine) if h.partition in (1, 2)}
        if self.cfg.mode == Mode.RESTORE:
            self.warnings.append(f"restore: {disk.path} partition 1 is formatted and replaced by the "
                                 f"backup, destroying {found.get(1, 'the current installation')}")
        elif 2 in found:
            self.warnings.append(f"upgrade: {disk.path} partition 2 is formatted for the new backup, "
                                 f"destroying {found[2]}")

    # -- network ---------------------------------------------------------------------------------
    def management(self) -> ManagementPlan | None:
        iface = self.cfg.interface
        if iface is None:
            return None
        nic = self.machine.find_nic(iface.name, iface.mac)
        if nic is None:
            nics = ", ".join(f"{n.name} ({n.mac})" for n in self.machine.nics) or "none"
            want = iface.name or iface.mac
            self.problems.append(f"management interface {want} does not exist on this machine; "
                                 f"NICs present: {nics}")
            return None
        if iface.name and iface.mac and nic.mac != iface.mac:
            self.problems.append(f"management interface {iface.name} has MAC {nic.mac}, not {iface.mac}")
        names = sorted(n.name for n in self.machine.nics)
        m = re.match(r"^eth(\d+)$", nic.name)
        index = int(m.group(1)) if m else names.index(nic.name)
        if nic.link is False:
            self.warnings.append(f"management interface {nic.name} has no link")
        return ManagementPlan(nic.name, nic.mac, f"xenbr{index}", iface.vlan, iface.ipv4, iface.ipv6)

    def machine_checks(self) -> None:
        # Secure Boot first: a host that would not boot matters more than anything after it
        refused, warnings = secureboot.verdict(self.machine, self.cfg.secure_boot,
                                               "bootloader" in SEQUENCES[self.cfg.mode])
        if refused:
            self.problems.append(refused)
        self.warnings += warnings + eligibility.hardware_warnings(self.machine)

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
        disks, management = ([existing] if existing else []), None
    p.bootloader_checks(next((d for d in disks if d.role in ("primary", "existing")), None))
    if cfg.sources[1:]:
        p.problems.append("additional package sources (supplemental packs) are not supported yet: "
                          f"give one <source> (found {len(cfg.sources)}); nothing was touched")
    if p.problems:
        raise PlanError(p.problems)
    plan = Plan(mode=cfg.mode, boot_mode=machine.boot_mode, product=product,
                ids=p.ids, disks=disks, raid=raid, sr=sr,
                dom0_memory_mib=layout.dom0_memory_mib(machine.memory_mib),
                dom0_vcpus=layout.dom0_vcpus(machine.cpu_count),
                hostname=cfg.hostname or "localhost.localdomain", management=management,
                steps=[], at_exit=cfg.at_exit, warnings=p.warnings)
    if cfg.mode in (Mode.FRESH, Mode.REINSTALL):
        plan.files = render_files(cfg, plan)
    plan.steps = plan_steps(cfg, plan)
    return plan
