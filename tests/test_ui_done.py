"""The wizard's ends: the completion screen of a dry run says nothing was written and where its
log, events and answer file are (the log too, in --out); the completion and failure screens both
offer Reboot and Shell, as F1 and docs/tui.md say; a machine whose disks cannot hold the host stops
on Welcome with the reason; a source that cannot be verified is said in words."""
from __future__ import annotations

import dataclasses
import errno
import os
import subprocess
import sys
import urllib.error

import pytest

from installer import fetch, machine as machine_mod, tree as tree_mod, wizard
from installer.engine import Outcome
from installer.ui import drive
from installer.ui.app import App
from installer.ui.progress import DoneScreen
from installer.wizard_backend import DryRunBackend

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def load(name: str, **changes) -> machine_mod.Machine:
    return dataclasses.replace(machine_mod.load(os.path.join(HERE, "machines", f"{name}.json")), **changes)


def app_for(m: machine_mod.Machine, tmp_path) -> App:
    return App(m, DryRunBackend(m, str(tmp_path / "run")), eula="THE LICENSE")


def flat(app: App) -> str:
    return " ".join(drive.screen_text(app).split())


# -- item: the completion screen of a dry run -----------------------------------------------------
def test_a_dry_run_says_nothing_was_written_and_where_its_log_is(tmp_path):
    m = load("uefi-3disks")
    app = app_for(m, tmp_path)
    drive.run_answers(app, drive.load_answers(os.path.join(HERE, "answers", "uefi-3disks-static.toml")))
    assert app.outcome.success and app.current.title == "Dry run complete"
    text = flat(app)
    assert "Nothing was written to any disk" in text
    assert "is installed" not in text and "reboot into the new host" not in text
    run = tmp_path / "run"
    unwrapped = "".join(line.strip() for line in drive.render(app))
    for name in ("installer.log", "events.jsonl", "answerfile.xml"):
        assert str(run / name) in unwrapped
    log = (run / "installer.log").read_text()
    assert "laydown" in log or "partition" in log, log[:500]         # the engine's own log lines
    assert "correct horse" not in log


