"""Debian's signed UEFI boot chain for the installer media, so that they boot with Secure Boot on:
shim (signed with Microsoft's UEFI CA, which firmware trusts out of the box), its MokManager, and
GRUB signed by Debian (shim trusts Debian's key), which checks the signature Debian puts on the
installer's kernel. Two GRUB builds: gcdx64 for a CD or USB stick (prefix /boot/grub; without it,
it searches for /.disk/info) and grubnetx64 for network boot (prefix /grub on the TFTP server).

The files come from trixie's own packages (PACKAGES), downloaded by apt against the archive's signed
indexes inside an empty mmdebstrap root (extract variant: nothing is installed) and unpacked with
dpkg-deb -x, so no maintainer script of theirs runs here (shim-signed's would run grub-install).

  CACHE/efi/<key>/efi/{shimx64.efi, mmx64.efi, gcdx64.efi, grubnetx64.efi, versions.txt}

Under Secure Boot GRUB loads no module from disk: whatever the media's GRUB configs use must be
built into these images. grub_problems() reads their module lists and prefixes, and the media
builds stop when a config needs what the image lacks.

The ISO's EFI system image is a FAT image filled with mtools: this build machine's kernel cannot
mount vfat.
"""
from __future__ import annotations

import glob
import math
import os
import shlex
import shutil
import struct
import subprocess

from . import mirror
from .common import cached, digest, finished, need_tools, run, say

PACKAGES = ("shim-signed", "shim-helpers-amd64-signed", "grub-efi-amd64-signed")
FILES = {   # our name: where its package ships it
    "shimx64.efi": "usr/lib/shim/shimx64.efi.signed",
    "mmx64.efi": "usr/lib/shim/mmx64.efi.signed",
    "gcdx64.efi": "usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed",
    "grubnetx64.efi": "usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed",
}
# shim starts grubx64.efi from its own directory, and MokManager (mmx64.efi) when a key enrolment
# waits. No fbx64.efi: on the removable path shim would run the fallback, which wants BOOT*.CSV.
ESP = {"EFI/BOOT/BOOTX64.EFI": "shimx64.efi", "EFI/BOOT/grubx64.efi": "gcdx64.efi",
       "EFI/BOOT/mmx64.efi": "mmx64.efi"}
# over TFTP shim fetches grubx64.efi from the directory of the DHCP boot file
NET = {"grub/shimx64.efi": "shimx64.efi", "grub/grubx64.efi": "grubnetx64.efi", "grub/mmx64.efi": "mmx64.efi"}
NET_BOOT_FILE = "grub/shimx64.efi"
PREFIX = {"gcdx64.efi": "/boot/grub", "grubnetx64.efi": "/grub"}   # built into each image

# The module each command of our configs comes from (None: GRUB's kernel or script syntax). A
# command not listed here is an error: add it with its module, so the check stays complete.
COMMANDS = {
    "set": None, "insmod": None, "menuentry": "normal", "source": "configfile", "configfile": "configfile",
    "[": "test", "test": "test", "search": "search", "regexp": "regexp", "echo": "echo", "exit": "minicmd",
    "serial": "serial", "terminal_input": "terminal", "terminal_output": "terminal",
    "linux": "linux", "initrd": "linux", "chainloader": "chain",
}
_SYNTAX = {"if", "elif", "then", "else", "fi", "!", "{", "}"}


