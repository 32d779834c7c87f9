"""Root password (typed twice, hidden) and an optional SSH public key for root."""
from ... import passwd, wizard
from ..screen import Screen
from ..widgets import Field, blank, text


class PasswordScreen(Screen):
    name = "password"
    title = "Root password"
    help = (f"At least {passwd.MIN_LENGTH} characters ({passwd.GOOD_LENGTH} or more recommended). "
            "Only its hash is kept. The SSH key (one line: type, base64 data, comment) lets root log "
            "in over SSH with that key.")

    def build(self):
        # the plaintext lives only in these two widgets, so Back and Next keep it
        self.password = self.add(Field("password", "Password:", "", mask="*"))
        self.confirm = self.add(Field("confirm", "Again:", "", mask="*"))
        self.key = self.add(Field("ssh_key", "SSH key (optional):", self.c.ssh_key))
        return [text("The password of the host's root account:"), blank(), self.password, self.confirm,
                blank(), self.key]

    def keep(self):
        self.c.ssh_key = self.key.value.strip()

    def check(self):
        errors = wizard.check_password(self.password.value, self.confirm.value, self.c.ssh_key)
        if not errors:
            wizard.set_password(self.c, self.password.value)
        return errors
