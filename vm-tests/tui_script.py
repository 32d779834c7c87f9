"""The keys an operator presses in the wizard for the serial-console scenario, screen by screen.

Shared by the QEMU scenario (vm-tests/test_tui.py, keys sent over the serial line) and a unit
test (tests/test_ui_script.py) that replays the same keys on the wizard without a terminal, against
a recorded machine like the VM, so a change to the screens breaks the fast test first.

Keys are urwid key names ("tab", "enter", " ", "down"); Text(...) is typed character by character.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    value: str


def steps(password: str, ssh_key: str, hostname: str) -> list[tuple[str, list]]:
    """(screen title, keys) in order; after the last, the install starts."""
    return [
        ("Keyboard layout", ["enter", "enter"]),             # "us" is chosen: Enter keeps it and moves to Next
        ("Welcome", ["enter"]),                              # the cursor starts on Next
        ("License agreement", ["tab", " ", "tab", "enter"]),  # from the license text to the box, tick, Next
        ("Hardware warnings", ["enter"]),                    # the installer was booted in legacy BIOS mode
        ("Primary disk", ["enter", "enter"]),
        ("Local storage type", ["enter", "enter"]),
        ("Root password", [Text(password), "tab", Text(password), "tab", Text(ssh_key), "tab", "enter"]),
        ("Management interface", ["enter", "enter"]),
        # DHCP: Enter skips the greyed static fields to IPv6 (None), then VLAN (empty), then Next
        ("Management network", ["enter", "enter", "enter", "enter"]),
        ("Host name and DNS", ["down", "enter", Text(hostname), "tab", "tab", "tab", "enter"]),
        ("Time zone", ["tab", "tab", "enter"]),              # Etc/UTC
        ("Time synchronisation (NTP)", ["enter", "tab", "enter"]),    # from DHCP
        ("Installation source", ["enter", "enter"]),          # local media: its location is greyed, skipped
        ("Verify the installation source", ["down", "enter", "enter"]),
        ("Summary", ["enter"]),                              # Install
    ]
