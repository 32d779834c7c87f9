"""The answer file as it may be kept (the host's /var/log/installer, a support bundle): written again
from the parsed document with every secret blanked.

Masking the raw text cannot work: a password spelled with XML escapes or character references, split
by a comment or a CDATA section, or stored as UTF-16 or Latin-1 no longer looks like itself. So the
document is parsed (installer/xmlsafe.py, as the answer file parser does) and serialised again:
the values declared in SECRET_FIELDS blanked, every other value passed through the secret masker,
comments and processing instructions dropped (a commented-out password is still a password). The
result parses as an answer file with the same meaning, apart from the blanked values.
"""
from __future__ import annotations

from . import locations
from .errors import ConfigError, Report
from .runner import MASK, SECRETS, Secrets
from .xmlsafe import Node, XMLInputError, parse as parse_xml

TEXT = None         # the element's text, rather than one of its attributes
SECRET = "secret"   # the whole value is a secret: one of secrets_of(), written as MASK
URL = "url"         # a location: its user info (one of secrets_of()) and secret query values are blanked

# (element, attribute or TEXT) -> kind; wherever the element appears in the document
SECRET_FIELDS: dict[tuple[str, str | None], str] = {
    ("root-password", TEXT): SECRET,
    ("source", TEXT): URL,
    ("driver-source", TEXT): URL,
    ("script", TEXT): URL,
    ("post-install-script", TEXT): URL,
    ("install-failed-script", TEXT): URL,
}

# <root-password type="hash"> must still hold a hash to parse: one no password hashes to
MASKED_HASH = "$6$masked$" + "." * 86
HEADER = f"""<!-- Masked copy of the answer file the installer read, written again from its parsed
     content: secret values are replaced by {MASK} (a root password hash by $6$masked$...),
     user names and passwords in URLs are masked, and the original's comments are left out
     (they may hold secrets). Put the secrets back before using this file again. -->"""


class MaskError(ConfigError):
    """The answer file cannot be read to be masked (it changed since it was checked, or is not XML)."""


def secrets_of(root: Node) -> set[str]:
    """Every secret of a parsed document, whatever the mode and wherever it appears: SECRET values
    (as written and stripped) and the credentials of URL values. Registers nothing."""
    found: set[str] = set()
    for node in _walk(root):
        for (tag, attr), kind in SECRET_FIELDS.items():
            if node.tag != tag:
                continue
            value = node.text if attr is TEXT else getattr(node.attrs.get(attr), "value", "")
            if kind == SECRET:
                found |= {value.strip(), value} - {""}
            elif kind == URL:
                found.update(locations.credentials(value.strip()))
    return found


def masked_answerfile(raw: bytes, filename: str = "<answerfile>") -> str:
    """The masked copy of an answer file's bytes; MaskError (located) if they are not XML. Its own
    secrets are masked wherever they appear in it, without registering them anywhere."""
    try:
        root = parse_xml(raw)
    except XMLInputError as exc:
        report = Report(filename)
        report.error(exc.message, exc.line, exc.column)
        raise MaskError(report.items) from None
    _check_names(root, filename)
    own = Secrets()
    own.add_all(secrets_of(root))
    out = ['<?xml version="1.0" encoding="UTF-8"?>', HEADER]
    _write(root, 0, out, own)
    return "\n".join(out) + "\n"


def _check_names(root: Node, filename: str) -> None:
    """The copy is written in UTF-8: a name the XML parser took only in the file's own encoding
    (expat's Latin-1 tables know more name characters than its UTF-8 ones) would make a copy that
    is not XML. Such a file is refused, located, rather than copied broken."""
    report = Report(filename)
    for node in _walk(root):
        names = [n for n in (node.tag, *node.attrs) if not n.isascii()]
        if not names:
            continue
        try:
            parse_xml(("<" + node.tag + "".join(f' {a}=""' for a in node.attrs) + "/>").encode())
        except XMLInputError:
            report.error(f"the name {names[0]!r} is not XML in UTF-8; no masked copy can be written",
                         node.line, node.column)
    if report.items:
        raise MaskError(report.items)


def _walk(root: Node):
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def _write(node: Node, depth: int, out: list[str], own: Secrets) -> None:
    pad = "  " * depth
    attrs = "".join(f' {name}="{_attr(_value(node, name, a.value, own))}"'
                    for name, a in node.attrs.items())
    if SECRET_FIELDS.get((node.tag, TEXT)) == SECRET:      # children and all
        out.append(f"{pad}<{node.tag}{attrs}>{_blank(node) if node.text.strip() else ''}</{node.tag}>")
        return
    text = node.text
    shown = _text(_value(node, TEXT, text, own)) if text.strip() or not node.children else ""
    if not node.children:
        out.append(f"{pad}<{node.tag}{attrs}>{shown}</{node.tag}>" if text else f"{pad}<{node.tag}{attrs}/>")
        return
    out.append(f"{pad}<{node.tag}{attrs}>{shown}")
    for child in node.children:
        _write(child, depth + 1, out, own)
    out.append(f"{pad}</{node.tag}>")


def _value(node: Node, attr: str | None, value: str, own: Secrets) -> str:
    kind = SECRET_FIELDS.get((node.tag, attr))
    if kind == SECRET:
        return _blank(node) if value.strip() else value
    if kind == URL:
        value = _url(value)
    return SECRETS.mask(own.mask(value))


def _blank(node: Node) -> str:
    kind = node.attrs.get("type")
    return MASKED_HASH if node.tag == "root-password" and kind and kind.value == "hash" else MASK


def _url(value: str) -> str:
    """The whole user info of a URL, user name included (it may be a token): scheme://****@host."""
    start = value.find("://") + 3
    end = value.rfind("@")
    if start < 3 or end < start:
        return value
    return value[:start] + MASK + value[end:]


def _text(value: str) -> str:
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return value.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _attr(value: str) -> str:
    value = _text(value).replace('"', "&quot;")
    return value.replace("\n", "&#10;").replace("\t", "&#9;")
