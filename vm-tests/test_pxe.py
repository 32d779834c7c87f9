"""Installer media scenario 3: PXE. QEMU's own TFTP server (user networking, restrict=on) serves
pxelinux, its config (the shipped sample with SERVER filled in), the kernel and the initrd; live-boot
fetches the installer system, the installer the answer file and the product tree
(source type="url"), all over HTTP from a server the test runs on 127.0.0.1, reached through guestfwd.
"""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import VM  # noqa: E402
from media import (ARTIFACTS, SERVER, answerfile, blank_disk, booted_host, pxe, record,  # noqa: E402,F401
                   run_install, ssh_key, www)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="vm-tests need root (image builds)")


def served(src: str, where, names) -> None:
    os.makedirs(where, exist_ok=True)
    for name in names:
        os.symlink(os.path.join(src, name), os.path.join(where, name))


def test_pxe_bios_unattended_install_over_http(pxe, www, ssh_key, tmp_path):
    root, port = www
    hostname = "xh-pxe.vm-test.invalid"
    # HTTP: the PXE directory at /xenhost/ (as its README says), plus our answer file
    served(pxe, root / "xenhost", [n for n in os.listdir(pxe) if n != "answerfile.xml"])
    (root / "xenhost" / "answerfile.xml").write_text(answerfile(
        ssh_key[1], hostname, '<admin-interface name="eth0" proto="dhcp"/>',
        source=f'<source type="url">http://{SERVER}/xenhost/tree</source>'))
    # TFTP: boot loader, kernel, initrd and the shipped pxelinux config with SERVER filled in
    tftp = tmp_path / "tftp"
    served(pxe, tftp, ["pxelinux.0", "ldlinux.c32", "vmlinuz", "initrd.img"])
    (tftp / "pxelinux.cfg").mkdir()
    with open(os.path.join(pxe, "pxelinux.cfg", "default")) as f:
        cfg = f.read()
    assert "http://SERVER/xenhost" in cfg
    (tftp / "pxelinux.cfg" / "default").write_text(
        cfg.replace("SERVER", SERVER).replace("answerfile.xml", "answerfile.xml atexit=poweroff"))
    disk = blank_disk(str(tmp_path / "disk.img"))
    out = os.path.join(ARTIFACTS, "pxe-bios-http")
    vm = VM("installer", disk, "bios", out, memory_mib=1024, netboot=(str(tftp), "pxelinux.0"),
            guestfwd=[f"{SERVER}:80=127.0.0.1:{port}"]).start()
    timings: dict[str, float] = {}
    run_install(vm, timings)
    text = vm.console()
    assert "PXELINUX" in text and f"fetch=http://{SERVER}/xenhost/filesystem.squashfs" in text
    assert f"product tree http://{SERVER}/xenhost/tree verified" in text, text[-3000:]
    with booted_host("pxe-bios-http", disk, "bios", ssh_key[0], hostname, "10.0.2.15/24", timings):
        pass
    record("3 PXE BIOS (pxelinux over TFTP), tree over HTTP", timings)
