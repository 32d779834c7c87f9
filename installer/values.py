"""Validators for values found in answer files and on the kernel command line.

Each function returns the normalized value or raises ValueError with a message that says what was
expected; callers attach the position.
"""
from __future__ import annotations

import base64
import functools
import ipaddress
import re
import zoneinfo
from importlib import resources


TRUE_WORDS = ("yes", "true")
FALSE_WORDS = ("no", "false")
# XCP-ng reads every word but yes/true as false: these mean false there and to whoever wrote them.
LOOSE_FALSE_WORDS = ("0", "off", "n")
_LOOSE_TRUE_WORDS = ("1", "on", "y", "enable", "enabled")


def boolean(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS or word in LOOSE_FALSE_WORDS:
        return False
    if word in _LOOSE_TRUE_WORDS:
        raise ValueError(f"{text.strip()!r} would mean no to XCP-ng's installer; write yes or no")
    raise ValueError(f"expected yes/true or no/false, got {text!r}")


def boolean_note(text: str) -> str | None:
    """A warning for a spelling boolean() accepts only for compatibility."""
    if text.strip().lower() in LOOSE_FALSE_WORDS:
        return f"{text.strip()!r} is read as no (as XCP-ng does); write no"
    return None


def choice(text: str, allowed: tuple[str, ...], what: str) -> str:
    if text in allowed:
        return text
    close = [a for a in allowed if a.lower() == text.strip().lower()]
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {text!r}{hint}")


def ipv4_address(text: str) -> ipaddress.IPv4Address:
    try:
        addr = ipaddress.IPv4Address(text.strip())
    except ValueError:
        raise ValueError(f"expected an IPv4 address like 192.0.2.10, got {text!r}") from None
    if addr.is_unspecified or addr.is_multicast or addr.is_loopback or addr.is_reserved:
        raise ValueError(f"{text.strip()} is not a usable host address")
    return addr


def _small_int(text: str, low: int, high: int) -> int | None:
    """ASCII digits only (str.isdigit also takes other scripts' digits), within [low, high]."""
    value = text.strip()
    if re.fullmatch(r"[0-9]{1,5}", value) and low <= int(value) <= high:
        return int(value)
    return None


def ipv4_prefix(text: str) -> int:
    """A dotted netmask (255.255.255.0) or a prefix length (24, /24)."""
    value = text.strip().lstrip("/")
    if re.fullmatch(r"[0-9]+", value):
        prefix = _small_int(value, 1, 32)
        if prefix is None:
            raise ValueError(f"an IPv4 prefix length must be 1-32, got {text!r}")
        return prefix
    try:
        mask = int(ipaddress.IPv4Address(value))
    except ValueError:
        mask = -1
    inverted = ~mask & 0xFFFFFFFF
    if mask <= 0 or inverted & (inverted + 1):  # ones then zeros, at least one leading one
        raise ValueError(f"expected a netmask like 255.255.255.0 or a prefix length, got {text!r}")
    return 32 - inverted.bit_length()


def ipv4_interface(address: ipaddress.IPv4Address, prefix: int) -> ipaddress.IPv4Interface:
    """A management address: one other hosts (or a gateway) on its network can reach."""
    if address.is_link_local:
        raise ValueError(f"{address} is a link-local address (169.254.0.0/16), which is never routed; "
                         "a management address must be one of the management network's")
    if prefix == 32:
        raise ValueError(f"{address}/32 leaves no other address on the management network: neither "
                         "a gateway nor any other host could be reached; give the network's netmask")
    iface = ipaddress.IPv4Interface(f"{address}/{prefix}")
    if prefix <= 30 and address in (iface.network.network_address, iface.network.broadcast_address):
        raise ValueError(f"{address} is the network or broadcast address of {iface.network}")
    return iface


def gateway_in(gateway: ipaddress._BaseAddress, iface: ipaddress._BaseInterface) -> None:
    if gateway not in iface.network:
        raise ValueError(f"gateway {gateway} is not inside the management subnet {iface.network}")
    net = iface.network
    edge = (net.network_address, net.broadcast_address) if net.version == 4 else (net.network_address,)
    if net.prefixlen <= net.max_prefixlen - 2 and gateway in edge:
        raise ValueError(f"gateway {gateway} is the network or broadcast address of {net}")
    if gateway == iface.ip:
        raise ValueError(f"gateway {gateway} is the interface's own address")


def ipv6_address(text: str) -> ipaddress.IPv6Address:
    try:
        addr = ipaddress.IPv6Address(text.strip())
    except ValueError:
        addr = None
    if addr is None or addr.scope_id:
        raise ValueError(f"expected an IPv6 address like 2001:db8::1, got {text!r}")
    if addr.is_unspecified or addr.is_multicast or addr.is_loopback:
        raise ValueError(f"{text.strip()} is not a usable host address")
    if addr.ipv4_mapped is not None:
        raise ValueError(f"{text.strip()} is an IPv4-mapped IPv6 address; write the IPv4 address "
                         f"{addr.ipv4_mapped} instead")
    if addr in _IPV4_COMPATIBLE:
        raise ValueError(f"{text.strip()} is an IPv4-compatible IPv6 address (deprecated since RFC "
                         f"4291); write the IPv4 address {ipaddress.IPv4Address(int(addr))} instead")
    return addr


_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def ipv6_interface(text: str) -> ipaddress.IPv6Interface:
    value = text.strip()
    if "/" not in value:
        raise ValueError(f"expected an IPv6 address with prefix like 2001:db8::10/64, got {text!r}")
    addr, _, prefix = value.partition("/")
    try:
        ipv6_address(addr)
    except ValueError as exc:       # not an address at all: the example shows the prefix too
        if str(exc).startswith("expected"):
            raise ValueError(f"expected an IPv6 address with prefix like 2001:db8::10/64, got {text!r}") from None
        raise
    if ipv6_address(addr).is_link_local:
        raise ValueError(f"{addr} is a link-local address (fe80::/10), which every IPv6 interface "
                         "has already; a management address must be global or unique-local")
    if _small_int(prefix, 1, 128) is None:
        raise ValueError(f"an IPv6 prefix length must be 1-128, got {prefix!r}")
    iface = ipaddress.IPv6Interface(value)
    if iface.network.prefixlen < 127 and iface.ip == iface.network.network_address:
        raise ValueError(f"{iface.ip} is the subnet-router anycast address of {iface.network}")
    return iface


def ip_address(text: str) -> ipaddress._BaseAddress:
    value = text.strip()
    return ipv6_address(value) if ":" in value else ipv4_address(value)


def name_server(text: str) -> ipaddress._BaseAddress:
    """A name server's address: an IPv6 link-local one would need an interface zone, which
    neither the host's resolv.conf as written nor an answer file carries (IPv4 link-local ones
    work: some clouds resolve at 169.254.169.253)."""
    addr = ip_address(text)
    if addr.version == 6 and addr.is_link_local:
        raise ValueError(f"{text.strip()} is a link-local address: a name server needs a global or "
                         "unique-local address")
    return addr


def vlan(text: str) -> int:
    number = _small_int(text, 1, 4094)
    if number is None:
        raise ValueError(f"a VLAN ID must be a number from 1 to 4094, got {text!r}")
    return number


_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def hostname(text: str) -> str:
    """RFC 1123 host name, optionally fully qualified; normalized to lower case."""
    value = text.strip().rstrip(".")
    if not value or len(value) > 253:
        raise ValueError(f"a host name must be 1-253 characters, got {text!r}")
    for label in value.split("."):
        if not _LABEL.fullmatch(label):
            raise ValueError(f"{text!r} is not a valid host name: each dot-separated label must be "
                             "1-63 letters, digits or hyphens, not starting or ending with a hyphen")
    if value.split(".")[-1].isdigit():
        raise ValueError(f"{text!r} is not a valid host name: the last label may not be all digits")
    return value.lower()


def host_or_ip(text: str) -> str:
    value = text.strip()
    if "://" in value:
        raise ValueError(f"expected a host name or IP address, not a URL, got {text!r}")
    if re.fullmatch(r"[^:]+:[0-9]*", value):
        raise ValueError(f"expected a host name or IP address without a port, got {text!r}")
    try:
        return str(ip_address(value))
    except ValueError:
        if ":" in value:   # an IPv6 address, never a host name: say what is wrong with it
            raise
    try:
        return hostname(value)
    except ValueError:
        raise ValueError(f"expected a host name or IP address, got {text!r}") from None


@functools.lru_cache(maxsize=1)
def timezones() -> frozenset[str]:
    """The time zone names the host accepts (the system's tz database)."""
    return frozenset(zoneinfo.available_timezones()) - {"localtime", "Factory", "posixrules"}


def timezone(text: str) -> str:
    value = text.strip()
    zones = timezones()
    if value in zones:
        return value
    if not zones:
        raise ValueError("no time zone database found on this system (install tzdata)")
    close = sorted(z for z in zones if z.lower() == value.lower())
    hint = f" (did you mean {close[0]!r}?)" if close else " (use a tz database name like Europe/Paris or Etc/UTC)"
    raise ValueError(f"unknown time zone {text!r}{hint}")


@functools.lru_cache(maxsize=1)
def keymaps() -> frozenset[str]:
    data = resources.files("installer.data").joinpath("keymaps.txt").read_text()
    return frozenset(line.split()[0] for line in data.splitlines() if line.strip() and not line.startswith("#"))


def keymap(text: str) -> str:
    value = text.strip()
    if value in keymaps():
        return value
    raise ValueError(f"unknown keymap {text!r} (console keymap names such as us, uk, de, fr-latin1; "
                     "see docs/answerfile.md)")


# systemd's unit name characters, with at most one "@" (template@instance); a name may not start
# with "-" (systemctl would read it as an option) or "." or "@" (no unit name does).
_UNIT = re.compile(r"[A-Za-z0-9:_\\][A-Za-z0-9:_.\\-]*(@[A-Za-z0-9:_.\\-]*)?")
UNIT_TYPES = ("service", "socket", "timer", "path", "target", "mount", "automount", "swap", "slice")


def unit_name(text: str) -> str:
    """A systemd unit for `systemctl enable/disable`; without a known type suffix it is a .service."""
    value = text.strip()
    if value.startswith("-"):
        raise ValueError(f"{value!r} starts with '-': systemctl would read it as an option, not a unit")
    full = value if value.rpartition(".")[2] in UNIT_TYPES else value + ".service"
    if not _UNIT.fullmatch(value) or len(full) > 255:
        raise ValueError("expected a systemd unit name like sshd, chrony.service or getty@tty2 (at most "
                         f"255 letters, digits and : _ . \\ - @), got {text!r}")
    return value


_DISK_PART = re.compile(r"[A-Za-z0-9._:+@=,-]+")


def disk_name(text: str) -> str:
    """sda, /dev/sda, disk/by-id/x -> an absolute /dev path."""
    value = text.strip()
    if not value:
        raise ValueError("expected a disk name like sda, nvme0n1, /dev/sdb or disk/by-id/...")
    if value.lower().startswith("iscsi:"):  # XCP-ng's iBFT LUN spec: no meaning here
        raise ValueError(f"iSCSI boot disks ({value}) are not supported; name a local disk")
    path = value if value.startswith("/dev/") else "/dev/" + value.lstrip("/")
    if value.startswith("/") and not value.startswith("/dev/"):
        raise ValueError(f"a disk must be a device under /dev, got {text!r}")
    parts = path[len("/dev/"):].split("/")
    if any(p in ("", ".", "..") or not _DISK_PART.fullmatch(p) for p in parts):
        raise ValueError(f"{text!r} is not a valid disk name (expected sda, nvme0n1, /dev/sdb, "
                         "disk/by-id/...)")
    return path


_MAC = re.compile(r"[0-9a-f]{2}(?P<sep>[:-])[0-9a-f]{2}((?P=sep)[0-9a-f]{2}){4}")


def mac_address(text: str) -> str:
    value = text.strip().lower()
    if not _MAC.fullmatch(value):
        raise ValueError(f"expected a MAC address like 52:54:00:12:34:56, got {text!r}")
    value = value.replace("-", ":")
    if int(value[:2], 16) & 1 or value == "00:00:00:00:00:00":
        raise ValueError(f"{value} is a multicast or null MAC address, not a NIC's")
    return value


_IFNAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,14}")


