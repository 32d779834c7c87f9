"""InstallConfig: the one model every front end produces and the engine consumes."""
from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field

from .product import DEFAULT as DEFAULT_PRODUCT


class Mode(str, enum.Enum):
    FRESH = "fresh"
    REINSTALL = "reinstall"
    UPGRADE = "upgrade"
    RESTORE = "restore"


class SRType(str, enum.Enum):
    EXT = "ext"
    LVM = "lvm"


class IPv4Mode(str, enum.Enum):
    DHCP = "dhcp"
    STATIC = "static"
    NONE = "none"


class IPv6Mode(str, enum.Enum):
    NONE = "none"
    DHCP = "dhcp"
    STATIC = "static"
    AUTOCONF = "autoconf"


class NTPMode(str, enum.Enum):
    DHCP = "dhcp"
    DEFAULT = "default"
    MANUAL = "manual"
    NONE = "none"


class NetworkBackend(str, enum.Enum):
    BRIDGE = "bridge"
    OPENVSWITCH = "openvswitch"


class AtExit(str, enum.Enum):
    REBOOT = "reboot"
    POWEROFF = "poweroff"
    SHELL = "shell"


HOOK_STAGES = ("installation-start", "filesystem-populated", "installation-complete")
# The Debian product's own choice where XCP-ng's differs (see docs/answerfile.md).
PRODUCT_NETWORK_BACKEND = NetworkBackend(DEFAULT_PRODUCT.network_backend_default)
DEFAULT_KEYMAP = "us"
DEFAULT_NTP_SERVERS = ("0.debian.pool.ntp.org", "1.debian.pool.ntp.org", "2.debian.pool.ntp.org",
                       "3.debian.pool.ntp.org")


@dataclass
class DiskMatch:
    """Our extension: select a disk by what it is rather than by its kernel name."""
    serial: str | None = None
    model: str | None = None
    min_size: int | None = None
    max_size: int | None = None


@dataclass
class DiskRef:
    """A disk named in the config: a /dev path, or match criteria resolved at plan time."""
    path: str | None = None
    match: DiskMatch | None = None

    def describe(self) -> str:
        if self.path:
            return self.path
        m = self.match or DiskMatch()
        crit = [f"{k}={v}" for k, v in dataclasses.asdict(m).items() if v is not None]
        return "disk matching " + ", ".join(crit)


@dataclass
class PrimaryDisk:
    disk: DiskRef
    guest_storage: bool = True
    sr_at_end: bool = True
    preserve_first_partition: str = "false"  # true | false | if-utility


@dataclass
class Raid:
    device: str            # /dev/md127
    members: list[DiskRef] = field(default_factory=list)


@dataclass
class Source:
    type: str              # local | url | nfs
    location: str = ""
    repo_gpgcheck: bool | None = None   # None: the root element's setting applies
    gpgcheck: bool | None = None


@dataclass
class Hook:
    stage: str
    type: str              # url | nfs
    location: str


@dataclass
class IPv4Config:
    mode: IPv4Mode = IPv4Mode.DHCP
    address: str | None = None     # "192.0.2.10/24"
    gateway: str | None = None


@dataclass
class IPv6Config:
    mode: IPv6Mode = IPv6Mode.NONE
    address: str | None = None     # "2001:db8::10/64"
    gateway: str | None = None


@dataclass
class ManagementInterface:
    name: str | None = None
    mac: str | None = None
    ipv4: IPv4Config = field(default_factory=IPv4Config)
    ipv6: IPv6Config = field(default_factory=IPv6Config)
    vlan: int | None = None


@dataclass
class NTPConfig:
    mode: NTPMode = NTPMode.DEFAULT
    servers: list[str] = field(default_factory=list)


@dataclass
class RootPassword:
    """Only ever a crypt(5) hash; plaintext input is hashed when parsed and dropped."""
    hash: str | None = None        # None: no password given; the account stays locked
    origin: str = "none"           # plaintext | hash | none


@dataclass
class Bootloader:
    name: str = "grub2"
    location: str = "mbr"          # mbr | partition
    write_boot_entry: bool = True
    serial_console: str | None = None  # "ttyS0,115200": make the serial entry the default


@dataclass
class Service:
    name: str
    state: str                     # enabled | disabled


@dataclass
class InstallConfig:
    mode: Mode = Mode.FRESH
    primary_disk: PrimaryDisk | None = None
    guest_disks: list[DiskRef] = field(default_factory=list)
    sr_type: SRType = SRType.EXT
    raid: Raid | None = None
    sources: list[Source] = field(default_factory=list)
    driver_sources: list[Source] = field(default_factory=list)
    repo_gpgcheck: bool = True
    gpgcheck: bool = True
    root_password: RootPassword = field(default_factory=RootPassword)
    ssh_authorized_keys: list[str] = field(default_factory=list)
    interface: ManagementInterface | None = None
    hostname: str | None = None    # None: from DHCP, else the planner's generated default
    name_servers: list[str] = field(default_factory=list)
    ntp: NTPConfig = field(default_factory=NTPConfig)
    timezone: str = "Etc/UTC"
    keymap: str | None = None     # None: not given; the boot line's keymap=, else DEFAULT_KEYMAP
    bootloader: Bootloader = field(default_factory=Bootloader)
    network_backend: NetworkBackend = PRODUCT_NETWORK_BACKEND
    services: list[Service] = field(default_factory=list)
    hooks: list[Hook] = field(default_factory=list)
    at_exit: AtExit = AtExit.REBOOT
    existing_data: str = "erase"   # erase | refuse: a fresh install over a disk that holds data
    secure_boot: str = "stop"      # stop | continue: an install on firmware that enforces Secure Boot
    existing_installation: DiskRef | None = None
    backup_disk: DiskRef | None = None
    # What no log, event or support bundle may show: the root password as given and its hash, the
    # credentials in its locations. Filled by whoever builds the config (the answer-file parser, the
    # wizard), registered with the process's mask by the front end that runs the session
    # (runner.SECRETS.add_all(cfg.secrets)). Never serialised, never compared.
    secrets: frozenset[str] = field(default=frozenset(), repr=False, compare=False,
                                    metadata={"plain": False})

    @property
    def host_keymap(self) -> str:
        return self.keymap or DEFAULT_KEYMAP

    def hooks_for(self, stage: str) -> list[Hook]:
        return [h for h in self.hooks if h.stage == stage]

    def to_dict(self) -> dict:
        """Normalized, JSON-ready form. Holds no secret beyond the password hash."""
        return to_plain(self)


def to_plain(value):
    """A config object (dataclasses, enums, lists) as JSON-ready data; fields marked
    metadata={"plain": False} (secrets) are left out."""
    if dataclasses.is_dataclass(value):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.metadata.get("plain", True)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value
