"""The installer's own network, brought up before anything is fetched: for an answer file named on
the boot line (network_device=, ip=...), for SSH into the installer, and for the wizard's network
source (its management interface). The installed host's network is another matter (hostconfig).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from . import runner
from .errors import InstallerError

SYS_NET = "/sys/class/net"
RESOLV_CONF = "/etc/resolv.conf"
DHCP_TIMEOUT = 120


@dataclass(frozen=True)
class Static:
    address: str                    # with its prefix length: 192.0.2.10/24
    gateway: str | None = None
    dns: tuple[str, ...] = ()


def interfaces() -> list[str]:
    """Every network interface of this machine but the loopback, by name."""
    return sorted(n for n in os.listdir(SYS_NET) if n != "lo")


def named(device: str) -> list[str]:
    """The interfaces network_device= names: all of them, the one with that MAC address, or the
    one of that name."""
    nics = interfaces()
    if device == "all":
        return nics
    by_mac = {}
    for nic in nics:
        with open(f"{SYS_NET}/{nic}/address") as f:
            by_mac[f.read().strip().lower()] = nic
    return [by_mac.get(device.lower(), device)]


def bring_up(nics: list[str], static: Static | None = None, vlan: int | None = None,
             purpose: str = "") -> str:
    """Links up; a VLAN interface on the first NIC if asked; then the static address on the first
    (or the VLAN) interface, else DHCP on every one. What was configured, in words ("eth0
    192.0.2.10/24"); InstallerError, naming the purpose, without a lease."""
    for nic in nics:
        runner.run(["ip", "link", "set", nic, "up"], check=False)
    if vlan:
        name = f"{nics[0]}.{vlan}"
        runner.run(["ip", "link", "add", "link", nics[0], "name", name, "type", "vlan", "id", str(vlan)])
        runner.run(["ip", "link", "set", name, "up"])
        nics = [name]
    if static is not None:
        # replace: network_device= with sshpassword= may have brought DHCP up at boot already
        runner.run(["ip", "addr", "replace", static.address, "dev", nics[0]])
        if static.gateway:
            runner.run(["ip", "route", "replace", "default", "via", static.gateway])
        if static.dns:
            with open(RESOLV_CONF, "w") as f:
                f.write("".join(f"nameserver {d}\n" for d in static.dns))
        return f"{nics[0]} {static.address}"
    res = runner.run(["dhclient", "-1", "-4", *nics], check=False, timeout=DHCP_TIMEOUT)
    if res.returncode:
        raise InstallerError(f"no DHCP lease on {', '.join(nics)}{purpose}: {res.stderr.strip()[-200:]}")
    return addresses()


def take_down(nics: list[str], vlan: int | None = None) -> None:
    """Undo bring_up(nics, ..., vlan) before it is done again with other settings (the operator
    corrected an address, gateway or VLAN): the VLAN interface goes, the addresses, the default
    route and the DHCP client's lease are dropped. Links stay up."""
    if vlan:
        runner.run(["ip", "link", "del", f"{nics[0]}.{vlan}"], check=False)
    runner.run(["dhclient", "-r", "-4", *nics], check=False, timeout=30)
    for nic in nics:
        runner.run(["ip", "-4", "addr", "flush", "dev", nic, "scope", "global"], check=False)
    runner.run(["ip", "-4", "route", "del", "default"], check=False)


def addresses() -> str:
    """This machine's global IPv4 addresses: "eth0 10.0.2.15/24; ..."."""
    out = runner.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], check=False).stdout
    return "; ".join(" ".join(line.split()[1:4:2]) for line in out.splitlines())
