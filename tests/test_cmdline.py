"""Installer kernel parameters, read as XCP-ng does, contradictions refused."""
import pytest

from installer import boot, cmdline, commands
from installer.config import to_plain
from installer.errors import ConfigError
from installer.runner import MASK, SECRETS


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
     "<kernel command line>:1:23: error: answerfile is given twice with different values (first at "
     "column 1); give one answer file"),
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
    # management-address nonsense, as in the answer file
    ("network_device=eth0 network_config=static:ip=192.0.2.9;netmask=255.255.255.255;gateway=192.0.2.1",
     "<kernel command line>:1:21: error: network_config: 192.0.2.9/32 leaves no other address on the "
     "management network: neither a gateway nor any other host could be reached; give the network's "
     "netmask"),
    ("network_device=eth0 network_config=static:ip=169.254.3.4;netmask=16",
     "<kernel command line>:1:21: error: network_config: 169.254.3.4 is a link-local address "
     "(169.254.0.0/16), which is never routed; a management address must be one of the management "
     "network's"),
    ("network_device=eth0 network_config=static:ip=192.0.2.9;netmask=24;dns=::ffff:192.0.2.53",
     "<kernel command line>:1:21: error: network_config: ::ffff:192.0.2.53 is an IPv4-mapped IPv6 "
     "address; write the IPv4 address 192.0.2.53 instead"),
    ("network_device=eth0 network_config=static:ip=192.0.2.9;netmask=24;dns=0.0.0.0",
     "<kernel command line>:1:21: error: network_config: 0.0.0.0 is not a usable host address"),
    ("network_device=52:54:00:AB:CD",
     "<kernel command line>:1:1: error: network_device: expected a MAC address like 52:54:00:12:34:56, "
     "got '52:54:00:AB:CD'"),
])
def test_errors(text, expected):
    assert expected in error_of(text)


def test_sshpassword_is_a_secret():
    o = parse("sshpassword=hunter2hunter2")
    assert o.ssh_password_set and "hunter2hunter2" not in repr(o)
    assert {"hunter2hunter2", o.ssh_password_hash} <= o.secrets
    assert "secrets" not in to_plain(o)


def test_the_parser_leaves_the_global_mask_unchanged():
    """The secrets of the boot line travel on the options; the front end registers them."""
    before = (set(SECRETS._values), list(SECRETS._ordered))
    o = parse("sshpassword=Pars3r-Ssh-Pw answerfile=http://op:Pars3r-Url-Pw@192.0.2.5/a.xml")
    assert (set(SECRETS._values), list(SECRETS._ordered)) == before
    assert {"Pars3r-Ssh-Pw", o.ssh_password_hash, "Pars3r-Url-Pw"} <= o.secrets
    assert SECRETS.mask("log: Pars3r-Ssh-Pw") == "log: Pars3r-Ssh-Pw"
    # a refused line registers nothing either, and its messages mask the URL's password all the same
    errors = error_of("answerfile=http://op:Pars3r-Bad-Pw@192.0.2.5:99999/a.xml")
    assert (set(SECRETS._values), list(SECRETS._ordered)) == before
    assert "Pars3r-Bad-Pw" not in "".join(errors) and "op:********@" in "".join(errors)


def test_the_cmdline_command_masks_sshpassword_and_its_hash(capsys):
    """cli registers the options' secrets right after parsing: the JSON shows neither."""
    assert commands.main(["cmdline", "sshpassword=Cl1-Ssh-Pw atexit=shell"]) == 0
    out = capsys.readouterr().out
    assert "Cl1-Ssh-Pw" not in out and "$6$" not in out
    assert '"ssh_password_hash": "********"' in out and "secrets" not in out


