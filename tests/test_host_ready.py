"""The installed host's own programs (image/product/overlay): the HOST READY line, printed only once
the toolstack, the management address and SSH answer (readiness.py decides it, host-ready probes),
the first-boot report it reads, and the guests shut down at power-off (guests.py, stop-guests,
with Debian's xendomains configured and its stop replaced). The pure parts are called directly;
the programs run here on a fake tree with fake `xl`, `ip` and `hostname` commands and a local
TCP server standing in for sshd."""
from __future__ import annotations

import configparser
import importlib.machinery
import importlib.util
import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest

from helpers import EXAMPLES, machine

from installer.answerfile import parse_file
from installer.plan import FIXED_IDS, make_plan

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OVERLAY = os.path.join(ROOT, "image", "product", "overlay")
LIB = os.path.join(OVERLAY, "usr", "lib", "xenhost")
UNITS = os.path.join(OVERLAY, "etc", "systemd", "system")
# what the vm-tests and vm-tests/boot.py look for
VM_TESTS_READY = r"HOST READY: xen=(\S+) hostname=(\S+) management=(\S+) address=(\S+)"
BOOT_PY_LINE = r"\*\*\* .*HOST (?:NOT )?READY.*\*\*\*"


# no __pycache__ in the overlay: the product root would carry it, and its build key would change
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"


def _load(name: str, path: str | None = None):
    spec = importlib.util.spec_from_loader(name, importlib.machinery.SourceFileLoader(
        name, path or os.path.join(LIB, f"{name}.py")))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module          # dataclasses look their module up
    write, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = write
    return module


readiness = _load("readiness")
guests = _load("guests")


def planned_files(example: str, machine_name: str) -> dict[str, str]:
    cfg, _ = parse_file(EXAMPLES / example)
    return {f.path: f.content for f in make_plan(cfg, machine(machine_name), FIXED_IDS).files}


def expected_for(example: str, machine_name: str):
    files = planned_files(example, machine_name)
    return readiness.expected(readiness.shell_vars(files["/etc/xensource-inventory"]),
                              readiness.shell_vars(files["/etc/firstboot.d/data/management.conf"]))


# ---- what the installer configured, read back as the host reads it -------------------------------

def test_the_expected_management_address_comes_from_the_files_the_installer_writes():
    assert expected_for("fresh-dhcp.xml", "bios-1disk") == readiness.Expected("xenbr0", "inet", None)
    assert expected_for("static-vlan-ntp.xml", "uefi-3disks") == readiness.Expected("xenbr0.42", "inet", "192.0.2.20")
    assert expected_for("ipv6.xml", "nvme-uefi") == readiness.Expected("xenbr0", "inet6", "2001:db8:10::20")


def test_shell_vars_reads_assignments_only():
    text = "# c\nA='x y'\nB=\"q\"  # note\nC=plain\nif [ x ]; then\nD='unclosed\n9X=no\nE=\n"
    assert readiness.shell_vars(text) == {"A": "x y", "B": "q", "C": "plain", "E": ""}


IP_JSON = json.dumps([{"ifname": "xenbr0", "addr_info": [
    {"family": "inet6", "local": "2001:db8::5", "prefixlen": 64, "scope": "global", "tentative": True},
    {"family": "inet6", "local": "2001:db8::6", "prefixlen": 64, "scope": "global", "dynamic": True},
    {"family": "inet6", "local": "2001:db8::7", "prefixlen": 64, "scope": "global", "dadfailed": True},
    {"family": "inet6", "local": "fe80::1", "prefixlen": 64, "scope": "link"},
    {"family": "inet", "local": "10.0.2.15", "prefixlen": 24, "scope": "global"}]}])


def test_usable_addresses_are_global_settled_and_ipv4_first():
    assert readiness.usable_addresses(IP_JSON) == ("10.0.2.15/24", "2001:db8::6/64")
    assert readiness.usable_addresses("") == () and readiness.usable_addresses("not json") == ()
    assert readiness.usable_addresses('[{"ifname": "xenbr0", "addr_info": []}]') == ()


