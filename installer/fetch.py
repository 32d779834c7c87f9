"""The one way the installer reads a file named by a location: answer files, answer file generators,
hook scripts and product tree files.

Locations: http://, https:// (certificate checked against the system's CA store), ftp://, file:///
and NFS (nfs://server/path or server:/path, mounted read-only just for the copy). user:password@
in an http(s) or ftp URL is percent-decoded and becomes basic auth or the FTP login; the password,
or a user name given alone (a token), is registered as a secret before anything is sent, and every
message shows the URL with its credentials masked. Anything wrong with a location or a transfer is
a FetchError saying in words what failed, never a traceback.
"""
from __future__ import annotations

import base64
import contextlib
import ftplib
import hashlib
import http.client
import ipaddress
import os
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from . import nfs, runner
from .errors import InstallerError

ANSWER_FILE_MAX = 1 << 20
SCRIPT_MAX = 4 << 20
SCHEMES = ("http", "https", "ftp", "file", "nfs")
TIMEOUT = 60
MASK = runner.MASK
CHUNK = 1 << 20

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_HOST = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?")
_NFS_SHORT = re.compile(r"[^\s/:@]+:/")


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
        info, _, _ = auth.rpartition("@")
        return info, text[len(info) + 1:], False
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


def register(location: str) -> None:
    """Register the credentials of a location as secrets (never raises)."""
    text = location or ""
    info, _ = _userinfo(text)
    if info is not None:
        for value in _secret_parts(info):
            runner.SECRETS.add(value)


def shown(location: str) -> str:
    """The location as messages may show it: user:******** or ******** (a token) (never raises)."""
    text = location or ""
    start = _after_scheme(text)
    info, rest = _userinfo(text)
    if info is not None:
        user, colon, _ = info.partition(":")
        text = f"{text[:start]}{f'{user}:{MASK}' if colon else MASK}@{rest}"
    return runner.SECRETS.mask(text)


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
    """A checked Location; FetchError (masked) saying what is wrong with it."""
    register(location)
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


# -- transfers -------------------------------------------------------------------------------


def _reason(exc: BaseException, loc: Location, timeout: float) -> FetchError:
    """An exception of a transfer, in words (without a traceback or a credential)."""
    host = loc.host
    if isinstance(exc, FetchError):
        return exc
    if isinstance(exc, urllib.error.HTTPError):
        words = {401: "the server wants credentials, or refused the ones given",
                 403: "the server refuses access", 404: "not found on the server"}
        return FetchError(f"HTTP {exc.code} {exc.reason}: {words.get(exc.code, 'the server refused')}",
                          transient=exc.code in (502, 503, 504))
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        return _reason(exc.reason, loc, timeout)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return FetchError(f"the server's TLS certificate is not trusted (CERTIFICATE_VERIFY_FAILED: "
                          f"{exc.verify_message}); the installer checks it against the system's CA store")
    if isinstance(exc, ssl.SSLError):
        return FetchError(f"the TLS handshake failed ({exc.reason or exc})")
    if isinstance(exc, socket.gaierror):
        return FetchError(f"the host name {host} cannot be resolved ({exc.strerror})", transient=True)
    if isinstance(exc, ConnectionRefusedError):
        return FetchError(f"{host} refused the connection (nothing listening on that port)", transient=True)
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return FetchError(f"no answer from {host} within {timeout:g} s", transient=True)
    if isinstance(exc, ftplib.error_perm):
        text = str(exc)
        if text.startswith("530"):
            return FetchError(f"the FTP server refused the login ({runner.SECRETS.mask(text)})")
        return FetchError(f"the FTP server refused: {runner.SECRETS.mask(text)}")
    if isinstance(exc, ftplib.Error):
        return FetchError(f"FTP error: {runner.SECRETS.mask(str(exc))}", transient=True)
    if isinstance(exc, http.client.HTTPException):
        return FetchError(f"the server's answer is not valid HTTP ({type(exc).__name__})", transient=True)
    if isinstance(exc, OSError):
        return FetchError(exc.strerror or type(exc).__name__, transient=True)
    if isinstance(exc, UnicodeError):
        return FetchError("the location cannot be encoded")
    return FetchError(f"{type(exc).__name__}: {runner.SECRETS.mask(str(exc))}")


