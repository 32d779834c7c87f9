"""The host disk layout (XCP-ng compatible GPT numbering, on-disk order and sizes), as pure arithmetic."""
from __future__ import annotations

from dataclasses import dataclass

MIB = 2**20
GIB = 2**30
MIN_PRIMARY_DISK = 46 * GIB   # XCP-ng's minimum; the fixed partitions alone take 41.5 GiB
MIN_GUEST_DISK = 4 * MIB      # 1 MiB for the GPT, 1 MiB kept at the end, room for an LVM PV

SIZES_MIB = {"logs": 4096, "backup": 18432, "root": 18432, "boot": 512, "swap": 1024}
NUMBERS = {"root": 1, "backup": 2, "sr": 3, "boot": 4, "logs": 5, "swap": 6}
ORDER = ("logs", "backup", "root", "boot", "swap", "sr")
# sr-at-end="no": XCP-ng keeps this only to test out-of-order layouts; SR right after logs.
ORDER_SR_EARLY = ("logs", "sr", "backup", "root", "boot", "swap")

GUID = {
    "linux": "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
    "esp": "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
    "bios": "21686148-6449-6E6F-744E-656564454649",
    "swap": "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F",
    "lvm": "E6D6D379-F507-44C2-A23C-238F2A3DF928",
}


@dataclass
class PlannedPartition:
    number: int
    role: str            # root | backup | sr | boot | logs | swap | guest-sr
    name: str            # GPT partition name
    start_mib: int
    size_mib: int
    type_guid: str
    fstype: str = ""     # ext4 | vfat | swap | lvm-pv | "" (left empty)
    label: str = ""
    mountpoint: str = ""

    @property
    def end_mib(self) -> int:
        return self.start_mib + self.size_mib


def partition_path(disk_path: str, number: int) -> str:
    """sda -> sda1; nvme0n1, md127, loop0 -> nvme0n1p1 (kernel naming)."""
    return f"{disk_path}{'p' if disk_path[-1].isdigit() else ''}{number}"


def usable_end_mib(disk_bytes: int) -> int:
    return disk_bytes // MIB - 1   # the last MiB holds the backup GPT


def fixed_mib() -> int:
    return sum(SIZES_MIB.values())


def primary_layout(disk_bytes: int, boot_mode: str, suffix: str, guest_storage: bool = True,
                   sr_at_end: bool = True, first_mib: int = 1, number_shift: int = 0) -> list[PlannedPartition]:
    """The primary disk's partitions, in on-disk order. Raises ValueError if they do not fit."""
    end = usable_end_mib(disk_bytes)
    sr_mib = end - first_mib - fixed_mib()
    if sr_mib < (1 if not guest_storage else 256):
        raise ValueError("too small")
    uefi = boot_mode == "uefi"
    spec = {
        "logs": ("logs", GUID["linux"], "ext4", f"logs-{suffix}", "/var/log"),
        "backup": ("backup", GUID["linux"], "", "", ""),
        "root": ("root", GUID["linux"], "ext4", f"root-{suffix}", "/"),
        "boot": (("ESP", GUID["esp"], "vfat", f"BOOT-{suffix.upper()}", "/boot/efi") if uefi
                 else ("bios-boot", GUID["bios"], "", "", "")),
        "swap": ("swap", GUID["swap"], "swap", f"swap-{suffix}", ""),
        "sr": ("localsr", GUID["lvm"], "lvm-pv", "", ""),
    }
    parts, start = [], first_mib
    for role in ORDER if sr_at_end else ORDER_SR_EARLY:
        if role == "sr" and not guest_storage:
            continue
        size = sr_mib if role == "sr" else SIZES_MIB[role]
        name, guid, fstype, label, mount = spec[role]
        parts.append(PlannedPartition(NUMBERS[role] + number_shift, role, name, start, size, guid,
                                      fstype, label, mount))
        start += size
    return parts


def guest_layout(disk_bytes: int) -> list[PlannedPartition]:
    end = usable_end_mib(disk_bytes)
    return [PlannedPartition(1, "guest-sr", "localsr", 1, end - 1, GUID["lvm"], "lvm-pv")]


def dom0_memory_mib(host_mib: int) -> int:
    """1 GiB + 5 % of host RAM, rounded up to 16 MiB, at most 8 GiB."""
    raw = 1024 + host_mib * 5 / 100
    rounded = -(-int(raw) // 16) * 16
    return min(rounded, 8192)


def dom0_vcpus(host_cpus: int) -> int:
    return max(1, min(host_cpus, 16))
