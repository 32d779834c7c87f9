"""A QEMU (TCG) virtual machine for end-to-end tests: serial log on disk, SSH via a forwarded port.

Guests get user networking with restrict=on: they can reach nothing but the ports we forward to
them, so no guest traffic leaves this machine. Only the QEMU process started here is ever stopped,
by its PID.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import warnings
from typing import Callable

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
# firmware "uefi-secureboot": OVMF built with Secure Boot (its variable store is only writable from
# SMM, hence smm=on and the secure flash) and a variable store with Microsoft's keys enrolled and
# Secure Boot on, as PCs ship
OVMF_SECBOOT_CODE = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
OVMF_SECBOOT_VARS = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\r")
# A guest kernel that hit one of these will not reach any later line: fail at once, not at the timeout.
KERNEL_CRASH = re.compile(r"^.*\] (?:BUG: |kernel BUG at |Oops: |Kernel panic - ).*$", re.M)


class GuestCrash(AssertionError):
    """The guest's kernel crashed; the message holds the crash report from the console. Seen under
    TCG with two vCPUs, each once: a BUG in a dom0 kworker during first boot, and in the installer's
    early boot an "Oops: int3" at a static-key site the kernel had just patched (a stale int3 that
    real CPUs never see after the patching IPIs: a TCG cross-vCPU code-modification race)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _drain(sock: socket.socket) -> None:
    """Read what the console sent us: a connected client that does not read stalls the guest's
    serial output (QEMU keeps the full log in the logfile anyway)."""
    sock.setblocking(False)
    try:
        while sock.recv(65536):
            pass
    except (BlockingIOError, InterruptedError):
        pass
    finally:
        sock.setblocking(True)


