"""answerfiles/answerfile.rng accepts the examples, rejects typos, and names what the parser knows."""
import re
import shutil
import subprocess

import pytest
from helpers import EXAMPLES, ROOT

from installer.answerfile_schema import ELEMENTS

RNG = ROOT / "answerfiles" / "answerfile.rng"
needs_xmllint = pytest.mark.skipif(shutil.which("xmllint") is None,
                                   reason="xmllint missing: `make test` installs libxml2-utils")


def xmllint(path):
    return subprocess.run(["xmllint", "--noout", "--relaxng", RNG, path], capture_output=True, text=True)


@needs_xmllint
@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.xml")), ids=lambda p: p.stem)
def test_examples_validate(path):
    res = xmllint(path)
    assert res.returncode == 0, res.stderr


@needs_xmllint
@pytest.mark.parametrize("body", [
    '<installation><primay-disk>sda</primay-disk></installation>',
    '<installation><admin-interface name="eth0" proto="dhcp" vlan="5000"/></installation>',
    '<installation><primary-disk guest-storage="maybe">sda</primary-disk></installation>',
    '<installation mode="clean"/>',
    '<restore><hostname>x</hostname></restore>',
    '<installation existing-data="keep"/>',
    '<restore existing-data="refuse"/>',
])
def test_schema_rejects(tmp_path, body):
    f = tmp_path / "bad.xml"
    f.write_text(body)
    assert xmllint(f).returncode != 0


def test_schema_and_parser_know_the_same_names():
    text = RNG.read_text()
    rng_elements = set(re.findall(r'<element name="([^"]+)"', text))
    rng_attrs = set(re.findall(r'<attribute name="([^"]+)"', text))
    assert rng_elements == set(ELEMENTS)
    assert rng_attrs == {a for spec in ELEMENTS.values() for a in spec.attrs}


@needs_xmllint
@pytest.mark.parametrize("word", ["erase", "refuse"])
def test_schema_accepts_existing_data(tmp_path, word):
    f = tmp_path / "ok.xml"
    text = (EXAMPLES / "fresh-dhcp.xml").read_text()
    f.write_text(text.replace("<installation", f'<installation existing-data="{word}"', 1))
    res = xmllint(f)
    assert res.returncode == 0, res.stderr
