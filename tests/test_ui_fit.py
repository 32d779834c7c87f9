"""Every screen at 80x24 with the longest realistic values (40-character disk models, 20-character
serials, NVMe names such as nvme10n1, 15-character NIC names, long host names and URLs) and with the
errors every check gives for long bad values: nothing is cut (the whole screen is in view, the
title row too), no text runs into the right edge or back to the left one, and long lists scroll
inside their box with Next still on screen."""
from __future__ import annotations

import dataclasses
import errno
import os
import re
import urllib.error

import pytest
import urwid

from installer import fetch, machine as machine_mod, wizard
from installer.engine import Outcome
from installer.machine import NIC, Disk
from installer.ui import drive
from installer.ui.app import SIZE, App
from installer.ui.progress import DoneScreen, ProgressScreen
from installer.ui.widgets import Choice
from installer.wizard_backend import DryRunBackend

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = "SAMSUNG MZQL23T8HCLS-00A07 PM9A3 U.2 NVM"     # 40 characters: the longest ATA/NVMe model
SERIAL = "S64HNE0T123456A7B8C9"                        # 20 characters: the longest ATA/NVMe serial
HOST = "a-very-long-host-name-for-this-server.rack-17.datacenter-frankfurt.example.com"
URL = "http://installer-mirror.rack-17.datacenter-frankfurt.example.com/xenhost/8.3/tree"
BODY_ROWS = SIZE[1] - 3           # the product line, the title, the help line
BODY_WIDTH = SIZE[0] - 2          # a column of margin on each side




def long_machine() -> machine_mod.Machine:
    """installed-bios (an installation and its backup on sda; BIOS boot) with the longest names,
    little memory and no VT-x (the hardware screen), a disk too small and a busy one."""
    m = machine_mod.load(os.path.join(HERE, "machines", "installed-bios.json"))
    sda = dataclasses.replace(m.disks[0], model=MODEL, serial=SERIAL)

    def disk(name, size, **kw):
        return Disk(name, size, model=MODEL, serial=SERIAL, **kw)
    disks = [sda, disk("nvme10n1", 3840 * 10**9), disk("nvme11n1", 3840 * 10**9), disk("nvme12n1", 40 << 30),
             disk("nvme13n1", 960 * 10**9, in_use=["mounted at /run/install/media/some/long/mount/point"])]
    nics = [NIC("enp129s0f1np1", "0c:42:a1:23:45:67", "mlx5_core", True, 100000),
            NIC("enp129s0f0np0", "0c:42:a1:23:45:66", "mlx5_core", False, None)]
    return dataclasses.replace(m, disks=disks, nics=nics, memory_mib=768, virtualization="")


def long_app(tmp_path, m: machine_mod.Machine | None = None) -> App:
    m = m or long_machine()
    return App(m, DryRunBackend(m, str(tmp_path / "run")), eula="THE LICENSE\n" + "words " * 400)


def good(c: wizard.Choices) -> None:
    """Valid choices with the longest values."""
    c.primary_disk, c.raid_partner, c.guest_disks = "nvme10n1", "nvme11n1", ["sda"]
    c.nic, c.ipv4_mode, c.ipv4_address, c.ipv4_netmask, c.ipv4_gateway = \
        "enp129s0f1np1", "static", "192.0.2.10", "255.255.255.0", "192.0.2.1"
    c.ipv6_mode, c.ipv6_address, c.ipv6_gateway = "static", "2001:db8:1234:5678:9abc:def0:1234:5678/64", \
        "2001:db8:1234:5678::1"
    c.vlan, c.hostname_mode, c.hostname, c.dns_mode = "4094", "manual", HOST, "manual"
    c.name_servers = ["2001:db8:1234:5678:9abc:def0:1234:53", "2001:db8:1234:5678:9abc:def0:1234:54", "192.0.2.53"]
    c.tz_region, c.tz_city = "America", "Argentina/ComodRivadavia"
    c.ntp_mode, c.ntp_servers = "manual", ["ntp1.rack-17.datacenter-frankfurt.example.com",
                                           "ntp2.rack-17.datacenter-frankfurt.example.com"]
    c.source_type, c.source_location, c.verify_source = "url", URL, True
    c.ssh_key = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHhxGKqXiNRovQ7J0GDiX7IRqsz7tt/rJtCVj5UBS3/o "
                 "operator-with-a-long-name@workstation.rack-17.datacenter-frankfurt.example.com")
    c.eula_accepted = True


