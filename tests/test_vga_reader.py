"""The VGA reader of the vm-tests (vm-tests/vga.py): text drawn with the console font into a PPM,
as QEMU's screendump of a framebuffer console would be, reads back as the same text."""
from __future__ import annotations

import os

import pytest

import vga

BLUE, WHITE, GREY, BLACK = b"\x00\x00\xaa", b"\xff\xff\xff", b"\xaa\xaa\xaa", b"\x00\x00\x00"


def draw(lines: list[tuple[str, bytes, bytes]], glyphs: dict[str, int], cols: int) -> bytes:
    """A P6 picture of lines of (text, foreground, background), 8x16 cells."""
    width, height = cols * 8, len(lines) * 16
    rows = []
    for text, fg, bg in lines:
        text = text.ljust(cols)
        for y in range(16):
            px = []
            for ch in text:
                bits = glyphs.get(ch, 0)
                row = (bits >> ((15 - y) * 8)) & 0xFF
                px += [fg if row & (0x80 >> x) else bg for x in range(8)]
            rows.append(b"".join(px))
    return f"P6\n# a comment\n{width} {height}\n255\n".encode() + b"".join(rows)


@pytest.fixture(scope="module")
def glyphs():
    if not os.path.exists(vga.FONT):
        pytest.fail(f"{vga.FONT} is missing: `make deps` installs console-setup-linux")
    return vga.load_glyphs()


def test_the_font_has_every_printable_ascii_character_distinct(glyphs):
    assert set(glyphs) == set(vga.PRINTABLE)
    assert len(set(glyphs.values())) == len(glyphs)


def test_the_vga_bios_font_is_found_in_the_rom_qemu_runs(glyphs):
    bios = vga.bios_glyphs(like=glyphs)
    assert set(bios) == set(vga.PRINTABLE) and len(set(bios.values())) == len(bios)
    # the same design: most glyphs identical, a few drawn differently (the BIOS's 0 is wider)
    same = sum(bios[ch] == glyphs[ch] for ch in vga.PRINTABLE)
    assert len(vga.PRINTABLE) // 2 < same < len(vga.PRINTABLE)
    ppm = draw([("Xenhost 1.0.0 installer", WHITE, BLUE)], bios, 30)
    assert vga.TextReader(glyphs, bios).lines(ppm) == ["Xenhost 1.0.0 installer"]


def test_text_reads_back_in_normal_and_reverse_video(glyphs):
    lines = [("Xenhost 1.0 installer", WHITE, BLUE),
             ("Keyboard layout", WHITE, BLUE),
             ("(X) us   ( ) fr-latin1  {[|]} ~`!@#$%^&*_+=?<>", GREY, BLACK),
             ("  > Next <  ", BLACK, GREY)]           # the focused button: reverse video
    ppm = draw(lines, glyphs, 60)
    assert vga.TextReader(glyphs).lines(ppm) == [text.rstrip() for text, _, _ in lines]
    assert vga.TextReader(glyphs).lines(ppm, range(1, 2)) == ["Keyboard layout"]


def test_a_pixel_off_still_reads_as_the_nearest_glyph(glyphs):
    flipped = dict(glyphs)
    flipped["e"] ^= 1 << 40                          # one pixel differs from the font the test reads with
    ppm = draw([("select", WHITE, BLACK)], flipped, 10)
    assert vga.TextReader(glyphs).lines(ppm) == ["select"]


def test_keys_become_qemu_key_codes():
    assert vga.qcodes("enter") == ["ret"]
    assert vga.qcodes("F") == ["shift", "f"]
    assert vga.qcodes(":") == ["shift", "semicolon"]
    with pytest.raises(ValueError, match="no QEMU key code"):
        vga.qcodes("\x07")


def test_a_picture_that_is_not_p6_is_refused():
    with pytest.raises(ValueError, match="P6"):
        vga.read_ppm(b"P3\n1 1\n255\n0 0 0\n")


def test_a_screendump_converts_to_png(glyphs):
    import struct
    import zlib
    png = vga.ppm_to_png(draw([("ok", WHITE, BLACK)], glyphs, 2))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (16, 16)
    idat = png.index(b"IDAT")
    size = struct.unpack(">I", png[idat - 4:idat])[0]
    assert len(zlib.decompress(png[idat + 4:idat + 4 + size])) == 16 * (1 + 16 * 3)


@pytest.mark.parametrize("compress", [["zstd", "-c"], ["xz", "-c"], ["gzip", "-c"]])
def test_the_kernel_font_is_found_in_a_compressed_kernel(glyphs, tmp_path, compress):
    import subprocess
    like = {ch: glyphs[ch] if ch.isalpha() else glyphs[ch] ^ 1 for ch in vga.PRINTABLE}   # only letters agree
    table = bytearray(256 * 16)
    for ch in vga.PRINTABLE:
        table[ord(ch) * 16:(ord(ch) + 1) * 16] = glyphs[ch].to_bytes(16, "big")
    vmlinux = b"\x7fELF" + bytes(5000) + bytes(table) + b"rest of the kernel" * 100
    payload = subprocess.run(compress, input=vmlinux, capture_output=True, check=True).stdout
    path = tmp_path / "vmlinuz"
    path.write_bytes(b"MZ setup code" + bytes(700) + payload + b"\0trailer")   # a bzImage's layout
    assert vga.kernel_glyphs(str(path), like=like) == glyphs
    path.write_bytes(b"MZ no payload")
    with pytest.raises(ValueError, match="no zstd, xz or gzip payload"):
        vga.kernel_glyphs(str(path), like=glyphs)
