"""installer.fetch: every remote file through one path, credentials sent and never shown.

Real servers on 127.0.0.1 only: an HTTP server with basic auth (and one that redirects), a minimal
FTP server, closed ports; plus product trees whose files are swapped after they were checked.
"""
from __future__ import annotations

import base64
import hashlib
import http.server
import logging
import os
import socket
import socketserver
import threading

import pytest
from helpers import http_server, self_signed_cert

from installer import boot, fetch, hookrunner, locations
from installer.config import Hook
from installer.errors import InstallerError
from installer.runner import SECRETS
from installer.tree import Tree


class AuthHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a directory; with server.credentials set, only to that user:password (basic auth).
    /redirect/NAME answers 302 to server.redirect_to + NAME."""

    def do_GET(self):
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to + self.path[len("/redirect/"):])
            self.end_headers()
            return
        want = self.server.credentials
        if want is not None:
            token = "Basic " + base64.b64encode(want.encode()).decode()
            if self.headers.get("Authorization") != token:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="installer"')
                self.end_headers()
                return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def auth_server(tmp_path):
    """(directory, port, server): an HTTP server on 127.0.0.1 wanting server.credentials."""
    root = tmp_path / "auth"
    root.mkdir()
    with http_server(root, AuthHandler) as server:
        server.credentials, server.seen, server.redirect_to = None, [], ""
        yield root, server.server_address[1], server


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(boot, "RUN", str(tmp_path))
    monkeypatch.setattr(boot, "LOG", str(tmp_path / "installer.log"))
    monkeypatch.setattr(boot, "EVENTS", str(tmp_path / "events.jsonl"))
    sleeps: list[float] = []
    monkeypatch.setattr(fetch.time, "sleep", sleeps.append)
    return tmp_path, sleeps


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("userinfo,sent", [
    ("op:s3cret-pw", "op:s3cret-pw"),
    ("op:p%40ss%2Fw0rd%3Ax", "op:p@ss/w0rd:x"),         # percent escapes decoded
    ("op:r@w-at-pw", "op:r@w-at-pw"),                     # a raw @: the last one ends the user info
    ("op:colon:in:pw", "op:colon:in:pw"),                 # the first : splits user and password
    ("%C3%A9l%C3%A8ve:m%C3%B6t-de-passe", "élève:möt-de-passe"),
    ("tok3n-abcdef", "tok3n-abcdef:"),                    # a user name alone: a token
])
def test_url_credentials_become_basic_auth(run_dir, auth_server, userinfo, sent):
    www, port, server = auth_server
    (www / "a.xml").write_text("<installation/>")
    server.credentials = sent
    path = boot.fetch_answerfile(f"http://{userinfo}@127.0.0.1:{port}/a.xml")
    assert open(path).read() == "<installation/>"
    secret = sent.split(":", 1)[1] or sent[:-1]
    assert SECRETS.mask(f"log line with {secret}") == "log line with ********"


def test_wrong_credentials_are_a_clear_error_without_the_password(run_dir, auth_server, caplog):
    www, port, server = auth_server
    (www / "hook.sh").write_text("#!/bin/sh\n")
    server.credentials = "op:right-password"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(InstallerError) as exc:
        boot.fetch_answerfile(f"http://op:wrong%2Fpassword@127.0.0.1:{port}/hook.sh")
    msg = str(exc.value)
    assert msg == (f"cannot fetch the answer file http://op:********@127.0.0.1:{port}/hook.sh: HTTP 401 "
                   "Unauthorized: the server wants credentials, or refused the ones given")
    assert run_dir[1] == [], "a refusal is not retried"
    for text in (msg, caplog.text):
        assert "wrong" not in text
    server.credentials = None
    with pytest.raises(InstallerError, match=r"HTTP 404 File not found: not found on the server"):
        fetch.fetch_bytes(f"http://tok3n-xyzzy@127.0.0.1:{port}/none", "answer file", 10)
    assert "tok3n-xyzzy" not in SECRETS.mask(f"http://tok3n-xyzzy@127.0.0.1:{port}/none")


def test_hook_scripts_with_credentials_are_fetched(auth_server):
    www, port, server = auth_server
    (www / "hook.sh").write_text("#!/bin/sh\nexit 0\n")
    server.credentials = "deploy:h00k-pass/word"
    hook = Hook("installation-start", "url", f"http://deploy:h00k-pass%2Fword@127.0.0.1:{port}/hook.sh")
    assert hookrunner.fetch(hook) == b"#!/bin/sh\nexit 0\n"
    (www / "big.sh").write_bytes(b"#!/bin/sh\n" + b"#" * fetch.SCRIPT_MAX)
    big = Hook("installation-start", "url", f"http://deploy:h00k-pass%2Fword@127.0.0.1:{port}/big.sh")
    with pytest.raises(hookrunner.HookError, match=r"big.sh: it is larger than 4 MiB, the limit for an "
                                                   r"installation-start script") as exc:
        hookrunner.fetch(big)
    assert "h00k" not in str(exc.value)


def test_credentials_are_not_sent_on_where_a_redirect_points(auth_server):
    www, port, server = auth_server
    (www / "a.xml").write_text("<installation/>")
    server.redirect_to = f"http://127.0.0.1:{port}/"
    data = fetch.fetch_bytes(f"http://op:redirect-pw@127.0.0.1:{port}/redirect/a.xml", "answer file", 100)
    assert data == b"<installation/>"
    assert server.seen[0][0] == "/redirect/a.xml" and server.seen[0][1] is not None
    assert server.seen[1] == ("/a.xml", None), "the Authorization header followed the redirect"


@pytest.mark.parametrize("target", ["ftp://127.0.0.1/"])
def test_a_redirect_leaves_http_only_for_nothing(auth_server, target):
    www, port, server = auth_server
    server.redirect_to = target
    with pytest.raises(fetch.FetchError) as exc:
        fetch.fetch_bytes(f"http://127.0.0.1:{port}/redirect/passwd", "answer file", 100)
    scheme = target.split(":")[0]
    assert f"the server redirects to a {scheme}:// location, which is refused" in str(exc.value)


def test_size_limits(run_dir, http_dir):
    www, url = http_dir
    (www / "exact.xml").write_bytes(b"x" * fetch.ANSWER_FILE_MAX)
    (www / "over.xml").write_bytes(b"x" * (fetch.ANSWER_FILE_MAX + 1))
    assert os.path.getsize(boot.fetch_answerfile(f"{url}/exact.xml")) == fetch.ANSWER_FILE_MAX
    with pytest.raises(InstallerError, match=r"over.xml: it is larger than 1 MiB, the limit for an answer file"):
        boot.fetch_answerfile(f"{url}/over.xml")
    assert not os.path.exists(os.path.join(run_dir[0], "answerfile.xml.part"))


def test_unreachable_servers_are_retried_at_boot_then_named(run_dir):
    port = closed_port()
    with pytest.raises(InstallerError) as exc:
        boot.fetch_answerfile(f"http://op:retry-pw@127.0.0.1:{port}/a.xml")
    assert str(exc.value) == (f"cannot fetch the answer file http://op:********@127.0.0.1:{port}/a.xml: "
                              "127.0.0.1 refused the connection (nothing listening on that port)")
    assert run_dir[1] == [2, 4, 6, 8], "five attempts, waiting longer each time"
    with pytest.raises(InstallerError, match="cannot be resolved"):
        fetch.fetch_bytes("http://no-such-host.invalid/a.xml", "answer file", 10)


def test_file_urls_are_percent_decoded(tmp_path):
    (tmp_path / "my answer é.xml").write_text("<installation/>")
    assert fetch.fetch_bytes(f"file://{tmp_path}/my%20answer%20%C3%A9.xml", "answer file", 100) == \
        b"<installation/>"
    assert fetch.fetch_bytes(f"file://localhost{tmp_path}/my answer é.xml", "answer file", 100) == \
        b"<installation/>"
    with pytest.raises(InstallerError, match="no such file"):
        fetch.fetch_bytes(f"file://{tmp_path}/none.xml", "answer file", 100)
    with pytest.raises(InstallerError, match="not a regular file"):
        fetch.fetch_bytes(f"file://{tmp_path}", "answer file", 100)


@pytest.mark.parametrize("url,why", [
    ("http://h:99999/a.xml", "the port must be a number from 1 to 65535"),
    ("http://h:8o/a.xml", "the port must be a number from 1 to 65535"),
    ("http://2001:db8::1/a.xml", "an IPv6 address must be written in brackets"),
    ("http://[2001:db8::zz]/a.xml", r"\[2001:db8::zz\] is not an IPv6 address"),
    ("http://[fe80::1%25eth0]/a.xml", "IPv6 zone identifiers"),
    ("http://[::1/a.xml", "the IPv6 address has no closing"),
    ("http:///a.xml", "the host name is empty"),
    ("http://u:pw@/a.xml", "the host name is empty"),
    ("http://ho st/a.xml", "characters a host name cannot have"),
    ("gopher://h/a.xml", r"gopher:// is not supported here"),
    ("h/a.xml", "a URL starts with http://"),
    ("http://h/a\x00.xml", "it contains a control character"),
    ("file://h/a.xml", "a file URL names a local file"),
    ("nfs://u:pw@h/x/a.xml", "NFS locations take no user name or password"),
    ("http:/h/a.xml", r"it is a mistyped URL \(http:// has two slashes\), not the NFS server 'http'"),
    ("NFS:/srv/a.xml", r"it is a mistyped URL \(NFS:// has two slashes\)"),
])
def test_bad_locations_are_named_in_words(url, why):
    with pytest.raises(InstallerError, match=why):
        fetch.parse(url)


def test_a_raw_slash_in_a_password(auth_server):
    """With one @ the meaning is clear (the RFC reading has no valid host): accepted. With more it is
    not: refused, the whole password masked, the cure named."""
    www, port, server = auth_server
    (www / "a.xml").write_text("<installation/>")
    server.credentials = "op:pa/ss-w0rd"
    url = f"http://op:pa/ss-w0rd@127.0.0.1:{port}/a.xml?x=1"
    assert fetch.shown(url) == f"http://op:********@127.0.0.1:{port}/a.xml?x=1"
    assert fetch.fetch_bytes(url, "answer file", 100) == b"<installation/>"
    with pytest.raises(InstallerError) as exc:
        fetch.parse("http://op:pa/ss@w0rd@192.0.2.5/a.xml")
    assert str(exc.value) == ("http://op:********@192.0.2.5/a.xml is not a usable location: where the user "
                              "name and password end is ambiguous (write / ? # @ in them as %2F %3F %23 %40)")
    with pytest.raises(InstallerError, match="ambiguous"):
        fetch.parse("http://op:pa/ss@192.0.2.5/a@b.xml")
    assert fetch.parse("http://192.0.2.5/a@b.xml").host == "192.0.2.5"   # an @ in a path is a path


def test_https_with_credentials_checks_the_certificate(tmp_path, monkeypatch):
    """Credentials go only to a server whose certificate the system trusts."""
    import ssl
    cert, key = self_signed_cert(tmp_path)
    www = tmp_path / "tls"
    www.mkdir()
    (www / "a.xml").write_text("<installation/>")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    with http_server(www, AuthHandler, tls=ctx) as server:
        server.credentials, server.seen, server.redirect_to = "op:tls-pw", [], ""
        url = f"https://op:tls-pw@127.0.0.1:{server.server_address[1]}/a.xml"
        with pytest.raises(InstallerError, match="TLS certificate is not trusted .*CERTIFICATE_VERIFY_FAILED"):
            fetch.fetch_bytes(url, "answer file", 100)
        assert all(auth is None for _, auth in server.seen)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        assert fetch.fetch_bytes(url, "answer file", 100) == b"<installation/>"


class FTPHandler(socketserver.StreamRequestHandler):
    """Just enough FTP for a download: USER, PASS, TYPE, PASV, RETR, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        srv = self.server
        self.reply("220 test")
        user = data = None
        while line := self.rfile.readline().decode("utf-8", "replace").rstrip("\r\n"):
            cmd, _, arg = line.partition(" ")
            cmd = cmd.upper()
            if cmd == "USER":
                user = arg
                self.reply("331 password")
            elif cmd == "PASS":
                srv.logins.append((user, arg))
                self.reply("230 in" if (user, arg) == srv.credentials else "530 Login incorrect.")
            elif cmd == "TYPE":
                self.reply("200 ok")
            elif cmd == "PASV":
                data = socket.socket()
                data.bind(("127.0.0.1", 0))
                data.listen(1)
                p = data.getsockname()[1]
                self.reply(f"227 Entering Passive Mode (127,0,0,1,{p >> 8},{p & 255})")
            elif cmd == "RETR":
                path = os.path.join(srv.root, arg.lstrip("/"))
                if not os.path.isfile(path):
                    self.reply("550 No such file.")
                    continue
                self.reply("150 sending")
                conn, _ = data.accept()
                with conn, open(path, "rb") as f:
                    conn.sendall(f.read())
                data.close()
                self.reply("226 done")
            elif cmd == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 no")


