"""XCP-ng / XenServer compatible answer files -> InstallConfig.

Unlike the anchor implementation, nothing is silently ignored: unknown elements and attributes,
bad values and contradictions are errors with file:line:column; old spellings are warnings.
Plaintext passwords are hashed here and never stored.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from .runner import SECRETS
from . import answerfile_mask, passwd, values
from .answerfile_schema import ELEMENTS, ROOTS, check_structure
from .config import (HOOK_STAGES, Bootloader, DiskMatch, DiskRef, Hook, InstallConfig, IPv4Config,
                     IPv4Mode, IPv6Config, IPv6Mode, ManagementInterface, Mode, NetworkBackend,
                     NTPConfig, NTPMode, PrimaryDisk, Raid, RootPassword, Service, Source, SRType)
from .errors import ConfigError, Report
from .xmlsafe import MAX_BYTES, Node, XMLInputError, parse as parse_xml

# Optional attributes XCP-ng reads as absent when empty (attr=""): the same here, with a warning.
# Not mode="": a blank mode may be an unfilled template, and "fresh" would erase the disk.
XCPNG_OPTIONAL_ATTRIBUTES = {
    "installation": ("sr-type", "srtype", "repo-gpgcheck", "gpgcheck"),
    "primary-disk": ("guest-storage", "gueststorage", "sr-at-end", "preserve-first-partition"),
    "admin-interface": ("name", "hwaddr", "protov6", "vlan"),
    "root-password": ("type",),
    "source": ("repo-gpgcheck", "gpgcheck"),
    "post-install-script": ("type",), "install-failed-script": ("type",),
    "bootloader": ("location", "write-boot-entry"),
}
UPGRADE_ONLY_READS = ("existing-installation", "source", "network-backend", "bootloader", "script",
                      "post-install-script", "install-failed-script", "driver-source")


class _Reader:
    """Reads one parsed document, reporting every problem against its position."""

    def __init__(self, root: Node, report: Report):
        self.root, self.report = root, report

    # -- helpers ---------------------------------------------------------------------------
    def err(self, node: Node, message: str) -> None:
        self.report.error(message, node.line, node.column)

    def children(self, node: Node, *names: str) -> list[Node]:
        return [c for c in node.children if c.tag in names]

    def one(self, node: Node, *names: str) -> Node | None:
        found = self.children(node, *names)
        if len({c.tag for c in found}) > 1:
            self.err(found[1], f"<{found[1].tag}> and <{found[0].tag}> (line {found[0].line}) "
                     "give the same setting; keep one")
        return found[0] if found else None

    def attr(self, node: Node, *names: str) -> tuple[str | None, int, int]:
        present = [n for n in names if n in node.attrs]
        if len(present) > 1:
            a = node.attrs[present[1]]
            self.report.error(f"attributes {present[0]!r} and {present[1]!r} give the same "
                              "setting; keep one", a.line, a.column)
        if not present:
            return None, node.line, node.column
        a = node.attrs[present[0]]
        return a.value, a.line, a.column

    def value(self, node: Node, names: tuple[str, ...], convert: Callable, default=None,
              required: bool = False):
        raw, line, col = self.attr(node, *names)
        if raw is None:
            if required:
                self.err(node, f"<{node.tag}> needs the attribute {names[0]!r}")
            return default
        used = next(n for n in names if n in node.attrs)
        if not raw.strip() and not required and used in XCPNG_OPTIONAL_ATTRIBUTES.get(node.tag, ()):
            self.report.warning(f"<{node.tag} {used}=\"{raw}\"> is empty and ignored, as XCP-ng does: "
                                "the default applies", line, col)
            return default
        try:
            result = convert(raw)
        except ValueError as exc:
            self.report.error(f"<{node.tag} {used}=\"{raw}\">: {exc}", line, col)
            return default
        if convert is values.boolean and (note := values.boolean_note(raw)):
            self.report.warning(f"<{node.tag} {used}=\"{raw}\">: {note}", line, col)
        return result

    def text(self, node: Node, convert: Callable | None = None, what: str = "a value"):
        raw = node.stripped_text()
        line, col = (node.text_line, node.text_column) if raw else (node.line, node.column)
        if not raw:
            self.report.error(f"<{node.tag}> is empty; expected {what}", line, col)
            return None
        if convert is None:
            return raw
        try:
            return convert(raw)
        except ValueError as exc:
            self.report.error(f"<{node.tag}>: {exc}", line, col)
            return None

    def require(self, node: Node | None, name: str, why: str) -> Node | None:
        if node is None:
            self.err(self.root, f"<{self.root.tag}> needs a <{name}> element: {why}")
        return node

    # -- elements --------------------------------------------------------------------------
    def disk_ref(self, node: Node) -> DiskRef | None:
        match = self.one(node, "match")
        if match is not None:
            if node.stripped_text():
                self.report.error(f"<{node.tag}> has both a disk name and <match>; use one",
                                  node.text_line, node.text_column)
            return DiskRef(match=self.disk_match(match))
        path = self.text(node, values.disk_name, "a disk name such as sda, nvme0n1 or "
                         "disk/by-id/..., or a <match> element")
        return DiskRef(path=path) if path else None

    def disk_match(self, node: Node) -> DiskMatch:
        m = DiskMatch(serial=self.value(node, ("serial",), lambda v: _criterion(v, "serial number")),
                      model=self.value(node, ("model",), lambda v: _criterion(v, "model name")),
                      min_size=self.value(node, ("min-size",), lambda v: _match_size(v, "every")),
                      max_size=self.value(node, ("max-size",), lambda v: _match_size(v, "no")))
        if not node.attrs:   # a bad criterion was reported already
            self.err(node, "<match> needs at least one of serial, model, min-size, max-size")
        if m.min_size is not None and m.max_size is not None and m.min_size > m.max_size:
            self.err(node, "<match> min-size is larger than max-size")
        return m

    def primary_disk(self, node: Node) -> PrimaryDisk | None:
        ref = self.disk_ref(node)
        pfp = self.value(node, ("preserve-first-partition",), _preserve_first, "if-utility")
        if ref is None:
            return None
        return PrimaryDisk(
            disk=ref,
            guest_storage=self.value(node, ("guest-storage", "gueststorage"), values.boolean, True),
            sr_at_end=self.value(node, ("sr-at-end",), values.boolean, True),
            preserve_first_partition=pfp)

    def guest_disks(self, primary: PrimaryDisk | None) -> list[DiskRef]:
        """XCP-ng merges the primary disk and the guest disks as a set: a disk listed twice, or the
        primary disk listed as a guest disk, means the same as listing it once (with a warning)."""
        nodes = self.children(self.root, "guest-disk")
        for wrapper in self.children(self.root, "guest-disks"):
            nodes += self.children(wrapper, "guest-disk")
        refs, seen = [], {}
        for node in nodes:
            ref = self.disk_ref(node)
            if ref is None:
                continue
            key = ref.describe()
            if primary is not None and key == primary.disk.describe():
                override = "" if primary.guest_storage else ", overriding guest-storage=\"no\""
                self.report.warning(f"guest disk {key} is the primary disk: as in XCP-ng, this puts the "
                                    f"local SR on the primary disk (partition 3){override}",
                                    node.line, node.column)
                primary.guest_storage = True
                continue
            if key in seen:
                self.report.warning(f"guest disk {key} is listed twice (first at line {seen[key]}); it "
                                    "is used once, as in XCP-ng", node.line, node.column)
                continue
            seen[key] = node.line
            refs.append(ref)
        return refs

    def raid(self, node: Node) -> Raid | None:
        device = self.value(node, ("device",), _md_device, required=True)
        members = [r for r in (self.disk_ref(d) for d in self.children(node, "disk")) if r]
        if len(members) < 2:
            self.err(node, f"<raid> needs at least two <disk> members, found {len(members)}")
        paths = [m.path for m in members]
        if len(set(paths)) != len(paths):
            self.err(node, "<raid> lists the same disk twice")
        return Raid(device=device, members=members) if device else None

    def interface(self, node: Node) -> ManagementInterface:
        iface = ManagementInterface(
            name=self.value(node, ("name",), values.interface_name),
            mac=self.value(node, ("hwaddr",), values.mac_address),
            vlan=self.value(node, ("vlan",), values.vlan))
        if not any(node.attrs[a].value.strip() for a in ("name", "hwaddr") if a in node.attrs):
            self.err(node, "<admin-interface> needs a 'name' (e.g. eth0) or 'hwaddr' (MAC) attribute")
        proto = self.value(node, ("proto",), lambda v: values.choice(v, ("dhcp", "static", "none"),
                                                                     "proto"), required=True)
        protov6 = self.value(node, ("protov6",), lambda v: values.choice(
            v, ("dhcp", "static", "autoconf", "none"), "protov6"), "none")
        ipaddr, subnet, gateway = (self.one(node, "ipaddr", "ip"), self.one(node, "subnet", "subnet-mask"),
                                   self.one(node, "gateway"))
        if proto == "static":
            iface.ipv4 = self.static_ipv4(node, ipaddr, subnet, gateway)
        else:
            for extra in (ipaddr, subnet, gateway):   # XCP-ng ignores them: proto decides
                if extra is not None:
                    self.report.warning(f"<{extra.tag}> is ignored: proto=\"{proto}\" (it is used "
                                        "only with proto=\"static\")", extra.line, extra.column)
            iface.ipv4 = IPv4Config(mode=IPv4Mode(proto or "dhcp"))
        ipv6, gw6 = self.one(node, "ipv6"), self.one(node, "gatewayv6")
        if protov6 == "static":
            iface.ipv6 = self.static_ipv6(node, ipv6, gw6)
        else:
            for extra in (ipv6, gw6):
                if extra is not None:
                    self.report.warning(f"<{extra.tag}> is ignored: protov6=\"{protov6}\" (it is used "
                                        "only with protov6=\"static\")", extra.line, extra.column)
            iface.ipv6 = IPv6Config(mode=IPv6Mode(protov6 or "none"))
        if proto == "none" and protov6 in ("none", None):
            self.err(node, "<admin-interface> must configure IPv4 or IPv6 (proto and protov6 are "
                     "both none)")
        return iface

    def static_ipv4(self, node, ipaddr, subnet, gateway) -> IPv4Config:
        if ipaddr is None or subnet is None:
            self.err(node, "proto=\"static\" needs <ipaddr> and <subnet> (netmask) elements")
            return IPv4Config(mode=IPv4Mode.STATIC)
        addr = self.text(ipaddr, values.ipv4_address, "an IPv4 address")
        prefix = self.text(subnet, values.ipv4_prefix, "a netmask like 255.255.255.0")
        cfg = IPv4Config(mode=IPv4Mode.STATIC)
        if addr is None or prefix is None:
            return cfg
        try:
            iface = values.ipv4_interface(addr, prefix)
        except ValueError as exc:
            self.report.error(f"<{ipaddr.tag}>: {exc}", ipaddr.text_line, ipaddr.text_column)
            return cfg
        cfg.address = str(iface)
        if gateway is not None and gateway.stripped_text():
            gw = self.text(gateway, values.ipv4_address, "an IPv4 address")
            if gw is not None:
                try:
                    values.gateway_in(gw, iface)
                    cfg.gateway = str(gw)
                except ValueError as exc:
                    self.report.error(f"<gateway>: {exc}", gateway.text_line, gateway.text_column)
        return cfg

    def static_ipv6(self, node, ipv6, gw6) -> IPv6Config:
        cfg = IPv6Config(mode=IPv6Mode.STATIC)
        if ipv6 is None:
            self.err(node, "protov6=\"static\" needs an <ipv6> element (address/prefix)")
            return cfg
        iface = self.text(ipv6, values.ipv6_interface, "an IPv6 address with prefix")
        if iface is None:
            return cfg
        cfg.address = str(iface)
        if gw6 is not None:
            gw = self.text(gw6, values.ipv6_address, "an IPv6 address")
            if gw is not None:
                if not gw.is_link_local:
                    try:
                        values.gateway_in(gw, iface)
                    except ValueError as exc:
                        self.report.error(f"<gatewayv6>: {exc}", gw6.text_line, gw6.text_column)
                        return cfg
                cfg.gateway = str(gw)
        if iface.network.prefixlen == 128 and cfg.gateway is None:
            self.report.error(f"<ipv6>: {iface} is a single address with no gateway: the host could "
                              "reach nothing; give the subnet's prefix length or a <gatewayv6>",
                              ipv6.text_line, ipv6.text_column)
        return cfg

    def root_password(self, node: Node) -> RootPassword:
        kind = self.value(node, ("type",), lambda v: values.choice(v, ("plaintext", "hash"), "type"),
                          "plaintext")
        secret = node.text.strip()
        SECRETS.add(secret)   # plaintext or hash: neither belongs in a log or a saved answer file
        line, col = (node.text_line, node.text_column) if secret else (node.line, node.column)
        if kind == "hash" and secret == "!!":    # XCP-ng's documented "no password yet"
            self.report.warning("<root-password type=\"hash\">!!</root-password>: no root password; "
                                "root cannot log in until a password is set on the console at first boot",
                                line, col)
            return RootPassword()
        if kind == "hash":
            try:
                fmt = passwd.hash_format(secret)
            except ValueError as exc:
                self.report.error(f"<root-password>: {exc}", line, col)
                return RootPassword()
            if fmt in passwd.WEAK_FORMATS:
                self.report.warning(f"<root-password>: {fmt} hashes are weak; prefer SHA-512 or yescrypt",
                                    line, col)
            return RootPassword(hash=secret, origin="hash")
        if len(secret) < passwd.MIN_LENGTH:
            self.report.error(f"<root-password>: the password must be at least {passwd.MIN_LENGTH} "
                              f"characters long (it has {len(secret)})", line, col)
            return RootPassword()
        if any(ord(c) < 0x20 or ord(c) == 0x7f for c in secret):
            self.report.error("<root-password>: the password holds a control character (a character "
                              "reference like &#10;?): it could not be typed at a login prompt", line, col)
            return RootPassword()
        if (too_long := passwd.too_long(secret)) is not None:
            self.report.error(f"<root-password>: the password must be {too_long}", line, col)
            return RootPassword()
        if len(secret) < passwd.GOOD_LENGTH:
            self.report.warning(f"<root-password>: a password shorter than {passwd.GOOD_LENGTH} "
                                "characters is weak", line, col)
        hashed = passwd.sha512_crypt(secret)
        SECRETS.add(hashed)
        return RootPassword(hash=hashed, origin="plaintext")

    def ntp(self, interface: ManagementInterface | None) -> NTPConfig:
        node = self.one(self.root, "ntp")
        server_nodes = self.children(self.root, "ntp-server", "ntp-servers")
        servers = [s for s in (self.text(n, values.host_or_ip, "an NTP server") for n in server_nodes) if s]
        if node is None:
            if server_nodes:
                return NTPConfig(NTPMode.MANUAL, servers)
            dhcp = interface is not None and interface.ipv4.mode == IPv4Mode.DHCP
            return NTPConfig(NTPMode.DHCP if dhcp else NTPMode.DEFAULT)
        mode = self.value(node, ("source",), lambda v: NTPMode(values.choice(
            v, tuple(m.value for m in NTPMode), "source")), required=True)
        if mode == NTPMode.MANUAL and not server_nodes:
            self.err(node, "<ntp source=\"manual\"> needs at least one <ntp-server>")
        if mode == NTPMode.DHCP and (interface is None or interface.ipv4.mode != IPv4Mode.DHCP):
            self.report.warning("<ntp source=\"dhcp\">: the management interface gets no DHCP lease "
                                "(its IPv4 is not proto=\"dhcp\"), so the host has no time source; "
                                "use source=\"manual\" with <ntp-server> or source=\"default\"",
                                node.line, node.column)
        if mode not in (NTPMode.MANUAL, None) and server_nodes:
            self.err(server_nodes[0], f"<{server_nodes[0].tag}> is only allowed with "
                     "<ntp source=\"manual\"> (or without <ntp>)")
        return NTPConfig(mode or NTPMode.DEFAULT, servers if mode == NTPMode.MANUAL else [])

    def services(self) -> list[Service]:
        result, seen = [], {}
        for node in self.children(self.root, "service"):
            name = self.value(node, ("name",), values.unit_name, required=True)
            state = self.value(node, ("state",), lambda v: values.choice(v, ("enabled", "disabled"),
                                                                          "state"), required=True)
            unit = name.removesuffix(".service") if name else name
            if unit in seen:
                first, first_name, first_state = seen[unit]
                if name != first_name and state == first_state:
                    # XCP-ng refuses only the exact same name twice; sshd and sshd.service agree here
                    self.report.warning(f"service {name!r} is the same unit as {first_name!r} (line "
                                        f"{first}); it is {state} once", node.line, node.column)
                else:
                    self.err(node, f"service {name!r} is listed twice (first at line {first})")
            elif name and state:
                seen[unit] = (node.line, name, state)
                result.append(Service(name, state))
        return result

    def source(self, node: Node, kind: str) -> Source | None:
        stype = self.value(node, ("type",), lambda v: values.choice(v, ("local", "url", "nfs"), "type"),
                           required=True)
        if stype == "local":
            if node.stripped_text():
                self.report.warning(f"<{kind}> of type local ignores its text", node.text_line,
                                    node.text_column)
            return Source("local")
        if stype == "url":
            text = node.stripped_text()
            if text.lower().startswith("nfs://"):
                loc = self.text(node, values.nfs_location, "an NFS location")
                return Source("nfs", loc) if loc else None
            loc = self.text(node, values.url, "a URL (http://, https://, ftp:// or file://)")
            return Source("url", loc) if loc else None
        if stype == "nfs":
            loc = self.text(node, values.nfs_location, "an NFS location like server:/path")
            return Source("nfs", loc) if loc else None
        return None

    def hooks(self) -> list[Hook]:
        result = []
        for node in self.children(self.root, "script", "post-install-script", "install-failed-script"):
            if node.tag == "script":
                stage = self.value(node, ("stage",), lambda v: values.choice(
                    v.lower(), HOOK_STAGES, "stage"), required=True)
            else:
                stage = "filesystem-populated" if node.tag == "post-install-script" else "installation-complete"
            htype = self.value(node, ("type",), lambda v: values.choice(v.lower(), ("url", "nfs"), "type"),
                               "url", required=node.tag == "script")
            if htype == "nfs":
                loc = self.text(node, values.nfs_location, "an NFS location of the script")
            else:
                loc = self.text(node, values.url, "the script's URL")
            if stage and htype and loc:
                result.append(Hook(stage, htype, loc))
        return result

    def bootloader(self, node: Node) -> Bootloader:
        name = node.stripped_text() or "grub2"
        if name != "grub2":
            self.report.error(f"<bootloader>: unsupported boot loader {name!r}; only grub2 is "
                              "supported", node.text_line, node.text_column)
        return Bootloader(
            name="grub2",
            location=self.value(node, ("location",), lambda v: values.choice(v, ("mbr", "partition"),
                                                                             "location"), "mbr"),
            write_boot_entry=self.value(node, ("write-boot-entry",), values.boolean, True),
            serial_console=self.value(node, ("serial-console",), _serial_console, None))

    def network_backend(self, node: Node) -> NetworkBackend | None:
        text = self.text(node, None, "bridge or openvswitch")
        if text == "vswitch":
            self.report.warning("<network-backend> 'vswitch' is an old spelling of 'openvswitch'",
                                node.text_line, node.text_column)
            return NetworkBackend.OPENVSWITCH
        if text is None:
            return None
        try:
            return NetworkBackend(values.choice(text, ("bridge", "openvswitch"), "<network-backend>"))
        except ValueError as exc:
            self.report.error(str(exc), node.text_line, node.text_column)
            return None


def _preserve_first(value: str) -> str:
    word = value.strip().lower()
    if word in ("yes", "true"):
        return "true"
    if word in ("no", "false"):
        return "false"
    if word == "if-utility":
        return word
    raise ValueError(f"expected yes/true, no/false or if-utility, got {value!r}")


def _md_device(value: str) -> str:
    path = values.disk_name(value)
    if not re.fullmatch(r"/dev/md([0-9]+|/[A-Za-z0-9._-]+)", path):
        raise ValueError(f"a RAID device must be an md device such as md127, got {value!r}")
    return path


def _criterion(value: str, what: str) -> str:
    """A <match> text criterion: an empty one would match every disk."""
    if not value.strip():
        raise ValueError(f"an empty {what} would match every disk; give the disk's {what} or leave "
                         "the attribute out")
    return value.strip()


def _match_size(value: str, matches: str) -> int:
    size = values.size_bytes(value)
    if size == 0:
        raise ValueError(f"a size of 0 would match {matches} disk; give a size like 500G, or leave "
                         "the attribute out")
    return size


def _read_installation(r: _Reader, report: Report) -> InstallConfig:
    root = r.root
    mode_word = r.value(root, ("mode",), lambda v: values.choice(v, ("fresh", "reinstall", "upgrade"),
                                                                 "mode"), "fresh")
    cfg = InstallConfig(mode=Mode(mode_word or "fresh"))
    cfg.repo_gpgcheck = r.value(root, ("repo-gpgcheck", "netinstall-gpg-check"), values.boolean, True)
    cfg.gpgcheck = r.value(root, ("gpgcheck",), values.boolean, True)
    _signature_warnings(r, root)
    cfg.existing_data = r.value(root, ("existing-data",), lambda v: values.choice(
        v, ("erase", "refuse"), "existing-data"), "erase")
    for node in r.children(root, "source"):
        src = r.source(node, "source")
        if src:
            src.repo_gpgcheck = r.value(node, ("repo-gpgcheck",), values.boolean)
            src.gpgcheck = r.value(node, ("gpgcheck",), values.boolean)
            _signature_warnings(r, node)
            cfg.sources.append(src)
    if not r.children(root, "source"):
        r.require(None, "source", "where to install from; <source type=\"local\"/> means the "
                  "installer media")
    cfg.driver_sources = _driver_sources(r)
    cfg.hooks = r.hooks()
    if (node := r.one(root, "bootloader")) is not None:
        cfg.bootloader = r.bootloader(node)
    if (node := r.one(root, "network-backend")) is not None:
        cfg.network_backend = r.network_backend(node) or cfg.network_backend

    if cfg.mode == Mode.UPGRADE:
        node = r.require(r.one(root, "existing-installation"), "existing-installation",
                         "the disk holding the installation to upgrade")
        if node is not None:
            cfg.existing_installation = _ref(r.text(node, values.disk_name, "a disk name"))
        for child in root.children:
            if child.tag not in UPGRADE_ONLY_READS:
                report.warning(f"<{child.tag}> is ignored in upgrade mode: the settings of the "
                               "existing installation are kept", child.line, child.column)
        for name in ("sr-type", "srtype", "existing-data"):
            if name in root.attrs:
                report.warning(f"{name!r} is ignored in upgrade mode", root.attrs[name].line,
                               root.attrs[name].column)
        return cfg

    if (node := r.one(root, "existing-installation")) is not None:
        r.err(node, "<existing-installation> is only used with mode=\"upgrade\"")
    cfg.sr_type = r.value(root, ("sr-type", "srtype"), lambda v: SRType(values.choice(
        v, ("ext", "lvm"), "sr-type")), SRType.EXT)
    node = r.require(r.one(root, "primary-disk"), "primary-disk", "the disk to install onto")
    if node is not None:
        cfg.primary_disk = r.primary_disk(node)
    cfg.guest_disks = r.guest_disks(cfg.primary_disk)
    if (node := r.one(root, "raid")) is not None:
        cfg.raid = r.raid(node)
    node = r.require(r.one(root, "admin-interface"), "admin-interface",
                     "the management network interface")
    if node is not None:
        cfg.interface = r.interface(node)
    if (node := r.one(root, "root-password")) is not None:
        cfg.root_password = r.root_password(node)
    cfg.ssh_authorized_keys = [k for k in (r.text(n, values.ssh_public_key, "an SSH public key")
                                           for n in r.children(root, "ssh-authorized-key")) if k]
    if node is None and not cfg.ssh_authorized_keys:
        report.warning("no <root-password> and no <ssh-authorized-key>: root cannot log in until "
                       "a password is set on the console at first boot", root.line, root.column)
    cfg.name_servers = [s for s in (r.text(n, values.ip_address, "a name server IP address")
                                    for n in r.children(root, "name-server", "nameserver")) if s]
    cfg.name_servers = [str(s) for s in cfg.name_servers]
    if (node := r.one(root, "hostname")) is not None:
        cfg.hostname = r.text(node, values.hostname, "a host name")
    if (node := r.one(root, "timezone")) is not None:
        cfg.timezone = r.text(node, values.timezone, "a time zone like Europe/Paris") or cfg.timezone
    if (node := r.one(root, "keymap")) is not None:
        cfg.keymap = r.text(node, values.keymap, "a keymap like us or de") or cfg.keymap
    cfg.ntp = r.ntp(cfg.interface)
    cfg.services = r.services()
    _check_disk_roles(r, cfg)
    return cfg


REPO_GPGCHECK_OFF = (": the signature of the product tree is NOT checked: its manifest is trusted "
                     "without the product key, so a tampered tree would be installed")
GPGCHECK_NO_EFFECT = (" has no effect: Debian packages carry no signatures of their own; each one is "
                      "checked against the package pool's signed index, which stays checked")
DRIVER_SOURCE_IGNORED = ("is ignored: driver disks are not supported; the installer's own drivers "
                         "are used and nothing from it is installed on the host")


def _signature_warnings(r: _Reader, node: Node) -> None:
    """Turning a signature check off is never silent (gpgcheck: not even when it changes nothing)."""
    for names, meaning in ((("repo-gpgcheck", "netinstall-gpg-check"), REPO_GPGCHECK_OFF),
                           (("gpgcheck",), GPGCHECK_NO_EFFECT)):
        for name in names:
            a = node.attrs.get(name)
            if a is not None and a.value.strip() and _is_false(a.value):
                r.report.warning(f"<{node.tag} {name}=\"{a.value}\">{meaning}", a.line, a.column)
                break


def _is_false(text: str) -> bool:
    try:
        return values.boolean(text) is False
    except ValueError:
        return False      # reported as an error where the value is read


def _driver_sources(r: _Reader) -> list[Source]:
    nodes = r.children(r.root, "driver-source")
    for node in nodes:
        r.report.warning(f"<driver-source> {DRIVER_SOURCE_IGNORED}", node.line, node.column)
    return [s for s in (r.source(n, "driver-source") for n in nodes) if s]


def _check_disk_roles(r: _Reader, cfg: InstallConfig) -> None:
    if cfg.primary_disk is None:
        return
    primary = cfg.primary_disk.disk.path
    if cfg.raid:
        if primary != cfg.raid.device:
            r.err(r.root, f"<raid device=\"{cfg.raid.device}\"> is defined but the primary disk is "
                  f"{primary}; name the RAID device in <primary-disk>")
        members = {m.path for m in cfg.raid.members}
        for ref in cfg.guest_disks:
            if ref.path in members:
                r.err(r.root, f"{ref.path} is a RAID member and cannot also be a guest disk")
    elif primary and primary.startswith("/dev/md"):
        r.err(r.root, f"the primary disk {primary} looks like a RAID device but no <raid> defines it")


def _ref(path: str | None) -> DiskRef | None:
    return DiskRef(path=path) if path else None


def _read_restore(r: _Reader, report: Report) -> InstallConfig:
    cfg = InstallConfig(mode=Mode.RESTORE)
    if (node := r.one(r.root, "backup-disk")) is not None:
        cfg.backup_disk = _ref(r.text(node, values.disk_name, "a disk name"))
    cfg.hooks = r.hooks()
    cfg.driver_sources = _driver_sources(r)
    return cfg


def _serial_console(value: str) -> str:
    """ttyS<N>[,<speed>[n8]]: the serial port the installed host's boot menu and consoles use."""
    if not re.fullmatch(r"ttyS\d{1,2}(,(9600|19200|38400|57600|115200)(n8)?)?", value):
        raise ValueError(f"serial-console must look like ttyS0 or ttyS0,115200, not {value!r}")
    return value


def parse_bytes(raw: bytes, filename: str = "<answerfile>") -> tuple[InstallConfig, Report]:
    """Parse an answer file. Raises ConfigError (all problems, positioned); returns warnings."""
    report = Report(filename)
    try:
        root = parse_xml(raw)
    except XMLInputError as exc:
        report.error(exc.message, exc.line, exc.column)
        raise ConfigError(report.items) from None
    answerfile_mask.register(root)   # the root password is a secret in every mode, even unread
    if root.tag not in ROOTS:
        hint = " (use <installation mode=\"upgrade\">)" if root.tag == "upgrade" else ""
        report.error(f"unexpected root element <{root.tag}>{hint}; expected <installation> or "
                     "<restore>", root.line, root.column)
        raise ConfigError(report.items)
    check_structure(root, report)
    reader = _Reader(root, report)
    cfg = (_read_installation if root.tag == "installation" else _read_restore)(reader, report)
    report.raise_if_errors()
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


__all__ = ["parse_bytes", "parse_file", "ELEMENTS"]
