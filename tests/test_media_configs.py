"""The boot configs the media ship: every entry's boot line must pass our own boot-line parser and
carry the live-boot parameters (pure: no build needed)."""
from __future__ import annotations

import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "image"))
from xhbuild import isobuild, pxebuild  # noqa: E402

from installer import cmdline  # noqa: E402

PXE_LINES = {
    "pxelinux": lambda: re.findall(r"^\s*APPEND (.*)$", pxebuild.pxelinux_cfg(), re.M),
    "grub": lambda: re.findall(r"^\s*linux /vmlinuz (.*)$", pxebuild.grub_cfg(), re.M),
    "ipxe": lambda: re.findall(r"^kernel \S+ initrd=initrd.img (.*)$", pxebuild.ipxe_script(), re.M),
}


@pytest.mark.parametrize("kind", sorted(PXE_LINES))
def test_pxe_samples_boot_lines_parse_and_fetch_the_live_system(kind):
    lines = PXE_LINES[kind]()
    assert lines, f"no kernel lines in the {kind} sample"
    for line in lines:
        opts, report = cmdline.parse(line.replace("SERVER", "192.0.2.7"))
        assert not report.errors
        assert "boot=live" in line and "fetch=http://SERVER/xenhost/filesystem.squashfs" in line
        assert "ethdevice=eth0" in line and set(opts.consoles) == {"tty0", "ttyS0,115200"}
    first = cmdline.parse(lines[0].replace("SERVER", "192.0.2.7"))[0]
    assert first.answerfile == "http://192.0.2.7/xenhost/answerfile.xml" and first.needs_network


def test_pxelinux_default_is_the_unattended_entry_and_menus_name_the_product():
    cfg = pxebuild.pxelinux_cfg()
    assert re.search(r"^DEFAULT unattended$", cfg, re.M) and "IPAPPEND 2" in cfg
    from installer.product import DEFAULT as P
    for text in (cfg, pxebuild.grub_cfg(), isobuild.MENU.format(brand=P.brand, version=P.version)):
        assert f"{P.brand} {P.version}" in text


def test_iso_menu_entries_parse_and_only_the_unattended_one_names_an_answer_file():
    lines = re.findall(r"^\s*linux /live/vmlinuz (.*)$", isobuild.MENU, re.M)
    assert len(lines) == 4
    parsed = [cmdline.parse(line)[0] for line in lines]
    assert [o.unattended for o in parsed] == [False, False, True, False]
    assert parsed[2].answerfile == "file:///run/live/medium/answerfile.xml"
    assert all("boot=live" in line and "net.ifnames=0" in line for line in lines)
