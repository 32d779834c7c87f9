"""Locations as answer files and the wizard take them: a URL checked as fetch will check it, an
NFS location (server:/path, nfs://server/path) that is neither a URL of another scheme nor holds
credentials. Messages show locations with their credentials masked."""
from __future__ import annotations

import re

from . import locations
from .values import hostname, ipv4_address


_URL = re.compile(r"(https?|ftp)://[^\s/]+\S*|file:///\S*", re.IGNORECASE)


def url(text: str, schemes: tuple[str, ...] = ("http", "https", "ftp", "file")) -> str:
    """A location checked as fetch will check it; messages show it with its credentials masked
    (registering them is for whoever sends them: fetch)."""
    value = text.strip()
    if not _URL.fullmatch(value) or value.split(":", 1)[0].lower() not in schemes:
        raise ValueError(f"expected a URL starting with {', '.join(s + '://' for s in schemes)}; "
                         f"got {locations.shown(text)!r}")
    try:
        locations.parse(value, schemes)  # what the fetch would refuse is refused here, located
    except locations.FetchError as exc:
        raise ValueError(str(exc)) from None
    return value


def nfs_location(text: str) -> str:
    """An NFS location is server:/path or nfs://server/path (XCP-ng's nfs://server:/path too), the
    server a host name or an IPv4 address, the path absolute: nothing else, so neither a URL of
    another scheme (http://..., http:/...) nor credentials. Returned as given, stripped."""
    value = text.strip()
    shown = locations.shown(text)
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", value)
    if scheme and scheme.group(1).lower() != "nfs":
        raise ValueError(f"an NFS location is server:/path or nfs://server/path, not a "
                         f"{scheme.group(1)}:// URL ({shown!r})")
    if locations.mistyped_scheme(value):
        raise ValueError(f"an NFS location is server:/path or nfs://server/path, not a URL ({shown!r})")
    if scheme:
        server, slash, path = value[len("nfs://"):].partition("/")
        server, path = server.removesuffix(":"), slash + path
    else:
        server, _, path = value.partition(":")
    if "@" in server:
        raise ValueError(f"NFS locations take no user name or password (NFS has none): {shown!r}")
    if not server or not path.startswith("/") or re.search(r"\s", value):
        raise ValueError(f"expected an NFS location like server:/path or nfs://server/path, got {shown!r}")
    try:
        ipv4_address(server) if re.fullmatch(r"[0-9.]+", server) else hostname(server)
    except ValueError:
        raise ValueError(f"the NFS server {server!r} in {shown!r} is not a host name or IPv4 "
                         "address") from None
    return value
