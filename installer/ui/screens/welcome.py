"""Welcome: what is about to happen, or why it cannot (no disk, no disk that can hold the host, no
network interface: offers.blockers says which, with the reason)."""
from ... import offers
from ..screen import Screen
from ..widgets import Hanging, blank, buttons, text


class WelcomeScreen(Screen):
    name = "welcome"
    title = "Welcome"
    start_on_next = True
    help = "F2 opens a root shell in the installer (exit it to come back)."

    def problems(self) -> list[str]:
        return offers.blockers(self.session.machine, self.session.product)

    def build(self):
        p = self.session.product
        body = [text(f"This installs {p.brand} {p.version}: Xen {p.xen_version} with a "
                     f"{p.platform_name} {p.platform_version} control domain."), blank(),
                text("The next screens ask for the disks, the network and the host's settings. "
                     "Nothing is written before the summary screen's Install button."), blank()]
        for problem in self.problems():
            body += [Hanging(("error", "! " + problem)), blank()]
        if self.problems():
            body.append(text("The install cannot continue. F2: shell, or reboot."))
        body.append(buttons(("Shell (F2)", self.app.shell), ("Reboot", self.app.ask_reboot)))
        return body

    def check(self):
        problems = self.problems()
        return {"machine": "nothing can be installed on this machine (see above)"} if problems else {}
