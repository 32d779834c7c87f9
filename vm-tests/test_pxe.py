"""Installer media scenario 3, PXE, once per shipped boot loader sample: pxelinux (BIOS), GRUB
(UEFI network boot) and iPXE (QEMU's own iPXE ROM runs the script; kernel and initrd over HTTP).

QEMU's own TFTP server (user networking, restrict=on) serves the boot loader, its config (the
shipped sample with SERVER filled in), the kernel and the initrd; live-boot fetches the installer
system, the installer the answer file and the product tree (source type="url"), all over HTTP from
a server the test runs on 127.0.0.1, reached through guestfwd.
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


def render(pxe: str, rel: str, dest) -> None:
    """A shipped sample config with SERVER filled in (and power off at the end, for the test)."""
    with open(os.path.join(pxe, rel)) as f:
        text = f.read()
    assert "http://SERVER/xenhost" in text
    os.makedirs(os.path.dirname(os.path.join(dest, rel)) or dest, exist_ok=True)
    with open(os.path.join(dest, rel), "w") as f:
        f.write(text.replace("SERVER", SERVER).replace("answerfile.xml", "answerfile.xml atexit=poweroff"))


# (firmware, boot loader): what QEMU's TFTP server holds, the DHCP boot file, what the console shows
LOADERS = {
    ("bios", "pxelinux"): (["pxelinux.0", "ldlinux.c32", "vmlinuz", "initrd.img"], ["pxelinux.cfg/default"],
                           "pxelinux.0", "PXELINUX"),
    ("uefi", "grub"): (["vmlinuz", "initrd.img"], ["grub/grub.cfg"], "grub/x86_64-efi/core.efi", "GNU GRUB"),
    # kernel and initrd over HTTP; SeaBIOS shows iPXE's banner on VGA only, but only the iPXE
    # script puts initrd= first on the kernel's command line
    ("bios", "ipxe"): ([], ["xenhost.ipxe"], "xenhost.ipxe", "Command line: initrd=initrd.img boot=live"),
}


@pytest.mark.parametrize("firmware,loader", sorted(LOADERS))
def test_pxe_unattended_install_over_http(firmware, loader, pxe, www, ssh_key, tmp_path):
    root, port = www
    files, configs, bootfile, banner = LOADERS[(firmware, loader)]
    name = f"pxe-{firmware}-{loader}"
    hostname = f"xh-{name}.vm-test.invalid"
    # HTTP: the PXE directory at /xenhost/ (as its README says), plus our answer file
    served(pxe, root / "xenhost", [n for n in os.listdir(pxe) if n != "answerfile.xml"])
    (root / "xenhost" / "answerfile.xml").write_text(answerfile(
        ssh_key[1], hostname, '<admin-interface name="eth0" proto="dhcp"/>',
        source=f'<source type="url">http://{SERVER}/xenhost/tree</source>'))
    # TFTP: the boot loader, kernel and initrd, and the shipped config with SERVER filled in
    tftp = tmp_path / "tftp"
    served(pxe, tftp, files)
    for rel in configs:
        render(pxe, rel, str(tftp))
    if loader == "grub":
        served(os.path.join(pxe, "grub"), tftp / "grub", ["x86_64-efi", "i386-pc", "fonts"])
    disk = blank_disk(str(tmp_path / "disk.img"))
    vm = VM("installer", disk, firmware, os.path.join(ARTIFACTS, name), memory_mib=1024,
            netboot=(str(tftp), bootfile), guestfwd=[f"{SERVER}:80=127.0.0.1:{port}"]).start()
    timings: dict[str, float] = {}
    run_install(vm, timings)
    text = vm.console()
    assert banner in text and f"fetch=http://{SERVER}/xenhost/filesystem.squashfs" in text
    assert f"product tree http://{SERVER}/xenhost/tree verified" in text, text[-3000:]
    with booted_host(name, disk, firmware, ssh_key[0], hostname, "10.0.2.15/24", timings):
        pass
    record(f"3 PXE {firmware.upper()} ({loader}), tree over HTTP", timings)
