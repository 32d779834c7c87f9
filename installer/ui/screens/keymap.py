"""Keymap: the console keyboard layout, applied at once so the following screens type right."""
from ... import values, wizard
from ..screen import Screen
from ..widgets import Choice

COMMON = ("us", "uk", "de", "fr", "fr-latin1", "es", "it", "jp106", "br-abnt2", "dvorak")
HEIGHT = 14         # rows of the scrolling list: with its frame, the buttons and an error, 80x24 holds it


class KeymapScreen(Screen):
    name = "keymap"
    title = "Keyboard layout"
    help = ("Choose the keyboard layout of this console; a clean install gives it to the host too "
            "(an upgrade or a restore keeps the host's own). "
            "Up/Down and Page Up/Page Down scroll the list; typing a name moves to it.")
    can_go_back = False

    def build(self):
        common = [k for k in COMMON if k in values.keymaps()]
        rest = sorted(values.keymaps() - set(common))
        # some 200 keymaps: they scroll inside a box, so Next stays on the 80x24 screen
        self.choice = self.add(Choice("keymap", [(k, k, "") for k in common + rest], self.c.keymap,
                                      label="Keyboard layout (the most common first)", height=HEIGHT))
        return [self.choice]

    def keep(self):
        self.c.keymap = self.choice.value

    def check(self):
        errors = wizard.check_keymap(self.c.keymap)
        if not errors:
            self.session.backend.set_keymap(self.c.keymap)
        return errors
