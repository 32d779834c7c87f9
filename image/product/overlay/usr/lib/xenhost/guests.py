"""The guests the host shuts down when it powers off, read from `xl list`, and what the host says
about each (pure; /usr/lib/xenhost/stop-guests does it, tests/test_host_ready.py tests both).
"""
from __future__ import annotations

from dataclasses import dataclass


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


def asked_line(guests: list[Domain], wait: float) -> str:
    names = ", ".join(f"{d.name} ({d.domid})" for d in guests)
    return f"shutting down {len(guests)} guest{'s' if len(guests) != 1 else ''}, waiting up to {wait:.0f} s: {names}"


def stopped_line(name: str, domid: int, seconds: float) -> str:
    return f"guest {name} ({domid}) shut down after {seconds:.0f} s"


def destroyed_line(name: str, domid: int, wait: float) -> str:
    return f"guest {name} ({domid}) did not shut down within {wait:.0f} s: destroyed"
