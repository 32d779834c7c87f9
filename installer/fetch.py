"""The one way the installer reads a file named by a location: answer files, answer file generators,
hook scripts and product tree files.

Locations are checked, and shown with their credentials masked, by installer/locations.py. Over
http(s) and ftp the credentials become basic auth or the FTP login; they are registered with the
process's mask (runner.SECRETS) before anything is sent, so no message of a transfer shows them.
https:// certificates are checked against the system's CA store; NFS exports are mounted read-only
just for the copy. Anything wrong with a transfer is a FetchError saying in words what failed,
never a traceback.
"""
from __future__ import annotations

import base64
import contextlib
import errno
import ftplib
import hashlib
import http.client
import os
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

from . import locations, nfs, runner
from .locations import SCHEMES, FetchError, Location, shown

ANSWER_FILE_MAX = 1 << 20
SCRIPT_MAX = 4 << 20
TIMEOUT = 60
CHUNK = 1 << 20

__all__ = ["ANSWER_FILE_MAX", "SCRIPT_MAX", "SCHEMES", "FetchError", "Location", "copy_local", "failure",
           "fetch_bytes", "fetch_file", "parse", "register", "shown"]


def register(location: str) -> None:
    """Register the credentials of a location with the process's mask (never raises)."""
    runner.SECRETS.add_all(locations.credentials(location))


def parse(location: str, schemes: tuple[str, ...] = SCHEMES) -> Location:
    """A checked Location whose credentials are registered (they are about to be sent); FetchError
    (masked) saying what is wrong with it."""
    register(location)
    return locations.parse(location, schemes)


# -- transfers -------------------------------------------------------------------------------
_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}


def failure(exc: BaseException, location: str) -> FetchError:
    """Any failure of reading location, in words (a FetchError as it is): for a caller whose reads
    go through more than fetch, such as the wizard's check of an installation source."""
    host = urllib.parse.urlsplit(location).hostname if "://" in location else location.partition(":")[0]
    return _reason(exc, Location("", host=host or location or "the server"), TIMEOUT)


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
    if isinstance(exc, ConnectionResetError):
        return FetchError(f"{host} closed the connection (connection reset)", transient=True)
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE:
        return FetchError(f"cannot reach {host}: {(exc.strerror or '').lower()}", transient=True)
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return FetchError(f"no answer from {host} within {timeout:g} s", transient=True)
    if isinstance(exc, ftplib.error_perm):
        text = str(exc)
        if text.startswith("530"):
            return FetchError(f"the FTP server refused the login ({runner.SECRETS.mask(text)})")
        return FetchError(f"the FTP server refused: {runner.SECRETS.mask(text)}")
    if isinstance(exc, ftplib.Error):
        return FetchError(f"FTP error: {runner.SECRETS.mask(str(exc))}", transient=True)
    if isinstance(exc, urllib.error.URLError):        # a reason in words, not an exception
        return FetchError(runner.SECRETS.mask(str(exc.reason)))
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
