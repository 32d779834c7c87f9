"""The firmware list's globs against a built root (image/xhbuild/firmware.py unmatched() and check()):
a glob that matches nothing stops the build, naming it, its line and its package, instead of an
image that silently lacks a device's firmware; prune() leaves no link that leads nowhere. Pure;
check() and prune() run on a small root in tmp_path."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "image"))
from xhbuild import firmware  # noqa: E402

FW = "/usr/lib/firmware"
LIST = """# test list
firmware-bnx2x          bnx2x/*  !bnx2x/*-7.13.1.0.fw
firmware-misc-nonfree   tigon/*  cxgb4/*
"""
# what dpkg lists for each package (left-out files too), and what the filter let into the root
SHIPPED = {
    "firmware-bnx2x": ["/.", "/usr", FW, f"{FW}/bnx2x", f"{FW}/bnx2x/bnx2x-e2-7.13.21.0.fw",
                       f"{FW}/bnx2x/bnx2x-e2-7.13.1.0.fw", "/usr/share/doc/firmware-bnx2x/copyright"],
    "firmware-misc-nonfree": [f"{FW}/tigon", f"{FW}/tigon/tg3.bin", f"{FW}/cxgb4", f"{FW}/cxgb4/configs",
                              f"{FW}/cxgb4/configs/t6-config-default.txt", f"{FW}/cxgb4/t6fw.bin",
                              f"{FW}/ti/tas2781.bin"],
}
INSTALLED = [f"{FW}/bnx2x/bnx2x-e2-7.13.21.0.fw", f"{FW}/tigon/tg3.bin", f"{FW}/cxgb4/t6fw.bin",
             f"{FW}/cxgb4/configs/t6-config-default.txt"]


def _entries(tmp_path, text: str = LIST) -> list[firmware.Firmware]:
    path = tmp_path / "firmware.txt"
    path.write_text(text)
    return firmware.load(str(path))


def _missed(entries, installed=INSTALLED, shipped=SHIPPED) -> list[tuple[str, str, int]]:
    return [(fw.package, g, fw.line) for fw, g in firmware.unmatched(entries, installed, shipped)]


def test_every_glob_of_a_good_list_matches(tmp_path):
    assert _missed(_entries(tmp_path)) == []


def test_a_typo_in_a_kept_glob_is_found_with_its_package_and_line(tmp_path):
    entries = _entries(tmp_path, LIST.replace("tigon/*", "tigo/*"))
    assert _missed(entries) == [("firmware-misc-nonfree", "tigo/*", 3)]


def test_a_kept_glob_needs_a_file_of_its_own_package_in_the_root(tmp_path):
    # only another package has it; its package ships it but the root lacks it (left out)
    assert _missed(_entries(tmp_path, LIST + "firmware-realtek  tigon/*\n")) == [("firmware-realtek", "tigon/*", 4)]
    assert _missed(_entries(tmp_path, LIST.replace("cxgb4/*", "cxgb4/* ti/*"))) == [
        ("firmware-misc-nonfree", "ti/*", 3)]
    # a directory is no file: an empty kept directory matches nothing
    assert _missed(_entries(tmp_path), installed=[*INSTALLED[:1], *INSTALLED[2:], f"{FW}/tigon"]) == [
        ("firmware-misc-nonfree", "tigon/*", 3)]


def test_a_dropped_glob_must_match_a_path_its_package_ships(tmp_path):
    entries = _entries(tmp_path, LIST.replace("7.13.1.0", "7.13.1.1"))
    assert _missed(entries) == [("firmware-bnx2x", "!bnx2x/*-7.13.1.1.fw", 2)]


def test_globs_match_as_dpkg_does_star_crossing_slashes(tmp_path):
    entries = _entries(tmp_path, "firmware-misc-nonfree  cxgb4/*.txt\n")
    assert _missed(entries) == []                           # cxgb4/configs/t6-config-default.txt


def _root(tmp_path, shipped=SHIPPED, installed=INSTALLED):
    root = tmp_path / "root"
    for path in installed:
        (root / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (root / path.lstrip("/")).write_bytes(b"x")
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    for package, paths in shipped.items():
        (info / f"{package}.list").write_text("\n".join(paths) + "\n")
    return str(root)


def test_check_passes_a_root_that_has_every_glob(tmp_path, capsys):
    _entries(tmp_path)
    firmware.check(_root(tmp_path), str(tmp_path / "firmware.txt"))
    assert "every glob of the 2 packages matches (4 files and links)" in capsys.readouterr().err


def test_check_stops_the_build_naming_each_glob_its_line_and_package(tmp_path):
    root = _root(tmp_path, shipped={"firmware-bnx2x": SHIPPED["firmware-bnx2x"]})
    _entries(tmp_path, LIST.replace("tigon/*", "tigo/*").replace("bnx2x/*  ", "bnx2x/*  bnx2x/*-7.13.1.0.fw  "))
    with pytest.raises(SystemExit) as err:
        firmware.check(root, str(tmp_path / "firmware.txt"))
    lines = str(err.value).splitlines()[1:]
    assert lines[0].startswith(f"{tmp_path}/firmware.txt:2: firmware-bnx2x bnx2x/*-7.13.1.0.fw: firmware-bnx2x "
                               "ships 1 such paths")
    assert lines[1:] == [f"{tmp_path}/firmware.txt:3: firmware-misc-nonfree {g}: dpkg lists no file of "
                         "firmware-misc-nonfree (not installed?)" for g in ("tigo/*", "cxgb4/*")]
    assert len(lines) == 3


def test_check_names_a_typo_as_such(tmp_path):
    root = _root(tmp_path)
    _entries(tmp_path, LIST.replace("tigon/*", "tigo/*"))
    with pytest.raises(SystemExit, match=r"firmware.txt:3: firmware-misc-nonfree tigo/\*: firmware-misc-nonfree "
                                         r"ships no such file under /usr/lib/firmware \(7 paths in its dpkg list\)"):
        firmware.check(root, str(tmp_path / "firmware.txt"))


def test_a_link_in_the_root_counts_as_a_file(tmp_path):
    root = _root(tmp_path, installed=[p for p in INSTALLED if not p.endswith("tg3.bin")])
    os.makedirs(os.path.join(root, "usr/lib/firmware/tigon"))
    os.symlink("../cxgb4/t6fw.bin", os.path.join(root, "usr/lib/firmware/tigon/tg3.bin"))
    _entries(tmp_path)
    firmware.check(root, str(tmp_path / "firmware.txt"))


def test_only_firmware_packages_may_be_listed(tmp_path):
    """The list goes into both roots; the CPU microcode (the other packages with firmware files) is
    the product's alone, kept by the filter's own globs."""
    with pytest.raises(SystemExit, match=r"firmware.txt:2: .*only firmware-\* packages: CPU microcode goes into "
                                          r"product/packages.txt"):
        _entries(tmp_path, "# x\namd64-microcode  amd-ucode/*\n")
    assert "amd-ucode/*" in firmware.MICROCODE and "intel-ucode/*" in firmware.MICROCODE


def test_prune_goes_on_until_no_link_leads_nowhere(tmp_path, capsys):
    """A link to a directory that held only links leading nowhere leads nowhere itself once prune()
    removed that directory: it used to stay (and check() counted it as a file)."""
    fw = tmp_path / FW.lstrip("/")
    (fw / "vpu").mkdir(parents=True)
    (fw / "vpu" / "vpu_37xx_v0.0.bin").symlink_to("vpu_37xx_v1.bin")      # left out by the filter
    (fw / "vpu-old").symlink_to("vpu")
    (fw / "vpu-older").symlink_to(f"{FW}/vpu-old")                           # absolute: inside the root
    (fw / "qat.bin").write_bytes(b"x")
    (fw / "qat_mmp.bin").symlink_to("qat.bin")
    links, emptied = firmware.prune(str(tmp_path))
    assert links == [f"{FW}/vpu-old", f"{FW}/vpu-older", f"{FW}/vpu/vpu_37xx_v0.0.bin"]
    assert emptied == [f"{FW}/vpu"]
    assert sorted(os.listdir(fw)) == ["qat.bin", "qat_mmp.bin"]
    assert "removed 3 links to files the filter left out" in capsys.readouterr().err
    assert firmware.prune(str(tmp_path)) == ([], [])


def test_a_link_that_leads_nowhere_is_no_file(tmp_path):
    root = _root(tmp_path, installed=[p for p in INSTALLED if not p.endswith("tg3.bin")])
    os.makedirs(os.path.join(root, "usr/lib/firmware/tigon"))
    os.symlink("tg3-left-out.bin", os.path.join(root, "usr/lib/firmware/tigon/tg3.bin"))
    _entries(tmp_path)
    with pytest.raises(SystemExit, match=r"firmware.txt:3: firmware-misc-nonfree tigon/\*: firmware-misc-nonfree "
                                         r"ships 1 such paths .* but none of them is a file in the root"):
        firmware.check(root, str(tmp_path / "firmware.txt"))