@pytest.fixture
def ftp_server(tmp_path):
    root = tmp_path / "ftp"
    root.mkdir()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), FTPHandler)
    server.daemon_threads = True
    server.root, server.logins, server.credentials = str(root), [], ("anonymous", "anonymous@")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, server.server_address[1], server
    server.shutdown()
    server.server_close()


def test_ftp_login_from_the_url(ftp_server):
    root, port, server = ftp_server
    (root / "dir").mkdir()
    (root / "dir" / "a b.xml").write_text("<installation/>")
    assert fetch.fetch_bytes(f"ftp://127.0.0.1:{port}/dir/a%20b.xml", "answer file", 100) == b"<installation/>"
    server.credentials = ("op", "ftp:p@ss")
    assert fetch.fetch_bytes(f"ftp://op:ftp%3Ap%40ss@127.0.0.1:{port}/dir/a b.xml", "answer file", 100) \
        == b"<installation/>"
    assert server.logins[-1] == ("op", "ftp:p@ss")
    with pytest.raises(InstallerError) as exc:
        fetch.fetch_bytes(f"ftp://op:wrong-ftp-pw@127.0.0.1:{port}/dir/a b.xml", "answer file", 100)
    assert str(exc.value) == (f"cannot fetch the answer file ftp://op:********@127.0.0.1:{port}/dir/a b.xml: "
                              "the FTP server refused the login (530 Login incorrect.)")
    with pytest.raises(InstallerError, match="the FTP server refused: 550 No such file"):
        fetch.fetch_bytes(f"ftp://op:ftp%3Ap%40ss@127.0.0.1:{port}/none.xml", "answer file", 100)


