"""What the wizard's Summary says, in lines of text: exactly what the install will do, read from the
InstallConfig the choices make (so a host name typed in is never summarised as "from DHCP"); every
disk it erases and what that disk holds today by name (an installation and its version, its backup,
a local SR, from holdings, as the installation-type screen knows them); where the local SR lives; and
what an upgrade or a restore does to the installation and the backup on its disk (as the backup and
restore steps do it); and that the host boots only once Secure Boot is disabled, when the operator
accepted that, or what to check when its state could not be read. Pure: installer/ui/screens/summary.py
shows the lines.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import eligibility, holdings, locations, offers, secureboot, wizard
from .config import DEFAULT_NTP_SERVERS, InstallConfig, IPv4Mode, IPv6Mode, NTPMode
from .layout import NUMBERS
from .machine import Disk, Machine
from .product import Product

SR_VG = "VG_XenStorage-"        # a local SR's volume group (plan_storage names it so)
BUTTONS = {"fresh": "Install", "upgrade": "Upgrade", "restore": "Restore"}
SOURCE_KINDS = {"local": "local media", "url": "HTTP/FTP", "nfs": "NFS"}


@dataclass(frozen=True)
class Line:
    text: str
    indent: int = 0             # every row of the line starts here, wrapped ones too
    alarm: bool = False         # what is destroyed: shown as an error


def button(c: wizard.Choices) -> str:
    """The Summary's button says what it starts."""
    return BUTTONS[c.action]


def lines(c: wizard.Choices, machine: Machine, product: Product) -> list[Line]:
    """The Summary of complete choices (every screen before it accepted its answers)."""
    cfg = wizard.to_config(c, machine)
    if c.action == "upgrade":
        out = upgrade(machine, c.existing_disk, product)
    elif c.action == "restore":
        out = restore(machine, c.existing_disk)
    else:
        out = fresh(c, cfg, machine)
    if c.action != "restore":
        out.append(Line(f"Source: {source(cfg)}" + (" (verified)" if c.verify_source else "")))
    return out + secure_boot(cfg, machine)


def secure_boot(cfg: InstallConfig, machine: Machine) -> list[Line]:
    """What Secure Boot means for the host, when it means something (the plan says the same)."""
    if secureboot.enforcing(machine) and cfg.secure_boot == "continue":
        return [Line("SECURE BOOT IS ENABLED: the host will not boot until Secure Boot is disabled in the "
                     "firmware setup (Security or Boot > Secure Boot > Disabled); you chose to continue.",
                     alarm=True)]
    if machine.boot_mode == "uefi" and machine.secure_boot_setup_mode:
        return [Line("Secure Boot: the firmware is in Setup Mode and enforces nothing; keep it disabled.")]
    return [Line(secureboot.UNKNOWN_SHORT)] if secureboot.unknown(machine) else []


# -- disks -----------------------------------------------------------------------------------------
def disk_title(disk: Disk) -> str:
    details = [offers.size_text(disk.size), disk.model, f"serial {disk.serial}" if disk.serial else ""]
    return f"{disk.path} ({', '.join(d for d in details if d)})"


def holds(disk: Disk, machine: Machine) -> str:
    """What the disk holds today by name, most valuable first: an installation (with its own
    file systems, the ones labelled with its suffix, folded into it), its backup, a local SR's
    volume group, other file systems; its partition table only when that is all there is."""
    found = holdings.holdings(disk, machine)
    root = eligibility.root(disk)
    suffix = "-" + root.label.removeprefix("root-") if root else None
    folded = [h.partition for h in found if h.kind == "file-system" and suffix and h.partition is not None
              and disk.partition(h.partition).label.endswith(suffix)]
    texts = []
    for h in found:
        owner = disk if h.partition is None else disk.partition(h.partition)
        if h.partition in folded or (h.kind == "partition-table" and len(found) > 1):
            continue
        if h.kind == "installation" and folded:
            texts.append(f"{h.text} with its own file systems in partitions {', '.join(map(str, folded))}")
        elif h.kind == "volume-group" and owner is not None and owner.vg.startswith(SR_VG):
            texts.append(f"a local SR's {h.text}")
        else:
            texts.append(h.text)
    return "; ".join(texts) or "nothing (empty)"


def erased(c: wizard.Choices, machine: Machine) -> list[Line]:
    names = wizard.disks_erased(c)
    what = "THIS DISK" if len(names) == 1 else f"THESE {len(names)} DISKS"
    out = [Line(f"ALL DATA ON {what} WILL BE ERASED:", alarm=True)]
    for name in names:
        disk = machine.find_disk(name)
        if disk is None:
            out.append(Line(name, 2))
            continue
        out += [Line(disk_title(disk), 2), Line(f"now holds: {holds(disk, machine)}", 4)]
    return out


