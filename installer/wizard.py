"""The interactive install's choices, their checks, which screens apply, and the InstallConfig they
make. Pure: the urwid screens (installer/ui/) only show these values and report field errors, and
nothing here registers a secret: the root password and its hash travel in Choices.secrets, and with a
source URL's credentials in InstallConfig.secrets, for the backend to register with the mask.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from . import eligibility, location_values, locations, offers, passwd, secureboot, values
from .config import (DiskRef, InstallConfig, IPv4Config, IPv4Mode, IPv6Config, IPv6Mode,
                     ManagementInterface, Mode, NTPConfig, NTPMode, PrimaryDisk, Raid, RootPassword,
                     Source, SRType)
from .machine import Machine
from .product import Product

RAID_DEVICE = "/dev/md127"

# Screen order. An issue of taste: network settings come before the install source, because a
# network source is reached through the management interface just configured.
SCREENS = ("keymap", "welcome", "secure-boot", "eula", "hardware", "install-type", "primary-disk",
           "raid", "guest-disks", "sr-type", "password", "nic", "network", "hostname-dns", "timezone",
           "ntp", "source", "verify", "summary")

Errors = dict[str, str]     # field name -> message shown next to that field


@dataclass
class Choices:
    keymap: str = "us"
    secure_boot: str = "stop"           # stop | continue: go on although the firmware enforces Secure Boot
    eula_accepted: bool = False
    action: str = "fresh"               # fresh | upgrade | restore
    existing_disk: str = ""             # the installation to upgrade or the backup to restore
    primary_disk: str = ""              # kernel name
    guest_disks: list[str] = field(default_factory=list)
    sr_type: str = "ext"
    raid_partner: str = ""              # "" = no RAID1
    password_hash: str = ""
    ssh_key: str = ""
    nic: str = ""
    ipv4_mode: str = "dhcp"             # dhcp | static
    ipv4_address: str = ""
    ipv4_netmask: str = ""              # 255.255.255.0 or 24
    ipv4_gateway: str = ""
    ipv6_mode: str = "none"             # none | dhcp | autoconf | static
    ipv6_address: str = ""              # 2001:db8::10/64
    ipv6_gateway: str = ""
    vlan: str = ""
    hostname_mode: str = "dhcp"         # dhcp | manual
    hostname: str = ""
    dns_mode: str = "dhcp"              # dhcp | manual
    name_servers: list[str] = field(default_factory=list)
    tz_region: str = "Etc"
    tz_city: str = "UTC"
    ntp_mode: str = "dhcp"              # dhcp | default | manual | none
    ntp_servers: list[str] = field(default_factory=list)
    source_type: str = "local"          # local | url | nfs
    source_location: str = ""
    verify_source: bool = False
    # the root password as typed and its hash: never shown, never compared, never serialised
    secrets: frozenset[str] = field(default=frozenset(), repr=False, compare=False,
                                    metadata={"plain": False})


def defaults(machine: Machine) -> Choices:
    c = Choices()
    usable = [o.name for o in offers.primary_disks(machine) if o.usable]
    c.primary_disk = usable[0] if usable else ""
    linked = [n.name for n in machine.nics if n.link] or [n.name for n in machine.nics]
    c.nic = linked[0] if linked else ""
    return c


# -- which screens apply --------------------------------------------------------------------------
def applies(screen: str, c: Choices, machine: Machine, product: Product) -> bool:
    fresh = c.action == "fresh"
    if screen == "secure-boot":
        return secureboot.enforcing(machine)
    if screen == "hardware":
        return bool(eligibility.hardware_warnings(machine) or eligibility.boot_warnings(machine))
    if screen == "install-type":
        return bool(eligibility.existing(machine, product))
    if screen in ("primary-disk", "guest-disks", "sr-type", "password", "nic", "network",
                  "hostname-dns", "timezone", "ntp"):
        if screen == "guest-disks":
            return fresh and any(o.usable for o in offers.guest_disks(machine, taken(c)))
        return fresh
    if screen == "raid":
        return fresh and bool(offers.raid_partners(machine, c.primary_disk))
    if screen in ("source", "verify"):
        return c.action != "restore"
    return True


def taken(c: Choices) -> set[str]:
    return {d for d in (c.primary_disk, c.raid_partner) if d}


def next_screen(current: str, c: Choices, machine: Machine, product: Product) -> str | None:
    for name in SCREENS[SCREENS.index(current) + 1:]:
        if applies(name, c, machine, product):
            return name
    return None


# -- per-screen checks: each returns {field: message}; empty means the screen is complete ----------
def _check(errors: Errors, name: str, func, *args) -> object:
    try:
        return func(*args)
    except ValueError as exc:
        errors[name] = str(exc)
        return None


def check_keymap(keymap: str) -> Errors:
    errors: Errors = {}
    _check(errors, "keymap", values.keymap, keymap)
    return errors


SECURE_BOOT_STOP = ("Nothing has been written to the disks. Reboot, open the firmware setup (a key such as "
                    "F2, Del or F10 at power-on), set Security or Boot > Secure Boot > Disabled (or OS "
                    'type "Other OS"), save, and start this installer again. The Secure Boot keys need '
                    "not be cleared.")


def check_secure_boot(c: Choices, machine: Machine) -> Errors:
    """The planner's rule (installer/secureboot.py): on firmware that enforces Secure Boot the install
    goes on only when the operator accepts that the host boots once Secure Boot is disabled."""
    if not secureboot.enforcing(machine) or c.secure_boot == "continue":
        return {}
    return {"stop": "Secure Boot must be disabled first: reboot, or choose Continue"}


def check_install_type(c: Choices, machine: Machine, product: Product) -> Errors:
    """An upgrade or a restore is refused with eligibility's reason, as the planner refuses it."""
    if c.action == "fresh":
        return {}
    e = next((e for e in eligibility.existing(machine, product) if e.disk == c.existing_disk), None)
    if e is None:
        return {"action": "choose an installation"}
    if c.action == "upgrade" and not e.can_upgrade:
        return {"action": f"{e.disk} cannot be upgraded: {e.upgrade_refused}"}
    if c.action == "restore" and not e.can_restore:
        return {"action": f"{e.disk} cannot be restored: {e.restore_refused}"}
    return {}


