"""The wizard's screens, rendered by urwid at 80x24 (no terminal) and driven with keys."""
from __future__ import annotations

import dataclasses
import os

import pytest

from installer import machine as machine_mod, passwd, wizard
from installer.wizard_backend import DryRunBackend
from installer.ui import drive
from installer.ui.app import App
from installer.ui.progress import ProgressScreen

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHhxGKqXiNRovQ7J0GDiX7IRqsz7tt/rJtCVj5UBS3/o ops@example"
FRESH = {"keymap": {}, "welcome": {}, "eula": {"accept": ["yes"]},
         "password": {"password": "secret123", "confirm": "secret123"}}


def load(name: str, **changes) -> machine_mod.Machine:
    return dataclasses.replace(machine_mod.load(os.path.join(HERE, "machines", f"{name}.json")), **changes)


def app_for(m: machine_mod.Machine, tmp_path) -> App:
    return App(m, DryRunBackend(m, str(tmp_path / "run")), eula="THE LICENSE\nsecond line")


def go_to(app: App, screen: str, answers: dict | None = None) -> None:
    """Answer and leave every screen before `screen` (FRESH answers unless given)."""
    answers = {**FRESH, **(answers or {})}
    while app.current.name != screen:
        for name, value in answers.get(app.current.name, {}).items():
            drive.set_value(app, name, value)
        before = app.current
        drive.next_(app)
        assert app.current is not before, f"{before.name} refused: {drive.errors(app)}"


def lines(app: App) -> list[str]:
    out = drive.render(app)
    assert len(out) == 24 and all(len(line) <= 80 for line in out)
    return out