def bad(c: wizard.Choices) -> None:
    """Long values every check refuses, each with its longest message."""
    good(c)
    c.ipv4_address, c.ipv4_netmask, c.ipv4_gateway = "192.0.2.300", "255.0.255.0", "198.51.100.1"
    c.ipv6_address, c.ipv6_gateway = "2001:db8:1234:5678:9abc:def0:1234:5678/129", "2001:db9::1"
    c.vlan = "40950"
    c.hostname = HOST.replace(".", "_")
    c.name_servers = ["2001:db8:1234:5678:9abc:def0:1234:zz53", "192.0.2.530"]
    c.ntp_servers = ["ntp1_rack-17!datacenter-frankfurt.example.com", "-bad-"]
    c.source_location = URL.replace("http://", "htp://")
    c.ssh_key = "ssh-ed25519 AAAA-not-base64 operator@workstation.rack-17.datacenter-frankfurt.example.com"
    c.eula_accepted = False


PASTED = "    inet 192.0.2.10/24 brd 192.0.2.255 scope global dynamic noprefixroute enp129s0f1np1 " * 4


def pasted(c: wizard.Choices) -> None:
    """A 340-character line of `ip addr` output pasted into every text field."""
    bad(c)
    for name in ("ipv4_address", "ipv4_netmask", "ipv4_gateway", "ipv6_address", "ipv6_gateway", "vlan",
                 "hostname", "ssh_key", "source_location"):
        setattr(c, name, PASTED)
    c.name_servers, c.ntp_servers = [PASTED], [PASTED]


def unreachable(_cfg):
    raise fetch.failure(urllib.error.URLError(OSError(errno.EHOSTUNREACH, "No route to host")), URL)


def body_rows(widgets) -> int:
    return sum(w.rows((BODY_WIDTH,), False) for w in widgets)


def assert_fits(app: App, whole: bool = True) -> list[str]:
    """whole: the screen's body is in view whole (else it may scroll, the cursor's row in view)."""
    out = drive.render(app)
    text = "\n".join(out)
    assert len(out) == SIZE[1] and all(len(line) <= SIZE[0] for line in out), text
    assert out[1].strip() == app.current.title, text              # the title row is in view
    for line in out[2:-1]:
        assert not line[:1].strip(), f"text at the left edge:\n{text}"
        assert len(line) < SIZE[0], f"text in the last column:\n{text}"
    walker = getattr(app.current, "walker", None)
    if walker is not None and not app.help_shown and whole:       # the whole screen is in view: nothing scrolled off the top or bottom
        assert body_rows(walker) <= BODY_ROWS, text
    return out


