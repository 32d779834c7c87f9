"""The VM's VGA console as text, and its keyboard: QEMU's QMP socket gives a screendump (PPM) and
sends key presses; the picture is read back cell by cell against a console font's glyphs.

Both Linux consoles draw every character in a fixed cell, so reading the screen back is a
nearest-glyph match per cell, not general OCR. In VGA text mode (vgacon, BIOS boot) QEMU draws the
glyphs the VGA BIOS loaded, 9x16 cells on a 720x400 picture; the reader takes them from the same
VGA BIOS ROM. A framebuffer console (fbcon, UEFI) draws the kernel's built-in 8x16 font; the reader
takes it from the kernel the VM boots. Both tables are found by console-setup's copy of the VGA
font, which also reads anything drawn with a close copy. Once console-setup has run in the booted
system (installer and host both ship it), both consoles draw its Fixed font instead.
"""
from __future__ import annotations

import gzip
import json
import os
import socket
import struct
import subprocess
import time
import zlib

FONT = "/usr/share/consolefonts/Uni2-VGA16.psf.gz"
VGA_BIOS = "/usr/share/seabios/vgabios-stdvga.bin"      # the ROM of QEMU's standard VGA
CELL_W, CELL_H = 8, 16
PRINTABLE = [chr(c) for c in range(0x21, 0x7F)]


def load_glyphs(path: str = FONT) -> dict[str, int]:
    """Printable ASCII -> glyph bitmap as one int (row-major, 8x16 bits), from a PSF1 font with
    its Unicode table."""
    data = gzip.open(path).read()
    if data[:2] != b"\x36\x04":
        raise ValueError(f"{path}: not a PSF1 font")
    mode, height = data[2], data[3]
    if height != CELL_H or not mode & 0x02:
        raise ValueError(f"{path}: need 8x{CELL_H} glyphs with a Unicode table")
    count = 512 if mode & 0x01 else 256
    bitmaps = [int.from_bytes(data[4 + i * height:4 + (i + 1) * height], "big") for i in range(count)]
    table = data[4 + count * height:]
    glyphs: dict[str, int] = {}
    index, pos, in_sequence = 0, 0, False
    while pos + 1 < len(table) and index < count:
        code = int.from_bytes(table[pos:pos + 2], "little")
        pos += 2
        if code == 0xFFFF:
            index, in_sequence = index + 1, False
        elif code == 0xFFFE:
            in_sequence = True
        elif not in_sequence and 0x20 < code < 0x7F:
            glyphs.setdefault(chr(code), bitmaps[index])
    return glyphs


def find_font(blob: bytes, like: dict[str, int], what: str) -> dict[str, int]:
    """Printable ASCII -> glyph from an 8x16 font table (code page 437 order) inside a binary: it
    is where most of a known VGA font's glyphs sit at their code's offset."""
    votes: dict[int, int] = {}
    for ch in PRINTABLE:
        pattern = like[ch].to_bytes(CELL_H, "big")
        at = blob.find(pattern)
        while at >= 0:
            base = at - ord(ch) * CELL_H
            votes[base] = votes.get(base, 0) + 1
            at = blob.find(pattern, at + 1)
    base, count = max(votes.items(), key=lambda kv: kv[1], default=(0, 0))
    if count < len(PRINTABLE) // 2:
        raise ValueError(f"{what}: no 8x{CELL_H} font table found")
    return {ch: int.from_bytes(blob[base + ord(ch) * CELL_H:base + (ord(ch) + 1) * CELL_H], "big")
            for ch in PRINTABLE}


def bios_glyphs(path: str = VGA_BIOS, like: dict[str, int] | None = None) -> dict[str, int]:
    """The font the VGA BIOS loads, which QEMU draws in text mode."""
    with open(path, "rb") as f:
        return find_font(f.read(), like or load_glyphs(), path)


def kernel_glyphs(vmlinuz: str, like: dict[str, int] | None = None) -> dict[str, int]:
    """The kernel's built-in 8x16 font, which fbcon draws: found in the decompressed bzImage."""
    with open(vmlinuz, "rb") as f:
        image = f.read()
    for magic, command in ((b"\x28\xb5\x2f\xfd", "zstd"), (b"\xfd7zXZ\x00", "xz"), (b"\x1f\x8b\x08", "gzip")):
        at = image.find(magic)
        if at >= 0:
            # the compressed kernel is followed by more data, which the tools complain about
            # after writing out the whole kernel: their exit status says nothing here
            out = subprocess.run([command, "-dc"], input=image[at:], capture_output=True).stdout
            return find_font(out, like or load_glyphs(), vmlinuz)
    raise ValueError(f"{vmlinuz}: no zstd, xz or gzip payload")


def console_setup_glyphs(squashfs: str, workdir: str) -> dict[str, int]:
    """The font console-setup loads at boot in a root file system we ship (FONTFACE=Fixed, 8x16:
    Uni2-Fixed16), read from its squashfs image; once loaded, both vgacon and fbcon draw it."""
    subprocess.run(["unsquashfs", "-q", "-n", "-f", "-d", workdir, squashfs,
                    "etc/default/console-setup", "usr/share/consolefonts/Uni2-Fixed16.psf.gz"],
                   check=True, capture_output=True)
    with open(os.path.join(workdir, "etc", "default", "console-setup")) as f:
        setup = f.read()
    if 'FONTFACE="Fixed"' not in setup or 'FONTSIZE="8x16"' not in setup:
        raise ValueError(f"{squashfs}: console-setup loads another font than Fixed 8x16:\n{setup}")
    return load_glyphs(os.path.join(workdir, "usr", "share", "consolefonts", "Uni2-Fixed16.psf.gz"))


