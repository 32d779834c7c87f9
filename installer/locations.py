"""Locations (the answer file's, a hook script's, the product tree's): checked, shown in messages
with their credentials masked, and their credentials named, all without a side effect.

http://, https://, ftp://, file:/// and NFS (nfs://server/path or server:/path). user:password@ in
an http(s) or ftp URL is percent-decoded; messages show the URL as user:******** (or ******** for
a user name given alone: a token). Anything wrong with a location is a FetchError saying in words
what is wrong with it. installer/fetch.py transfers what a location names.
"""
from __future__ import annotations

import ipaddress
import re
import urllib.parse
from dataclasses import dataclass

from . import nfs
from .errors import InstallerError
from .runner import MASK, SECRETS, Secrets

SCHEMES = ("http", "https", "ftp", "file", "nfs")

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_HOST = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?")
_NFS_SHORT = re.compile(r"[^\s/:@]+:/")
# words that make "word:/path" a mistyped URL, not the NFS server "word" (http:/host/tree)
URL_WORDS = ("http", "https", "ftp", "ftps", "sftp", "tftp", "file", "nfs", "smb", "cifs")


def mistyped_scheme(location: str) -> str | None:
    """The scheme word of "http:/host/tree" (one slash: a mistyped URL, never an NFS server named
    http), as written; None for anything else."""
    m = re.match(r"([A-Za-z]+):/(?!/)", location)
    return m.group(1) if m and m.group(1).lower() in URL_WORDS else None


class FetchError(InstallerError):
    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient     # the network may still be coming up: worth another try


@dataclass(frozen=True)
class Location:
    scheme: str
    host: str = ""                   # IDNA-encoded; an IPv6 literal without brackets
    port: int | None = None
    path: str = ""                   # http: percent-encoded path and query; else decoded path
    user: str | None = None          # decoded
    password: str | None = None      # decoded
    shown: str = ""                  # the location for messages: credentials masked

    def url(self) -> str:
        """The URL sent on the wire: without credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}{f':{self.port}' if self.port else ''}{self.path}"


def _split_userinfo(text: str) -> tuple[str | None, str, bool]:
    """(user info or None, the rest, ambiguous) of what follows scheme://. The authority ends at the
    first /, ? or # (RFC 3986) and the user info at its last @. When that authority is no
    host[:port] (a raw / in a password), the one @ before any ? or # ends the user info: the only
    reading that works. With more @s it is ambiguous: the user info is taken to run up to the last
    @ only so that the whole password is masked, and the location is refused."""
    auth = re.split(r"[/?#]", text, 1)[0]
    if "@" in auth:
        info, _, host = auth.rpartition("@")
        if _valid_hostport(host) or "@" not in text[len(auth):]:
            return info, text[len(info) + 1:], False
        # no host after this @ but another @ further on: a raw /, ? or # and @ in a password
        info, _, _ = text.rpartition("@")
        return info, text[len(info) + 1:], True
    if "@" not in text or _valid_hostport(auth):
        return None, text, False
    head = re.split(r"[?#]", text, 1)[0]
    if head.count("@") == 1:
        info, _, rest = text.partition("@")
        if _valid_hostport(re.split(r"[/?#]", rest, 1)[0]):
            return info, rest, False
    info, _, _ = text.rpartition("@")
    return info, text[len(info) + 1:], True


def _valid_hostport(text: str) -> bool:
    try:
        _hostport(text)
        return True
    except ValueError:
        return False


def _secret_parts(info: str) -> list[str]:
    user, colon, password = info.partition(":")
    value = password if colon else user
    return [value, urllib.parse.unquote(value)]


def _after_scheme(text: str) -> int:
    """Where the authority starts: after the first ://, or at 0 (a scheme mistyped or forgotten:
    the credentials in it are hidden all the same)."""
    at = text.find("://")
    return at + 3 if at >= 0 else 0


def _userinfo(text: str) -> tuple[str | None, str]:
    """(user info or None, the rest) after the scheme. Without a scheme nothing says where the
    host starts, so everything up to the last @ counts as credentials."""
    start = _after_scheme(text)
    if start == 0 and "@" in text:
        info, _, rest = text.rpartition("@")
        return info, rest
    info, rest, _ = _split_userinfo(text[start:])
    return info, rest


def credentials(location: str) -> list[str]:
    """The secrets a location carries: its password, or a user name given alone (a token), as
    written and percent-decoded; [] if none (never raises)."""
    info, _ = _userinfo(location or "")
    return _secret_parts(info) if info is not None else []


def shown(location: str) -> str:
    """The location as messages may show it: user:******** or ******** (a token), its credentials
    masked wherever else they appear too, with or without registering them (never raises)."""
    text = location or ""
    start = _after_scheme(text)
    info, rest = _userinfo(text)
    if info is not None:
        user, colon, _ = info.partition(":")
        text = f"{text[:start]}{f'{user}:{MASK}' if colon else MASK}@{rest}"
        own = Secrets()
        own.add_all(_secret_parts(info))
        text = own.mask(text)
    return SECRETS.mask(text)


def _hostport(text: str) -> tuple[str, int | None]:
    """(host, port) of an authority without user info; ValueError saying what is wrong."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError("the IPv6 address has no closing ]")
        literal, after = text[1:end], text[end + 1:]
        if "%" in literal:
            raise ValueError("IPv6 zone identifiers (%...) are not supported")
        try:
            host = str(ipaddress.IPv6Address(literal))
        except ValueError:
            raise ValueError(f"[{literal}] is not an IPv6 address") from None
        if after and not after.startswith(":"):
            raise ValueError("unexpected text after the IPv6 address")
        port_text = after[1:] if after else ""
    else:
        host, colon, port_text = text.partition(":")
        if ":" in port_text:
            raise ValueError("an IPv6 address must be written in brackets, like [2001:db8::1]")
        if not host:
            raise ValueError("the host name is empty")
        if not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise ValueError("the host name is not a valid internationalized name") from None
        if not _HOST.fullmatch(host) or len(host) > 253:
            raise ValueError("the host name holds characters a host name cannot have")
    port = None
    if port_text or text.endswith(":"):
        if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError("the port must be a number from 1 to 65535")
        port = int(port_text)
    return host, port


