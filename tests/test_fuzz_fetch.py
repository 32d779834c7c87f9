"""Fuzz the boot-line fetch path: answerfile=/answerfile_generator=/rt_answerfile= URLs of arbitrary
shapes go through cmdline.parse and installer.fetch (answer file and hook script) against a real
HTTP server on 127.0.0.1 and closed ports. Only InstallerError (ConfigError included) may come out,
never a traceback, and the URL's password or token never shows in the message or the log.

Nothing leaves the machine: host names other than loopback literals and localhost fail to resolve
here, and NFS mounts are refused before mount(8) runs.
"""
from __future__ import annotations

import logging
import socket
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from installer import boot, cmdline, fetch, hookrunner, nfs, runner
from installer.config import Hook
from installer.errors import InstallerError

MARK = "Zq9x"     # in every generated secret, so a leak is told apart from a host or a path

_real_getaddrinfo = socket.getaddrinfo


def _local_only(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name not in ("127.0.0.1", "::1", "localhost"):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (test: loopback only)")
    return _real_getaddrinfo(host, *args, **kwargs)


def _no_mount(server, path, where):
    raise InstallerError(f"cannot mount the NFS export {server}:{path}: refused by the test")


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture
def env(tmp_path, monkeypatch, http_dir):
    www, url = http_dir
    (www / "a.xml").write_text("<installation/>")
    (www / "gen.sh").write_text("#!/bin/sh\necho '<installation/>'\n")
    (www / "d x").mkdir()
    (www / "d x" / "ä.xml").write_text("<installation/>")
    monkeypatch.setattr(socket, "getaddrinfo", _local_only)
    monkeypatch.setattr(nfs, "_mount", _no_mount)
    monkeypatch.setattr(nfs, "MOUNTS", str(tmp_path / "nfs"))
    monkeypatch.setattr(fetch.time, "sleep", lambda s: None)
    monkeypatch.setattr(fetch, "TIMEOUT", 5)
    monkeypatch.setattr(boot, "RUN", str(tmp_path))
    records = Records()
    logging.getLogger().addHandler(records)
    logging.getLogger().setLevel(logging.DEBUG)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    yield int(url.rsplit(":", 1)[1]), closed, records
    logging.getLogger().removeHandler(records)


URL_CHARS = st.characters(codec="utf-8", exclude_characters='"', exclude_categories=("Cs",))
piece = st.text(URL_CHARS, max_size=8)
escapes = st.sampled_from(["%2F", "%40", "%3A", "%25", "%zz", "%", "%C3%A9", "%ff", "%00", "%0A"])
secret_part = st.lists(st.one_of(piece, escapes, st.sampled_from(["/", "@", ":", "?", "#", "é", "🔑", " "])),
                       max_size=5).map("".join)
secret = st.tuples(secret_part, secret_part).map(lambda t: t[0] + MARK + t[1])


@st.composite
def boot_urls(draw):
    live, closed = draw(st.just("LIVE")), draw(st.just("CLOSED"))
    scheme = draw(st.sampled_from(["http", "https", "ftp", "file", "nfs", "HTTP", "gopher", "http:", ""]))
    kind = draw(st.sampled_from(["none", "user", "user+password", "empty-user", "empty-password"]))
    user = draw(st.sampled_from(["op", "", "d%40main", "ü", "a:b"]))
    password = draw(secret)
    userinfo, hidden = {
        "none": ("", None),
        "user": (f"{password}@", password),                  # a token as the user name
        "user+password": (f"{user}:{password}@", password),
        "empty-user": (f":{password}@", password),
        "empty-password": (f"{user}:@", None),
    }[kind]
    host = draw(st.sampled_from(["127.0.0.1", "[::1]", "::1", "localhost", "", "[::1", "[fe80::1%25lo]",
                                 "xn--bcher-kva.example", "bücher.example", "h st", "[v1.x]"]))
    port = draw(st.sampled_from([":" + live, ":" + closed, "", ":", ":0", ":99999", ":abc", ":-1",
                                 ":８０"]))
    path = draw(st.sampled_from(["/a.xml", "/gen.sh", "/none", "/d%20x/%C3%A4.xml", "/d x/ä.xml",
                                 "", "/", "/a.xml?x=1#f", "/%00"]) | piece.map(lambda p: "/" + p))
    if scheme in ("ftp", "https") and port == ":" + live:
        port = ":" + closed                     # an FTP client would wait for the HTTP server's greeting
    url = f"{scheme}://{userinfo}{host}{port}{path}" if scheme else f"{userinfo}{host}{port}{path}"
    return url, hidden


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=boot_urls(), key=st.sampled_from(["answerfile", "answerfile_generator", "rt_answerfile"]),
       quote=st.booleans())
def test_boot_line_urls_fail_only_in_words_and_never_show_the_secret(env, case, key, quote):
    live, closed, records = env
    url, hidden = case
    url = url.replace("LIVE", str(live)).replace("CLOSED", str(closed))
    records.lines.clear()
    value = f'"{url}"' if quote or any(c in url for c in " \t\n") else url
    messages = []
    try:
        opts, _ = cmdline.parse(f"console=ttyS0 {key}={value} atexit=poweroff")
    except InstallerError as exc:
        messages.append(str(exc))
    else:
        for action in (lambda: boot.fetch_answerfile(opts.answerfile, opts.answerfile_kind),
                       lambda: hookrunner.fetch(Hook("installation-start", "url", opts.answerfile))):
            try:
                action()
            except InstallerError as exc:
                messages.append(str(exc))
    if hidden:
        forms = {hidden, urllib.parse.unquote(hidden)}
        outputs = messages + records.lines + [runner.SECRETS.mask(m) for m in messages]
        for text in outputs:
            assert not any(f in text for f in forms if MARK in f), (url, text)