def check_primary_disk(c: Choices, machine: Machine) -> Errors:
    offer = next((o for o in offers.primary_disks(machine) if o.name == c.primary_disk), None)
    if offer is None:
        return {"disk": "choose the disk to install onto"}
    return {} if offer.usable else {"disk": f"{offer.name} cannot be used: {offer.reason}"}


def check_password(password: str, confirm: str, ssh_key: str) -> Errors:
    errors: Errors = {}
    if len(password) < passwd.MIN_LENGTH:
        errors["password"] = f"at least {passwd.MIN_LENGTH} characters (it has {len(password)})"
    elif passwd.too_long(password):
        errors["password"] = passwd.too_long(password)
    elif password != confirm:
        errors["confirm"] = "the two passwords differ"
    if ssh_key.strip():
        _check(errors, "ssh_key", values.ssh_public_key, ssh_key)
    return errors


def set_password(c: Choices, password: str) -> None:
    """Keep only the hash; both are secrets that no log or event may show (Choices.secrets, a
    password set before replaced)."""
    c.password_hash = passwd.sha512_crypt(password)
    c.secrets = frozenset({password, c.password_hash})


def check_network(c: Choices) -> Errors:
    errors: Errors = {}
    if c.ipv4_mode == "static":
        addr = _check(errors, "ipv4_address", values.ipv4_address, c.ipv4_address)
        prefix = _check(errors, "ipv4_netmask", values.ipv4_prefix, c.ipv4_netmask)
        iface = _check(errors, "ipv4_address", values.ipv4_interface, addr, prefix) if addr and prefix else None
        if c.ipv4_gateway.strip():
            gw = _check(errors, "ipv4_gateway", values.ipv4_address, c.ipv4_gateway)
            if gw and iface:
                _check(errors, "ipv4_gateway", values.gateway_in, gw, iface)
    if c.ipv6_mode == "static":
        iface6 = _check(errors, "ipv6_address", values.ipv6_interface, c.ipv6_address)
        if c.ipv6_gateway.strip():
            gw6 = _check(errors, "ipv6_gateway", values.ipv6_address, c.ipv6_gateway)
            if gw6 and iface6 and not gw6.is_link_local:
                _check(errors, "ipv6_gateway", values.gateway_in, gw6, iface6)
    if c.vlan.strip():
        _check(errors, "vlan", values.vlan, c.vlan)
    return errors


