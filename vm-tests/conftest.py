"""Fixtures shared by the vm-tests: the built installer environment and product tree, the ISO and
PXE artifacts, an SSH key, an HTTP server and an NFS server on 127.0.0.1 for the guests. Helpers
the scenarios call are in modules beside this one (harness, media, answers, vga, timings), imported
by name: pytest puts this directory on the path (pyproject.toml). Never import from conftest:
tests/ has a conftest.py too, and whichever of the two pytest loads last is the module named
"conftest" for everyone.
"""
from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass

import pytest
from harness import free_port
from helpers import http_server
from media import ARTIFACTS, ROOT

from installer import cachelock


@dataclass(frozen=True)
class SshKey:
    private: str       # the key file, for ssh -i
    public: str        # the line for <ssh-authorized-key>


@pytest.fixture(scope="session")
def ssh_key(tmp_path_factory) -> SshKey:
    """One key pair for every scenario: the hosts authorize it, the tests log in with it."""
    key = str(tmp_path_factory.mktemp("ssh") / "id_ed25519")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vm-tests", "-f", key], check=True)
    with open(key + ".pub") as f:
        return SshKey(key, f.read().strip())


def _build(what: str) -> str:
    """A media artifact from image/build.py (found in its cache when nothing changed), held in use
    for the rest of this test run: no other build prunes it."""
    res = subprocess.run(["/usr/bin/python3", "image/build.py", what], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    return cachelock.use(res.stdout.split()[-1])


@pytest.fixture(scope="session")
def built():
    """The installer environment and the product tree (image/build.py all, found in its cache when
    nothing changed), held in use for the session: no other build prunes them."""
    res = subprocess.run(["/usr/bin/python3", "image/build.py", "all"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, f"image build failed:\n{res.stderr[-3000:]}"
    env, product = res.stdout.split()
    return {"env": cachelock.use(env), "product": cachelock.use(product)}


@pytest.fixture(scope="module")
def iso():
    path = _build("iso")
    assert os.path.getsize(path) > 100 << 20
    return path


@pytest.fixture(scope="module")
def pxe():
    path = _build("pxe")
    assert os.path.exists(os.path.join(path, "pxelinux.cfg", "default"))
    return path


@pytest.fixture
def www(tmp_path):
    """(document root, port) of an HTTP server on 127.0.0.1 for this test only."""
    root = tmp_path / "www"
    root.mkdir()
    with http_server(root) as server:
        yield root, server.server_address[1]


GANESHA_CONF = """\
NFS_CORE_PARAM {{ NFS_Port = {port}; Bind_addr = 127.0.0.1; Protocols = 4;
                 Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false; }}
NFSV4 {{ Graceless = true; RecoveryRoot = {state}; Minor_Versions = 0, 1; }}
NFS_KRB5 {{ Active_krb5 = false; }}
EXPORT_DEFAULTS {{ Access_Type = None; }}
EXPORT {{ Export_Id = 1; Path = {export}; Pseudo = /export; Access_Type = RO; Squash = None;
          Protocols = 4; Transports = TCP; SecType = sys; FSAL {{ Name = VFS; }} }}
LOG {{ Default_Log_Level = EVENT; }}
"""


@pytest.fixture
def nfs_server(tmp_path):
    """(export directory, port): a real NFSv4 server (NFS-Ganesha, user space: this kernel has no
    nfsd) exporting the directory read-only as /export on 127.0.0.1 only; stopped by its PID.
    NFSv4.2 is off: with it, the guest kernel reads files with READ_PLUS, and Ganesha 4.3 answered
    those with zeros here (the answer file arrived as NUL bytes)."""
    export, state = tmp_path / "export", tmp_path / "ganesha-state"
    export.mkdir()
    state.mkdir()
    port = free_port()
    conf = tmp_path / "ganesha.conf"
    conf.write_text(GANESHA_CONF.format(port=port, state=state, export=export))
    log = os.path.join(ARTIFACTS, "ganesha.log")
    os.makedirs(ARTIFACTS, exist_ok=True)
    proc = subprocess.Popen(["ganesha.nfsd", "-F", "-f", str(conf), "-L", log, "-p", str(tmp_path / "ganesha.pid")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"ganesha.nfsd exited ({proc.returncode}); see {log}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"ganesha.nfsd does not listen on {port}; see {log}"
                time.sleep(0.2)
        yield export, port
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
