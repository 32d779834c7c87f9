"""Whether an installed host is ready, and the line that says so on its consoles.

Pure: what the installer wrote and what was observed go in, words come out. The probing and the
printing are /usr/lib/xenhost/host-ready's (xenhost-ready.service); tests/test_host_ready.py tests
both. Ready means: the toolstack answers (`xl info`), the management interface has a link (it is up
with carrier, and so is a NIC under it), holds its address (the one configured, or any global
address of its family for DHCP and autoconf), and SSH answers on that address (unless the
operator turned sshd off). Each part that is not ready is named in the line instead.
"""
from __future__ import annotations

import ipaddress
import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

SSH_PORT = 22
# an error quoted from a command stays on the line and short
_QUOTE = 100


def shell_vars(text: str) -> dict[str, str]:
    """KEY='value' assignments as the installer writes them (/etc/xensource-inventory,
    /etc/firstboot.d/data/management.conf); anything else is skipped."""
    found = {}
    for line in text.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        if len(words) == 1 and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0], re.S):
            key, _, value = words[0].partition("=")
            found[key] = value
    return found


@dataclass(frozen=True)
class Expected:
    interface: str                  # the management interface; "" when the inventory names none
    family: str                     # "inet" or "inet6": the management address's family
    address: str | None             # the static address configured; None: any (DHCP, autoconf)
    ssh_port: int = SSH_PORT
    ssh: bool = True                # False: the operator turned sshd off (<service name="ssh" ...>)
    nic: str = ""                   # the NIC the installer put on the management bridge (LABEL)


def expected(inventory: dict[str, str], management: dict[str, str]) -> Expected:
    """What the installer configured: MANAGEMENT_INTERFACE and MANAGEMENT_ADDRESS_TYPE from the
    inventory, the mode, static address and NIC from management.conf."""
    family = "inet6" if inventory.get("MANAGEMENT_ADDRESS_TYPE") == "IPv6" else "inet"
    mode, key = ("MODEV6", "IPv6") if family == "inet6" else ("MODE", "IP")
    static = management.get(key) if management.get(mode) == "static" else None
    if static:
        try:
            static = str(ipaddress.ip_interface(static).ip)
        except ValueError:
            pass                    # compared as written: it then never matches, and says so
    return Expected(inventory.get("MANAGEMENT_INTERFACE", ""), family, static or None,
                    nic=management.get("LABEL", ""))


# `systemctl is-enabled`'s answers for a unit that is off, or that has no unit file
_OFF = ("disabled", "masked", "masked-runtime", "not-found")


def enabled_state(code: int, out: str, err: str) -> str | None:
    """What `systemctl is-enabled UNIT` answered ("enabled", "disabled", "not-found" for a unit
    without a file, which systemd 252 says only on stderr); None when it gave no answer (it timed
    out, could not reach systemd): that is not "off"."""
    words = out.split()
    if len(words) == 1:
        return words[0]
    if not words and code != 0 and "No such file or directory" in err:
        return "not-found"
    return None


def ssh_wanted(enabled: dict[str, str | None]) -> bool:
    """Whether SSH must answer, from enabled_state of ssh.service and ssh.socket: not when each
    answered that it is off (an answer file can disable the service). A unit whose state is not
    known (None) counts as on: a slow systemctl must not turn the SSH check off."""
    return any(state is None or state not in _OFF for state in enabled.values()) if enabled else True


def usable_addresses(ip_json: str) -> tuple[str, ...]:
    """The global addresses ("10.0.2.15/24") in `ip -j addr show dev X` output, IPv4 first. An
    IPv6 address still in duplicate address detection (or that failed it) cannot be used yet."""
    try:
        links = json.loads(ip_json or "[]")
    except ValueError:
        return ()
    found = []
    for link in links if isinstance(links, list) else []:
        for a in link.get("addr_info", []):
            if a.get("scope") == "global" and not a.get("tentative") and not a.get("dadfailed") \
                    and a.get("family") in ("inet", "inet6"):
                found.append((a["family"] != "inet", f"{a['local']}/{a['prefixlen']}"))
    return tuple(address for _, address in sorted(found, key=lambda f: f[0]))


def _family(address: str) -> str:
    return "inet6" if ":" in address else "inet"


def management_address(exp: Expected, addresses: tuple[str, ...]) -> str | None:
    """The address SSH must answer on: the configured one if the interface holds it, else (DHCP,
    autoconf) its first address of the management family; None while there is none."""
    held = [a.split("/")[0] for a in addresses if _family(a) == exp.family]
    if exp.address is not None:
        return exp.address if exp.address in held else None
    return held[0] if held else None


@dataclass(frozen=True)
class Link:
    """A network device as /sys/class/net/<name>/ shows it."""
    operstate: str = "unknown"          # operstate: up, down, lowerlayerdown, dormant, unknown, ...
    carrier: bool | None = None         # carrier; None: unreadable, the device is not brought up
    lowers: tuple[str, ...] = ()        # its lower_<name> links: a bridge's ports, a VLAN's device
    bridge: bool = False                # a Linux bridge (it has bridge/)


# Xen's ports for guests (vif<domid>.<n>, tap<domid>.<n> and -emu): a running guest gives the
# bridge carrier, but carries nobody to the host from outside
_GUEST_PORT = re.compile(r"(?:vif|tap)\d+\.\d+(?:-emu)?")
# "unknown": a driver that keeps no operational state (virtual devices; a bridge without ports)
_OPERATIONAL = ("up", "unknown")


def _device_state(link: Link | None) -> str | None:
    """What keeps one device from carrying traffic, None when nothing does. The carrier comes
    first: operstate follows it a moment later (the kernel's link watch)."""
    if link is None:
        return "does not exist"
    if link.carrier is None:
        return "is down"
    if not link.carrier:
        return "has no carrier"
    return None if link.operstate in _OPERATIONAL else f"is {link.operstate}"