def grub_commands(text: str) -> list[list[str]]:
    """The commands of a GRUB config, each as its words (script keywords dropped); one level of
    shell-like quoting, which is all our configs use."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for part in line.split(";"):
            words = shlex.split(part)
            while words and words[0] in _SYNTAX:
                words = words[1:]
            if words:
                out.append(words)
    return out


def modules_needed(text: str) -> set[str]:
    """Modules a config needs built in: those of its commands and those it insmods."""
    need = set()
    for words in grub_commands(text):
        if words[0] not in COMMANDS:
            raise ValueError(f"GRUB command {words[0]!r} has no module in signedboot.COMMANDS")
        if COMMANDS[words[0]]:
            need.add(COMMANDS[words[0]])
        if words[0] == "insmod":
            need.update(words[1:])
    return need


# -- what a GRUB EFI image carries: its "mods" PE section (GRUB's module info, "mimg") -----------
_ELF, _MEMDISK, _CONFIG, _PREFIX = 0, 1, 2, 3


def _sections(pe: bytes) -> dict[str, tuple[int, int]]:
    """name -> (file offset, size) of a PE image's sections."""
    at = struct.unpack_from("<I", pe, 0x3C)[0]
    if pe[at:at + 4] != b"PE\0\0":
        raise ValueError("not a PE image")
    count, opt_size = struct.unpack_from("<H", pe, at + 6)[0], struct.unpack_from("<H", pe, at + 20)[0]
    table = at + 24 + opt_size
    out = {}
    for i in range(count):
        name, _vsize, _va, size, offset = struct.unpack_from("<8sIIII", pe, table + 40 * i)
        out[name.rstrip(b"\0").decode(errors="replace")] = (offset, size)
    return out


def signature_size(pe: bytes) -> int:
    """Size of the PE image's certificate table (its Authenticode signatures); 0 when unsigned."""
    at = struct.unpack_from("<I", pe, 0x3C)[0]
    opt = at + 24
    magic = struct.unpack_from("<H", pe, opt)[0]
    directories = opt + (112 if magic == 0x20B else 96)
    return struct.unpack_from("<II", pe, directories + 4 * 8)[1]


def _module_name(elf: bytes) -> str:
    """The .modname section of a GRUB module (an ELF64 relocatable object)."""
    shoff = struct.unpack_from("<Q", elf, 0x28)[0]
    entsize, count, names_at = struct.unpack_from("<HHH", elf, 0x3A)
    headers = [struct.unpack_from("<IIQQQQ", elf, shoff + i * entsize) for i in range(count)]
    names = headers[names_at][4]
    for name, _type, _flags, _addr, offset, size in headers:
        if elf[names + name:].split(b"\0", 1)[0] == b".modname":
            return elf[offset:offset + size].split(b"\0", 1)[0].decode()
    raise ValueError("a GRUB module without .modname")


def grub_image_info(pe: bytes) -> tuple[set[str], str | None]:
    """(built-in module names, built-in prefix) of a GRUB EFI image."""
    offset, size = _sections(pe).get("mods", (None, 0))
    if offset is None or pe[offset:offset + 4] != b"mimg":
        raise ValueError("no GRUB module section")
    _magic, _pad, first, total = struct.unpack_from("<IIQQ", pe, offset)
    at, end, modules, prefix = offset + first, offset + total, set(), None
    while at + 8 <= end:
        kind, length = struct.unpack_from("<II", pe, at)
        if length < 8:
            raise ValueError("a broken GRUB module section")
        body = pe[at + 8:at + length]
        if kind == _ELF:
            modules.add(_module_name(body))
        elif kind == _PREFIX:
            prefix = body.split(b"\0", 1)[0].decode()
        at += length
    return modules, prefix


def grub_problems(pe: bytes, prefix: str, configs: dict[str, str]) -> list[str]:
    """Why this signed GRUB image cannot run these configs (name -> text) from that prefix; []
    when it can."""
    modules, found = grub_image_info(pe)
    out = [] if found == prefix else [f"its built-in prefix is {found!r}, the media expect {prefix!r}"]
    for name, text in configs.items():
        missing = sorted(modules_needed(text) - modules)
        if missing:
            out.append(f"{name} needs modules it does not have built in: {' '.join(missing)}")
    return out


def check_grub(efi: str, image: str, configs: dict[str, str]) -> None:
    with open(os.path.join(efi, image), "rb") as f:
        problems = grub_problems(f.read(), PREFIX[image], configs)
    if problems:
        raise SystemExit(f"Debian's signed {image} cannot boot these media: " + "; ".join(problems))