def test_the_management_address_is_the_configured_one_or_any_of_its_family():
    held = ("10.0.2.15/24", "2001:db8::6/64")
    assert readiness.management_address(readiness.Expected("xenbr0", "inet", None), held) == "10.0.2.15"
    assert readiness.management_address(readiness.Expected("xenbr0", "inet", "10.0.2.15"), held) == "10.0.2.15"
    assert readiness.management_address(readiness.Expected("xenbr0", "inet", "10.0.2.99"), held) is None
    assert readiness.management_address(readiness.Expected("xenbr0", "inet6", None), held) == "2001:db8::6"
    assert readiness.management_address(readiness.Expected("xenbr0", "inet6", None), held[:1]) is None


def test_xen_version_from_xl_info():
    assert readiness.xen_version("host : h\nxen_major : 4\nxen_minor : 20\nxen_extra : .5-pre\n") == "4.20.5-pre"
    assert readiness.xen_version("xen_major : 4\nxen_minor : 20\n") == "4.20"
    assert readiness.xen_version("libxl: error: cannot open\n") is None


# ---- the line ---------------------------------------------------------------------------------

INVENTORY = {"PRODUCT_BRAND": "Xenhost", "PRODUCT_VERSION": "0.1.0"}
DHCP = readiness.Expected("xenbr0", "inet", None)
UP = readiness.Observed("4.20.5-pre", "", ("10.0.2.15/24",), None)


def line(obs=UP, exp=DHCP, failed=(), waited=180.0) -> str:
    return readiness.ready_line(INVENTORY, "xh.example.org", list(failed), exp, obs, waited)


def test_a_ready_host_keeps_the_line_the_vm_tests_read():
    text = line()
    assert text == ("*** Xenhost 0.1.0 HOST READY: xen=4.20.5-pre hostname=xh.example.org management=xenbr0 "
                    "address=10.0.2.15/24 ***")
    assert re.search(VM_TESTS_READY, text).groups() == ("4.20.5-pre", "xh.example.org", "xenbr0", "10.0.2.15/24")
    assert re.search(r"HOST READY: xen=(\S+) hostname=(\S+) management=(\S+) address=([\d.]+)/", text)
    assert re.search(BOOT_PY_LINE, text)


def test_first_boot_failures_leave_the_host_ready_and_are_named():
    text = line(failed=["30-local-sr"])
    assert "HOST READY WITH FAILURES: 30-local-sr: xen=4.20.5-pre hostname=" in text
    assert not re.search(VM_TESTS_READY, text)


def test_ssh_not_answering_is_named_with_the_address_and_the_wait():
    text = line(readiness.Observed("4.20.5-pre", "", ("10.0.2.15/24",), "Connection refused"))
    assert ("HOST NOT READY: ssh: not accepting connections on 10.0.2.15:22 after 180 s (Connection refused): "
            "xen=4.20.5-pre hostname=xh.example.org management=xenbr0 address=10.0.2.15/24 ***") in text
    assert not re.search(VM_TESTS_READY, text) and re.search(BOOT_PY_LINE, text)


def test_every_part_not_ready_is_named_and_the_fields_stay_one_word_each():
    obs = readiness.Observed(None, "libxl: error: *** cannot connect to xenstore\n  details", (), "not tried")
    text = line(obs, readiness.Expected("xenbr0", "inet", "192.0.2.20"), failed=["10-ssh-host-keys"], waited=181.4)
    state = text.split(": xen=")[0]
    assert state == ("*** Xenhost 0.1.0 HOST NOT READY: xen: the toolstack does not answer after 181 s (xl info: "
                     "libxl: error: cannot connect to xenstore details); management: xenbr0 does not hold its "
                     "address 192.0.2.20 after 181 s; ssh: not tried without a management address; first boot: "
                     "10-ssh-host-keys failed")
    assert text.endswith(": xen=none hostname=xh.example.org management=xenbr0 address=none ***")
    assert text.count("***") == 2


