"""Welcome: what is about to happen, or why it cannot (no disk, no network interface)."""
from ..screen import Screen
from ..widgets import blank, buttons, text


class WelcomeScreen(Screen):
    name = "welcome"
    title = "Welcome"
    start_on_next = True
    help = "F2 opens a root shell in the installer (exit it to come back)."

    def problems(self) -> list[str]:
        m = self.session.machine
        found = []
        if not m.disks:
            found.append("No disk was found. Check that the disk controller is enabled in the firmware "
                         "and supported by this installer.")
        if not m.nics:
            found.append("No network interface was found. A host needs one for its management network.")
        return found

    def build(self):
        p = self.session.product
        body = [text(f"This installs {p.brand} {p.version}: Xen {p.xen_version} with a "
                     f"{p.platform_name} {p.platform_version} control domain."), blank(),
                text("The next screens ask for the disks, the network and the host's settings. "
                     "Nothing is written before the summary screen's Install button."), blank()]
        for problem in self.problems():
            body += [text(("error", "! " + problem)), blank()]
        if self.problems():
            body.append(text("The install cannot continue. F2: shell, or reboot."))
        body.append(buttons(("Shell (F2)", self.app.shell), ("Reboot", self.app.reboot)))
        return body

    def check(self):
        problems = self.problems()
        return {"machine": " ".join(problems)} if problems else {}
