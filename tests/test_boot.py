"""The installer at boot: answer file fetching (real HTTP server) and the support bundle."""
from __future__ import annotations

import os
import sys
import tarfile

import pytest
from helpers import self_signed_cert

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
    from installer.ui import launch
    monkeypatch.setattr(boot.cmdline, "read_proc", lambda: "boot=live console=tty0 console=ttyS0,115200")
    called = []
    monkeypatch.setattr(boot, "network_up", lambda *a: called.append("network"))
    monkeypatch.setattr(boot, "fetch_answerfile", lambda *a: called.append("fetch"))
    monkeypatch.setattr(launch, "run_on_console", lambda device, opts, tree: called.append(device) or 0)
    assert boot.main() == 0
    assert called == ["/dev/ttyS0"]
    assert "the interactive installer runs on /dev/ttyS0" in capsys.readouterr().err
    assert boot.interactive_console(["tty0"]) == "/dev/tty1" and boot.interactive_console([]) == "/dev/tty1"


class FakeKeys:
    """boot.Keys without consoles or time: each second of a countdown is one call of pressed();
    press_at: the call that finds a key (None: none)."""
    press_at: int | None = None
    waited: list = []

    def __init__(self, names):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def pressed(self, seconds):
        self.waited.append(seconds)
        return len(self.waited) == self.press_at


@pytest.fixture
def booted(run_dir, monkeypatch):
    """boot.main() on a given boot line, its consoles on stderr, nothing started on this machine;
    a failure's countdown is counted (run.waited), not waited."""
    monkeypatch.setattr(boot.Consoles, "__init__", lambda self, names: setattr(self, "names", []))
    actions = []
    monkeypatch.setattr(boot, "network_up", lambda opts, say: actions.append("network"))
    monkeypatch.setattr(boot, "at_exit", lambda action, say: actions.append(action))
    keys = type("Keys", (FakeKeys,), {"waited": []})
    monkeypatch.setattr(boot, "Keys", keys)

    def run(line: str) -> int:
        monkeypatch.setattr(boot.cmdline, "read_proc", lambda: line)
        return boot.main()
    run.actions, run.keys = actions, keys
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


GOOD = """<installation><primary-disk>sda</primary-disk><source type="local"/>
<admin-interface name="eth0" proto="dhcp"/><root-password>b00t-pw</root-password></installation>"""


@pytest.fixture
def planned(run_dir, booted, monkeypatch):
    """boot.main() up to the engine: a recorded machine instead of a probe, and the engine's
    outcome chosen by the test; what the engine was given is kept."""
    from helpers import machine
    monkeypatch.setattr(boot, "probe", lambda: machine("bios-1disk"))
    monkeypatch.setenv("XENHOST_TREE", "/media/tree")
    given = {}

    def run_engine(cfg, plan, stream, masked, plan_text, events, log, dry_run, tree=None):
        given.update(cfg=cfg, masked=masked, plan_text=plan_text, dry_run=dry_run, tree=tree)
        return given["outcome"]
    monkeypatch.setattr(boot.session, "run_engine", run_engine)
    af = run_dir / "a.xml"
    af.write_text(GOOD)

    def run(outcome) -> int:
        given["outcome"] = outcome
        return booted(f"answerfile=file://{af} atexit=poweroff")
    run.given, run.actions = given, booted.actions
    return run


def test_an_install_that_succeeds_ends_with_the_answer_files_atexit(planned, run_dir, capsys):
    from installer.engine import Outcome
    assert planned(Outcome(True)) == 0
    err = capsys.readouterr().err
    assert "installer: INSTALLATION COMPLETE" in err and "support bundle" not in err
    given = planned.given
    assert given["dry_run"] is False and given["tree"] == "/media/tree"   # $XENHOST_TREE, passed down
    assert "b00t-pw" not in given["masked"] and "<primary-disk>sda</primary-disk>" in given["masked"]
    assert given["plan_text"].startswith("Plan: fresh install of")
    assert planned.actions == ["poweroff"]       # the boot line's atexit= reached the config


def test_a_failed_step_is_reported_with_a_support_bundle(planned, run_dir, capsys):
    from installer.engine import Outcome
    assert planned(Outcome(False, "partition", "sfdisk said no")) == 1
    err = capsys.readouterr().err
    assert "installer: INSTALLATION FAILED in step partition: sfdisk said no" in err
    [bundle] = run_dir.glob("support-*.tar.gz")
    assert f"support bundle: {bundle}" in err
    with tarfile.open(bundle) as tar:
        assert {"answerfile.xml", "probe.json", "plan.txt"} <= set(tar.getnames())
    assert planned.actions == ["poweroff"]


def test_an_invalid_boot_line_is_reported_on_the_kernels_console(run_dir, monkeypatch, capsys):
    written = []
    monkeypatch.setattr(boot.Consoles, "write", lambda self, text: written.append((self.names, text)))
    monkeypatch.setattr(boot.cmdline, "read_proc", lambda: "answerfile=x rt_answerfile=y")
    assert boot.main() == 1
    assert written and all(names == ["console"] for names, _ in written)
    assert all(text.startswith("installer: ") for _, text in written)


