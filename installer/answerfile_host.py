"""The installed host's own settings in the answer file: <root-password>, <service>s,
<bootloader> and <secure-boot>."""
from __future__ import annotations

import re

from . import passwd, secureboot, values
from .answerfile_reader import Reader
from .config import Bootloader, RootPassword, Service
from .xmlsafe import Node


def root_password(r: Reader, node: Node) -> RootPassword:
    """A hash kept as given, or a plaintext password checked, hashed and dropped. The text itself is
    among the document's secrets (answerfile_mask.secrets_of); the hash made here goes to r.secrets."""
    kind = r.value(node, ("type",), lambda v: values.choice(v, ("plaintext", "hash"), "type"),
                   "plaintext")
    secret = node.text.strip()
    line, col = (node.text_line, node.text_column) if secret else (node.line, node.column)
    if kind == "hash" and secret == "!!":    # XCP-ng's documented "no password yet"
        r.report.warning("<root-password type=\"hash\">!!</root-password>: no root password; "
                         "root cannot log in until a password is set on the console at first boot",
                         line, col)
        return RootPassword()
    if kind == "hash":
        try:
            fmt = passwd.hash_format(secret)
        except ValueError as exc:
            r.report.error(f"<root-password>: {exc}", line, col)
            return RootPassword()
        if fmt in passwd.WEAK_FORMATS:
            r.report.warning(f"<root-password>: {fmt} hashes are weak; prefer SHA-512 or yescrypt",
                             line, col)
        return RootPassword(hash=secret, origin="hash")
    if len(secret) < passwd.MIN_LENGTH:
        r.report.error(f"<root-password>: the password must be at least {passwd.MIN_LENGTH} "
                       f"characters long (it has {len(secret)})", line, col)
        return RootPassword()
    if any(ord(c) < 0x20 or ord(c) == 0x7f for c in secret):
        r.report.error("<root-password>: the password holds a control character (a character "
                       "reference like &#10;?): it could not be typed at a login prompt", line, col)
        return RootPassword()
    if (too_long := passwd.too_long(secret)) is not None:
        r.report.error(f"<root-password>: the password must be {too_long}", line, col)
        return RootPassword()
    if len(secret) < passwd.GOOD_LENGTH:
        r.report.warning(f"<root-password>: a password shorter than {passwd.GOOD_LENGTH} "
                         "characters is weak", line, col)
    hashed = passwd.sha512_crypt(secret)
    r.secrets.add(hashed)
    return RootPassword(hash=hashed, origin="plaintext")


def services(r: Reader) -> list[Service]:
    result, seen = [], {}
    for node in r.children(r.root, "service"):
        name = r.value(node, ("name",), values.unit_name, required=True)
        state = r.value(node, ("state",), lambda v: values.choice(v, ("enabled", "disabled"),
                                                                  "state"), required=True)
        unit = name.removesuffix(".service") if name else name
        if unit in seen:
            first, first_name, first_state = seen[unit]
            if name != first_name and state == first_state:
                # XCP-ng refuses only the exact same name twice; sshd and sshd.service agree here
                r.report.warning(f"service {name!r} is the same unit as {first_name!r} (line "
                                 f"{first}); it is {state} once", node.line, node.column)
            else:
                r.err(node, f"service {name!r} is listed twice (first at line {first})")
        elif name and state:
            seen[unit] = (node.line, name, state)
            result.append(Service(name, state))
    return result


def bootloader(r: Reader, node: Node) -> Bootloader:
    name = node.stripped_text() or "grub2"
    if name != "grub2":
        r.report.error(f"<bootloader>: unsupported boot loader {name!r}; only grub2 is "
                       "supported", node.text_line, node.text_column)
    return Bootloader(
        name="grub2",
        location=r.value(node, ("location",), lambda v: values.choice(v, ("mbr", "partition"),
                                                                      "location"), "mbr"),
        write_boot_entry=r.value(node, ("write-boot-entry",), values.boolean, True),
        serial_console=r.value(node, ("serial-console",), _serial_console, None))


def secure_boot(r: Reader, node: Node) -> str:
    """<secure-boot action="stop|continue"/>: whether an install goes on when the firmware enforces
    Secure Boot (the host then boots only once it is disabled); stop refuses the plan."""
    return r.value(node, ("action",), lambda v: values.choice(v, secureboot.ACTIONS, "action"),
                   "stop", required=True) or "stop"


def _serial_console(value: str) -> str:
    """ttyS<N>[,<speed>[n8]]: the serial port the installed host's boot menu and consoles use."""
    if not re.fullmatch(r"ttyS\d{1,2}(,(9600|19200|38400|57600|115200)(n8)?)?", value):
        raise ValueError(f"serial-console must look like ttyS0 or ttyS0,115200, not {value!r}")
    return value