@pytest.mark.parametrize("name", wizard.SCREENS)
@pytest.mark.parametrize("values", [good, bad, pasted])
def test_every_screen_fits_80x24_with_long_values_and_every_error(tmp_path, monkeypatch, name, values):
    # the Secure Boot screen on a machine where it shows (Next on "Stop here" asks over the screen)
    app = long_app(tmp_path, dataclasses.replace(long_machine(), boot_mode="uefi", secure_boot=True)
                   if name == "secure-boot" else None)
    monkeypatch.setattr(app.session.backend, "verify_source", unreachable)
    (good if name in ("verify", "summary") else values)(app.session.choices)     # they check no field
    if name == "install-type":
        app.session.choices.action, app.session.choices.existing_disk = "upgrade", "sda"
    app.show(name)
    assert_fits(app)
    if values is not good and name != "summary":
        errors = app.current.save()  # the screen's own checks, their errors under the fields
        # junk pasted into every field at once may scroll the screen (the errors quote it cut short)
        out = assert_fits(app, whole=values is not pasted)
        marked = [f for n, f in app.current.fields.items() if n in errors]
        if marked and values is pasted:
            first = marked[0]
            assert drive.focused(app) is first and first.error[:30] in " ".join(" ".join(out).split())
            assert all(len(q) <= 32 + 2 for q in re.findall(r"'[^']*'", first.error)), first.error
        for f in app.current.fields.values() if values is not pasted else ():   # options side by side keep their label (urwid drops what does not fit)
            if isinstance(f, Choice) and isinstance(f.main, urwid.Columns):
                label = f.main.contents[0][0].text
                assert any(line[1:].startswith(label) and all(b.label in line for b in f.buttons.values())
                           for line in out), f"{f.name}: {label}\n" + "\n".join(out)


def test_the_long_values_give_long_errors(tmp_path, monkeypatch):
    """The errors the fit test renders are there, long, and wrap under their text."""
    app = long_app(tmp_path)
    monkeypatch.setattr(app.session.backend, "verify_source", unreachable)
    good(app.session.choices)
    app.show("verify")
    app.current.save()
    out = assert_fits(app)
    error = [i for i, line in enumerate(out) if "! the source could not be verified" in line][0]
    assert out[error + 1].startswith(" " * 3) and out[error + 1].strip()     # wrapped under its text
    assert "cannot reach installer-mirror.rack-17.datacenter-frankfurt.example.com: no route to host" in \
        " ".join(" ".join(out).split())


def test_disk_lines_keep_model_and_serial_whole(tmp_path):
    app = long_app(tmp_path)
    good(app.session.choices)
    app.show("primary-disk")
    out = assert_fits(app)
    first = next(i for i, line in enumerate(out) if "nvme10n1" in line)
    assert out[first].rstrip().endswith(MODEL) and "3.5 TiB" in out[first]
    assert out[first + 1].strip() == f"serial {SERIAL}; now: empty"
    small = next(i for i, line in enumerate(out) if "nvme12n1" in line)
    assert out[small + 2].strip() == "(not usable: too small: 40.0 GiB, at least 46.0 GiB needed)"
    assert out[small + 2].startswith(" " * 5)                       # under the disk, not at the edge
    app.show("raid")
    out = assert_fits(app)
    raid = next(i for i, line in enumerate(out) if "RAID1 with nvme11n1" in line)
    assert out[raid].rstrip().endswith(MODEL) and out[raid + 1].strip() == f"serial {SERIAL}; now: empty"


@pytest.mark.parametrize("name,field", [("keymap", "keymap"), ("timezone", "region"), ("timezone", "city")])
def test_long_lists_scroll_in_their_box_and_next_stays_on_screen(tmp_path, name, field):
    app = long_app(tmp_path)
    good(app.session.choices)
    app.session.choices.tz_region, app.session.choices.tz_city = "America", "New_York"
    app.show(name)
    choice = drive.field(app, field)
    drive.focus(app, choice)
    for key in ("end", "page down", "down"):          # to the end of the list, by page and line
        for _ in range(len(choice.buttons) if key == "down" else 1):
            drive.press(app, key)
        out = assert_fits(app)
        assert "< Next >" in "\n".join(out)
        picked = choice.under_cursor
        assert any(line.strip(" |").endswith(f"( ) {picked}") or line.strip(" |").endswith(f"(X) {picked}")
                   for line in out), f"{picked} not in view:\n" + "\n".join(out)
    assert choice.under_cursor == list(choice.buttons)[-1]
    drive.press(app, " ")
    drive.next_(app)
    assert app.current.name != name


