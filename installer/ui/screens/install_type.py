"""Installation type: upgrade or restore what is on the disks, or install afresh."""
from ... import eligibility, offers, wizard
from ..screen import Screen
from ..widgets import Choice, blank, text


def _disk_text(machine, name: str) -> str:
    disk = next(d for d in machine.disks if d.name == name)
    return f"{name} ({offers.size_text(disk.size)}{', ' + disk.model if disk.model else ''})"


class InstallTypeScreen(Screen):
    name = "install-type"
    title = "Installation type"
    help = ("Upgrade keeps the host's settings and guest storage; the current installation is first "
            "copied to the backup partition, replacing the backup there. Restore copies the backup kept "
            "by an earlier upgrade back over the current installation, which is lost. A clean install "
            "erases the disks chosen next.")

    def build(self):
        m, p = self.session.machine, self.session.product
        options, details = [("fresh", "Clean install (erases the disks chosen next)", offers.fresh_refused(m))], []
        for e in eligibility.existing(m, p):
            where = _disk_text(m, e.disk)
            version = f" {e.version}" if e.version else ""
            options.append((f"upgrade:{e.disk}", f"Upgrade the installation{version} on {where} "
                            f"to {p.version}", e.upgrade_refused))
            if e.has_backup:
                options.append((f"restore:{e.disk}", f"Restore the backup on {where}", e.restore_refused))
            details.append(text(f"{where}: {e.product or p.brand}{version or ' (version not read)'}; "
                                + (f"not offered for upgrade: {e.upgrade_refused}" if e.upgrade_refused
                                   else "can be upgraded")
                                + ("; holds a backup" if e.has_backup else "")
                                + (f", not offered for restore: {e.restore_refused}"
                                   if e.has_backup and e.restore_refused else "")))
        selected = f"{self.c.action}:{self.c.existing_disk}" if self.c.action != "fresh" else "fresh"
        self.choice = self.add(Choice("action", options, selected, label="Found on this machine:"))
        return [self.choice, blank(), text("Details:"), *details]

    def keep(self):
        action, _, disk = self.choice.value.partition(":")
        self.c.action, self.c.existing_disk = action, disk

    def check(self):
        return wizard.check_install_type(self.c, self.session.machine, self.session.product)
