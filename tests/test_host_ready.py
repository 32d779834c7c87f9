"""The installed host's own programs (image/product/overlay): the HOST READY line, printed only once
the toolstack answers, the management interface has a link and its address, and SSH answers
(readiness.py decides it, host-ready probes, within a wait that holds however its commands hang),
the first-boot report it reads and the units. The pure parts are called directly; the programs run
here on a fake tree (its /sys/class/net too) with fake `xl`, `ip`, `hostname` and `systemctl`
commands and a local TCP server standing in for sshd. The guests at power-off (guests.py,
stop-guests): tests/test_stop_guests.py."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
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


def planned_files(example: str, machine_name: str) -> dict[str, str]:
    cfg, _ = parse_file(EXAMPLES / example)
    return {f.path: f.content for f in make_plan(cfg, machine(machine_name), FIXED_IDS).files}


def expected_for(example: str, machine_name: str):
    files = planned_files(example, machine_name)
    return readiness.expected(readiness.shell_vars(files["/etc/xensource-inventory"]),
                              readiness.shell_vars(files["/etc/firstboot.d/data/management.conf"]))


# ---- what the installer configured, read back as the host reads it -------------------------------

def test_the_expected_management_address_comes_from_the_files_the_installer_writes():
    assert expected_for("fresh-dhcp.xml", "bios-1disk") == readiness.Expected("xenbr0", "inet", None, nic="eth0")
    assert expected_for("static-vlan-ntp.xml", "uefi-3disks") == readiness.Expected(
        "xenbr0.42", "inet", "192.0.2.20", nic="eth0")
    assert expected_for("ipv6.xml", "nvme-uefi") == readiness.Expected("xenbr0", "inet6", "2001:db8:10::20", nic="eth0")


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
DHCP = readiness.Expected("xenbr0", "inet", None, nic="eth0")
# /sys/class/net of a host whose cable is in: xenbr0 bridges eth0, both up with carrier
LINKED = {"xenbr0": readiness.Link("up", True, ("eth0",), bridge=True), "eth0": readiness.Link("up", True)}
UP = readiness.Observed("4.20.5-pre", "", ("10.0.2.15/24",), None, LINKED)


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
    text = line(readiness.Observed("4.20.5-pre", "", ("10.0.2.15/24",), "Connection refused", LINKED))
    assert ("HOST NOT READY: ssh: not accepting connections on 10.0.2.15:22 after 180 s (Connection refused): "
            "xen=4.20.5-pre hostname=xh.example.org management=xenbr0 address=10.0.2.15/24 ***") in text
    assert not re.search(VM_TESTS_READY, text) and re.search(BOOT_PY_LINE, text)


def test_every_part_not_ready_is_named_and_the_fields_stay_one_word_each():
    obs = readiness.Observed(None, "libxl: error: *** cannot connect to xenstore\n  details", (), "not tried", LINKED)
    text = line(obs, readiness.Expected("xenbr0", "inet", "192.0.2.20"), failed=["10-ssh-host-keys"], waited=181.4)
    state = text.split(": xen=")[0]
    assert state == ("*** Xenhost 0.1.0 HOST NOT READY: xen: the toolstack does not answer after 181 s (xl info: "
                     "libxl: error: cannot connect to xenstore details); management: xenbr0 does not hold its "
                     "address 192.0.2.20 after 181 s; ssh: not tried without a management address; first boot: "
                     "10-ssh-host-keys failed")
    assert text.endswith(": xen=none hostname=xh.example.org management=xenbr0 address=none ***")
    assert text.count("***") == 2


def test_dhcp_without_an_address_and_ipv6_ssh_are_worded():
    text = line(readiness.Observed("4.20", "", ("2001:db8::6/64",), "not tried", LINKED))
    assert "management: xenbr0 does not hold a global IPv4 address after 180 s" in text
    v6 = readiness.Expected("xenbr0", "inet6", None)
    text = line(readiness.Observed("4.20", "", ("2001:db8::6/64",), "timed out", LINKED), v6)
    assert "ssh: not accepting connections on [2001:db8::6]:22 after 180 s (timed out)" in text
    assert "management: /etc/xensource-inventory names no MANAGEMENT_INTERFACE" in line(
        exp=readiness.Expected("", "inet", None))


def test_ssh_is_not_asked_for_when_the_operator_turned_sshd_off():
    assert readiness.ssh_wanted({"ssh.service": "enabled", "ssh.socket": "not-found"})
    assert readiness.ssh_wanted({"ssh.service": "disabled", "ssh.socket": "enabled"})
    assert not readiness.ssh_wanted({"ssh.service": "disabled", "ssh.socket": "not-found"})
    assert not readiness.ssh_wanted({"ssh.service": "masked", "ssh.socket": "disabled"})
    assert readiness.ssh_wanted({})
    off = readiness.Expected("xenbr0", "inet", None, ssh=False)
    assert "HOST READY: xen=" in line(readiness.Observed("4.20", "", ("10.0.2.15/24",), "not tried", LINKED), off)
    assert "ssh" not in line(readiness.Observed("4.20", "", (), "not tried", LINKED), off).split(": xen=")[0]


def test_only_a_real_answer_from_systemctl_turns_the_ssh_check_off():
    state = readiness.enabled_state
    assert state(0, "enabled\n", "") == "enabled" and state(1, "disabled\n", "") == "disabled"
    # systemd 252 names a unit without a file on stderr only
    assert state(1, "", "Failed to get unit file state for ssh.socket: No such file or directory\n") == "not-found"
    # no answer in time, or no systemd to ask: not known, so not "off"
    assert state(124, "", "no answer within 2 s") is None
    assert state(1, "", "Failed to connect to bus: Host is down\n") is None
    assert readiness.ssh_wanted({"ssh.service": None, "ssh.socket": "disabled"})
    assert readiness.ssh_wanted({"ssh.service": None, "ssh.socket": None})


# ---- the management link, from /sys/class/net ----------------------------------------------------

Link = readiness.Link
# the cable out, as the kernel shows it: the NIC and its bridge up without carrier
UNPLUGGED = {"xenbr0": Link("down", False, ("eth0",), bridge=True), "eth0": Link("down", False)}
STATIC = readiness.Expected("xenbr0", "inet", "10.0.2.15", nic="eth0")


def test_a_static_address_without_carrier_is_not_ready_though_ssh_answers_locally():
    # the review's case: the address stays on the bridge, and SSH to it answers from the host itself
    text = line(readiness.Observed("4.20", "", ("10.0.2.15/24",), None, UNPLUGGED), STATIC)
    assert text == ("*** Xenhost 0.1.0 HOST NOT READY: management: xenbr0 has no link (no carrier on its port "
                    "eth0) after 180 s: xen=4.20 hostname=xh.example.org management=xenbr0 address=10.0.2.15/24 ***")
    assert not re.search(VM_TESTS_READY, text) and re.search(BOOT_PY_LINE, text)
    assert "HOST READY: xen=" in line(readiness.Observed("4.20", "", ("10.0.2.15/24",), None, LINKED), STATIC)
    # DHCP gets no address without a link: the link is named as the cause, not the address
    state = line(readiness.Observed("4.20", "", (), "not tried", UNPLUGGED)).split(": xen=")[0]
    assert state.endswith("HOST NOT READY: management: xenbr0 has no link (no carrier on its port eth0) after 180 s; "
                          "ssh: not tried without a management address")


def test_a_bridge_has_a_link_only_through_a_nic_with_carrier():
    def problem(links, exp=DHCP):
        return readiness.link_problem(exp, links)
    assert problem(LINKED) is None
    # the bridge's own state lags its ports' (link watch) and says nothing without ports: measured on
    # Linux 6.18, a bridge with no port is "unknown" with carrier 1
    assert problem({**UNPLUGGED, "xenbr0": Link("up", True, ("eth0",), bridge=True)}) == \
        "xenbr0 has no link (no carrier on its port eth0)"
    assert problem({"xenbr0": Link("unknown", True, (), bridge=True)}) == "xenbr0 has no link (no NIC on the bridge)"
    # a running guest's port gives the bridge carrier but no way in from outside
    guest = {"xenbr0": Link("up", True, ("eth0", "vif3.0", "vif3.0-emu"), bridge=True), "eth0": Link("down", False),
             "vif3.0": Link("up", True), "vif3.0-emu": Link("up", True)}
    assert problem(guest) == "xenbr0 has no link (no carrier on its port eth0)"
    assert problem({**guest, "xenbr0": Link("up", True, ("vif3.0",), bridge=True)}) == \
        "xenbr0 has no link (no NIC on the bridge)"
    # one port with carrier is enough; the others are named only when none has it
    two = {"xenbr0": Link("down", False, ("eth0", "eth1", "eth2"), bridge=True), "eth0": Link("down", False),
           "eth1": Link("down", None)}
    assert problem(two) == "xenbr0 has no link (no carrier on its port eth0, eth1 is down, eth2 does not exist)"
    assert problem({**two, "eth1": Link("up", True), "xenbr0": Link("up", True, ("eth0", "eth1"), bridge=True)}) is None
    # the interface itself: missing, not brought up, or not operational while its port is
    assert problem({"eth0": Link("up", True)}) == "xenbr0 does not exist"
    assert problem({**LINKED, "xenbr0": Link("down", None, ("eth0",), bridge=True)}) == "xenbr0 is down"
    assert problem({**LINKED, "xenbr0": Link("down", False, ("eth0",), bridge=True)}) == "xenbr0 has no carrier"
    assert problem({**LINKED, "xenbr0": Link("dormant", True, ("eth0",), bridge=True)}) == "xenbr0 is dormant"


def test_a_vlan_interface_has_a_link_through_the_bridge_under_it():
    vlan = readiness.Expected("xenbr0.42", "inet", "192.0.2.20", nic="eth0")
    links = {"xenbr0.42": Link("lowerlayerdown", False, ("xenbr0",)), **UNPLUGGED}
    assert readiness.link_problem(vlan, links) == "xenbr0.42 has no link (no carrier on eth0)"
    up = {"xenbr0.42": Link("up", True, ("xenbr0",)), **LINKED}
    assert readiness.link_problem(vlan, up) is None
    assert "management: xenbr0.42 has no link (no carrier on eth0) after 180 s" in line(
        readiness.Observed("4.20", "", ("192.0.2.20/24",), None, links), vlan)


def test_an_open_vswitch_port_has_a_link_through_the_installers_nic():
    # its own port is "unknown" with carrier, whatever the cable, and shows no lower device
    ovs = {"xenbr0": Link("unknown", True), "ovs-system": Link("down", None, ("eth0",)), "eth0": Link("down", False)}
    assert readiness.link_problem(DHCP, ovs) == "xenbr0 has no link (no carrier on eth0)"
    assert readiness.link_problem(DHCP, {**ovs, "eth0": Link("up", True)}) is None
    assert readiness.link_problem(DHCP, {"xenbr0": Link("unknown", True)}) == "xenbr0 has no link (eth0 does not exist)"
    tagged = readiness.Expected("xenbr0.42", "inet", None, nic="eth0")
    assert readiness.link_problem(tagged, {**ovs, "xenbr0.42": Link("unknown", True)}) == \
        "xenbr0.42 has no link (no carrier on eth0)"
    # a NIC that is the management interface itself needs only its own carrier
    plain = readiness.Expected("eth0", "inet", None, nic="eth0")
    assert readiness.link_problem(plain, {"eth0": Link("up", True)}) is None
    assert readiness.link_problem(plain, {"eth0": Link("down", False)}) == "eth0 has no carrier"


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


def fake_net(root, links: dict) -> None:
    """/sys/class/net under root as the kernel lays it out: operstate, carrier (absent: reading it
    fails, as for a device not brought up), lower_<port> links to the port's directory, bridge/."""
    for name, link in links.items():
        d = root / "sys/class/net" / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "operstate").write_text(link.operstate + "\n")
        if link.carrier is not None:
            (d / "carrier").write_text(f"{int(link.carrier)}\n")
        for lower in link.lowers:
            (d / f"lower_{lower}").symlink_to(f"../{lower}")
        if link.bridge:
            (d / "bridge").mkdir()


