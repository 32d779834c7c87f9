"""Install into a disk image, boot it in QEMU through GRUB into Xen and dom0, check it from outside.

One scenario per firmware kind: BIOS (SeaBIOS) with DHCP, UEFI (OVMF) with a static address.
Serial logs, installer logs and events stay in build/vm-tests/.
"""
from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import time

import pytest
from answers import DHCP, STATIC, answerfile
from harness import VM
from media import ARTIFACTS, ROOT, record
from vga import Screen, TextReader, console_setup_glyphs, kernel_glyphs, load_glyphs

from installer import passwd

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="vm-tests need root (loop devices, mount namespaces)")

PASSWORD = "vm-test-root-pw"
BOOT_TIMEOUT = 900          # TCG: Xen + dom0 + first boot took ~100 s here; leave room for a busy CI


@pytest.fixture(scope="session")
def vga_reader(built, tmp_path_factory):
    """Reads the host's VGA console: dom0's framebuffer text, drawn in the font console-setup loads
    at boot (FONTFACE=Fixed, 8x16), taken from the root image we ship; the kernel's built-in font
    for anything drawn before."""
    fixed = console_setup_glyphs(os.path.join(built["product"], "images", "root.squashfs"),
                                 str(tmp_path_factory.mktemp("host-fonts")))
    kernels = sorted(glob.glob(os.path.join(built["env"], "boot", "vmlinuz-*")))
    assert kernels, f"no kernel in {built['env']}/boot"
    return TextReader(fixed, kernel_glyphs(kernels[-1], like=load_glyphs()))


@pytest.fixture(scope="session")
def artifacts():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS


NETWORK = {"dhcp": DHCP, "static": STATIC}
SETTINGS = ('<keymap>us</keymap><timezone>Europe/Paris</timezone>'
            '<ntp source="manual"/><ntp-server>10.0.2.2</ntp-server>')


@pytest.mark.parametrize("firmware,network", [("bios", "dhcp"), ("uefi", "static")])
def test_install_and_boot(firmware, network, built, vga_reader, artifacts, ssh_key, tmp_path):
    name = f"{firmware}-{network}"
    hostname = f"xh-{firmware}.vm-test.invalid"
    af = tmp_path / "answerfile.xml"
    af.write_text(answerfile(ssh_key.public, hostname, NETWORK[network], extra=SETTINGS, password=PASSWORD,
                             disk="sda"))
    image = str(tmp_path / "host.img")
    out = os.path.join(artifacts, name)
    os.makedirs(out, exist_ok=True)
    start = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "installer", "install", "--answerfile", str(af),
                          "--target-image", image, "--size", "50G", "--boot-mode", firmware,
                          "--cmdline", "console=ttyS0,115200", "--out", out],
                         cwd=ROOT, capture_output=True, text=True)
    timings = {"install": time.monotonic() - start}
    with open(os.path.join(out, "install-output.txt"), "w") as f:
        f.write(res.stdout + res.stderr)
    assert res.returncode == 0, f"install failed:\n{res.stderr[-3000:]}"
    assert PASSWORD not in open(os.path.join(out, "installer.log")).read()

    vm = VM(name, image, firmware, out)
    try:
        m = vm.boot_until(r"HOST READY: xen=(\S+) hostname=(\S+) management=(\S+) address=(\S+)",
                          BOOT_TIMEOUT)
        timings["first boot to host ready"] = time.monotonic() - vm.started
        xen, host, iface, addr = m.groups()
        assert xen.startswith("4.20"), m.group(0)
        assert host == hostname and iface == "xenbr0"
        assert addr.startswith("10.0.2.15/24"), m.group(0)
        assert "GNU GRUB" in vm.console() and "(XEN) Xen version 4.20" in vm.console()
        # an operator at the machine sees the same line on the VGA console (dom0's tty0)
        Screen(vm, vga_reader).wait_text(f"HOST READY: xen={xen} hostname={hostname}", 60)

        def ssh(cmd: str) -> str:
            return vm.ssh_ok(ssh_key.private, cmd)

        info = dict(re.findall(r"^(\w+)\s*:\s*(.*)$", ssh("xl info"), re.M))
        assert (info["xen_major"], info["xen_minor"]) == ("4", "20")
        assert ssh("hostname -f").strip() == hostname
        assert "inet 10.0.2.15/24" in ssh("ip -4 addr show dev xenbr0")
        vgs = ssh("vgs --noheadings -o vg_name").split()
        assert any(v.startswith("VG_XenStorage-") for v in vgs), vgs
        assert "/run/sr-mount/" in ssh("findmnt -rn -o TARGET")
        stamps = ssh("ls /var/lib/misc").split()
        assert {"ran-10-ssh-host-keys", "ran-20-inventory-disks", "ran-30-local-sr"} <= set(stamps)
        shadow = ssh("getent shadow root").split(":")[1]
        assert passwd.verify(PASSWORD, shadow), "the root password from the answer file does not verify"
        saved = ssh("cat /var/log/installer/answerfile.xml")
        assert PASSWORD not in saved and "<hostname>" in saved
        assert ssh("findmnt -rn -o SOURCE /var/log").strip().endswith("5")
        inventory = ssh("cat /etc/xensource-inventory")
        assert "PRIMARY_DISK='/dev/vda'" in inventory, inventory
    finally:
        vm.stop()
        record(f"image {name} (install on this machine)", timings)
