"""Thousands of mutated answer files: only our error type, never a traceback, nothing executed; and
the masked copy of mutated files holding a password never shows it."""
import re
import socket
import subprocess

import pytest
from helpers import EXAMPLES
from hypothesis import HealthCheck, given, settings, strategies as st

from installer.answerfile import parse_bytes
from installer.answerfile_mask import MaskError, masked_answerfile
from installer.answerfile_schema import ELEMENTS
from installer.errors import ConfigError
from installer.xmlsafe import parse as parse_xml

SEEDS = [p.read_bytes() for p in sorted(EXAMPLES.glob("*.xml"))]
VOCAB = sorted(set(ELEMENTS) | {a for spec in ELEMENTS.values() for a in spec.attrs}) + [
    "yes", "no", "TRUE", "static", "dhcp", "none", "4095", "0", "-1", "sda", "/dev/../etc", "md127",
    "255.255.255.255", "::", "&amp;", "&lt;", "<![CDATA[x]]>", "<!--c-->", "\x00", "\u00e9", "\U0001F600",
]


@pytest.fixture(autouse=True)
def nothing_may_run(monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("parsing an answer file tried to run a program or open a socket")
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def check(raw: bytes) -> None:
    try:
        cfg, report = parse_bytes(raw, "fuzz.xml")
    except ConfigError as exc:
        assert exc.diagnostics, "a ConfigError must carry at least one error"
        for d in exc.diagnostics:
            assert d.file == "fuzz.xml" and d.message
        return
    assert report.errors == []
    cfg.to_dict()


@settings(max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.sampled_from(SEEDS), edits=st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(0, 8), st.binary(max_size=8)), min_size=1, max_size=6))
def test_byte_mutations(seed, edits):
    data = bytearray(seed)
    for pos, cut, insert in edits:
        pos %= len(data) + 1
        data[pos:pos + cut] = insert
    check(bytes(data))


@settings(max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.sampled_from(SEEDS), edits=st.lists(
    st.tuples(st.integers(0, 10_000), st.sampled_from(VOCAB)), min_size=1, max_size=5))
def test_token_mutations(seed, edits):
    """Replace one token (name, value or text) with a plausible one from the format's vocabulary."""
    text = seed.decode()
    spans = [m.span() for m in re.finditer(r"[A-Za-z0-9_./:$-]+", text)]
    for pos, word in edits:
        start, end = spans[pos % len(spans)]
        text = text[:start] + word + text[end:]
        spans = [m.span() for m in re.finditer(r"[A-Za-z0-9_./:$-]+", text)]
    check(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes(raw):
    check(raw)


# -- the masked answer file: whatever surrounds the password, it never comes out ---------------------

PASSWORD = 'Fuzz-Pä55&<w"ord>'
# the password as an answer file may spell it inside <root-password>
SPELLINGS = [
    "Fuzz-Pä55&amp;&lt;w&quot;ord&gt;",
    "".join(f"&#{ord(c)};" for c in PASSWORD),
    "".join(f"&#x{ord(c):x};" for c in PASSWORD),
    'Fuzz-<![CDATA[Pä55&<w"ord>]]>',
    "Fuzz<!-- split -->-Pä55&amp;<!---->&lt;w\"ord&gt;",
    "  Fuzz-Pä<?pi x?>55&amp;<![CDATA[<]]>w&#34;ord>\n ",
]
ENCODINGS = {"utf-8": "", "utf-16": ' encoding="UTF-16"', "latin-1": ' encoding="ISO-8859-1"'}
PASSWORD_SEEDS = [p.read_text() for p in sorted(EXAMPLES.glob("*.xml")) if "<root-password>" in p.read_text()]
PASSWORD_SEEDS.append((EXAMPLES / "upgrade.xml").read_text().replace(
    "<source", "<root-password>changeme-now</root-password>\n  <source"))


def password_file(seed: str, spelling: str, encoding: str) -> tuple[bytes, int, int]:
    """The seed with its password spelled so; the byte span of the <root-password> element."""
    text = seed.replace('<?xml version="1.0"?>', f'<?xml version="1.0"{ENCODINGS[encoding]}?>')
    head, _, rest = text.partition("<root-password>")
    _, _, tail = rest.partition("</root-password>")
    element = f"<root-password>{spelling}</root-password>"
    before = head.encode(encoding)
    raw = (head + element + tail).encode(encoding)
    if encoding == "utf-16":          # one byte order mark, at the start
        return raw, len(before), len(before) + len(element.encode("utf-16-le"))
    return raw, len(before), len(before) + len(element.encode(encoding))


def check_masked(raw: bytes) -> None:
    try:
        out = masked_answerfile(raw, "fuzz.xml")
    except MaskError as exc:
        assert exc.diagnostics and all(d.file == "fuzz.xml" and d.message for d in exc.diagnostics)
        return
    assert PASSWORD not in out and "Pä55" not in out and "P&#228;55" not in out
    stack = [parse_xml(out.encode())]       # the masked copy is XML, and holds no password either
    while stack:
        node = stack.pop()
        assert not any("55&<w" in v for v in [node.text, *(a.value for a in node.attrs.values())])
        stack += node.children


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.sampled_from(PASSWORD_SEEDS), spelling=st.sampled_from(SPELLINGS),
       encoding=st.sampled_from(sorted(ENCODINGS)), edits=st.lists(
           st.tuples(st.integers(0, 10_000), st.integers(0, 8), st.binary(max_size=8)), max_size=6))
def test_masked_file_byte_mutations(seed, spelling, encoding, edits):
    """Bytes cut and inserted anywhere but inside the password element itself."""
    raw, start, end = password_file(seed, spelling, encoding)
    before, element, after = bytearray(raw[:start]), raw[start:end], bytearray(raw[end:])
    for pos, cut, insert in edits:
        part = before if pos % 2 else after
        pos = (pos // 2) % (len(part) + 1)
        part[pos:pos + cut] = insert
    check_masked(bytes(before) + element + bytes(after))


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.sampled_from(PASSWORD_SEEDS), spelling=st.sampled_from(SPELLINGS), edits=st.lists(
    st.tuples(st.integers(0, 10_000), st.sampled_from(VOCAB)), max_size=5))
def test_masked_file_token_mutations(seed, spelling, edits):
    """Tokens of the format swapped in around the password (comments, CDATA, escapes, names)."""
    raw, start, end = password_file(seed, spelling, "utf-8")
    head, element, tail = raw[:start].decode(), raw[start:end].decode(), raw[end:].decode()
    for pos, word in edits:
        spans = [("h", m.span()) for m in re.finditer(r"[A-Za-z0-9_./:$-]+", head)]
        spans += [("t", m.span()) for m in re.finditer(r"[A-Za-z0-9_./:$-]+", tail)]
        side, (a, b) = spans[pos % len(spans)]
        if side == "h":
            head = head[:a] + word + head[b:]
        else:
            tail = tail[:a] + word + tail[b:]
    check_masked((head + element + tail).encode("utf-8", "surrogatepass"))