def set_ipv4_mode(c: Choices, mode: str) -> None:
    """The host name, DNS and NTP defaults follow the IPv4 choice: with static IPv4 they are typed
    in (NTP: the default servers), with DHCP they come from DHCP, and a field already typed in
    stays manual. Only a change of the IPv4 mode moves them, so what was picked since stays."""
    if mode == c.ipv4_mode:
        return
    c.ipv4_mode = mode
    static = mode == "static"
    c.hostname_mode = "manual" if static or c.hostname else "dhcp"
    c.dns_mode = "manual" if static or c.name_servers else "dhcp"
    if c.ntp_mode in ("dhcp", "default"):
        c.ntp_mode = "default" if static else "dhcp"


def names_dhcp_refused(c: Choices) -> str:
    """Why the host name and name servers cannot come from DHCP (the screen greys "From DHCP" with
    it, and a typed value is used whatever the radio says); "" when they can."""
    return "" if c.ipv4_mode == "dhcp" or c.ipv6_mode in ("dhcp", "autoconf") else \
        "needs DHCP for IPv4, DHCPv6 or autoconf"


def check_hostname_dns(c: Choices) -> Errors:
    errors: Errors = {}
    dhcp_possible = not names_dhcp_refused(c)
    if c.hostname_mode == "manual" or not dhcp_possible:
        _check(errors, "hostname", values.hostname, c.hostname)
    if c.dns_mode == "manual" or not dhcp_possible:
        if not c.name_servers:
            errors["name_servers"] = "at least one name server (or let DHCP provide them)"
        for server in c.name_servers:
            _check(errors, "name_servers", values.name_server, server)
    return errors


def check_timezone(c: Choices) -> Errors:
    errors: Errors = {}
    _check(errors, "city", values.timezone, timezone_name(c))
    return errors


def check_ntp(c: Choices) -> Errors:
    errors: Errors = {}
    if c.ntp_mode == "manual":
        if not c.ntp_servers:
            errors["ntp_servers"] = "at least one NTP server"
        for server in c.ntp_servers:
            _check(errors, "ntp_servers", values.host_or_ip, server)
    if c.ntp_mode == "dhcp" and ntp_dhcp_refused(c):
        errors["ntp_mode"] = "NTP servers from DHCP need DHCP for IPv4"
    return errors


def ntp_dhcp_refused(c: Choices) -> str:
    """Why the NTP servers cannot come from DHCP (the screen greys the option with it); "" when they can."""
    return "" if c.ipv4_mode == "dhcp" else "needs DHCP for IPv4"


def check_source(c: Choices) -> Errors:
    errors: Errors = {}
    if c.source_type == "url":
        _check(errors, "location", location_values.url, c.source_location, ("http", "https", "ftp"))
    elif c.source_type == "nfs":
        _check(errors, "location", location_values.nfs_location, c.source_location)
    return errors


def split_list(text: str) -> list[str]:
    return [t for t in text.replace(",", " ").split() if t]


# -- time zones -----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def timezones() -> dict[str, list[str]]:
    """Region -> cities, from the tz database (Etc/UTC included)."""
    zones: dict[str, list[str]] = {}
    for name in sorted(values.timezones()):
        region, _, city = name.partition("/")
        if city and region not in ("SystemV", "US", "posix", "right"):
            zones.setdefault(region, []).append(city)
    return zones


def timezone_name(c: Choices) -> str:
    return f"{c.tz_region}/{c.tz_city}"


# -- the result -----------------------------------------------------------------------------------
def disks_erased(c: Choices) -> list[str]:
    """Every disk the install will wipe, for the summary's confirmation."""
    if c.action != "fresh":
        return []
    return [d for d in (c.primary_disk, c.raid_partner, *c.guest_disks) if d]


