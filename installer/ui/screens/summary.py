"""Summary: every choice, and every disk the install erases, before anything is written; the lines
come from installer.wizard_summary, the button says what it starts (Install, Upgrade, Restore)."""
import urwid

from ... import wizard_summary
from ..screen import Screen
from ..widgets import FocusBox, text

WIDTH = 78      # the body's width at 80 columns (a column of margin each side)
ROOM = 18       # body rows at 80x24 above the blank, the message line and the buttons


class SummaryScreen(Screen):
    name = "summary"
    title = "Summary"
    help = ("The button starts writing to the disks: a clean install erases the disks listed as "
            "ERASED; an upgrade or a restore writes only to the partitions it names. Back changes any answer.")

    @property
    def next_label(self) -> str:
        return wizard_summary.button(self.c)

    start_on_next = True        # on Install, also when the summary scrolls in its box
    scrolls = False

    def refresh(self):
        self.rebuild()

    def build(self):
        rows = []
        for line in wizard_summary.lines(self.c, self.session.machine, self.session.product):
            row = text(("error", line.text) if line.alarm else line.text)
            rows.append(urwid.Padding(row, left=line.indent) if line.indent else row)
        self.scrolls = sum(r.rows((WIDTH,)) for r in rows) > ROOM
        if not self.scrolls:
            return rows
        # many erased disks with long holdings: the lines scroll in a box (the erase warning on
        # its first row), so the title, the message and the button stay on the 80x24 screen
        inner = urwid.ListBox(urwid.SimpleFocusListWalker([urwid.Padding(r, left=1, right=1) for r in rows]))
        return [urwid.BoxAdapter(FocusBox(inner,
                                          "Up/Down scroll the summary"), ROOM - 1)]