def parse(location: str, schemes: tuple[str, ...] = SCHEMES) -> Location:
    """A checked Location; FetchError (masked) saying what is wrong with it. Registers nothing:
    fetch.parse does, before a transfer."""
    where = shown(location)

    def bad(why: str) -> FetchError:
        return FetchError(f"{where} is not a usable location: {why}")

    if not isinstance(location, str) or not location:
        raise bad("it is empty")
    if _BAD_CHARS.search(location):
        raise bad("it contains a control character")
    m = _SCHEME.match(location)
    if not m:
        if "nfs" in schemes and _NFS_SHORT.match(location):
            word = mistyped_scheme(location)
            if word:
                raise bad(f"it is a mistyped URL ({word}:// has two slashes), not the NFS server {word!r}")
            return _nfs(location, where, bad)
        raise bad("a URL starts with " + ", ".join(s + "://" for s in schemes))
    scheme = m.group(1).lower()
    if scheme not in schemes:
        raise bad(f"{scheme}:// is not supported here (use {', '.join(s + '://' for s in schemes)})")
    info, rest, ambiguous = _split_userinfo(location[m.end():])
    if ambiguous:
        raise bad("where the user name and password end is ambiguous (write / ? # @ in them as "
                  "%2F %3F %23 %40)")
    auth, path = re.match(r"([^/?#]*)(.*)", rest).groups()
    path = path.split("#", 1)[0]
    if scheme == "nfs":
        if info is not None:
            raise bad("NFS locations take no user name or password")
        return _nfs(location, where, bad)
    if scheme == "file":
        if info is not None or auth not in ("", "localhost"):
            raise bad("a file URL names a local file: file:///path/to/file")
        local = urllib.parse.unquote(path.split("?", 1)[0])
        if not local.startswith("/") or "\0" in local:
            raise bad("a file URL needs an absolute path: file:///path/to/file")
        return Location("file", path=local, shown=where)
    try:
        host, port = _hostport(auth)
    except ValueError as exc:
        raise bad(str(exc)) from None
    user = password = None
    if info is not None:
        raw_user, colon, raw_password = info.partition(":")
        user = urllib.parse.unquote(raw_user)
        password = urllib.parse.unquote(raw_password) if colon else None
        if ":" in user:
            raise bad("a user name cannot contain ':'")
        if _BAD_CHARS.search(user + (password or "")):
            raise bad("the user name or password holds a control character")
    if scheme == "ftp":     # a tree is a directory: ftp://host/ may name one
        decoded = urllib.parse.unquote(path.split("?", 1)[0])
        if _BAD_CHARS.search(decoded):
            raise bad("its path holds a control character")
        return Location("ftp", host, port, decoded, user, password, where)
    target, _, query = path.partition("?")
    wire = urllib.parse.quote(target or "/", safe="/%!$&'()*+,;=:@~-._")
    if query or path.endswith("?"):
        wire += "?" + urllib.parse.quote(query, safe="/%!$&'()*+,;=:@~-._?")
    return Location(scheme, host, port, wire, user, password, where)


def _nfs(location: str, where: str, bad) -> Location:
    try:
        server, path = nfs.split(location)
    except InstallerError:
        raise bad("an NFS location is server:/path or nfs://server/path") from None
    try:
        if "@" in server or _hostport(server)[1] is not None:
            raise ValueError("it takes no port or user name")
    except ValueError as exc:
        raise bad(f"the NFS server is not a host name or address ({exc})") from None
    if path.rstrip("/") == "":
        raise bad("it names no file")
    return Location("nfs", server, None, path, shown=where)
