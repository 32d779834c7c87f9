"""The wizard on the VGA console, from the ISO's default boot entry, as an operator at the machine
sees it.

The ISO boots (BIOS) and GRUB's default entry, "install (interactive)" (console=tty0, quiet), is
taken untouched. The test reads the VGA screen through QEMU screendumps (vga.py reads the text back
cell by cell) and types on the emulated PS/2 keyboard: the wizard must fill the framebuffer console
(80x25 in BIOS text mode, the larger framebuffer console on UEFI), show the help line, move between screens and show the license. Nothing is
installed: the disk must stay blank.
"""
from __future__ import annotations

import os
import subprocess
import time

import pytest
from harness import VM
from media import ARTIFACTS, blank_disk, record
from vga import Screen, TextReader, bios_glyphs, console_setup_glyphs, kernel_glyphs, load_glyphs

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="vm-tests need root (image builds)")


@pytest.fixture(scope="module")
def reader(iso, tmp_path_factory):
    """Reads the screen with every font the VM may draw: the VGA BIOS's and the ISO kernel's until
    console-setup runs, then the live system's Fixed font."""
    work = tmp_path_factory.mktemp("live")
    for name in ("vmlinuz", "filesystem.squashfs"):
        subprocess.run(["xorriso", "-osirrox", "on", "-indev", iso, "-extract", f"/live/{name}",
                        str(work / name)], check=True, capture_output=True)
    console = load_glyphs()
    return TextReader(console, bios_glyphs(like=console), kernel_glyphs(str(work / "vmlinuz"), like=console),
                      console_setup_glyphs(str(work / "filesystem.squashfs"), str(work / "root")))


@pytest.mark.parametrize("firmware", ["bios", "uefi"])
def test_wizard_on_the_vga_console_from_the_default_entry(iso, reader, tmp_path, firmware):
    disk = blank_disk(str(tmp_path / "disk.img"))
    out = os.path.join(ARTIFACTS, f"vga-{firmware}")
    os.makedirs(out, exist_ok=True)
    vm = VM("installer", disk, firmware, out, memory_mib=1024, cdrom=iso).start()
    timings: dict[str, float] = {}
    try:
        vm.wait_for(r"install \(interactive\)", 300)     # GRUB's menu, also on the serial line
        vm.send(b"\r")                                   # the default entry, as it is
        con = Screen(vm, reader)
        screen = con.wait_title("Keyboard layout", 600)
        timings["installer boot"] = time.monotonic() - vm.started
        start = time.monotonic()
        # the help line on the console's last row: the wizard takes the whole screen (80x25 in
        # BIOS text mode, 100x37 on OVMF's 800x600 framebuffer)
        # (the first screen has no Back: no Esc on its help line)
        assert len(screen) >= 25 and "Tab: next field" in screen[-1] and "F1: help" in screen[-1], screen
        assert "Esc" not in screen[-1], screen
        assert screen[1].strip() == "Keyboard layout" and "Xenhost" in screen[0], screen
        assert "(X) us" in "\n".join(screen), screen

        con.keys("enter", "enter")                        # "us" kept, Next
        con.wait_title("Welcome", 60)
        con.keys("enter")
        screen = con.wait_title("License agreement", 60)
        assert any("END USER LICENSE AGREEMENT" in line for line in screen), screen
        con.keys("f1")
        time.sleep(1)
        assert "tick the box to accept it" in "\n".join(con.read()), con.last
        con.keys("f1", "esc")                             # help away, then Back
        con.wait_title("Welcome", 60)
        timings["screens"] = time.monotonic() - start
    finally:
        vm.stop()
    with open(disk, "rb") as f:
        assert f.read(1 << 20) == bytes(1 << 20)
    assert os.stat(disk).st_blocks == 0, "the wizard wrote to the disk before the Summary"
    record(f"7 ISO {firmware.upper()}, default entry, the wizard on the VGA console", timings)
