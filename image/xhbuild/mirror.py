"""The Debian mirror to build trixie roots from, derived from this machine's apt configuration.

We never name a host ourselves: the first configured Debian archive (deb822 .sources or one-line
.list) is reused with the trixie suites.
"""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass

SUITE = "trixie"
# non-free-firmware: CPU microcode and the NIC/storage firmware (image/firmware.txt); the sources are
# inputs of the env and product build keys, so this choice is one too
COMPONENTS = "main non-free-firmware"


@dataclass(frozen=True)
class Mirror:
    archive: str            # e.g. http://<mirror>/debian
    security: str | None    # e.g. http://<mirror>/debian-security

    def sources(self) -> list[str]:
        """One-line apt sources for mmdebstrap (main archive, updates, security)."""
        out = [f"deb {self.archive} {SUITE} {COMPONENTS}", f"deb {self.archive} {SUITE}-updates {COMPONENTS}"]
        if self.security:
            out.append(f"deb {self.security} {SUITE}-security {COMPONENTS}")
        return out


def _entries(root: str = "/") -> list[tuple[str, list[str]]]:
    """(uri, suites) of every enabled 'deb' entry."""
    out = []
    etc = os.path.join(root, "etc/apt")
    for path in sorted(glob.glob(f"{etc}/sources.list.d/*.sources")):
        with open(path) as f:
            for stanza in re.split(r"\n\s*\n", f.read()):
                fields = {}
                for line in stanza.splitlines():
                    if line.startswith("#") or ":" not in line:
                        continue
                    key, _, value = line.partition(":")
                    fields[key.strip().lower()] = value.split()
                if "deb" in fields.get("types", []) and fields.get("enabled", ["yes"])[0] != "no":
                    for uri in fields.get("uris", []):
                        out.append((uri, fields.get("suites", [])))
    lists = [f"{etc}/sources.list"] + sorted(glob.glob(f"{etc}/sources.list.d/*.list"))
    for path in lists:
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                words = re.sub(r"\[[^]]*\]", "", line.split("#")[0]).split()
                if len(words) >= 3 and words[0] == "deb":
                    out.append((words[1], [words[2]]))
    return out


def _is_debian_suite(suite: str) -> bool:
    return suite.split("-")[0] in ("bookworm", "trixie", "stable", "testing", "bullseye")


def derive(root: str = "/") -> Mirror:
    archive = security = None
    for uri, suites in _entries(root):
        uri = uri.rstrip("/")
        if not any(_is_debian_suite(s) for s in suites):
            continue
        if any(s.endswith("-security") for s in suites) or uri.endswith("-security"):
            security = security or uri
        elif archive is None:
            archive = uri
    if archive is None:
        raise SystemExit("no Debian archive found in this machine's apt configuration "
                         "(/etc/apt/sources.list, /etc/apt/sources.list.d): cannot build trixie roots")
    return Mirror(archive, security)
