"""The wizard on a machine whose firmware enforces Secure Boot: its screen after Welcome (only there),
Stop (the default) says what to change and offers Reboot, Continue goes on and the Summary, the plan,
the answer file left on the host and the completion screen say so."""
from __future__ import annotations

import dataclasses

import pytest
from test_ui_views import app_for, go_to, lines, load

from installer import answerfile, secureboot, wizard, wizard_summary
from installer.product import DEFAULT as PRODUCT
from installer.ui import drive

ACCEPT = {"secure-boot": {"secure_boot": "continue"}}


def test_the_screen_comes_after_welcome_with_the_firmware_change(tmp_path):
    app = app_for(load("uefi-secureboot"), tmp_path)
    go_to(app, "secure-boot")
    assert app.history == ["keymap", "welcome"]
    out = lines(app)
    text = " ".join(" ".join(out).split())
    assert out[1].strip() == "Secure Boot is enabled"
    for words in ("Debian's Xen and the host's GRUB are not signed", "Security or Boot > Secure Boot > Disabled",
                  '"Other OS"', "Clearing or resetting the Secure Boot keys is not needed",
                  "(X) Stop here: reboot and disable Secure Boot first",
                  "( ) Continue: I will disable Secure Boot before the host's first boot"):
        assert words in text
    assert drive.focused(app) is drive.field(app, "secure_boot")         # the cursor on the choice, as on other screens
    assert out[-1].strip() == app.keys_line() and "Esc: back" in out[-1]


def test_stop_says_what_to_do_and_offers_reboot(tmp_path):
    app = app_for(load("uefi-secureboot"), tmp_path)
    go_to(app, "secure-boot")
    drive.next_(app)
    assert app.current.name == "secure-boot" and app.dialog is not None
    inside = [line.split("|")[1] for line in lines(app) if line.count("|") == 2]   # the question's box
    text = " ".join(" ".join(inside).split())
    assert "Nothing has been written to the disks. Reboot, open the firmware setup" in text
    assert "< Cancel >" in text and "< Reboot >" in text
    drive.press(app, "esc")                      # Cancel: back on the screen, the reason on its message line
    assert app.dialog is None
    assert "! Secure Boot must be disabled first: reboot, or choose Continue" in drive.screen_text(app)
    drive.next_(app)
    drive.press(app, "tab", "enter")             # Reboot
    assert app.session.backend.actions[-1] == "reboot" and app.config is None


def test_continue_goes_on_and_every_later_word_says_so(tmp_path):
    app = app_for(load("uefi-secureboot"), tmp_path)
    go_to(app, "summary", ACCEPT)
    assert app.history[:4] == ["keymap", "welcome", "secure-boot", "eula"]
    text = " ".join(drive.screen_text(app).split())
    assert "SECURE BOOT IS ENABLED: the host will not boot until Secure Boot is disabled" in text
    drive.next_(app)
    assert app.outcome.success and app.config.secure_boot == "continue"
    backend = app.session.backend
    saved, _ = answerfile.parse_file(backend.saved_answerfile)
    assert saved.secure_boot == "continue"
    assert '<secure-boot action="continue"/>' in open(backend.saved_answerfile).read()
    assert secureboot.ACCEPTED.replace('"', '\\"') in open(backend.events_path()).read()


def test_a_real_install_ends_with_the_reminder(tmp_path):
    from installer.engine import Outcome
    from installer.ui.progress import DoneScreen
    app = app_for(load("uefi-secureboot"), tmp_path)
    go_to(app, "summary", ACCEPT)
    app.config = wizard.to_config(app.session.choices, app.session.machine)
    app.session.backend.dry_run = False
    app._set(DoneScreen(app, Outcome(True)))
    assert secureboot.REMINDER in " ".join(" ".join(lines(app)).split())


def test_back_keeps_the_choice(tmp_path):
    app = app_for(load("uefi-secureboot"), tmp_path)
    go_to(app, "eula", ACCEPT)
    drive.press(app, "esc")
    assert app.current.name == "secure-boot" and drive.field(app, "secure_boot").value == "continue"


