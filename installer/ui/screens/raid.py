"""Software RAID1: mirror the primary disk onto a second one."""
from ... import offers
from ..screen import Screen
from ..widgets import Choice, text
from .primary_disk import disk_label


class RaidScreen(Screen):
    name = "raid"
    title = "Software RAID1"
    help = "RAID1 keeps the host running when one of the two disks fails. The partner disk is ERASED."

    def build(self):
        partners = offers.raid_partners(self.session.machine, self.c.primary_disk)
        rows = [("", f"No RAID: install on {self.c.primary_disk} only", "")]
        rows += [(d.name, disk_label(d, self.session.machine, prefix="RAID1 with "), "") for d in partners]
        self.choice = self.add(Choice("partner", rows, self.c.raid_partner,
                                      label=f"Mirror the primary disk {self.c.primary_disk} onto another disk?"))
        return [self.choice, text("The mirror is as large as the smaller disk.")]

    def refresh(self):
        self.rebuild()

    def keep(self):
        self.c.raid_partner = self.choice.value
        self.c.guest_disks = [d for d in self.c.guest_disks if d != self.c.raid_partner]
