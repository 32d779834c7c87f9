"""Secure Boot as the installer sees it: read from the firmware's variables (efivarfs), cross-checked
with the kernel's lockdown, and the one rule the planner and the wizard both apply.

The installer media boot under Secure Boot (Debian's signed shim, GRUB and kernel), but the host
they install cannot: Debian's Xen is not signed, signed GRUB cannot load Xen (no multiboot2, and no
module from disk under lockdown), and the host's own EFI/BOOT/BOOTX64.EFI is an unsigned GRUB. So
on a machine whose firmware enforces Secure Boot a host is installed only when the operator accepted
it (answer file, boot line or wizard), knowing to disable Secure Boot before the host's first boot;
otherwise the plan is refused before any disk is touched. When the state cannot be read, the plan
warns with what to check in the firmware, and the install goes on (firmware without efivars).

read_state() reads files (their paths are parameters, for tests); everything else is pure.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .machine import Machine

EFI_GLOBAL = "8be4df61-93ca-11d2-aa0d-00e098032b8c"     # the UEFI spec's global variable GUID
EFIVARS = "/sys/firmware/efi/efivars"
LOCKDOWN = "/sys/kernel/security/lockdown"
ACTIONS = ("stop", "continue")      # <secure-boot action=...>, secureboot=...; stop is the default
ACCEPT = '<secure-boot action="continue"/> in the answer file or secureboot=continue on the boot line'

# The words every front end uses (plan, console, wizard), so they cannot drift apart.
WHAT = ("Secure Boot is enabled in this machine's firmware: it starts only boot loaders signed with "
        "a key it trusts.")
WHY = ("This installer started through Debian's signed boot loader, but the host it installs would "
       "not boot: Debian's Xen and the host's GRUB are not signed, so the firmware would refuse them.")
FIRMWARE = ("In the firmware setup (a key such as F2, Del or F10 at power-on), set Secure Boot to "
            "Disabled: usually Security or Boot > Secure Boot > Disabled, on some machines OS type "
            '"Other OS" instead of "Windows UEFI mode". Clearing or resetting the Secure Boot keys is '
            "not needed.")


@dataclass(frozen=True)
class State:
    """What the probe found: enabled is True when the firmware enforces Secure Boot, False when it
    does not (off, Setup Mode, no Secure Boot support, BIOS boot), None when it could not be read."""
    enabled: bool | None
    setup_mode: bool = False
    evidence: str = ""          # what was read, in words, for the log


def _variable(directory: Path, name: str) -> int | None | str:
    """A one-byte UEFI global variable from efivarfs (4 attribute bytes, then the value): its value;
    None when the firmware does not have it; "unreadable" when it cannot be read as one."""
    try:
        data = (directory / f"{name}-{EFI_GLOBAL}").read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        return "unreadable"
    return data[4] if len(data) == 5 and data[4] in (0, 1) else "unreadable"


def lockdown_mode(path: str | Path = LOCKDOWN) -> str:
    """The kernel's lockdown mode (the bracketed word of "none [integrity] confidentiality"); ""
    when the file is absent or unreadable. Debian's kernel locks itself down (integrity) when the
    firmware enforces Secure Boot."""
    try:
        text = Path(path).read_text()
    except OSError:
        return ""
    chosen = [w.strip("[]") for w in text.split() if w.startswith("[") and w.endswith("]")]
    return chosen[0] if chosen else ""


def _listed(directory: Path) -> bool:
    """efivarfs is mounted and can be listed: a directory with entries (not mounted: empty; a
    listing refused, e.g. PermissionError, is as good as not mounted)."""
    try:
        return directory.is_dir() and any(directory.iterdir())
    except OSError:
        return False


def read_state(uefi: bool, efivars: str | Path = EFIVARS, lockdown: str | Path = LOCKDOWN) -> State:
    """The machine's Secure Boot state. The firmware's SecureBoot and SetupMode variables decide
    (they are what the firmware enforces at the host's boot); the kernel's lockdown is the cross-check
    and the fallback when efivarfs cannot be read (not mounted)."""
    if not uefi:
        return State(False, evidence="BIOS boot: no Secure Boot")
    locked = lockdown_mode(lockdown)
    kernel = f"kernel lockdown: {locked or 'not known'}"
    directory = Path(efivars)
    secure = _variable(directory, "SecureBoot") if _listed(directory) else "unreadable"
    if secure == "unreadable":
        if locked in ("integrity", "confidentiality"):
            return State(True, evidence=f"efivarfs not readable at {efivars}; {kernel} (the kernel locks "
                                        "itself down when the firmware enforces Secure Boot)")
        return State(None, evidence=f"efivarfs not readable at {efivars}; {kernel}")
    if secure is None:
        return State(False, evidence=f"no SecureBoot variable: the firmware has no Secure Boot; {kernel}")
    setup = _variable(directory, "SetupMode") == 1
    found = f"SecureBoot={secure} SetupMode={1 if setup else 0}; {kernel}"
    if setup:       # no platform key enrolled: nothing is verified, whatever SecureBoot says
        return State(False, setup_mode=True, evidence=found)
    if secure == 1 and locked in ("", "none"):
        found += " (the firmware variable decides: the firmware checks the host's boot loader)"
    return State(secure == 1, evidence=found)


# -- the rule ---------------------------------------------------------------------------------------
def enforcing(machine: Machine) -> bool:
    """The firmware refuses unsigned boot loaders: the installed host would not boot."""
    return machine.boot_mode == "uefi" and machine.secure_boot is True


def shown(machine: Machine) -> str:
    """The machine's Secure Boot state in a word or two (probe's text output)."""
    if machine.boot_mode != "uefi":
        return "none (BIOS boot)"
    if machine.secure_boot_setup_mode:
        return "Setup Mode (not enforced)"
    return {True: "enforced", False: "off", None: "not known"}[machine.secure_boot]


# why an install on firmware that enforces Secure Boot is refused, with what to do
REFUSAL = (f"{WHAT} {WHY} {FIRMWARE} Then start the install again; or, to install now and disable "
           f"Secure Boot before the host's first boot, accept it with {ACCEPT}.")
ACCEPTED = ("Secure Boot is ENABLED in the firmware and the install goes on because it was accepted "
            "(<secure-boot action=\"continue\"/>, secureboot=continue or the wizard's Continue): the "
            "installed host will NOT boot until Secure Boot is disabled in the firmware setup (Security "
            "or Boot > Secure Boot > Disabled, or OS type \"Other OS\"; the keys need not be cleared). "
            "Debian's Xen and the host's GRUB are not signed.")
REMINDER = ("Secure Boot is still enabled: as the machine restarts, disable it in the firmware setup "
            "(Security or Boot > Secure Boot > Disabled), or the host does not boot.")
SETUP_MODE = ("Secure Boot: the firmware is in Setup Mode (no platform key enrolled), so it enforces "
              "nothing and the host will boot. Enrolling keys later turns Secure Boot on, and the host "
              "would then no longer boot: keep Secure Boot disabled.")
# Not known is not a refusal (firmware without efivars must still install), but never silence: the
# probe reads None only when efivarfs is unreadable and the kernel shows no lockdown.
UNKNOWN = ("Secure Boot: its state could not be read (the firmware's variables in efivarfs were not "
           "readable, and the kernel's lockdown does not show it enforced). If Secure Boot is enabled in "
           "the firmware, the installed host will not boot (Debian's Xen and the host's GRUB are not "
           "signed): check the firmware setup (a key such as F2, Del or F10 at power-on; Security or Boot "
           "> Secure Boot) and make sure it is Disabled.")
UNKNOWN_SHORT = ("Secure Boot: its state could not be read; if it is enabled in the firmware, the host "
                 "will not boot: check the firmware setup (Security or Boot > Secure Boot) and disable it.")


def unknown(machine: Machine) -> bool:
    """A UEFI boot whose Secure Boot state could not be read: the host may not boot (a warning)."""
    return machine.boot_mode == "uefi" and machine.secure_boot is None and not machine.secure_boot_setup_mode


def accepted(machine: Machine, cfg) -> bool:
    """The install went on under Secure Boot: the operator must still disable it (the done screen)."""
    return enforcing(machine) and cfg is not None and cfg.secure_boot == "continue"


def verdict(machine: Machine, action: str, writes_boot_loader: bool = True) -> tuple[str, list[str]]:
    """(why the install is refused, "" when it is not; warnings for the plan). Only an install that
    writes a boot loader is concerned; BIOS boot and firmware that does not enforce are not; a state
    not known is a warning, never a refusal."""
    if not writes_boot_loader or machine.boot_mode != "uefi":
        return "", []
    if enforcing(machine):
        return ("", [ACCEPTED]) if action == "continue" else (REFUSAL, [])
    if machine.secure_boot_setup_mode:
        return "", [SETUP_MODE]
    return "", [UNKNOWN] if unknown(machine) else []
