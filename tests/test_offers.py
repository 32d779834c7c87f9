"""What each recorded machine offers the wizard's disk screens (installer/offers.py), and why a disk
is greyed out: golden files per machine (tests/golden/offers-<machine>.json), then tables."""
from __future__ import annotations

import dataclasses

import pytest
from helpers import MACHINES, check_golden, machine

from installer import eligibility, holdings, offers, wizard
from installer.layout import GIB, MIB
from installer.machine import Disk, Machine, Partition
from installer.product import DEFAULT as DEFAULT_PRODUCT

RECORDED = sorted(p.stem for p in MACHINES.glob("*.json"))


def offered(m: Machine) -> dict:
    primary = wizard.defaults(m).primary_disk
    return {
        "primary_disks": [[o.name, o.usable, o.reason] for o in offers.primary_disks(m)],
        "default_primary": primary,
        "guest_disks": [[o.name, o.usable, o.reason] for o in offers.guest_disks(m, {primary})],
        "raid_partners": [d.name for d in offers.raid_partners(m, primary)],
        "contents": {d.name: holdings.content(d) for d in m.disks},
        "existing": [dataclasses.asdict(e) for e in eligibility.existing(m, DEFAULT_PRODUCT)],
        "warnings": eligibility.hardware_warnings(m) + eligibility.boot_warnings(m),
    }


@pytest.mark.parametrize("name", RECORDED)
def test_offers_match_golden(name):
    check_golden(f"offers-{name}.json", offered(machine(name)))


def disk(name: str, size: int = 100 * GIB, **fields) -> Disk:
    return Disk(name=name, size=size, **fields)


@pytest.mark.parametrize("d,reason", [
    (disk("sda"), ""),
    (disk("sda", size=46 * GIB), ""),
    (disk("sda", size=46 * GIB - 1), "too small: 46.0 GiB, at least 46.0 GiB needed"),
    (disk("sda", size=40 * GIB), "too small: 40.0 GiB, at least 46.0 GiB needed"),
    (disk("sda", install_media=True, in_use=["/dev/sda1 is mounted at /run/live/medium"]),
     "holds the installer media"),
    (disk("sda", readonly=True), "read-only"),
    (disk("sda", in_use=["/dev/sda1 is mounted at /mnt", "/dev/sda2 is in use as swap"]),
     "in use: /dev/sda1 is mounted at /mnt; /dev/sda2 is in use as swap"),
    (disk("sda", size=2 * 2**40, readonly=True), "read-only"),     # the first reason wins
])
def test_primary_disk_offer_and_its_greyed_reason(d, reason):
    [offer] = offers.primary_disks(Machine(disks=[d]))
    assert (offer.name, offer.usable, offer.reason) == ("sda", not reason, reason)


@pytest.mark.parametrize("d,reason", [
    (disk("sdb", size=4 * MIB), ""),
    (disk("sdb", size=3 * MIB), "too small: 3.0 MiB, at least 4.0 MiB needed"),
    (disk("sdb", size=1 * GIB), ""),                  # far too small for a host, fine for guests
    (disk("sdb", readonly=True), "read-only"),
    (disk("sdb", install_media=True), "holds the installer media"),
])
def test_guest_disk_offer_and_its_greyed_reason(d, reason):
    [offer] = offers.guest_disks(Machine(disks=[disk("sda"), d]), {"sda"})
    assert (offer.name, offer.usable, offer.reason) == ("sdb", not reason, reason)


def test_guest_disks_leave_out_the_primary_disk_and_the_raid_partner():
    m = machine("uefi-3disks")
    assert [o.name for o in offers.guest_disks(m, set())] == ["sda", "sdb", "sdc"]
    assert [o.name for o in offers.guest_disks(m, {"sda", "sdc"})] == ["sdb"]


@pytest.mark.parametrize("disks,primary,partners", [
    ([disk("sda"), disk("sdb")], "sda", ["sdb"]),
    ([disk("sda"), disk("sdb"), disk("sdc")], "sdb", ["sda", "sdc"]),
    ([disk("sda"), disk("sdb", logical_sector_size=4096)], "sda", []),           # same sector size only
    ([disk("sda"), disk("sdb", size=40 * GIB)], "sda", []),                      # big enough only
    ([disk("sda"), disk("sdb", readonly=True), disk("sdc", in_use=["x"])], "sda", []),   # usable only
    ([disk("sda"), disk("sdb")], "sdz", []),                                     # unknown primary
    ([disk("sda")], "sda", []),
])
def test_raid_partners(disks, primary, partners):
    assert [d.name for d in offers.raid_partners(Machine(disks=disks), primary)] == partners


@pytest.mark.parametrize("d,text", [
    (disk("sda"), "empty"),
    (disk("sda", table="gpt", signatures=["gpt"]), "gpt"),
    (disk("sda", signatures=["LVM2_member"]), "LVM2_member"),
    (disk("sda", table="dos", partitions=[Partition(1, MIB, GIB, fstype="vfat"), Partition(2, GIB, GIB)]),
     "MBR, 2 partitions (unformatted, vfat)"),
    (disk("sda", table="gpt", partitions=[Partition(1, MIB, GIB, fstype="ext4"),
                                          Partition(2, GIB, GIB, fstype="ext4")]),
     "GPT, 2 partitions (ext4)"),
])
def test_disk_content_in_a_few_words(d, text):
    assert holdings.content(d) == text


@pytest.mark.parametrize("size,text", [(46 * GIB, "46.0 GiB"), (2**40, "1.0 TiB"), (1536 * GIB, "1.5 TiB"),
                                       (512 * MIB, "512.0 MiB")])
def test_size_text(size, text):
    assert offers.size_text(size) == text
