"""XCP-ng / XenServer compatible answer files -> InstallConfig.

Unlike the anchor implementation, nothing is silently ignored: unknown elements and attributes,
bad values and contradictions are errors with file:line:column; old spellings are warnings.
Plaintext passwords are hashed here and never serialised. The parser touches no global: the secrets
it finds travel in InstallConfig.secrets, for the front end to register with its mask.

This module reads the root elements (<installation> in its modes, <restore>); the per-element
readers are in answerfile_disks, answerfile_network, answerfile_sources and answerfile_host, the
reader's tools in answerfile_reader, XCP-ng's readings in answerfile_xcpng.
"""
from __future__ import annotations

from pathlib import Path

from . import answerfile_disks as disks
from . import answerfile_host as host
from . import answerfile_network as network
from . import answerfile_sources as sources
from . import values
from .answerfile_mask import secrets_of
from .answerfile_reader import Reader
from .answerfile_schema import ELEMENTS, ROOTS, check_structure
from .answerfile_xcpng import UPGRADE_ONLY_READS
from .config import InstallConfig, Mode, SRType
from .errors import ConfigError, Report
from .xmlsafe import MAX_BYTES, XMLInputError, parse as parse_xml


def parse_bytes(raw: bytes, filename: str = "<answerfile>") -> tuple[InstallConfig, Report]:
    """Parse an answer file. Raises ConfigError (all problems, positioned); returns warnings. The
    config's secrets hold every secret of the document (the root password in every mode, even
    unread, the credentials of its locations) and the hash made of a plaintext password."""
    report = Report(filename)
    try:
        root = parse_xml(raw)
    except XMLInputError as exc:
        report.error(exc.message, exc.line, exc.column)
        raise ConfigError(report.items) from None
    if root.tag not in ROOTS:
        hint = " (use <installation mode=\"upgrade\">)" if root.tag == "upgrade" else ""
        report.error(f"unexpected root element <{root.tag}>{hint}; expected <installation> or "
                     "<restore>", root.line, root.column)
        raise ConfigError(report.items)
    check_structure(root, report)
    reader = Reader(root, report)
    cfg = (_read_installation if root.tag == "installation" else _read_restore)(reader)
    report.raise_if_errors()
    cfg.secrets = frozenset(secrets_of(root) | reader.secrets)
    return cfg, report


def parse_file(path: str | Path) -> tuple[InstallConfig, Report]:
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)  # enough to detect "too large" without reading it all
    except OSError as exc:
        report = Report(str(path))
        report.error(f"cannot read answer file: {exc.strerror}")
        raise ConfigError(report.items) from None
    return parse_bytes(raw, str(path))


def _read_installation(r: Reader) -> InstallConfig:
    mode_word = r.value(r.root, ("mode",), lambda v: values.choice(
        v, ("fresh", "reinstall", "upgrade"), "mode"), "fresh")
    cfg = InstallConfig(mode=Mode(mode_word or "fresh"))
    _read_sources_and_boot(r, cfg)
    if cfg.mode == Mode.UPGRADE:
        _read_upgrade(r, cfg)
        return cfg
    if (node := r.one(r.root, "existing-installation")) is not None:
        r.err(node, "<existing-installation> is only used with mode=\"upgrade\"")
    _read_storage(r, cfg)
    node = r.require(r.one(r.root, "admin-interface"), "admin-interface",
                     "the management network interface")
    if node is not None:
        cfg.interface = network.interface(r, node)
    _read_access(r, cfg)
    _read_host(r, cfg)
    disks.check_roles(r, cfg)
    return cfg


