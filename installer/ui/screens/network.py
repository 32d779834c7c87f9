"""IPv4 (DHCP or static), optional IPv6 and VLAN for the management interface."""
from ... import wizard
from ..screen import Screen
from ..widgets import Choice, Field, blank, text


class NetworkScreen(Screen):
    name = "network"
    title = "Management network"
    help = ("Static IPv4: the address, the netmask (255.255.255.0) or prefix length (24), and an "
            "optional gateway in the same subnet. IPv6 static: address/prefix. VLAN: 1-4094, empty "
            "for none. The static fields are used only when static is chosen.")

    def build(self):
        c = self.c
        nic = text(f"{'Interface:':22}{c.nic} (chosen on the screen before)")
        self.v4 = self.add(Choice("ipv4_mode", [("dhcp", "DHCP", ""), ("static", "Static", "")], c.ipv4_mode,
                                  label="IPv4:", across=22, on_change=lambda _mode: self.grey_unused()))
        self.addr = self.add(Field("ipv4_address", "  Address:", c.ipv4_address))
        self.mask = self.add(Field("ipv4_netmask", "  Netmask or prefix:", c.ipv4_netmask))
        self.gw = self.add(Field("ipv4_gateway", "  Gateway:", c.ipv4_gateway))
        self.v6 = self.add(Choice("ipv6_mode", [("none", "None", ""), ("dhcp", "DHCPv6", ""),
                                                ("autoconf", "Autoconf (SLAAC)", ""), ("static", "Static", "")],
                                  c.ipv6_mode, label="IPv6:", across=22, on_change=lambda _mode: self.grey_unused()))
        self.addr6 = self.add(Field("ipv6_address", "  Address/prefix:", c.ipv6_address))
        self.gw6 = self.add(Field("ipv6_gateway", "  Gateway:", c.ipv6_gateway))
        self.vlan = self.add(Field("vlan", "VLAN (optional):", c.vlan))
        self.grey_unused()
        # the options side by side: with every field in error the screen still fits 80x24
        return [nic, self.v4, self.addr, self.mask, self.gw, blank(), self.v6, self.addr6, self.gw6, blank(), self.vlan]

    def refresh(self):
        self.rebuild()          # the interface line follows a NIC chosen again on the screen before

    def grey_unused(self) -> None:
        """Address fields apply to a static choice only: greyed otherwise, so the cursor skips them."""
        for field in (self.addr, self.mask, self.gw):
            field.grey("" if self.v4.value == "static" else "for static IPv4 only")
        for field in (self.addr6, self.gw6):
            field.grey("" if self.v6.value == "static" else "for static IPv6 only")

    def keep(self):
        c = self.c
        wizard.set_ipv4_mode(c, self.v4.value)
        c.ipv6_mode = self.v6.value
        c.ipv4_address, c.ipv4_netmask, c.ipv4_gateway = (f.value.strip() for f in (self.addr, self.mask, self.gw))
        c.ipv6_address, c.ipv6_gateway, c.vlan = (f.value.strip() for f in (self.addr6, self.gw6, self.vlan))

    def check(self):
        return wizard.check_network(self.c)
