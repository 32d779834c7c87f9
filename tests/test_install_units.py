"""Pure parts of real installs: sizes, mirror derivation, GPT renumbering, GRUB config and MBR patching."""
from __future__ import annotations

import os
import struct
import sys

import pytest

from installer import bootloader, hostinstall, layout, storage
from installer.errors import InstallerError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "image"))
from xhbuild import mirror  # noqa: E402


@pytest.mark.parametrize("text,value", [("64G", 64 << 30), ("46GiB", 46 << 30), ("512M", 512 << 20),
                                        ("1T", 1 << 40), ("1.5G", 3 << 29), ("4096", 4096)])
def test_sizes(text, value):
    assert hostinstall.parse_size(text) == value


@pytest.mark.parametrize("text", ["", "G", "64X", "-1G", "sixty"])
def test_bad_sizes_are_clear_errors(text):
    with pytest.raises(InstallerError, match="bad size"):
        hostinstall.parse_size(text)


def test_mirror_comes_from_the_machines_apt_configuration(tmp_path):
    d = tmp_path / "etc/apt/sources.list.d"
    d.mkdir(parents=True)
    (d / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.test/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\n\nTypes: deb\nURIs: http://mirror.test/debian-security\n"
        "Suites: bookworm-security\nComponents: main\n")
    (d / "other.list").write_text("deb [arch=amd64] https://vendor.test/apt stable main\n")
    m = mirror.derive(str(tmp_path))
    assert m.sources() == ["deb http://mirror.test/debian trixie main",
                           "deb http://mirror.test/debian trixie-updates main",
                           "deb http://mirror.test/debian-security trixie-security main"]


def test_one_line_sources_work_too_and_no_archive_is_an_error(tmp_path):
    (tmp_path / "etc/apt").mkdir(parents=True)
    with pytest.raises(SystemExit, match="no Debian archive"):
        mirror.derive(str(tmp_path))
    (tmp_path / "etc/apt/sources.list").write_text("deb http://m.test/debian bookworm main\n")
    assert mirror.derive(str(tmp_path)).archive == "http://m.test/debian"


DUMP = """label: gpt
label-id: 7F9B171D-9E74-4324-B8D1-B0CD4CD63A49
device: /dev/loop0
unit: sectors
first-lba: 34
last-lba: 134217694
sector-size: 512

/dev/loop0p1 : start=        2048, size=     8388608, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=AAAAAAAA-0000-4000-8000-000000000001
/dev/loop0p2 : start=     8390656, size=    37748736, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=AAAAAAAA-0000-4000-8000-000000000002
/dev/loop0p3 : start=    46139392, size=    37748736, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=AAAAAAAA-0000-4000-8000-000000000003
/dev/loop0p4 : start=    83888128, size=     1048576, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=AAAAAAAA-0000-4000-8000-000000000004
/dev/loop0p5 : start=    84936704, size=     2097152, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, uuid=AAAAAAAA-0000-4000-8000-000000000005
/dev/loop0p6 : start=    87033856, size=    47181824, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, uuid=AAAAAAAA-0000-4000-8000-000000000006
"""


def test_table_rewrite_gives_xcpng_numbers_names_and_types_keeping_places_and_guids():
    plan = _Plan("uefi")
    plan.disk.path = "/dev/loop0"
    out = storage.edit_dump(DUMP, plan.disk, renumber=True)
    assert out.splitlines()[:7] == DUMP.splitlines()[:7], "header (disk GUID) kept"
    rows = {line.split(" :")[0]: line for line in out.splitlines() if line.startswith("/dev/")}
    assert list(rows) == ["/dev/loop0p5", "/dev/loop0p2", "/dev/loop0p1", "/dev/loop0p4",
                          "/dev/loop0p6", "/dev/loop0p3"]
    assert 'start=        2048' in rows["/dev/loop0p5"] and 'name="logs"' in rows["/dev/loop0p5"]
    assert "uuid=AAAAAAAA-0000-4000-8000-000000000004" in rows["/dev/loop0p4"]
    assert "type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B" in rows["/dev/loop0p4"]
    again = storage.edit_dump(out, plan.disk, renumber=False)
    assert again == out, "a second pass with the plan's numbers changes nothing"


class _Plan:
    def __init__(self, boot_mode="bios"):
        self.product = {"brand": "Xenhost", "version": "0.1.0", "xen_version": "4.20", "name": "xenhost"}
        self.dom0_memory_mib, self.dom0_vcpus = 1440, 4
        parts = layout.primary_layout(64 << 30, boot_mode, "abc123")
        from installer.plan import DiskPlan
        self.disk = DiskPlan("/dev/vda", "primary", 64 << 30, partitions=parts)

    def primary(self):
        return self.disk


