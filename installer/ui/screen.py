"""The base of every wizard screen: a title, named fields, a message line, Back/Next buttons.

A screen copies its widgets' values into the shared Choices and asks installer.wizard to check
them; it never decides anything itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import urwid

from .. import wizard
from ..machine import Machine
from ..product import Product
from .widgets import Hanging, Named, blank, buttons, margin

if TYPE_CHECKING:
    from ..wizard_backend import Backend
    from .app import App


@dataclass
class Session:
    machine: Machine
    choices: wizard.Choices
    product: Product
    eula: str
    backend: "Backend"


ECHO = 32      # a message quotes at most this much of what was typed (a pasted line stays on screen)


def shortened(message: str) -> str:
    """message with every long value it quotes cut short: the field above shows what was typed whole."""
    return re.sub(r"""(['"])([^'"\n]{%d,})\1""" % (ECHO + 1),
                  lambda m: m.group(1) + m.group(2)[:ECHO - 3] + "..." + m.group(1), message)


class Screen:
    name = ""
    title = ""
    help = ""                       # F1
    next_label = "Next"
    can_go_on = True                # False: no Next button (nothing after this screen can work)
    can_go_back = True
    start_on_next = False           # the cursor starts on Next rather than on the first field
                                    # (it does anyway on a screen without fields)

    def __init__(self, session: Session, app: "App"):
        self.session, self.app = session, app
        self.c = session.choices
        self.fields: dict[str, Named] = {}
        self.message = Hanging()     # a long message wraps under its text, not at the edge
        self._marked = False            # the message is the one about fields marked with !
        self.walker = urwid.SimpleFocusListWalker([])
        self.rebuild()

    # -- for subclasses ----------------------------------------------------------------------
    def build(self) -> list[urwid.Widget]:
        raise NotImplementedError

    def keep(self) -> None:
        """Copy what the widgets show into the choices, unchecked (Back keeps it too)."""

    def check(self) -> wizard.Errors:
        return {}

    def refresh(self) -> None:
        """Shown again: screens that depend on earlier answers rebuild here."""

    # -- shared ----------------------------------------------------------------------------
    def add(self, widget: Named) -> Named:
        self.fields[widget.name] = widget
        urwid.connect_signal(widget, "error cleared", self._corrected)
        return widget

    def _corrected(self, *_) -> None:
        """A marked field changed: once no field is marked, the line asking to correct them goes."""
        if self._marked and not any(f.error for f in self.fields.values()):
            self.message.set_text("")
            self._marked = False

    def rebuild(self) -> None:
        self.fields = {}
        body = self.build()
        # Next first: Tab from the last field lands on it, and Enter goes on, never back
        labels = ([self.next_label] if self.can_go_on else []) + (["Back"] if self.can_go_back else [])
        actions = ([self.app.next] if self.can_go_on else []) + ([self.app.back] if self.can_go_back else [])
        row = buttons(*zip(labels, actions))
        self.walker[:] = [*body, blank(), self.message, row]
        self.focus_start()

    def focus_start(self) -> None:
        """The cursor where hands expect it on entering the screen (coming back too): the first
        field that applies (or the text to read), else Next (Install on the summary), never Back."""
        row = self.walker[-1]
        if row.contents:
            row.focus_position = 0
        first = next((i for i, w in enumerate(self.walker) if w is not row and w.selectable()), None)
        self.walker.set_focus(len(self.walker) - 1 if self.start_on_next or first is None else first)

    def save(self) -> wizard.Errors:
        self.keep()
        errors = self.check()
        self.show_errors(errors)
        return errors

    def show_errors(self, errors: wizard.Errors) -> None:
        for name, field in self.fields.items():
            field.set_error(shortened(errors.get(name, "")))
        loose = [m for n, m in errors.items() if n not in self.fields]
        self._marked = bool(errors) and not loose
        if self._marked:
            loose = ["please correct the fields marked with !"]
        self.message.set_text(("error", "! " + "; ".join(loose)) if loose else "")
        first = next((f for n, f in self.fields.items() if n in errors), None)
        if first is not None and first in self.walker:
            self.walker.set_focus(self.walker.index(first))

    def say(self, message: str) -> None:
        self.message.set_text(message)

    def widget(self) -> urwid.Widget:
        return margin(urwid.ListBox(self.walker))
