"""The build report reads sizes, build times and every component's share from the build cache (a
fake cache here: small real squashfs, ISO and initrds where the tools exist)."""
from __future__ import annotations

import lzma
import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "image"))
from xhbuild import contents, firmware, report  # noqa: E402

MiB = 2 ** 20


def _build(cache, kind: str, result: str, files: dict[str, int], seconds: str) -> None:
    base = cache / kind / "k1"
    for rel, size in files.items():
        path = base / result / rel if rel else base / result
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    (base / "complete").write_text(seconds)
    os.symlink(f"k1/{result}", cache / kind / "current")


def newc(members: dict[str, bytes]) -> bytes:
    """A newc cpio archive of regular files, padded to 512 bytes as cpio -o writes it."""
    out = b""
    for ino, (name, data) in enumerate([*members.items(), ("TRAILER!!!", b"")], 1):
        mode = 0 if name == "TRAILER!!!" else 0o100644
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0]
        head = b"070701" + b"".join(b"%08X" % f for f in fields) + name.encode() + b"\0"
        out += head + b"\0" * (-len(head) % 4) + data + b"\0" * (-len(data) % 4)
    return out + b"\0" * (-len(out) % 512)


def initrd(microcode: dict[str, bytes], modules: dict[str, bytes], main: dict[str, bytes]) -> bytes:
    """As initramfs-tools makes it: early microcode archives, the compressed modules, the xz main part."""
    early = b"".join(newc({name: data}) for name, data in microcode.items())
    return early + newc(modules) + lzma.compress(newc(main), format=lzma.FORMAT_XZ)


def test_report_shows_sizes_build_times_and_what_is_not_built(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "CACHE", str(tmp_path))
    _build(tmp_path, "live", "live", {"filesystem.squashfs": 3 << 20, "vmlinuz": 1 << 20,
                                      "initrd.img": 2 << 20}, "83.6\n")
    _build(tmp_path, "iso", "installer.iso", {"": 5 << 20}, "")     # an older build: no time kept
    rows = {line.split("  ")[0]: line.split() for line in report.render().splitlines()}
    assert rows["live squashfs (installer system)"][-4:] == ["3.0", "MiB", "84", "s"]
    assert rows["installer initrd"][-3:] == ["2.0", "MiB", '"']
    assert rows["installer ISO"][-3:] == ["5.0", "MiB", "-"]
    assert rows["product root image"][-3:] == ["not", "built", "-"]
    assert rows["signed EFI boot files (shim, GRUB, MokManager)"][-3:] == ["not", "built", "-"]
    assert "signed EFI boot files: not built" in report.render().splitlines()


def test_report_shows_the_signed_efi_boot_files_and_their_package_versions(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "CACHE", str(tmp_path))
    _build(tmp_path, "efi", "efi", {"shimx64.efi": MiB, "mmx64.efi": MiB, "gcdx64.efi": 2 * MiB,
                                    "grubnetx64.efi": 2 * MiB}, "2.4\n")
    (tmp_path / "efi/k1/efi/versions.txt").write_text("grub-efi-amd64-signed 1+2.12+9+deb13u4\n"
                                                      "shim-signed 1.51~1+deb13u1+16.1-2~deb13u1\n")
    lines = report.render().splitlines()
    rows = {line.split("  ")[0]: line.split() for line in lines}
    assert rows["signed EFI boot files (shim, GRUB, MokManager)"][-4:] == ["6.0", "MiB", "2", "s"]
    assert ("packages of the signed EFI boot files (ISO and PXE): grub-efi-amd64-signed 1+2.12+9+deb13u4, "
            "shim-signed 1.51~1+deb13u1+16.1-2~deb13u1") in lines


def test_components_are_classified_in_order_and_the_iso_remainder_is_the_file_system():
    files = {"/xenhost/images/root.squashfs": 60 * MiB, "/xenhost/pool/pool/a.deb": 2 * MiB,
             "/xenhost/.treeinfo": 1000, "/live/filesystem.squashfs": 20 * MiB, "/live/vmlinuz": 5 * MiB,
             "/live/initrd.img": 8 * MiB, "/efi.img": 3 * MiB, "/boot/grub/grub.cfg": MiB}
    rows = dict(report.iso_shares(files, 100 * MiB))
    assert rows["product root image"] == 60 * MiB and rows["boot loader files (GRUB)"] == MiB
    assert rows["EFI boot image"] == 3 * MiB and rows["other files (manifest, license, ...)"] == 1000
    assert rows["file system, boot records, padding"] == 100 * MiB - sum(files.values())
    moved = {**{k: v for k, v in files.items() if k != "/efi.img"}, "/boot/grub/efi.img": 3 * MiB}   # by xorriso
    assert dict(report.iso_shares(moved, 100 * MiB))["EFI boot image"] == 3 * MiB
    table = report.share_table("ISO", report.iso_shares(files, 100 * MiB), 100 * MiB)
    assert "  product root image" in table[1] and table[1].endswith(" 60.0 MiB   60.0 %")
    root = {"/usr/lib/firmware/intel-ucode/06-55-04": 3, "/usr/lib/firmware/tigon/tg3.bin": 5,
            "/usr/libexec/xen-qemu-system-i386": 7, "/usr/share/ovmf/OVMF.fd": 11, "/boot/xen-4.20-amd64.gz": 13,
            "/usr/lib/modules/6.12/kernel/a.ko.xz": 17, "/usr/bin/bash": 19}
    assert report.classify(root, report.ROOT_PARTS) == [
        ("kernel and modules", 17), ("Xen hypervisor and toolstack", 13), ("HVM device model (QEMU, its ROMs)", 7),
        ("guest firmware (SeaBIOS, OVMF)", 11), ("CPU microcode files", 3), ("NIC and storage firmware", 5),
        ("everything else", 19)]


