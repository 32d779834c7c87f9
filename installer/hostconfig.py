"""Render the files the installer writes into the target (pure: config + plan -> FilePlans)."""
from __future__ import annotations

import ipaddress

import jinja2

from . import keyboard
from .config import DEFAULT_NTP_SERVERS, InstallConfig, IPv4Mode, NTPMode
from .plantypes import FilePlan

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("installer", "templates"),
                          keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                          undefined=jinja2.StrictUndefined, autoescape=False)


def render(name: str, **context) -> str:
    return _ENV.get_template(name).render(**context)


# systemd gives a device 90 s to show up, then drops to emergency mode: a slow controller (or dom0
# under emulation, seen in QEMU TCG with a busy host) can need longer for the partitions by label
WAIT = "x-systemd.device-timeout=5min"


def _mounts(plan) -> list[dict]:
    primary = plan.primary()
    rows = []
    for role, options, passno in (("root", "defaults", 1), ("logs", f"defaults,{WAIT}", 2),
                                  ("boot", f"umask=0077,{WAIT}", 2)):
        p = primary.part(role) if primary else None
        if p and p.mountpoint:
            rows.append({"label": p.label, "mountpoint": p.mountpoint, "fstype": p.fstype,
                         "options": options, "passno": passno})
    swap = primary.part("swap") if primary else None
    if swap:
        rows.append({"label": swap.label, "mountpoint": "none", "fstype": "swap", "options": f"sw,{WAIT}", "passno": 0})
    return rows


_NTP_SOURCES = {
    NTPMode.MANUAL: "only the servers given at install time",
    NTPMode.DHCP: "only the servers DHCP provides",
    NTPMode.DEFAULT: "the product's default servers",
    NTPMode.NONE: "none, the clock is not synchronised",
}


def _ntp(cfg: InstallConfig) -> dict:
    """The whole chrony.conf is ours, so no source of Debian's (its pool line) survives."""
    servers = {NTPMode.MANUAL: cfg.ntp.servers, NTPMode.DEFAULT: list(DEFAULT_NTP_SERVERS)}
    return {"mode": cfg.ntp.mode.value, "servers": servers.get(cfg.ntp.mode, []),
            "description": _NTP_SOURCES[cfg.ntp.mode]}


def render_files(cfg: InstallConfig, plan) -> list[FilePlan]:
    """Every file the configure step writes on the host, in the order it writes them."""
    ctx = _context(cfg, plan)
    return (_identity_files(cfg, plan, ctx) + _network_files(cfg, plan, ctx)
            + [FilePlan("/etc/chrony/chrony.conf", render("chrony.conf.j2", ntp=_ntp(cfg))),
               FilePlan("/etc/default/keyboard", keyboard.default_keyboard(cfg.host_keymap)),
               # systemd reads the machine id before anything could make one; 0444 as systemd keeps it
               FilePlan("/etc/machine-id", plan.ids.installation_uuid.replace("-", "") + "\n", 0o444)]
            + _xapi_files(plan, ctx) + _ssh_files(cfg))


def _context(cfg: InstallConfig, plan) -> dict:
    """What the templates share: names, the product, the management interface."""
    fqdn = plan.hostname
    short, _, domain = fqdn.partition(".")
    m = plan.management
    return {"product": plan.product, "ids": plan.ids, "fqdn": fqdn, "short_hostname": short,
            "domain": domain, "name_servers": cfg.name_servers, "m": m,
            "mgmt": m.interface if m else "", "vlan": m.vlan if m else None}


def _identity_files(cfg: InstallConfig, plan, ctx: dict) -> list[FilePlan]:
    return [FilePlan("/etc/hostname", render("hostname.j2", **ctx)),
            FilePlan("/etc/hosts", render("hosts.j2", **ctx)),
            FilePlan("/etc/fstab", render("fstab.j2", mounts=_mounts(plan), **ctx)),
            FilePlan("/etc/timezone", cfg.timezone + "\n")]


def _network_files(cfg: InstallConfig, plan, ctx: dict) -> list[FilePlan]:
    """The management interface (Debian's ifupdown, and xapi's first-boot data) and DNS."""
    files = []
    m = plan.management
    if m:
        netmask = ip = ""
        if m.ipv4.address:
            iface = ipaddress.IPv4Interface(m.ipv4.address)
            ip, netmask = str(iface.ip), str(iface.netmask)
        template = "interfaces-ovs.j2" if cfg.network_backend.value == "openvswitch" else "interfaces.j2"
        files.append(FilePlan("/etc/network/interfaces", render(template, **ctx)))
        files.append(FilePlan("/etc/firstboot.d/data/management.conf",
                              render("management.conf.j2", ip=ip, netmask=netmask, **ctx)))
    if cfg.name_servers:
        files.append(FilePlan("/etc/resolv.conf", render("resolv.conf.j2", **ctx)))
    return files


def _xapi_files(plan, ctx: dict) -> list[FilePlan]:
    """The toolstack's inventory and the local SR it makes at first boot."""
    m, primary = plan.management, plan.primary()
    address_type = "IPv4" if m and m.ipv4.mode != IPv4Mode.NONE else "IPv6"
    files = [FilePlan("/etc/xensource-inventory", render(
        "xensource-inventory.j2", primary_disk=primary.path if primary else "",
        backup_partition=primary.part_path("backup") if primary else "",
        dom0_mem=plan.dom0_memory_mib, dom0_vcpus=plan.dom0_vcpus, address_type=address_type,
        sr_devices=" ".join(plan.sr.devices) if plan.sr else "", **ctx))]
    if plan.sr:
        files.append(FilePlan("/etc/firstboot.d/data/default-storage.conf",
                              render("default-storage.conf.j2", sr=plan.sr)))
    return files


def _ssh_files(cfg: InstallConfig) -> list[FilePlan]:
    if cfg.ssh_authorized_keys:
        return [FilePlan("/root/.ssh/authorized_keys",
                         render("authorized_keys.j2", keys=cfg.ssh_authorized_keys), 0o600)]
    if cfg.root_password.hash:
        # like XCP-ng: the root password is how operators reach a new host; with keys, keys only
        return [FilePlan("/etc/ssh/sshd_config.d/50-xenhost.conf",
                         "# Written by the installer: no SSH key was given, so root may log in "
                         "with the password.\nPermitRootLogin yes\n")]
    return []
