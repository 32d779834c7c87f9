"""Fixtures of the unit tests. Shared helpers (paths, golden files, servers) are in helpers.py:
import them from there, never from conftest (vm-tests/ has a conftest.py too)."""
import os

import pytest
from helpers import http_server
from hypothesis import settings

# The fuzz tests replay a fixed sequence of examples by default (make test, CI): a landing is judged
# on the same inputs every time, never on a new random find. HYPOTHESIS_PROFILE=explore draws new
# examples each run (how the masking and URL bugs were found); a find goes into a fixed test.
settings.register_profile("fixed", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fixed"))


@pytest.fixture(autouse=True)
def secrets_per_test(monkeypatch):
    """Secrets one test registers (fuzzed passwords such as "abc") must not mask another test's
    output, nor slow its masking down: each test starts from the secrets registered at import."""
    from installer.runner import SECRETS
    monkeypatch.setattr(SECRETS, "_values", set(SECRETS._values))
    monkeypatch.setattr(SECRETS, "_ordered", list(SECRETS._ordered))


@pytest.fixture
def http_dir(tmp_path):
    """A real HTTP server on 127.0.0.1 serving a fresh directory: (directory, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    with http_server(root) as server:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