def interface_name(text: str) -> str:
    value = text.strip()
    if not _IFNAME.fullmatch(value):
        raise ValueError(f"expected a network interface name like eth0 or enp1s0, got {text!r}")
    return value


# Terminals the installer may write progress to; options as the kernel's <baud><parity><bits>[r].
TERMINAL = re.compile(r"(tty|ttyS|hvc|ttyUSB|ttyAMA)[0-9]{1,3}")
_CONSOLE = re.compile(r"(?P<name>(tty|ttyS|hvc|ttyUSB|ttyAMA)[0-9]{1,3})(,[0-9]{1,7}([noe][5-8]r?)?)?")


def console(text: str) -> str:
    """A console= value naming a terminal (ttyS0,115200n8): returned as given."""
    if not _CONSOLE.fullmatch(text):
        raise ValueError(f"{text!r} is not a terminal name (ttyN, ttySN, hvcN, ttyUSBN or ttyAMAN, "
                         "optionally followed by ,<speed>)")
    return text


_SIZE = re.compile(r"([0-9]{1,15}(?:\.[0-9]{1,6})?)\s*([KMGTP]?)(iB|B)?", re.IGNORECASE)


def size_bytes(text: str) -> int:
    """'500G', '1.5TiB', '1000000' -> bytes (binary units: G = GiB)."""
    m = _SIZE.fullmatch(text.strip())
    if not m:
        raise ValueError(f"expected a size like 500G, 2T or 1048576, got {text!r}")
    scale = 1024 ** "BKMGTP".index(m.group(2).upper() or "B")
    return int(float(m.group(1)) * scale)


