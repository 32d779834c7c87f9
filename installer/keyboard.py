"""Console keymap names -> XKB settings: the installed host's /etc/default/keyboard and the
installer's own console.

Debian has no console keymap files (kbd ships none): console-setup compiles the console keymap from
XKB data with ckbcomp, so a keymap name is only as good as its row in installer/data/keymaps.txt.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

from . import runner

MODEL = "pc105"       # what Debian sets up for PC keyboards, USB Apple ones included


@dataclass(frozen=True)
class Xkb:
    layout: str
    variant: str = ""
    options: str = ""
    model: str = MODEL


@functools.lru_cache(maxsize=1)
def table() -> dict[str, Xkb]:
    data = resources.files("installer.data").joinpath("keymaps.txt").read_text()
    rows = {}
    for line in data.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, layout, variant, options = line.split()
        rows[name] = Xkb(layout, "" if variant == "-" else variant, "" if options == "-" else options)
    return rows


def xkb(keymap: str) -> Xkb:
    return table()[keymap]


def default_keyboard(keymap: str) -> str:
    """The host's /etc/default/keyboard (keyboard(5)); console-setup rebuilds its cached console
    keymap at first boot because this file is newer than the cache."""
    x = xkb(keymap)
    return (f"# Written by the installer for the console keymap {keymap} (see keyboard(5)).\n"
            f'XKBMODEL="{x.model}"\nXKBLAYOUT="{x.layout}"\nXKBVARIANT="{x.variant}"\n'
            f'XKBOPTIONS="{x.options}"\n\nBACKSPACE="guess"\n')


def ckbcomp_argv(keymap: str) -> list[str]:
    x = xkb(keymap)
    argv = ["ckbcomp", "-model", x.model, "-layout", x.layout]
    if x.variant:
        argv += ["-variant", x.variant]
    if x.options:
        argv += ["-option", x.options]
    return argv


def load_console_keymap(keymap: str) -> str | None:
    """Apply a keymap to the installer's consoles now (ckbcomp | loadkeys). None on success,
    else why not (the caller says so: a wrong keyboard must not pass silently)."""
    compiled = runner.run(ckbcomp_argv(keymap), check=False, timeout=60)
    if compiled.returncode:
        return f"ckbcomp failed: {compiled.stderr.strip()[-200:]}"
    res = runner.run(["loadkeys", "-q"], check=False, input=compiled.stdout, timeout=60)
    return f"loadkeys failed: {res.stderr.strip()[-200:]}" if res.returncode else None
