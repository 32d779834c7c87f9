"""Fixtures for the end-to-end layer: built images, an SSH key, a kept artifacts directory."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARTIFACTS = os.path.join(ROOT, "build", "vm-tests")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="vm-tests need root (loop devices, mount namespaces)")
        for item in items:
            if "vm-tests" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def built():
    """The installer environment and the product tree, built (or found in the cache)."""
    res = subprocess.run(["/usr/bin/python3", "image/build.py", "all"],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, f"image build failed:\n{res.stderr[-3000:]}"
    env, product = res.stdout.split()
    return {"env": env, "product": product}


@pytest.fixture(scope="session")
def artifacts():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def ssh_key(tmp_path_factory):
    key = str(tmp_path_factory.mktemp("ssh") / "id_ed25519")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vm-tests", "-f", key], check=True)
    with open(key + ".pub") as f:
        return {"private": key, "public": f.read().strip()}
