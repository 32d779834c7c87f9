"""Plain data types of a plan that the planner, the steps, the host file renderer and the front ends
all use (kept apart from the planner so none of them imports another to get them)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from . import layout
from .config import AtExit, IPv4Config, IPv6Config, Mode, to_plain
from .layout import PlannedPartition, partition_path
from .product import Product


@dataclass
class StepPlan:
    name: str
    title: str
    actions: list[str] = field(default_factory=list)


@dataclass
class FilePlan:
    """A file written on the host: its path there, its whole content and its mode."""
    path: str
    content: str
    mode: int = 0o644


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
class RaidPlan:
    """The software RAID1 the host is installed on (fields in the order plan --json shows them)."""
    device: str                       # /dev/md127
    level: int
    metadata: str                     # "1.0": at the end of each member, so firmware sees a plain disk
    members: list[str]
    size: int                         # bytes: the smallest member less 1 MiB for the metadata


@dataclass
class SRPlan:
    type: str
    uuid: str
    vg: str
    devices: list[str]


@dataclass
class ManagementPlan:
    """The NIC the host is managed through, its bridge and its addresses as configured."""
    nic: str
    mac: str
    bridge: str                       # xenbr<N>
    vlan: int | None
    ipv4: IPv4Config
    ipv6: IPv6Config

    @property
    def interface(self) -> str:
        """The interface that carries the address: the bridge, or its VLAN interface."""
        return f"{self.bridge}.{self.vlan}" if self.vlan else self.bridge


@dataclass
class Plan:
    mode: Mode
    boot_mode: str                    # bios | uefi, as the machine booted
    product: Product
    ids: Ids
    disks: list[DiskPlan]
    raid: RaidPlan | None
    sr: SRPlan | None
    dom0_memory_mib: int
    dom0_vcpus: int
    hostname: str
    management: ManagementPlan | None  # None: upgrade and restore keep the host's own
    steps: list[StepPlan]
    at_exit: AtExit = AtExit.REBOOT
    files: list[FilePlan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready (plan --json, the golden tests): enums as their values, no management as {}."""
        out = to_plain(self)
        out["management"] = out["management"] or {}
        return out

    def primary(self) -> DiskPlan | None:
        return next((d for d in self.disks if d.role in ("primary", "existing")), None)
