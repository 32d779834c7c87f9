"""The installer at boot: answer file fetching (real HTTP server) and the support bundle."""
from __future__ import annotations

import tarfile

import pytest

from installer import boot
from installer.errors import InstallerError
from installer.runner import SECRETS


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(boot, "RUN", str(tmp_path))
    monkeypatch.setattr(boot, "LOG", str(tmp_path / "installer.log"))
    monkeypatch.setattr(boot, "EVENTS", str(tmp_path / "events.jsonl"))
    monkeypatch.setattr(boot.time, "sleep", lambda s: None)
    return tmp_path


def test_answer_file_over_http_and_file(run_dir, http_dir):
    www, url = http_dir
    (www / "a.xml").write_text("<installation/>")
    path = boot.fetch_answerfile(f"{url}/a.xml")
    assert open(path).read() == "<installation/>"
    with pytest.raises(InstallerError, match="cannot fetch the answer file http://127.0.0.1:.*/missing.xml"):
        boot.fetch_answerfile(f"{url}/missing.xml")
    assert open(boot.fetch_answerfile(f"file://{www}/a.xml")).read() == "<installation/>"
    with pytest.raises(InstallerError, match="NFS are not supported yet"):
        boot.fetch_answerfile("nfs://192.0.2.1/a.xml")


def test_support_bundle_holds_logs_probe_and_plan_without_secrets(run_dir):
    SECRETS.add("bundle-secret-pw")
    (run_dir / "installer.log").write_text("log line\n")
    path = boot.support_bundle({"answerfile.xml": "<root-password>bundle-secret-pw</root-password>",
                                "plan.txt": "plan"})
    with tarfile.open(path) as tar:
        names = tar.getnames()
        assert {"installer.log", "answerfile.xml", "plan.txt"} <= set(names)
        text = tar.extractfile("answerfile.xml").read().decode()
    assert "bundle-secret-pw" not in text and "********" in text
