"""The wizard's pure model (installer/wizard.py), without urwid: which screens apply for which
choices, each check's messages, and the InstallConfig the choices make (golden files
tests/golden/wizard-config-<case>.json, as for answer files)."""
from __future__ import annotations

import dataclasses

import pytest
from helpers import check_golden, machine

from installer import passwd, wizard
from installer.config import DiskRef, Mode, PrimaryDisk
from installer.runner import MASK
from installer.machine import Installation
from installer.plan import FIXED_IDS, make_plan
from installer.product import DEFAULT as PRODUCT

C = wizard.Choices
HASH = "$6$fixedsalt$" + "a" * 86          # to_config copies the hash as it is
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHhxGKqXiNRovQ7J0GDiX7IRqsz7tt/rJtCVj5UBS3/o ops@example"


def walk(m, c) -> list[str]:
    """The screens the wizard shows for these choices, in order."""
    shown, screen = [], wizard.SCREENS[0]
    while screen is not None:
        shown.append(screen)
        screen = wizard.next_screen(screen, c, m, PRODUCT)
    return shown


START = ["keymap", "welcome", "eula"]
FRESH_TAIL = ["password", "nic", "network", "hostname-dns", "timezone", "ntp", "source", "verify", "summary"]


def installed(**changes):
    return dataclasses.replace(machine("installed-bios"), **changes)


@pytest.mark.parametrize("m,changes,screens", [
    # a good UEFI machine with three disks: no hardware screen, RAID and guest disks offered
    ("uefi-3disks", {}, START + ["primary-disk", "raid", "guest-disks", "sr-type"] + FRESH_TAIL),
    # with a RAID partner chosen, the third disk is still there for guests
    ("uefi-3disks", {"raid_partner": "sdb"}, START + ["primary-disk", "raid", "guest-disks", "sr-type"] + FRESH_TAIL),
    # two disks, both in the mirror: nothing left for guest disks
    ("raid-2disks", {"primary_disk": "sda", "raid_partner": "sdb"},
     START + ["hardware", "primary-disk", "raid", "sr-type"] + FRESH_TAIL),
    # one disk, BIOS: the boot mode warning, no RAID, no guest disks
    ("bios-1disk", {}, START + ["hardware", "primary-disk", "sr-type"] + FRESH_TAIL),
    # too little RAM
    ("qemu-installer-vm", {}, START + ["hardware", "primary-disk", "sr-type"] + FRESH_TAIL),
    # the installer media is no guest disk
    ("usb-media", {}, START + ["primary-disk", "sr-type"] + FRESH_TAIL),
    # an installation: the install type is asked; upgrade asks for the source only, restore nothing
    ("installed-bios", {}, START + ["hardware", "install-type", "primary-disk", "raid", "guest-disks",
                                    "sr-type"] + FRESH_TAIL),
    ("installed-bios", {"action": "upgrade", "existing_disk": "sda"},
     START + ["hardware", "install-type", "source", "verify", "summary"]),
    ("installed-bios", {"action": "restore", "existing_disk": "sda"}, START + ["hardware", "install-type", "summary"]),
])
def test_which_screens_apply(m, changes, screens):
    mach = machine(m)
    assert walk(mach, dataclasses.replace(wizard.defaults(mach), **changes)) == screens


def test_an_installation_that_cannot_be_upgraded_is_still_shown_with_its_reason():
    """The install-type screen appears whenever an installation is found, offered or not."""
    m = installed(boot_mode="uefi")
    assert wizard.applies("install-type", C(), m, PRODUCT)
    assert "install-type" in walk(m, wizard.defaults(m))


def test_defaults_take_the_first_usable_disk_and_a_linked_nic():
    assert (wizard.defaults(machine("usb-media")).primary_disk, wizard.defaults(machine("usb-media")).nic) == ("sda", "eth0")
    assert wizard.defaults(machine("small-disk")).primary_disk == ""        # nothing usable
    m = machine("uefi-3disks")
    m.nics[0].link = False
    assert wizard.defaults(m).nic == "eth1"