def test_the_boot_path_registers_the_boot_lines_secrets(tmp_path, monkeypatch, capsys):
    """boot registers them as soon as the line is read: the log masks sshpassword= and its hash
    (the wizard start is stubbed out)."""
    import logging
    from installer.ui import launch
    monkeypatch.setattr(boot, "RUN", str(tmp_path))
    monkeypatch.setattr(boot, "LOG", str(tmp_path / "installer.log"))
    monkeypatch.setattr(boot.Consoles, "__init__", lambda self, names: setattr(self, "names", []))
    monkeypatch.setattr(boot.cmdline, "read_proc", lambda: "sshpassword=B0ot-Ssh-Pw console=tty0")
    monkeypatch.setattr(boot.debugssh, "enable", lambda hashed: f"sshd on, root hash {hashed}")
    monkeypatch.setattr(launch, "run_on_console", lambda device, opts, tree: 0)
    handlers = list(logging.getLogger("installer").handlers)
    try:
        assert boot.main() == 0
    finally:
        for handler in set(logging.getLogger("installer").handlers) - set(handlers):
            logging.getLogger("installer").removeHandler(handler)
            handler.close()
    log = (tmp_path / "installer.log").read_text()
    assert f"sshd on, root hash {MASK}" in log and "$6$" not in log
    assert SECRETS.mask("B0ot-Ssh-Pw") == MASK


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
    from helpers import ROOT
    res = subprocess.run([sys.executable, "-m", "installer", "cmdline", "answerfile=http://u:pa55word@h/a.xml"],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0 and "pa55word" not in res.stdout and "u:********@h" in res.stdout


def test_existing_data_guard_on_the_boot_line():
    """existing_data=refuse: a PXE fleet's guard against overwriting data; stricter than the file wins."""
    from installer.config import InstallConfig
    assert parse("quiet").existing_data is None
    assert parse("existing_data=refuse").existing_data == "refuse"
    for file_says, boot_says, result in (("erase", "refuse", "refuse"), ("refuse", "erase", "refuse"),
                                         ("erase", "erase", "erase"), ("refuse", None, "refuse")):
        cfg = InstallConfig(existing_data=file_says)
        cfg = cmdline.applied(cfg, parse(f"existing_data={boot_says}" if boot_says else ""))
        assert cfg.existing_data == result


@pytest.mark.parametrize("text,expected", [
    ("quiet existing_data=keep",
     "<kernel command line>:1:7: error: existing_data must be one of erase, refuse; got 'keep'"),
])
def test_existing_data_errors(text, expected):
    assert error_of(text) == [expected]


@pytest.mark.parametrize("value", ["../../x", "tty0/../../etc/x", "ttyS0,../../x", "lp0", "uart8250,io,0x3f8",
                                   "ttyS0,115200n8,x", ""])
def test_console_that_is_not_a_terminal_is_left_to_the_kernel(value):
    """console= belongs to the kernel: a value that names no terminal is never made a path the
    installer writes to (it was /dev/../../x); it is a warning, not an error."""
    o, report = cmdline.parse(f"console=tty0 console={value} answerfile=http://h/a.xml")
    assert o.consoles == ["tty0"]
    assert [str(w) for w in report.warnings] == [
        f"<kernel command line>:1:14: warning: console: {value!r} is not a terminal name (ttyN, ttySN, "
        "hvcN, ttyUSBN or ttyAMAN, optionally followed by ,<speed>): left to the kernel; the installer "
        "does not write to it"]


def test_terminal_consoles_are_kept_with_their_options():
    o, report = cmdline.parse("console=ttyS1,115200n8 console=hvc0 console=ttyUSB0,9600 "
                              "console=ttyAMA0,115200e7r console=tty1")
    assert o.consoles == ["ttyS1,115200n8", "hvc0", "ttyUSB0,9600", "ttyAMA0,115200e7r", "tty1"]
    assert not report.warnings


def test_boot_consoles_only_ever_open_terminals():
    from installer import boot
    out = boot.Consoles(["../../x", "ttyS0,115200n8", "tty0", "ttyS0", "console", "sda", "null"])
    assert out.names == ["ttyS0", "tty0", "console"]


@pytest.mark.parametrize("name", ["ETH0", "Mgmt0", "enP1s0"])
def test_interface_names_keep_their_case(name):
    o, report = cmdline.parse(f"answerfile=http://h/a.xml network_device={name}")
    assert o.network_device == name
    assert [str(w) for w in report.warnings] == [
        f"<kernel command line>:1:27: warning: network_device={name}: interface names are case-sensitive; "
        f"{name} is used as given (XCP-ng would look for {name.lower()})"]


@pytest.mark.parametrize("value,expected", [("52:54:00:AB:CD:EF", "52:54:00:ab:cd:ef"),
                                            ("52-54-00-AB-CD-EF", "52:54:00:ab:cd:ef"),
                                            ("ALL", "all"), ("eth1", "eth1")])
def test_macs_and_all_are_case_folded(value, expected):
    o, report = cmdline.parse(f"network_device={value}")
    assert o.network_device == expected and not report.warnings


def test_xcpng_only_parameters_are_ignored_with_a_warning():
    """XCP-ng PXE entries keep working, and nothing they ask for is dropped silently."""
    o, report = cmdline.parse("answerfile=http://h/a.xml map_netdev=eth0:s:52:54:00:12:34:56 "
                              "device_mapper_multipath=enabled reboot reboot=bios extrarepo=http://h/r")
    assert o.answerfile == "http://h/a.xml"
    assert [str(w) for w in report.warnings] == [
        "<kernel command line>:1:27: warning: map_netdev: XCP-ng's installer parameter is not supported "
        "here and is ignored (interfaces keep the kernel's names)",
        "<kernel command line>:1:63: warning: device_mapper_multipath: XCP-ng's installer parameter is not "
        "supported here and is ignored (multipath devices are not assembled)",
        "<kernel command line>:1:95: warning: reboot: XCP-ng's installer parameter is not supported here "
        "and is ignored (atexit= decides, reboot by default)",
        "<kernel command line>:1:114: warning: extrarepo: XCP-ng's installer parameter is not supported "
        "here and is ignored (only the answer file's sources are installed)"]


def test_a_repeated_parameter_is_read_as_xcpng_reads_it():
    """The last one wins (atexit= appended at the boot prompt to a PXE entry), with a warning; the
    same value twice is only a warning; existing_data keeps the stricter value."""
    opts, report = cmdline.parse("atexit=reboot network_device=eth0 answerfile_device=eth1 "
                                 "atexit=shell existing_data=refuse existing_data=erase "
                                 "keymap=de keymap=de")
    assert opts.atexit.value == "shell" and opts.network_device == "eth1"
    assert opts.existing_data == "refuse" and opts.keymap == "de"
    text = [str(w) for w in report.warnings]
    assert "<kernel command line>:1:35: warning: answerfile_device is given twice (first at column 15, " \
           "as network_device): the last one is used, as in XCP-ng" in text
    assert "<kernel command line>:1:58: warning: atexit is given twice (first at column 1, as atexit): " \
           "the last one is used, as in XCP-ng" in text
    assert any("existing_data is given twice" in w and "the stricter, refuse, wins" in w for w in text)
    assert any("keymap is given twice with the same value" in w for w in text)


def test_the_same_answer_file_twice_is_one_answer_file():
    opts, report = cmdline.parse("answerfile=http://a/x answerfile=http://a/x")
    assert opts.answerfile == "http://a/x"
    assert [w.message for w in report.warnings] == ["answerfile is given twice with the same value "
                                                    "(first at column 1)"]
