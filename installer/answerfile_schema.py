"""The answer file's structure: which elements and attributes exist where, and old spellings.

This table is the parser's source of truth; answerfiles/answerfile.rng says the same for xmllint and
tests/test_schema.py keeps the two in step.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from .errors import Report
from .xmlsafe import Node

ONE = 1
MANY = None


@dataclass(frozen=True)
class ElementSpec:
    attrs: tuple[str, ...] = ()
    children: dict[str, int | None] = field(default_factory=dict)  # name -> max count (None: any)
    text: bool = False  # may carry text


# Deprecated spellings: old name -> current name. Accepted with a warning.
DEPRECATED_ELEMENTS = {
    "nameserver": "name-server",
    "ntp-servers": "ntp-server",
    "ip": "ipaddr",
    "subnet-mask": "subnet",
    "post-install-script": "script",          # stage="filesystem-populated"
    "install-failed-script": "script",        # stage="installation-complete"
}
DEPRECATED_ATTRIBUTES = {
    "srtype": "sr-type",
    "gueststorage": "guest-storage",
    "netinstall-gpg-check": "repo-gpgcheck",
}

_MATCH = {"match": ONE}
_DISK = ElementSpec(children=_MATCH, text=True)
_TOP_COMMON = {"script": MANY, "post-install-script": ONE, "install-failed-script": ONE,
               "driver-source": MANY, "secure-boot": ONE}

ELEMENTS: dict[str, ElementSpec] = {
    "installation": ElementSpec(
        attrs=("mode", "sr-type", "srtype", "repo-gpgcheck", "gpgcheck", "netinstall-gpg-check",
               "existing-data"),
        children={
            "primary-disk": ONE, "guest-disk": MANY, "guest-disks": ONE, "raid": ONE,
            "admin-interface": ONE, "root-password": ONE, "ssh-authorized-key": MANY,
            "name-server": MANY, "nameserver": MANY, "hostname": ONE, "timezone": ONE,
            "ntp": ONE, "ntp-server": MANY, "ntp-servers": MANY, "keymap": ONE,
            "service": MANY, "source": MANY, "bootloader": ONE, "network-backend": ONE,
            "existing-installation": ONE, **_TOP_COMMON,
        }),
    "restore": ElementSpec(children={"backup-disk": ONE, **_TOP_COMMON}),
    "primary-disk": ElementSpec(attrs=("guest-storage", "gueststorage", "sr-at-end",
                                       "preserve-first-partition"), children=_MATCH, text=True),
    "guest-disk": _DISK,
    "guest-disks": ElementSpec(children={"guest-disk": MANY}),
    "match": ElementSpec(attrs=("serial", "model", "min-size", "max-size")),
    "raid": ElementSpec(attrs=("device",), children={"disk": MANY}),
    "disk": ElementSpec(text=True),
    "admin-interface": ElementSpec(
        attrs=("name", "hwaddr", "proto", "protov6", "vlan"),
        children={"ipaddr": ONE, "ip": ONE, "subnet": ONE, "subnet-mask": ONE, "gateway": ONE,
                  "ipv6": ONE, "gatewayv6": ONE}),
    "ipaddr": ElementSpec(text=True), "ip": ElementSpec(text=True),
    "subnet": ElementSpec(text=True), "subnet-mask": ElementSpec(text=True),
    "gateway": ElementSpec(text=True), "ipv6": ElementSpec(text=True),
    "gatewayv6": ElementSpec(text=True),
    "root-password": ElementSpec(attrs=("type",), text=True),
    "ssh-authorized-key": ElementSpec(text=True),
    "name-server": ElementSpec(text=True), "nameserver": ElementSpec(text=True),
    "hostname": ElementSpec(text=True),
    "timezone": ElementSpec(text=True),
    "ntp": ElementSpec(attrs=("source",)),
    "ntp-server": ElementSpec(text=True), "ntp-servers": ElementSpec(text=True),
    "keymap": ElementSpec(text=True),
    "service": ElementSpec(attrs=("name", "state")),
    "source": ElementSpec(attrs=("type", "repo-gpgcheck", "gpgcheck"), text=True),
    "driver-source": ElementSpec(attrs=("type",), text=True),
    "script": ElementSpec(attrs=("stage", "type"), text=True),
    "post-install-script": ElementSpec(attrs=("type",), text=True),
    "install-failed-script": ElementSpec(attrs=("type",), text=True),
    "bootloader": ElementSpec(attrs=("location", "write-boot-entry", "serial-console"), text=True),
    "network-backend": ElementSpec(text=True),
    "existing-installation": ElementSpec(text=True),
    "backup-disk": ElementSpec(text=True),
    "secure-boot": ElementSpec(attrs=("action",)),
}
ROOTS = ("installation", "restore")
EXTENSION_ELEMENTS = ("ssh-authorized-key", "match", "secure-boot")


def _suggest(name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_structure(node: Node, report: Report, parent: str | None = None) -> None:
    """Report unknown elements/attributes, misplaced text, repeats and deprecated spellings."""
    spec = ELEMENTS[node.tag]
    for name, attr in node.attrs.items():
        if name not in spec.attrs:
            allowed = ", ".join(a for a in spec.attrs if a not in DEPRECATED_ATTRIBUTES) or "none"
            report.error(f"unknown attribute {name!r} on <{node.tag}>{_suggest(name, spec.attrs)}; "
                         f"allowed attributes: {allowed}", attr.line, attr.column)
        elif name in DEPRECATED_ATTRIBUTES:
            report.warning(f"attribute {name!r} is deprecated; use "
                           f"{DEPRECATED_ATTRIBUTES[name]!r}", attr.line, attr.column)
    if node.stripped_text() and not spec.text:
        report.error(f"<{node.tag}> does not take text content; found {node.stripped_text()[:40]!r}",
                     node.text_line, node.text_column)
    seen: dict[str, Node] = {}
    for child in node.children:
        if child.tag not in spec.children:
            allowed = ", ".join(f"<{c}>" for c in spec.children if c not in DEPRECATED_ELEMENTS)
            hint = _suggest(child.tag, spec.children)
            report.error(f"unknown element <{child.tag}> in <{node.tag}>{hint}; expected one of: "
                         f"{allowed or 'no child elements'}", child.line, child.column)
            continue
        if child.tag in DEPRECATED_ELEMENTS:
            report.warning(f"<{child.tag}> is deprecated; use <{DEPRECATED_ELEMENTS[child.tag]}>",
                           child.line, child.column)
        if spec.children[child.tag] == ONE and child.tag in seen:
            report.error(f"<{child.tag}> may appear only once in <{node.tag}> (first at line "
                         f"{seen[child.tag].line})", child.line, child.column)
        seen.setdefault(child.tag, child)
        check_structure(child, report, node.tag)