# -- each check's messages -------------------------------------------------------------------------
@pytest.mark.parametrize("check,args,errors", [
    (wizard.check_keymap, ("us",), {}),
    (wizard.check_keymap, ("nope",),
     {"keymap": "unknown keymap 'nope' (console keymap names such as us, uk, de, fr-latin1; see docs/answerfile.md)"}),
    (wizard.check_password, ("secret123", "secret123", ""), {}),
    (wizard.check_password, ("secret123", "secret123", KEY), {}),
    (wizard.check_password, ("short", "short", ""), {"password": "at least 6 characters (it has 5)"}),
    (wizard.check_password, ("x" * 300, "x" * 300, ""), {"password": "at most 128 characters long (it has 300)"}),
    (wizard.check_password, ("secret123", "secret124", "ssh-rsa AAAA"),
     {"confirm": "the two passwords differ", "ssh_key": "the SSH key's data does not match its type ssh-rsa"}),
    (wizard.check_network, (C(),), {}),
    (wizard.check_network, (C(ipv4_mode="static", ipv4_address="10.0.0.300", ipv4_netmask="33"),),
     {"ipv4_address": "expected an IPv4 address like 192.0.2.10, got '10.0.0.300'",
      "ipv4_netmask": "an IPv4 prefix length must be 1-32, got '33'"}),
    (wizard.check_network, (C(ipv4_mode="static", ipv4_address="10.0.0.3", ipv4_netmask="255.255.255.0",
                              ipv4_gateway="10.0.1.1"),),
     {"ipv4_gateway": "gateway 10.0.1.1 is not inside the management subnet 10.0.0.0/24"}),
    (wizard.check_network, (C(ipv6_mode="static", ipv6_address="2001:db8::10", vlan="0"),),
     {"ipv6_address": "expected an IPv6 address with prefix like 2001:db8::10/64, got '2001:db8::10'",
      "vlan": "a VLAN ID must be a number from 1 to 4094, got '0'"}),
    (wizard.check_network, (C(ipv6_mode="static", ipv6_address="2001:db8::10/64", ipv6_gateway="fe80::1",
                              vlan="4094"),), {}),                  # a link-local gateway is always reachable
    (wizard.check_hostname_dns, (C(),), {}),                        # DHCP provides both
    (wizard.check_hostname_dns, (C(hostname_mode="manual", hostname="bad_name", dns_mode="manual"),),
     {"hostname": "'bad_name' is not a valid host name: each dot-separated label must be 1-63 letters, "
                  "digits or hyphens, not starting or ending with a hyphen",
      "name_servers": "at least one name server (or let DHCP provide them)"}),
    # no DHCP at all: both must be given, whatever the modes say
    (wizard.check_hostname_dns, (C(ipv4_mode="static", name_servers=["192.0.2.53", "nope"]),),
     {"hostname": "a host name must be 1-253 characters, got ''",
      "name_servers": "expected an IPv4 address like 192.0.2.10, got 'nope'"}),
    (wizard.check_hostname_dns, (C(ipv4_mode="static", ipv6_mode="autoconf"),), {}),
    (wizard.check_timezone, (C(),), {}),
    (wizard.check_timezone, (C(tz_region="Mars", tz_city="Olympus"),),
     {"city": "unknown time zone 'Mars/Olympus' (use a tz database name like Europe/Paris or Etc/UTC)"}),
    (wizard.check_ntp, (C(),), {}),
    (wizard.check_ntp, (C(ntp_mode="manual"),), {"ntp_servers": "at least one NTP server"}),
    (wizard.check_ntp, (C(ntp_mode="manual", ntp_servers=["pool.ntp.org", "bad host"]),),
     {"ntp_servers": "expected a host name or IP address, got 'bad host'"}),
    (wizard.check_ntp, (C(ntp_mode="dhcp", ipv4_mode="static"),), {"ntp_mode": "NTP servers from DHCP need DHCP for IPv4"}),
    (wizard.check_ntp, (C(ntp_mode="default", ipv4_mode="static"),), {}),
    (wizard.check_source, (C(),), {}),
    (wizard.check_source, (C(source_type="url", source_location="https://example.org/tree"),), {}),
    (wizard.check_source, (C(source_type="url", source_location="gopher://x"),),
     {"location": "expected a URL starting with http://, https://, ftp://; got 'gopher://x'"}),
    (wizard.check_source, (C(source_type="nfs", source_location="server"),),
     {"location": "expected an NFS location like server:/path or nfs://server/path, got 'server'"}),
], ids=lambda v: v.__name__ if callable(v) else None)
def test_check_messages(check, args, errors):
    assert check(*args) == errors


