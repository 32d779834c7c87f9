"""The machine description: what the probe sees, as data. Recorded machines are JSON of this."""
from __future__ import annotations

import dataclasses
import json
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InstallerError

SCHEMA_VERSION = 1
# hardware-assisted paging (HAP) for each kind of hardware virtualization: its /proc/cpuinfo flag;
# HVM and PVH guests need it, as Debian's Xen is built without shadow paging
HAP_FLAGS = {"vmx": "ept", "svm": "npt"}


def gib(nbytes: int) -> str:
    """A size as every message shows it: 1 decimal, GiB."""
    return f"{nbytes / 2**30:.1f} GiB"

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
    vg: str = ""                    # LVM physical volume: its volume group, from the LVM metadata
    lv_count: int = 0               # logical volumes in that volume group


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
    label: str = ""                 # label of a file system on the whole disk
    vg: str = ""                    # whole-disk LVM physical volume: its volume group
    lv_count: int = 0
    partitions: list[Partition] = field(default_factory=list)

    @property
    def path(self) -> str:
        return "/dev/" + self.name

    def partition(self, number: int) -> Partition | None:
        return next((p for p in self.partitions if p.number == number), None)

    def summary(self) -> str:
        model = f", {self.model}" if self.model else ""
        return f"{self.name} ({gib(self.size)}{model})"


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
    # the CPU has hardware-assisted paging for virtualization (HAP_FLAGS: EPT, NPT): True, False,
    # None (not known: no virtualization, or a description recorded before it was probed)
    hap: bool | None = None
    # the firmware enforces Secure Boot (installer/secureboot.py): True, False (off, Setup Mode, BIOS
    # boot), None (not known: a description recorded before it was probed, or efivarfs unreadable)
    secure_boot: bool | None = None
    secure_boot_setup_mode: bool = False    # no platform key enrolled: Secure Boot enforces nothing
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

    def virtualization_shown(self) -> str:
        """VT-x/AMD-V and its paging in a word or three: "vmx with ept", "svm without npt", "none"."""
        if not self.virtualization:
            return "none"
        if self.hap is None:
            return self.virtualization
        return f"{self.virtualization} {'with' if self.hap else 'without'} {HAP_FLAGS[self.virtualization]}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"


# Checking a description: every field's JSON type comes from the dataclass annotations; values the
# planner relies on are checked here too, so a bad file is one clear error naming the field.
MAX_INT = 2 ** 63 - 1     # sizes are u64 in the kernel; beyond this arithmetic meets floats
MAX_FILE = 16 << 20


def _shown(value) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _expected(hint) -> str:
    args = typing.get_args(hint)
    if type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        return ("true, false" if inner is bool else _expected(inner)) + " or null"
    if typing.get_origin(hint) in (list, dict):
        return {list: "a list", dict: "an object"}[typing.get_origin(hint)]
    if dataclasses.is_dataclass(hint):
        return f"an object (a {hint.__name__.lower()} description)"
    return {int: "an integer", str: "a string", bool: "true or false", float: "a number"}[hint]


_SCALARS = {int: lambda v: isinstance(v, int) and not isinstance(v, bool), str: lambda v: isinstance(v, str),
            bool: lambda v: isinstance(v, bool),
            float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}


