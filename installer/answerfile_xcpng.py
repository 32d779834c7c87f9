"""XCP-ng compatibility of the answer file: what XCP-ng's installer accepts and how it reads it,
where that reading differs from the plain rules of installer/answerfile.py. The readers use these
tables and translations, and say in a warning when XCP-ng's reading could surprise."""
from __future__ import annotations

from .config import NetworkBackend

# Optional attributes XCP-ng reads as absent when empty (attr=""): the same here, with a warning.
# Not mode="": a blank mode may be an unfilled template, and "fresh" would erase the disk.
OPTIONAL_ATTRIBUTES = {
    "installation": ("sr-type", "srtype", "repo-gpgcheck", "gpgcheck"),
    "primary-disk": ("guest-storage", "gueststorage", "sr-at-end", "preserve-first-partition"),
    "admin-interface": ("name", "hwaddr", "protov6", "vlan"),
    "root-password": ("type",),
    "source": ("repo-gpgcheck", "gpgcheck"),
    "post-install-script": ("type",), "install-failed-script": ("type",),
    "bootloader": ("location", "write-boot-entry"),
}
# What an upgrade reads; every other element is ignored (with a warning): the installation keeps
# its settings
UPGRADE_ONLY_READS = ("existing-installation", "source", "network-backend", "bootloader", "script",
                      "post-install-script", "install-failed-script", "driver-source", "secure-boot")
# XCP-ng's older script elements, and the <script stage="..."> each one means
SCRIPT_STAGES = {"post-install-script": "filesystem-populated",
                 "install-failed-script": "installation-complete"}
# old spellings of a network backend -> the backend they name
OLD_NETWORK_BACKENDS = {"vswitch": NetworkBackend.OPENVSWITCH}


def preserve_first(value: str) -> str:
    """preserve-first-partition: XCP-ng's yes/true, no/false or if-utility -> true|false|if-utility."""
    word = value.strip().lower()
    if word in ("yes", "true"):
        return "true"
    if word in ("no", "false"):
        return "false"
    if word == "if-utility":
        return word
    raise ValueError(f"expected yes/true, no/false or if-utility, got {value!r}")
