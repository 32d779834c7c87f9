"""Management network interface."""
from ..screen import Screen
from ..widgets import Choice, text


def nic_label(n) -> str:
    link = {True: "link up", False: "NO LINK", None: "link unknown"}[n.link]
    speed = f" {n.speed_mbps} Mb/s" if n.link and n.speed_mbps else ""
    return f"{n.name:<10} {n.mac}  {n.driver or '?':<10} {link}{speed}"


class NicScreen(Screen):
    name = "nic"
    title = "Management interface"
    help = "The host is managed through this interface; the toolstack bridges it (xenbr0, ...)."

    def build(self):
        rows = [(n.name, nic_label(n), "") for n in self.session.machine.nics]
        self.choice = self.add(Choice("nic", rows, self.c.nic, label="Manage the host through:"))
        return [self.choice, text("A NIC without link can be chosen; the install warns about it.")]

    def keep(self):
        self.c.nic = self.choice.value
