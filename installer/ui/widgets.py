"""The wizard's building blocks: named fields with an error line under them, radio and checkbox
lists with greyed-out entries that say why, and a screen frame with title, buttons and help line.

Everything reads without colour: focus is reverse video, disabled entries are marked with '-' and
their reason, errors start with '!'.
"""
from __future__ import annotations

from typing import Callable

import urwid

HELP = "Tab: next field  Up/Down: move  Space/Enter: select  Esc: back  F1: help"
PALETTE = [
    # name, foreground, background, mono (no colours: focus is reverse video)
    ("title", "white,bold", "dark blue", "bold"),
    ("focus", "black", "light gray", "standout"),
    ("edit", "light gray,underline", "default", "underline"),
    ("error", "light red,bold", "default", "bold"),
    ("disabled", "dark gray", "default", ""),
    ("help", "black", "light gray", "standout"),
    ("bar", "light gray", "dark blue", ""),
    ("bar done", "black", "light gray", "standout"),
]


class Named(urwid.WidgetWrap):
    """A field of a screen: has a name (for tests and the answers file) and an error line that
    appears under it only while there is an error. main is the field's own widget (ui/drive.py
    walks a list field's rows in it)."""

    def __init__(self, name: str, main: urwid.Widget):
        self.name = name
        self.main = main
        self._error = urwid.Text("")
        self._pile = urwid.Pile([main])
        super().__init__(self._pile)

    def set_error(self, message: str) -> None:
        self._error.set_text(("error", f"  ! {message}") if message else "")
        items = [(self.main, self._pile.options())]
        if message:
            items.append((self._error, self._pile.options()))
        self._pile.contents = items
        self._pile.focus_position = 0

    @property
    def error(self) -> str:
        return self._error.text.removeprefix("  ! ") if len(self._pile.contents) > 1 else ""


class Field(Named):
    """A labelled one-line text entry."""

    def __init__(self, name: str, label: str, value: str = "", mask: str | None = None,
                 label_width: int = 22, on_change: Callable[[str], None] | None = None):
        self.edit = urwid.Edit("", value, mask=mask)
        if on_change:
            urwid.connect_signal(self.edit, "postchange", lambda *_: on_change(self.edit.edit_text))
        row = urwid.Columns([(label_width, urwid.Text(label)), urwid.AttrMap(self.edit, "edit", "focus")])
        super().__init__(name, row)

    @property
    def value(self) -> str:
        return self.edit.edit_text

    @value.setter
    def value(self, text: str) -> None:
        self.edit.set_edit_text(text)
        self.edit.set_edit_pos(len(text))


Option = tuple[str, str, str]   # value, label, reason it cannot be chosen ("" = it can)


def _disabled(label: str, reason: str) -> urwid.Widget:
    return urwid.AttrMap(urwid.Text(f" -  {label}  (not usable: {reason})"), "disabled")