def test_a_squashfs_listing_gives_every_entry_and_the_targets_of_links():
    text = "\n".join([
        "Parallel unsquashfs: Using 2 processors",
        "drwxr-xr-x root/root               343 2026-12-05 14:29 squashfs-root",
        "lrwxrwxrwx root/root                 7 2026-11-08 20:20 squashfs-root/lib -> usr/lib",
        "drwxr-xr-x root/root               218 2026-12-05 14:30 squashfs-root/usr/lib/firmware/intel",
        "-rw-r--r-- root/root              2668 2025-04-10 00:00 squashfs-root/usr/lib/firmware/tigon/tg3.bin",
        "lrwxrwxrwx root/root                16 2025-04-10 00:00 squashfs-root/usr/lib/firmware/intel/ice/ddp/ice.pkg"
        " -> ice-1.3.41.0.pkg",
        "crw------- root/root            10,236 2026-12-05 14:30 squashfs-root/dev/mapper/control",
        "crw-rw-rw- root/root             5,  1 2026-12-05 14:29 squashfs-root/dev/console"])
    assert contents.parse_entries(text) == {
        "/lib": "usr/lib", "/usr/lib/firmware/intel": None, "/usr/lib/firmware/tigon/tg3.bin": None,
        "/usr/lib/firmware/intel/ice/ddp/ice.pkg": "ice-1.3.41.0.pkg", "/dev/mapper/control": None, "/dev/console": None}


def test_the_goal_line_says_how_far_the_iso_is_from_450_mb():
    assert report.goal_line(402_000_000) == "check: ISO size 402.0 MB of the 450 MB goal: within the goal"
    assert report.goal_line(461_500_000).endswith("OVER the goal by 11.5 MB")


def test_initrd_members_read_the_early_microcode_the_modules_and_the_xz_main_part():
    data = initrd({"kernel/x86/microcode/AuthenticAMD.bin": b"a" * 300, "kernel/x86/microcode/GenuineIntel.bin":
                   b"i" * 5000}, {"usr/lib/modules/6.12/kernel/x.ko.xz": b"m" * 77},
                  {"usr/lib/firmware/tigon/tg3.bin": b"t" * 2668, "init": b"#!/bin/sh\n"})
    early, main = contents.initrd_members(data)
    assert early == {"kernel/x86/microcode/AuthenticAMD.bin": 300, "kernel/x86/microcode/GenuineIntel.bin": 5000,
                     "usr/lib/modules/6.12/kernel/x.ko.xz": 77}
    assert main == {"usr/lib/firmware/tigon/tg3.bin": 2668, "init": 10}
    assert contents.main_compression(data) == "xz"
    lines = report.initrd_lines("initrd", data)
    assert "then the xz main part" in lines[0]
    assert lines[1:] == ["  CPU microcode (early cpio, read by Xen): 0.0 MiB", "  firmware: 0.0 MiB",
                         "  kernel modules: 0.0 MiB", "  everything else: 0.0 MiB"]
    assert contents.initrd_members(b"garbage") == ({}, {})


def test_dpkg_status_gives_installed_versions_and_names_missing_firmware():
    status = ("Package: firmware-bnx2\nStatus: install ok installed\nVersion: 20250410-2\nDescription: x\n y: z\n\n"
              "Package: ovmf\nStatus: deinstall ok config-files\nVersion: 1\n\n"
              "Package: intel-microcode\nStatus: install ok installed\nVersion: 3.2\n")
    versions = contents.dpkg_versions(status)
    assert versions == {"firmware-bnx2": "20250410-2", "intel-microcode": "3.2"}
    lines = report.package_line("the product root", versions)
    assert lines[0] == "packages in the product root: firmware-bnx2 20250410-2, intel-microcode 3.2"
    assert lines[1].startswith("  MISSING from the product root (image/firmware.txt): firmware-bnx2x ")


