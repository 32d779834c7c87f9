"""License: the product tree's EULA, accepted before anything else is asked."""
import urwid

from ..screen import Screen
from ..widgets import Checks, FocusBox, blank, text


class EulaScreen(Screen):
    name = "eula"
    title = "License agreement"
    help = "Read the license (Up/Down, Page Up/Page Down) and tick the box to accept it."

    def build(self):
        body = [text(line) for line in (self.session.eula or "(no license text in the product tree)").splitlines()]
        self.accept = self.add(Checks("accept", [("yes", "I accept the license agreement", "")],
                                      ["yes"] if self.c.eula_accepted else []))
        # the cursor starts on the text: its frame shows it (Up/Down scroll it, Tab goes to the box)
        return [urwid.BoxAdapter(FocusBox(urwid.ListBox(body)), 14), blank(), self.accept]

    def keep(self):
        self.c.eula_accepted = self.accept.value == ["yes"]

    def check(self):
        return {} if self.c.eula_accepted else {"accept": "accept the license to install"}
