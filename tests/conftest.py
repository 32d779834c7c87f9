import functools
import http.server
import json
import os
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXAMPLES = ROOT / "answerfiles" / "examples"
MACHINES = Path(__file__).parent / "machines"
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture(autouse=True)
def secrets_per_test(monkeypatch):
    """Secrets one test registers (fuzzed passwords such as "abc") must not mask another test's
    output, nor slow its masking down: each test starts from the secrets registered at import."""
    from installer.runner import SECRETS
    monkeypatch.setattr(SECRETS, "_values", set(SECRETS._values))
    monkeypatch.setattr(SECRETS, "_ordered", list(SECRETS._ordered))


def machine(name: str):
    from installer import machine as machine_mod
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
    from installer.answerfile import parse_bytes
    return parse_bytes(xml.encode(), name)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_dir(tmp_path):
    """A real HTTP server on 127.0.0.1 serving a fresh directory: (directory, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def self_signed_cert(tmp_path):
    """(certificate, key) for a TLS server on 127.0.0.1 that no system CA store trusts."""
    import subprocess
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key