def test_every_screen_fits_80x24_with_title_and_help_line(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    answers = drive.load_answers(os.path.join(HERE, "answers", "uefi-3disks-static.toml"))
    seen = []
    while isinstance(app.current, drive.Screen):
        out = lines(app)
        assert app.current.title in out[1] and out[-1].strip() == app.keys_line()
        seen.append(app.current.name)
        for name, value in answers.get(app.current.name, {}).items():
            drive.set_value(app, name, value)
        drive.next_(app)
    assert seen == ["keymap", "welcome", "eula", "primary-disk", "raid", "guest-disks", "sr-type", "password",
                    "nic", "network", "hostname-dns", "timezone", "ntp", "source", "verify", "summary"]
    assert "Dry run complete" in drive.screen_text(app)


def test_tab_visits_fields_in_order_then_back_and_next(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "network")
    drive.choose(app, "ipv4_mode", "static")        # the address fields apply (greyed and skipped with DHCP)
    drive.choose(app, "ipv6_mode", "static")
    drive.focus(app, drive.field(app, "ipv4_mode"))
    order = []
    for _ in range(12):
        w = drive.focused(app)
        order.append(getattr(w, "name", None) or ["Next", "Back"][w.focus_position])
        drive.press(app, "tab")
    assert order == ["ipv4_mode", "ipv4_address", "ipv4_netmask", "ipv4_gateway", "ipv6_mode", "ipv6_address",
                     "ipv6_gateway", "vlan", "Next", "Back", "ipv4_mode", "ipv4_address"]


def test_field_errors_appear_next_to_the_field_and_block_next(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "network")
    drive.choose(app, "ipv4_mode", "static")
    drive.type_text(app, "ipv4_address", "192.0.2.300")
    drive.type_text(app, "ipv4_netmask", "24")
    drive.type_text(app, "ipv4_gateway", "198.51.100.1")
    drive.type_text(app, "vlan", "5000")
    drive.next_(app)
    assert app.current.name == "network"
    errors = drive.errors(app)
    assert "192.0.2.300" in errors["ipv4_address"] and "1 to 4094" in errors["vlan"]
    text = drive.screen_text(app)
    address_line = text.splitlines().index(next(x for x in text.splitlines() if "Address:" in x))
    assert text.splitlines()[address_line + 1].strip().startswith("! expected an IPv4 address")
    # a fixed address clears its error; the gateway is now checked against the subnet
    drive.type_text(app, "ipv4_address", "192.0.2.10")
    drive.type_text(app, "vlan", "")
    drive.next_(app)
    assert app.current.name == "network"         # Next was refused: only the gateway is left marked
    assert set(drive.errors(app)) == {"ipv4_gateway", "(screen)"}
    assert "192.0.2.0/24" in drive.errors(app)["ipv4_gateway"]
    drive.type_text(app, "ipv4_gateway", "192.0.2.1")
    drive.next_(app)
    assert app.current.name == "hostname-dns"


def test_password_rules(tmp_path):
    app = app_for(load("bios-1disk"), tmp_path)
    go_to(app, "password")
    drive.type_text(app, "password", "short")
    drive.next_(app)
    assert "at least 6 characters (it has 5)" in drive.errors(app)["password"]
    assert "short" not in drive.screen_text(app)          # masked on screen
    drive.type_text(app, "password", "long enough")
    drive.type_text(app, "confirm", "long enougH")
    drive.type_text(app, "ssh_key", "ssh-ed25519 AAAA-not-base64")
    drive.next_(app)
    assert drive.errors(app)["confirm"] == "the two passwords differ"
    assert "base64" in drive.errors(app)["ssh_key"]
    drive.type_text(app, "confirm", "long enough")
    drive.type_text(app, "ssh_key", KEY)
    drive.next_(app)
    assert app.current.name == "nic"
    assert passwd.verify("long enough", app.session.choices.password_hash)


def test_back_and_next_keep_what_was_typed(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "password")
    drive.type_text(app, "password", "secret123")
    drive.type_text(app, "confirm", "secret123")
    drive.next_(app)
    drive.choose(app, "nic", "eth1")
    drive.next_(app)
    drive.choose(app, "ipv4_mode", "static")
    drive.type_text(app, "ipv4_address", "10.1.2.3")     # not yet valid as a whole: no netmask
    drive.press(app, "esc")                              # Back keeps unchecked values too
    assert app.current.name == "nic" and drive.field(app, "nic").value == "eth1"
    drive.press(app, "esc")
    assert app.current.name == "password" and drive.field(app, "password").value == "secret123"
    drive.next_(app)
    drive.next_(app)
    assert app.current.name == "network"
    assert drive.field(app, "ipv4_mode").value == "static" and drive.field(app, "ipv4_address").value == "10.1.2.3"


def test_summary_names_every_disk_to_be_erased(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    answers = drive.load_answers(os.path.join(HERE, "answers", "uefi-3disks-static.toml"))
    answers["primary-disk"] = {"disk": "sda"}
    answers["raid"] = {"partner": "sdb"}
    answers["guest-disks"] = {"disks": ["sdc"]}
    go_to(app, "summary", answers)
    text = drive.screen_text(app)
    assert "ALL DATA ON THESE 3 DISKS WILL BE ERASED:" in text
    for disk, size in (("sda", "100.0 GiB"), ("sdb", "500.0 GiB"), ("sdc", "1000.0 GiB")):
        assert f"/dev/{disk} ({size}" in text
    assert "RAID1 of sda and sdb" in text
    # going back and dropping the guest disk drops it from the summary too
    drive.press(app, "esc")
    while app.current.name != "guest-disks":
        drive.press(app, "esc")
    drive.tick(app, "disks", [])
    go_to(app, "summary", answers | {"guest-disks": {}})
    text = drive.screen_text(app)
    assert "THESE 2 DISKS" in text and "/dev/sdc" not in text


def test_unusable_disks_are_shown_greyed_with_the_reason(tmp_path):
    app = app_for(load("usb-media"), tmp_path)
    go_to(app, "primary-disk")
    text = drive.screen_text(app)
    assert " -  sdb" in text and "not usable: holds the installer media" in text
    assert set(drive.field(app, "disk").buttons) == {"sda"}
    with pytest.raises(drive.DriveError, match="no selectable option 'sdb'"):
        drive.choose(app, "disk", "sdb")


def test_a_disk_too_small_is_refused_on_screen(tmp_path):
    # small-disk alone stops on Welcome (tests/test_ui_done.py); beside a big disk it is greyed
    small = load("small-disk")
    app = app_for(dataclasses.replace(small, disks=[*small.disks, dataclasses.replace(
        load("bios-1disk").disks[0], name="sdb")]), tmp_path)
    go_to(app, "primary-disk")
    assert "not usable: too small: 40.0 GiB, at least 46.0 GiB needed" in drive.screen_text(app)
    assert set(drive.field(app, "disk").buttons) == {"sdb"}
    with pytest.raises(drive.DriveError, match="no selectable option 'sda'"):
        drive.choose(app, "disk", "sda")


@pytest.mark.parametrize("missing,message", [("disks", "No disk was found"),
                                             ("nics", "No network interface was found")])
def test_welcome_blocks_without_disk_or_nic(tmp_path, missing, message):
    app = app_for(load("bios-1disk", **{missing: []}), tmp_path)
    drive.next_(app)
    assert app.current.name == "welcome" and message in drive.screen_text(app)
    with pytest.raises(drive.DriveError, match="'welcome' has no Next button"):
        drive.next_(app)
    drive.press(app, "f2")
    assert app.session.backend.actions[-1] == "shell"


def test_hardware_warnings(tmp_path):
    app = app_for(load("bios-1disk", memory_mib=768, virtualization=""), tmp_path)
    go_to(app, "hardware")
    text = drive.screen_text(app)
    assert "768 MiB of RAM; at least 1024 MiB" in text and "no hardware virtualization" in text
    assert "legacy BIOS mode" in text
    drive.next_(app)
    assert app.current.name == "primary-disk"


def test_no_hardware_screen_on_a_good_uefi_machine(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "primary-disk")
    assert "hardware" not in app.history


def test_install_type_offers_upgrade_and_restore(tmp_path):
    app = app_for(load("installed-bios"), tmp_path)
    go_to(app, "install-type")
    choice = drive.field(app, "action")
    assert set(choice.buttons) == {"fresh", "upgrade:sda", "restore:sda"}
    drive.choose(app, "action", "upgrade:sda")
    drive.next_(app)
    assert app.current.name == "source"      # an upgrade keeps the host's settings: no disk or network screens
    go_to(app, "summary", {"verify": {"verify": "skip"}})
    assert "Upgrade the installation on /dev/sda" in drive.screen_text(app)
    drive.next_(app)
    assert app.config.mode.value == "upgrade" and app.config.existing_installation.path == "/dev/sda"


@pytest.mark.parametrize("changes,reason", [
    ({"boot_mode": "uefi"}, "installed for BIOS boot, but the installer was booted in UEFI mode"),
    ({"installations": [machine_mod.Installation("sda", "Xenhost", "0.1.0", booted=False)]},
     "this installation never completed its first boot"),
    ({"installations": [machine_mod.Installation("sda", "Xenhost", "9.0.0")]},
     "version 9.0.0 is newer than this installer's 0.1.0"),
])
def test_install_type_says_why_an_installation_is_not_offered(tmp_path, changes, reason):
    app = app_for(load("installed-bios", **changes), tmp_path)
    go_to(app, "install-type", {"hardware": {}})
    text = " ".join(drive.screen_text(app).split())
    assert f"not usable: {reason}" in text and f"not offered for upgrade: {reason}" in text
    assert "upgrade:sda" not in drive.field(app, "action").buttons


def test_eula_must_be_accepted(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "eula", {"eula": {}})
    assert "THE LICENSE" in drive.screen_text(app)
    drive.next_(app)
    assert drive.errors(app)["accept"] == "accept the license to install"


def test_keymap_is_applied_when_chosen(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    drive.choose(app, "keymap", "fr")
    drive.next_(app)
    assert app.session.backend.actions == ["loadkeys fr"]


def test_typing_letters_moves_to_the_matching_option(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    keymaps = drive.field(app, "keymap")
    drive.focus(app, keymaps)
    drive.press(app, "f", "r", "-")
    assert keymaps.under_cursor == "fr-latin1"
    drive.press(app, "down", "d")               # after a move, a letter finds the next option with it
    assert keymaps.under_cursor == "dvorak"
    drive.press(app, "u", "s")                  # cycles past the end
    assert keymaps.under_cursor == "us"
    drive.press(app, "d", "v")
    assert keymaps.under_cursor == "dvorak"
    drive.press(app, "enter")                   # picks what is under the cursor and moves on
    assert keymaps.value == "dvorak"
    drive.next_(app)
    assert app.session.backend.actions == ["loadkeys dvorak"]


def test_typing_a_letter_no_option_has_changes_nothing(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "timezone")
    drive.choose(app, "region", "Europe")
    city = drive.field(app, "city")
    drive.focus(app, city)
    drive.press(app, "P", "a")
    assert city.under_cursor == "Paris"
    drive.press(app, "7")
    assert city.under_cursor == "Paris" and city.value != "Paris"


def test_timezone_region_changes_the_city_list(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "timezone")
    drive.choose(app, "region", "America")
    assert "New_York" in drive.field(app, "city").buttons and "Paris" not in drive.field(app, "city").buttons
    drive.choose(app, "city", "New_York")
    drive.next_(app)
    assert app.session.choices.tz_region == "America" and wizard.timezone_name(app.session.choices) == "America/New_York"


def test_static_network_needs_a_host_name_and_name_servers(tmp_path):
    app = app_for(load("bios-1disk"), tmp_path)
    go_to(app, "hostname-dns", {"network": {"ipv4_mode": "static", "ipv4_address": "192.0.2.10",
                                            "ipv4_netmask": "255.255.255.0"}})
    drive.next_(app)
    errors = drive.errors(app)
    assert "host name" in errors["hostname"] and "name server" in errors["name_servers"]


def test_source_url_is_checked(tmp_path):
    app = app_for(load("bios-1disk"), tmp_path)
    go_to(app, "source")
    drive.choose(app, "source_type", "url")
    drive.type_text(app, "location", "server/xenhost")
    drive.next_(app)
    assert "expected a URL starting with http://" in drive.errors(app)["location"]
    drive.choose(app, "source_type", "nfs")
    drive.type_text(app, "location", "nfs.example.com:/export/xenhost")
    drive.next_(app)
    assert app.current.name == "verify"


def test_f1_shows_the_screens_help(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "sr-type")
    drive.press(app, "f1")
    assert "thin-provisioned VHD files" in drive.screen_text(app)
    drive.press(app, "f1")
    assert "Local storage repository type:" in drive.screen_text(app)


def test_progress_screen_follows_the_events(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    progress = ProgressScreen(app)
    app._set(progress)
    progress.event({"type": "step-start", "index": 3, "total": 7, "title": "Laying down the root file system"})
    progress.event({"type": "progress", "step": "laydown", "ratio": 0.5, "overall": 0.36})
    progress.event({"type": "log", "step": "laydown", "message": "unpacked 1200 files"})
    text = drive.screen_text(app)
    assert "Step 3 of 7: Laying down the root file system" in text
    assert " 50 %" in text and " 36 %" in text and "unpacked 1200 files" in text
    assert "Elapsed: 0:0" in text
    drive.press(app, "l")
    assert "L: back to progress" in drive.screen_text(app)


def test_failure_screen_names_the_step_and_the_logs(tmp_path):
    m = load("uefi-3disks")
    app = app_for(m, tmp_path)
    go_to(app, "summary", drive.load_answers(os.path.join(HERE, "answers", "uefi-3disks-static.toml")))
    gone = dataclasses.replace(m, disks=m.disks[:1])                  # sdb vanished after the summary
    app.session.machine = app.session.backend.machine = gone
    drive.next_(app)
    text = " ".join(drive.screen_text(app).split())
    assert "Dry run FAILED" in text and "Planning the install failed:" in text and "/dev/sdb does not exist" in text
    unwrapped = "".join(line.strip() for line in drive.render(app))     # long paths wrap anywhere
    assert str(tmp_path / "run" / "installer.log") in unwrapped and "events.jsonl" in unwrapped
    drive.press(app, "enter")                       # the cursor starts on Reboot
    assert app.session.backend.actions[-1] == "reboot"


def test_the_network_screen_names_the_interface_chosen_last(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "network", {"nic": {"nic": "eth1"}})
    assert "Interface:            eth1" in drive.screen_text(app)
    drive.press(app, "esc")
    drive.choose(app, "nic", "eth0")
    drive.next_(app)
    assert app.current.name == "network" and "Interface:            eth0" in drive.screen_text(app)


def test_disk_lists_name_what_an_installed_disk_holds(tmp_path):
    app = app_for(load("installed-bios"), tmp_path)
    go_to(app, "primary-disk")
    text = " ".join(drive.screen_text(app).split())
    assert "now: an installation (version not read), its backup, a local SR (4 logical volumes)" in text
    assert "now: empty" in text
