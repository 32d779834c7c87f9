"""License: the product tree's EULA, accepted before anything else is asked."""
import urwid

from ..screen import Screen
from ..widgets import Checks, blank, box, text


class EulaScreen(Screen):
    name = "eula"
    title = "License agreement"
    help = "Read the license (Up/Down, Page Up/Page Down) and tick the box to accept it."

    def build(self):
        body = [text(line) for line in (self.session.eula or "(no license text in the product tree)").splitlines()]
        self.accept = self.add(Checks("accept", [("yes", "I accept the license agreement", "")],
                                      ["yes"] if self.c.eula_accepted else []))
        return [urwid.BoxAdapter(box(urwid.ListBox(body)), 14), blank(), self.accept]

    def keep(self):
        self.c.eula_accepted = self.accept.value == ["yes"]

    def check(self):
        return {} if self.c.eula_accepted else {"accept": "accept the license to install"}