def test_the_command_line_writes_the_log_to_out(tmp_path):
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "installer", "tui", "--machine", "tests/machines/uefi-3disks.json",
                          "--answers", "tests/answers/uefi-3disks-static.toml", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert {"installer.log", "events.jsonl", "answerfile.xml"} <= set(os.listdir(out))
    assert os.path.getsize(out / "installer.log") > 0
    assert "Dry run complete" in res.stdout and "Nothing was written to any disk" in " ".join(res.stdout.split())
    first = (out / "installer.log").read_text()
    again = subprocess.run(res.args, cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    second = (out / "installer.log").read_text()     # a second run replaces the log, as its events
    assert second.count("laydown") == first.count("laydown") > 0


def test_an_out_that_cannot_hold_the_files_fails_on_the_screen_in_words(tmp_path):
    """Any error the install did not foresee ends on the failure screen, never in a traceback."""
    afile = tmp_path / "afile"
    afile.write_text("")
    m = load("uefi-3disks")
    app = App(m, DryRunBackend(m, str(afile)), eula="THE LICENSE")
    drive.run_answers(app, drive.load_answers(os.path.join(HERE, "answers", "uefi-3disks-static.toml")))
    assert not app.outcome.success and app.current.title == "Dry run FAILED"
    text = flat(app)
    assert f"The installer failed: cannot make the directory {afile} for the dry run's log and answer file" in text
    app = App(m, DryRunBackend(m, str(tmp_path / "run")), eula="THE LICENSE")

    def broken(*_a, **_k):
        raise RuntimeError("a bug nobody foresaw")
    app.session.backend.network_for = broken
    drive.run_answers(app, drive.load_answers(os.path.join(HERE, "answers", "uefi-3disks-static.toml")))
    assert "The installer failed: unexpected error: a bug nobody foresaw" in flat(app)
    assert "Traceback" in (tmp_path / "run" / "installer.log").read_text()       # the details, in the log


@pytest.mark.parametrize("success", [True, False])
def test_completion_and_failure_offer_reboot_then_shell(tmp_path, success):
    app = app_for(load("uefi-3disks"), tmp_path)
    app.config = wizard.to_config(app.session.choices, app.session.machine)
    app.session.backend.dry_run = False          # as on the installer: a real install's words
    app._set(DoneScreen(app, Outcome(True) if success else Outcome(False, "laydown", "no space left on device")))
    text = flat(app)
    assert app.current.title == ("Installation complete" if success else "Installation FAILED")
    if success:
        assert "The host is installed on /dev/sda" in text and "reboot into the new host" in text
    assert "< Reboot > < Shell (F2) >" in text
    drive.press(app, "tab", "enter")             # the cursor starts on Reboot; Tab: Shell
    assert app.session.backend.actions[-1] == "shell"
    drive.press(app, "f2")
    assert app.session.backend.actions[-2:] == ["shell", "shell"]
    drive.press(app, "shift tab", "enter")
    assert app.session.backend.actions[-1] == "reboot"
    drive.press(app, "f1")
    assert "Shell (F2) opens a root shell in the installer" in flat(app)


def test_an_upgrade_says_what_it_did(tmp_path):
    app = app_for(load("installed-bios"), tmp_path)
    c = app.session.choices
    c.action, c.existing_disk = "upgrade", "sda"
    app.config = wizard.to_config(c, app.session.machine)
    app.session.backend.dry_run = False
    app._set(DoneScreen(app, Outcome(True)))
    assert "The installation on /dev/sda is upgraded." in flat(app)


# -- item: no disk can hold the host ---------------------------------------------------------------
def test_a_machine_whose_only_disk_is_too_small_stops_on_welcome_with_the_reason(tmp_path):
    app = app_for(load("small-disk"), tmp_path)
    drive.next_(app)                                 # keymap
    assert app.current.name == "welcome"
    text = flat(app)
    assert "! No disk can hold the host: sda: too small: 40.0 GiB, at least 46.0 GiB needed." in text
    assert "The install cannot continue" in text and "The next screens ask" not in text
    assert "< Next >" not in text and "< Back >" in text          # no Next to press in vain
    row = drive.focused(app)
    assert [w.base_widget.label for w, _ in row.contents][row.focus_position] == "Reboot"
    assert app.keys_line().startswith("Tab: next button  Enter: press  Esc: back")
    drive.press(app, "f2")
    assert app.session.backend.actions[-1] == "shell"


def test_each_disk_says_why_it_cannot_hold_the_host(tmp_path):
    m = load("usb-media")
    small = dataclasses.replace(m.disks[0], size=20 << 30)
    app = app_for(dataclasses.replace(m, disks=[small, *m.disks[1:]]), tmp_path)
    drive.next_(app)
    text = flat(app)
    assert "No disk can hold the host: sda: too small: 20.0 GiB, at least 46.0 GiB needed; sdb: holds the " \
           "installer media." in text
    assert "< Next >" not in text


# -- item: verification failures in words ------------------------------------------------------------
def verify_app(tmp_path) -> App:
    app = app_for(load("uefi-3disks"), tmp_path)
    c = app.session.choices
    c.source_type, c.source_location, c.verify_source = "url", "http://192.0.2.5/xenhost/tree", True
    app.show("verify")
    return app


class Unreachable:
    def open(self, *_args, **_kw):
        raise urllib.error.URLError(OSError(errno.EHOSTUNREACH, os.strerror(errno.EHOSTUNREACH)))


def test_an_unreachable_source_is_said_in_words(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch, "_OPENER", Unreachable())
    app = verify_app(tmp_path)
    drive.next_(app)
    assert app.current.name == "verify"
    text = flat(app)
    assert "! the source could not be verified: cannot fetch the product tree file .treeinfo " \
           "http://192.0.2.5/xenhost/tree/.treeinfo: cannot reach 192.0.2.5: no route to host." in text
    assert "urlopen" not in text and "Errno" not in text


def test_a_failure_outside_fetch_is_said_in_words_too(tmp_path, monkeypatch):
    def raw(*_args, **_kw):
        raise urllib.error.URLError(OSError(errno.EHOSTUNREACH, os.strerror(errno.EHOSTUNREACH)))
    monkeypatch.setattr(tree_mod, "open_tree", raw)
    app = verify_app(tmp_path)
    drive.next_(app)                              # no traceback: an error on the screen
    text = flat(app)
    assert "cannot reach 192.0.2.5: no route to host" in text and "urlopen" not in text


@pytest.mark.parametrize("exc,words", [
    (urllib.error.URLError(OSError(errno.EHOSTUNREACH, "No route to host")), "cannot reach h.example: no route to host"),
    (OSError(errno.ENETUNREACH, "Network is unreachable"), "cannot reach h.example: network is unreachable"),
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "h.example closed the connection"),
    (urllib.error.URLError("unknown url type: gopher"), "unknown url type: gopher"),
])
def test_fetch_words_network_failures(exc, words):
    assert str(fetch.failure(exc, "http://user:pw@h.example:8080/tree")).startswith(words)
    assert str(fetch.failure(exc, "h.example:/export/tree")).startswith(words)


def test_an_upgradable_installation_on_a_disk_too_small_for_a_fresh_install_goes_on(tmp_path):
    # sda holds an installation that can be upgraded; no disk can take a clean install
    m = load("installed-bios")
    app = app_for(dataclasses.replace(m, disks=[dataclasses.replace(m.disks[0], size=40 << 30)]), tmp_path)
    drive.next_(app)
    assert "No disk can hold" not in flat(app)
    drive.next_(app)
    drive.set_value(app, "accept", ["yes"])
    drive.next_(app)
    while app.current.name != "install-type":
        drive.next_(app)
    assert "fresh" not in drive.field(app, "action").buttons        # greyed: no dead end behind it
    assert "not usable: no disk can hold the host: sda: too small: 40.0 GiB" in flat(app)


def test_a_dry_run_run_by_a_person_opens_their_own_shell(tmp_path, monkeypatch, capfd):
    """Shell (F2) and F2 promise a shell: in `tui --dry-run` it is the user's own, on the terminal."""
    marker = tmp_path / "shell-ran"
    script = tmp_path / "shell.sh"
    script.write_text(f"#!/bin/sh\necho ran > {marker}\n")
    script.chmod(0o755)
    monkeypatch.setenv("SHELL", str(script))
    m = load("bios-1disk")
    DryRunBackend(m, str(tmp_path / "run"), own_shell=True).shell()
    assert marker.read_text() == "ran\n"
    assert "your own shell, not the installer's. Type exit to return" in capfd.readouterr().out
    DryRunBackend(m, str(tmp_path / "run")).shell()             # headless (tests, --answers): only recorded
    app = app_for(m, tmp_path)
    app._set(DoneScreen(app, Outcome(True)))
    drive.press(app, "f1")
    assert "Shell (F2) opens your own shell on this terminal (a dry run)" in flat(app)
