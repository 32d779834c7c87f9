"""Installer media, scenario 1: the ISO boots in a 1 GiB BIOS VM; at its GRUB menu the boot line
gets answerfile=http://... (typed over the serial console, as an operator would); the installer
fetches the answer file from an HTTP server on this machine, installs onto the VM's disk and powers
off; the disk then boots by itself to HOST READY.
"""
from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import VM  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="vm-tests need root (image builds)")
ARTIFACTS = os.path.join(ROOT, "build", "vm-tests")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def iso():
    res = subprocess.run(["/usr/bin/python3", "image/build.py", "iso"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    path = res.stdout.split()[-1]
    assert os.path.getsize(path) > 100 << 20
    return path


@pytest.fixture
def www(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, server.server_address[1]
    server.shutdown()


def boot_installer(name: str, iso: str, disk: str, port: int, firmware: str = "bios") -> VM:
    """Boot the ISO and, at GRUB's command line over the serial console, give the unattended boot
    line with answerfile=http://10.0.2.100/a.xml (the test's server, through guestfwd)."""
    out = os.path.join(ARTIFACTS, name)
    os.makedirs(out, exist_ok=True)
    vm = VM("installer", disk, firmware, out, memory_mib=1024, cdrom=iso,
            guestfwd=[f"10.0.2.100:80=127.0.0.1:{port}"]).start()
    vm.wait_for(r"install with serial console", 300)
    vm.send(b"c")
    vm.wait_for(r"grub> ", 60)
    vm.type_line("linux /live/vmlinuz boot=live components net.ifnames=0 console=tty0 "
                 "console=ttyS0,115200 answerfile=http://10.0.2.100/a.xml atexit=poweroff", "grub> ")
    vm.type_line("initrd /live/initrd.img", "grub> ")
    vm.send(b"boot\r")
    return vm


def blank_disk(path: str, fill: bytes = b"") -> str:
    with open(path, "wb") as f:
        f.write(fill)
        f.truncate(50 << 30)
    return path


def test_iso_bios_unattended_install_over_http(iso, www, tmp_path):
    root, port = www
    key = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (root / "a.xml").write_text(f"""<?xml version="1.0"?>
<installation>
  <primary-disk>vda</primary-disk>
  <root-password>iso-scenario-pw</root-password>
  <ssh-authorized-key>{(tmp_path / 'id.pub').read_text().strip()}</ssh-authorized-key>
  <source type="local"/>
  <admin-interface name="eth0" proto="dhcp"/>
  <hostname>xh-iso.vm-test.invalid</hostname>
</installation>
""")
    disk = blank_disk(str(tmp_path / "disk.img"))
    timings = {}
    vm = boot_installer("iso-bios-http", iso, disk, port)
    out = vm.workdir
    try:
        vm.wait_for(r"installer: answer file: http://10.0.2.100/a.xml", 600)
        timings["installer boot"] = time.monotonic() - vm.started
        vm.wait_for(r"installer: INSTALLATION (COMPLETE|FAILED.*)", 900)
        assert "INSTALLATION COMPLETE" in vm.console(), vm.console()[-2000:]
        timings["install"] = time.monotonic() - vm.started - timings["installer boot"]
        vm.wait_exit(300)
    finally:
        vm.stop()
    host = VM("host", disk, "bios", out).start()
    try:
        m = host.wait_for(r"HOST READY: xen=(\S+) hostname=(\S+) management=\S+ address=(\S+)", 900)
        timings["first boot to host ready"] = time.monotonic() - host.started
        assert m.group(1).startswith("4.20") and m.group(2) == "xh-iso.vm-test.invalid"
        r = host.ssh(str(key), "xl info | grep xen_minor; hostname -f")
        for _ in range(10):
            if r.returncode == 0:
                break
            time.sleep(5)
            r = host.ssh(str(key), "xl info | grep xen_minor; hostname -f")
        assert r.returncode == 0 and "20" in r.stdout and "xh-iso.vm-test.invalid" in r.stdout, r
    finally:
        host.stop()
        print("\niso-bios-http: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))


def test_iso_install_naming_a_missing_disk_fails_clearly_and_writes_nothing(iso, www, tmp_path):
    """Scenario 4: the serial console says what failed; the VM's disk is untouched."""
    root, port = www
    (root / "a.xml").write_text("""<?xml version="1.0"?>
<installation>
  <primary-disk>sdz</primary-disk>
  <root-password>iso-scenario-pw</root-password>
  <source type="local"/>
  <admin-interface name="eth0" proto="dhcp"/>
</installation>
""")
    pattern = os.urandom(1 << 20)
    disk = blank_disk(str(tmp_path / "disk.img"), pattern)
    vm = boot_installer("iso-bios-missing-disk", iso, disk, port)
    try:
        vm.wait_for(r"installer: INSTALLATION FAILED: the install cannot be planned", 900)
        text = vm.console()
        assert "plan error: primary disk /dev/sdz" in text and "vda" in text, text[-2000:]
        assert "no disk was touched" in text and "support bundle: /run/install/support-" in text
        vm.wait_exit(300)
    finally:
        vm.stop()
    with open(disk, "rb") as f:
        assert f.read(1 << 20) == pattern, "the disk was written"