def to_config(c: Choices, machine: Machine) -> InstallConfig:
    """The InstallConfig the choices make; it carries their secrets (cfg.secrets)."""
    # an upgrade or a restore keeps the host's own settings (its keymap too)
    # accepted only where the Secure Boot screen was shown: the answer file left on the host says so
    secure = "continue" if c.secure_boot == "continue" and secureboot.enforcing(machine) else "stop"
    if c.action == "restore":
        return InstallConfig(mode=Mode.RESTORE, backup_disk=DiskRef(path="/dev/" + c.existing_disk),
                             secure_boot=secure, secrets=_secrets(c))
    if c.action == "upgrade":
        return InstallConfig(mode=Mode.UPGRADE, existing_installation=DiskRef(path="/dev/" + c.existing_disk),
                             sources=[_source(c)], secure_boot=secure, secrets=_secrets(c))
    cfg = InstallConfig(keymap=c.keymap, sources=[_source(c)], secure_boot=secure, secrets=_secrets(c))
    cfg.sr_type = SRType(c.sr_type)
    if c.raid_partner:
        cfg.raid = Raid(RAID_DEVICE, [DiskRef(path="/dev/" + d) for d in (c.primary_disk, c.raid_partner)])
        cfg.primary_disk = PrimaryDisk(DiskRef(path=RAID_DEVICE))
    else:
        cfg.primary_disk = PrimaryDisk(DiskRef(path="/dev/" + c.primary_disk))
    cfg.guest_disks = [DiskRef(path="/dev/" + d) for d in c.guest_disks]
    cfg.root_password = RootPassword(hash=c.password_hash or None, origin="hash" if c.password_hash else "none")
    cfg.ssh_authorized_keys = [values.ssh_public_key(c.ssh_key)] if c.ssh_key.strip() else []
    cfg.interface = _interface(c, machine)
    dhcp_possible = not names_dhcp_refused(c)
    if c.hostname_mode == "manual" or not dhcp_possible:
        cfg.hostname = values.hostname(c.hostname)
    if c.dns_mode == "manual" or not dhcp_possible:
        cfg.name_servers = [str(values.name_server(s)) for s in c.name_servers]
    cfg.timezone = timezone_name(c)
    mode = NTPMode(c.ntp_mode)
    cfg.ntp = NTPConfig(mode, [values.host_or_ip(s) for s in c.ntp_servers] if mode == NTPMode.MANUAL else [])
    return cfg


def _secrets(c: Choices) -> frozenset[str]:
    """The password's and the source URL's, as the answer-file parser collects them."""
    source = locations.credentials(c.source_location) if c.source_type != "local" else []
    return c.secrets | frozenset(source)


def _source(c: Choices) -> Source:
    return Source("local") if c.source_type == "local" else Source(c.source_type, c.source_location.strip())


def _interface(c: Choices, machine: Machine) -> ManagementInterface:
    nic = machine.find_nic(c.nic)
    iface = ManagementInterface(name=c.nic, mac=nic.mac if nic else None,
                                vlan=values.vlan(c.vlan) if c.vlan.strip() else None)
    if c.ipv4_mode == "static":
        address = values.ipv4_interface(values.ipv4_address(c.ipv4_address), values.ipv4_prefix(c.ipv4_netmask))
        gateway = str(values.ipv4_address(c.ipv4_gateway)) if c.ipv4_gateway.strip() else None
        iface.ipv4 = IPv4Config(IPv4Mode.STATIC, str(address), gateway)
    else:
        iface.ipv4 = IPv4Config(IPv4Mode(c.ipv4_mode))
    if c.ipv6_mode == "static":
        gw6 = str(values.ipv6_address(c.ipv6_gateway)) if c.ipv6_gateway.strip() else None
        iface.ipv6 = IPv6Config(IPv6Mode.STATIC, str(values.ipv6_interface(c.ipv6_address)), gw6)
    else:
        iface.ipv6 = IPv6Config(IPv6Mode(c.ipv6_mode))
    return iface
