"""The serial-console scenario's keys (vm-tests/tui_script.py), replayed on the wizard without a
terminal against a recorded machine like that scenario's VM: the same screens in the same order,
and the same install."""
import os

from installer import answerfile, cmdline, machine, passwd
from installer.wizard_backend import DryRunBackend
from installer.ui import drive
from installer.ui.app import App
from tui_script import Text, steps

HERE = os.path.dirname(os.path.abspath(__file__))

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHhxGKqXiNRovQ7J0GDiX7IRqsz7tt/rJtCVj5UBS3/o ops@example"


def test_the_serial_scenarios_keys_install_what_it_expects(tmp_path, monkeypatch):
    m = machine.load(os.path.join(HERE, "machines", "qemu-installer-vm.json"))
    opts, _ = cmdline.parse("boot=live net.ifnames=0 console=tty0 console=ttyS0,115200")
    # "verify" needs a tree: a fake one
    backend = DryRunBackend(m, str(tmp_path / "run"), boot_options=opts, tree=str(tmp_path / "tree"))
    monkeypatch.setattr(backend, "verify_source", lambda cfg: "Verified (test double).")
    app = App(m, backend)
    for title, keys in steps("scenario-pw", KEY, "xh-tui.vm-test.invalid"):
        assert app.current.title == title, drive.screen_text(app)
        for key in keys:
            drive.press(app, *(key.value if isinstance(key, Text) else [key]))
    assert "Dry run complete" in drive.screen_text(app), drive.screen_text(app)
    cfg = app.config
    assert cfg.primary_disk.disk.path == "/dev/vda" and cfg.guest_disks == []
    assert cfg.hostname == "xh-tui.vm-test.invalid" and cfg.interface.name == "eth0"
    assert cfg.interface.ipv4.mode.value == "dhcp" and cfg.ntp.mode.value == "dhcp"
    assert cfg.timezone == "Etc/UTC" and cfg.keymap == "us" and cfg.ssh_authorized_keys == [KEY]
    assert passwd.verify("scenario-pw", cfg.root_password.hash)
    # installed from a serial console: the host's boot menu and console use it, as with an answer
    # file; the backend applies the boot line to what it installs, the wizard's own choices stay
    assert cfg.bootloader.serial_console is None
    saved, _ = answerfile.parse_file(backend.saved_answerfile)
    assert saved.bootloader.serial_console == "ttyS0,115200"
