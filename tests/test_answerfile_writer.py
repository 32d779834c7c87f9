"""InstallConfig -> answer file -> InstallConfig gives the same install (the root password aside)."""
import glob
import os
import subprocess
import sys

import pytest

from installer import answerfile
from installer.answerfile_writer import NO_PASSWORD, to_xml
from installer.config import Source

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "answerfiles", "examples", "*.xml")))


def same_install(a, b) -> None:
    da, db = a.to_dict(), b.to_dict()
    da.pop("root_password"), db.pop("root_password")
    assert da == db


@pytest.mark.parametrize("path", EXAMPLES, ids=os.path.basename)
def test_examples_round_trip_and_match_the_schema(path, tmp_path):
    cfg, _ = answerfile.parse_file(path)
    written = tmp_path / "written.xml"
    written.write_text(to_xml(cfg, comment="written by a test"))
    again, _ = answerfile.parse_file(written)
    same_install(cfg, again)
    res = subprocess.run(["xmllint", "--noout", "--relaxng", os.path.join(ROOT, "answerfiles", "answerfile.rng"),
                          str(written)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_the_password_is_never_written(tmp_path):
    cfg, _ = answerfile.parse_bytes(b"""<installation><primary-disk>sda</primary-disk>
      <root-password>plain-secret-1</root-password><source type="local"/>
      <admin-interface name="eth0" proto="dhcp"/></installation>""")
    xml = to_xml(cfg)
    assert "plain-secret-1" not in xml and cfg.root_password.hash not in xml and "$6$" not in xml
    assert NO_PASSWORD in xml
    written = tmp_path / "a.xml"
    written.write_text(xml)
    res = subprocess.run([sys.executable, "-m", "installer", "validate", str(written)], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_awkward_text_is_escaped():
    cfg, _ = answerfile.parse_file(EXAMPLES[0])
    cfg.sources = [Source("url", "http://192.0.2.5/tree?a=1&b='x'\"<y>")]
    xml = to_xml(cfg, comment="a -- comment with <brackets> & dashes")
    again, _ = answerfile.parse_bytes(xml.encode())
    assert again.sources[0].location == cfg.sources[0].location
    assert "<brackets>" not in xml