# -- product trees: what is used is a copy checked after it was copied --------------------------


def make_tree(root, image: bytes = b"root image v1" * 1000):
    (root / "images").mkdir(parents=True)
    (root / "images" / "root.squashfs").write_bytes(image)
    digest = hashlib.sha256(image).hexdigest()
    (root / ".treeinfo").write_text("[general]\nname = Xenhost\nversion = 0.1.0\n\n[images-x86_64]\n"
                                    f"root = images/root.squashfs\n\n[checksums]\n"
                                    f"images/root.squashfs = sha256:{digest}\n")
    return digest


def swap(path, data: bytes) -> None:
    os.unlink(path)
    path.write_bytes(data)


@pytest.mark.parametrize("remote", [False, True])
def test_a_tree_file_swapped_after_the_check_is_not_used(tmp_path, http_dir, remote):
    www, url = http_dir
    make_tree(www)
    tree = Tree(url if remote else str(www), cache_dir=str(tmp_path / "cache"))
    tree.verify(False, lambda msg: None, files=True)      # prepare's early check passes
    swap(www / "images" / "root.squashfs", b"evil image" * 1000)
    with pytest.raises(InstallerError, match=r"images/root.squashfs does not match the signed manifest "
                                             r"\(sha256 [0-9a-f]{16}\.\.\., expected [0-9a-f]{16}\.\.\.\)"):
        tree.root_image()
    assert not os.path.exists(tmp_path / "cache" / "images" / "root.squashfs"), "the bad copy is removed"
    swap(www / "images" / "root.squashfs", b"root image v1" * 1000)
    copy = tree.root_image()
    assert open(copy, "rb").read() == b"root image v1" * 1000 and copy.startswith(str(tmp_path / "cache"))


