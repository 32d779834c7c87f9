"""The wizard's keys: Ctrl-C asks before quitting (on a real pseudo-terminal too), the cursor starts
where hands expect it, Esc and Enter do one thing, errors go once stale, the help line tells the
keys that work. Rendered by urwid at 80x24 and driven with keys (installer/ui/drive.py)."""
from __future__ import annotations

import os
import termios
import threading
import time

import pytest
import urwid

from installer import machine as machine_mod
from installer.wizard_backend import Backend, DryRunBackend
from installer.ui import drive, launch
from installer.ui.app import App
from installer.ui.progress import ProgressScreen
from test_ui_terminal import Pty
from test_ui_views import FRESH, app_for, go_to, load

HERE = os.path.dirname(os.path.abspath(__file__))


def focused_name(app: App) -> str:
    """The field under the cursor, the button's label in a button row, else "(text)"."""
    w = drive.focused(app)
    if hasattr(w, "name"):
        return w.name
    if isinstance(w, urwid.Columns):
        return w.contents[w.focus_position][0].base_widget.label
    return "(text)"


# -- Ctrl-C ------------------------------------------------------------------------------------

def test_ctrl_c_asks_before_quitting(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "network")
    drive.press(app, "ctrl c")
    text = drive.screen_text(app)
    assert "Quit the installer? Nothing has been written to the disks." in text
    assert "< Continue >" in text and "< Quit >" in text and "Management network" in text
    assert drive.render(app)[-1].strip() == "Tab: next button  Enter: press  Esc: Continue"
    drive.press(app, "tab")                         # only the dialog's buttons: the screen keeps its cursor
    drive.press(app, "esc")                         # Esc is Continue, not Back
    assert app.current.name == "network" and "Quit the installer?" not in drive.screen_text(app)
    assert not app.quit_chosen and focused_name(app) == "ipv4_mode"
    drive.press(app, "ctrl c", "enter")             # the cursor starts on Continue
    assert not app.quit_chosen and app.dialog is None
    drive.press(app, "ctrl c", "tab", "enter")      # Quit
    assert app.quit_chosen


