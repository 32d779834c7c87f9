"""The media's Secure Boot layout without building them: where Debian's signed shim and GRUB go on
the ISO's EFI system image and in the PXE tree, what the media's GRUB configs need built into the
signed GRUB (checked here against the module list of Debian 13's images, and by the build against
the real files), the xorriso, mtools and mmdebstrap command lines; and, with this machine's tools,
a small ISO assembled the way the build does it and read back."""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "image"))
from xhbuild import isobuild, pxebuild, signedboot  # noqa: E402

# built into gcdx64.efi.signed of grub-efi-amd64-signed 1+2.12+9+deb13u4 (read from the image);
# grubnetx64.efi.signed has these and http, tftp
DEBIAN_GCD = set("""acpi all_video bitmap bitmap_scale boot btrfs bufio cat chain configfile cpuid crypto
datetime disk diskfilter echo efi_gop efi_uga efifwsetup efinet ext2 extcmd f2fs fat font fshelp gcry_crc
gcry_rijndael gcry_sha1 gcry_sha512 gettext gfxmenu gfxterm gfxterm_background gzio halt help hfsplus iso9660
jfs jpeg keystatus linux loadenv loopback ls lsefi lsefimmap lsefisystab lssal lzopio memdisk minicmd mmap net
normal ntfs part_apple part_gpt part_msdos password_pbkdf2 pbkdf2 peimage play png priority_queue probe
raid6rec reboot regexp relocator search search_fs_file search_fs_uuid search_label serial setjmp sleep smbios
squash4 terminal terminfo test tpm trig true video video_bochs video_cirrus video_colors video_fb xfs xzio zfs
zfscrypt zfsinfo zstd""".split())
DEBIAN_NET = DEBIAN_GCD | {"http", "tftp"}
KEY = "0123456789abcdef"


# -- synthetic GRUB images: a PE with a "mods" section holding GRUB's module info ------------------
def _elf_module(name: str) -> bytes:
    """An ELF64 object with only what a GRUB module's name is read from: a .modname section."""
    names = b"\0.shstrtab\0.modname\0"
    modname = name.encode() + b"\0"
    data = names + modname
    shoff = 64 + len(data)
    header = bytearray(64)
    header[:4] = b"\x7fELF"
    struct.pack_into("<Q", header, 0x28, shoff)
    struct.pack_into("<HHH", header, 0x3A, 64, 3, 1)

    def section(name_at: int, offset: int, size: int) -> bytes:
        return struct.pack("<IIQQQQ", name_at, 1, 0, 0, offset, size).ljust(64, b"\0")
    return bytes(header) + data + section(0, 0, 0) + section(1, 64, len(names)) + \
        section(11, 64 + len(names), len(modname))


def _grub_image(modules: set[str], prefix: str, signature: int = 1472) -> bytes:
    items = [(0, _elf_module(m)) for m in sorted(modules)] + [(3, prefix.encode() + b"\0")]
    body = b"".join(struct.pack("<II", kind, 8 + len(data)) + data for kind, data in items)
    mods = struct.pack("<IIQQ", 0x676D696D, 0, 24, 24 + len(body)) + body
    pe_at, opt_size = 0x40, 240
    table = pe_at + 24 + opt_size
    mods_at = table + 40
    image = bytearray(mods_at + len(mods))
    struct.pack_into("<I", image, 0x3C, pe_at)
    image[pe_at:pe_at + 4] = b"PE\0\0"
    struct.pack_into("<H", image, pe_at + 6, 1)
    struct.pack_into("<H", image, pe_at + 20, opt_size)
    struct.pack_into("<H", image, pe_at + 24, 0x20B)                       # PE32+
    struct.pack_into("<II", image, pe_at + 24 + 112 + 32, 0, signature)   # certificate table
    struct.pack_into("<8sIIII", image, table, b"mods", len(mods), 0x1000, len(mods), mods_at)
    image[mods_at:] = mods
    return bytes(image)


def test_the_module_list_and_prefix_are_read_from_a_grub_image():
    image = _grub_image({"linux", "serial", "normal"}, "/boot/grub")
    assert signedboot.grub_image_info(image) == ({"linux", "serial", "normal"}, "/boot/grub")
    assert signedboot.signature_size(image) == 1472
    assert signedboot.signature_size(_grub_image(set(), "/grub", signature=0)) == 0
    with pytest.raises(ValueError):
        signedboot.grub_image_info(image[:0x3C] + b"\0" * 4 + image[0x40:])


