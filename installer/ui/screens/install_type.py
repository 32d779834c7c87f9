"""Installation type: upgrade or restore what is on the disks, or install afresh."""
from ... import offers, wizard
from ..screen import Screen
from ..widgets import Choice, blank, text


def _disk_text(machine, name: str) -> str:
    disk = next(d for d in machine.disks if d.name == name)
    return f"{name} ({offers.size_text(disk.size)}{', ' + disk.model if disk.model else ''})"


class InstallTypeScreen(Screen):
    name = "install-type"
    title = "Installation type"
    help = ("Upgrade keeps the host's settings and data and moves the current installation to the "
            "backup partition. Restore brings back the installation kept by an earlier upgrade. "
            "A clean install erases the disks chosen next.")

    def build(self):
        m, p = self.session.machine, self.session.product
        options, details = [("fresh", "Clean install (erases the disks chosen next)", "")], []
        for e in offers.existing(m):
            where = _disk_text(m, e.disk)
            version = f" {e.version}" if e.version else ""
            options.append((f"upgrade:{e.disk}", f"Upgrade the installation{version} on {where} "
                            f"to {p.version}", e.reason))
            if e.restore:
                options.append((f"restore:{e.disk}", f"Restore the backup on {where}", ""))
            details.append(text(f"{where}: {p.brand}{version or ' (version unknown)'}; "
                                + (f"not offered for upgrade: {e.reason}" if e.reason else "can be upgraded")
                                + ("; holds a backup" if e.restore else "")))
        selected = f"{self.c.action}:{self.c.existing_disk}" if self.c.action != "fresh" else "fresh"
        self.choice = self.add(Choice("action", options, selected, label="Found on this machine:"))
        return [self.choice, blank(), text("Details:"), *details]

    def keep(self):
        action, _, disk = self.choice.value.partition(":")
        self.c.action, self.c.existing_disk = action, disk

    def check(self):
        return wizard.check_install_type(self.c, self.session.machine)
