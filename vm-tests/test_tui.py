"""The interactive installer driven over the serial console, as an operator at a terminal would.

The ISO boots (BIOS) with console=ttyS0 and no answer file, so the wizard starts on the serial
line. pyte, a terminal emulator, turns the serial output into the 80x24 screen; the test reads each
screen's title and sends that screen's keys from tui_script.py (Tab, Enter, Space, Down, text). The host is then booted from its
disk and checked as in the other scenarios; the answer file the wizard saved on it must validate
and describe the same install.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pyte
import pytest
from media import ROOT, blank_disk, boot_iso, booted_host, record
from tui_script import Text, steps

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="vm-tests need root (image builds)")
PASSWORD = "tui-scenario-pw"
HOSTNAME = "xh-tui.vm-test.invalid"
# what a terminal sends for urwid's key names
KEYS = {"tab": b"\t", "enter": b"\r", " ": b" ", "down": b"\x1b[B", "up": b"\x1b[A"}


class Terminal:
    """The VM's serial console as a screen: pyte fed with everything the guest sent so far."""

    def __init__(self, vm):
        self.vm = vm
        self.screen = pyte.Screen(80, 24)
        self.stream = pyte.ByteStream(self.screen)
        self.seen = 0

    def update(self) -> list[str]:
        with open(self.vm.serial_log, "rb") as f:
            f.seek(self.seen)
            data = f.read()
        self.seen += len(data)
        self.stream.feed(data)
        return self.screen.display

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.update())

    def wait_title(self, title: str, timeout: float = 120) -> None:
        """The wizard's second header line names the screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.update()[1].strip() == title:
                return
            if self.vm.proc.poll() is not None:
                break
            time.sleep(1)
        raise AssertionError(f"no screen {title!r} after {timeout:.0f} s; the screen shows:\n{self.text()}\n"
                             f"(serial log: {self.vm.serial_log})")

    def send(self, key) -> None:
        """A key name, or Text typed a character at a time; an escape sequence goes in one piece."""
        if isinstance(key, Text):
            self.vm.send(key.value.encode())
        else:
            self.vm.send(KEYS[key], paced=not KEYS[key].startswith(b"\x1b"))
        time.sleep(0.3)


def test_tui_bios_install_over_serial(iso, www, ssh_key, tmp_path):
    _root, port = www
    disk = blank_disk(str(tmp_path / "disk.img"))
    timings: dict[str, float] = {}
    vm = boot_iso("tui-bios", iso, disk, port, "")         # no answerfile=: the wizard, on ttyS0
    t = Terminal(vm)
    try:
        t.wait_title("Keyboard layout", 600)
        timings["installer boot"] = time.monotonic() - vm.started
        start = time.monotonic()
        for title, keys in steps(PASSWORD, ssh_key.public, HOSTNAME):
            t.wait_title(title, 300 if title == "Summary" else 120)    # Summary follows the verification
            screen = t.text()
            if title == "Hardware warnings":
                assert "legacy BIOS mode" in screen
            if title == "Primary disk":
                assert "vda" in screen and "50.0 GiB" in screen
            if title == "Summary":
                assert "ALL DATA ON THIS DISK WILL BE ERASED:" in screen and "/dev/vda (50.0 GiB" in screen
                assert "(verified)" in screen and PASSWORD not in screen
                timings["answering the screens"] = time.monotonic() - start
            for key in keys:
                t.send(key)
        t.wait_title("Installing", 60)
        t.wait_title("Installation complete", 900)
        timings["install"] = time.monotonic() - start - timings["answering the screens"]
        assert "/var/log/installer/answerfile.xml" in t.text()
        t.send("enter")                           # Reboot (QEMU runs with -no-reboot: it exits)
        vm.wait_exit(300)
    finally:
        vm.stop()
    assert PASSWORD not in vm.console()
    with booted_host("tui-bios", disk, "bios", ssh_key.private, HOSTNAME, "10.0.2.15/24", timings) as ssh:
        saved = ssh("cat /var/log/installer/answerfile.xml")
        assert "$6$" not in saved and PASSWORD not in saved
        path = tmp_path / "saved.xml"
        path.write_text(saved)
        res = subprocess.run([sys.executable, "-m", "installer", "validate", "--json", str(path)],
                             cwd=ROOT, capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr
        for expected in ('"path": "/dev/vda"', f'"hostname": "{HOSTNAME}"', '"name": "eth0"',
                         '"mode": "dhcp"', '"timezone": "Etc/UTC"', '"serial_console": "ttyS0,115200"'):
            assert expected in res.stdout, (expected, res.stdout)
        assert ssh("cat /etc/timezone").strip() == "Etc/UTC"
    record("6 ISO BIOS, interactive wizard over the serial console", timings)