def test_a_config_needing_what_the_signed_grub_lacks_is_refused_with_the_module_named():
    image = _grub_image(DEBIAN_GCD - {"regexp"}, "/boot/grub")
    assert signedboot.grub_problems(image, "/boot/grub", {"menu": isobuild.menu()}) == []
    problems = signedboot.grub_problems(image, "/grub", {"grub.cfg": pxebuild.grub_cfg("efi")})
    assert problems == ["its built-in prefix is '/boot/grub', the media expect '/grub'",
                        "grub.cfg needs modules it does not have built in: regexp"]
    with pytest.raises(ValueError, match="'chainloaderx'"):
        signedboot.modules_needed("chainloaderx /EFI/BOOT/BOOTX64.EFI")


def test_commands_are_read_through_script_syntax_and_insmod_counts():
    text = 'if ! search --file --set=root /x; then\n\tinsmod fat\nfi\n[ -s "$p" ]; configfile "$p"\n}'
    assert signedboot.grub_commands(text) == [["search", "--file", "--set=root", "/x"], ["insmod", "fat"],
                                              ["[", "-s", "$p", "]"], ["configfile", "$p"]]
    assert signedboot.modules_needed(text) == {"search", "fat", "test", "configfile"}


def test_every_config_the_media_ship_runs_on_debians_signed_grub_and_the_iso_on_the_bios_core():
    iso = {"menu": isobuild.menu(), "esp": isobuild.esp_config(KEY)}
    net = {"grub.cfg": pxebuild.grub_cfg("efi"), "per-host": pxebuild.grub_host_cfg()}
    for name, text in iso.items():
        assert signedboot.modules_needed(text) <= DEBIAN_GCD, name
    for name, text in net.items():
        assert signedboot.modules_needed(text) <= DEBIAN_NET, name
    bios = signedboot.modules_needed(isobuild.menu() + isobuild.bios_early_config(KEY))
    assert bios <= set(isobuild.BIOS_MODULES) and {"biosdisk", "iso9660"} <= set(isobuild.BIOS_MODULES)
    # the BIOS branch of the shared PXE config is for GRUB 2.06 with its modules, not the signed GRUB
    assert "biosdisk" in signedboot.modules_needed(pxebuild.grub_cfg("pc"))
    assert "biosdisk" not in signedboot.modules_needed(pxebuild.grub_cfg("efi"))
    assert signedboot.PREFIX == {"gcdx64.efi": "/boot/grub", "grubnetx64.efi": "/grub"}


def test_shim_starts_the_signed_grub_beside_it_on_the_esp_and_over_tftp():
    assert signedboot.ESP == {"EFI/BOOT/BOOTX64.EFI": "shimx64.efi", "EFI/BOOT/grubx64.efi": "gcdx64.efi",
                              "EFI/BOOT/mmx64.efi": "mmx64.efi"}
    assert signedboot.NET == {"grub/shimx64.efi": "shimx64.efi", "grub/grubx64.efi": "grubnetx64.efi",
                              "grub/mmx64.efi": "mmx64.efi"}
    assert signedboot.NET_BOOT_FILE in signedboot.NET and signedboot.NET_BOOT_FILE in pxebuild.README
    assert not any("fbx64" in p for p in [*signedboot.ESP, *signedboot.FILES, *signedboot.FILES.values()])
    assert set(signedboot.ESP.values()) | set(signedboot.NET.values()) == set(signedboot.FILES)
    assert all(rel.endswith(".efi.signed") for rel in signedboot.FILES.values())


def test_the_esp_is_made_by_mtools_with_room_for_the_signed_files():
    # shim, gcdx64 and MokManager of trixie: 4.2 MB in a 5 MiB FAT image
    assert signedboot.esp_sectors([1036152, 2328000, 873904, 200]) == 5 * 2048
    files = {"EFI/BOOT/BOOTX64.EFI": "/s", "EFI/BOOT/grubx64.efi": "/g", "boot/grub/grub.cfg": "/c"}
    cmds = signedboot.esp_commands("efi.img", files, 10240, "01234567")
    assert cmds[0][:3] == ["mformat", "-i", "efi.img"] and "-T" in cmds[0] and cmds[0][-1] == "::"
    assert cmds[1] == ["mmd", "-i", "efi.img", "::/EFI", "::/EFI/BOOT", "::/boot", "::/boot/grub"]
    assert sorted(c[-2:] for c in cmds[2:]) == sorted([src, f"::/{dest}"] for dest, src in files.items())
    assert all(c[0] == "mcopy" for c in cmds[2:])


