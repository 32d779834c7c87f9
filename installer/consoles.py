"""The consoles at boot: progress written to every one the boot line names, and a key read from any
(a failed install's countdown to the reboot, boot.hold_before_reboot)."""
from __future__ import annotations

import io
import os
import select
import sys
import termios
import time

from .values import TERMINAL


class Consoles(io.TextIOBase):
    """A text stream that writes to every console named on the boot line (and stderr).

    Each console is opened per write: a getty's vhangup() on a shared tty would leave a long-lived
    file descriptor dead, and the rest of the progress would silently vanish."""

    def __init__(self, names: list[str]):
        # only terminal names (or the kernel's /dev/console) ever become a path written to
        names = (n.split(",")[0] for n in names)
        self.names = list(dict.fromkeys(n for n in names if n == "console" or TERMINAL.fullmatch(n)))
        self.bound: float | None = None    # seconds a write may wait for a terminal (None: as long as it takes)
        self.stuck: set[str] = set()       # terminals a bounded write gave up on: not written again

    def write(self, text: str) -> int:
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except OSError:
            pass
        self.terminals(text)
        return len(text)

    def terminals(self, text: str) -> None:
        """The terminals only (a countdown rewritten in place has no business in the journal)."""
        for name in self.names:
            if self.bound is not None:
                self._bounded(name, text.replace("\n", "\r\n").encode(errors="replace"))
                continue
            try:
                with open(f"/dev/{name}", "w") as term:
                    term.write(text.replace("\n", "\r\n"))
            except OSError:
                pass

    def _bounded(self, name: str, data: bytes) -> None:
        """Write without waiting more than self.bound for a terminal whose output is stopped (flow
        control, a serial line without CTS): one that does not take it is given up."""
        if name in self.stuck:
            return
        try:
            fd = os.open(f"/dev/{name}", os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError:
            return
        deadline = time.monotonic() + self.bound
        try:
            while data:
                try:
                    data = data[os.write(fd, data):]
                except BlockingIOError:
                    left = deadline - time.monotonic()
                    if left <= 0 or not select.select([], [fd], [], left)[1]:
                        self.stuck.add(name)
                        return
        except OSError:
            pass
        finally:
            os.close(fd)


class Keys:
    """A key pressed on any of the consoles, while in use (a with block): each terminal (once, however
    many names it has) is read a key at a time without echo, what was typed before is dropped, and
    its settings are put back after. A console that cannot be opened or set up is not read (the
    countdown still ends).

    Nothing here waits for output: flow control is off while reading (an XOFF, Ctrl-S or line noise,
    would stop the countdown's writes for good; ^S, ^C and ^\\ are keys like any other), and the
    settings change at once instead of after the output drained, which a stopped terminal never does."""

    def __init__(self, names: list[str]):
        self.paths = [f"/dev/{n}" for n in names]
        self.open: list[tuple[int, list]] = []
        self.quiet: set[int] = set()        # hung up (end of file) or failing: no key can come from it

    def __enter__(self) -> "Keys":
        devices = set()
        for path in self.paths:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
            except OSError:
                continue
            try:
                device = os.fstat(fd).st_rdev        # console=tty0 console=tty1 may be one terminal
                if device in devices:
                    raise OSError("already read")
                saved = termios.tcgetattr(fd)
                termios.tcsetattr(fd, termios.TCSANOW, key_mode(saved))
                termios.tcflush(fd, termios.TCIFLUSH)
            except (termios.error, OSError):
                os.close(fd)
                continue
            devices.add(device)
            self.open.append((fd, saved))
        return self

    def pressed(self, seconds: float) -> bool:
        """Wait up to seconds; True as soon as a key is pressed on one of them."""
        listening = [fd for fd, _ in self.open if fd not in self.quiet]
        ready, _, _ = select.select(listening, [], [], seconds)
        key = False
        for fd in ready:
            try:
                data = os.read(fd, 64)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            key = key or bool(data)
            if not data:
                self.quiet.add(fd)
        return key

    def __exit__(self, *exc) -> None:
        for fd, saved in reversed(self.open):
            try:
                termios.tcsetattr(fd, termios.TCSANOW, saved)
            except (termios.error, OSError):
                pass
            os.close(fd)
        self.open, self.quiet = [], set()


def key_mode(mode: list) -> list:
    """A terminal's settings (tcgetattr) made to read a key at a time: no echo, no line editing, no
    signal keys, no XON/XOFF flow control on output."""
    mode = [*mode[:6], list(mode[6])]
    mode[0] &= ~termios.IXON
    mode[3] &= ~(termios.ECHO | termios.ICANON | termios.ISIG)
    mode[6][termios.VMIN], mode[6][termios.VTIME] = 1, 0
    return mode
