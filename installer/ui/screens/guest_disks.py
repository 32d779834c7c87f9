"""Guest disks: more disks for the local storage repository."""
from ... import offers, wizard
from ..screen import Screen
from ..widgets import Checks
from .primary_disk import disk_label


class GuestDisksScreen(Screen):
    name = "guest-disks"
    title = "Guest storage disks"
    help = "Ticked disks are ERASED and join the local storage repository with the primary disk's free space."

    def build(self):
        rows = [(o.name, disk_label(o.disk, self.session.machine), o.reason)
                for o in offers.guest_disks(self.session.machine, wizard.taken(self.c))]
        self.checks = self.add(Checks("disks", rows, self.c.guest_disks,
                                      label="Also use for guest storage (ticked disks will be ERASED):"))
        return [self.checks]

    def refresh(self):
        self.rebuild()

    def keep(self):
        self.c.guest_disks = [d for d in self.checks.value if d not in wizard.taken(self.c)]
