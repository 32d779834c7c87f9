"""Host name and DNS servers: from DHCP, or typed in."""
from ... import wizard
from ..screen import Screen
from ..widgets import Choice, Field, blank


class HostnameDnsScreen(Screen):
    name = "hostname-dns"
    title = "Host name and DNS"
    help = ("A host name such as host1 or host1.example.com. Name servers: IP addresses separated by "
            "spaces. Without DHCP both must be typed in.")

    def build(self):
        c = self.c
        self.hmode = self.add(Choice("hostname_mode", [("dhcp", "From DHCP", ""), ("manual", "Manual:", "")],
                                     c.hostname_mode, label="Host name:"))
        self.host = self.add(Field("hostname", "  Host name:", c.hostname))
        self.dmode = self.add(Choice("dns_mode", [("dhcp", "From DHCP", ""), ("manual", "Manual:", "")],
                                     c.dns_mode, label="Name servers:"))
        self.dns = self.add(Field("name_servers", "  Name servers:", " ".join(c.name_servers)))
        return [self.hmode, self.host, blank(), self.dmode, self.dns]

    def keep(self):
        c = self.c
        c.hostname_mode, c.hostname = self.hmode.value, self.host.value.strip()
        c.dns_mode, c.name_servers = self.dmode.value, wizard.split_list(self.dns.value)

    def check(self):
        return wizard.check_hostname_dns(self.c)
