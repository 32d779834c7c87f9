"""Summary: every choice, and every disk the install erases, before anything is written; the lines
come from installer.wizard_summary, the button says what it starts (Install, Upgrade, Restore)."""
import urwid

from ... import wizard_summary
from ..screen import Screen
from ..widgets import text


class SummaryScreen(Screen):
    name = "summary"
    title = "Summary"
    help = ("The button starts writing to the disks: a clean install erases the disks listed as "
            "ERASED; an upgrade or a restore writes only to the partitions it names. Back changes any answer.")

    @property
    def next_label(self) -> str:
        return wizard_summary.button(self.c)

    def refresh(self):
        self.rebuild()

    def build(self):
        rows = []
        for line in wizard_summary.lines(self.c, self.session.machine, self.session.product):
            row = text(("error", line.text) if line.alarm else line.text)
            rows.append(urwid.Padding(row, left=line.indent) if line.indent else row)
        return rows
