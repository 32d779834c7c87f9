"""What the built images contain, read from the build outputs without unpacking them: the files of
the ISO (xorriso) and of a squashfs root image (unsquashfs -lls, -cat), the early (uncompressed)
cpio archives at the start of an initrd, and package versions from a dpkg status file. The build
report and the checks of built images use these.
"""
from __future__ import annotations

import gzip
import lzma
import re
import shutil
import subprocess

# ls -l style line of `xorriso -find -exec lsdl` and `unsquashfs -lls`: type+mode, (links), owner,
# size, date, time or year, name (quoted by xorriso)
_XORRISO = re.compile(r"^-\S+\s+\d+\s+\S+\s+\S+\s+(?P<size>\d+)\s+\S+\s+\d+\s+\S+\s+'(?P<name>.*)'$")
_UNSQUASHFS = re.compile(r"^-\S+\s+\S+\s+(?P<size>\d+)\s+\S+\s+\S+\s+squashfs-root(?P<name>/.*)$")
# any entry of `unsquashfs -lls` (a device's size is "major, minor"); a link's name ends before " -> "
_UNSQUASHFS_ANY = re.compile(r"^(?P<type>\S)\S+\s+\S+\s+\d+(?:,\s*\d+)?\s+\S+\s+\S+\s+squashfs-root(?P<name>/.*)$")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(f"{name} is not installed")
    return path


def iso_files(iso: str) -> dict[str, int]:
    """Path -> size of every regular file in an ISO 9660 image."""
    out = subprocess.run([_tool("xorriso"), "-indev", iso, "-find", "/", "-type", "f", "-exec", "lsdl", "--"],
                         check=True, capture_output=True, text=True).stdout
    return parse_listing(out, _XORRISO)


def _squashfs_listing(image: str) -> str:
    return subprocess.run([_tool("unsquashfs"), "-lls", "-d", "squashfs-root", image],
                          check=True, capture_output=True, text=True).stdout


def squashfs_files(image: str) -> dict[str, int]:
    """Path (from /) -> size of every regular file in a squashfs image."""
    return parse_listing(_squashfs_listing(image), _UNSQUASHFS)


def squashfs_entries(image: str) -> dict[str, str | None]:
    """Path (from /) -> link target of every link, None of every other entry, of a squashfs image
    (the listing xhbuild.firmware.resolve() reads)."""
    return parse_entries(_squashfs_listing(image))


def parse_entries(text: str) -> dict[str, str | None]:
    entries: dict[str, str | None] = {}
    for line in text.splitlines():
        m = _UNSQUASHFS_ANY.match(line)
        if m:
            name, target = m["name"].split(" -> ", 1) if m["type"] == "l" else (m["name"], None)
            entries[name] = target
    return entries


def squashfs_cat(image: str, path: str) -> bytes:
    """One file of a squashfs image (path relative to its root)."""
    return subprocess.run([_tool("unsquashfs"), "-cat", image, path.lstrip("/")], check=True,
                          capture_output=True).stdout


def parse_listing(text: str, pattern: re.Pattern) -> dict[str, int]:
    """Regular files only: other lines (directories, links, headers) do not match."""
    files = {}
    for line in text.splitlines():
        m = pattern.match(line)
        if m:
            files[m["name"].replace("'\\''", "'")] = int(m["size"])
    return files


NEWC_MAGIC = (b"070701", b"070702")
NEWC_HEADER = 110


def cpio_members(data: bytes, start: int = 0) -> tuple[dict[str, int], int]:
    """(name -> size of each regular file, offset after the last archive) of the newc cpio archives
    concatenated from start (zero padding between them skipped), as the kernel and Xen read the
    early initramfs; stops at the first thing that is not a cpio header (the compressed main part)."""
    members: dict[str, int] = {}
    pos = start
    while pos + NEWC_HEADER <= len(data):
        if data[pos:pos + 4] == b"\0\0\0\0":
            pos += 4
            continue
        if data[pos:pos + 6] not in NEWC_MAGIC:
            break
        field = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = field[1], field[6], field[11]
        name = data[pos + NEWC_HEADER:pos + NEWC_HEADER + namesize - 1].decode(errors="replace")
        pos = _align4(pos + NEWC_HEADER + namesize)
        if name != "TRAILER!!!" and mode & 0o170000 == 0o100000:
            members[name] = size
        pos = _align4(pos + size)
    return members, min(pos, len(data))


def _align4(n: int) -> int:
    return (n + 3) & ~3


def main_compression(data: bytes) -> str:
    """How an initrd's main part (after its uncompressed archives) is compressed."""
    rest = data[cpio_members(data)[1]:]
    for name, magic in (("xz", b"\xfd7zXZ\0"), ("gzip", b"\x1f\x8b"), ("zstd", b"\x28\xb5\x2f\xfd")):
        if rest.startswith(magic):
            return name
    return "unknown" if rest else "(no)"


def initrd_members(data: bytes) -> tuple[dict[str, int], dict[str, int]]:
    """(members of the uncompressed archives at its start, members of the compressed main part) of
    an initramfs-tools initrd: the early microcode and the already compressed modules come first,
    uncompressed; the main part is xz (the builds' COMPRESS=xz) or gzip, else {}."""
    early, end = cpio_members(data)
    rest = data[end:]
    try:
        if rest.startswith(b"\xfd7zXZ\0"):
            rest = lzma.decompress(rest)
        elif rest.startswith(b"\x1f\x8b"):       # mkinitramfs's fallback when xz is missing
            rest = gzip.decompress(rest)
        else:
            return early, {}
    except (lzma.LZMAError, OSError, EOFError):
        return early, {}
    return early, cpio_members(rest)[0]


def dpkg_versions(status: str) -> dict[str, str]:
    """Package -> version of every installed package in a dpkg status file."""
    out = {}
    for stanza in status.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " ")
        if "Package" in fields and fields.get("Status", "").endswith(" installed"):
            out[fields["Package"]] = fields.get("Version", "?")
    return out