def test_the_iso_is_made_by_xorriso_with_a_bios_and_a_uefi_entry_and_no_hfs():
    argv = isobuild.xorriso_argv("out.iso", "stage", "XENHOST_0_1_0")
    assert argv[:3] == ["xorriso", "-as", "mkisofs"] and argv[-1] == "stage"
    bios, uefi = argv.index("-b"), argv.index("-e")
    assert argv[bios + 1] == isobuild.BIOS_IMAGE and argv[uefi + 1] == isobuild.ESP_IMAGE
    assert bios < argv.index("-eltorito-alt-boot") < uefi
    assert argv[bios:uefi].count("-no-emul-boot") == 1 and "--grub2-boot-info" in argv[bios:uefi]
    assert argv[argv.index("--grub2-mbr") + 1] == isobuild.BOOT_HYBRID
    assert "-efi-boot-part" in argv and "--efi-boot-image" in argv and "--protective-msdos-label" in argv
    assert not any("hfs" in a.lower() or "apm" in a.lower() for a in argv)
    core = isobuild.bios_core_argv("eltorito.img", "early.cfg")
    assert core[:3] == ["grub-mkimage", "-O", "i386-pc-eltorito"] and core[core.index("-p") + 1] == "/boot/grub"


def test_both_grubs_find_this_medium_by_its_marker_and_never_source_themselves():
    marker = isobuild.marker(KEY)
    assert marker == f".disk/xenhost-{KEY}"
    for text in (isobuild.esp_config(KEY), isobuild.bios_early_config(KEY)):
        assert text.startswith(f"if search --no-floppy --file --set=root /{marker}; then\n")
        assert "\tset prefix=($root)/boot/grub\n" in text
    esp = isobuild.esp_config(KEY)
    then, otherwise = esp.split("\nelse\n")
    assert "source $prefix/grub.cfg" in then and "source" not in otherwise and "echo" in otherwise
    assert "source" not in isobuild.bios_early_config(KEY)
    assert KEY in isobuild.disk_info(KEY)


def test_the_network_grub_cfg_looks_up_the_per_host_file_itself_before_its_menu():
    cfg = pxebuild.grub_cfg()
    assert pxebuild.grub_cfg("efi").count("menuentry") == pxebuild.grub_cfg("pc").count("menuentry") == 4
    lookup = "\n".join(pxebuild.PER_HOST_LOOKUP)
    assert lookup in cfg and cfg.index(lookup) < cfg.index("menuentry")
    assert lookup not in pxebuild.grub_host_cfg()         # the per-host file does not look itself up again
    pattern = re.search(r"regexp (?:--set=\d:m\d )+'([^']+)' \"\$net_default_mac\"", lookup).group(1)
    m = re.fullmatch(pattern, "52:54:00:ab:cd:ef")        # GRUB's spelling of the MAC (lower case)
    assert m and re.fullmatch(pattern, "52-54-00-ab-cd-ef") is None
    name = re.search(r'configfile "\$prefix/([^"]+)"', lookup).group(1)
    for i, byte in enumerate(m.groups(), 1):
        name = name.replace(f"$m{i}", byte)
    # the name the shipped per-host sample is copied to (pxebuild.PER_HOST), for this MAC
    assert name == "grub.cfg-01-MAC".replace("MAC", "52-54-00-ab-cd-ef")
    commands = [words for words in signedboot.grub_commands(lookup) if words[0] == "["]
    assert [words[1] for words in commands] == ["-s"]     # -e lists a directory: never true over TFTP


def test_the_signed_packages_are_downloaded_without_installing_or_extracting_anything():
    argv = signedboot.fetch_argv("/r", ["deb http://mirror.invalid/debian trixie main"])
    source = "deb http://mirror.invalid/debian trixie main"
    assert argv[:2] == ["mmdebstrap", "--variant=extract"] and argv[-3:] == ["trixie", "/r", source]
    assert not any(a.startswith(("--include", "--customize-hook", "--essential-hook")) for a in argv)
    (hook,) = [a.split("=", 1)[1] for a in argv if a.startswith("--extract-hook=")]
    assert 'APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get download' in hook
    assert hook.split()[-len(signedboot.PACKAGES):] == list(signedboot.PACKAGES)