@pytest.mark.parametrize("m,changes,errors", [
    ("uefi-3disks", {"primary_disk": "sdb"}, {}),
    ("uefi-3disks", {"primary_disk": ""}, {"disk": "choose the disk to install onto"}),
    ("small-disk", {"primary_disk": "sda"}, {"disk": "sda cannot be used: too small: 40.0 GiB, at least 46.0 GiB needed"}),
    ("usb-media", {"primary_disk": "sdb"}, {"disk": "sdb cannot be used: holds the installer media"}),
])
def test_check_primary_disk(m, changes, errors):
    assert wizard.check_primary_disk(dataclasses.replace(C(), **changes), machine(m)) == errors


@pytest.mark.parametrize("m,changes,errors", [
    (installed(), {"action": "fresh"}, {}),
    (installed(), {"action": "upgrade", "existing_disk": "sda"}, {}),
    (installed(), {"action": "restore", "existing_disk": "sda"}, {}),
    (installed(), {"action": "upgrade", "existing_disk": "sdb"}, {"action": "choose an installation"}),
    (installed(boot_mode="uefi"), {"action": "upgrade", "existing_disk": "sda"},
     {"action": "sda cannot be upgraded: installed for BIOS boot, but the installer was booted in UEFI mode; "
                "boot the installer in BIOS mode"}),
    (installed(boot_mode="uefi"), {"action": "restore", "existing_disk": "sda"},
     {"action": "sda cannot be restored: the backup was made for BIOS boot, but the installer was booted in "
                "UEFI mode; boot the installer in BIOS mode"}),
    (installed(installations=[Installation("sda", "Xenhost", "9.9")]), {"action": "upgrade", "existing_disk": "sda"},
     {"action": f"sda cannot be upgraded: version 9.9 is newer than this installer's {PRODUCT.version}"}),
])
def test_check_install_type(m, changes, errors):
    assert wizard.check_install_type(dataclasses.replace(C(), **changes), m, PRODUCT) == errors


def test_set_password_keeps_only_a_hash_and_both_as_secrets_of_the_config():
    """The model registers nothing: the secrets travel on the choices and the config made of them."""
    from installer.runner import SECRETS
    before = (set(SECRETS._values), list(SECRETS._ordered))
    c = C()
    wizard.set_password(c, "long enough pw")
    assert passwd.verify("long enough pw", c.password_hash)
    assert c.secrets == {"long enough pw", c.password_hash} and "long enough pw" not in repr(c)
    wizard.set_password(c, "another long pw")       # back to the password screen: replaced
    assert c.secrets == {"another long pw", c.password_hash}
    assert (set(SECRETS._values), list(SECRETS._ordered)) == before
    m = machine("uefi-3disks")
    for action in ("fresh", "upgrade", "restore"):
        cfg = wizard.to_config(dataclasses.replace(c, action=action, existing_disk="sda"), m)
        assert cfg.secrets == c.secrets and "secrets" not in cfg.to_dict()
    url = dataclasses.replace(c, source_type="url", source_location="http://op:Src-Pw@192.0.2.5/tree/")
    assert wizard.to_config(url, m).secrets == c.secrets | {"Src-Pw"}


