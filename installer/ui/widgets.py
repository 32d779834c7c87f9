"""The wizard's building blocks: named fields with an error line under them (gone once the value
changes), text fields greyed while they do not apply, radio and checkbox lists with greyed-out
entries that say why, button rows, framed boxes, and a question asked over the screen.

Everything reads without colour: focus is reverse video (a framed text's frame turns to '#' and
'='), disabled entries and fields are marked with '-' and their reason, errors start with '!'.
"""
from __future__ import annotations

from typing import Callable

import urwid

HELP = "Tab: next field  Arrows: move  Space/Enter: select  Esc: back  F1: help"
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
    walks a list field's rows in it). Changing the value clears the error: it was about the old
    value (the screen hears "error cleared")."""
    signals = ["error cleared"]

    def __init__(self, name: str, main: urwid.Widget, shown: urwid.Widget | None = None):
        self.name = name
        self.main = main
        self.shown = shown or main      # what the screen shows: main, or a box main scrolls in
        self._error = Hanging()
        self._pile = urwid.Pile([self.shown])
        super().__init__(self._pile)

    def set_error(self, message: str) -> None:
        self._error.set_text(("error", f"  ! {message}") if message else "")
        items = [(self.shown, self._pile.options())]
        if message:
            items.append((self._error, self._pile.options()))
        self._pile.contents = items
        self._pile.focus_position = 0

    @property
    def error(self) -> str:
        return self._error.text.removeprefix("  ! ") if len(self._pile.contents) > 1 else ""

    def changed(self) -> None:
        """The operator changed the value: an error about the one before no longer applies."""
        if self.error:
            self.set_error("")
            urwid.emit_signal(self, "error cleared")


class Field(Named):
    """A labelled one-line text entry: a long value scrolls sideways in its line (the cursor
    stays in view) rather than wrapping over the rows below."""

    def __init__(self, name: str, label: str, value: str = "", mask: str | None = None,
                 label_width: int = 22, on_change: Callable[[str], None] | None = None):
        self.edit = urwid.Edit("", value, mask=mask, wrap="clip")
        urwid.connect_signal(self.edit, "postchange", lambda *_: self.changed())
        if on_change:
            urwid.connect_signal(self.edit, "postchange", lambda *_: on_change(self.edit.edit_text))
        self._label = urwid.Text(label)
        self._entry = urwid.AttrMap(self.edit, "edit", "focus")
        self._row = urwid.Columns([(label_width, self._label), self._entry])
        super().__init__(name, self._row)

    def grey(self, reason: str) -> None:
        """reason: why the field does not apply now ("" = it does). Greyed, it shows '-' and the
        reason, and the cursor skips it (Tab, Enter); what was typed stays for when it applies."""
        shown = urwid.AttrMap(urwid.Text(f"-  {reason}"), "disabled") if reason else self._entry
        self._label.set_text(("disabled", self._label.text) if reason else self._label.text)
        self._row.contents[1] = (shown, self._row.contents[1][1])
        self.set_error("" if reason else self.error)    # also has the Pile see the row's new selectability

    @property
    def value(self) -> str:
        return self.edit.edit_text

    @value.setter
    def value(self, text: str) -> None:
        self.edit.set_edit_text(text)
        self.edit.set_edit_pos(len(text))


Option = tuple[str, str, str]   # value, label, reason it cannot be chosen ("" = it can)


def _disabled(label: str, reason: str) -> urwid.Widget:
    """A greyed option, its label and reason indented as a selectable option's are."""
    return urwid.AttrMap(Hanging(f" -  {label}\n(not usable: {reason})", indent=4), "disabled")


