"""Summary: every choice, and every disk the install erases, before anything is written."""
from ... import holdings, offers, wizard
from ..screen import Screen
from ..widgets import blank, text


def _disk(machine, name: str) -> str:
    d = next((d for d in machine.disks if d.name == name), None)
    if d is None:
        return name
    return f"{d.path} ({offers.size_text(d.size)}{', ' + d.model if d.model else ''}" \
           f"{', serial ' + d.serial if d.serial else ''}; now: {holdings.content(d)})"


class SummaryScreen(Screen):
    name = "summary"
    title = "Summary"
    help = "Install starts writing to the disks listed as ERASED. Back changes any answer."
    next_label = "Install"

    def refresh(self):
        self.rebuild()

    def build(self):
        c, m = self.c, self.session.machine
        rows = []
        if c.action == "upgrade":
            rows.append(text(f"Upgrade the installation on {_disk(m, c.existing_disk)}; its settings and "
                             "guest storage are kept, the current installation moves to the backup partition."))
        elif c.action == "restore":
            rows.append(text(f"Restore the backup on {_disk(m, c.existing_disk)}; the current installation "
                             "is replaced by the backup."))
        else:
            erased = wizard.disks_erased(c)
            rows.append(text(("error", f"ALL DATA ON THESE {len(erased)} DISK(S) WILL BE ERASED:")))
            rows += [text(f"  {_disk(m, d)}") for d in erased]
            rows.append(blank())
            storage = f"RAID1 of {c.primary_disk} and {c.raid_partner}" if c.raid_partner else c.primary_disk
            rows.append(text(f"Install onto: {storage}; local storage: {c.sr_type}"))
            rows.append(text(f"Management: {self.network()}"))
            rows.append(text(f"Host name: {c.hostname if c.hostname_mode == 'manual' else 'from DHCP'}; "
                             f"DNS: {' '.join(c.name_servers) if c.dns_mode == 'manual' else 'from DHCP'}"))
            rows.append(text(f"Time zone: {wizard.timezone_name(c)}; NTP: {self.ntp()}"))
            rows.append(text(f"Root password: set{'; SSH key: ' + c.ssh_key.split()[0] if c.ssh_key else ''}"))
        if c.action != "restore":
            where = "local media" if c.source_type == "local" else c.source_location
            rows.append(text(f"Source: {where}" + (" (verified)" if c.verify_source else "")))
        rows.append(text(f"Keyboard: {c.keymap}"))
        return rows

    def network(self) -> str:
        c = self.c
        v4 = "DHCP" if c.ipv4_mode == "dhcp" else f"{c.ipv4_address}/{c.ipv4_netmask} gw {c.ipv4_gateway or '-'}"
        v6 = {"none": "", "dhcp": ", IPv6 DHCP", "autoconf": ", IPv6 autoconf"}.get(c.ipv6_mode, f", IPv6 {c.ipv6_address}")
        vlan = f", VLAN {c.vlan}" if c.vlan else ""
        return f"{c.nic} IPv4 {v4}{v6}{vlan}"

    def ntp(self) -> str:
        c = self.c
        return {"dhcp": "from DHCP", "default": "default servers", "none": "none"}.get(c.ntp_mode, " ".join(c.ntp_servers))