class VM:
    def __init__(self, name: str, disk: str, firmware: str, workdir: str, memory_mib: int = 2048,
                 cdrom: str | None = None, guestfwd: list[str] | None = None,
                 extra_disks: list[str] | None = None, netboot: tuple[str, str] | None = None,
                 at_power_on: Callable[[VM], None] | None = None, cpu: str = "qemu64,+svm"):
        self.name, self.disk, self.firmware = name, disk, firmware
        self.workdir = workdir
        self.serial_log = os.path.join(workdir, f"{name}-serial.log")
        self.serial_sock = os.path.join(workdir, f"{name}-serial.sock")
        self.qmp_sock = os.path.join(workdir, f"{name}-qmp.sock")     # screendumps, key presses (vga.py)
        self.memory_mib = memory_mib
        self.cdrom = cdrom                 # boot this ISO first (the disk stays attached)
        self.guestfwd = guestfwd or []     # "10.0.2.100:80=127.0.0.1:8080": guest address -> local service
        self.extra_disks = extra_disks or []   # vdb, vdc, ...
        self.netboot = netboot             # (TFTP directory, boot file): QEMU's own TFTP server, PXE first
        self.at_power_on = at_power_on     # what an operator does right after power-on (at the boot loader)
        self.cpu = cpu                     # "+npt" too gives Xen HAP, for HVM/PVH guests (test_guests.py only)
        self.ssh_port = free_port()
        self.proc: subprocess.Popen | None = None
        self.started = 0.0

    def argv(self) -> list[str]:
        relay = os.path.join(os.path.dirname(os.path.abspath(__file__)), "relay.py")
        fwd = "".join(f",guestfwd=tcp:{g.split('=')[0]}-cmd:python3 {relay} {g.split('=')[1].replace(':', ' ')}"
                      for g in self.guestfwd)
        tftp = f",tftp={self.netboot[0]},bootfile={self.netboot[1]}" if self.netboot else ""
        argv = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", self.cpu, "-smp", "2",
                "-m", str(self.memory_mib), "-display", "none", "-monitor", "none",
                "-chardev", f"socket,id=ser0,path={self.serial_sock},server=on,wait=off,logfile={self.serial_log}",
                "-serial", "chardev:ser0", "-no-reboot",
                "-qmp", f"unix:{self.qmp_sock},server=on,wait=off",
                *(("-drive", f"file={self.disk},format=raw,if=none,id=disk0") if self.netboot else
                  ("-drive", f"file={self.disk},format=raw,if=virtio")),
                *[a for d in self.extra_disks for a in ("-drive", f"file={d},format=raw,if=virtio")],
                "-netdev", f"user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22{fwd}{tftp}",
                # network boot first (SeaBIOS and OVMF both honour bootindex); on UEFI through the
                # firmware's own network stack, as a server's: shim fetching GRUB through the PXE
                # protocol of QEMU's iPXE ROM gets a 4 MiB buffer for a 2.3 MB file and refuses it
                # ("Malformed binary after Attribute Certificate Table")
                "-device", "virtio-net-pci,netdev=net0" + (",bootindex=0" if self.netboot else "")
                + (",romfile=" if self.netboot and self.firmware.startswith("uefi") else "")]
        if self.netboot:
            # then the disk, as on a machine set to boot from the network first: OVMF connects only
            # the devices in QEMU's boot order, so a disk without a bootindex is not there for a
            # network boot loader to fall back to (created after the NIC: the same PCI slots as
            # without netboot)
            argv += ["-device", "virtio-blk-pci,drive=disk0,bootindex=1"]
        if self.cdrom:
            argv += ["-drive", f"file={self.cdrom},media=cdrom,readonly=on", "-boot", "order=dc"]
        if self.firmware in ("uefi", "uefi-secureboot"):
            secure = self.firmware == "uefi-secureboot"
            code, template = (OVMF_SECBOOT_CODE, OVMF_SECBOOT_VARS) if secure else (OVMF_CODE, OVMF_VARS)
            vars_copy = os.path.join(self.workdir, f"{self.name}-vars.fd")   # the guest writes it
            shutil.copy(template, vars_copy)
            argv += ["-machine", "q35,smm=on" if secure else "q35",
                     *(["-global", "driver=cfi.pflash01,property=secure,value=on"] if secure else []),
                     "-drive", f"if=pflash,format=raw,readonly=on,file={code}",
                     "-drive", f"if=pflash,format=raw,file={vars_copy}"]
        return argv

    def start(self) -> "VM":
        os.makedirs(self.workdir, exist_ok=True)
        for old in (self.serial_log, self.serial_sock, self.qmp_sock):   # an earlier run's log must not satisfy wait_for
            if os.path.exists(old):
                os.unlink(old)
        with open(os.path.join(self.workdir, f"{self.name}-qemu.txt"), "w") as f:
            f.write(" ".join(self.argv()) + "\n")
        self.proc = subprocess.Popen(self.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.started = time.monotonic()
        if self.at_power_on:
            self.at_power_on(self)
        return self

    def console(self) -> str:
        """The serial output so far, without terminal escape sequences."""
        try:
            with open(self.serial_log, "rb") as f:
                return ANSI.sub(b"", f.read()).decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            text = self.console()
            m = rx.search(text)
            if m:
                return m
            crash = KERNEL_CRASH.search(text)
            if crash:
                report = text[crash.start():][:3000]
                raise GuestCrash(f"{self.name}: the guest kernel crashed {time.monotonic() - self.started:.0f} s "
                                 f"after power-on, before {pattern!r}; see {self.serial_log}:\n{report}")
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")
                raise AssertionError(f"{self.name}: QEMU exited ({self.proc.returncode}) before "
                                     f"{pattern!r} appeared: {err.strip()[-500:]}; see {self.serial_log}")
            time.sleep(2)
        tail = self.console()[-1500:]
        raise AssertionError(f"{self.name}: no {pattern!r} on the serial console after {timeout:.0f} s; "
                             f"see {self.serial_log}; last output:\n{tail}")

    def send(self, data: bytes, paced: bool = True) -> None:
        """Type on the serial console (as a terminal would: arrows are escape sequences). Paced:
        a byte at a time (GRUB drops keys typed ahead); unpaced: at once, as a terminal sends an
        escape sequence (a reader that sees ESC alone takes it for the Esc key)."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.serial_sock)
            for chunk in ([bytes([b]) for b in data] if paced else [data]):
                s.sendall(chunk)
                time.sleep(0.02)
                _drain(s)

    def _raw_size(self) -> int:
        try:
            return os.path.getsize(self.serial_log)
        except OSError:
            return 0

    def type_line(self, text: str, prompt: str, timeout: float = 300) -> None:
        """Type a command one character at a time, each after the previous one's echo (a slow
        emulated console drops or reorders keys typed ahead), then Enter; wait for the next prompt."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.serial_sock)
            for ch in text.encode():
                before = self._raw_size()
                s.sendall(bytes([ch]))
                deadline = time.monotonic() + 10
                while self._raw_size() == before and time.monotonic() < deadline:
                    _drain(s)
                    time.sleep(0.01)
            prompts = self.console().count(prompt)
            s.sendall(b"\r")
            time.sleep(0.2)
            _drain(s)
        deadline = time.monotonic() + timeout
        while self.console().count(prompt) <= prompts:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no {prompt!r} after {text!r}; see {self.serial_log}")
            time.sleep(0.5)

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name}: QEMU still running after {timeout:.0f} s; see "
                                 f"{self.serial_log}; last output:\n{self.console()[-1500:]}") from None

    def ssh_argv(self, key: str) -> list[str]:
        """The ssh command line to the guest's root, the remote command left to append (for bytes
        in or out; ssh() runs a command with text output)."""
        return ["ssh", "-i", key, "-p", str(self.ssh_port), "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20",
                "-o", "LogLevel=ERROR", "root@127.0.0.1"]

    def ssh(self, key: str, command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(self.ssh_argv(key) + [command], capture_output=True, text=True, timeout=timeout)

    def ssh_ok(self, key: str, command: str, tries: int = 10) -> str:
        """command's output; retried while SSH itself fails (255: a host booted without waiting for
        its HOST READY line may still be starting sshd), and asserted to succeed."""
        for _ in range(tries):
            r = self.ssh(key, command)
            if r.returncode != 255:
                break
            time.sleep(5)
        assert r.returncode == 0, f"{command}: {r.returncode} {r.stderr}"
        return r.stdout

    def boot_until(self, pattern: str, timeout: float) -> re.Match:
        """Power on, then wait_for_or_restart."""
        self.start()
        return self.wait_for_or_restart(pattern, timeout)

    def wait_for_or_restart(self, pattern: str, timeout: float) -> re.Match:
        """wait_for; if the guest kernel crashes first, keep that console log beside the others, say
        so, and power on once more. A second crash fails the test. Only for waits before the guest
        writes anything that matters: booting the installed host, or the installer before it has
        read its answer file (TCG has crashed guest kernels about once in 30 boots, see GuestCrash)."""
        try:
            return self.wait_for(pattern, timeout)
        except GuestCrash as crash:
            self.stop()
            kept = self.serial_log.replace("-serial.log", "-crashed-serial.log")
            os.replace(self.serial_log, kept)
            # a warning, so that the run's summary shows it even when the test then passes
            warnings.warn(f"{crash}\n(console kept as {kept}; powered on once more)")
        self.start()
        return self.wait_for(pattern, timeout)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
