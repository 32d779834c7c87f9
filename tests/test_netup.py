"""The installer's own network (installer.netup), one path for the boot line and the wizard: the
commands it runs, with runner.run recorded instead of run."""
from __future__ import annotations

import pytest

from installer import netup, runner
from installer.errors import InstallerError


class Calls(list):
    answers: dict


@pytest.fixture
def ran(monkeypatch, tmp_path):
    """Every command run, answered by the test's table (argv[0] -> (exit code, stdout, stderr))."""
    calls, answers = Calls(), {}

    def run(argv, check=True, timeout=600, **_):
        calls.append(argv)
        code, out, err = answers.get(argv[0], (0, "", ""))
        return runner.Result(argv, code, out, err, 0.0)
    monkeypatch.setattr(runner, "run", run)
    monkeypatch.setattr(netup, "RESOLV_CONF", str(tmp_path / "resolv.conf"))
    calls.answers = answers
    return calls


def test_dhcp_on_every_interface_says_the_addresses(ran):
    ran.answers["ip"] = (0, "2: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global eth0\n", "")
    assert netup.bring_up(["eth0", "eth1"]) == "eth0 10.0.2.15/24"
    assert ["ip", "link", "set", "eth1", "up"] in ran
    assert ["dhclient", "-1", "-4", "eth0", "eth1"] in ran


def test_static_on_a_vlan_with_gateway_and_name_servers(ran, tmp_path):
    said = netup.bring_up(["eth0"], netup.Static("192.0.2.10/24", "192.0.2.1", ("192.0.2.53",)), vlan=7)
    assert said == "eth0.7 192.0.2.10/24"
    assert ["ip", "link", "add", "link", "eth0", "name", "eth0.7", "type", "vlan", "id", "7"] in ran
    assert ["ip", "addr", "replace", "192.0.2.10/24", "dev", "eth0.7"] in ran
    assert ["ip", "route", "replace", "default", "via", "192.0.2.1"] in ran
    assert not any(c[0] == "dhclient" for c in ran)
    assert (tmp_path / "resolv.conf").read_text() == "nameserver 192.0.2.53\n"


def test_no_lease_is_an_error_naming_the_purpose(ran):
    ran.answers["dhclient"] = (2, "", "no offers received\n")
    with pytest.raises(InstallerError, match="no DHCP lease on eth0 to reach the installation source: "
                                             "no offers received"):
        netup.bring_up(["eth0"], purpose=" to reach the installation source")


def test_network_device_names_all_a_mac_or_a_name(monkeypatch, tmp_path):
    for nic, mac in (("eth0", "52:54:00:12:34:56"), ("eth1", "52:54:00:ab:cd:ef"), ("lo", "00:00:00:00:00:00")):
        (tmp_path / nic).mkdir()
        (tmp_path / nic / "address").write_text(mac + "\n")
    monkeypatch.setattr(netup, "SYS_NET", str(tmp_path))
    assert netup.named("all") == ["eth0", "eth1"]
    assert netup.named("52:54:00:AB:CD:EF") == ["eth1"]
    assert netup.named("eth0") == ["eth0"]


def test_the_wizard_brings_up_its_management_interface_through_netup(monkeypatch):
    from helpers import machine
    from installer import wizard
    from installer.wizard_backend import Backend
    seen = []
    monkeypatch.setattr(netup, "bring_up", lambda nics, static, vlan, purpose="": seen.append(
        (nics, static, vlan, purpose)) or "")
    m = machine("uefi-3disks")
    choices = wizard.defaults(m)
    cfg = wizard.to_config(choices, m)
    cfg.sources[0].type, cfg.sources[0].location = "url", "http://192.0.2.5/tree/"
    backend = Backend(m)
    backend.network_for(cfg)
    backend.network_for(cfg)                # once per installer run
    assert len(seen) == 1 and seen[0][3] == " to reach the installation source"
    assert seen[0][0] == [cfg.interface.name] and seen[0][1] is None


def test_the_wizard_brings_the_network_up_again_only_when_its_settings_changed(ran, tmp_path):
    """An operator who corrects the gateway or VLAN after a failed verification gets the new
    settings (the old VLAN interface, addresses and route dropped first); the same settings are
    not brought up twice; a failed try (no lease) is undone before the next one."""
    from installer import machine as machine_mod, wizard
    from installer.wizard_backend import Backend
    m = machine_mod.load("tests/machines/uefi-3disks.json")
    backend = Backend(m)
    c = wizard.Choices(nic=m.nics[0].name, ipv4_mode="static", ipv4_address="192.0.2.10", ipv4_netmask="24",
                       ipv4_gateway="192.0.2.99", vlan="7", source_type="url", source_location="http://192.0.2.5/t",
                       hostname_mode="manual", hostname="h1", dns_mode="manual", name_servers=["192.0.2.53"],
                       primary_disk=m.disks[0].name)
    backend.network_for(wizard.to_config(c, m))
    nic = m.nics[0].name
    assert ["ip", "route", "replace", "default", "via", "192.0.2.99"] in ran
    ran.clear()
    backend.network_for(wizard.to_config(c, m))
    assert ran == []                                           # the same settings: nothing to do
    c.ipv4_gateway, c.vlan = "192.0.2.1", ""
    backend.network_for(wizard.to_config(c, m))
    assert ran.index(["ip", "link", "del", f"{nic}.7"]) < ran.index(["ip", "route", "replace", "default", "via", "192.0.2.1"])
    assert ["ip", "addr", "replace", "192.0.2.10/24", "dev", nic] in ran
    c.ipv4_mode = "dhcp"
    ran.clear()
    ran.answers["dhclient"] = (1, "", "no lease")
    with pytest.raises(InstallerError, match="no DHCP lease"):
        backend.network_for(wizard.to_config(c, m))
    ran.clear()
    with pytest.raises(InstallerError):                        # tried again, after undoing the failed try
        backend.network_for(wizard.to_config(c, m))
    assert ran[0][:2] == ["dhclient", "-r"]
