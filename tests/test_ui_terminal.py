"""The wizard on a real pseudo-terminal, as on a serial console: urwid's terminal input and output,
keys sent as the bytes a terminal sends (escape sequences included), the screen read back with the
pyte terminal emulator. Replays the serial scenario's keys (vm-tests/tui_script.py) in dry run."""
import os
import pty
import threading
import time

import pyte

from installer import machine
from installer.wizard_backend import DryRunBackend
from installer.ui.app import App
from installer.ui.launch import terminal
from tui_script import Text, steps

HERE = os.path.dirname(os.path.abspath(__file__))

BYTES = {"tab": b"\t", "enter": b"\r", " ": b" ", "down": b"\x1b[B"}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHhxGKqXiNRovQ7J0GDiX7IRqsz7tt/rJtCVj5UBS3/o ops@example"


class Pty:
    def __init__(self):
        self.master, self.slave = pty.openpty()
        self.screen = pyte.Screen(80, 24)
        self.stream = pyte.ByteStream(self.screen)
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            with self.lock:
                self.stream.feed(data)

    def lines(self) -> list[str]:
        with self.lock:
            return [line.rstrip() for line in self.screen.display]

    def wait_title(self, title: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while self.lines()[1].strip() != title:
            assert time.monotonic() < deadline, f"no {title!r}:\n" + "\n".join(self.lines())
            time.sleep(0.05)


def test_the_serial_scenario_on_a_pseudo_terminal(tmp_path, monkeypatch):
    m = machine.load(os.path.join(HERE, "machines", "qemu-installer-vm.json"))
    backend = DryRunBackend(m, str(tmp_path / "run"))
    monkeypatch.setattr(backend, "verify_source", lambda cfg: "Verified (test double).")
    monkeypatch.setenv("TERM", "dumb")          # terminal() sets it for the console it opens
    app = App(m, backend)
    term = Pty()
    failures = []

    def operator():
        try:
            for title, keys in steps("scenario-pw", KEY, "xh-tui.vm-test.invalid"):
                term.wait_title(title)
                for key in keys:
                    os.write(term.master, key.value.encode() if isinstance(key, Text) else BYTES[key])
                    time.sleep(0.05)
            term.wait_title("Dry run complete")
            assert "scenario-pw" not in "\n".join(term.lines())
            os.write(term.master, b"\r")             # Reboot: ends the wizard
        except AssertionError as exc:
            failures.append(exc)
            app.loop.set_alarm_in(0, lambda *_: (_ for _ in ()).throw(SystemExit(1)))

    threading.Thread(target=operator, daemon=True).start()
    try:
        with terminal(os.ttyname(term.slave)) as (screen, tty):
            app.run(screen, tty)
    except SystemExit:
        pass
    assert not failures, failures[0]
    assert backend.actions[-1] == "reboot"
    assert app.config.hostname == "xh-tui.vm-test.invalid" and app.config.primary_disk.disk.path == "/dev/vda"