def test_the_manifest_read_is_the_copy_that_was_checked(tmp_path):
    """verify() parses its own copy of .treeinfo, not the tree's file (which may change later)."""
    tree_dir = tmp_path / "tree"
    make_tree(tree_dir)
    tree = Tree(str(tree_dir), cache_dir=str(tmp_path / "cache"))
    info = tree.verify(False, lambda msg: None, files=False)
    swap(tree_dir / ".treeinfo", b"[general]\nname = Other\n")
    assert info["general"]["name"] == "Xenhost"
    assert open(tmp_path / "cache" / ".treeinfo").read().startswith("[general]\nname = Xenhost")


def test_a_remote_tree_with_credentials(tmp_path, auth_server):
    www, port, server = auth_server
    make_tree(www)
    server.credentials = "tree:tr33-pw"
    tree = Tree(f"http://tree:tr33-pw@127.0.0.1:{port}/", cache_dir=str(tmp_path / "cache"))
    assert tree.describe() == f"http://tree:********@127.0.0.1:{port}"
    tree.verify(False, lambda msg: None, files=False)
    assert open(tree.root_image(), "rb").read() == b"root image v1" * 1000
    server.credentials = "tree:other"
    with pytest.raises(InstallerError) as exc:
        Tree(f"http://tree:tr33-pw@127.0.0.1:{port}/", cache_dir=str(tmp_path / "c2")).verify(
            False, lambda msg: None)
    assert str(exc.value) == (f"cannot fetch the product tree file .treeinfo http://tree:********@127.0.0.1:"
                              f"{port}/.treeinfo: HTTP 401 Unauthorized: the server wants credentials, "
                              "or refused the ones given")