class Choice(Named):
    """One of several options (radio buttons); options with a reason are shown but not selectable."""

    def __init__(self, name: str, options: list[Option], selected: str = "",
                 on_change: Callable[[str], None] | None = None, label: str = "", height: int = 0,
                 across: int = 0):
        """height: a long list scrolls inside a box of that many rows (the label on its frame).
        across: a few short options side by side on one row (Left/Right move), starting that
        many columns in, as a text field's entry does (the label before them)."""
        self.group: list[urwid.RadioButton] = []
        self.buttons: dict[str, urwid.RadioButton] = {}
        self.on_change = on_change
        if across and any(reason for _, _, reason in options):
            raise ValueError("options side by side have no room for the reason one cannot be chosen")
        rows: list[urwid.Widget] = [urwid.Text(label)] if label and not height else []
        usable = [v for v, _, reason in options if not reason]
        selected = selected if selected in usable else (usable[0] if usable else "")
        self._chosen = selected     # urwid tells the new button before it unsets the old one
        for value, text, reason in options:
            if reason:
                rows.append(_disabled(text, reason))
                continue
            button = urwid.RadioButton(self.group, text, state=value == selected)
            # after the change ("change" comes before it): the field's value is the new one by then
            urwid.connect_signal(button, "postchange", self._changed, user_args=[value])
            self.buttons[value] = button
            rows.append(urwid.AttrMap(button, None, "focus"))
        if across:
            first = [(max(across - 2, len(label) + 1), rows[0])] if label else []    # 2: dividechars
            inner = urwid.Columns(first + [(len(b.label) + 4, rows[i + len(first)])
                                           for i, b in enumerate(self.buttons.values())], dividechars=2)
        else:
            inner = urwid.Pile(rows)
        self._row = {v: rows.index(next(r for r in rows if getattr(r, "base_widget", None) is b))
                     for v, b in self.buttons.items()}
        self._typed = ""
        if selected in self.buttons:    # start with the chosen option under the cursor
            inner.focus_position = self._row[selected]
        super().__init__(name, inner, scrolled(inner, height, label) if height else None)

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

    def _changed(self, value: str, button: urwid.RadioButton, _old_state: bool) -> None:
        if not button.state:
            return
        self._chosen = value
        self.changed()
        if self.on_change:
            self.on_change(value)

    @property
    def value(self) -> str:
        return self._chosen

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
            urwid.connect_signal(self.boxes[value], "postchange", lambda *_: self.changed())
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


def box(widget: urwid.Widget, title: str = "") -> urwid.LineBox:
    """A frame in plain ASCII: serial terminals and the VGA console font both show it."""
    return urwid.LineBox(widget, title=title, title_align="left", tlcorner="+", tline="-", lline="|",
                         trcorner="+", blcorner="+", rline="|", bline="-", brcorner="+")


def scrolled(widget: urwid.Widget, height: int, title: str = "") -> urwid.LineBox:
    """A list too long for the screen (keymaps, time zones) scrolls inside a framed box of height
    rows that follows the cursor, so the screen's buttons stay in view."""
    return box(urwid.BoxAdapter(urwid.ListBox(urwid.SimpleFocusListWalker([widget])), height), title)


class Hanging(urwid.WidgetWrap):
    """Text whose wrapped lines are indented (an error under a field, a greyed option): at 80
    columns a long message then never runs back to the left edge. indent: the width of the
    first line's prefix (default: its leading spaces and '!')."""

    def __init__(self, markup="", indent: int | None = None):
        self._indent = indent
        self._columns = urwid.Columns([])
        super().__init__(self._columns)
        self.set_text(markup)

    def set_text(self, markup) -> None:
        self._markup = markup
        attr, plain = markup if isinstance(markup, tuple) else (None, markup)
        width = self._indent if self._indent is not None else len(plain) - len(plain.lstrip(" !"))

        def styled(part: str):
            return (attr, part) if attr else part
        contents = [(urwid.Text(styled(plain[width:])), self._columns.options())]
        if width:
            contents.insert(0, (urwid.Text(styled(plain[:width])), self._columns.options(urwid.GIVEN, width)))
        self._columns.contents = contents

    @property
    def text(self) -> str:
        return self._markup[1] if isinstance(self._markup, tuple) else self._markup


class FocusBox(urwid.WidgetWrap):
    """A framed box that shows when it has the cursor, without colour: its frame is drawn with
    '=' and '#' and its title in reverse video then (a long text to scroll, such as the license)."""

    def __init__(self, widget: urwid.Widget, title: str = ""):
        self._plain = box(widget, title)
        self._focused = urwid.LineBox(widget, title=title, title_align="left", title_attr="focus",
                                      tlcorner="#", tline="=", lline="#", trcorner="#", blcorner="#",
                                      rline="#", bline="=", brcorner="#")
        super().__init__(self._plain)

    def render(self, size, focus: bool = False):
        return (self._focused if focus else self._plain).render(size, focus)


class Dialog(urwid.WidgetWrap):
    """A question in a box over the screen with a row of buttons; the first button (the safe
    answer) starts with the cursor. Tab and Shift-Tab move between the buttons."""

    def __init__(self, question: str, actions: list[tuple[str, Callable[[], None]]]):
        self.safe = actions[0][0]       # Esc answers this
        self.row = buttons(*actions)
        pile = urwid.Pile([text(question), blank(), self.row])
        pile.focus_position = 2
        super().__init__(box(pile))

    def keypress(self, size, key):
        key = {"tab": "right", "shift tab": "left"}.get(key, key)
        return super().keypress(size, key)


def margin(body: urwid.Widget) -> urwid.Padding:
    """A screen's body, one column in from each edge: text never touches the last column, where
    a character makes some serial terminals wrap the line."""
    return urwid.Padding(body, left=1, right=1)


def text(markup, align: str = "left") -> urwid.Text:
    return urwid.Text(markup, align=align)


def blank() -> urwid.Divider:
    return urwid.Divider()