def test_dhcp_without_an_address_and_ipv6_ssh_are_worded():
    text = line(readiness.Observed("4.20", "", ("2001:db8::6/64",), "not tried"))
    assert "management: xenbr0 does not hold a global IPv4 address after 180 s" in text
    v6 = readiness.Expected("xenbr0", "inet6", None)
    text = line(readiness.Observed("4.20", "", ("2001:db8::6/64",), "timed out"), v6)
    assert "ssh: not accepting connections on [2001:db8::6]:22 after 180 s (timed out)" in text
    assert "management: /etc/xensource-inventory names no MANAGEMENT_INTERFACE" in line(
        exp=readiness.Expected("", "inet", None))


def test_ssh_is_not_asked_for_when_the_operator_turned_sshd_off():
    assert readiness.ssh_wanted({"ssh.service": "enabled\n", "ssh.socket": ""})
    assert readiness.ssh_wanted({"ssh.service": "disabled\n", "ssh.socket": "enabled\n"})
    assert not readiness.ssh_wanted({"ssh.service": "disabled\n", "ssh.socket": ""})
    assert not readiness.ssh_wanted({"ssh.service": "masked\n", "ssh.socket": "disabled\n"})
    assert readiness.ssh_wanted({})
    off = readiness.Expected("xenbr0", "inet", None, ssh=False)
    assert "HOST READY: xen=" in line(readiness.Observed("4.20", "", ("10.0.2.15/24",), "not tried"), off)
    assert "ssh" not in line(readiness.Observed("4.20", "", (), "not tried"), off).split(": xen=")[0]


def test_a_long_error_is_cut_short():
    quoted = readiness.quote("x" * 500)
    assert len(quoted) == readiness._QUOTE and quoted.endswith("...")


# ---- host-ready and firstboot, run on a fake tree ---------------------------------------------------

def _executable(path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


class FakeSshd:
    """A TCP server on 127.0.0.1 that greets like sshd; started now or later."""

    def __init__(self, delay: float = 0.0):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._serve, args=(delay,), daemon=True).start()

    def _serve(self, delay: float) -> None:
        time.sleep(delay)
        self.sock.listen()
        self.sock.settimeout(0.2)
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_10.0p2 Debian-7\r\n")

    def close(self) -> None:
        self.stopped = True
        self.sock.close()


