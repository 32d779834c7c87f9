"""License: the product tree's EULA, accepted before anything else is asked."""
import urwid

from ..screen import Screen
from ..widgets import Checks, FocusBox, blank, text


def paragraphs(license_text: str) -> list[str]:
    """The license's hard-wrapped lines joined into paragraphs that wrap to the box (a text wrapped
    at 78 columns would break every line in a 76-column box); a line that starts indented or
    with a list mark starts a new paragraph, a blank line is kept."""
    out: list[str] = []
    for line in license_text.splitlines():
        starts = not line.strip() or line[:1].isspace() or line.lstrip()[:2] in ("- ", "* ", "o ")
        if out and out[-1].strip() and not starts:
            out[-1] += " " + line.strip()
        else:
            out.append(line.rstrip())
    return out


class EulaScreen(Screen):
    name = "eula"
    title = "License agreement"
    help = "Read the license (Up/Down, Page Up/Page Down) and tick the box to accept it."

    def build(self):
        body = [text(p) for p in paragraphs(self.session.eula or "(no license text in the product tree)")]
        self.accept = self.add(Checks("accept", [("yes", "I accept the license agreement", "")],
                                      ["yes"] if self.c.eula_accepted else []))
        # the cursor starts on the text: its frame shows it (Up/Down scroll it, Tab goes to the box)
        return [urwid.BoxAdapter(FocusBox(urwid.ListBox(body)), 14), blank(), self.accept]

    def keep(self):
        self.c.eula_accepted = self.accept.value == ["yes"]

    def check(self):
        return {} if self.c.eula_accepted else {"accept": "accept the license to install"}