@pytest.mark.skipif(not (shutil.which("mksquashfs") and shutil.which("unsquashfs") and shutil.which("xorriso")),
                    reason="needs squashfs-tools and xorriso (the build's tools)")
def test_the_whole_report_on_a_small_fake_build(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setattr(report, "CACHE", str(cache))
    status = "".join(f"Package: {p}\nStatus: install ok installed\nVersion: 1.{i}\n\n"
                     for i, p in enumerate(firmware.packages() + ["intel-microcode", "qemu-system-xen"]))
    image_initrd = initrd({"kernel/x86/microcode/GenuineIntel.bin": b"\x01" * MiB}, {},
                          {"usr/lib/firmware/tigon/tg3.bin": b"t" * 4096})
    root = {"boot/initrd.img-6.12": image_initrd, "boot/vmlinuz-6.12": os.urandom(MiB),
            "usr/libexec/xen-qemu-system-i386": os.urandom(2 * MiB), "usr/lib/firmware/tigon/tg3.bin": b"t" * 4096,
            "var/lib/dpkg/status": status.encode()}
    src = tmp_path / "rootfs"
    for rel, data in root.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    tree = cache / "product/k1/tree"
    (tree / "images").mkdir(parents=True)
    (tree / "pool").mkdir()
    (tree / "pool/a.deb").write_bytes(b"d" * 1000)
    subprocess.run(["mksquashfs", str(src), str(tree / "images/root.squashfs"), "-noappend", "-quiet",
                    "-no-progress"], check=True, capture_output=True)
    (cache / "product/k1/complete").write_text("12\n")
    os.symlink("k1/tree", cache / "product/current")
    _build(cache, "env", "root", {"usr/lib/firmware/rtl_nic/rtl8168h-2.fw": 3000, "usr/bin/python3": 5000}, "9\n")
    (cache / "env/k1/root/var/lib/dpkg").mkdir(parents=True)
    (cache / "env/k1/root/var/lib/dpkg/status").write_text("Package: firmware-realtek\nStatus: install ok "
                                                           "installed\nVersion: 20250410-2\n")
    _build(cache, "live", "live", {"filesystem.squashfs": 3 * MiB, "vmlinuz": MiB}, "5\n")
    (cache / "live/k1/live/initrd.img").write_bytes(initrd({}, {}, {"usr/lib/firmware/rtl_nic/x.fw": b"r" * 9}))
    stage = tmp_path / "stage"
    for rel, src_path in [("xenhost/images/root.squashfs", tree / "images/root.squashfs"),
                          ("live/initrd.img", cache / "live/k1/live/initrd.img")]:
        (stage / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src_path, stage / rel)
    (stage / "boot/grub").mkdir(parents=True)
    (stage / "boot/grub/grub.cfg").write_text("set timeout=5\n")
    (stage / "efi.img").write_bytes(b"\0" * 65536)
    (cache / "iso/k1").mkdir(parents=True)
    subprocess.run(["xorriso", "-as", "mkisofs", "-R", "-o", str(cache / "iso/k1/installer.iso"), str(stage)],
                   check=True, capture_output=True)
    (cache / "iso/k1/complete").write_text("1\n")
    os.symlink("k1/installer.iso", cache / "iso/current")

    text = report.render()
    iso_size = os.path.getsize(cache / "iso/k1/installer.iso")
    squashfs = os.path.getsize(tree / "images/root.squashfs")
    lines = text.splitlines()
    (root_row,) = [line for line in lines if line.startswith("  product root image ")]
    assert root_row.split()[-4:] == [f"{squashfs / MiB:.1f}", "MiB", f"{100 * squashfs / iso_size:.1f}", "%"]
    assert [line for line in lines if line.startswith("  EFI boot image")][0].split()[-4] == "0.1"
    assert f"check: ISO size {iso_size / 1e6:.1f} MB of the 450 MB goal: within the goal" in lines
    # inside the product root: shares of the unpacked files, the initrd's microcode, the versions
    total = sum(len(d) for d in root.values())
    (dm,) = [line for line in lines if line.startswith("  HVM device model")]
    assert dm.split()[-4:] == ["2.0", "MiB", f"{100 * 2 * MiB / total:.1f}", "%"]
    assert "  CPU microcode (early cpio, read by Xen): 1.0 MiB" in lines
    (packages,) = [line for line in lines if line.startswith("packages in the product root: ")]
    assert "firmware-bnx2 1.0" in packages and "qemu-system-xen 1.9" in packages
    assert not any(line.startswith("  MISSING from the product root") for line in lines)
    # the installer environment: its firmware, the live initrd's, and what is missing from it
    assert "packages in the installer environment: firmware-realtek 20250410-2" in lines
    assert any(line.startswith("  MISSING from the installer environment (image/firmware.txt): firmware-bnx2 ")
               for line in lines)
    assert "NIC and storage firmware" in text.split("installer environment (share")[1]