def test_progress_and_outcome_screens_fit(tmp_path):
    app = long_app(tmp_path)
    good(app.session.choices)
    app.config = wizard.to_config(app.session.choices, app.session.machine)
    progress = ProgressScreen(app)
    app._set(progress)
    progress.event({"type": "step-start", "index": 12, "total": 14,
                    "title": "Writing the boot loader configuration and the Xen and dom0 command lines"})
    progress.event({"type": "progress", "step": "bootloader", "ratio": 0.5, "overall": 0.9})
    progress.event({"type": "warning", "step": "bootloader", "message": "x" * 60 + " " + URL * 5})
    assert_fits(app)
    assert body_rows([progress.summary]) <= BODY_ROWS
    for outcome in (Outcome(True), Outcome(False, "bootloader", ("grub-install failed: " + URL + " ") * 4)):
        app._set(DoneScreen(app, outcome))
        assert_fits(app)
    backend = app.session.backend
    backend.run_dir = str(tmp_path / "a" / ("very-long-directory-name-" * 3) / "run")
    app._set(DoneScreen(app, Outcome(True)))
    assert_fits(app)


def test_help_screens_fit(tmp_path):
    app = long_app(tmp_path)
    good(app.session.choices)
    for name in wizard.SCREENS:
        app.show(name)
        drive.press(app, "f1")
        out = assert_fits(app)
        assert app.current.help.split()[0] in out[2]
        drive.press(app, "f1")


def test_a_greyed_option_wraps_under_its_label():
    choice = Choice("x", [("a", "usable", ""), ("b", "sdb " + MODEL, "in use: " + "mounted at /long/path " * 4)])
    rows = [line.decode().rstrip() for line in choice.render((BODY_WIDTH,)).text]
    assert all(line.startswith("    ") for line in rows[2:]), rows
    assert isinstance(choice.main, urwid.Pile)


def test_a_long_summary_scrolls_in_its_box_with_the_warning_first_and_install_in_view(tmp_path):
    app = long_app(tmp_path)
    good(app.session.choices)
    app.show("summary")
    out = assert_fits(app)
    text = "\n".join(out)
    assert "ALL DATA ON THESE 3 DISKS WILL BE ERASED:" in text and "< Install >" in text
    assert "Source: HTTP/FTP" not in text                     # below, in the box
    assert drive.focused(app) is app.current.walker[-1]        # Install has the cursor
    assert app.keys_line().startswith("Up/Down: scroll  ")
    drive.press(app, "up")                                     # into the box, then scroll it
    drive.press(app, *["down"] * 30)
    out = assert_fits(app)
    assert "Source: HTTP/FTP" in " ".join(" ".join(out).split()), "\n".join(out)
    assert "< Install >" in "\n".join(out)
    drive.press(app, "tab")
    assert drive.focused(app) is app.current.walker[-1]


def test_a_short_summary_does_not_scroll(tmp_path):
    m = long_machine()
    app = long_app(tmp_path, dataclasses.replace(m, disks=m.disks[1:2]))
    good(app.session.choices)
    c = app.session.choices
    c.raid_partner, c.guest_disks = "", []
    app.show("summary")
    assert_fits(app)
    assert not app.current.scrolls and "Source: HTTP/FTP" in drive.screen_text(app)
    assert not app.keys_line().startswith("Up/Down")


def test_the_license_is_reflowed_to_its_box():
    from installer.ui.screens.eula import paragraphs
    text = ("This program is free software; you can redistribute it and/or modify it under the\n"
            "terms of the GNU General Public License as published by the Free Software\n"
            "\n"
            "  1. an indented line stays a line\n"
            "- a list item\n"
            "  continues\n")
    assert paragraphs(text) == [
        "This program is free software; you can redistribute it and/or modify it under the terms of "
        "the GNU General Public License as published by the Free Software",
        "", "  1. an indented line stays a line", "- a list item", "  continues"]
