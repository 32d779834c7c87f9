"""Drive the wizard with keys, as an operator would, without a terminal: render a screen to text,
find a named field, type into it, pick an option, press Next. The view tests and the answers file
(`python -m installer tui --answers`) both use it.
"""
from __future__ import annotations

import tomllib

import urwid

from .app import SIZE, App
from .screen import Screen
from .widgets import Checks, Choice, Field, Named


class DriveError(Exception):
    pass


def render(app: App, size: tuple[int, int] = SIZE) -> list[str]:
    canvas = app.root.render(size, focus=True)
    return [line.decode("utf-8", "replace").rstrip() for line in canvas.text]


def screen_text(app: App, size: tuple[int, int] = SIZE) -> str:
    return "\n".join(render(app, size))


def press(app: App, *keys: str) -> None:
    for key in keys:
        app.root.render(SIZE, focus=True)      # as the main loop does between keys
        app.root.keypress(SIZE, key)


def focused(app: App) -> urwid.Widget:
    return app.current.walker.get_focus()[0]


def field(app: App, name: str) -> Named:
    try:
        return app.current.fields[name]
    except KeyError:
        raise DriveError(f"screen {app.current.name!r} has no field {name!r} "
                         f"(it has: {', '.join(app.current.fields)})") from None


def focus(app: App, target: urwid.Widget) -> None:
    """Tab until target has the focus (Tab wraps around; a greyed field is not on the way)."""
    if not target.selectable():
        raise DriveError(f"{getattr(target, 'name', target)!r} does not apply now (greyed out)")
    walker = app.current.walker
    for _ in range(2 * len(walker) + 2):
        if focused(app) is target:
            return
        press(app, "tab")
    raise DriveError(f"could not reach {getattr(target, 'name', target)!r} with Tab")


def type_text(app: App, name: str, text: str) -> None:
    f = field(app, name)
    if not isinstance(f, Field):
        raise DriveError(f"{name!r} is not a text field")
    focus(app, f)
    press(app, "end", *["backspace"] * len(f.value), *text)


def _walk_to(app: App, f: Named, widget: urwid.Widget) -> None:
    """Move the cursor inside a list field (Up/Down, Left/Right when side by side) onto one of its buttons."""
    pile = f.main
    rows = [w.base_widget for w, _ in pile.contents]
    want = rows.index(widget)
    keys = ("right", "left") if isinstance(pile, urwid.Columns) else ("down", "up")
    for _ in range(len(rows) + 1):
        if pile.focus_position == want:
            return
        press(app, keys[0] if want > pile.focus_position else keys[1])
    raise DriveError(f"could not move to {widget!r} in {f.name!r}")


def choose(app: App, name: str, value: str) -> None:
    f = field(app, name)
    if not isinstance(f, Choice):
        raise DriveError(f"{name!r} is not a list of options")
    if value not in f.buttons:
        raise DriveError(f"{name!r} has no selectable option {value!r} (options: {', '.join(f.buttons)})")
    focus(app, f)
    _walk_to(app, f, f.buttons[value])
    press(app, " ")


def tick(app: App, name: str, values: list[str]) -> None:
    f = field(app, name)
    if not isinstance(f, Checks):
        raise DriveError(f"{name!r} is not a list of checkboxes")
    unknown = set(values) - set(f.boxes)
    if unknown:
        raise DriveError(f"{name!r} has no selectable option {', '.join(sorted(unknown))} "
                         f"(options: {', '.join(f.boxes)})")
    focus(app, f)
    for value, box in f.boxes.items():
        if box.state != (value in values):
            _walk_to(app, f, box)
            press(app, " ")


def set_value(app: App, name: str, value) -> None:
    f = field(app, name)
    if isinstance(f, Field):
        type_text(app, name, str(value))
    elif isinstance(f, Choice):
        choose(app, name, str(value))
    elif isinstance(f, Checks):
        tick(app, name, [str(v) for v in value])


def next_(app: App) -> None:
    """Tab to the button row's first button (Next / Install / Continue) and press Enter."""
    if not getattr(app.current, "can_go_on", True):
        raise DriveError(f"screen {app.current.name!r} has no Next button (nothing after it can work)")
    row = app.current.walker[-1]
    for _ in range(2 * len(app.current.walker) + 2):
        if focused(app) is row and row.focus_position == 0:
            break
        press(app, "tab")
    press(app, "enter")


def errors(app: App) -> dict[str, str]:
    found = {n: f.error for n, f in app.current.fields.items() if f.error}
    if app.current.message.text.startswith("!"):
        found["(screen)"] = app.current.message.text
    return found


def run_answers(app: App, answers: dict[str, dict]) -> list[str]:
    """Answer each screen from answers[screen name] and press Next until the install has run.
    Returns the names of the screens shown, in order."""
    shown, used = [], set()
    while isinstance(app.current, Screen):
        screen = app.current
        shown.append(screen.name)
        if len(shown) > 100:
            raise DriveError("the wizard does not end: " + " -> ".join(shown[-10:]))
        for name, value in answers.get(screen.name, {}).items():
            set_value(app, name, value)
        used.add(screen.name)
        next_(app)
        if app.current is screen:
            raise DriveError(f"screen {screen.name!r} refused its answers: {errors(app)}\n{screen_text(app)}")
    unused = set(answers) - used
    if unused:
        raise DriveError(f"answers for screens that were not shown: {', '.join(sorted(unused))}")
    return shown


def load_answers(path: str) -> dict[str, dict]:
    with open(path, "rb") as f:
        return tomllib.load(f)