def test_pool_files_are_copied_and_checked_along_the_signed_chain(tmp_path):
    from installer.steps import laydown
    tree_dir = tmp_path / "tree"
    deb = b"!<arch>\n fake deb"
    dists = tree_dir / "pool" / "dists" / "xenhost"
    (dists / "main" / "binary-amd64").mkdir(parents=True)
    (tree_dir / "pool" / "pool").mkdir()
    (tree_dir / "pool" / "pool" / "a_1_amd64.deb").write_bytes(deb)
    packages = (f"Package: a\nFilename: pool/a_1_amd64.deb\nSize: {len(deb)}\n"
                f"SHA256: {hashlib.sha256(deb).hexdigest()}\n\n").encode()
    (dists / "main" / "binary-amd64" / "Packages").write_bytes(packages)
    release = (f"Suite: xenhost\nSHA256:\n {hashlib.sha256(packages).hexdigest()} {len(packages)} "
               "main/binary-amd64/Packages\n").encode()
    (dists / "Release").write_bytes(release)
    (dists / "InRelease").write_bytes(b"signed " + release)
    make_tree(tree_dir)
    with open(tree_dir / ".treeinfo", "a") as f:
        f.write(f"pool/dists/xenhost/Release = sha256:{hashlib.sha256(release).hexdigest()}\n"
                "\n[pool]\npath = pool\nsuite = xenhost\n")
    tree = Tree(str(tree_dir), cache_dir=str(tmp_path / "cache"))
    info = tree.verify(False, lambda msg: None, files=True)
    pool_dir = laydown._copy_pool(tree, info["pool"])
    assert pool_dir == str(tmp_path / "cache" / "pool")
    assert (tmp_path / "cache" / "pool" / "pool" / "a_1_amd64.deb").read_bytes() == deb
    assert (tmp_path / "cache" / "pool" / "dists" / "xenhost" / "InRelease").exists()
    for path, data, message in [
        (tree_dir / "pool" / "pool" / "a_1_amd64.deb", b"evil deb", "pool/a_1_amd64.deb does not match "
                                                                    "the pool's signed index"),
        (dists / "main" / "binary-amd64" / "Packages", packages.replace(b"Size", b"Sise"),
         "main/binary-amd64/Packages does not match the pool's signed Release file"),
        (dists / "Release", release + b"\n", "Release does not match the signed manifest"),
    ]:
        good = path.read_bytes()
        swap(path, data)
        with pytest.raises(InstallerError, match=message):
            laydown._copy_pool(_verified(tree_dir, tmp_path), info["pool"])
        swap(path, good)


def _verified(tree_dir, tmp_path):
    tree = Tree(str(tree_dir), cache_dir=str(tmp_path / "c2"))
    tree.verify(False, lambda msg: None, files=False)
    return tree


@pytest.mark.parametrize("url,why", [
    ("ftp://h/a%0D%0ADELE%20x", "its path holds a control character"),
    ("ftp://op:pw%0D%0AQUIT@h/a.xml", "the user name or password holds a control character"),
    ("http://op%00:pw@h/a.xml", "the user name or password holds a control character"),
])
def test_no_command_injection_through_escapes(url, why):
    with pytest.raises(InstallerError, match=why):
        fetch.parse(url)


@pytest.mark.parametrize("url, password", [
    ("http://:@p\x06Zq/@127.0.0.1:80/a.xml", "@p\x06Zq/"),     # raw @ and / in a password
    ("http://op:s@c\x06r?t@127.0.0.1/a.xml", "s@c\x06r?t"),   # raw @ and ? in a password
])
def test_a_password_with_raw_at_and_slash_is_masked_whole_and_refused(url, password):
    """Found by the boot-line fuzz test: the authority's own @ is followed by no host, so the
    password runs on to a later @; masking stops at the first @ would show the rest."""
    assert password in locations.credentials(url)
    assert password not in locations.shown(url) and "Zq" not in locations.shown(url)
    with pytest.raises(InstallerError) as exc:
        locations.parse(url, ("http",))
    assert password not in str(exc.value)
