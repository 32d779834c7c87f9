"""Commands, files and guests on an installed host's dom0, over SSH: what test_guests.py does to prove
that the host runs guests, apart from the scenario so that any scenario with a booted host can
do the same (Dom0(vm, key) once HOST READY is on its console); its memory as xl sees it; and its
logs read from its disk image once it is off.
"""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import time
from dataclasses import dataclass

import guest
from harness import VM

WORK = "/var/tmp/xh-guests"             # the guests' files in dom0
CONSOLE_LOGS = "/var/log/xen/console"   # xenconsoled --log=guest writes guest-<name>.log here


class Dom0:
    def __init__(self, vm: VM, key: str):
        self.vm, self.key = vm, key

    def run(self, command: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(self.vm.ssh_argv(self.key) + [command], capture_output=True, text=True,
                              timeout=timeout)

    def ok(self, command: str, timeout: float = 120) -> str:
        r = self.run(command, timeout)
        assert r.returncode == 0, f"dom0: {command}: exit {r.returncode}\n{r.stdout[-2000:]}{r.stderr[-2000:]}"
        return r.stdout

    def put(self, path: str, data: bytes) -> None:
        r = subprocess.run(self.vm.ssh_argv(self.key) + [f"cat > {shlex.quote(path)}"], input=data,
                           capture_output=True, timeout=300)
        assert r.returncode == 0, f"dom0: writing {path}: {r.stderr.decode(errors='replace')}"

    def get(self, path: str) -> bytes:
        r = subprocess.run(self.vm.ssh_argv(self.key) + [f"cat {shlex.quote(path)}"], capture_output=True,
                           timeout=300)
        assert r.returncode == 0, f"dom0: reading {path}: {r.stderr.decode(errors='replace')}"
        return r.stdout

    def xl_info(self) -> dict[str, str]:
        # [ \t], not \s: an empty value must not take the next line (and hide its key)
        return dict(re.findall(r"^(\w+)[ \t]*:[ \t]*(.*)$", self.ok("xl info"), re.M))

    def domid(self, name: str) -> int | None:
        r = self.run(f"xl domid {shlex.quote(name)}")
        return int(r.stdout) if r.returncode == 0 and r.stdout.strip().isdigit() else None


@dataclass(frozen=True)
class GuestFiles:
    kernel: str         # dom0's own kernel, in dom0
    ramdisk: str        # the guest's initramfs, in dom0


def upload_guest_files(d: Dom0, busybox_path: str = guest.BUSYBOX) -> GuestFiles:
    """The guest's initramfs, built here with the host's own front-end modules, put in dom0 beside
    the path of dom0's kernel (the guest boots the same kernel)."""
    kver = d.ok("uname -r").strip()
    modules = {}
    for name in guest.FRONT_ENDS:
        path = d.ok(f"modinfo -n {name}").strip()
        modules[name] = guest.module_bytes(path, d.get(path))
    with open(busybox_path, "rb") as f:
        ramdisk = guest.initramfs(f.read(), modules)
    d.ok(f"mkdir -p {WORK}")
    d.put(f"{WORK}/initrd.img", ramdisk)
    kernel = f"/boot/vmlinuz-{kver}"
    d.ok(f"test -r {kernel}")
    return GuestFiles(kernel, f"{WORK}/initrd.img")


def log_guest_consoles(d: Dom0) -> None:
    """xenconsoled logs every guest's console to CONSOLE_LOGS (Debian's init script passes
    XENCONSOLED_ARGS from /etc/default/xen); restarted with no guest running."""
    d.ok("grep -q '^XENCONSOLED_ARGS=\"--log=guest\"' /etc/default/xen || "
         "echo 'XENCONSOLED_ARGS=\"--log=guest\"' >> /etc/default/xen; "
         f"mkdir -p {CONSOLE_LOGS} && systemctl restart xen.service")
    running = d.ok("pgrep -a xenconsoled || true")
    assert "--log=guest" in running, f"xenconsoled does not log guest consoles: {running!r}"


@dataclass(frozen=True)
class SrDisk:
    sr_type: str        # ext or lvm
    block: str          # what the guest gets as xvda (dom0 block device)
    stored: str         # where its bytes live in the SR (the LV, or the file behind the loop device)
    cleanup: str        # dom0 command that removes it


def sr_disk(d: Dom0, name: str, size_mib: int = 64) -> SrDisk:
    """A zeroed guest disk in the host's local SR: an LV of the SR's volume group (lvm), or a file
    in the mounted SR behind a loop device (ext)."""
    out = d.ok(". /etc/firstboot.d/data/default-storage.conf && echo \"$XSTYPE $VG_NAME $SR_UUID\"")
    sr_type, vg, uuid = out.split()
    if sr_type == "lvm":
        lv = f"/dev/{vg}/{name}"
        d.ok(f"lvcreate -q -y -L {size_mib}M -n {name} {vg} >/dev/null && "
             f"dd if=/dev/zero of={lv} bs=1M count=1 oflag=direct 2>/dev/null")
        return SrDisk(sr_type, lv, lv, f"lvremove -q -y {vg}/{name}")
    path = f"/run/sr-mount/{uuid}/{name}.img"
    d.ok(f"rm -f {path} && truncate -s {size_mib}M {path}")
    loop = d.ok(f"losetup --find --show {path}").strip()
    return SrDisk(sr_type, loop, path, f"losetup -d {loop}; rm -f {path}")


def write_config(d: Dom0, name: str, text: str) -> str:
    path = f"{WORK}/{name}.cfg"
    d.put(path, text.encode())
    return path


def wait_for_console(d: Dom0, name: str, token: str, last: str, timeout: float) -> list[str]:
    """What the guest said until it said `last`; fails when the guest is gone without saying it
    (a panic destroys it) or at the timeout, with its console and Xen's last lines."""
    log = f"{CONSOLE_LOGS}/guest-{name}.log"
    deadline = time.monotonic() + timeout
    while True:
        console = d.run(f"cat {log} 2>/dev/null").stdout
        lines = guest.said(console, token)
        if last in lines:
            return lines
        gone = d.domid(name) is None
        if gone or time.monotonic() > deadline:
            xen = d.run("xl dmesg | tail -n 20").stdout
            why = "is gone" if gone else f"is still running after {timeout:.0f} s"
            raise AssertionError(f"guest {name} {why} without saying {last!r}; its console ({log}):\n"
                                 f"{console[-3000:]}\nxl dmesg:\n{xen}")
        time.sleep(3)


def wait_gone(d: Dom0, name: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while d.domid(name) is not None:
        if time.monotonic() > deadline:
            d.run(f"xl destroy {name}")
            raise AssertionError(f"guest {name} did not end by itself within {timeout:.0f} s (destroyed)")
        time.sleep(2)


def run_linux_guest(d: Dom0, files: GuestFiles, kind: str, token: str, peer: str, disk: SrDisk | None,
                    timeout: float = 600) -> list[str]:
    """Start the busybox guest ("pv" or "pvh") and wait until it has said "done" and has ended;
    returns what it said."""
    name = f"xh-test-{kind}"
    cfg = write_config(d, name, guest.linux_config(name, kind, files.kernel, files.ramdisk,
                                                    guest.cmdline(token, peer), disk=disk.block if disk else None))
    d.ok(f"xl create {cfg}", timeout=300)
    try:
        lines = wait_for_console(d, name, token, "done", timeout)
        wait_gone(d, name)
    finally:
        d.run(f"xl destroy {name} 2>/dev/null")
    return lines


def start_staying_guest(d: Dom0, files: GuestFiles, token: str, peer: str, timeout: float = 600) -> str:
    """Start the busybox PV guest in its staying mode (no disk): it says hello, pings dom0 and runs
    until something asks it to shut down; returns its name once it says it is running."""
    name = "xh-test-stay"
    cfg = write_config(d, name, guest.linux_config(name, "pv", files.kernel, files.ramdisk,
                                                    guest.cmdline(token, peer, stay=True)))
    d.ok(f"xl create {cfg}", timeout=300)
    try:
        wait_for_console(d, name, token, "running until shut down", timeout)
    except BaseException:
        d.run(f"xl destroy {name} 2>/dev/null")
        raise
    return name


# ---- memory: xl list, xl info and the dom0 memory the installer chose ----------------------------

# xl list shows what Xen has given dom0, rounded down to MiB; `max:` on dom0_mem stops it growing
# and xl does not balloon dom0 when dom0_mem is given. A PV dom0 kernel hands back to Xen the pages
# under the firmware's reserved ranges it does not remap (a few hundred KiB on QEMU's PC). The
# planner sizes dom0 in 16 MiB steps: anything closer than one step is the planned size.
DOM0_SLACK_MIB = 16
# Xen's own memory, which no domain holds and which is not free: the crash kernel's area
# (crashkernel=, counted in total_memory but never given to the heap), Xen's image, the frame table
# (32 bytes per 4 KiB page, 0.8 %), the machine-to-phys tables (0.3 %), its heap, per-CPU data.
XEN_BASE_MIB, XEN_SHARE = 64, 0.03
KDUMP = re.compile(r"\(XEN\) (?:\[[^]]*\] )?Kdump: (\d+)MB \(\d+kB\) at")
# a guest created or destroyed moves only its own pages between free and the guest: Xen's
# per-domain structures (domain, vCPUs, grant and event tables) are far below this
STEADY_MIB = 16


def xl_list(text: str) -> dict[str, tuple[int, int]]:
    """`xl list` as name -> (domid, MiB)."""
    found = {}
    for line in text.splitlines()[1:]:
        words = line.split()
        if len(words) >= 6 and words[-5].isdigit() and words[-4].isdigit():
            found[" ".join(words[:-5])] = (int(words[-5]), int(words[-4]))
    return found


@dataclass(frozen=True)
class Memory:
    total: int          # xl info total_memory, MiB
    free: int           # xl info free_memory
    domains: dict       # xl list: name -> MiB
    planned: int        # DOM0_MEM, what the installer chose
    kdump: int = 0      # MiB Xen set aside for a crash kernel (its "Kdump:" boot line)

    @property
    def xen(self) -> int:
        """What neither a domain nor the free pool holds: Xen's own."""
        return self.total - self.free - sum(self.domains.values())


def kdump_mib(xen_console: str) -> int:
    """The crash kernel's area from Xen's boot lines (on the serial console: `xl dmesg` keeps only
    the last few KiB); 0 when Xen reserved none."""
    m = KDUMP.search(xen_console)
    return int(m.group(1)) if m else 0


def memory(info: dict[str, str], listing: dict[str, tuple[int, int]], planned: int, kdump: int = 0) -> Memory:
    return Memory(int(info["total_memory"]), int(info["free_memory"]),
                  {name: mib for name, (_, mib) in listing.items()}, planned, kdump)


def memory_problems(m: Memory, xen_commandline: str, guests: dict[str, int], before: Memory | None = None) -> list[str]:
    """What does not add up: dom0 against the plan and Xen's command line, each guest against its
    configured memory, total = domains + free + Xen's own, Xen's own unchanged since `before`."""
    wrong = []
    if f"dom0_mem={m.planned}M,max:{m.planned}M" not in xen_commandline.split():
        wrong.append(f"Xen's command line {xen_commandline!r} does not give dom0 the planned {m.planned} MiB")
    dom0 = m.domains.get("Domain-0")
    if dom0 is None or not m.planned - DOM0_SLACK_MIB < dom0 <= m.planned:
        wrong.append(f"dom0 has {dom0} MiB, planned {m.planned} MiB")
    for name, mib in guests.items():
        if not mib - 8 <= m.domains.get(name, -99) <= mib + 8:
            wrong.append(f"guest {name} has {m.domains.get(name)} MiB, configured {mib} MiB")
    most = m.kdump + XEN_BASE_MIB + XEN_SHARE * m.total
    if not 0 <= m.xen <= most:
        wrong.append(f"total {m.total} MiB - free {m.free} MiB - domains {sum(m.domains.values())} MiB = {m.xen} MiB "
                     f"for Xen itself (crash kernel area {m.kdump} MiB), outside 0..{most:.0f} MiB")
    if before is not None and abs(m.xen - before.xen) > STEADY_MIB:
        wrong.append(f"Xen's own memory went from {before.xen} to {m.xen} MiB with the guests {sorted(guests)}")
    return wrong


def observe_memory(d: Dom0) -> tuple[Memory, str]:
    """This host's memory as xl sees it, and Xen's command line."""
    info = d.xl_info()
    planned = int(d.ok(". /etc/xensource-inventory && echo \"$DOM0_MEM\"").strip())
    return (memory(info, xl_list(d.ok("xl list")), planned, kdump_mib(d.vm.console())),
            info.get("xen_commandline", ""))


def disk_marker(d: Dom0, disk: SrDisk) -> str:
    """The first line of the guest disk's bytes where the SR keeps them (read past dom0's cache)."""
    return d.ok(f"dd if={disk.stored} bs=4096 count=1 iflag=direct 2>/dev/null | head -n 1 | tr -d '\\0'").strip()


def logs_partition_file(image: str, path: str) -> str:
    """A file of the host's /var/log (the partition named "logs"; path inside it), read from its
    powered-off disk image with debugfs: no mount, no loop device. "" when it is not there."""
    table = json.loads(subprocess.run(["sfdisk", "--json", image], capture_output=True, text=True,
                                      check=True).stdout)["partitiontable"]
    (logs,) = [p for p in table["partitions"] if p.get("name") == "logs"]
    offset = logs["start"] * table.get("sectorsize", 512)
    return subprocess.run(["debugfs", "-R", f"cat {path}", f"{image}?offset={offset}"], capture_output=True,
                          text=True).stdout