def _read_sources_and_boot(r: Reader, cfg: InstallConfig) -> None:
    """What every mode of <installation> reads: signature checks, sources, scripts, boot loader,
    network backend and Secure Boot."""
    root = r.root
    cfg.repo_gpgcheck = r.value(root, ("repo-gpgcheck", "netinstall-gpg-check"), values.boolean, True)
    cfg.gpgcheck = r.value(root, ("gpgcheck",), values.boolean, True)
    sources.signature_warnings(r, root)
    cfg.existing_data = r.value(root, ("existing-data",), lambda v: values.choice(
        v, ("erase", "refuse"), "existing-data"), "erase")
    cfg.sources = sources.sources(r)
    cfg.driver_sources = sources.driver_sources(r)
    cfg.hooks = sources.hooks(r)
    if (node := r.one(root, "bootloader")) is not None:
        cfg.bootloader = host.bootloader(r, node)
    if (node := r.one(root, "network-backend")) is not None:
        cfg.network_backend = network.network_backend(r, node) or cfg.network_backend
    if (node := r.one(root, "secure-boot")) is not None:
        cfg.secure_boot = host.secure_boot(r, node)


def _read_upgrade(r: Reader, cfg: InstallConfig) -> None:
    """The installation to upgrade; everything else keeps the installation's settings."""
    root = r.root
    node = r.require(r.one(root, "existing-installation"), "existing-installation",
                     "the disk holding the installation to upgrade")
    if node is not None:
        cfg.existing_installation = disks.disk_named(r, node)
    for child in root.children:
        if child.tag not in UPGRADE_ONLY_READS:
            r.report.warning(f"<{child.tag}> is ignored in upgrade mode: the settings of the "
                             "existing installation are kept", child.line, child.column)
    for name in ("sr-type", "srtype", "existing-data"):
        if name in root.attrs:
            r.report.warning(f"{name!r} is ignored in upgrade mode", root.attrs[name].line,
                             root.attrs[name].column)


def _read_storage(r: Reader, cfg: InstallConfig) -> None:
    """The SR type, the primary disk, the guest disks and a RAID device."""
    cfg.sr_type = r.value(r.root, ("sr-type", "srtype"), lambda v: SRType(values.choice(
        v, ("ext", "lvm"), "sr-type")), SRType.EXT)
    node = r.require(r.one(r.root, "primary-disk"), "primary-disk", "the disk to install onto")
    if node is not None:
        cfg.primary_disk = disks.primary_disk(r, node)
    cfg.guest_disks = disks.guest_disks(r, cfg.primary_disk)
    if (node := r.one(r.root, "raid")) is not None:
        cfg.raid = disks.raid(r, node)


def _read_access(r: Reader, cfg: InstallConfig) -> None:
    """How root logs in: a password, SSH keys, or (with a warning) not until the console sets one."""
    if (password := r.one(r.root, "root-password")) is not None:
        cfg.root_password = host.root_password(r, password)
    cfg.ssh_authorized_keys = r.texts(r.root, ("ssh-authorized-key",), values.ssh_public_key,
                                      "an SSH public key")
    if password is None and not cfg.ssh_authorized_keys:
        r.report.warning("no <root-password> and no <ssh-authorized-key>: root cannot log in until "
                         "a password is set on the console at first boot", r.root.line, r.root.column)


def _read_host(r: Reader, cfg: InstallConfig) -> None:
    """Name servers, host name, time zone, keymap, time servers and services."""
    cfg.name_servers = network.name_servers(r)
    if (node := r.one(r.root, "hostname")) is not None:
        cfg.hostname = r.text(node, values.hostname, "a host name")
    if (node := r.one(r.root, "timezone")) is not None:
        cfg.timezone = r.text(node, values.timezone, "a time zone like Europe/Paris") or cfg.timezone
    if (node := r.one(r.root, "keymap")) is not None:
        cfg.keymap = r.text(node, values.keymap, "a keymap like us or de") or cfg.keymap
    cfg.ntp = network.ntp(r, cfg.interface)
    cfg.services = host.services(r)


def _read_restore(r: Reader) -> InstallConfig:
    cfg = InstallConfig(mode=Mode.RESTORE)
    if (node := r.one(r.root, "backup-disk")) is not None:
        cfg.backup_disk = disks.disk_named(r, node)
    cfg.hooks = sources.hooks(r)
    cfg.driver_sources = sources.driver_sources(r)
    if (node := r.one(r.root, "secure-boot")) is not None:
        cfg.secure_boot = host.secure_boot(r, node)
    return cfg


__all__ = ["parse_bytes", "parse_file", "ELEMENTS"]
