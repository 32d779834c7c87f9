"""The wizard: shows one screen at a time, moves Back and Next, then runs the install and shows
its progress and outcome. Runs on a terminal (run()) or headless for tests and answers files.
"""
from __future__ import annotations

import os
import threading
from typing import Callable

import urwid

from .. import wizard
from ..machine import Machine
from ..product import DEFAULT as DEFAULT_PRODUCT, Product
from . import screens
from .progress import DoneScreen, ProgressScreen
from .screen import Screen, Session
from .widgets import HELP, PALETTE, Choice, text

SIZE = (80, 24)     # the smallest console the wizard is laid out for



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
        screen = self.app.current
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
                 choices: wizard.Choices | None = None):
        self.session = Session(machine, choices or wizard.defaults(machine), product, eula, backend)
        self.screens: dict[str, Screen] = {}
        self.history: list[str] = []
        self.current: Screen | None = None
        self.root = Root(self)
        self.config = None          # the InstallConfig, once the summary is confirmed
        self.outcome = None         # the engine's Outcome, once the install ended
        self.loop: urwid.MainLoop | None = None
        self._help_shown = False
        self.show(wizard.SCREENS[0])

    # -- navigation --------------------------------------------------------------------------
    def screen(self, name: str) -> Screen:
        if name not in self.screens:
            self.screens[name] = screens.SCREENS[name](self.session, self)
        return self.screens[name]

    def show(self, name: str) -> None:
        screen = self.screen(name)
        screen.refresh()
        self._set(screen)

    def _set(self, screen) -> None:
        self.current = screen
        p = self.session.product
        self.root.header.set_text(f" {p.brand} {p.version} installer\n {screen.title}")
        self.root.frame.body = screen.widget()
        self._help_shown = False

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
        self.show(self.history.pop())

    def toggle_help(self) -> None:
        screen = self.current
        if self._help_shown:
            self.root.frame.body = screen.widget()
        else:
            body = screen.help or "No more help for this screen."
            self.root.frame.body = urwid.ListBox([text(body), text(""), text("F1: back to the screen")])
        self._help_shown = not self._help_shown

    # -- side effects, through the backend -----------------------------------------------------
    def shell_allowed(self) -> bool:
        return isinstance(self.current, (screens.SCREENS["welcome"], DoneScreen))

    def shell(self) -> None:
        if self.loop:
            self.loop.screen.stop()
        self.session.backend.shell()
        if self.loop:
            self.loop.screen.start()

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
        self._set(DoneScreen(self, outcome))

    # -- on a terminal ---------------------------------------------------------------------------
    def run(self, screen: urwid.BaseScreen | None = None) -> None:
        self.loop = urwid.MainLoop(self.root, PALETTE, screen=screen, handle_mouse=False)
        self._lock, self._pending = threading.Lock(), []
        self._wake = self.loop.watch_pipe(self._drain)
        self.loop.run()