def test_the_wizard_backend_registers_the_configs_secrets(tmp_path):
    """A dry-run install from the wizard: the session masks the password and its hash."""
    from installer.runner import SECRETS
    from installer.wizard_backend import DryRunBackend
    m = machine("uefi-3disks")
    c = wizard.defaults(m)
    wizard.set_password(c, "Wiz-Pa55word")
    cfg = wizard.to_config(c, m)
    cfg.primary_disk = PrimaryDisk(DiskRef(path="/dev/nosuch"))   # refused by the planner: all the same
    outcome = DryRunBackend(m, str(tmp_path / "run")).install(cfg, lambda event: None)
    assert (outcome.success, outcome.failed_step) == (False, "plan")
    assert SECRETS.mask(f"{c.password_hash} Wiz-Pa55word") == f"{MASK} {MASK}"


def test_timezones_by_region():
    zones = wizard.timezones()
    assert "UTC" in zones["Etc"] and "Paris" in zones["Europe"]
    assert not {"SystemV", "US", "posix", "right"} & set(zones)
    assert wizard.timezone_name(C(tz_region="America", tz_city="New_York")) == "America/New_York"


def test_split_list():
    assert wizard.split_list("a, b  c,,d") == ["a", "b", "c", "d"] and wizard.split_list(" ") == []


@pytest.mark.parametrize("changes,erased", [
    ({"primary_disk": "sda"}, ["sda"]),
    ({"primary_disk": "sda", "raid_partner": "sdb", "guest_disks": ["sdc"]}, ["sda", "sdb", "sdc"]),
    ({"action": "upgrade", "existing_disk": "sda", "primary_disk": "sda"}, []),
    ({"action": "restore", "existing_disk": "sda", "primary_disk": "sda"}, []),
])
def test_disks_erased(changes, erased):
    c = dataclasses.replace(C(), **changes)
    assert wizard.disks_erased(c) == erased
    assert wizard.taken(c) == ({d for d in (c.primary_disk, c.raid_partner) if d})


# -- the InstallConfig the choices make ---------------------------------------------------------------
CONFIGS = {
    "fresh-defaults": ("bios-1disk", {"password_hash": HASH}),
    "fresh-static-raid": ("uefi-3disks", {
        "keymap": "fr-latin1", "primary_disk": "sda", "raid_partner": "sdb", "guest_disks": ["sdc"], "sr_type": "lvm",
        "password_hash": HASH, "ssh_key": KEY, "nic": "eth1", "ipv4_mode": "static", "ipv4_address": "192.0.2.10",
        "ipv4_netmask": "255.255.255.0", "ipv4_gateway": "192.0.2.1", "ipv6_mode": "static",
        "ipv6_address": "2001:db8::10/64", "ipv6_gateway": "fe80::1", "vlan": "42", "hostname_mode": "manual",
        "hostname": "xh.example.org", "dns_mode": "manual", "name_servers": ["192.0.2.53", "2001:db8::53"],
        "tz_region": "Europe", "tz_city": "Paris", "ntp_mode": "manual", "ntp_servers": ["ntp.example.org"],
        "source_type": "url", "source_location": " https://example.org/tree "}),
    "fresh-no-password-nfs": ("uefi-3disks", {"ntp_mode": "none", "ipv6_mode": "autoconf",
                                              "source_type": "nfs", "source_location": "server:/tree"}),
    "upgrade": ("installed-bios", {"keymap": "de", "action": "upgrade", "existing_disk": "sda",
                                   "source_type": "url", "source_location": "http://example.org/tree"}),
    "restore": ("installed-bios", {"action": "restore", "existing_disk": "sda", "password_hash": HASH}),
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_config_from_choices_matches_golden_and_plans(case):
    name, changes = CONFIGS[case]
    m = machine(name)
    cfg = wizard.to_config(dataclasses.replace(wizard.defaults(m), **changes), m)
    check_golden(f"wizard-config-{case}.json", cfg.to_dict())
    plan = make_plan(cfg, m, FIXED_IDS, PRODUCT)        # every config the wizard makes is plannable
    assert plan.mode == cfg.mode.value
    if cfg.mode != Mode.FRESH:
        assert plan.primary().path == "/dev/sda" and not plan.primary().wipe
