"""Start the wizard: on the installer's console at boot (boot.py), or from the command line
(`python -m installer tui`), on a terminal or driven headless by an answers file (dry run against a
recorded machine). urwid is imported only when the wizard runs: boot and the command line import
this module without it."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import struct
import sys
import termios

from .. import envchroot, machine as machine_mod, session, wizard
from ..probe import probe
from ..runner import SECRETS
from ..wizard_backend import Backend, DryRunBackend, eula_text


@contextlib.contextmanager
def terminal(device: str):
    """An urwid screen on a console device (/dev/tty1, /dev/ttyS0) and the descriptor it reads
    keys from (App.run takes both); closed on leaving. A serial line reports no size: it gets
    80x24, which every terminal shows."""
    import urwid        # lazily: the boot path and the command line load urwid only for the wizard

    from .app import SIZE           # a serial line that reports no size gets the smallest supported
    with open(device, "r+b", buffering=0) as tty, \
            open(device, "w", encoding="utf-8", errors="replace") as stream:   # a tty is not seekable: no r+
        rows, cols = struct.unpack("HHHH", fcntl.ioctl(tty, termios.TIOCGWINSZ, b"\0" * 8))[:2]
        if not rows or not cols:
            fcntl.ioctl(tty, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        os.environ["TERM"] = "linux" if os.path.basename(device).startswith("tty") and \
            not os.path.basename(device).startswith("ttyS") else "vt220"
        yield urwid.raw_display.Screen(input=tty, output=stream), tty.fileno()


def cmd_tui(args) -> int:
    from . import drive                 # lazily, as urwid (app, drive) is only for this command
    from .app import App
    tree = session.local_tree(args.tree)
    if args.dry_run or args.answers:
        if not args.machine:
            print("tui: a dry run needs --machine (a recorded machine, see tests/machines/)", file=sys.stderr)
            return 2
        machine = machine_mod.load(args.machine)
        backend = DryRunBackend(machine, args.out, tree=tree, own_shell=not args.answers)
    else:
        if not envchroot.in_environment():
            print("tui: a real install runs in the installer environment; use --dry-run --machine M.json "
                  "to try the wizard here", file=sys.stderr)
            return 2
        machine = probe()
        backend = Backend(machine, tree=tree)
    app = App(machine, backend, eula=eula_text(tree))
    if args.answers:
        try:
            drive.run_answers(app, drive.load_answers(args.answers))
        except (drive.DriveError, OSError, ValueError) as exc:
            print(f"tui: {args.answers}: {exc}", file=sys.stderr)
            return 1
        print(drive.screen_text(app))
    else:
        app.run()
    if args.json and app.config is not None:
        print(SECRETS.mask(json.dumps(app.config.to_dict(), indent=2)))
    return 0 if app.outcome is not None and app.outcome.success else 1


def quiet_console() -> None:
    """Kernel messages and systemd's status lines on the console would scribble over the wizard
    (Ctrl-L redraws it if something still does)."""
    try:
        with open("/proc/sys/kernel/printk", "w") as f:
            f.write("1")
    except OSError:
        pass
    try:
        os.kill(1, signal.SIGRTMIN + 21)     # systemd: stop showing unit status on the console
    except OSError:
        pass


QUIT_ON_CONSOLE = "A root shell opens on this console; exit it to come back to the installer."


def run_on_console(device: str, boot_options, tree: str | None) -> int:
    """The wizard at boot, on the installer's console; its Reboot button ends it. tree: the local
    product tree (None: the installer media)."""
    from .app import App                # lazily: urwid only once the wizard starts
    quiet_console()
    machine = probe()
    choices = wizard.defaults(machine)
    if boot_options is not None and boot_options.keymap:   # keymap= preselects the first screen
        choices.keymap = boot_options.keymap
    backend = Backend(machine, boot_options, tree=tree, console=device)
    app = App(machine, backend, eula=eula_text(tree), choices=choices, quit_note=QUIT_ON_CONSOLE)
    keep_console(app, device)
    return 0 if app.outcome is not None and app.outcome.success else 1


def keep_console(app, device: str) -> None:
    """Run the wizard on device until Reboot ends it. Quitting it (Ctrl-C, then Quit) leaves the
    operator a usable console: a root shell there, and on its exit the wizard again, where it was."""
    while True:
        with terminal(device) as (screen, tty):
            app.run(screen, tty)
        if not app.quit_chosen:
            return
        app.session.backend.shell()


def add_parser(sub) -> None:
    p = sub.add_parser("tui", help="the interactive installer (a wizard on this terminal)")
    p.add_argument("--machine", help="recorded machine description (JSON); dry runs only")
    p.add_argument("--dry-run", action="store_true", help="plan and run every step without side effects")
    p.add_argument("--answers", metavar="TOML",
                   help="answer every screen from this file (table per screen) without a terminal")
    p.add_argument("--tree", help="product tree directory (its EULA; source verification)")
    p.add_argument("--out", default="build/tui", help="dry run: directory for the log, events and answer file")
    p.add_argument("--json", action="store_true", help="print the resulting InstallConfig (secrets masked)")
    p.set_defaults(func=cmd_tui)
