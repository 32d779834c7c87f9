"""The interactive installer driven over the serial console, as an operator at a terminal would.

The ISO boots (BIOS) with console=ttyS0 and no answer file, so the wizard starts on the serial
line. pyte, a terminal emulator, turns the serial output into the 80x24 screen; the test reads each
screen's title and sends keys (Tab, Enter, Space, Down, text). The host is then booted from its
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from media import ROOT, blank_disk, boot_iso, booted_host, iso, record, ssh_key, www  # noqa: E402,F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="vm-tests need root (image builds)")
PASSWORD = "tui-scenario-pw"
HOSTNAME = "xh-tui.vm-test.invalid"
TAB, ENTER, SPACE, DOWN = b"\t", b"\r", b" ", b"\x1b[B"


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

    def keys(self, *keys: bytes) -> None:
        for key in keys:
            self.vm.send(key, paced=len(key) == 1 or not key.startswith(b"\x1b"))
            time.sleep(0.3)

    def type(self, text: str) -> None:
        self.vm.send(text.encode())


def test_tui_bios_install_over_serial(iso, www, ssh_key, tmp_path):
    _root, port = www
    disk = blank_disk(str(tmp_path / "disk.img"))
    timings: dict[str, float] = {}
    vm = boot_iso("tui-bios", iso, disk, port, "")
    t = Terminal(vm)
    try:
        t.wait_title("Keyboard layout", 600)
        timings["installer boot"] = time.monotonic() - vm.started
        start = time.monotonic()
        t.keys(ENTER, ENTER)                      # "us" is chosen: Enter picks it and moves to Next
        t.wait_title("Welcome")
        t.keys(ENTER)                             # the cursor starts on Next
        t.wait_title("License agreement")
        t.keys(SPACE, TAB, ENTER)
        t.wait_title("Hardware warnings")         # booted in legacy BIOS mode
        assert "legacy BIOS mode" in t.text()
        t.keys(ENTER)
        t.wait_title("Primary disk")
        assert "vda" in t.text() and "50.0 GiB" in t.text()
        t.keys(ENTER, ENTER)
        t.wait_title("Local storage type")
        t.keys(ENTER, ENTER)
        t.wait_title("Root password")
        t.type(PASSWORD)
        t.keys(TAB)
        t.type(PASSWORD)
        t.keys(TAB)
        t.type(ssh_key[1])
        t.keys(TAB, ENTER)
        t.wait_title("Management interface")
        assert "eth0" in t.text() and "52:54:00:12:34:56" in t.text()
        t.keys(ENTER, ENTER)
        t.wait_title("Management network")        # DHCP: Enter on it, then Tab over the static fields
        t.keys(ENTER, TAB, TAB, TAB, TAB, TAB, TAB, TAB, ENTER)
        t.wait_title("Host name and DNS")
        t.keys(DOWN, ENTER)                       # manual host name; the cursor moves to its field
        t.type(HOSTNAME)
        t.keys(TAB, TAB, TAB, ENTER)              # DNS from DHCP
        t.wait_title("Time zone")
        t.keys(TAB, TAB, ENTER)                   # Etc/UTC
        t.wait_title("Time synchronisation (NTP)")
        t.keys(ENTER, TAB, ENTER)                 # from DHCP
        t.wait_title("Installation source")
        t.keys(ENTER, TAB, ENTER)                 # local media
        t.wait_title("Verify the installation source")
        t.keys(DOWN, ENTER, ENTER)                # verify the media's tree now
        t.wait_title("Summary", 300)
        summary = t.text()
        assert "ALL DATA ON THESE 1 DISK(S) WILL BE ERASED:" in summary and "/dev/vda (50.0 GiB" in summary
        assert PASSWORD not in summary
        timings["answering the screens"] = time.monotonic() - start
        t.keys(ENTER)                             # Install
        t.wait_title("Installing", 60)
        t.wait_title("Installation complete", 900)
        timings["install"] = time.monotonic() - start - timings["answering the screens"]
        assert "/var/log/installer/answerfile.xml" in t.text()
        t.keys(ENTER)                             # Reboot (QEMU runs with -no-reboot: it exits)
        vm.wait_exit(300)
    finally:
        vm.stop()
    assert PASSWORD not in vm.console()
    with booted_host("tui-bios", disk, "bios", ssh_key[0], HOSTNAME, "10.0.2.15/24", timings) as ssh:
        saved = ssh("cat /var/log/installer/answerfile.xml")
        assert "$6$" not in saved and PASSWORD not in saved
        path = tmp_path / "saved.xml"
        path.write_text(saved)
        res = subprocess.run([sys.executable, "-m", "installer", "validate", "--json", str(path)],
                             cwd=ROOT, capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr
        for expected in ('"path": "/dev/vda"', f'"hostname": "{HOSTNAME}"', '"name": "eth0"',
                         '"mode": "dhcp"', '"timezone": "Etc/UTC"'):
            assert expected in res.stdout, (expected, res.stdout)
        assert ssh("cat /etc/timezone").strip() == "Etc/UTC"
    record("6 ISO BIOS, interactive wizard over the serial console", timings)