def _lowest(name: str, links: Mapping[str, Link], seen: frozenset[str]) -> list[str]:
    """The devices at the bottom of name's stack (itself when nothing is under it); a bridge
    with no port but guests' has none."""
    link = links.get(name)
    under = [d for d in (link.lowers if link else ()) if not _GUEST_PORT.fullmatch(d) and d not in seen]
    if not under:
        return [] if link is not None and link.bridge else [name]
    return [d for lower in under for d in _lowest(lower, links, seen | {lower})]


def link_problem(exp: Expected, links: Mapping[str, Link]) -> str | None:
    """Why the management interface has no link, None when it has one: it must be up with
    carrier, and so must at least one NIC under it (a bridge's port, the bridge under a VLAN
    interface and its ports). A static address stays on an interface without carrier and SSH
    then answers on it from the host itself, so the address and SSH alone do not tell."""
    name = exp.interface
    link = links.get(name)
    if link is None or link.carrier is None:
        return f"{name} {_device_state(link)}"
    lowest = _lowest(name, links, frozenset({name}))
    if lowest == [name] and exp.nic and exp.nic != name:
        # an Open vSwitch bridge's own port shows no lower device in sysfs (its NICs hang under
        # the datapath, ovs-system): the NIC the installer put on that bridge stands in for them
        lowest = [exp.nic]
    if not lowest:
        return f"{name} has no link (no NIC on the bridge)"
    states = {d: _device_state(links.get(d)) for d in lowest if d != name}
    if states and all(states.values()):
        dark = [d for d, state in states.items() if state == "has no carrier"]
        said = []
        if dark:
            direct = link.bridge and set(dark) <= set(link.lowers)
            ports = ("its port " if len(dark) == 1 else "its ports ") if direct else ""
            said.append(f"no carrier on {ports}{' '.join(dark)}")
        said += [f"{d} {state}" for d, state in states.items() if d not in dark]
        return f"{name} has no link ({', '.join(said)})"
    own = _device_state(link)
    return f"{name} {own}" if own else None


def xen_version(xl_info: str) -> str | None:
    """Xen's version from `xl info` ("4.20.5-pre"), None when its output has none."""
    info = dict(re.findall(r"^(\w+)\s*:\s*(.*?)\s*$", xl_info, re.M))
    if not info.get("xen_major") or not info.get("xen_minor"):
        return None
    return f"{info['xen_major']}.{info['xen_minor']}{info.get('xen_extra', '')}"


def quote(text: str) -> str:
    """A command's message as one short line (it goes inside the ready line)."""
    line = " ".join(text.replace("*", "").split())
    return line if len(line) <= _QUOTE else line[:_QUOTE - 3] + "..."


@dataclass(frozen=True)
class Observed:
    xen: str | None = None              # Xen's version: `xl info` answered
    xen_error: str = "not asked"        # otherwise why not
    addresses: tuple[str, ...] = ()     # the management interface's usable global addresses
    ssh_error: str | None = "not tried"  # None: SSH answered on the management address
    links: Mapping[str, Link] = field(default_factory=dict)     # /sys/class/net, by device name


def problems(exp: Expected, obs: Observed, waited: float) -> list[str]:
    """Each part of the host that is not ready, in words; empty when the host is ready.
    (Pools, once they exist, add their state here.)"""
    after = f"after {waited:.0f} s"
    found = []
    if obs.xen is None:
        found.append(f"xen: the toolstack does not answer {after} (xl info: {quote(obs.xen_error)})")
    target = management_address(exp, obs.addresses)
    kind = "IPv6" if exp.family == "inet6" else "IPv4"
    unlinked = link_problem(exp, obs.links) if exp.interface else None
    if not exp.interface:
        found.append("management: /etc/xensource-inventory names no MANAGEMENT_INTERFACE")
    elif unlinked:
        # the address may be there (static) or not (DHCP): the link is the cause either way
        found.append(f"management: {unlinked} {after}")
    elif target is None:
        wanted = f"its address {exp.address}" if exp.address else f"a global {kind} address"
        found.append(f"management: {exp.interface} does not hold {wanted} {after}")
    if exp.ssh and target is None:
        found.append("ssh: not tried without a management address")
    elif exp.ssh and obs.ssh_error is not None:
        where = f"[{target}]" if ":" in target else target
        found.append(f"ssh: not accepting connections on {where}:{exp.ssh_port} {after} ({quote(obs.ssh_error)})")
    return found


def ready_line(inventory: dict[str, str], hostname: str, failed: list[str], exp: Expected, obs: Observed,
               waited: float) -> str:
    """The one line on every console: HOST READY, HOST READY WITH FAILURES: <first-boot scripts
    that failed>, or HOST NOT READY: <each part not ready>; then the fields operators and the
    vm-tests read (xen=, hostname=, management=, address=), each one word."""
    wrong = problems(exp, obs, waited)
    if wrong:
        if failed:
            wrong.append(f"first boot: {' '.join(failed)} failed")
        state = "HOST NOT READY: " + "; ".join(wrong)
    elif failed:
        state = "HOST READY WITH FAILURES: " + " ".join(failed)
    else:
        state = "HOST READY"
    brand, version = inventory.get("PRODUCT_BRAND") or "Xenhost", inventory.get("PRODUCT_VERSION", "")
    product = f"{brand} {version}" if version else brand
    fields = (f"xen={obs.xen or 'none'} hostname={hostname or 'none'} management={exp.interface or 'none'} "
              f"address={','.join(obs.addresses) or 'none'}")
    return f"*** {product} {state}: {fields} ***"
