"""The guests the host shuts down when it powers off, read from `xl list`, how long they may take
within xendomains.service's stop timeout, and what the host says about each (pure;
/usr/lib/xenhost/stop-guests does it, tests/test_host_ready.py tests both).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

# systemd's time spans as `systemctl show` writes them: "6min", "1min 30s", "infinity"
_SPAN_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1, "min": 60, "h": 3600, "d": 86400, "w": 604800,
               "M": 2629800, "y": 31557600}
_SPAN_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(us|ms|min|s|h|d|w|M|y)?")


@dataclass(frozen=True)
class Domain:
    domid: int
    name: str
    state: str          # xl's flags: r running, b blocked, p paused, s shutdown, c crashed, d dying

    @property
    def ended(self) -> bool:
        """The guest's system has stopped (shut down, crashed, dying). The domain may still be
        listed: only xl's process watching it, or a destroy, removes it, and that process is
        gone when the login session that ran `xl create` was closed at shutdown."""
        return any(flag in self.state for flag in "scd")


def parse_xl_list(text: str) -> list[Domain]:
    """The guests (every domain but dom0) in `xl list` output: Name ID Mem VCPUs State Time(s),
    read from the right, since a name may hold spaces."""
    found = []
    for line in text.splitlines()[1:]:
        words = line.split()
        if len(words) < 6 or not words[-5].isdigit():
            continue
        domid = int(words[-5])
        if domid != 0:
            found.append(Domain(domid, " ".join(words[:-5]), words[-2]))
    return found


def settled(pending: dict[int, str], listed: list[Domain]) -> list[tuple[int, bool]]:
    """Which of the guests asked to shut down (domid -> name) have done it: (domid, whether
    its ended domain is still there to be destroyed), in domid order."""
    now = {d.domid: d for d in listed}
    return [(domid, domid in now) for domid in sorted(pending) if domid not in now or now[domid].ended]


def timespan(text: str) -> float | None:
    """Seconds in a systemd time span ("1min 30s" is 90.0; "infinity" and 0, no timeout, are
    math.inf); None when it is not one."""
    text = text.strip()
    if text == "infinity":
        return math.inf
    seconds, at = 0.0, 0
    while at < len(text):
        part = _SPAN_PART.match(text, at)
        if not part or part.end() == at:
            return None
        seconds += float(part.group(1)) * _SPAN_UNITS[part.group(2) or "s"]
        at = part.end()
    return (seconds or math.inf) if text else None


def wait_within(configured: float, stop_timeout: float, spent: float, reserve: float) -> float:
    """How long the guests may take: the configured wait, cut to what the stop timeout (after
    which systemd kills stop-guests, guests still running) leaves once the time already spent and
    the reserve (asking the guests, destroying what is left, a margin) are taken off."""
    return max(0.0, min(configured, stop_timeout - spent - reserve))


def cut_line(configured: float, wait: float, stop_timeout: float, reserve: float, source: str) -> str:
    return (f"XENDOMAINS_STOP_MAXWAIT={configured:.0f} cut to {wait:.0f} s: xendomains.service must stop "
            f"within {stop_timeout:.0f} s ({source}), and asking the guests and destroying what is left "
            f"need up to {reserve:.0f} s of it")


def asked_line(guests: list[Domain], wait: float) -> str:
    names = ", ".join(f"{d.name} ({d.domid})" for d in guests)
    return f"shutting down {len(guests)} guest{'s' if len(guests) != 1 else ''}, waiting up to {wait:.0f} s: {names}"


def stopped_line(name: str, domid: int, seconds: float) -> str:
    return f"guest {name} ({domid}) shut down after {seconds:.0f} s"


def destroyed_line(name: str, domid: int, wait: float, error: str = "") -> str:
    """error: why `xl destroy` failed ("" when it did not)."""
    late = f"guest {name} ({domid}) did not shut down within {wait:.0f} s"
    return f"{late}: destroyed" if not error else f"{late} and could not be destroyed (xl destroy: {error})"
