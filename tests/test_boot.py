"""The installer at boot: answer file fetching (real HTTP server) and the support bundle."""
from __future__ import annotations

import tarfile

import pytest
from conftest import self_signed_cert

from installer import boot, fetch
from installer.errors import InstallerError
from installer.runner import SECRETS


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(boot, "RUN", str(tmp_path))
    monkeypatch.setattr(boot, "LOG", str(tmp_path / "installer.log"))
    monkeypatch.setattr(boot, "EVENTS", str(tmp_path / "events.jsonl"))
    monkeypatch.setattr(fetch.time, "sleep", lambda s: None)
    monkeypatch.setattr(fetch.nfs, "MOUNTS", str(tmp_path / "nfs"))
    return tmp_path


def test_answer_file_over_http_and_file(run_dir, http_dir):
    www, url = http_dir
    (www / "a.xml").write_text("<installation/>")
    path = boot.fetch_answerfile(f"{url}/a.xml")
    assert open(path).read() == "<installation/>"
    with pytest.raises(InstallerError, match="cannot fetch the answer file http://127.0.0.1:.*/missing.xml"):
        boot.fetch_answerfile(f"{url}/missing.xml")
    assert open(boot.fetch_answerfile(f"file://{www}/a.xml")).read() == "<installation/>"
    # no NFS server here (and no NFS client in this kernel): a clear error, quickly
    with pytest.raises(InstallerError, match="cannot mount the NFS export 127.0.0.1:/nowhere"):
        boot.fetch_answerfile("nfs://127.0.0.1/nowhere/a.xml")


@pytest.mark.parametrize("location,want", [
    ("nfs://srv/exports/a.xml", ("srv", "/exports/a.xml")),
    ("nfs://srv:/exports/a.xml", ("srv", "/exports/a.xml")),
    ("srv.example:/x/tree/", ("srv.example", "/x/tree")),
    ("10.0.0.1:/", ("10.0.0.1", "/")),
])
def test_nfs_locations_in_xcp_ng_forms(location, want):
    from installer import nfs
    assert nfs.split(location) == want


def test_answerfile_generator_output_is_the_answer_file(run_dir, http_dir):
    www, url = http_dir
    (www / "gen.sh").write_text("#!/bin/sh\necho '<installation><hostname>'$(echo gen)'</hostname></installation>'\n")
    path = boot.fetch_answerfile(f"{url}/gen.sh", "answerfile_generator")
    assert open(path).read().strip() == "<installation><hostname>gen</hostname></installation>"
    (www / "bad.sh").write_text("#!/bin/sh\necho 'no inventory for this MAC' >&2\nexit 3\n")
    with pytest.raises(InstallerError, match="generator .*bad.sh failed with exit 3: no inventory for this MAC"):
        boot.fetch_answerfile(f"{url}/bad.sh", "answerfile_generator")


def test_support_bundle_holds_logs_probe_and_plan_without_secrets(run_dir):
    SECRETS.add("bundle-secret-pw")
    (run_dir / "installer.log").write_text("log line\n")
    path = boot.support_bundle({"answerfile.xml": "<root-password>bundle-secret-pw</root-password>",
                                "plan.txt": "plan"})
    with tarfile.open(path) as tar:
        names = tar.getnames()
        assert {"installer.log", "answerfile.xml", "plan.txt"} <= set(names)
        text = tar.extractfile("answerfile.xml").read().decode()
    assert "bundle-secret-pw" not in text and "********" in text


def test_https_answer_file_needs_a_trusted_certificate(run_dir, tmp_path, monkeypatch):
    """A real TLS server with a self-signed certificate: refused until the certificate is trusted."""
    import functools
    import http.server
    import ssl
    import threading
    cert, key = self_signed_cert(tmp_path)
    www = tmp_path / "tls"
    www.mkdir()
    (www / "a.xml").write_text("<installation/>")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(www)))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/a.xml"
    try:
        with pytest.raises(InstallerError, match="CERTIFICATE_VERIFY_FAILED"):
            boot.fetch_answerfile(url)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))     # now the CA store holds it
        assert open(boot.fetch_answerfile(url)).read() == "<installation/>"
    finally:
        server.shutdown()