SSH_KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                 "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
                 "sk-ecdsa-sha2-nistp256@openssh.com")


def ssh_public_key(text: str) -> str:
    fields = text.split()
    # a key is a type followed by its data (base64 of a length-prefixed string: "AAAA..."); a type
    # name alone may well be part of a comment
    keys = sum(1 for f, data in zip(fields, fields[1:]) if f in SSH_KEY_TYPES and data.startswith("AAAA"))
    if keys > 1:  # authorized_keys is one key per line: a second key would end up in the comment
        raise ValueError(f"holds {keys} keys; give each key its own <ssh-authorized-key> element")
    if len(fields) < 2 or fields[0] not in SSH_KEY_TYPES:
        raise ValueError("expected an OpenSSH public key line like 'ssh-ed25519 AAAA... comment' "
                         f"(types: {', '.join(SSH_KEY_TYPES)})")
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except ValueError:
        raise ValueError("the SSH key's base64 data is corrupt") from None
    parts = _ssh_strings(blob)
    if not parts or parts[0].decode("ascii", "replace") != fields[0]:
        raise ValueError(f"the SSH key's data does not match its type {fields[0]}")
    if not _ssh_key_complete(fields[0], parts):
        raise ValueError(f"the SSH key's data is not a complete {fields[0]} key")
    return " ".join(fields)


def _ssh_strings(blob: bytes) -> list[bytes] | None:
    """Split SSH wire-format data into its length-prefixed strings; None if malformed."""
    out, i = [], 0
    while i < len(blob):
        if i + 4 > len(blob):
            return None
        n = int.from_bytes(blob[i:i + 4], "big")
        if i + 4 + n > len(blob):
            return None
        out.append(blob[i + 4:i + 4 + n])
        i += 4 + n
    return out


def _ssh_key_complete(kind: str, parts: list[bytes]) -> bool:
    if kind in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
        return len(parts) >= 2 and len(parts[1]) == 32
    if kind == "ssh-rsa":
        return len(parts) == 3 and len(parts[2].lstrip(b"\0")) * 8 >= 2048
    return len(parts) >= 3 and len(parts[2]) >= 33  # ECDSA: curve name, point
