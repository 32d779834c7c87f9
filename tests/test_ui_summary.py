"""The Summary says exactly what the install does (installer/wizard_summary.py), and the screens
before it default to and accept only what can be installed: host name, DNS and NTP defaults follow
the IPv4 choice, typing selects "manual", an NFS location is server:/path or nfs://server/path.
Rendered by urwid at 80x24 and driven with keys, as in test_ui_views.py."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest
from helpers import parse_text

from installer import machine as machine_mod, wizard, wizard_summary
from installer.errors import ConfigError
from installer.product import DEFAULT as PRODUCT
from installer.ui import drive
from installer.ui.app import App
from test_ui_views import app_for, go_to, load

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC = {"ipv4_mode": "static", "ipv4_address": "192.0.2.10", "ipv4_netmask": "24", "ipv4_gateway": "192.0.2.1"}
SR_VG = "VG_XenStorage-7a1c2f34-9d0e-4b51-8c6a-2f1e3d4c5b6a"


def installed(**changes) -> machine_mod.Machine:
    """installed-bios with what the probe read from its installation."""
    return load("installed-bios", installations=[machine_mod.Installation("sda", "Xenhost", "0.0.9")], **changes)


def text(app: App) -> str:
    """The screen at 80x24, every row within 80 columns, words joined across wrapped rows."""
    rows = drive.render(app)
    assert len(rows) == 24 and all(len(r) <= 80 for r in rows)
    assert app.current.title in rows[1]
    return " ".join(" ".join(rows).split())


def button(app: App) -> str:
    return app.current.walker[-1].contents[0][0].base_widget.label


# -- host name, DNS and NTP follow the IPv4 choice; typing selects manual ---------------------------
def test_static_ipv4_makes_host_name_and_dns_manual_and_the_summary_says_what_is_typed(tmp_path):
    app = app_for(load("bios-1disk"), tmp_path)
    go_to(app, "hostname-dns", {"network": STATIC})
    assert drive.field(app, "hostname_mode").value == "manual" and drive.field(app, "dns_mode").value == "manual"
    assert "dhcp" not in drive.field(app, "hostname_mode").buttons           # no DHCP at all: greyed
    assert "From DHCP (not usable: needs DHCP for IPv4, DHCPv6 or autoconf)" in text(app)
    drive.type_text(app, "hostname", "h1.example.com")
    drive.type_text(app, "name_servers", "192.0.2.53")
    go_to(app, "summary", {"ntp": {}, "verify": {}})
    shown = text(app)
    assert "Host name: h1.example.com; name servers: 192.0.2.53" in shown and "from DHCP" not in shown
    drive.next_(app)
    assert app.config.hostname == "h1.example.com" and app.config.name_servers == ["192.0.2.53"]


def test_static_ipv4_with_ipv6_autoconf_starts_on_manual_and_still_offers_dhcp(tmp_path):
    app = app_for(load("bios-1disk"), tmp_path)
    go_to(app, "hostname-dns", {"network": STATIC | {"ipv6_mode": "autoconf"}})
    mode = drive.field(app, "hostname_mode")
    assert mode.value == "manual" and "dhcp" in mode.buttons
    drive.choose(app, "hostname_mode", "dhcp")
    drive.choose(app, "dns_mode", "dhcp")
    go_to(app, "summary", {"verify": {}})
    assert "Host name: from DHCP; name servers: from DHCP" in text(app)


def test_typing_a_host_name_or_name_servers_selects_manual(tmp_path):
    app = app_for(load("bios-1disk"), tmp_path)
    go_to(app, "hostname-dns")                         # IPv4 DHCP: both start on "From DHCP"
    assert drive.field(app, "hostname_mode").value == "dhcp" and drive.field(app, "dns_mode").value == "dhcp"
    drive.type_text(app, "hostname", "typed")
    assert drive.field(app, "hostname_mode").value == "manual" and drive.field(app, "dns_mode").value == "dhcp"
    drive.type_text(app, "name_servers", "192.0.2.53")
    assert drive.field(app, "dns_mode").value == "manual"
    go_to(app, "summary", {"verify": {}})
    assert "Host name: typed; name servers: 192.0.2.53" in text(app)


def test_going_back_to_dhcp_keeps_what_was_typed_and_static_again_makes_it_manual(tmp_path):
    app = app_for(load("bios-1disk"), tmp_path)
    go_to(app, "hostname-dns", {"network": STATIC})
    drive.type_text(app, "hostname", "h1")
    drive.press(app, "esc")
    drive.choose(app, "ipv4_mode", "dhcp")
    drive.next_(app)
    assert drive.field(app, "hostname_mode").value == "manual"      # typed: stays manual
    assert drive.field(app, "dns_mode").value == "dhcp"             # nothing typed: follows DHCP
    drive.press(app, "esc")
    drive.choose(app, "ipv4_mode", "static")
    drive.next_(app)
    assert drive.field(app, "dns_mode").value == "manual"


def test_ntp_follows_the_ipv4_choice_and_typing_servers_selects_them(tmp_path):
    app = app_for(load("bios-1disk"), tmp_path)
    go_to(app, "ntp", {"network": STATIC, "hostname-dns": {"hostname": "h1", "name_servers": "192.0.2.53"}})
    assert drive.field(app, "ntp_mode").value == "default"
    assert "dhcp" not in drive.field(app, "ntp_mode").buttons
    assert "Servers from DHCP (not usable: needs DHCP for IPv4)" in text(app)
    drive.type_text(app, "ntp_servers", "ntp.example.com")
    assert drive.field(app, "ntp_mode").value == "manual"
    drive.next_(app)
    assert app.current.name == "source"
    dhcp = app_for(load("bios-1disk"), tmp_path / "dhcp")
    go_to(dhcp, "ntp")
    assert drive.field(dhcp, "ntp_mode").value == "dhcp"


def test_the_ipv4_mode_moves_the_defaults_only_when_it_changes():
    c = wizard.Choices(ntp_mode="none")
    wizard.set_ipv4_mode(c, "static")
    assert (c.hostname_mode, c.dns_mode, c.ntp_mode) == ("manual", "manual", "none")     # "none" was picked
    c.hostname_mode = "dhcp"
    wizard.set_ipv4_mode(c, "static")                  # no change: what was picked since stays
    assert c.hostname_mode == "dhcp"
    c = wizard.Choices()
    wizard.set_ipv4_mode(c, "static")
    assert c.ntp_mode == "default"
    wizard.set_ipv4_mode(c, "dhcp")
    assert (c.hostname_mode, c.dns_mode, c.ntp_mode) == ("dhcp", "dhcp", "dhcp")


# -- NFS: server:/path or nfs://server/path, nothing else ------------------------------------------
@pytest.mark.parametrize("location,message", [
    ("http://192.0.2.5/tree", "not a http:// URL"),
    ("ftp://192.0.2.5/tree", "not a ftp:// URL"),
    ("http:/192.0.2.5/tree", "not a URL"),
    ("nfs:/export/tree", "not a URL"),
    ("nfs:///export/tree", "expected an NFS location like server:/path"),
    ("bad_name:/export", "the NFS server 'bad_name'"),
])
def test_the_source_screen_refuses_what_is_no_nfs_location(tmp_path, location, message):
    app = app_for(load("bios-1disk"), tmp_path)
    go_to(app, "source")
    drive.choose(app, "source_type", "nfs")
    drive.type_text(app, "location", location)
    drive.next_(app)
    assert app.current.name == "source" and message in drive.errors(app)["location"]


def test_the_summary_shows_the_source_type(tmp_path):
    app = app_for(load("bios-1disk"), tmp_path)
    go_to(app, "summary", {"source": {"source_type": "nfs", "location": "nfs://srv.example.com:/x/tree"},
                           "verify": {}})
    assert "Source: NFS nfs://srv.example.com:/x/tree" in text(app)
    app = app_for(load("bios-1disk"), tmp_path / "url")
    go_to(app, "summary", {"source": {"source_type": "url", "location": "http://op:pw-123456@srv/tree"},
                           "verify": {}})
    assert "Source: HTTP/FTP http://op:********@srv/tree" in text(app)
    app = app_for(load("bios-1disk"), tmp_path / "local")
    go_to(app, "summary", {"verify": {}})
    assert "Source: local media" in text(app)


@pytest.mark.parametrize("location", ["http:/192.0.2.5/tree", "https:/srv/tree", "nfs:/export"])
def test_an_answer_files_nfs_source_that_looks_like_a_url_is_a_positioned_error(location):
    with pytest.raises(ConfigError) as exc:
        parse_text(f"""<installation><primary-disk>sda</primary-disk>
