"""Shared parts of the installer media scenarios (test_iso.py, test_pxe.py, test_tui.py): booting the
installer from the ISO with a boot line typed at GRUB, waiting for an unattended install, checking
the installed host once it has booted from its own disk, and recording each scenario's timings.
The artifacts and servers these use are fixtures (conftest.py).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time

from harness import VM
from timings import PATH as TIMINGS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARTIFACTS = os.path.join(ROOT, "build", "vm-tests")
SERVER = "10.0.2.100"          # the guests' name for the test's HTTP server (guestfwd)
INSTALL_TIMEOUT = 1200         # TCG; installs took about 1 min here, first boots about 75-120 s
BOOT_TIMEOUT = 900


def copy_tree(src: str, dest: str) -> None:
    """A real copy (hard links where possible): an NFS client cannot follow our symlinks."""
    def link(s, d):
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)
    shutil.copytree(src, dest, copy_function=link)


def blank_disk(path: str, fill: bytes = b"", size: int = 50 << 30) -> str:
    with open(path, "wb") as f:
        f.write(fill)
        f.truncate(size)
    return path


def boot_iso(name: str, iso: str, disk: str, port: int, args: str, firmware: str = "bios",
             extra_disks: list[str] | None = None, nfs_port: int | None = None) -> VM:
    """Boot the ISO and, at GRUB's command line over the serial console, give the installer's boot
    line with args (as an operator editing the entry would; again at each power-on)."""
    def at_grub(vm: VM) -> None:
        vm.wait_for(r"install with serial console", 300)
        vm.send(b"c")
        vm.wait_for(r"grub> ", 60)
        vm.type_line("linux /live/vmlinuz boot=live net.ifnames=0 console=tty0 console=ttyS0,115200 " + args,
                     "grub> ")
        vm.type_line("initrd /live/initrd.img", "grub> ")
        vm.send(b"boot\r")

    out = os.path.join(ARTIFACTS, name)
    os.makedirs(out, exist_ok=True)
    return VM("installer", disk, firmware, out, memory_mib=1024, cdrom=iso, extra_disks=extra_disks,
              guestfwd=[f"{SERVER}:80=127.0.0.1:{port}"] + ([f"{SERVER}:2049=127.0.0.1:{nfs_port}"] if nfs_port else []),
              at_power_on=at_grub).start()


def run_install(vm: VM, timings: dict[str, float]) -> None:
    """Wait for the unattended install to finish and the VM to power off (atexit=poweroff)."""
    try:
        vm.wait_for_or_restart(r"installer: answer file: ", 600)     # nothing written before this line
        timings["installer boot"] = time.monotonic() - vm.started
        vm.wait_for(r"installer: INSTALLATION (COMPLETE|FAILED.*)", INSTALL_TIMEOUT)
        assert "INSTALLATION COMPLETE" in vm.console(), vm.console()[-2000:]
        timings["install"] = time.monotonic() - vm.started - timings["installer boot"]
        vm.wait_exit(300)
    finally:
        vm.stop()


@contextlib.contextmanager
def booted_host(name: str, disk: str, firmware: str, key: str, hostname: str, address: str,
                timings: dict[str, float], extra_disks: list[str] | None = None):
    """Boot the installed disk to HOST READY and check it over SSH as the install-to-disk scenarios
    do (Xen 4.20, hostname, management address, the local SR); yields ssh(command) -> stdout for
    the scenario's own checks, and stops the VM after."""
    host = VM("host", disk, firmware, os.path.join(ARTIFACTS, name), extra_disks=extra_disks)
    try:
        m = host.boot_until(r"HOST READY: xen=(\S+) hostname=(\S+) management=(\S+) address=(\S+)", BOOT_TIMEOUT)
        timings["first boot to host ready"] = time.monotonic() - host.started
        assert m.group(1).startswith("4.20") and m.group(2) == hostname, m.group(0)
        assert m.group(3) == "xenbr0" and m.group(4).startswith(address), m.group(0)

        def ssh(cmd: str) -> str:
            return host.ssh_ok(key, cmd)

        info = dict(re.findall(r"^(\w+)\s*:\s*(.*)$", ssh("xl info"), re.M))
        assert (info["xen_major"], info["xen_minor"]) == ("4", "20")
        assert ssh("hostname -f").strip() == hostname
        assert f"inet {address}" in ssh("ip -4 addr show dev xenbr0")
        assert "/run/sr-mount/" in ssh("findmnt -rn -o TARGET")
        yield ssh
    finally:
        host.stop()


def record(scenario: str, timings: dict[str, float]) -> None:
    """Keep the phase timings of a scenario for the summary table (vm-tests/timings.py)."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    data = {}
    if os.path.exists(TIMINGS):
        with open(TIMINGS) as f:
            data = json.load(f)
    data[scenario] = {k: round(v, 1) for k, v in timings.items()}
    with open(TIMINGS, "w") as f:
        json.dump(data, f, indent=1)
    print(f"\n{scenario}: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
