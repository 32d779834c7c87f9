"""What the unit tests share besides fixtures: where the test data is, recorded machines, golden
files, answer-file parsing, and real servers on 127.0.0.1.

Test modules import these from here, never from conftest: vm-tests/ has a conftest.py too, and
whichever of the two pytest loads last is the module named "conftest" for everyone.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Iterator

import pytest

from installer import machine as machine_mod
from installer.answerfile import parse_bytes

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "answerfiles" / "examples"
MACHINES = Path(__file__).parent / "machines"
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def machine(name: str):
    return machine_mod.load(MACHINES / f"{name}.json")


def check_golden(name: str, data) -> None:
    """Compare with tests/golden/<name>; UPDATE_GOLDEN=1 rewrites it (review the diff!)."""
    path = GOLDEN / name
    text = json.dumps(data, indent=2, sort_keys=True) + "\n" if not isinstance(data, str) else data
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"missing golden file {path}; run with UPDATE_GOLDEN=1 and review it")
        path.write_text(text)
    assert text == path.read_text(), f"output differs from {path}"


def parse_text(xml: str, name: str = "test.xml"):
    return parse_bytes(xml.encode(), name)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a directory and logs nothing."""

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def http_server(directory: Path, handler: type[http.server.SimpleHTTPRequestHandler] = QuietHandler,
                tls: ssl.SSLContext | None = None) -> Iterator[http.server.ThreadingHTTPServer]:
    """A real HTTP server on 127.0.0.1 (a free port) serving directory through handler; HTTPS with
    a server-side tls context."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    if tls:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()


def self_signed_cert(tmp_path):
    """(certificate, key) for a TLS server on 127.0.0.1 that no system CA store trusts."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key