def test_ctrl_c_never_stops_the_install(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    app._set(ProgressScreen(app))
    drive.press(app, "ctrl c")
    text = drive.screen_text(app)
    assert "The install is running and cannot be stopped safely" in text and "Quit" not in text
    drive.press(app, "tab", "enter")                # Continue is the only answer
    assert not app.quit_chosen and "cannot be stopped" not in drive.screen_text(app)


def wait_for(term: Pty, words: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while words not in "\n".join(term.lines()):
        assert time.monotonic() < deadline, f"no {words!r}:\n" + "\n".join(term.lines())
        time.sleep(0.05)


def run_operator(keys_then_checks) -> list:
    failures: list = []

    def operator():
        try:
            keys_then_checks()
        except AssertionError as exc:
            failures.append(exc)
    threading.Thread(target=operator, daemon=True).start()
    return failures


def test_ctrl_c_on_a_terminal_asks_then_quits_and_gives_the_terminal_back(tmp_path, monkeypatch):
    m = load("bios-1disk")
    app = App(m, DryRunBackend(m, str(tmp_path / "run")))
    monkeypatch.setenv("TERM", "dumb")
    term = Pty()
    before = termios.tcgetattr(term.slave)

    def operator():
        term.wait_title("Keyboard layout")
        os.write(term.master, b"\x03")                # what the terminal sends for Ctrl-C
        wait_for(term, "Quit the installer?")
        assert "Traceback" not in "\n".join(term.lines())
        os.write(term.master, b"\r")                  # Continue
        deadline = time.monotonic() + 10
        while "Quit the installer?" in "\n".join(term.lines()):
            assert time.monotonic() < deadline, "\n".join(term.lines())
            time.sleep(0.05)
        os.write(term.master, b"\x03")
        wait_for(term, "Quit the installer?")
        os.write(term.master, b"\t\r")                # Quit
    failures = run_operator(operator)
    with launch.terminal(os.ttyname(term.slave)) as (screen, tty):
        app.run(screen, tty)
    assert not failures, failures[0]
    assert app.quit_chosen
    after = termios.tcgetattr(term.slave)           # echo, line editing and Ctrl-C as a signal again
    assert after[3] == before[3] and after[6][termios.VINTR] == before[6][termios.VINTR] == b"\x03"


def test_quitting_at_boot_opens_a_shell_then_the_wizard_comes_back(tmp_path, monkeypatch):
    m = load("bios-1disk")
    backend = DryRunBackend(m, str(tmp_path / "run"))
    shells = []
    term = Pty()

    def shell():
        shells.append(time.monotonic())
        if len(shells) == 2:
            raise SystemExit(0)                         # ends the test: the second quit
        with term.lock:
            term.screen.reset()                         # what the shell's user saw; the wizard redraws
    monkeypatch.setattr(backend, "shell", shell)
    monkeypatch.setenv("TERM", "dumb")
    app = App(m, backend, quit_note=launch.QUIT_ON_CONSOLE)

    def operator():
        for _ in range(2):
            term.wait_title("Keyboard layout")
            os.write(term.master, b"\x03")
            wait_for(term, "root shell opens on this console; exit it to come back to the")
            os.write(term.master, b"\t\r")
            deadline = time.monotonic() + 10
            while not shells:
                assert time.monotonic() < deadline, "no shell"
                time.sleep(0.05)
    failures = run_operator(operator)
    with pytest.raises(SystemExit):
        launch.keep_console(app, os.ttyname(term.slave))
    assert not failures, failures[0]
    assert len(shells) == 2


def test_the_shell_at_boot_runs_on_the_wizards_console(tmp_path, monkeypatch):
    """The installer's service has no terminal of its own (standard input is /dev/null)."""
    term = Pty()
    ran = []
    monkeypatch.setattr("installer.wizard_backend.subprocess.run",
                        lambda argv, **kw: ran.append((argv, {k: os.ttyname(f.fileno()) for k, f in kw.items()})))
    Backend(load("bios-1disk"), console=os.ttyname(term.slave)).shell()
    device = os.ttyname(term.slave)
    assert ran == [(["/bin/bash", "-l"], {"stdin": device, "stdout": device, "stderr": device})]
    wait_for(term, "Type exit to return to the installer.")


# -- where the cursor is ---------------------------------------------------------------------------

def test_coming_back_to_a_screen_puts_the_cursor_on_its_first_field_not_on_back(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "nic")
    drive.next_(app)
    assert app.current.name == "network" and focused_name(app) == "ipv4_mode"
    drive.focus(app, app.current.walker[-1])
    drive.press(app, "tab", "enter")                # Back, pressed with Enter
    assert app.current.name == "nic" and focused_name(app) == "nic"
    drive.press(app, "enter", "enter")              # keep the NIC, Next
    assert app.current.name == "network" and focused_name(app) == "ipv4_mode"
    drive.press(app, "enter")                       # Enter here goes on, never back again
    assert app.current.name == "network" and focused_name(app) == "ipv6_mode"


def test_every_screen_starts_on_its_first_field_and_the_summary_on_install(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    answers = drive.load_answers(os.path.join(HERE, "answers", "uefi-3disks-static.toml"))
    first, again = {}, {}
    while app.current.name != "summary":
        first[app.current.name] = focused_name(app)
        for name, value in answers.get(app.current.name, {}).items():
            drive.set_value(app, name, value)
        drive.next_(app)
    first["summary"] = focused_name(app)
    while app.history:                              # and coming back with Esc, all the way
        drive.press(app, "esc")
        again[app.current.name] = focused_name(app)
    drive.next_(app)                                # a screen left from Back, entered again
    again["welcome"] = focused_name(app)
    assert again == {n: f for n, f in first.items() if n != "summary"}
    assert first.pop("welcome") == "Next" and first.pop("summary") == "Install"
    assert first.pop("eula") == "(text)"            # the license, to read first
    assert first == {"keymap": "keymap", "primary-disk": "disk", "raid": "partner", "guest-disks": "disks",
                     "sr-type": "sr_type", "password": "password", "nic": "nic", "network": "ipv4_mode",
                     "hostname-dns": "hostname_mode", "timezone": "region", "ntp": "ntp_mode",
                     "source": "source_type", "verify": "verify"}


def test_welcome_asks_before_rebooting(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "welcome")
    row = next(w for w in app.current.walker[:-1] if w.selectable())     # Shell (F2), Reboot
    drive.focus(app, row)
    drive.press(app, "tab", "enter")
    assert "Reboot the machine now?" in drive.screen_text(app) and "reboot" not in app.session.backend.actions
    drive.press(app, "enter")                       # Cancel has the cursor
    assert app.current.name == "welcome" and "reboot" not in app.session.backend.actions
    assert "Reboot the machine now?" not in drive.screen_text(app)
    assert focused_name(app) == "Reboot"
    drive.press(app, "enter", "tab", "enter")      # Reboot, confirmed
    assert app.session.backend.actions[-1] == "reboot"


def test_esc_in_the_help_only_closes_it(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "sr-type")
    drive.press(app, "f1")
    assert "thin-provisioned VHD files" in drive.screen_text(app)
    assert drive.render(app)[-1].strip() == "Up/Down: scroll  F1 or Esc: back to the screen"
    drive.press(app, "tab", "enter")                # no effect on the screen behind the help
    drive.press(app, "esc")
    assert app.current.name == "sr-type" and "Local storage repository type:" in drive.screen_text(app)
    assert focused_name(app) == "sr_type"
    drive.press(app, "esc")                         # now Esc is Back
    assert app.current.name == "guest-disks"


def test_enter_skips_the_fields_that_do_not_apply(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "network")
    text = drive.screen_text(app)
    assert "Address:            -  for static IPv4 only" in text
    assert "Address/prefix:     -  for static IPv6 only" in text
    with pytest.raises(drive.DriveError, match="'ipv4_address' does not apply now"):
        drive.type_text(app, "ipv4_address", "192.0.2.10")
    drive.press(app, "enter")                       # DHCP picked: the static fields are skipped
    assert focused_name(app) == "ipv6_mode"
    drive.press(app, "enter")
    assert focused_name(app) == "vlan"
    drive.press(app, "shift tab", "shift tab")      # and Shift-Tab skips them too
    assert focused_name(app) == "ipv4_mode"
    drive.press(app, "right", "enter")              # Static: its fields apply at once
    assert focused_name(app) == "ipv4_address" and "for static IPv4 only" not in drive.screen_text(app)


def test_local_media_has_no_location_to_type(tmp_path):
    app = app_for(load("bios-1disk"), tmp_path)
    go_to(app, "source")
    assert "URL or NFS path:    -  for HTTP/FTP or NFS only" in drive.screen_text(app)
    drive.press(app, "enter")                       # Local media: straight on to Next
    assert focused_name(app) == "Next"
    drive.choose(app, "source_type", "nfs")
    drive.press(app, "tab")
    assert focused_name(app) == "location"


def test_the_license_box_shows_when_it_has_the_cursor(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "eula", {"eula": {}})
    def frame() -> tuple[str, str]:
        out = [line.strip() for line in drive.render(app)]
        first = next(i for i, line in enumerate(out) if "THE LICENSE" in line)
        return out[first - 1], out[first]
    top, line = frame()
    assert top.startswith("#=====") and line.startswith("#THE LICENSE") and line.endswith("#")
    drive.press(app, "tab")
    assert focused_name(app) == "accept"
    top, line = frame()
    assert top.startswith("+-----") and line.startswith("|THE LICENSE") and line.endswith("|")


# -- stale errors ----------------------------------------------------------------------------------

def test_an_error_goes_when_its_field_changes_and_the_screen_line_with_the_last_one(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "network")
    drive.choose(app, "ipv4_mode", "static")
    drive.type_text(app, "ipv4_address", "192.0.2.300")
    drive.type_text(app, "vlan", "5000")
    drive.next_(app)
    assert set(drive.errors(app)) == {"ipv4_address", "ipv4_netmask", "vlan", "(screen)"}
    drive.type_text(app, "ipv4_address", "192.0.2.3")           # not checked yet: the error was about 192.0.2.300
    assert set(drive.errors(app)) == {"ipv4_netmask", "vlan", "(screen)"}
    assert "192.0.2.300" not in drive.screen_text(app)
    drive.type_text(app, "ipv4_netmask", "24")
    drive.type_text(app, "vlan", "")
    assert drive.errors(app) == {} and "please correct" not in drive.screen_text(app)


def test_a_list_field_error_goes_when_it_is_ticked(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "eula", {"eula": {}})
    drive.next_(app)
    assert "accept" in drive.errors(app) and "please correct" in drive.screen_text(app)
    drive.tick(app, "accept", ["yes"])
    assert drive.errors(app) == {} and "!" not in drive.screen_text(app)


def test_back_drops_the_errors(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    go_to(app, "network")
    drive.choose(app, "ipv4_mode", "static")
    drive.next_(app)
    assert drive.errors(app)
    drive.press(app, "esc")
    drive.next_(app)
    assert app.current.name == "network" and drive.errors(app) == {}
    assert "!" not in drive.screen_text(app)
    assert drive.field(app, "ipv4_mode").value == "static"       # what was chosen stays


# -- the help line ---------------------------------------------------------------------------------

def test_the_help_line_names_the_keys_that_work_here(tmp_path):
    app = app_for(load("uefi-3disks"), tmp_path)
    help_line = {}
    answers = {**FRESH, **drive.load_answers(os.path.join(HERE, "answers", "uefi-3disks-static.toml"))}
    while isinstance(app.current, drive.Screen):
        help_line[app.current.name] = drive.render(app)[-1].strip()
        for name, value in answers.get(app.current.name, {}).items():
            drive.set_value(app, name, value)
        drive.next_(app)
    fields = "Tab: next field  Arrows: move  Space/Enter: select"
    assert help_line.pop("keymap") == f"{fields}  F1: help"                  # the first screen: no Back
    assert help_line.pop("welcome") == "Tab: next button  Enter: press  Esc: back  F1: help  F2: shell"
    assert help_line.pop("summary") == "Tab: next button  Enter: press  Esc: back  F1: help"
    assert set(help_line.values()) == {f"{fields}  Esc: back  F1: help"}
    assert drive.render(app)[-1].strip() == "Tab: next button  Enter: press  F1: help  F2: shell"   # done
    drive.press(app, "f2")
    assert app.session.backend.actions[-1] == "shell"
    app._set(ProgressScreen(app))
    assert drive.render(app)[-1].strip() == "L: show or hide the log  F1: help"