def test_grub_config_entries_and_serial_default():
    from installer.config import InstallConfig
    cfg = InstallConfig()
    files = {"kernel": "vmlinuz-6.12", "initrd": "initrd.img-6.12", "xen": "xen-4.20-amd64.gz"}
    text = bootloader.grub_cfg(_Plan(), cfg, files)
    assert "set default=0" in text and "serial --unit" not in text
    assert "insmod all_video" in text          # a framebuffer for the direct Linux entry on UEFI
    assert text.count("multiboot2 /boot/xen-4.20-amd64.gz dom0_mem=1440M,max:1440M dom0_max_vcpus=1-4") == 3
    assert "root=LABEL=root-abc123" in text and "linux /boot/vmlinuz-6.12 root=LABEL=root-abc123" in text
    cfg.bootloader.serial_console = "ttyS1,57600n8"
    text = bootloader.grub_cfg(_Plan(), cfg, files)
    assert "serial --unit=1 --speed=57600" in text and "set default=1" in text
    assert "com2=57600,8n1 console=com2,vga" in text and "console=ttyS1,57600n8" in text


def test_bios_boot_code_goes_to_the_mbr_and_core_image_to_the_bios_boot_partition(tmp_path):
    plan = _Plan("bios")
    disk = tmp_path / "disk.img"
    mbr = bytearray(512)
    mbr[0x1BE:0x1CE] = bytes([0, 0, 2, 0, 0xEE, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF])
    mbr[510:512] = b"\x55\xaa"
    with open(disk, "wb") as f:
        f.write(mbr)
        f.truncate(64 << 30)
    boot_img = tmp_path / "boot.img"
    boot_img.write_bytes(bytes(range(256)) * 2)
    core = tmp_path / "core.img"
    core.write_bytes(b"C" * 512 * 40 + b"tail")
    plan.disk.path = str(disk)
    bootloader._bios(plan.disk, str(boot_img), str(core))
    start = plan.disk.part("boot").start_mib * 2048
    data = open(disk, "rb").read(512)
    assert data[0x1BE:0x200] == bytes(mbr[0x1BE:0x200]), "the protective MBR partition table is kept"
    assert struct.unpack_from("<Q", data, 0x5C)[0] == start
    assert data[0x66:0x68] == b"\x90\x90" and data[0x64] == 0xFF
    with open(disk, "rb") as f:
        f.seek(start * 512)
        first = f.read(512)
    assert struct.unpack_from("<QH", first, 500) == (start + 1, 40), "blocklist: the rest of core.img"


def test_a_core_image_too_big_for_the_partition_is_refused(tmp_path):
    plan = _Plan("bios")
    plan.disk.part("boot").size_mib = 1
    core = tmp_path / "core.img"
    core.write_bytes(b"C" * (2 << 20))
    with pytest.raises(InstallerError, match="does not fit"):
        bootloader._bios(plan.disk, str(tmp_path / "none"), str(core))


def test_remote_tree_file_names_cannot_leave_the_download_directory(tmp_path):
    from installer.tree import Tree
    tree = Tree("http://127.0.0.1:9/tree", cache_dir=str(tmp_path))
    for name in ("../../etc/passwd", "/etc/passwd", "pool/../../x"):
        with pytest.raises(InstallerError, match="refusing the file name"):
            tree.fetch(name)


def test_url_credentials_become_basic_auth_and_a_secret():
    from installer.runner import SECRETS
    from installer.tree import Tree
    tree = Tree("http://op:s3cr3t-pw@192.0.2.7:8080/tree/")
    assert tree.location == "http://192.0.2.7:8080/tree"
    assert "s3cr3t-pw" not in SECRETS.mask("fetching http://192.0.2.7/x with s3cr3t-pw")


def test_release_checksums_are_read(tmp_path):
    from installer.tree import release_sha256
    rel = tmp_path / "Release"
    rel.write_text("Suite: xenhost\nSHA256:\n " + "a" * 64 + " 12 main/binary-amd64/Packages\n "
                   + "b" * 64 + " 9 main/binary-amd64/Packages.gz\n")
    assert release_sha256(str(rel), "main/binary-amd64/Packages") == "a" * 64
    assert release_sha256(str(rel), "main/binary-i386/Packages") is None


def test_target_partitions_are_told_apart_from_other_loop_devices():
    storage._TARGETS.clear()
    storage._TARGETS.update({"loop1", "sda", "nvme0n1"})
    try:
        assert storage._is_target("loop1") and storage._is_target("loop1p3")
        assert not storage._is_target("loop10") and not storage._is_target("loop10p1")
        assert storage._is_target("sda3") and not storage._is_target("sdab")
        assert storage._is_target("nvme0n1p2") and not storage._is_target("nvme0n11")
    finally:
        storage._TARGETS.clear()