@pytest.fixture
def host(tmp_path):
    """A fake host: the installer's files for fresh-dhcp.xml, consoles, xenbr0 bridging eth0 with
    carrier in /sys/class/net, and fake xl/ip/hostname answering as a ready host (xenbr0 holds
    127.0.0.1, where the fake sshd listens)."""
    root = tmp_path / "root"
    files = planned_files("fresh-dhcp.xml", "bios-1disk")
    for path in ("/etc/xensource-inventory", "/etc/firstboot.d/data/management.conf"):
        (root / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (root / path.lstrip("/")).write_text(files[path])
    fake_net(root, {**LINKED, "lo": readiness.Link("unknown", True)})
    (root / "sys/class/tty/console").mkdir(parents=True)
    (root / "sys/class/tty/console/active").write_text("tty0 ttyS0\n")
    (root / "dev").mkdir()
    (root / "run/xenhost").mkdir(parents=True)
    (root / "run/xenhost/firstboot-failed").write_text("\n")
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    _executable(bin_ / "xl", "#!/bin/sh\n"
                             "[ -e \"$XL_FAILS\" ] && { echo 'xencall: error: no hypervisor' >&2; exit 1; }\n"
                             # stuck as in the kernel: killing it leaves its output open (a child holds it)
                             "[ -n \"$XL_HANGS\" ] && { sleep 600 & echo $! >> \"$XL_HANGS\"; wait; }\n"
                             "printf 'host : xh\\nxen_major : 4\\nxen_minor : 20\\nxen_extra : .5-pre\\n'\n")
    address = {"family": "inet", "local": "127.0.0.1", "prefixlen": 8, "scope": "global"}
    listing = json.dumps([{"addr_info": [address]}])
    _executable(bin_ / "ip", f"#!/bin/sh\n[ \"$5\" = xenbr0 ] || exit 1\necho '{listing}'\n")
    _executable(bin_ / "hostname", "#!/bin/sh\necho xh.example.org\n")
    # sshd enabled as the product ships it, unless the test says otherwise; no ssh.socket, said as
    # systemd 252 says it
    _executable(bin_ / "systemctl", "#!/bin/sh\n"
                                    "[ \"$3\" = ssh.socket ] && { echo \"Failed to get unit file state for $3: No such "
                                    "file or directory\" >&2; exit 1; }\n"
                                    "[ \"$SSH_STATE\" = hangs ] && exec sleep 30\n"
                                    "echo \"${SSH_STATE:-enabled}\"\n")
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


def _closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_host_ready_does_not_wait_for_an_sshd_the_operator_turned_off(host):
    port = _closed_port()
    res = run_host_ready(host, port, wait=30, SSH_STATE="disabled")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "HOST READY: xen=4.20.5-pre" in res.stdout and "waiting" not in res.stdout


def test_host_ready_names_what_is_not_ready_when_the_wait_is_over(host):
    port = _closed_port()
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


def _kill_listed(path) -> None:
    """The fake commands' stuck children, which the program under test rightly left behind."""
    for pid in (path.read_text().split() if path.exists() else []):
        try:
            os.kill(int(pid), 9)
        except ProcessLookupError:
            pass


def test_host_ready_keeps_to_its_wait_when_xl_hangs_in_the_kernel(host):
    root, tmp = host
    hung = tmp / "hung-pids"
    sshd = FakeSshd()
    start = time.monotonic()
    try:
        res = run_host_ready(host, sshd.port, wait=1, XL_HANGS=str(hung))
    finally:
        sshd.close()
        took = time.monotonic() - start
        _kill_listed(hung)
    # the wait, a last round of checks of at least host-ready's PROBE (2) s each, and Python's start
    assert took < 12, took
    assert res.returncode == 1, res.stdout + res.stderr
    said = (root / "run/xenhost/ready").read_text()
    assert re.search(r"HOST NOT READY: xen: the toolstack does not answer after \d s \(xl info: no answer within "
                     r"2 s\): xen=none hostname=xh.example.org", said), said


def test_host_ready_checks_ssh_when_systemctl_does_not_answer(host):
    port = _closed_port()
    res = run_host_ready(host, port, wait=1, SSH_STATE="hangs")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "HOST NOT READY: ssh: not accepting connections on 127.0.0.1:" in res.stdout


def test_host_ready_with_a_static_address_and_no_carrier_is_not_ready(host):
    root, _ = host
    conf = root / "etc/firstboot.d/data/management.conf"
    conf.write_text(conf.read_text().replace("MODE='dhcp'", "MODE='static'\nIP='127.0.0.1'\nNETMASK='255.0.0.0'"))
    shutil.rmtree(root / "sys/class/net")
    fake_net(root, UNPLUGGED)
    sshd = FakeSshd()                   # SSH answers on the address, from the host itself
    try:
        res = run_host_ready(host, sshd.port, wait=1)
    finally:
        sshd.close()
    assert res.returncode == 1, res.stdout + res.stderr
    assert (root / "run/xenhost/ready").read_text() == (
        "*** Xenhost 0.1.0 HOST NOT READY: management: xenbr0 has no link (no carrier on its port eth0) after 1 s: "
        "xen=4.20.5-pre hostname=xh.example.org management=xenbr0 address=127.0.0.1/8 ***\n")


def test_host_ready_waits_for_a_cable_plugged_in_late(host):
    root, _ = host
    net = root / "sys/class/net"
    for name in ("xenbr0", "eth0"):
        (net / name / "carrier").write_text("0\n")
        (net / name / "operstate").write_text("down\n")

    def plug_in():
        time.sleep(1.0)
        for name in ("eth0", "xenbr0"):
            (net / name / "carrier").write_text("1\n")
            (net / name / "operstate").write_text("up\n")
    threading.Thread(target=plug_in, daemon=True).start()
    sshd = FakeSshd()
    try:
        res = run_host_ready(host, sshd.port, wait=20)
    finally:
        sshd.close()
    assert res.returncode == 0, res.stdout + res.stderr
    waiting = "waiting up to 20 s for: management: xenbr0 has no link (no carrier on its port eth0) after 0 s"
    assert waiting in res.stdout
    assert "HOST READY: xen=4.20.5-pre hostname=xh.example.org management=xenbr0" in res.stdout


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
    for program in ("firstboot", "host-ready"):
        mode = os.stat(os.path.join(LIB, program)).st_mode
        assert mode & stat.S_IXUSR and mode & stat.S_IXOTH, program