class Choice(Named):
    """One of several options (radio buttons); options with a reason are shown but not selectable."""

    def __init__(self, name: str, options: list[Option], selected: str = "",
                 on_change: Callable[[str], None] | None = None, label: str = ""):
        self.group: list[urwid.RadioButton] = []
        self.buttons: dict[str, urwid.RadioButton] = {}
        self.on_change = on_change
        rows: list[urwid.Widget] = [urwid.Text(label)] if label else []
        usable = [v for v, _, reason in options if not reason]
        selected = selected if selected in usable else (usable[0] if usable else "")
        for value, text, reason in options:
            if reason:
                rows.append(_disabled(text, reason))
                continue
            button = urwid.RadioButton(self.group, text, state=value == selected)
            urwid.connect_signal(button, "change", self._changed, user_args=[value])
            self.buttons[value] = button
            rows.append(urwid.AttrMap(button, None, "focus"))
        inner = urwid.Pile(rows)
        self._row = {v: rows.index(next(r for r in rows if getattr(r, "base_widget", None) is b))
                     for v, b in self.buttons.items()}
        self._typed = ""
        if selected in self.buttons:    # start with the chosen option under the cursor
            inner.focus_position = self._row[selected]
        super().__init__(name, inner)

    def keypress(self, size, key):
        key = super().keypress(size, key)
        if key is not None and len(key) == 1 and key.isprintable() and key != " ":
            return None if self.find(key) else key
        self._typed = ""
        return key

    @property
    def under_cursor(self) -> str:
        row = self.main.focus_position
        return next((v for v, r in self._row.items() if r == row), "")

    def find(self, char: str) -> bool:
        """Type to find: the cursor goes to the option named exactly what was typed, else the next
        one starting with it ("fr-l"); a letter that extends no match starts a new search, so
        pressing one letter again cycles through the options starting with it."""
        values = list(self._row)
        if not values:
            return False
        label = {v: str(self.buttons[v].label).lower() for v in values}
        here = values.index(self.under_cursor) if self.under_cursor in values else -1

        def search(typed: str, start: int) -> str | None:
            order = values[start:] + values[:start]
            return (next((v for v in order if label[v] == typed), None)
                    or next((v for v in order if label[v].startswith(typed)), None))

        typed = (self._typed + char).lower()
        hit = search(typed, max(here, 0)) if self._typed else None
        if hit is None:
            typed = char.lower()
            hit = search(typed, here + 1)
        if hit is None:
            self._typed = ""
            return False
        self._typed = typed
        self.main.focus_position = self._row[hit]
        return True

    def _changed(self, value: str, _button, state: bool) -> None:
        if state and self.on_change:
            self.on_change(value)

    @property
    def value(self) -> str:
        return next((v for v, b in self.buttons.items() if b.state), "")

    @value.setter
    def value(self, value: str) -> None:
        self.buttons[value].set_state(True)

    def labels(self) -> dict[str, str]:
        return {v: b.label for v, b in self.buttons.items()}


class Checks(Named):
    """Any number of options (checkboxes); options with a reason are shown but not selectable."""

    def __init__(self, name: str, options: list[Option], selected: list[str], label: str = ""):
        self.boxes: dict[str, urwid.CheckBox] = {}
        rows: list[urwid.Widget] = [urwid.Text(label)] if label else []
        for value, text, reason in options:
            if reason:
                rows.append(_disabled(text, reason))
                continue
            self.boxes[value] = urwid.CheckBox(text, state=value in selected)
            rows.append(urwid.AttrMap(self.boxes[value], None, "focus"))
        if not self.boxes:
            rows.append(urwid.Text(" (none)"))
        super().__init__(name, urwid.Pile(rows))

    @property
    def value(self) -> list[str]:
        return [v for v, b in self.boxes.items() if b.state]

    @value.setter
    def value(self, chosen: list[str]) -> None:
        for v, b in self.boxes.items():
            b.set_state(v in chosen)

    def labels(self) -> dict[str, str]:
        return {v: b.label for v, b in self.boxes.items()}


def button(label: str, on_press: Callable[[], None]) -> urwid.Widget:
    b = urwid.Button(label, on_press=lambda _b: on_press())
    return urwid.AttrMap(b, None, "focus")


def buttons(*pairs: tuple[str, Callable[[], None]]) -> urwid.Columns:
    """A row of buttons, each as wide as its label."""
    return urwid.Columns([(len(label) + 4, button(label, action)) for label, action in pairs], dividechars=2)


def box(widget: urwid.Widget) -> urwid.LineBox:
    """A frame in plain ASCII: serial terminals and the VGA console font both show it."""
    return urwid.LineBox(widget, tlcorner="+", tline="-", lline="|", trcorner="+", blcorner="+",
                         rline="|", bline="-", brcorner="+")


def text(markup, align: str = "left") -> urwid.Text:
    return urwid.Text(markup, align=align)


def blank() -> urwid.Divider:
    return urwid.Divider()
