"""Installer media scenario 8: Secure Boot. The firmware is OVMF built with Secure Boot, its
variable store holding Microsoft's keys with Secure Boot on, as PCs ship (harness firmware
"uefi-secureboot"). The media boot through Debian's signed shim, GRUB and kernel
(image/xhbuild/signedboot.py); the installed host could not (its Xen and GRUB are unsigned), so the
installer refuses an install whose answer file does not accept that.

- ISO: the installer's kernel reports Secure Boot enabled and locks itself down; the answer file
  (over HTTP, typed at the signed GRUB's command line as in scenario 1) has no
  <secure-boot action="continue"/>, so the plan is refused before any disk is touched: the refusal
  on the serial console, the disk byte for byte unchanged (and no block of it newly allocated).
- PXE: UEFI network boot of the shipped per-host GRUB sample, boot file grub/shimx64.efi (shim,
  then grubnetx64 and the kernel over QEMU's TFTP): the kernel starts and reports Secure Boot
  enabled; the VM is stopped there (scenario 3 installs over the network, without Secure Boot).
"""
from __future__ import annotations

import os
import re
import time

import pytest
from answers import DHCP, answerfile
from harness import VM
from media import ARTIFACTS, SERVER, blank_disk, boot_iso, record

from installer import secureboot

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="vm-tests need root (image builds)")

FIRMWARE = "uefi-secureboot"
ENFORCED = "secureboot: Secure boot enabled"            # the kernel, from the firmware's variables
LOCKED_DOWN = re.compile(r"[Ll]ocked down from EFI Secure Boot")
MAC = "52-54-00-12-34-56"                               # QEMU's first NIC, as GRUB's per-host file names it
MiB = 1 << 20


def _kernel_saw_secure_boot(text: str) -> None:
    said = "; ".join(re.findall(r"secureboot: .*", text)) or "nothing about it"
    assert ENFORCED in text, f"the installer's kernel does not report Secure Boot enabled: {said}"


def test_iso_boots_signed_under_secure_boot_and_refuses_an_install_that_does_not_accept_it(iso, www, ssh_key,
                                                                                           tmp_path):
    root, port = www
    (root / "a.xml").write_text(answerfile(ssh_key.public, "xh-sb.vm-test.invalid", DHCP))
    head, tail = os.urandom(MiB), os.urandom(MiB)
    disk = blank_disk(str(tmp_path / "disk.img"), head)
    with open(disk, "r+b") as f:        # where a GPT keeps its backup header
        f.seek(-MiB, os.SEEK_END)
        f.write(tail)
    allocated = os.stat(disk).st_blocks
    vm = boot_iso("iso-uefi-secureboot", iso, disk, port, f"answerfile=http://{SERVER}/a.xml atexit=poweroff",
                  firmware=FIRMWARE)
    timings: dict[str, float] = {}
    try:
        vm.wait_for_or_restart(r"installer: answer file: ", 900)
        timings["installer boot"] = time.monotonic() - vm.started
        vm.wait_for(r"installer: INSTALLATION FAILED: the install cannot be planned", 600)
        vm.wait_for(r"support bundle: /run/install/support-", 120)     # printed after the failure
        text = vm.console()
        vm.wait_exit(300)
        timings["refusal and power-off"] = time.monotonic() - vm.started - timings["installer boot"]
    finally:
        vm.stop()
    _kernel_saw_secure_boot(text)
    assert LOCKED_DOWN.search(text), "the installer's kernel did not lock itself down"
    assert "plan error: " in text and secureboot.WHAT in text, text[-3000:]
    assert "no disk was touched" in text
    with open(disk, "rb") as f:
        assert f.read(MiB) == head, "the start of the disk was written"
        f.seek(-MiB, os.SEEK_END)
        assert f.read(MiB) == tail, "the end of the disk was written"
    assert os.stat(disk).st_blocks == allocated, "blocks of the disk were written (its allocation grew)"
    record("8 ISO UEFI Secure Boot, install not accepted (refused)", timings)


def test_uefi_network_boot_under_secure_boot_starts_the_signed_kernel(pxe, tmp_path):
    tftp = tmp_path / "tftp"
    (tftp / "grub").mkdir(parents=True)
    for name in ("vmlinuz", "initrd.img"):
        os.symlink(os.path.join(pxe, name), tftp / name)
    for name in os.listdir(os.path.join(pxe, "grub")):     # shim, signed GRUB, MokManager
        if name != "grub.cfg":
            os.symlink(os.path.join(pxe, "grub", name), tftp / "grub" / name)
    # the shipped configs as an operator copies them: the shared one, and this host's own file
    for src, dest in (("grub/grub.cfg", "grub/grub.cfg"), ("per-host/grub.cfg-01-MAC", f"grub/grub.cfg-01-{MAC}")):
        with open(os.path.join(pxe, src)) as f:
            (tftp / dest).write_text(f.read().replace("SERVER", SERVER).replace("MAC", MAC))
    disk = blank_disk(str(tmp_path / "disk.img"), size=1 << 30)
    vm = VM("installer", disk, FIRMWARE, os.path.join(ARTIFACTS, "pxe-uefi-secureboot"), memory_mib=1024,
            netboot=(str(tftp), "grub/shimx64.efi")).start()
    try:
        vm.wait_for(r"secureboot: Secure boot \w+", 900)
        seconds = time.monotonic() - vm.started
        text = vm.console()
    finally:
        vm.stop()
    _kernel_saw_secure_boot(text)
    # the per-host entry, found by grub.cfg's own lookup (Debian's grubnetx64 does not look itself)
    assert f"answerfile=http://{SERVER}/xenhost/hosts/{MAC}.xml" in text, text[-3000:]
    record("8 PXE UEFI Secure Boot, signed kernel started", {"network boot to the kernel": seconds})