# -- the ESP image ---------------------------------------------------------------------------------
def esp_sectors(sizes: list[int]) -> int:
    """512-byte sectors of a FAT image for files of these sizes: whole MiB, with room for FAT's own
    tables and cluster slack."""
    return math.ceil((sum(sizes) + (512 << 10)) / (1 << 20)) * 2048


def esp_commands(image: str, files: dict[str, str], sectors: int, serial: str) -> list[list[str]]:
    """mtools commands that make image a FAT file system holding files (path in the image -> local
    file); serial is the volume serial number (8 hex digits)."""
    out = [["mformat", "-i", image, "-C", "-T", str(sectors), "-h", "64", "-s", "32", "-N", serial, "::"]]
    dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
    if dirs:
        out.append(["mmd", "-i", image, *[f"::/{d}" for d in dirs]])
    out += [["mcopy", "-i", image, src, f"::/{dest}"] for dest, src in sorted(files.items())]
    return out


def make_esp(image: str, files: dict[str, str], serial: str) -> None:
    if os.path.exists(image):
        os.unlink(image)
    for argv in esp_commands(image, files, esp_sectors([os.path.getsize(p) for p in files.values()]), serial):
        run(argv)


# -- fetching ----------------------------------------------------------------------------------------
def fetch_argv(root: str, sources: list[str]) -> list[str]:
    """mmdebstrap into root: nothing installed or extracted; its extract hook has the build's apt
    download PACKAGES (checked against the archive's signed indexes) into root/debs."""
    download = ('mkdir "$1/debs" && cd "$1/debs" && APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" '
                f'apt-get download -q -o APT::Sandbox::User=root {" ".join(PACKAGES)}')
    return ["mmdebstrap", "--variant=extract", "--mode=root", "--format=directory",
            "--aptopt=Acquire::Retries \"3\"", f"--extract-hook={download}", "trixie", root, *sources]


def key() -> str:
    with open(__file__, "rb") as f:
        return digest(["\n".join(mirror.derive().sources()), f.read()])


def _package(deb: str) -> tuple[str, str]:
    """(name, version) of a .deb."""
    out = subprocess.run(["dpkg-deb", "-f", deb, "Package", "Version"], check=True, capture_output=True,
                         text=True).stdout
    fields = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    return fields["Package"], fields["Version"]


def build(force: bool = False) -> str:
    """The directory holding FILES (by our names) and versions.txt."""
    need_tools()
    k = key()
    base, out, done = cached("efi", k, "efi", "signed EFI boot files", force)
    if done:
        return out
    root, unpacked = os.path.join(base, "root"), os.path.join(base, "unpacked")
    run(fetch_argv(root, mirror.derive().sources()))
    debs = sorted(glob.glob(os.path.join(root, "debs", "*.deb")))
    versions = dict(_package(deb) for deb in debs)
    if sorted(versions) != sorted(PACKAGES):
        raise SystemExit(f"apt downloaded {[os.path.basename(d) for d in debs]}, expected {PACKAGES}")
    os.makedirs(unpacked)
    for deb in debs:
        run(["dpkg-deb", "-x", deb, unpacked])      # files only: no maintainer script runs
    os.makedirs(out)
    for name, rel in FILES.items():
        with open(os.path.join(unpacked, rel), "rb") as f:
            data = f.read()
        if not signature_size(data):
            raise SystemExit(f"{rel} (from {', '.join(PACKAGES)}) carries no signature")
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    listed = "".join(f"{p} {v}\n" for p, v in sorted(versions.items()))
    with open(os.path.join(out, "versions.txt"), "w") as f:
        f.write(listed)
    shutil.rmtree(root)
    shutil.rmtree(unpacked)
    say("signed EFI boot files from " + listed.strip().replace("\n", ", "))
    return finished("efi", k, base, out)
