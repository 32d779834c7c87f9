"""The installer's kernel command line, read as XCP-ng reads it, but strictly.

Parameters the installer does not know (root=, quiet, ...) belong to the kernel and are ignored.
Contradictions the reference resolves silently or by crashing are errors here. Parsing touches no
global: the secrets of the line (sshpassword= and its hash, an answer file URL's credentials) travel
in BootOptions.secrets, for the front end to register with its mask.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from . import locations, passwd, secureboot, values
from .config import AtExit
from .errors import InstallerError, Report

WHERE = "<kernel command line>"
ANSWER_KEYS = ("answerfile", "rt_answerfile", "answerfile_generator")
ANSWER_SCHEMES = ("http", "https", "ftp", "file", "nfs")
INSTALLER_KEYS = ANSWER_KEYS + ("network_device", "answerfile_device", "network_config", "atexit",
                                "keymap", "sshpassword", "no-gpgcheck", "no-repo-gpgcheck",
                                "existing_data", "secureboot")
BLANKS = " \t\n"
# XCP-ng installer parameters without an equivalent here: (name, takes a value) -> what happens instead.
# Not errors (an XCP-ng PXE entry keeps working), but never silently dropped.
XCPNG_ONLY = {
    ("map_netdev", True): "interfaces keep the kernel's names",
    ("boot_console", True): "the installed host's console follows console= and the answer file",
    ("extrarepo", True): "only the answer file's sources are installed",
    ("device_mapper_multipath", True): "multipath devices are not assembled",
    ("use_ibft", False): "iSCSI boot disks are not supported",
    ("mount", True): "nothing is mounted", ("make-ramdisk", True): "nothing is copied to RAM",
    ("xsinst", True): "nothing is copied to RAM", ("start", True): "the installer starts",
    ("term", True): "TERM is the console's", ("shell", False): "no shell is started",
    ("bash-shell", False): "no shell is started", ("blacklist", True): "udev loads every module",
    ("extramodules", True): "no extra module is loaded",
    ("enable-ide", False): "IDE drivers load as any other",
    ("onecd", False): "there is one medium", ("virtual", False): "the hardware is probed",
    ("cc-preparations", False): "no Common Criteria configuration is made",
    ("reboot", False): "atexit= decides, reboot by default",
}
NO_REPO_GPGCHECK = ("no-repo-gpgcheck: the signature of the product tree is NOT checked: its "
                    "manifest is trusted without the product key, so a tampered tree would be installed")
NO_GPGCHECK = ("no-gpgcheck has no effect: Debian packages carry no signatures of their own; each "
               "one is checked against the package pool's signed index, which stays checked")


@dataclass
class NetworkConfig:
    mode: str = "dhcp"               # dhcp | static
    address: str | None = None       # 192.0.2.10/24
    gateway: str | None = None
    dns: list[str] = field(default_factory=list)
    domain: str | None = None
    vlan: int | None = None


@dataclass
class BootOptions:
    answerfile: str | None = None
    answerfile_kind: str | None = None      # which of ANSWER_KEYS gave it
    network_device: str = "all"             # all | interface name | MAC
    network_device_given: bool = False
    network: NetworkConfig = field(default_factory=NetworkConfig)
    network_config_given: bool = False
    atexit: AtExit = AtExit.REBOOT
    consoles: list[str] = field(default_factory=list)
    keymap: str | None = None
    ssh_password_set: bool = False          # the value itself is kept out of this object:
    ssh_password_hash: str | None = None    # only its crypt(5) hash, itself a secret
    no_gpgcheck: bool = False
    no_repo_gpgcheck: bool = False
    existing_data: str | None = None        # erase | refuse; None: the answer file decides
    secure_boot: str | None = None          # stop | continue: continue accepts installing under
                                            # Secure Boot, as the answer file's <secure-boot> can
    # what no log may show (sshpassword= and its hash, an answer file URL's credentials): for the
    # front end to register (runner.SECRETS.add_all(opts.secrets)); never shown, never compared
    secrets: frozenset[str] = field(default=frozenset(), repr=False, compare=False,
                                    metadata={"plain": False})

    @property
    def unattended(self) -> bool:
        return self.answerfile is not None

    @property
    def needs_network(self) -> bool:
        remote = self.answerfile is not None and not self.answerfile.lower().startswith("file://")
        return remote or self.network_device_given


def tokens(text: str, report: Report | None = None) -> list[tuple[str, int]]:
    """Split like the kernel: on blanks; double quotes group (single quotes are ordinary)."""
    out, i, n = [], 0, len(text)
    while i < n:
        while i < n and text[i] in BLANKS:
            i += 1
        if i >= n:
            break
        start, buf, quoted = i, [], False
        while i < n and (quoted or text[i] not in BLANKS):
            if text[i] == '"':
                quoted = not quoted
            else:
                buf.append(text[i])
            i += 1
        if quoted and report is not None:
            report.error("unterminated double quote", 1, start + 1)
            break
        out.append(("".join(buf), start + 1))
    return out


def _network_config(value: str, col: int, report: Report) -> NetworkConfig:
    word = value.strip()
    mode, _, rest = word.partition(":")
    mode = mode.lower()
    cfg = NetworkConfig(mode=mode)
    if mode not in ("dhcp", "static"):
        report.error(f"network_config: mode must be dhcp or static, got {mode!r}", 1, col)
        return cfg
    settings: dict[str, str] = {}
    for piece in filter(None, rest.split(";")):
        key, eq, val = piece.partition("=")
        key = key.strip().lower()
        if not eq:
            report.error(f"network_config: {piece!r} is not key=value", 1, col)
        elif key in settings:
            report.error(f"network_config: {key} is given twice", 1, col)
        else:
            settings[key] = val.strip()
    allowed = ("vlan",) if mode == "dhcp" else ("ip", "netmask", "gateway", "dns", "domain", "vlan")
    for key in settings:
        if key not in allowed:
            report.error(f"network_config: unknown setting {key!r} for {mode} (allowed: "
                         f"{', '.join(allowed)})", 1, col)
    try:
        if "vlan" in settings:
            cfg.vlan = values.vlan(settings["vlan"])
        if mode == "static":
            if "ip" not in settings or "netmask" not in settings:
                raise ValueError("static needs ip=...;netmask=...")
            addr = values.ipv4_address(settings["ip"])
            iface = values.ipv4_interface(addr, values.ipv4_prefix(settings["netmask"]))
            cfg.address = str(iface)
            if settings.get("gateway"):
                gw = values.ipv4_address(settings["gateway"])
                values.gateway_in(gw, iface)
                cfg.gateway = str(gw)
            cfg.dns = [str(values.name_server(d)) for d in settings.get("dns", "").split(",") if d.strip()]
            if settings.get("domain"):
                cfg.domain = values.hostname(settings["domain"])
    except ValueError as exc:
        report.error(f"network_config: {exc}", 1, col)
    return cfg


class Param(NamedTuple):
    """One installer parameter of the boot line: key=value (has_value: an = was written)."""
    key: str
    value: str
    has_value: bool
    col: int


def _answer_file(opts: BootOptions, p: Param, report: Report) -> None:
    if opts.answerfile_kind:
        raise ValueError(f"{p.key} and {opts.answerfile_kind} both given; pass exactly one of "
                         f"{', '.join(ANSWER_KEYS)}")
    opts.secrets |= frozenset(locations.credentials(p.value))   # messages show them masked
    scheme = p.value.split("://", 1)[0].lower() if "://" in p.value else ""
    rest = p.value.split("://", 1)[1] if "://" in p.value else ""
    if scheme not in ANSWER_SCHEMES or not (rest.startswith("/") if scheme == "file" else
                                            rest and not rest.startswith("/")):
        raise ValueError(f"{p.key} needs a URL starting with "
                         f"{', '.join(s + '://' for s in ANSWER_SCHEMES)}; "
                         f"got {locations.shown(p.value)!r}")
    try:
        locations.parse(p.value, ANSWER_SCHEMES)
    except InstallerError as exc:
        raise ValueError(f"{p.key}: {exc}") from None
    opts.answerfile, opts.answerfile_kind = p.value, p.key


def _network_device(opts: BootOptions, p: Param, report: Report) -> None:
    # Interface names are case-sensitive (only MACs and the word "all" are not)
    dev = p.value.strip()
    if dev.lower() == "all":
        dev = "all"
    elif re.match(r"[0-9a-f]{2}[:-]", dev, re.IGNORECASE):
        dev = values.mac_address(dev)
    else:
        dev = values.interface_name(dev)
        if dev != dev.lower():
            report.warning(f"{p.key}={dev}: interface names are case-sensitive; {dev} is used "
                           f"as given (XCP-ng would look for {dev.lower()})", 1, p.col)
    opts.network_device, opts.network_device_given = dev, True
    if p.key == "answerfile_device":
        report.warning("answerfile_device is deprecated; use network_device", 1, p.col)


def _network(opts: BootOptions, p: Param, report: Report) -> None:
    opts.network = _network_config(p.value, p.col, report)
    opts.network_config_given = True


def _existing_data(opts: BootOptions, p: Param, report: Report) -> None:
    before = opts.existing_data       # given twice: the stricter wins
    opts.existing_data = values.choice(p.value, ("erase", "refuse"), "existing_data")
    if before == "refuse":
        opts.existing_data = "refuse"


def _secure_boot(opts: BootOptions, p: Param, report: Report) -> None:
    opts.secure_boot = values.choice(p.value, secureboot.ACTIONS, "secureboot")


def _atexit(opts: BootOptions, p: Param, report: Report) -> None:
    opts.atexit = AtExit(values.choice(p.value, tuple(a.value for a in AtExit), "atexit"))


def _console(opts: BootOptions, p: Param, report: Report) -> None:
    try:  # console= is the kernel's: what is not a terminal is left to it, never opened
        opts.consoles.append(values.console(p.value))
    except ValueError as exc:
        report.warning(f"console: {exc}: left to the kernel; the installer does not write "
                       "to it", 1, p.col)


def _keymap(opts: BootOptions, p: Param, report: Report) -> None:
    opts.keymap = values.keymap(p.value)


def _sshpassword(opts: BootOptions, p: Param, report: Report) -> None:
    opts.secrets |= {p.value}
    if len(p.value) < 6:
        raise ValueError("sshpassword must be at least 6 characters")
    if passwd.too_long(p.value):
        raise ValueError(f"sshpassword must be {passwd.too_long(p.value)}")
    opts.ssh_password_hash = passwd.sha512_crypt(p.value)
    opts.secrets |= {opts.ssh_password_hash}
    opts.ssh_password_set = True


def _no_check(opts: BootOptions, p: Param, report: Report) -> None:
    if p.has_value:
        raise ValueError(f"{p.key} takes no value")
    setattr(opts, p.key.replace("-", "_"), True)
    report.warning(NO_REPO_GPGCHECK if p.key == "no-repo-gpgcheck" else NO_GPGCHECK, 1, p.col)


# key -> what it sets; a ValueError a handler raises is the parameter's located error
HANDLERS: dict[str, Callable[[BootOptions, Param, Report], None]] = {
    **dict.fromkeys(ANSWER_KEYS, _answer_file),
    "network_device": _network_device, "answerfile_device": _network_device,
    "network_config": _network, "existing_data": _existing_data, "secureboot": _secure_boot,
    "atexit": _atexit,
    "console": _console, "keymap": _keymap, "sshpassword": _sshpassword,
    "no-gpgcheck": _no_check, "no-repo-gpgcheck": _no_check,
}


def parse(text: str) -> tuple[BootOptions, Report]:
    """The boot line's installer options (their secrets in opts.secrets, registered nowhere) and its
    warnings; ConfigError listing every error."""
    report = Report(WHERE)
    opts = BootOptions()
    seen: dict[str, int] = {}
    given: dict[str, str] = {}          # the token that last set each parameter
    for token, col in tokens(text, report):
        key, eq, value = token.partition("=")
        if key not in INSTALLER_KEYS and not (key == "console" and eq):
            if (key, bool(eq)) in XCPNG_ONLY:
                report.warning(f"{token.split('=')[0]}: XCP-ng's installer parameter is not supported "
                               f"here and is ignored ({XCPNG_ONLY[key, bool(eq)]})", 1, col)
            continue  # the kernel's own parameters
        same = "network_device" if key == "answerfile_device" else key
        if same in seen and key != "console":
            if not _repeat_allowed(key, token, given[same], col, seen[same], report):
                continue
        seen.setdefault(same, col)
        seen.setdefault(key, col)
        given[same] = token
        try:
            HANDLERS[key](opts, Param(key, value, bool(eq), col), report)
        except ValueError as exc:
            report.error(f"{key}: {exc}" if not str(exc).startswith(key) else str(exc), 1, col)
    _contradictions(opts, seen, report)
    report.raise_if_errors()
    return opts, report


def _repeat_allowed(key: str, token: str, first: str, col: int, first_col: int, report: Report) -> bool:
    """XCP-ng lets the last of a repeated parameter win (an operator appends atexit=shell at the boot
    prompt to a PXE entry that has atexit=reboot): so do we, and say so. Which answer file is meant
    decides which disks are erased: two different ones stay an error."""
    if token == first:
        report.warning(f"{key} is given twice with the same value (first at column {first_col})", 1, col)
        return False
    if key in ANSWER_KEYS:
        report.error(f"{key} is given twice with different values (first at column {first_col}); "
                     "give one answer file", 1, col)
        return False
    name = first.partition("=")[0]
    rule = "the stricter, refuse, wins" if key == "existing_data" else "the last one is used, as in XCP-ng"
    report.warning(f"{key} is given twice (first at column {first_col}, as {name}): {rule}", 1, col)
    return True


def _contradictions(opts: BootOptions, seen: dict[str, int], report: Report) -> None:
    if opts.answerfile and (opts.no_gpgcheck or opts.no_repo_gpgcheck):
        key = "no-gpgcheck" if opts.no_gpgcheck else "no-repo-gpgcheck"
        report.error(f"{key} cannot be combined with {opts.answerfile_kind}: set gpgcheck=\"false\" "
                     "or repo-gpgcheck=\"false\" in the answer file instead", 1, seen[key])
    if opts.network.mode == "static" and opts.network_device == "all":
        report.error("network_config=static needs network_device= naming one interface (name or "
                     "MAC), not all", 1, seen["network_config"])
    elif opts.network.vlan and opts.network_device == "all":
        report.error("network_config with vlan= needs network_device= naming one interface (name "
                     "or MAC), not all", 1, seen["network_config"])
    if opts.network_config_given and not opts.needs_network:
        report.warning("network_config has no effect: no remote answer file and no network_device",
                       1, seen["network_config"])


def applied(cfg, opts: BootOptions, wizard: bool = False):
    """The config with the settings that come from the boot line rather than the answer file (a
    new config: the one given is left as it is). wizard: the config is the wizard's, whose Secure
    Boot screen alone accepts: secureboot= is the answer file's twin and is not applied, so the
    answer file the wizard leaves says continue only when the operator chose it on that screen."""
    changes: dict = {"at_exit": opts.atexit}
    if opts.keymap and cfg.keymap is None:   # the answer file's or the wizard's own choice wins
        changes["keymap"] = opts.keymap
    # XCP-ng's meaning for a wizard install (with an answer file they are refused in parse())
    if opts.no_repo_gpgcheck:
        changes["repo_gpgcheck"] = False
    if opts.no_gpgcheck:
        changes["gpgcheck"] = False
    if opts.existing_data == "refuse":   # the stricter of boot line and answer file wins
        changes["existing_data"] = "refuse"
    if opts.secure_boot == "continue" and not wizard:   # either accepting is enough: this boot's word, or the file's
        changes["secure_boot"] = "continue"
    serial = [c for c in opts.consoles if c.startswith("ttyS")]
    if serial:  # installed on a serial console: the host boots with one by default too
        changes["bootloader"] = dataclasses.replace(cfg.bootloader, serial_console=serial[-1])
    return dataclasses.replace(cfg, **changes)


def read_proc() -> str:
    with open("/proc/cmdline") as fh:
        return fh.read()