@pytest.fixture
def host(tmp_path):
    """A fake host: the installer's files for fresh-dhcp.xml, consoles, and fake xl/ip/hostname
    answering as a ready host (xenbr0 holds 127.0.0.1, where the fake sshd listens)."""
    root = tmp_path / "root"
    files = planned_files("fresh-dhcp.xml", "bios-1disk")
    for path in ("/etc/xensource-inventory", "/etc/firstboot.d/data/management.conf"):
        (root / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (root / path.lstrip("/")).write_text(files[path])
    (root / "sys/class/tty/console").mkdir(parents=True)
    (root / "sys/class/tty/console/active").write_text("tty0 ttyS0\n")
    (root / "dev").mkdir()
    (root / "run/xenhost").mkdir(parents=True)
    (root / "run/xenhost/firstboot-failed").write_text("\n")
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    _executable(bin_ / "xl", "#!/bin/sh\n"
                             "[ -e \"$XL_FAILS\" ] && { echo 'xencall: error: no hypervisor' >&2; exit 1; }\n"
                             "printf 'host : xh\\nxen_major : 4\\nxen_minor : 20\\nxen_extra : .5-pre\\n'\n")
    address = {"family": "inet", "local": "127.0.0.1", "prefixlen": 8, "scope": "global"}
    listing = json.dumps([{"addr_info": [address]}])
    _executable(bin_ / "ip", f"#!/bin/sh\n[ \"$5\" = xenbr0 ] || exit 1\necho '{listing}'\n")
    _executable(bin_ / "hostname", "#!/bin/sh\necho xh.example.org\n")
    # sshd enabled as the product ships it, unless the test says otherwise
    _executable(bin_ / "systemctl", "#!/bin/sh\n[ \"$3\" = ssh.socket ] && exit 1\necho \"${SSH_STATE:-enabled}\"\n")
    return root, tmp_path


def run_host_ready(host, port: int, wait: float = 5, **env) -> subprocess.CompletedProcess:
    root, tmp = host
    return subprocess.run([sys.executable, os.path.join(LIB, "host-ready"), "--root", str(root),
                           "--ssh-port", str(port), "--wait", str(wait), "--interval", "0.2"],
                          env={**os.environ, "PATH": f"{tmp / 'bin'}:{os.environ['PATH']}", **env},
                          capture_output=True, text=True, timeout=60)


def test_host_ready_prints_the_line_on_every_console_once_ssh_answers(host):
    sshd = FakeSshd(delay=1.0)          # sshd comes up a moment after the others
    try:
        res = run_host_ready(host, sshd.port)
    finally:
        sshd.close()
    root, _ = host
    assert res.returncode == 0, res.stdout + res.stderr
    ready = (root / "run/xenhost/ready").read_text()
    assert ready == ("*** Xenhost 0.1.0 HOST READY: xen=4.20.5-pre hostname=xh.example.org management=xenbr0 "
                     "address=127.0.0.1/8 ***\n")
    for tty in ("tty0", "ttyS0"):
        assert (root / "dev" / tty).read_text() == "\n" + ready
    assert "waiting up to 5 s for: ssh: not accepting connections on 127.0.0.1" in res.stdout
    assert res.stdout.rstrip().endswith(ready.strip())


def test_host_ready_does_not_wait_for_an_sshd_the_operator_turned_off(host):
    with socket.socket() as s:          # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = run_host_ready(host, port, wait=30, SSH_STATE="disabled")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "HOST READY: xen=4.20.5-pre" in res.stdout and "waiting" not in res.stdout


def test_host_ready_names_what_is_not_ready_when_the_wait_is_over(host):
    with socket.socket() as s:          # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root, tmp = host
    (tmp / "xl-fails").write_text("")
    (root / "run/xenhost/firstboot-failed").unlink()      # first boot did not finish
    start = time.monotonic()
    res = run_host_ready(host, port, wait=1, XL_FAILS=str(tmp / "xl-fails"))
    assert 1 <= time.monotonic() - start < 30
    assert res.returncode == 1, res.stdout + res.stderr
    text = (root / "dev/ttyS0").read_text()
    assert ("HOST NOT READY: xen: the toolstack does not answer after 1 s (xl info: exit 1: xencall: error: no "
            "hypervisor); ssh: not accepting connections on 127.0.0.1:") in text
    assert "after 1 s (Connection refused); first boot: xenhost-firstboot failed: xen=none " in text


def test_firstboot_runs_each_script_once_and_reports_this_boots_failures(tmp_path):
    d = tmp_path / "usr/lib/xenhost/firstboot.d"
    d.mkdir(parents=True)
    _executable(d / "10-ok", "#!/bin/sh\necho ok >> \"$XENHOST_ROOT/ran\"\n")
    _executable(d / "20-bad", "#!/bin/sh\nexit 3\n")
    _executable(d / "30-bad-too", "#!/bin/sh\nexit 1\n")
    env = {**os.environ, "XENHOST_ROOT": str(tmp_path)}
    for _ in range(2):
        res = subprocess.run([os.path.join(LIB, "firstboot")], env=env, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
    assert (tmp_path / "ran").read_text() == "ok\n"
    assert (tmp_path / "run/xenhost/firstboot-failed").read_text().split() == ["20-bad", "30-bad-too"]
    assert "20-bad FAILED (exit 3)" in res.stdout and "HOST READY" not in res.stdout
    (d / "20-bad").unlink()
    (d / "30-bad-too").unlink()
    subprocess.run([os.path.join(LIB, "firstboot")], env=env, check=True, capture_output=True)
    assert (tmp_path / "run/xenhost/firstboot-failed").read_text().split() == []


def _unit(path: str) -> dict[str, dict[str, list[str]]]:
    """A systemd unit: section -> key -> every value given (keys repeat)."""
    out: dict[str, dict[str, list[str]]] = {}
    section = ""
    with open(path) as f:
        for raw in f:
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            if text.startswith("["):
                section = text.strip("[]")
                continue
            key, _, value = text.partition("=")
            out.setdefault(section, {}).setdefault(key, []).append(value)
    return out


def test_the_ready_line_comes_after_first_boot_sshd_the_toolstack_and_the_network():
    first = _unit(os.path.join(UNITS, "xenhost-firstboot.service"))
    ready = _unit(os.path.join(UNITS, "xenhost-ready.service"))
    assert "ssh.service" in first["Unit"]["Before"][0].split()          # host keys before sshd
    assert first["Install"]["Also"] == ["xenhost-ready.service"]         # enabled with it by the build
    after = ready["Unit"]["After"][0].split()
    assert {"xenhost-firstboot.service", "ssh.service", "xen.service", "network-online.target"} <= set(after)
    assert "Before" not in ready["Unit"]                                 # never holds up the gettys
    assert ready["Service"]["ExecStart"] == ["/usr/lib/xenhost/host-ready"]
    assert ready["Install"]["WantedBy"] == ["multi-user.target"]
    with open(os.path.join(LIB, "firstboot")) as f:
        assert "READY" not in f.read().replace("/run/xenhost/ready", "")
    for program in ("firstboot", "host-ready", "stop-guests"):
        mode = os.stat(os.path.join(LIB, program)).st_mode
        assert mode & stat.S_IXUSR and mode & stat.S_IXOTH, program


# ---- guests at power-off ------------------------------------------------------------------------

XL_LIST = """\
Name                                        ID   Mem VCPUs\tState\tTime(s)
Domain-0                                     0  1024     1     r-----      63.2
xh-test-stay                                 3   128     1     -b----       2.0
my guest                                     5   256     2     ---s--       1.1
gone                                         7    64     1     -----d       0.3
"""


def test_xl_list_is_read_into_guests():
    found = guests.parse_xl_list(XL_LIST)
    assert found == [guests.Domain(3, "xh-test-stay", "-b----"), guests.Domain(5, "my guest", "---s--"),
                     guests.Domain(7, "gone", "-----d")]
    assert [d.ended for d in found] == [False, True, True]
    assert guests.parse_xl_list("Name ID Mem VCPUs State Time(s)\nDomain-0 0 1024 1 r----- 1.0\n") == []


def test_settled_guests_are_those_gone_or_ended():
    listed = guests.parse_xl_list(XL_LIST)
    assert guests.settled({3: "xh-test-stay", 5: "my guest", 9: "quick"}, listed) == [(5, True), (9, False)]


def test_the_xendomains_defaults_shut_guests_down_with_one_bounded_wait():
    script = ('. "$1"; printf "%s|" "$XENDOMAINS_SAVE" "$XENDOMAINS_RESTORE" "$XENDOMAINS_MIGRATE" '
              '"$XENDOMAINS_STOP_MAXWAIT" "$XENDOMAINS_AUTO"')
    out = subprocess.run(["sh", "-c", script, "sh", os.path.join(OVERLAY, "etc/default/xendomains")],
                         capture_output=True, text=True, check=True).stdout
    assert out == "|||60|/etc/xen/auto|"
    dropin = _unit(os.path.join(UNITS, "xendomains.service.d/xenhost.conf"))
    assert dropin["Service"]["ExecStop"] == ["", "/usr/lib/xenhost/stop-guests"]   # Debian's stop replaced
    assert "console" in dropin["Service"]["StandardOutput"][0]


FAKE_XL = r"""#!/usr/bin/env python3
# A fake xl over a JSON state file: {"domains": {id: [name, state, behaviour]}, "log": [...]}.
# behaviour on shutdown: "obeys" (gone), "lingers" (stays listed, shut down), "ignores".
import json, os, sys
path = os.environ["XL_STATE"]
st = json.load(open(path))
cmd, args = sys.argv[1], sys.argv[2:]
st["log"].append(" ".join(sys.argv[1:]))
doms = st["domains"]
if cmd == "list" and st.get("broken"):
    sys.exit(1)
elif cmd == "list":
    print("Name                                        ID   Mem VCPUs\tState\tTime(s)")
    print("Domain-0                                     0  1024     1     r-----      63.2")
    for domid, (name, state, _) in sorted(doms.items(), key=lambda d: int(d[0])):
        print(f"{name:40s} {domid:>5} 128 1 {state} 1.0")
elif cmd == "shutdown":
    name, state, how = doms[args[-1]]
    if how == "obeys":
        del doms[args[-1]]
    elif how == "lingers":
        doms[args[-1]] = [name, "---s--", how]
elif cmd == "destroy":
    doms.pop(args[-1], None)
json.dump(st, open(path, "w"))
if cmd == "shutdown" and how == "refuses":
    print("libxl: error: PV control interface not available", file=sys.stderr)
    sys.exit(1)
"""


def run_stop_guests(tmp_path, domains: dict, wait: float = 1) -> tuple[subprocess.CompletedProcess, dict]:
    bin_ = tmp_path / "bin"
    bin_.mkdir(exist_ok=True)
    _executable(bin_ / "xl", FAKE_XL)
    state = tmp_path / "xl.json"
    state.write_text(json.dumps({"domains": domains, "log": []}))
    res = subprocess.run([sys.executable, os.path.join(LIB, "stop-guests"), "--wait", str(wait), "--interval", "0.1"],
                         env={**os.environ, "PATH": f"{bin_}:{os.environ['PATH']}", "XL_STATE": str(state)},
                         capture_output=True, text=True, timeout=60)
    return res, json.loads(state.read_text())


def test_stop_guests_shuts_every_guest_down_then_destroys_what_is_left(tmp_path):
    start = time.monotonic()
    res, state = run_stop_guests(tmp_path, {"3": ["quick", "-b----", "obeys"], "4": ["stuck", "r-----", "ignores"],
                                            "5": ["orphan", "-b----", "lingers"], "6": ["no pv", "-b----", "refuses"]})
    assert res.returncode == 0, res.stderr
    assert 1 <= time.monotonic() - start < 30
    lines = res.stdout.splitlines()
    assert lines[0] == ("xenhost: shutting down 4 guests, waiting up to 1 s: quick (3), stuck (4), orphan (5), "
                        "no pv (6)")
    assert "xenhost: guest no pv (6): xl shutdown failed: libxl: error: PV control interface not available" in lines
    assert "xenhost: guest quick (3) shut down after 0 s" in lines
    assert "xenhost: guest orphan (5) shut down after 0 s" in lines          # shut down, then its domain cleared
    assert lines[-2:] == ["xenhost: guest stuck (4) did not shut down within 1 s: destroyed",
                          "xenhost: guest no pv (6) did not shut down within 1 s: destroyed"]
    assert state["domains"] == {}
    log = state["log"]
    assert [c for c in log if c.startswith("shutdown")] == ["shutdown -F 3", "shutdown -F 4", "shutdown -F 5",
                                                            "shutdown -F 6"]
    assert log.index("destroy 4") > log.index("shutdown -F 6") and "destroy 3" not in log


def test_stop_guests_with_no_guest_says_so_at_once(tmp_path):
    res, state = run_stop_guests(tmp_path, {})
    assert res.stdout == "xenhost: no guests running\n" and state["log"] == ["list"]


def test_stop_guests_says_when_xl_does_not_answer(tmp_path):
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    _executable(bin_ / "xl", FAKE_XL)
    state = tmp_path / "xl.json"
    state.write_text(json.dumps({"domains": {"3": ["g", "-b----", "obeys"]}, "log": [], "broken": True}))
    res = subprocess.run([sys.executable, os.path.join(LIB, "stop-guests"), "--wait", "1"],
                         env={**os.environ, "PATH": f"{bin_}:{os.environ['PATH']}", "XL_STATE": str(state)},
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and res.stdout == "xenhost: xl list does not answer: the guests could not be shut down\n"


def test_stop_guests_reads_the_wait_as_debians_script_does(tmp_path):
    stop = _load("stop_guests", os.path.join(LIB, "stop-guests"))     # its `import guests` is loaded already
    assert stop.configured_wait(os.path.join(OVERLAY, "etc/default/xendomains")) == 60
    debian = tmp_path / "xendomains"
    debian.write_text("# Debian's\nXENDOMAINS_SAVE=/var/lib/xen/save\nXENDOMAINS_STOP_MAXWAIT=300\n")
    assert stop.configured_wait(str(debian)) == 300
    assert stop.configured_wait(str(tmp_path / "missing")) == stop.WAIT
