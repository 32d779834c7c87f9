"""Primary disk: where the host is installed (the rest of it becomes guest storage)."""
from ... import holdings, layout, offers, wizard
from ..screen import Screen
from ..widgets import Choice, blank, text


def disk_label(d, machine, prefix: str = "") -> str:
    """Two lines that fit 80 columns with the longest names (nvme10n1, a 40-character model):
    name, size and model; then serial and what the disk holds now, by name (an installation and
    its version, its backup, a local SR), a long one wrapping under it."""
    first = f"{prefix}{d.name:<9}{offers.size_text(d.size):>10}  {d.model or '(model unknown)'}"
    now = holdings.brief(d, machine)
    second = "; ".join(x for x in (f"serial {d.serial}" if d.serial else "", f"now: {now}") if x)
    return f"{first}\n{second}"


class PrimaryDiskScreen(Screen):
    name = "primary-disk"
    title = "Primary disk"
    help = (f"The host's own partitions take {layout.fixed_mib() / 1024:.1f} GiB; the rest of the "
            "disk becomes local guest storage. Everything on the chosen disk is erased.")

    def build(self):
        rows = [(o.name, disk_label(o.disk, self.session.machine), o.reason) for o in offers.primary_disks(self.session.machine)]
        self.choice = self.add(Choice("disk", rows, self.c.primary_disk,
                                      label="Install onto (this disk will be ERASED):"))
        return [self.choice, blank(),
                text(f"Disks smaller than {offers.size_text(layout.MIN_PRIMARY_DISK)} cannot hold the host.")]

    def keep(self):
        if self.choice.value != self.c.primary_disk:    # a different disk: earlier picks no longer fit
            self.c.guest_disks = [d for d in self.c.guest_disks if d != self.choice.value]
            self.c.raid_partner = ""
        self.c.primary_disk = self.choice.value

    def check(self):
        return wizard.check_primary_disk(self.c, self.session.machine)
