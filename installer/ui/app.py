"""The wizard: shows one screen at a time, moves Back and Next, then runs the install and shows
its progress and outcome. Runs on a terminal (run()) or headless for tests and answers files.
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Callable

import urwid

from .. import wizard
from ..machine import Machine
from ..product import DEFAULT as DEFAULT_PRODUCT, Product
from . import screens
from .progress import DoneScreen, ProgressScreen
from .screen import Screen, Session
from .widgets import HELP, PALETTE, Choice, Dialog, margin, text

SIZE = (80, 24)     # the smallest console the wizard is laid out for
BUTTON_KEYS = "Tab: next button  Enter: press"


class Root(urwid.WidgetWrap):
    """Frame with the product line, the screen title, the screen and the help line; global keys."""

    def __init__(self, app: "App"):
        self.app = app
        self.header = text("")
        self.footer = urwid.AttrMap(text(HELP), "help")
        self.frame = urwid.Frame(urwid.SolidFill(" "), header=urwid.AttrMap(self.header, "title"),
                                 footer=self.footer)
        super().__init__(self.frame)

    def keypress(self, size, key):
        app = self.app
        if key in ("ctrl c", "ctrl \\"):    # keys, not signals, while the wizard runs (App.run)
            app.ask_quit()
            return None
        if app.dialog is not None:         # a question over the screen takes every key
            if key == "esc":
                app.close_dialog()
            else:
                super().keypress(size, key)
            return None
        if app.help_shown:                  # the help text only scrolls and closes
            if key in ("f1", "esc"):
                app.toggle_help()
            elif key in ("up", "down", "page up", "page down", "home", "end"):
                super().keypress(size, key)
            return None
        screen = app.current
        walker = getattr(screen, "walker", None)
        if walker is not None and key in ("tab", "shift tab"):
            move_focus(walker, 1 if key == "tab" else -1)
            return None
        if walker is not None and key == "enter" and isinstance(walker.get_focus()[0], Choice):
            super().keypress(size, " ")     # Enter on an option picks it and moves on
            move_focus(walker, 1)
            return None
        key = super().keypress(size, key)
        if walker is not None and key == "enter":    # Enter in a text field moves on, like Tab
            move_focus(walker, 1)
            return None
        if key == "esc":
            self.app.back()
            return None
        if key == "f1":
            self.app.toggle_help()
            return None
        if key == "ctrl l" and self.app.loop:
            self.app.loop.screen.clear()
            return None
        if key == "f2" and self.app.shell_allowed():
            self.app.shell()
            return None
        return key


def move_focus(walker: urwid.SimpleFocusListWalker, step: int) -> None:
    """Tab: the next field (not the next option inside a list); the button row's buttons in turn;
    from the last button back to the first field."""
    current, index = walker.get_focus()
    if isinstance(current, urwid.Columns):
        position = current.focus_position + step
        if 0 <= position < len(current.contents):
            current.focus_position = position
            return
    stops = [i for i, w in enumerate(walker) if w.selectable()]
    later = [i for i in stops if (i - index) * step > 0]
    target = (later[0] if step > 0 else later[-1]) if later else (stops[0] if step > 0 else stops[-1])
    walker.set_focus(target)
    if isinstance(walker[target], urwid.Columns):    # enter a button row at its first or last button
        walker[target].focus_position = 0 if step > 0 else len(walker[target].contents) - 1


class App:
    def __init__(self, machine: Machine, backend, product: Product = DEFAULT_PRODUCT, eula: str = "",
                 choices: wizard.Choices | None = None, quit_note: str = ""):
        """quit_note: what follows quitting (said when Ctrl-C asks whether to quit)."""
        self.session = Session(machine, choices or wizard.defaults(machine), product, eula, backend)
        self.screens: dict[str, Screen] = {}
        self.history: list[str] = []
        self.current: Screen | None = None
        self.root = Root(self)
        self.config = None          # the InstallConfig, once the summary is confirmed
        self.outcome = None         # the engine's Outcome, once the install ended
        self.loop: urwid.MainLoop | None = None
        self.help_shown = False
        self.dialog: Dialog | None = None   # a question shown over the screen
        self.quit_note = quit_note
        self.quit_chosen = False            # the operator quit (Ctrl-C, then Quit)
        self.show(wizard.SCREENS[0])

    # -- navigation --------------------------------------------------------------------------
    def screen(self, name: str) -> Screen:
        if name not in self.screens:
            self.screens[name] = screens.SCREENS[name](self.session, self)
        return self.screens[name]

    def show(self, name: str) -> None:
        screen = self.screen(name)
        screen.refresh()
        screen.focus_start()
        self._set(screen)

    def _set(self, screen) -> None:
        self.current = screen
        p = self.session.product
        self.root.header.set_text(f" {p.brand} {p.version} installer\n {screen.title}")
        self.root.frame.body = screen.widget()
        self.help_shown = False
        self.dialog = None
        self.root.footer.original_widget.set_text(self.keys_line())

    def next(self) -> None:
        screen = self.current
        if not isinstance(screen, Screen):
            return
        if screen.save():
            return
        following = wizard.next_screen(screen.name, self.session.choices, self.session.machine,
                                       self.session.product)
        self.history.append(screen.name)
        if following is None:
            self.install()
        else:
            self.show(following)

    def back(self) -> None:
        if not isinstance(self.current, Screen) or not self.history or not self.current.can_go_back:
            return
        self.current.keep()
        self.current.show_errors({})        # they were about what Next was given: stale by now
        self.show(self.history.pop())

    def toggle_help(self) -> None:
        screen = self.current
        if self.help_shown:
            self.root.frame.body = screen.widget()
        else:
            body = screen.help or "No more help for this screen."
            self.root.frame.body = margin(urwid.ListBox([text(body), text(""),
                                                         text("F1 or Esc: back to the screen")]))
        self.help_shown = not self.help_shown
        self.root.footer.original_widget.set_text(self.keys_line())

    def keys_line(self) -> str:
        """The help line: the keys that work here, and only those."""
        screen = self.current
        if self.dialog is not None:
            return f"{BUTTON_KEYS}  Esc: {self.dialog.safe}"
        if self.help_shown:
            return "Up/Down: scroll  F1 or Esc: back to the screen"
        if isinstance(screen, ProgressScreen):
            return "L: show or hide the log  F1: help"
        back = isinstance(screen, Screen) and screen.can_go_back and bool(self.history)
        keys = HELP if isinstance(screen, Screen) and screen.fields else f"{BUTTON_KEYS}  Esc: back  F1: help"
        keys = keys if back else keys.replace("  Esc: back", "")
        keys = ("Up/Down: scroll  " if getattr(screen, "scrolls", False) else "") + keys
        return keys + ("  F2: shell" if self.shell_allowed() else "")

    def ask(self, question: str, actions: list[tuple[str, Callable[[], None] | None]]) -> None:
        """question over the screen, with a button per action; the first is the safe answer: it
        has the cursor and Esc means it too."""
        def answer(action):
            def pressed() -> None:
                self.close_dialog()
                if action is not None:
                    action()
            return pressed
        self.dialog = Dialog(question, [(label, answer(action)) for label, action in actions])
        self.root.frame.body = urwid.Overlay(self.dialog, self.root.frame.body, "center", 64, "middle", "pack")
        self.root.footer.original_widget.set_text(self.keys_line())

    def close_dialog(self) -> None:
        if self.dialog is not None:
            self.root.frame.body = self.root.frame.body.bottom_w
            self.dialog = None
            self.root.footer.original_widget.set_text(self.keys_line())

    def ask_quit(self) -> None:
        """Ctrl-C: quit, once confirmed; never while the install writes to the disks."""
        if self.dialog is not None:
            return
        if isinstance(self.current, ProgressScreen):
            self.ask("The install is running and cannot be stopped safely: wait for it to end.",
                     [("Continue", None)])
            return
        done = "The install has ended." if self.outcome is not None else "Nothing has been written to the disks."
        self.ask(f"Quit the installer? {done} {self.quit_note}".strip(), [("Continue", None), ("Quit", self.quit)])

    def quit(self) -> None:
        self.quit_chosen = True
        if self.loop:
            raise urwid.ExitMainLoop()

    def ask_reboot(self) -> None:
        self.ask("Reboot the machine now? Nothing has been written to the disks.",
                 [("Cancel", None), ("Reboot", self.reboot)])

    # -- side effects, through the backend -----------------------------------------------------
    def shell_allowed(self) -> bool:
        return isinstance(self.current, (screens.SCREENS["welcome"], DoneScreen))

    def shell(self) -> None:
        if self.loop:
            self.loop.screen.stop()
        self.session.backend.shell()
        if self.loop:
            self.loop.screen.start()
            self._own_signal_keys()

    def reboot(self) -> None:
        self.session.backend.reboot()
        if self.loop:
            raise urwid.ExitMainLoop()

    def redraw(self) -> None:
        """Show a message before a slow call on the UI thread (source verification)."""
        if self.loop:
            self.loop.draw_screen()

    def background(self, work: Callable[[], object], done: Callable[[object], None]) -> None:
        """Run work() off the UI thread on a terminal (the screen keeps redrawing); headless, at once."""
        if self.loop is None:
            done(work())
            return
        results: list = []
        fd = self.loop.watch_pipe(lambda _data: (done(results[0]), False)[1])

        def run() -> None:
            try:
                results.append(work())
            finally:
                os.write(fd, b"x")
        threading.Thread(target=run, daemon=True).start()

    def post(self, callback: Callable[[], None]) -> None:
        """Run callback on the UI thread (events arrive from the install thread)."""
        if self.loop is None:
            callback()
            return
        with self._lock:
            self._pending.append(callback)
        os.write(self._wake, b"x")

    def _drain(self, _data) -> bool:
        with self._lock:
            pending, self._pending = self._pending, []
        for callback in pending:
            callback()
        return True

    def install(self) -> None:
        s = self.session
        self.config = wizard.to_config(s.choices, s.machine)
        progress = ProgressScreen(self)
        self._set(progress)
        if self.loop:
            def tick(loop, _data) -> None:       # the elapsed time moves even while a step is quiet
                if self.current is progress:
                    progress.tick()
                    loop.set_alarm_in(1, tick)
            self.loop.set_alarm_in(1, tick)

        def work():
            return s.backend.install(self.config, lambda event: self.post(lambda: progress.event(event)))

        self.background(work, self.finished)

    def finished(self, outcome) -> None:
        self.outcome = outcome
        self._set(DoneScreen(self, outcome, getattr(self.current, "titles", None)))

    # -- on a terminal ---------------------------------------------------------------------------
    def run(self, screen: urwid.BaseScreen | None = None, tty: int | None = None) -> None:
        """Until Reboot or Quit. screen: urwid's on a console (default: this terminal); tty: the
        file descriptor it reads keys from (default: standard input)."""
        screen = screen or urwid.raw_display.Screen()
        self.quit_chosen = False
        self._tty = sys.stdin.fileno() if tty is None else tty
        self.loop = urwid.MainLoop(self.root, PALETTE, screen=screen, handle_mouse=False)
        self._lock, self._pending = threading.Lock(), []
        self._wake = self.loop.watch_pipe(self._drain)
        with screen.start():
            self._own_signal_keys()
            self.loop.run()

    def _own_signal_keys(self) -> None:
        """Ctrl-C, Ctrl-\\ and Ctrl-Z reach the wizard as keys rather than as signals that would kill
        it with a traceback over the screen or stop it (at boot: a dead console). Called once the
        screen has started, so that stopping it gives the terminal its own keys back."""
        self.loop.screen.tty_signal_keys(intr="undefined", quit="undefined", susp="undefined",
                                         fileno=self._tty)
