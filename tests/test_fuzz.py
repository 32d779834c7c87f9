"""Thousands of mutated answer files: only our error type, never a traceback, nothing executed."""
import socket
import subprocess

import pytest
from conftest import EXAMPLES
from hypothesis import HealthCheck, given, settings, strategies as st

from installer.answerfile import parse_bytes
from installer.answerfile_schema import ELEMENTS
from installer.errors import ConfigError

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
    import re
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