def read_ppm(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and RGB bytes of a binary PPM (P6, maxval 255), as QEMU's screendump writes."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError("not a P6 PPM with maxval 255")
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[pos + 1:pos + 1 + width * height * 3]


def ppm_to_png(ppm: bytes) -> bytes:
    """The screendump as a PNG, kept beside the logs when a test fails (a person can look at it)."""
    width, height, pixels = read_ppm(ppm)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + pixels[y * width * 3:(y + 1) * width * 3] for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class TextReader:
    def __init__(self, *fonts: dict[str, int]):
        if not fonts:
            console = load_glyphs()
            fonts = (console, bios_glyphs(like=console))
        self.templates = [(ch, font[ch]) for font in fonts for ch in font]

    def cell(self, pixels: bytes, width: int, col: int, row: int, cell_w: int = CELL_W) -> str:
        stride = width * 3
        top = row * CELL_H * stride + col * cell_w * 3
        first = pixels[top:top + CELL_W * 3]
        # the background is the commonest colour of the cell's top pixel row (blank in every
        # VGA glyph but box drawing), so reverse video reads like normal text
        colours = [first[i:i + 3] for i in range(0, len(first), 3)]
        bg = max(set(colours), key=colours.count)
        bits = 0
        for y in range(CELL_H):
            line = pixels[top + y * stride:top + y * stride + CELL_W * 3]
            for x in range(CELL_W):
                bits = (bits << 1) | (line[x * 3:x * 3 + 3] != bg)
        if not bits:
            return " "
        return min(self.templates, key=lambda t: (t[1] ^ bits).bit_count())[0]

    def lines(self, ppm: bytes, rows: range | None = None) -> list[str]:
        width, height, pixels = read_ppm(ppm)
        cell_w = 9 if (width, height) == (720, 400) else CELL_W   # VGA text mode: 80x25 cells 9 wide
        wanted = rows if rows is not None else range(height // CELL_H)
        return ["".join(self.cell(pixels, width, c, r, cell_w) for c in range(width // cell_w)).rstrip()
                for r in wanted]


# QEMU key codes (qcodes) for the characters and key names the tests send
QCODES = {" ": "spc", "\t": "tab", "\n": "ret", "-": "minus", ".": "dot", "/": "slash", ":": ("shift", "semicolon"),
          "enter": "ret", "tab": "tab", "esc": "esc", "down": "down", "up": "up", "f1": "f1", "f2": "f2",
          "backspace": "backspace"}


def qcodes(key: str) -> list[str]:
    if key in QCODES:
        code = QCODES[key]
        return list(code) if isinstance(code, tuple) else [code]
    if len(key) == 1 and key.isalnum():
        return ["shift", key.lower()] if key.isupper() else [key]
    raise ValueError(f"no QEMU key code for {key!r}")


class QMP:
    """A minimal QMP client: one command at a time, events skipped."""

    def __init__(self, path: str, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.file = self.sock.makefile("rwb")
        json.loads(self.file.readline())             # the greeting
        self.execute("qmp_capabilities")

    def execute(self, command: str, **arguments) -> object:
        self.file.write(json.dumps({"execute": command, "arguments": arguments}).encode() + b"\n")
        self.file.flush()
        while True:
            reply = json.loads(self.file.readline())
            if "event" in reply:
                continue
            if "error" in reply:
                raise RuntimeError(f"QMP {command}: {reply['error'].get('desc')}")
            return reply.get("return")

    def screendump(self, path: str) -> bytes:
        self.execute("screendump", filename=path)
        with open(path, "rb") as f:
            return f.read()

    def key(self, key: str) -> None:
        self.execute("send-key", keys=[{"type": "qcode", "data": c} for c in qcodes(key)])

    def close(self) -> None:
        self.file.close()
        self.sock.close()


class Screen:
    """A running VM's VGA console read as text (screendumps through its QMP socket), and its
    keyboard. A wait that runs out keeps the last picture as vga-last.png beside the serial log."""

    def __init__(self, vm, reader: TextReader):
        self.vm = vm
        self.qmp = QMP(vm.qmp_sock)
        self.reader = reader
        self.dump = os.path.join(vm.workdir, "vga.ppm")
        self.last: list[str] = []

    def read(self, rows: range | None = None) -> list[str]:
        self.last = self.reader.lines(self.qmp.screendump(self.dump), rows)
        return self.last

    def wait(self, done, what: str, timeout: float, rows: range | None = None) -> list[str]:
        """Polls the screen (only `rows` while waiting) until done(lines); returns the whole screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.vm.proc.poll() is None:
            if done(self.read(rows)):
                return self.read() if rows is not None else self.last
            time.sleep(2)
        if self.vm.proc.poll() is not None:
            raise AssertionError(f"QEMU exited before {what} (serial log: {self.vm.serial_log})")
        picture = os.path.join(self.vm.workdir, "vga-last.png")
        with open(self.dump, "rb") as f, open(picture, "wb") as out:
            out.write(ppm_to_png(f.read()))
        raise AssertionError(f"no {what} on VGA after {timeout:.0f} s; the screen is in {picture}, "
                             f"read as text:\n" + "\n".join(self.read()))

    def wait_title(self, title: str, timeout: float) -> list[str]:
        """The wizard's second line names the screen."""
        return self.wait(lambda lines: len(lines) > 1 and lines[1].strip() == title,
                         f"screen {title!r}", timeout, rows=range(0, 2))

    def wait_text(self, text: str, timeout: float) -> list[str]:
        """`text` anywhere on the screen, also wrapped over rows (spaces are not compared)."""
        wanted = "".join(text.split())
        return self.wait(lambda lines: wanted in "".join("".join(lines).split()), repr(text), timeout)

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.qmp.key(key)
            time.sleep(0.5)