<source type="nfs">{location}</source>
<admin-interface name="eth0" proto="dhcp"/></installation>""")
    assert [str(d) for d in exc.value.diagnostics] == [
        f"test.xml:2:20: error: <source>: an NFS location is server:/path or nfs://server/path, "
        f"not a URL ('{location}')"]


def test_validate_refuses_a_url_given_as_nfs_with_its_position(tmp_path):
    bad = tmp_path / "nfs.xml"
    bad.write_text('<installation>\n  <primary-disk>sda</primary-disk>\n'
                   '  <source type="nfs">http:/192.0.2.5/tree</source>\n'
                   '  <admin-interface name="eth0" proto="dhcp"/>\n</installation>\n')
    res = subprocess.run([sys.executable, "-m", "installer", "validate", str(bad)], capture_output=True,
                         text=True, cwd=os.path.dirname(HERE))
    assert res.returncode == 1
    assert f"{bad}:3:22: error: <source>: an NFS location is server:/path" in res.stdout + res.stderr


# -- the Summary: gateway, SR, plural, disks by what they hold -------------------------------------
def test_the_summary_shows_the_ipv6_gateway_and_the_sr_over_every_guest_disk(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    answers = drive.load_answers(os.path.join(HERE, "answers", "uefi-3disks-static.toml"))
    answers["network"] |= {"ipv6_mode": "static", "ipv6_address": "2001:db8::10/64", "ipv6_gateway": "fe80::1"}
    answers["primary-disk"] = {"disk": "sda"}
    answers["guest-disks"] = {"disks": ["sdb", "sdc"]}
    go_to(app, "summary", answers)
    shown = text(app)
    assert "IPv6 2001:db8::10/64, gateway fe80::1" in shown
    assert "IPv4 192.0.2.10/24, gateway 192.0.2.1" in shown and "VLAN 42" in shown
    assert "one lvm SR (thick provisioning) spanning the rest of sda and every guest disk: sdb, sdc" in shown
    assert "ALL DATA ON THESE 3 DISKS WILL BE ERASED" in shown


def test_one_disk_is_this_disk(tmp_path):
    app = app_for(load("bios-1disk"), tmp_path)
    go_to(app, "summary", {"verify": {}})
    shown = text(app)
    assert "ALL DATA ON THIS DISK WILL BE ERASED:" in shown and "DISK(S)" not in shown
    assert "Install onto: sda; local storage: one ext SR (thin provisioning) on the rest of sda" in shown


def test_the_summary_names_the_installation_backup_and_sr_a_clean_install_erases(tmp_path):
    app = app_for(installed(), tmp_path)
    go_to(app, "summary", {"install-type": {"action": "fresh"}, "primary-disk": {"disk": "sda"},
                           "raid": {"partner": ""}, "guest-disks": {"disks": []}, "verify": {}})
    shown = text(app)
    assert "ALL DATA ON THIS DISK WILL BE ERASED: /dev/sda (64.0 GiB, QEMU HARDDISK, serial QM00001)" in shown
    assert ("now holds: an installation of Xenhost 0.0.9 (partition 1, root-k3x9qa) with its own file "
            "systems in partitions 5, 6; the backup of an earlier installation (partition 2, backup-k3x9qa); "
            f"a local SR's volume group {SR_VG} with 4 logical volumes (partition 3)") in shown
    assert "GPT" not in shown and "6 partitions" not in shown
    assert shown.index("ALL DATA ON") < shown.index("Source:")          # all of it on one screen
    assert button(app) == "Install"


# -- upgrade and restore ---------------------------------------------------------------------------
def test_the_upgrade_summary_says_the_backup_is_replaced_and_its_button_says_upgrade(tmp_path):
    app = app_for(installed(), tmp_path)
    go_to(app, "summary", {"install-type": {"action": "upgrade:sda"}, "verify": {}})
    shown = text(app)
    assert ("An installation of Xenhost 0.0.9 (partition 1, root-k3x9qa) is upgraded to Xenhost 0.1.0; "
            "its settings and guest storage are kept.") in shown
    assert ("First it is copied to the backup partition (partition 2), replacing what it holds now, which "
            "is LOST: the backup of an earlier installation (partition 2, backup-k3x9qa).") in shown
    assert button(app) == "Upgrade" and "< Upgrade >" in shown and "Install" not in shown
    drive.next_(app)
    assert app.config.mode.value == "upgrade"


def test_the_restore_summary_says_the_current_installation_is_lost_and_its_button_says_restore(tmp_path):
    app = app_for(installed(), tmp_path)
    go_to(app, "summary", {"install-type": {"action": "restore:sda"}})
    shown = text(app)
    assert ("The backup of an earlier installation (partition 2, backup-k3x9qa) is copied back over the "
            "current installation, which is LOST: an installation of Xenhost 0.0.9 (partition 1, "
            "root-k3x9qa).") in shown
    assert "The backup stays in partition 2; guest storage is not touched." in shown
    assert button(app) == "Restore" and "< Restore >" in shown and "Install" not in shown
    drive.next_(app)
    assert app.config.mode.value == "restore"


def test_a_bios_backup_is_not_offered_for_restore_when_booted_in_uefi(tmp_path):
    app = app_for(installed(boot_mode="uefi"), tmp_path)
    go_to(app, "install-type")
    assert set(drive.field(app, "action").buttons) == {"fresh"}
    shown = text(app)
    assert ("Restore the backup on sda (64.0 GiB, QEMU HARDDISK) (not usable: the backup was made for BIOS "
            "boot, but the installer was booted in UEFI mode") in shown
    assert "not offered for restore: the backup was made for BIOS boot" in shown


def test_an_upgrade_over_an_empty_backup_partition_loses_nothing():
    m = installed()
    disk = m.disks[0]
    empty = [dataclasses.replace(p, fstype="", label="") if p.number == 2 else p for p in disk.partitions]
    m = dataclasses.replace(m, disks=[dataclasses.replace(disk, partitions=empty), *m.disks[1:]])
    c = wizard.Choices(action="upgrade", existing_disk="sda")
    said = wizard_summary.lines(c, m, PRODUCT)
    assert said[2] == wizard_summary.Line("First it is copied to the backup partition (partition 2), replacing "
                                          "nothing (that partition holds no file system now).", 2)
    assert wizard_summary.button(c) == "Upgrade"
