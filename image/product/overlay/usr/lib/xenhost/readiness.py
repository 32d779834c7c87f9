"""Whether an installed host is ready, and the line that says so on its consoles.

Pure: what the installer wrote and what was observed go in, words come out. The probing and the
printing are /usr/lib/xenhost/host-ready's (xenhost-ready.service); tests/test_host_ready.py tests
both. Ready means: the toolstack answers (`xl info`), the management interface holds its address
(the one configured, or any global address of its family for DHCP and autoconf), and SSH answers
on that address (unless the operator turned sshd off). Each part that is not ready is named in
the line instead.
"""
from __future__ import annotations

import ipaddress
import json
import re
import shlex
from dataclasses import dataclass

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


def expected(inventory: dict[str, str], management: dict[str, str]) -> Expected:
    """What the installer configured: MANAGEMENT_INTERFACE and MANAGEMENT_ADDRESS_TYPE from the
    inventory, the mode and static address from management.conf."""
    family = "inet6" if inventory.get("MANAGEMENT_ADDRESS_TYPE") == "IPv6" else "inet"
    mode, key = ("MODEV6", "IPv6") if family == "inet6" else ("MODE", "IP")
    static = management.get(key) if management.get(mode) == "static" else None
    if static:
        try:
            static = str(ipaddress.ip_interface(static).ip)
        except ValueError:
            pass                    # compared as written: it then never matches, and says so
    return Expected(inventory.get("MANAGEMENT_INTERFACE", ""), family, static or None)


def ssh_wanted(enabled: dict[str, str]) -> bool:
    """Whether SSH must answer, from `systemctl is-enabled` of ssh.service and ssh.socket: not when
    neither is on (an answer file can disable the service; "" is a unit that does not exist)."""
    off = ("disabled", "masked", "masked-runtime", "not-found", "")
    return any(state.strip() not in off for state in enabled.values()) if enabled else True


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


def problems(exp: Expected, obs: Observed, waited: float) -> list[str]:
    """Each part of the host that is not ready, in words; empty when the host is ready.
    (Pools, once they exist, add their state here.)"""
    after = f"after {waited:.0f} s"
    found = []
    if obs.xen is None:
        found.append(f"xen: the toolstack does not answer {after} (xl info: {quote(obs.xen_error)})")
    target = management_address(exp, obs.addresses)
    kind = "IPv6" if exp.family == "inet6" else "IPv4"
    if not exp.interface:
        found.append("management: /etc/xensource-inventory names no MANAGEMENT_INTERFACE")
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