def _value(value, hint, path: str):
    """value checked against hint (a JSON scalar type, list or dict of one, optional, or a
    description's dataclass); raises _Bad naming path."""
    args, declared = typing.get_args(hint), hint
    if type(None) in args:
        if value is None:
            return None
        (hint,) = [a for a in args if a is not type(None)]
    if typing.get_origin(hint) is list:
        if isinstance(value, list):
            (item,) = typing.get_args(hint)
            return [_value(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
    elif typing.get_origin(hint) is dict:
        if isinstance(value, dict):
            item = typing.get_args(hint)[1]
            return {k: _value(v, item, f"{path}.{k}") for k, v in value.items()}
    elif dataclasses.is_dataclass(hint):
        if isinstance(value, dict):
            return _build(hint, value, path)
    elif _SCALARS[hint](value):
        if hint is int and not -MAX_INT <= value <= MAX_INT:
            raise _Bad(path, f"{value} is out of range")
        return value
    raise _Bad(path, f"expected {_expected(declared)}, got {_shown(value)}")


class _Bad(Exception):
    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)


def _non_negative(v) -> str | None:
    return None if v is None or v >= 0 else f"must not be negative, got {v}"


def _sector(v) -> str | None:
    return None if v >= 512 and v & (v - 1) == 0 else f"expected a power of two of at least 512, got {v}"


def _one_of(*choices: str):
    return lambda v: None if v in choices else \
        f"expected one of {', '.join(json.dumps(c) for c in choices)}, got {_shown(v)}"


def _kernel_name(v: str) -> str | None:
    # it becomes /dev/<name>: nothing that walks out of /dev or is not a device name
    if not v or v in (".", "..") or "/" in v or any(c.isspace() or not c.isprintable() for c in v):
        return f"not a kernel device name: {_shown(v)}"
    return None


SANE = {
    Partition: {"number": _non_negative, "start": _non_negative, "size": _non_negative,
                "lv_count": _non_negative},
    Disk: {"name": _kernel_name, "size": _non_negative, "logical_sector_size": _sector,
           "physical_sector_size": _sector, "lv_count": _non_negative},
    NIC: {"name": lambda v: None if v else "must not be empty", "speed_mbps": _non_negative},
    Installation: {},
    Machine: {"boot_mode": _one_of("bios", "uefi"), "virtualization": _one_of("", "vmx", "svm"),
              "memory_mib": _non_negative, "cpu_count": lambda v: None if v >= 1 else f"must be at least 1, got {v}"},
}


def _build(cls, data: dict, path: str):
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    where = path + "." if path else ""
    for name in data:
        if name not in hints:
            raise _Bad(f"{where}{name}", f"unknown field in a {cls.__name__.lower()} description "
                                         f"(known: {', '.join(f.name for f in fields)})")
    values = {}
    for f in fields:
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise _Bad(f"{where}{f.name}", "missing (a required field)")
            continue
        values[f.name] = _value(data[f.name], hints[f.name], f"{where}{f.name}")
        check = SANE.get(cls, {}).get(f.name)
        problem = check(values[f.name]) if check else None
        if problem:
            raise _Bad(f"{where}{f.name}", problem)
    return cls(**values)


def _unique(items, attr: str, path: str) -> None:
    seen: dict = {}
    for i, item in enumerate(items):
        value = getattr(item, attr)
        if value in seen:
            raise _Bad(f"{path}[{i}].{attr}", f"{_shown(value)} is already the {attr} of {path}[{seen[value]}]")
        seen[value] = i


def from_dict(data: dict, where: str = "<machine>") -> Machine:
    if not isinstance(data, dict):
        raise InstallerError(f"{where}: a machine description is a JSON object, got {_shown(data)}")
    if data.get("schema", SCHEMA_VERSION) != SCHEMA_VERSION:
        raise InstallerError(f"{where}: machine description schema {_shown(data.get('schema'))} is not "
                             f"supported (expected {SCHEMA_VERSION})")
    try:
        machine = _build(Machine, data, "")
        _unique(machine.disks, "name", "disks")
        _unique(machine.nics, "name", "nics")
        for i, disk in enumerate(machine.disks):
            _unique(disk.partitions, "number", f"disks[{i}].partitions")
        _secure_boot(machine)
        if machine.hap and not machine.virtualization:
            raise _Bad("hap", 'true means the CPU has EPT or NPT for VT-x or AMD-V, and virtualization is ""')
        for i, found in enumerate(machine.installations):
            if machine.find_disk(found.disk) is None:
                raise _Bad(f"installations[{i}].disk", f"no disk named {_shown(found.disk)} in disks")
    except _Bad as exc:
        raise InstallerError(f"{where}: {exc}") from None
    return machine


def _secure_boot(machine: Machine) -> None:
    if machine.boot_mode == "bios" and (machine.secure_boot or machine.secure_boot_setup_mode):
        field = "secure_boot" if machine.secure_boot else "secure_boot_setup_mode"
        raise _Bad(field, 'Secure Boot exists only with UEFI boot, and boot_mode is "bios"')
    if machine.secure_boot and machine.secure_boot_setup_mode:
        raise _Bad("secure_boot", "true means the firmware enforces Secure Boot, which it does not in "
                                  "Setup Mode (secure_boot_setup_mode is true)")


def load(path: str | Path) -> Machine:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE + 1)
    except OSError as exc:
        raise InstallerError(f"{path}: cannot read machine description: {exc.strerror}") from None
    if len(raw) > MAX_FILE:
        raise InstallerError(f"{path}: a machine description is at most {MAX_FILE >> 20} MiB")
    try:
        data = json.loads(raw, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise InstallerError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except UnicodeDecodeError:
        raise InstallerError(f"{path}: invalid JSON: not UTF-8 text") from None
    except RecursionError:
        raise InstallerError(f"{path}: invalid JSON: nested too deeply") from None
    except ValueError as exc:   # a duplicate key, a number of thousands of digits
        raise InstallerError(f"{path}: invalid JSON: {exc}") from None
    return from_dict(data, str(path))


def _no_duplicates(pairs: list) -> dict:
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {json.dumps(key)} appears twice in one object")
        seen[key] = value
    return seen