@contextlib.contextmanager
def _open(loc: Location, timeout: float):
    """A binary reader of the location's content."""
    if loc.scheme == "file":
        if not os.path.isfile(loc.path):
            raise FetchError("no such file" if not os.path.exists(loc.path) else "not a regular file")
        with open(loc.path, "rb") as f:
            yield f
    elif loc.scheme == "nfs":
        with nfs.mounted_file(loc.host, loc.path) as local:
            if not os.path.isfile(local):
                raise FetchError(f"{loc.host}:{loc.path} does not exist on the NFS export")
            with open(local, "rb") as f:
                yield f
    elif loc.scheme == "ftp":
        with ftplib.FTP(timeout=timeout) as ftp:
            ftp.connect(loc.host, loc.port or 21)
            ftp.login(loc.user or "anonymous", loc.password if loc.password is not None else "anonymous@")
            ftp.voidcmd("TYPE I")
            conn = ftp.transfercmd("RETR " + loc.path)
            with conn, conn.makefile("rb") as reader:
                yield reader
            ftp.voidresp()
    else:
        req = urllib.request.Request(loc.url(), headers={"User-Agent": "xenhost-installer"})
        if loc.user is not None:
            token = base64.b64encode(f"{loc.user}:{loc.password or ''}".encode()).decode()
            # never sent on to another host a redirect may name
            req.add_unredirected_header("Authorization", f"Basic {token}")
        with _OPENER.open(req, timeout=timeout) as resp:
            yield resp


class _Redirects(urllib.request.HTTPRedirectHandler):
    """A redirect stays on http(s) and never downgrades https to http (urllib would follow one to
    ftp:// or from https to http, where a checked certificate no longer stands behind the file)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        old = urllib.parse.urlsplit(req.full_url).scheme.lower()
        new = urllib.parse.urlsplit(newurl).scheme.lower()
        if new not in ("http", "https") or (old == "https" and new != "https"):
            raise FetchError(f"the server redirects to a {new}:// location, which is refused "
                             f"(only http(s), and never from https to http)")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_Redirects)


def _transfer(loc: Location, write, limit: int | None, what: str, timeout: float) -> None:
    total = 0
    with _open(loc, timeout) as reader:
        while chunk := reader.read(CHUNK if limit is None else min(CHUNK, limit + 1 - total)):
            total += len(chunk)
            if limit is not None and total > limit:
                raise FetchError(f"it is larger than {_size(limit)}, the limit for {_article(what)}")
            write(chunk)


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n % (1 << 20) == 0 else f"{n} bytes"


def _article(what: str) -> str:
    return ("an " if what[:1] in "aeiou" else "a ") + what


def _attempts(loc: Location, what: str, attempts: int, action):
    for attempt in range(attempts):
        try:
            return action()
        except Exception as exc:  # noqa: BLE001 - every failure becomes words, see _reason
            err = _reason(exc, loc, TIMEOUT)
            if not err.transient or attempt == attempts - 1:
                raise FetchError(f"cannot fetch the {what} {loc.shown}: {err}", err.transient) from None
        time.sleep(2 * (attempt + 1))


def fetch_bytes(location: str, what: str, limit: int, attempts: int = 1,
                schemes: tuple[str, ...] = SCHEMES) -> bytes:
    """The content of a small file (an answer file, a script), at most limit bytes."""
    loc = parse(location, schemes)

    def once() -> bytes:
        parts: list[bytes] = []
        _transfer(loc, parts.append, limit, what, TIMEOUT)
        return b"".join(parts)

    return _attempts(loc, what, attempts, once)


def fetch_file(location: str, dest: str, what: str, limit: int | None = None, attempts: int = 1,
               schemes: tuple[str, ...] = SCHEMES) -> str:
    """Copy a file to dest (through dest.part, so dest is whole or absent); its sha256, computed
    from the bytes as they were written."""
    loc = parse(location, schemes)
    return _attempts(loc, what, attempts, lambda: _to_file(loc, dest, what, limit))


def copy_local(path: str, dest: str, what: str) -> str:
    """Copy a local file (installer media, a mounted NFS tree) to dest; its sha256 as copied."""
    loc = Location("file", path=path, shown=runner.SECRETS.mask(path))
    return _attempts(loc, what, 1, lambda: _to_file(loc, dest, what, None))


def _to_file(loc: Location, dest: str, what: str, limit: int | None) -> str:
    digest = hashlib.sha256()
    part = dest + ".part"
    try:
        with open(part, "wb") as out:
            def write(chunk: bytes) -> None:
                digest.update(chunk)
                out.write(chunk)
            _transfer(loc, write, limit, what, TIMEOUT)
        os.replace(part, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(part)
        raise
    return digest.hexdigest()
