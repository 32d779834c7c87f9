"""Installer kernel parameters, read as XCP-ng does, contradictions refused."""
import pytest

from installer import cmdline
from installer.errors import ConfigError
from installer.runner import SECRETS


def parse(text):
    return cmdline.parse(text)[0]


def error_of(text):
    with pytest.raises(ConfigError) as info:
        cmdline.parse(text)
    return [str(d) for d in info.value.diagnostics]


def test_typical_pxe_line():
    o = parse("console=ttyS0,115200n8 console=tty0 answerfile=http://192.0.2.5/a.xml "
              "network_device=52:54:00:12:34:56 atexit=poweroff quiet")
    assert o.answerfile == "http://192.0.2.5/a.xml" and o.answerfile_kind == "answerfile"
    assert o.consoles == ["ttyS0,115200n8", "tty0"]
    assert o.network_device == "52:54:00:12:34:56" and o.atexit.value == "poweroff"
    assert o.unattended and o.needs_network


def test_defaults():
    o = parse("root=/dev/ram0 quiet")
    assert (o.answerfile, o.network_device, o.network.mode, o.atexit.value) == (None, "all", "dhcp", "reboot")
    assert not o.unattended and not o.needs_network


def test_file_answerfile_needs_no_network():
    assert not parse("rt_answerfile=file:///media/answer.xml").needs_network


def test_static_network_config():
    o = parse("answerfile=http://192.0.2.5/a network_device=eth1 "
              "network_config=static:ip=192.0.2.9;netmask=255.255.255.0;gateway=192.0.2.1;"
              "dns=192.0.2.53,192.0.2.54;domain=lab.example;vlan=42")
    n = o.network
    assert (n.mode, n.address, n.gateway, n.dns, n.domain, n.vlan) == (
        "static", "192.0.2.9/24", "192.0.2.1", ["192.0.2.53", "192.0.2.54"], "lab.example", 42)


def test_dhcp_with_vlan():
    assert parse("answerfile=http://x/a network_device=eth0 network_config=dhcp:vlan=7").network.vlan == 7


def test_quoted_values_keep_spaces():
    assert parse('answerfile="http://192.0.2.5/a b.xml"').answerfile == "http://192.0.2.5/a b.xml"


@pytest.mark.parametrize("text,expected", [
    ("answerfile=http://a/x rt_answerfile=http://a/y",
     "<kernel command line>:1:23: error: rt_answerfile and answerfile both given; pass exactly one of "
     "answerfile, rt_answerfile, answerfile_generator"),
    ("answerfile=http://a/x answerfile_generator=http://a/g",
     "<kernel command line>:1:23: error: answerfile_generator and answerfile both given; pass exactly one "
     "of answerfile, rt_answerfile, answerfile_generator"),
    ("answerfile=http://a/x answerfile=http://a/y",
     "<kernel command line>:1:23: error: answerfile is given twice (first at column 1)"),
    ("answerfile=a.xml",
     "<kernel command line>:1:1: error: answerfile needs a URL starting with http://, "
     "https://, ftp://, file://, nfs://; got 'a.xml'"),
    ("answerfile=http://a/x no-gpgcheck",
     "<kernel command line>:1:23: error: no-gpgcheck cannot be combined with answerfile: set "
     "gpgcheck=\"false\" or repo-gpgcheck=\"false\" in the answer file instead"),
    ("answerfile=http://a/x network_config=static:ip=192.0.2.9;netmask=24",
     "<kernel command line>:1:23: error: network_config=static needs network_device= naming one "
     "interface (name or MAC), not all"),
    ("network_device=eth0 network_config=static:ip=192.0.2.9",
     "<kernel command line>:1:21: error: network_config: static needs ip=...;netmask=..."),
    ("network_device=eth0 network_config=static:ip=192.0.2.9;netmask=24;gateway=10.0.0.1",
     "<kernel command line>:1:21: error: network_config: gateway 10.0.0.1 is not inside the management "
     "subnet 192.0.2.0/24"),
    ("network_device=eth0 network_config=dhcp:vlan=5000",
     "<kernel command line>:1:21: error: network_config: a VLAN ID must be a number from 1 to 4094, got '5000'"),
    ("network_device=eth0 network_config=static:ip=192.0.2.9;netmask=24;mtu=9000",
     "<kernel command line>:1:21: error: network_config: unknown setting 'mtu' for static (allowed: ip, "
     "netmask, gateway, dns, domain, vlan)"),
    ("network_device=eth0 network_config=bootp",
     "<kernel command line>:1:21: error: network_config: mode must be dhcp or static, got 'bootp'"),
    ("answerfile=http://x/a network_config=dhcp:vlan=5",
     "<kernel command line>:1:23: error: network_config with vlan= needs network_device= naming one "
     "interface (name or MAC), not all"),
    ('answerfile="http://h/a.xml sshpassword=hunter2222',
     "<kernel command line>:1:1: error: unterminated double quote"),
    ("network_device=eth0 answerfile_device=eth1",
     "<kernel command line>:1:21: error: answerfile_device is given twice (first at column 1)"),
    ("network_device=eth0 network_config=static:ip=192.0.2.9;netmask=24;ip=192.0.2.10",
     "<kernel command line>:1:21: error: network_config: ip is given twice"),
    ("answerfile=http://",
     "<kernel command line>:1:1: error: answerfile needs a URL starting with http://, https://, ftp://, "
     "file://, nfs://; got 'http://'"),
    ("atexit=halt",
     "<kernel command line>:1:1: error: atexit must be one of reboot, poweroff, shell; got 'halt'"),
    ("keymap=klingon",
     "<kernel command line>:1:1: error: keymap: unknown keymap 'klingon' (console keymap names such as "
     "us, uk, de, fr-latin1; see docs/answerfile.md)"),
    ("network_device=eth0/../x",
     "<kernel command line>:1:1: error: network_device: expected a network interface name like eth0 or "
     "enp1s0, got 'eth0/../x'"),
])
def test_errors(text, expected):
    assert expected in error_of(text)


def test_sshpassword_is_a_secret():
    o = parse("sshpassword=hunter2hunter2")
    assert o.ssh_password_set and "hunter2hunter2" not in repr(o)
    assert SECRETS.mask("login with hunter2hunter2") == "login with ********"


def test_network_config_without_network_warns():
    _, report = cmdline.parse("network_config=dhcp")
    assert [w.message for w in report.warnings] == [
        "network_config has no effect: no remote answer file and no network_device"]


def test_kernel_parameters_may_repeat_and_single_quotes_are_plain():
    o = parse("quiet quiet root=/dev/ram0 root=/dev/sda console console=tty0 "
              "answerfile=http://h/it's.xml atexit=poweroff")
    assert o.answerfile == "http://h/it's.xml" and o.atexit.value == "poweroff" and o.consoles == ["tty0"]


def test_url_credentials_are_masked_in_cli_output():
    import subprocess
    import sys
    from conftest import ROOT
    res = subprocess.run([sys.executable, "-m", "installer", "cmdline", "answerfile=http://u:pa55word@h/a.xml"],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0 and "pa55word" not in res.stdout and "u:********@h" in res.stdout
