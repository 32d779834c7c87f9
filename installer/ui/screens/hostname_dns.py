"""Host name and DNS servers: from DHCP, or typed in (typing selects "Manual")."""
from ... import wizard
from ..screen import Screen
from ..widgets import Choice, Field, blank


class HostnameDnsScreen(Screen):
    name = "hostname-dns"
    title = "Host name and DNS"
    help = ("A host name such as host1 or host1.example.com. Name servers: IP addresses separated by "
            "spaces. Typing into a field chooses Manual for it. Without DHCP both must be typed in; "
            "with static IPv4, Manual is chosen to begin with.")

    def build(self):
        c = self.c
        no_dhcp = wizard.names_dhcp_refused(c)
        modes = [("dhcp", "From DHCP", no_dhcp), ("manual", "Manual:", "")]
        self.hmode = self.add(Choice("hostname_mode", modes, c.hostname_mode, label="Host name:"))
        self.host = self.add(Field("hostname", "  Host name:", c.hostname, on_change=self._typed(self.hmode)))
        self.dmode = self.add(Choice("dns_mode", modes, c.dns_mode, label="Name servers:"))
        self.dns = self.add(Field("name_servers", "  Name servers:", " ".join(c.name_servers),
                                  on_change=self._typed(self.dmode)))
        return [self.hmode, self.host, blank(), self.dmode, self.dns]

    @staticmethod
    def _typed(mode: Choice):
        """What is typed is what the operator means: its radio moves to Manual."""
        def changed(text: str) -> None:
            if text.strip():
                mode.value = "manual"
        return changed

    def refresh(self):
        self.rebuild()      # the modes follow the IPv4 choice made on the network screen

    def keep(self):
        c = self.c
        c.hostname_mode, c.hostname = self.hmode.value, self.host.value.strip()
        c.dns_mode, c.name_servers = self.dmode.value, wizard.split_list(self.dns.value)

    def check(self):
        return wizard.check_hostname_dns(self.c)
