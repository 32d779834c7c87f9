"""Shared parts of the installer media scenarios (test_iso.py, test_pxe.py): the built ISO and PXE
artifacts, a real HTTP server on 127.0.0.1 the guests reach through guestfwd, booting the installer,
and checking the installed host once it has booted from its own disk.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

from harness import VM, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARTIFACTS = os.path.join(ROOT, "build", "vm-tests")
TIMINGS = os.path.join(ARTIFACTS, "timings.json")
SERVER = "10.0.2.100"          # the guests' name for the test's HTTP server (guestfwd)
INSTALL_TIMEOUT = 1200         # TCG; installs took about 1 min here, first boots about 75-120 s
BOOT_TIMEOUT = 900


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _build(what: str) -> str:
    res = subprocess.run(["/usr/bin/python3", "image/build.py", what], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    return in_use(res.stdout.split()[-1])


def in_use(path: str) -> str:
    """Hold a cached build in use for the rest of this test run: no other build prunes it."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from installer import cachelock
    return cachelock.use(path)


@pytest.fixture(scope="module")
def iso():
    path = _build("iso")
    assert os.path.getsize(path) > 100 << 20
    return path


@pytest.fixture(scope="module")
def pxe():
    path = _build("pxe")
    assert os.path.exists(os.path.join(path, "pxelinux.cfg", "default"))
    return path


@pytest.fixture
def www(tmp_path):
    """(document root, port) of an HTTP server on 127.0.0.1 for this test only."""
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, server.server_address[1]
    server.shutdown()


GANESHA_CONF = """\
NFS_CORE_PARAM {{ NFS_Port = {port}; Bind_addr = 127.0.0.1; Protocols = 4;
                 Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false; }}
NFSV4 {{ Graceless = true; RecoveryRoot = {state}; Minor_Versions = 0, 1; }}
NFS_KRB5 {{ Active_krb5 = false; }}
EXPORT_DEFAULTS {{ Access_Type = None; }}
EXPORT {{ Export_Id = 1; Path = {export}; Pseudo = /export; Access_Type = RO; Squash = None;
          Protocols = 4; Transports = TCP; SecType = sys; FSAL {{ Name = VFS; }} }}
LOG {{ Default_Log_Level = EVENT; }}
"""


@pytest.fixture
def nfs_server(tmp_path):
    """(export directory, port): a real NFSv4 server (NFS-Ganesha, user space: this kernel has no
    nfsd) exporting the directory read-only as /export on 127.0.0.1 only; stopped by its PID.
    NFSv4.2 is off: with it, the guest kernel reads files with READ_PLUS, and Ganesha 4.3 answered
    those with zeros here (the answer file arrived as NUL bytes)."""
    export, state = tmp_path / "export", tmp_path / "ganesha-state"
    export.mkdir()
    state.mkdir()
    port = free_port()
    conf = tmp_path / "ganesha.conf"
    conf.write_text(GANESHA_CONF.format(port=port, state=state, export=export))
    log = os.path.join(ARTIFACTS, "ganesha.log")
    os.makedirs(ARTIFACTS, exist_ok=True)
    proc = subprocess.Popen(["ganesha.nfsd", "-F", "-f", str(conf), "-L", log, "-p", str(tmp_path / "ganesha.pid")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"ganesha.nfsd exited ({proc.returncode}); see {log}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"ganesha.nfsd does not listen on {port}; see {log}"
                time.sleep(0.2)
        yield export, port
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def copy_tree(src: str, dest: str) -> None:
    """A real copy (hard links where possible): an NFS client cannot follow our symlinks."""
    def link(s, d):
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)
    shutil.copytree(src, dest, copy_function=link)


@pytest.fixture
def ssh_key(tmp_path):
    key = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return str(key), (tmp_path / "id.pub").read_text().strip()


def blank_disk(path: str, fill: bytes = b"", size: int = 50 << 30) -> str:
    with open(path, "wb") as f:
        f.write(fill)
        f.truncate(size)
    return path


def answerfile(key: str, hostname: str, network: str, source: str = '<source type="local"/>',
               extra: str = "", password: str = "media-scenario-pw") -> str:
    return f"""<?xml version="1.0"?>
<installation sr-type="ext">
  <primary-disk>vda</primary-disk>
  {extra}
  <root-password>{password}</root-password>
  <ssh-authorized-key>{key}</ssh-authorized-key>
  {source}
  {network}
  <hostname>{hostname}</hostname>
</installation>
"""


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
