"""Answers files drive the real wizard (keys, without a terminal) against recorded machines in
dry-run mode: the InstallConfig must be the expected one, and the answer file the wizard saves must
describe the same install."""
import json
import os
import subprocess
import sys

import pytest

from installer import answerfile, machine, passwd
from installer.wizard_backend import DryRunBackend
from installer.ui import drive
from installer.ui.app import App

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CASES = [("uefi-3disks", "uefi-3disks-static", "correct horse"),
         ("raid-2disks", "raid-2disks-ipv6-nfs", "another secret"),
         ("installed-bios", "installed-bios-upgrade", None)]


@pytest.mark.parametrize("machine_name,answers,password", CASES)
def test_answers_make_the_expected_config(tmp_path, machine_name, answers, password):
    m = machine.load(os.path.join(HERE, "machines", f"{machine_name}.json"))
    backend = DryRunBackend(m, str(tmp_path))
    app = App(m, backend)
    drive.run_answers(app, drive.load_answers(os.path.join(HERE, "answers", f"{answers}.toml")))
    assert app.outcome.success and "Dry run complete" in drive.screen_text(app)
    got = app.config.to_dict()
    hashed = got.pop("root_password")["hash"]
    assert passwd.verify(password, hashed) if password else hashed is None
    with open(os.path.join(HERE, "golden", f"tui-{answers}.json")) as f:
        assert got == json.load(f)
    saved, _ = answerfile.parse_file(backend.saved_answerfile)
    again = saved.to_dict()
    assert again.pop("root_password") == {"hash": None, "origin": "none"}    # never written
    assert again == got
    events = open(backend.events_path()).read()
    assert '"status": "success"' in events
    if password:
        assert password not in open(backend.saved_answerfile).read() and password not in events


def test_the_command_line_runs_an_answers_file(tmp_path):
    res = subprocess.run([sys.executable, "-m", "installer", "tui", "--machine", "tests/machines/uefi-3disks.json",
                          "--answers", "tests/answers/uefi-3disks-static.toml", "--out", str(tmp_path), "--json"],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "Dry run complete" in res.stdout and '"hostname": "xh1.example.com"' in res.stdout
    assert "correct horse" not in res.stdout and "$6$" not in res.stdout


def test_an_answer_a_screen_refuses_stops_the_run(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(open(os.path.join(HERE, "answers", "uefi-3disks-static.toml")).read()
                   .replace('ipv4_address = "192.0.2.10"', 'ipv4_address = "192.0.2.300"'))
    res = subprocess.run([sys.executable, "-m", "installer", "tui", "--machine", "tests/machines/uefi-3disks.json",
                          "--answers", str(bad), "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 1
    assert "screen 'network' refused its answers" in res.stderr and "192.0.2.300" in res.stderr


def test_the_saved_answer_file_keeps_no_url_credentials_and_is_private(tmp_path):
    with open(os.path.join(HERE, "answers", "uefi-3disks-static.toml")) as f:
        text = f.read()
    url = "http://operator:s3cr/et@192.0.2.5/tree?access_token=tok-123456"
    assert 'location = "' in text
    lines = [f'location = "{url}"' if line.startswith("location = ") else line for line in text.splitlines()]
    answers = tmp_path / "creds.toml"
    answers.write_text("\n".join(lines) + "\n")
    m = machine.load(os.path.join(HERE, "machines", "uefi-3disks.json"))
    run = tmp_path / "run"
    run.mkdir()
    stale = run / "answerfile.xml"
    stale.write_text("an earlier run's file")
    os.chmod(stale, 0o644)
    backend = DryRunBackend(m, str(run))
    app = App(m, backend)
    drive.run_answers(app, drive.load_answers(str(answers)))
    assert app.config.sources[0].location == url          # the install itself uses the real URL
    saved = open(backend.saved_answerfile).read()
    assert "s3cr/et" not in saved and "tok-123456" not in saved
    assert "192.0.2.5/tree" in saved
    assert "<!-- the ******** above stand for credentials not recorded here; put them back" in saved
    assert os.stat(backend.saved_answerfile).st_mode & 0o777 == 0o600