def test_the_boot_lines_network_goes_through_netup(monkeypatch):
    """network_config= static with a VLAN: the address on the VLAN interface (the VLAN used to be
    dropped at boot)."""
    from installer import cmdline, netup
    seen = []
    monkeypatch.setattr(netup, "named", lambda device: [device])
    monkeypatch.setattr(netup, "bring_up", lambda nics, static, vlan: seen.append((nics, static, vlan))
                        or "eth0.7 192.0.2.10/24")
    opts, _ = cmdline.parse("answerfile=http://192.0.2.1/a.xml network_device=eth0 "
                            "network_config=static:ip=192.0.2.10;netmask=255.255.255.0;gateway=192.0.2.1;"
                            "dns=192.0.2.53;vlan=7")
    said = []
    boot.network_up(opts, said.append)
    assert seen == [(["eth0"], netup.Static("192.0.2.10/24", "192.0.2.1", ("192.0.2.53",)), 7)]
    assert said == ["network: eth0.7 192.0.2.10/24"]


SECURE_REFUSED = """<installation><primary-disk>vda</primary-disk><source type="local"/>
<admin-interface name="eth0" proto="dhcp"/><root-password>b00t-pw-long</root-password>
<script stage="installation-complete" type="url">{url}/report.sh</script></installation>"""


@pytest.fixture
def refused(run_dir, booted, http_dir, monkeypatch):
    """A PXE-style unattended install that Secure Boot refuses, with a report hook that keeps what
    it was told ($1 and $XENHOST_FAILURE)."""
    from helpers import machine
    monkeypatch.setattr(boot, "probe", lambda: machine("uefi-secureboot"))
    www, url = http_dir
    told = run_dir / "told"
    (www / "report.sh").write_text(f'#!/bin/sh\nprintf "%s|%s" "$1" "$XENHOST_FAILURE" > {told}\n')
    (www / "a.xml").write_text(SECURE_REFUSED.format(url=url))
    booted.url, booted.told = url, told
    return booted


def test_a_failure_before_reboot_keeps_its_reason_on_the_consoles_with_a_countdown(refused, capsys):
    """atexit=reboot (the default) after a failure used to reboot at once: the reason scrolled away,
    the log in /run was lost and a PXE-booted machine looped through the same refused install."""
    from installer import secureboot
    assert refused(f"answerfile={refused.url}/a.xml") == 1
    err = capsys.readouterr().err
    last = err[err.index("support bundle:"):]              # after everything else: the reason, then the wait
    assert f"installer: INSTALLATION FAILED: the install cannot be planned on this machine; no disk was touched: " \
           f"{secureboot.REFUSAL}" in last
    assert f"rebooting in {boot.FAILURE_WAIT} s: press a key on this console to reboot now" in last
    assert "atexit=shell or atexit=poweroff" in last
    assert refused.keys.waited == [1] * boot.FAILURE_WAIT and refused.actions == ["network", "reboot"]
    assert boot.FAILURE_WAIT >= 30


def test_a_key_on_a_console_reboots_at_once(refused, capsys):
    refused.keys.press_at = 3
    assert refused(f"answerfile={refused.url}/a.xml") == 1
    assert refused.keys.waited == [1, 1, 1] and refused.actions[-1] == "reboot"
    assert "a key was pressed: rebooting now" in capsys.readouterr().err


@pytest.mark.parametrize("atexit", ["poweroff", "shell"])
def test_no_countdown_when_the_machine_does_not_reboot(refused, atexit):
    assert refused(f"answerfile={refused.url}/a.xml atexit={atexit}") == 1
    assert refused.keys.waited == [] and refused.actions[-1] == atexit


def test_the_report_hook_is_told_why(refused):
    """The installation-complete script gets "1" and, in $XENHOST_FAILURE, the reason in one line: a
    per-host PXE report (report-installed.sh) can say why the host was not installed."""
    from installer import secureboot
    assert refused(f"answerfile={refused.url}/a.xml atexit=poweroff") == 1
    flag, why = refused.told.read_text().split("|")
    assert flag == "1" and why.startswith("the install cannot be planned on this machine; no disk was touched: ")
    assert "\n" not in why and len(why) <= 1000 and secureboot.WHAT in why


def test_keys_reads_a_key_on_a_terminal_and_puts_it_back_as_it_was():
    """The real boot.Keys on a pseudo-terminal: what was typed before does not count; a key does; the
    terminal's settings are restored."""
    import termios
    master, slave = os.openpty()
    try:
        name = os.ttyname(slave).removeprefix("/dev/")
        before = termios.tcgetattr(slave)
        os.write(master, b"x")                             # typed before the countdown
        with boot.Keys([name, "no-such-tty9"]) as keys:
            assert len(keys.open) == 1
            assert not termios.tcgetattr(slave)[3] & termios.ICANON      # a key, not a line
            assert keys.pressed(0.2) is False
            os.write(master, b"y")
            assert keys.pressed(2) is True
        assert termios.tcgetattr(slave) == before and keys.open == []
    finally:
        os.close(master)
        os.close(slave)


