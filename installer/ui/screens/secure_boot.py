"""Secure Boot is enabled: the host this installs would not boot. Stop here (the default: Next then
says what to change in the firmware and offers Reboot) or go on, disabling it before the host's first
boot. Shown only when the firmware enforces Secure Boot (installer/secureboot.py, as the planner)."""
from ... import secureboot, wizard
from ..screen import Screen
from ..widgets import Choice, blank, text


class SecureBootScreen(Screen):
    name = "secure-boot"
    title = "Secure Boot is enabled"
    help = ("Secure Boot lets the firmware start only signed boot loaders; Debian's Xen and the host's "
            "GRUB are not signed. Stop here to change the firmware setting first: nothing is written. "
            "Continue installs now: the host boots once Secure Boot is disabled, and the answer file "
            'left on the host says so (<secure-boot action="continue"/>).')

    def build(self):
        self.choice = self.add(Choice("secure_boot", [
            ("stop", "Stop here: reboot and disable Secure Boot first", ""),
            ("continue", "Continue: I will disable Secure Boot before the host's first boot", "")],
            self.c.secure_boot, label="What now?"))
        return [text(f"{secureboot.WHAT} {secureboot.WHY}"), blank(), text(secureboot.FIRMWARE), blank(),
                self.choice]

    def keep(self):
        self.c.secure_boot = self.choice.value

    def check(self):
        errors = wizard.check_secure_boot(self.c, self.session.machine)
        if errors:      # stopping here: what to do, and the way out
            self.app.ask(wizard.SECURE_BOOT_STOP, [("Cancel", None), ("Reboot", self.app.reboot)])
        return errors
