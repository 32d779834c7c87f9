"""Storage repository type for the local guest storage."""
from ..screen import Screen
from ..widgets import Choice


class SRTypeScreen(Screen):
    name = "sr-type"
    title = "Local storage type"
    help = ("ext: thin-provisioned VHD files on an ext4 file system (snapshots use little space). "
            "lvm: thick-provisioned logical volumes (slightly faster, full size allocated).")

    def build(self):
        self.choice = self.add(Choice("sr_type", [("ext", "ext: thin provisioning (VHD files on ext4)", ""),
                                                  ("lvm", "lvm: thick provisioning (logical volumes)", "")],
                                      self.c.sr_type, label="Local storage repository type:"))
        return [self.choice]

    def keep(self):
        self.c.sr_type = self.choice.value
