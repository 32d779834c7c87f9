"""InstallConfig -> answer file, in the dialect installer/answerfile.py reads: what the wizard leaves
on the installed host so the same install can be repeated unattended.

The root password is never written (neither plaintext nor hash): it belongs in /etc/shadow only.
"""
from __future__ import annotations

import ipaddress
from xml.sax.saxutils import escape, quoteattr

from .config import (PRODUCT_NETWORK_BACKEND, Bootloader, DiskRef, InstallConfig, IPv4Mode, IPv6Mode,
                     Mode, Source)
from .runner import MASK, SECRETS

NO_PASSWORD = ("root password: not recorded here (it is only in the installed host's /etc/shadow); "
               "add a <root-password> element to reuse this file")


def _attrs(**values) -> str:
    """Attributes in the given order, skipping None; names use '-' for '_'."""
    return "".join(f" {k.replace('_', '-')}={quoteattr(str(v))}" for k, v in values.items() if v is not None)


def _yes(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _element(tag: str, text: str = "", **attrs) -> str:
    if not text:
        return f"<{tag}{_attrs(**attrs)}/>"
    return f"<{tag}{_attrs(**attrs)}>{escape(text)}</{tag}>"


def _disk(tag: str, ref: DiskRef, **attrs) -> list[str]:
    if ref.path:
        return [_element(tag, ref.path, **attrs)]
    m = ref.match
    return [f"<{tag}{_attrs(**attrs)}>",
            "  " + _element("match", serial=m.serial, model=m.model, min_size=m.min_size, max_size=m.max_size),
            f"</{tag}>"]


def _location(location: str) -> str:
    """A URL as it may be written down: credentials and secret query values masked (the operator
    puts them back to replay the file)."""
    return SECRETS.mask(location)


MASKED = f"the {MASK} above stand for credentials not recorded here; put them back to reuse this file"


def _masked_note(element: str) -> list[str]:
    """A comment after an element whose location had credentials masked (a replay would fail
    to log in, not knowing why otherwise)."""
    return [f"<!-- {MASKED} -->"] if MASK in element else []


def _source(tag: str, src: Source) -> str:
    return _element(tag, _location(src.location), type=src.type, repo_gpgcheck=_yes(src.repo_gpgcheck),
                    gpgcheck=_yes(src.gpgcheck))


def _common(cfg: InstallConfig) -> list[str]:
    """What every mode of <installation> reads: sources, hooks, boot loader, network backend, Secure
    Boot."""
    lines = [_source("source", s) for s in cfg.sources]
    lines += [_source("driver-source", s) for s in cfg.driver_sources]
    lines += [_element("script", _location(h.location), stage=h.stage, type=h.type) for h in cfg.hooks]
    lines += _masked_note("".join(lines))
    b = cfg.bootloader
    if b != Bootloader():
        lines.append(_element("bootloader", b.name, location=b.location,
                              write_boot_entry=_yes(b.write_boot_entry), serial_console=b.serial_console))
    if cfg.network_backend != PRODUCT_NETWORK_BACKEND:
        lines.append(_element("network-backend", cfg.network_backend.value))
    return lines + _secure_boot(cfg)


def _secure_boot(cfg: InstallConfig) -> list[str]:
    """Written when the operator accepted installing under Secure Boot: a replay goes on as this one did."""
    return [_element("secure-boot", action=cfg.secure_boot)] if cfg.secure_boot != "stop" else []


def _interface(cfg: InstallConfig) -> list[str]:
    i = cfg.interface
    v4, v6 = i.ipv4, i.ipv6
    children = []
    if v4.mode == IPv4Mode.STATIC and v4.address:
        iface = ipaddress.IPv4Interface(v4.address)
        children += [_element("ipaddr", str(iface.ip)), _element("subnet", str(iface.netmask))]
        if v4.gateway:
            children.append(_element("gateway", v4.gateway))
    if v6.mode == IPv6Mode.STATIC and v6.address:
        children.append(_element("ipv6", v6.address))
        if v6.gateway:
            children.append(_element("gatewayv6", v6.gateway))
    attrs = _attrs(name=i.name, hwaddr=i.mac, vlan=i.vlan, proto=v4.mode.value,
                   protov6=None if v6.mode == IPv6Mode.NONE else v6.mode.value)
    if not children:
        return [f"<admin-interface{attrs}/>"]
    return [f"<admin-interface{attrs}>", *("  " + c for c in children), "</admin-interface>"]


def _installation(cfg: InstallConfig) -> list[str]:
    lines = []
    pd = cfg.primary_disk
    if pd:
        lines += _disk("primary-disk", pd.disk, guest_storage=_yes(pd.guest_storage), sr_at_end=_yes(pd.sr_at_end),
                       preserve_first_partition=pd.preserve_first_partition)
    for ref in cfg.guest_disks:
        lines += _disk("guest-disk", ref)
    if cfg.raid:
        lines.append(f"<raid{_attrs(device=cfg.raid.device)}>")
        lines += ["  " + x for ref in cfg.raid.members for x in _disk("disk", ref)]
        lines.append("</raid>")
    if cfg.root_password.hash:
        lines.append(f"<!-- {NO_PASSWORD} -->")
    lines += [_element("ssh-authorized-key", k) for k in cfg.ssh_authorized_keys]
    lines += _common(cfg)
    if cfg.interface:
        lines += _interface(cfg)
    lines += [_element("name-server", s) for s in cfg.name_servers]
    if cfg.hostname:
        lines.append(_element("hostname", cfg.hostname))
    lines.append(_element("ntp", source=cfg.ntp.mode.value))
    lines += [_element("ntp-server", s) for s in cfg.ntp.servers]
    lines.append(_element("timezone", cfg.timezone))
    if cfg.keymap:
        lines.append(_element("keymap", cfg.keymap))
    lines += [_element("service", name=s.name, state=s.state) for s in cfg.services]
    return lines


def to_xml(cfg: InstallConfig, comment: str | None = None) -> str:
    head = ['<?xml version="1.0"?>'] + ([f"<!-- {escape(comment).replace('--', '- -')} -->"] if comment else [])
    if cfg.mode == Mode.RESTORE:
        root, attrs = "restore", ""
        body = ([_element("backup-disk", cfg.backup_disk.path)] if cfg.backup_disk else [])
        body += [_source("driver-source", s) for s in cfg.driver_sources]
        body += [_element("script", _location(h.location), stage=h.stage, type=h.type) for h in cfg.hooks]
        body += _masked_note("".join(body))
        body += _secure_boot(cfg)
    elif cfg.mode == Mode.UPGRADE:
        root, attrs = "installation", _attrs(mode="upgrade")
        body = [_element("existing-installation", cfg.existing_installation.path)] + _common(cfg)
    else:
        root = "installation"
        attrs = _attrs(mode=None if cfg.mode == Mode.FRESH else cfg.mode.value, sr_type=cfg.sr_type.value,
                       repo_gpgcheck=None if cfg.repo_gpgcheck else "no", gpgcheck=None if cfg.gpgcheck else "no",
                       existing_data=None if cfg.existing_data == "erase" else cfg.existing_data)
        body = _installation(cfg)
    return "\n".join([*head, f"<{root}{attrs}>", *("  " + line for line in body), f"</{root}>", ""])