def test_the_wizard_boot_says_secureboot_is_for_answer_files(run_dir, monkeypatch, capsys):
    from installer.ui import launch
    monkeypatch.setattr(boot.cmdline, "read_proc", lambda: "boot=live console=ttyS0 secureboot=continue")
    monkeypatch.setattr(launch, "run_on_console", lambda device, opts, tree: 0)
    assert boot.main() == 0
    assert ("secureboot=continue is for answer files: the interactive installer asks on its own Secure Boot "
            "screen") in capsys.readouterr().err


def test_a_hung_up_console_is_no_key_press():
    """A terminal at end of file (its other side gone) is readable at once: not a key, and not read again."""
    master, slave = os.openpty()
    name = os.ttyname(slave).removeprefix("/dev/")
    try:
        with boot.Keys([name]) as keys:
            os.close(master)
            master = None
            assert keys.pressed(0.5) is False and keys.quiet
            assert keys.pressed(0.1) is False
    finally:
        if master is not None:
            os.close(master)
        os.close(slave)


def test_a_final_script_that_fails_in_any_way_still_ends_in_the_atexit_action(refused, run_dir, monkeypatch,
                                                                             capsys):
    """A reason the environment cannot hold (NUL) or a script that cannot start used to raise past
    the report: no support bundle, no countdown, no atexit action."""
    def broken(*a, **kw):
        raise ValueError("embedded null byte")
    monkeypatch.setattr(boot, "run_hook", broken)
    assert refused(f"answerfile={refused.url}/a.xml atexit=poweroff") == 1
    assert "WARNING: installation-complete script" in (err := capsys.readouterr().err)
    assert "report.sh failed: ValueError: embedded null byte" in err
    assert refused.actions == ["network", "poweroff"] and list(run_dir.glob("support-*.tar.gz"))


def test_ctrl_s_ctrl_c_and_line_noise_are_keys_and_the_settings_change_at_once():
    """Ctrl-S (XOFF) used to stop the countdown's output, and a signal key to be no key; the mode is
    set and put back at once (not after output drained: a stopped terminal never drains)."""
    import termios
    master, slave = os.openpty()
    try:
        name = os.ttyname(slave).removeprefix("/dev/")
        before = termios.tcgetattr(slave)
        termios.tcflow(slave, termios.TCOOFF)             # output stopped: draining would never end
        with boot.Keys([name]) as keys:
            mode = termios.tcgetattr(slave)
            assert not mode[0] & termios.IXON and not mode[3] & (termios.ISIG | termios.ECHO | termios.ICANON)
            for key in (b"\x13", b"\x03", b"\x1c"):
                os.write(master, key)
                assert keys.pressed(2) is True, key
        assert termios.tcgetattr(slave) == before
    finally:
        termios.tcflow(slave, termios.TCOON)
        os.close(master)
        os.close(slave)


def test_one_terminal_under_two_names_is_read_once_and_put_back_as_it_was():
    """console=tty0 console=tty1 can be the same terminal: its second opening saved the settings the
    first had changed, and putting them back in the same order left it without echo."""
    import termios
    master, slave = os.openpty()
    try:
        name = os.ttyname(slave).removeprefix("/dev/")
        before = termios.tcgetattr(slave)
        with boot.Keys([name, name]) as keys:
            assert len(keys.open) == 1
            os.write(master, b"x")
            assert keys.pressed(2) is True
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


COUNTDOWN = """
import sys
sys.path.insert(0, {root!r})
from installer import boot
boot.WRITE_WAIT = 0.3
out = boot.Consoles([])
out.names = [{name!r}]
boot.hold_before_reboot(out, lambda m: out.write("installer: " + m + "\\n"), "why", seconds=2)
print("returned")
"""


@pytest.mark.parametrize("stop", ["xoff", "stopped"])
def test_a_stopped_console_never_holds_up_the_reboot(stop):
    """An XOFF (Ctrl-S, line noise) received before or during the countdown used to block its writes
    and the restoring of the terminal until an XON; output stopped for good (hardware flow control
    without CTS) must not hold it up either: the writes give up after WRITE_WAIT."""
    import select
    import subprocess
    import termios
    import time
    master, slave = os.openpty()
    name = os.ttyname(slave).removeprefix("/dev/")
    if stop == "xoff":
        os.write(master, b"\x13")
    else:
        termios.tcflow(slave, termios.TCOOFF)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child = subprocess.Popen([sys.executable, "-c", COUNTDOWN.format(root=root, name=name)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                             start_new_session=True)
    shown, start = b"", time.monotonic()
    try:
        while child.poll() is None and time.monotonic() - start < 15:
            if select.select([master], [], [], 0.2)[0]:
                shown += os.read(master, 4096)
        assert child.poll() == 0, "the countdown is still blocked"
        assert child.stdout.read() == b"returned\n" and time.monotonic() - start < 8
        if stop == "xoff":             # output goes on: the countdown is seen
            assert b"INSTALLATION FAILED: why" in shown and b"rebooting in   1 s" in shown
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        termios.tcflow(slave, termios.TCOON)
        os.close(master)
        os.close(slave)
