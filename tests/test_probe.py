"""The probe against real loop devices attached by the test (integration layer: root needed)."""
import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

from installer import layout, machine as machine_mod
from installer.probe import installation_details, probe

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="attaching loop devices needs root (CI runs as root)"),
]
MIB = 2**20


@pytest.fixture
def loopdev(tmp_path):
    attached = []

    def attach(size: str, sector: int = 512) -> str:
        img = tmp_path / f"disk{len(attached)}.img"
        subprocess.run(["truncate", "-s", size, img], check=True)
        dev = subprocess.run(["losetup", "--find", "--show", "--sector-size", str(sector), img],
                             check=True, capture_output=True, text=True).stdout.strip()
        attached.append(dev)
        return dev
    yield attach
    for dev in attached:
        subprocess.run(["umount", "-l", dev], capture_output=True)
        subprocess.run(["losetup", "-d", dev], check=False)


def write_xcpng_layout(dev: str, img_offset_fs: bool = True) -> None:
    """The planned layout written with sgdisk, plus an ext4 root at partition 1's offset."""
    parts = layout.primary_layout(64 * 2**30, "bios", "t3st01")
    args = ["sgdisk", "--zap-all"]
    for p in parts:
        args += [f"--new={p.number}:{p.start_mib}M:+{p.size_mib}M" if p.role != "sr" else f"--new={p.number}:{p.start_mib}M:0",
                 f"--typecode={p.number}:{p.type_guid}", f"--change-name={p.number}:{p.name}"]
    subprocess.run(args + [dev], check=True, capture_output=True)
    root = next(p for p in parts if p.role == "root")
    # a small ext4 at partition 1's offset: mke2fs writes into the whole-disk device at an offset
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "root-t3st01", "-E", f"offset={root.start_mib * MIB}",
                    dev, "64M"], check=True, capture_output=True)


def test_blank_disk(loopdev):
    dev = loopdev("50G")
    m = probe(only=[os.path.basename(dev)])
    assert [d.name for d in m.disks] == [os.path.basename(dev)]
    d = m.disks[0]
    assert (d.size, d.logical_sector_size, d.table, d.partitions, d.in_use) == (50 * 2**30, 512, "", [], [])


def test_4kn_disk_with_existing_layout(loopdev):
    dev = loopdev("64G", sector=4096)
    write_xcpng_layout(dev)
    d = probe(only=[os.path.basename(dev)]).disks[0]
    assert (d.logical_sector_size, d.table, d.signatures) == (4096, "gpt", ["gpt"])
    assert [(p.number, p.name) for p in sorted(d.partitions, key=lambda p: p.start)] == [
        (5, "logs"), (2, "backup"), (1, "root"), (4, "bios-boot"), (6, "swap"), (3, "localsr")]
    root = d.partition(1)
    assert (root.start, root.size, root.fstype, root.label) == (22529 * MIB, 18432 * MIB, "ext4", "root-t3st01")
    assert root.type == layout.GUID["linux"]


def test_mounted_disk_is_in_use_and_unselected_disks_are_not_listed(loopdev, tmp_path):
    dev = loopdev("1G")
    other = loopdev("1G")
    subprocess.run(["mkfs.ext4", "-q", "-L", "busy", dev], check=True)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    subprocess.run(["mount", dev, mnt], check=True)
    try:
        m = probe(only=[os.path.basename(dev)])
        assert [d.name for d in m.disks] == [os.path.basename(dev)]
        assert m.disks[0].in_use == [f"{dev} is mounted at {mnt}"]
        assert m.disks[0].signatures == ["ext4"]
    finally:
        subprocess.run(["umount", mnt], check=True)
    assert os.path.basename(other) not in [d.name for d in m.disks]


def test_probe_cli_json_roundtrips(loopdev):
    dev = loopdev("50G")
    out = subprocess.run([sys.executable, "-m", "installer", "probe", "--json", "--disk", os.path.basename(dev)],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    m = machine_mod.from_dict(json.loads(out))
    assert m.disks[0].size == 50 * 2**30 and m.memory_mib > 0 and m.cpu_count >= 1
    assert m.boot_mode in ("bios", "uefi")


def test_probe_of_whole_machine_does_not_list_loop_devices_by_default(loopdev):
    dev = loopdev("1G")
    assert os.path.basename(dev) not in [d.name for d in probe().disks]


@pytest.mark.skipif(shutil.which("sfdisk") is None, reason="sfdisk (util-linux fdisk package) missing")
def test_written_layout_from_plan_loads_as_recorded_machine(loopdev):
    """A probed disk can stand in for a recorded machine: the upgrade planner recognizes it."""
    from installer.answerfile import parse_bytes
    from installer.plan import FIXED_IDS, make_plan
    dev = loopdev("64G")
    write_xcpng_layout(dev)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "backup-t3st01", "-E", f"offset={4097 * MIB}", dev, "64M"],
                   check=True, capture_output=True)
    m = probe(only=[os.path.basename(dev)])
    cfg, _ = parse_bytes(f'<installation mode="upgrade"><existing-installation>{dev}</existing-installation>'
                         '<source type="local"/></installation>'.encode())
    plan = make_plan(cfg, m, FIXED_IDS)
    assert plan.ids["suffix"] == "t3st01" and plan.primary().path == dev


@pytest.mark.parametrize("stamps,booted", [(["ran-10-a"], False), (["ran-10-a", "ran-20-b"], True)])
def test_an_installation_is_read_without_mounting(tmp_path, stamps, booted):
    """Version and first-boot state come from a real ext4 file system (mkfs.ext4 -d), read by debugfs."""
    root = tmp_path / "root"
    for d in ("etc", "usr/lib/xenhost/firstboot.d", "var/lib/misc"):
        (root / d).mkdir(parents=True)
    (root / "etc/xensource-inventory").write_text("PRODUCT_BRAND='Xenhost'\nPRODUCT_VERSION='0.0.9'\n")
    for script in ("10-a", "20-b"):
        (root / "usr/lib/xenhost/firstboot.d" / script).write_text("#!/bin/sh\n")
    for stamp in stamps:
        (root / "var/lib/misc" / stamp).write_text("2026-01-01T00:00:00Z\n")
    image = tmp_path / "root.img"
    with open(image, "wb") as f:
        f.truncate(64 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(root), str(image)], check=True)
    found = installation_details(str(image), "sda")
    assert (found.product, found.version, found.booted) == ("Xenhost", "0.0.9", booted)
