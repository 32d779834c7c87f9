"""The machine description: what the probe sees, as data. Recorded machines are JSON of this."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InstallerError

SCHEMA_VERSION = 1


@dataclass
class Partition:
    number: int
    start: int                      # bytes
    size: int                       # bytes
    type: str = ""                  # GPT type GUID or MBR type code
    name: str = ""                  # GPT partition name
    fstype: str = ""
    label: str = ""
    uuid: str = ""


@dataclass
class Disk:
    name: str                       # kernel name: sda, nvme0n1, md127
    size: int                       # bytes
    logical_sector_size: int = 512
    physical_sector_size: int = 512
    model: str = ""
    serial: str = ""
    by_id: list[str] = field(default_factory=list)   # names under /dev/disk/by-id
    removable: bool = False
    rotational: bool = False
    readonly: bool = False
    install_media: bool = False     # holds the installer we booted from
    in_use: list[str] = field(default_factory=list)  # why it is busy: "mounted at /x", "swap", ...
    table: str = ""                 # gpt | dos | "" (none)
    signatures: list[str] = field(default_factory=list)  # what blkid finds on the whole disk
    partitions: list[Partition] = field(default_factory=list)

    @property
    def path(self) -> str:
        return "/dev/" + self.name

    def partition(self, number: int) -> Partition | None:
        return next((p for p in self.partitions if p.number == number), None)

    def summary(self) -> str:
        model = f", {self.model}" if self.model else ""
        return f"{self.name} ({self.size / 2**30:.1f} GiB{model})"


@dataclass
class NIC:
    name: str
    mac: str
    driver: str = ""
    link: bool | None = None
    speed_mbps: int | None = None
    addresses: list[str] = field(default_factory=list)


@dataclass
class Installation:
    """What the probe read from an existing installation's root file system."""
    disk: str                       # kernel name of the disk holding it
    product: str = ""
    version: str = ""
    booted: bool = True             # its first boot ran to the end


@dataclass
class Machine:
    boot_mode: str = "bios"         # bios | uefi
    memory_mib: int = 0
    cpu_count: int = 1
    cpu_model: str = ""
    virtualization: str = ""        # vmx | svm | "" (none)
    disks: list[Disk] = field(default_factory=list)
    nics: list[NIC] = field(default_factory=list)
    installations: list[Installation] = field(default_factory=list)
    schema: int = SCHEMA_VERSION

    def find_disk(self, path: str) -> Disk | None:
        """Resolve /dev/sda, /dev/disk/by-id/..., /dev/nvme0n1 to a disk of this machine."""
        if path.startswith("/dev/disk/by-id/"):
            ident = path[len("/dev/disk/by-id/"):]
            return next((d for d in self.disks if ident in d.by_id), None)
        name = path[len("/dev/"):] if path.startswith("/dev/") else path
        return next((d for d in self.disks if d.name == name), None)

    def find_nic(self, name: str | None = None, mac: str | None = None) -> NIC | None:
        for nic in self.nics:
            if (name and nic.name == name) or (mac and nic.mac.lower() == mac.lower()):
                return nic
        return None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"


def _build(cls, data: dict, where: str):
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise InstallerError(f"{where}: unknown field(s) {', '.join(sorted(unknown))} in "
                             f"{cls.__name__.lower()} description")
    try:
        return cls(**data)
    except TypeError as exc:
        raise InstallerError(f"{where}: bad {cls.__name__.lower()} description: {exc}") from None


def from_dict(data: dict, where: str = "<machine>") -> Machine:
    if not isinstance(data, dict):
        raise InstallerError(f"{where}: a machine description is a JSON object")
    data = dict(data)
    if data.get("schema", SCHEMA_VERSION) != SCHEMA_VERSION:
        raise InstallerError(f"{where}: machine description schema {data.get('schema')} is not "
                             f"supported (expected {SCHEMA_VERSION})")
    disks = []
    for i, d in enumerate(data.pop("disks", [])):
        d = dict(d)
        parts = [_build(Partition, p, f"{where}: disks[{i}]") for p in d.pop("partitions", [])]
        disks.append(_build(Disk, {**d, "partitions": parts}, f"{where}: disks[{i}]"))
    nics = [_build(NIC, n, f"{where}: nics[{i}]") for i, n in enumerate(data.pop("nics", []))]
    found = [_build(Installation, n, f"{where}: installations[{i}]")
             for i, n in enumerate(data.pop("installations", []))]
    return _build(Machine, {**data, "disks": disks, "nics": nics, "installations": found}, where)


def load(path: str | Path) -> Machine:
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise InstallerError(f"{path}: cannot read machine description: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InstallerError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    return from_dict(data, str(path))