def test_without_an_answer_file_the_wizard_starts_on_the_last_console(run_dir, monkeypatch, capsys):
    """A medium booted without answerfile= starts the interactive installer, which asks before
    touching anything: nothing is fetched or configured behind its back."""
    from installer.ui import main as ui_main
    monkeypatch.setattr(boot.cmdline, "read_proc", lambda: "boot=live console=tty0 console=ttyS0,115200")
    called = []
    monkeypatch.setattr(boot, "network_up", lambda *a: called.append("network"))
    monkeypatch.setattr(boot, "fetch_answerfile", lambda *a: called.append("fetch"))
    monkeypatch.setattr(ui_main, "run_on_console", lambda device, opts: called.append(device) or 0)
    assert boot.main() == 0
    assert called == ["/dev/ttyS0"]
    assert "the interactive installer runs on /dev/ttyS0" in capsys.readouterr().err
    assert boot.interactive_console(["tty0"]) == "/dev/tty1" and boot.interactive_console([]) == "/dev/tty1"


@pytest.fixture
def booted(run_dir, monkeypatch):
    """boot.main() on a given boot line, its consoles on stderr, nothing started on this machine."""
    monkeypatch.setattr(boot.Consoles, "__init__", lambda self, names: setattr(self, "names", []))
    actions = []
    monkeypatch.setattr(boot, "network_up", lambda opts, say: actions.append("network"))
    monkeypatch.setattr(boot, "at_exit", lambda action, say: actions.append(action))

    def run(line: str) -> int:
        monkeypatch.setattr(boot.cmdline, "read_proc", lambda: line)
        return boot.main()
    run.actions = actions
    return run


def test_a_url_with_credentials_fails_cleanly_at_boot(run_dir, booted, http_dir, capsys):
    """user:password@ in answerfile= used to raise InvalidURL: a traceback, no atexit action, no
    support bundle and the password on the console. Now: fetched with basic auth, or a clear failure."""
    www, url = http_dir
    port = url.rsplit(":", 1)[1]
    (www / "a.xml").write_text("<installation/>")      # fetched (no auth wanted), then invalid
    assert booted(f"answerfile=http://op:b00t-Secret@127.0.0.1:{port}/a.xml atexit=poweroff") == 1
    err = capsys.readouterr().err
    assert f"answer file: http://op:********@127.0.0.1:{port}/a.xml" in err
    assert "INSTALLATION FAILED: the answer file is invalid; no disk was touched" in err
    assert booted.actions == ["network", "poweroff"]
    assert list(run_dir.glob("support-*.tar.gz")), "a support bundle"
    assert booted(f"answerfile=http://op:b00t-Secret@127.0.0.1:{port}/none.xml") == 1
    err = capsys.readouterr().err
    assert (f"INSTALLATION FAILED: cannot fetch the answer file http://op:********@127.0.0.1:{port}/none.xml: "
            "HTTP 404 File not found: not found on the server") in err
    assert booted.actions[-1] == "reboot"
    # a URL that cannot be used is an error of the boot line, located, and masked
    assert booted("answerfile=http://op:b00t-Secret@127.0.0.1:99999/a.xml") == 1
    err = capsys.readouterr().err
    assert ("<kernel command line>:1:1: error: answerfile: http://op:********@127.0.0.1:99999/a.xml is not "
            "a usable location: the port must be a number from 1 to 65535") in err
    texts = [err, (run_dir / "installer.log").read_text()]
    for bundle in run_dir.glob("support-*.tar.gz"):
        with tarfile.open(bundle) as tar:
            texts += [tar.extractfile(m).read().decode() for m in tar.getmembers()]
    assert not any("b00t-Secret" in t for t in texts)


def test_a_refused_plan_still_tells_the_installation_complete_script(run_dir, booted, http_dir, capsys):
    """A one-shot PXE setup removes the host's boot entry from its installation-complete script:
    a plan refused before the engine runs must reach that script (with 1) too, or the machine
    boots the same failing install for ever."""
    www, url = http_dir
    flag = run_dir / "reported"
    (www / "report.sh").write_text(f"#!/bin/sh\necho \"status $1\" > {flag}\n")
    (www / "a.xml").write_text(f"""<installation><primary-disk>nosuchdisk9</primary-disk>
<source type="local"/><admin-interface name="eth0" proto="dhcp"/>
<script stage="installation-complete" type="url">{url}/report.sh</script></installation>""")
    assert booted(f"answerfile={url}/a.xml atexit=poweroff") == 1
    err = capsys.readouterr().err
    assert "plan error: primary disk /dev/nosuchdisk9 does not exist on this machine" in err
    assert flag.read_text() == "status 1\n"
    assert f"installation-complete script {url}/report.sh ran with 1" in err
    assert booted.actions[-1] == "poweroff"
