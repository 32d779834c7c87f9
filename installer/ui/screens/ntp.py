"""NTP: servers from DHCP, the default public servers, typed-in servers (typing selects them), or none."""
from ... import wizard
from ...config import DEFAULT_NTP_SERVERS
from ..screen import Screen
from ..widgets import Choice, Field


class NtpScreen(Screen):
    name = "ntp"
    title = "Time synchronisation (NTP)"
    help = (f"Default servers: {', '.join(DEFAULT_NTP_SERVERS)}. Manual: host names or addresses, space "
            "separated; typing them chooses \"These servers\". Servers from DHCP need DHCP for IPv4.")

    def build(self):
        self.mode = self.add(Choice("ntp_mode", [("dhcp", "Servers from DHCP", wizard.ntp_dhcp_refused(self.c)),
                                                 ("default", "The default public servers", ""),
                                                 ("manual", "These servers:", ""),
                                                 ("none", "No NTP", "")], self.c.ntp_mode, label="NTP:"))
        self.servers = self.add(Field("ntp_servers", "  Servers:", " ".join(self.c.ntp_servers),
                                      on_change=self._typed))
        return [self.mode, self.servers]

    def _typed(self, text: str) -> None:
        if text.strip():
            self.mode.value = "manual"

    def refresh(self):
        self.rebuild()      # the mode follows the IPv4 choice made on the network screen

    def keep(self):
        self.c.ntp_mode, self.c.ntp_servers = self.mode.value, wizard.split_list(self.servers.value)

    def check(self):
        return wizard.check_ntp(self.c)