TOOLS = ("xorriso", "mformat", "mmd", "mcopy", "mdir", "grub-mkimage")


@pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS) or not os.path.exists(isobuild.BOOT_HYBRID)
                    or not os.path.isdir("/usr/lib/grub/i386-pc"),
                    reason="needs xorriso, mtools and grub-pc-bin (make apt-deps)")
def test_a_small_iso_assembled_as_the_build_does_has_both_boot_entries_and_the_signed_layout(tmp_path):
    efi = tmp_path / "efi"
    efi.mkdir()
    for name in signedboot.FILES:          # stand-ins: the layout, not the signatures, is tested here
        (efi / name).write_bytes(name.encode() * 1000)
    stage = tmp_path / "stage"
    (stage / "live").mkdir(parents=True)
    (stage / "live" / "vmlinuz").write_bytes(b"kernel")
    iso = str(tmp_path / "out" / "installer.iso")
    os.makedirs(os.path.dirname(iso))
    isobuild.assemble(str(stage), iso, str(efi), KEY, "XENHOST_TEST")
    report = subprocess.run(["xorriso", "-indev", iso, "-report_el_torito", "as_mkisofs", "-report_system_area",
                             "plain", "-find", "/", "-type", "f"], capture_output=True, text=True).stdout
    assert f"-b '/{isobuild.BIOS_IMAGE}'" in report and f"-e '/{isobuild.ESP_IMAGE}'" in report
    assert re.search(rf"GPT partition path : +2 +/{re.escape(isobuild.ESP_IMAGE)}", report), report
    assert "grub2-mbr" in report and "HFS" not in report and "APM" not in report
    files = set(re.findall(r"^'(/[^']*)'$", report, re.M))
    assert files == {"/live/vmlinuz", "/boot/grub/grub.cfg", f"/{isobuild.BIOS_IMAGE}", f"/{isobuild.ESP_IMAGE}",
                     "/.disk/info", f"/{isobuild.marker(KEY)}"}, files
    assert not any(f.endswith(".mod") for f in files)
    esp = str(tmp_path / "esp.img")
    subprocess.run(["xorriso", "-osirrox", "on", "-indev", iso, "-extract", f"/{isobuild.ESP_IMAGE}", esp],
                   check=True, capture_output=True)
    for dest, name in {**signedboot.ESP, "boot/grub/grub.cfg": None}.items():
        out = subprocess.run(["mtype", "-i", esp, f"::/{dest}"], capture_output=True, check=True).stdout
        assert out == (isobuild.esp_config(KEY).encode() if name is None else (efi / name).read_bytes()), dest
    listing = subprocess.run(["mdir", "-i", esp, "-/", "-b", "::"], capture_output=True, text=True).stdout
    assert "fbx64" not in listing.lower()


@pytest.mark.parametrize("firmware", ["uefi", "uefi-secureboot"])
def test_the_vm_harness_boots_ovmf_with_secure_boot_only_when_asked(firmware, tmp_path):
    import harness
    secure = firmware == "uefi-secureboot"
    template = harness.OVMF_SECBOOT_VARS if secure else harness.OVMF_VARS
    if not os.path.exists(template):
        pytest.skip("needs the ovmf package (make apt-deps)")
    argv = harness.VM("t", str(tmp_path / "disk"), firmware, str(tmp_path)).argv()
    drives = [argv[i + 1] for i, a in enumerate(argv) if a == "-drive" and "if=pflash" in argv[i + 1]]
    code = harness.OVMF_SECBOOT_CODE if secure else harness.OVMF_CODE
    assert drives == [f"if=pflash,format=raw,readonly=on,file={code}",
                      f"if=pflash,format=raw,file={tmp_path / 't-vars.fd'}"]
    # a private copy of the variable store: the guest writes it, the template stays as shipped
    with open(template, "rb") as a, open(tmp_path / "t-vars.fd", "rb") as b:
        assert a.read() == b.read()
    assert argv[argv.index("-machine") + 1] == ("q35,smm=on" if secure else "q35")
    assert ("driver=cfi.pflash01,property=secure,value=on" in argv) == secure