@pytest.mark.parametrize("changes", [{}, {"secure_boot": False}, {"secure_boot": None},
                                     {"secure_boot": False, "secure_boot_setup_mode": True}])
def test_no_screen_where_the_firmware_does_not_enforce(tmp_path, changes):
    m = load("uefi-3disks", **changes)
    app = app_for(m, tmp_path)
    go_to(app, "eula")
    assert "secure-boot" not in app.history and not wizard.applies("secure-boot", app.session.choices, m, PRODUCT)


def test_the_choice_counts_only_where_the_screen_showed():
    c = wizard.Choices(secure_boot="continue")
    assert wizard.to_config(c, load("uefi-3disks")).secure_boot == "stop"
    assert wizard.check_secure_boot(wizard.Choices(), load("uefi-3disks")) == {}
    for action in ("upgrade", "restore", "fresh"):
        c = dataclasses.replace(c, action=action, existing_disk="vda")
        assert wizard.to_config(c, load("uefi-secureboot")).secure_boot == "continue"


def test_summary_lines():
    m = load("uefi-secureboot")
    c = wizard.defaults(m)
    c.password_hash = "x"
    c.secure_boot = "continue"
    [line] = wizard_summary.secure_boot(wizard.to_config(c, m), m)
    assert line.alarm and line.text.startswith("SECURE BOOT IS ENABLED")
    assert wizard_summary.lines(c, m, PRODUCT)[-1] == line
    setup = dataclasses.replace(m, secure_boot=False, secure_boot_setup_mode=True)
    [line] = wizard_summary.secure_boot(wizard.to_config(c, setup), setup)
    assert not line.alarm and "Setup Mode" in line.text
    assert wizard_summary.secure_boot(wizard.to_config(c, load("uefi-3disks")), load("uefi-3disks")) == []


def app_with_boot_line(m, tmp_path, line: str):
    from installer import cmdline
    from installer.ui.app import App
    from installer.wizard_backend import DryRunBackend
    opts = cmdline.parse(line)[0]
    return App(m, DryRunBackend(m, str(tmp_path / "run"), boot_options=opts), eula="THE LICENSE")


def test_the_boot_lines_secureboot_continue_accepts_nothing_in_the_wizard(tmp_path):
    """secureboot=continue on the boot line used to reach the wizard's config (cmdline.applied): the
    answer file left on a machine that does not enforce said continue, and replayed on one that does,
    it accepted silently. Only Continue on the wizard's own screen accepts."""
    app = app_with_boot_line(load("uefi-3disks"), tmp_path, "console=ttyS0 secureboot=continue")
    go_to(app, "summary")
    assert "secure-boot" not in app.history
    drive.next_(app)
    assert app.outcome.success
    backend = app.session.backend
    written = open(backend.saved_answerfile).read()
    assert "secure-boot" not in written and answerfile.parse_file(backend.saved_answerfile)[0].secure_boot == "stop"
    assert 'serial-console="ttyS0"' in written                  # the rest of the boot line still applies
    assert secureboot.ACCEPTED.replace('"', '\\"') not in open(backend.events_path()).read()


@pytest.mark.parametrize("choice", ["stop", "continue"])
def test_on_an_enforcing_machine_the_screen_asks_whatever_the_boot_line_says(tmp_path, choice):
    app = app_with_boot_line(load("uefi-secureboot"), tmp_path, "secureboot=continue")
    go_to(app, "secure-boot")
    assert drive.field(app, "secure_boot").value == "stop"       # not pre-answered by the boot line
    if choice == "stop":
        drive.next_(app)
        assert app.current.name == "secure-boot" and app.dialog is not None    # Stop still stops
        return
    go_to(app, "summary", ACCEPT)
    drive.next_(app)
    assert '<secure-boot action="continue"/>' in open(app.session.backend.saved_answerfile).read()