# -- a fresh install -------------------------------------------------------------------------------
def fresh(c: wizard.Choices, cfg: InstallConfig, machine: Machine) -> list[Line]:
    onto = f"RAID1 of {c.primary_disk} and {c.raid_partner} ({wizard.RAID_DEVICE})" if c.raid_partner \
        else c.primary_disk
    return [*erased(c, machine), Line(""),
            Line(f"Install onto: {onto}; local storage: {storage(c)}"),
            Line(f"Management: {management(cfg)}"),
            Line(f"Host name: {cfg.hostname or 'from DHCP'}; name servers: "
                 f"{' '.join(cfg.name_servers) or 'from DHCP'}"),
            Line(f"Time zone: {cfg.timezone}; NTP: {ntp(cfg)}"),
            Line(f"Root password: {'set' if cfg.root_password.hash else 'none'}"
                 + (f"; SSH key: {c.ssh_key.split()[0]}" if c.ssh_key else "")
                 + f"; keyboard: {cfg.host_keymap}")]


def storage(c: wizard.Choices) -> str:
    kind = f"one {c.sr_type} SR ({'thin' if c.sr_type == 'ext' else 'thick'} provisioning)"
    primary = "the RAID1" if c.raid_partner else c.primary_disk
    if not c.guest_disks:
        return f"{kind} on the rest of {primary}"
    return f"{kind} spanning the rest of {primary} and every guest disk: {', '.join(c.guest_disks)}"


def management(cfg: InstallConfig) -> str:
    iface = cfg.interface
    v4, v6 = iface.ipv4, iface.ipv6
    parts = [iface.name + (f", VLAN {iface.vlan}" if iface.vlan else "")]
    if v4.mode == IPv4Mode.STATIC:
        parts.append(f"IPv4 {v4.address}" + (f", gateway {v4.gateway}" if v4.gateway else ", no gateway"))
    else:
        parts.append(f"IPv4 {'DHCP' if v4.mode == IPv4Mode.DHCP else 'none'}")
    if v6.mode == IPv6Mode.STATIC:
        parts.append(f"IPv6 {v6.address}" + (f", gateway {v6.gateway}" if v6.gateway else ", no gateway"))
    elif v6.mode != IPv6Mode.NONE:
        parts.append({IPv6Mode.DHCP: "IPv6 DHCPv6", IPv6Mode.AUTOCONF: "IPv6 autoconf (SLAAC)"}[v6.mode])
    return "; ".join(parts)


def ntp(cfg: InstallConfig) -> str:
    mode = cfg.ntp.mode
    if mode == NTPMode.MANUAL:
        return " ".join(cfg.ntp.servers)
    if mode == NTPMode.DEFAULT:
        return f"the default servers ({DEFAULT_NTP_SERVERS[0]}, ...)"
    return "servers from DHCP" if mode == NTPMode.DHCP else "none"


def source(cfg: InstallConfig) -> str:
    src = cfg.sources[0]
    kind = SOURCE_KINDS[src.type]
    return kind if src.type == "local" else f"{kind} {locations.shown(src.location)}"


# -- an upgrade or a restore: what the backup and restore steps do -----------------------------------
def _partitions(machine: Machine, name: str) -> tuple[Disk | None, str, str]:
    """The disk, what its root partition holds and what its backup partition holds ("": nothing)."""
    disk = machine.find_disk(name)
    found = {h.partition: h.text for h in holdings.holdings(disk, machine)} if disk else {}
    root = found.get(NUMBERS["root"], f"the installation in partition {NUMBERS['root']}")
    return disk, root, found.get(NUMBERS["backup"], "")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def upgrade(machine: Machine, name: str, product: Product) -> list[Line]:
    disk, current, backup = _partitions(machine, name)
    where = disk_title(disk) if disk else name
    return [Line(f"Upgrade the installation on {where}:"),
            Line(f"{_capital(current)} is upgraded to {product.brand} {product.version}; its settings "
                 "and guest storage are kept.", 2),
            Line(f"First it is copied to the backup partition (partition {NUMBERS['backup']}), replacing "
                 + (f"what it holds now, which is LOST: {backup}." if backup
                    else "nothing (that partition holds no file system now)."), 2, alarm=bool(backup))]


def restore(machine: Machine, name: str) -> list[Line]:
    disk, current, backup = _partitions(machine, name)
    where = disk_title(disk) if disk else name
    return [Line(f"Restore the backup on {where}:"),
            Line(f"{_capital(backup or 'the backup in partition ' + str(NUMBERS['backup']))} is copied "
                 f"back over the current installation, which is LOST: {current}.", 2, alarm=True),
            Line(f"The backup stays in partition {NUMBERS['backup']}; guest storage is not touched.", 2)]
