"""Welcome: what is about to happen, or why it cannot (no disk, no disk that can hold the host, no
network interface: offers.blockers says which, with the reason)."""
from ... import offers
from ..screen import Screen
from ..widgets import Hanging, blank, buttons, text


class WelcomeScreen(Screen):
    name = "welcome"
    title = "Welcome"
    help = "F2 opens a root shell in the installer (exit it to come back; in a dry run: your own shell)."

    def problems(self) -> list[str]:
        return offers.blockers(self.session.machine, self.session.product)

    @property
    def can_go_on(self) -> bool:        # blocked: no Next to press in vain
        return not self.problems()

    @property
    def start_on_next(self) -> bool:    # blocked: on Reboot instead
        return not self.problems()

    def build(self):
        p = self.session.product
        problems = self.problems()
        body = [text(f"This installs {p.brand} {p.version}: Xen {p.xen_version} with a "
                     f"{p.platform_name} {p.platform_version} control domain."), blank()]
        if not problems:
            body += [text("The next screens ask for the disks, the network and the host's settings. "
                          "Nothing is written before the summary screen's Install button."), blank()]
        for problem in problems:
            body += [Hanging(("error", "! " + problem)), blank()]
        if problems:
            body.append(text("The install cannot continue: nothing was written. Shell (F2) to look "
                             "closer, or reboot after changing the hardware."))
        row = buttons(("Shell (F2)", self.app.shell), ("Reboot", self.app.ask_reboot))
        if problems:
            row.focus_position = 1      # the cursor starts on Reboot (focus_start finds this row first)
        body.append(row)
        return body

    def check(self):
        problems = self.problems()
        return {"machine": "nothing can be installed on this machine (see above)"} if problems else {}
