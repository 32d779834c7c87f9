"""What a disk holds, named (installer/holdings.py): an installation's name is a field of its Holding,
set where the installation is found, so the disk list's brief() never cuts it out of the longer text."""
from __future__ import annotations

import dataclasses

import pytest
from helpers import machine

from installer import holdings
from installer.machine import Installation


def installed(product: str = "", version: str = ""):
    m = machine("installed-bios")
    if product or version:
        m = dataclasses.replace(m, installations=[Installation("sda", product, version)])
    return m, m.find_disk("sda")


@pytest.mark.parametrize("product,version,name", [
    ("Xenhost", "8.2", "an installation of Xenhost 8.2"),
    ("", "", "an installation (version not read)"),
    ("Xenhost", "", "an installation of Xenhost"),
    # the name is not parsed back out of the text: words that look like the text's tail stay
    ("Odd (partition edition)", "1.0", "an installation of Odd (partition edition) 1.0"),
])
def test_an_installation_carries_its_name(product, version, name):
    m, sda = installed(product, version)
    [found] = [h for h in holdings.holdings(sda, m) if h.kind == "installation"]
    assert found.name == name
    assert found.text == f"{name} (partition 1, root-k3x9qa)"
    assert holdings.brief(sda, m) == f"{name}, its backup, a local SR (4 logical volumes)"


def test_only_installations_have_a_name():
    m, sda = installed("Xenhost", "8.2")
    assert [h.kind for h in holdings.holdings(sda, m) if h.name] == ["installation"]


def test_brief_without_a_name_says_what_is_on_the_disk():
    m = machine("uefi-3disks")
    for disk in m.disks:
        assert holdings.brief(disk, m) == holdings.content(disk)
