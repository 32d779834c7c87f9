"""The probe against real loop devices attached by the test (integration layer: root needed)."""
import json
import os
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT

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
    assert plan.ids.suffix == "t3st01" and plan.primary().path == dev


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


def fake_sysfs_disk(root, name: str, partitions: list[str], holders: dict[str, list[str]]):
    """A sysfs-like block device directory: <name>/<part>/ per partition, holders/ where given."""
    sysdir = root / name
    (sysdir / "holders").mkdir(parents=True)
    (sysdir / "queue").mkdir()            # sysfs has other entries too, not partitions
    for part in partitions:
        (sysdir / part / "holders").mkdir(parents=True)
    for node, held_by in holders.items():
        for holder in held_by:
            (sysdir / node / "holders" / holder if node != name else sysdir / "holders" / holder).mkdir()
    return sysdir


@pytest.mark.parametrize("target,media", [("/run/live/medium", True), ("/run/live/findiso", True),
                                          ("/run/install/media", True), ("/cdrom", True),
                                          ("/mnt/usb", False), ("/run/live/medium/sub", False)])
def test_usage_recognises_the_installer_media_mounts(tmp_path, target, media):
    from installer.probe import _usage
    sysdir = fake_sysfs_disk(tmp_path, "sdb", ["sdb1", "sdb2"], {"sdb2": ["dm-0"]})
    reasons, is_media = _usage("sdb", sysdir, {"/dev/sdb1": [target], "/dev/sda1": ["/"]}, {"/dev/sdb3"})
    assert is_media is media
    assert sorted(reasons) == [f"/dev/sdb1 is mounted at {target}",
                               "/dev/sdb2 is held by dm-0 (LVM, RAID or device-mapper)"]


def test_usage_of_an_idle_disk(tmp_path):
    from installer.probe import _usage
    sysdir = fake_sysfs_disk(tmp_path, "sdc", ["sdc1"], {})
    assert _usage("sdc", sysdir, {"/dev/sdb1": ["/run/live/medium"]}, {"/dev/sdb2"}) == ([], False)


def test_live_usb_stick_mounted_by_live_boot_is_the_installer_media(loopdev):
    """live-boot mounts the stick we booted from at /run/live/medium: it is the installer media, and
    the plan and the wizard say so (before, it was only 'in use')."""
    from installer import eligibility
    medium = "/run/live/medium"
    if os.path.ismount(medium):
        pytest.skip(f"{medium} is mounted on this machine already")
    dev = loopdev("64M")
    subprocess.run(["mkfs.ext4", "-q", "-L", "XENHOST", dev], check=True)
    made = [d for d in ("/run/live", medium) if not os.path.isdir(d)]
    for d in made:
        os.mkdir(d)
    subprocess.run(["mount", "-o", "ro", dev, medium], check=True)
    try:
        d = probe(only=[os.path.basename(dev)]).disks[0]
    finally:
        subprocess.run(["umount", medium], check=True)
        for path in reversed(made):
            os.rmdir(path)
    assert d.install_media is True and d.in_use == [f"{dev} is mounted at {medium}"]
    assert eligibility.blocker(d) == "holds the installer media"


def test_volume_groups_and_their_lv_counts_are_read_from_lvm_metadata(loopdev, tmp_path):
    """A VG over a partition of one disk and the whole of another, with 3 LVs written into its
    metadata (vgcfgrestore: no device-mapper here, nothing is activated): the probe names the VG and
    counts its LVs on both, and the description of either disk says what else the VG spans."""
    from installer import holdings
    first, second = loopdev("1G"), loopdev("256M")
    subprocess.run(["sgdisk", "--new=1:1M:+512M", f"--typecode=1:{layout.GUID['lvm']}", first],
                   check=True, capture_output=True)
    subprocess.run(["partx", "-a", first], check=True, capture_output=True)
    part = first + "p1"
    lvm = ["--devices", part, "--devices", second]
    vg = f"VG_probe{os.getpid()}"
    try:
        subprocess.run(["pvcreate", "-q", *lvm, part, second], check=True, capture_output=True)
        subprocess.run(["vgcreate", "-q", "--autobackup", "n", *lvm, vg, part, second], check=True,
                       capture_output=True)
        backup = tmp_path / "vg.txt"
        subprocess.run(["vgcfgbackup", "-q", *lvm, "-f", backup, vg], check=True, capture_output=True)
        text = backup.read_text()
        lvs = "".join(f'lv{i} {{\nid = "aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaa{i}"\nstatus = ["READ", "WRITE", '
                      f'"VISIBLE"]\nsegment_count = 1\nsegment1 {{\nstart_extent = 0\nextent_count = 1\n'
                      f'type = "striped"\nstripe_count = 1\nstripes = ["pv0", {i}]\n}}\n}}\n' for i in range(3))
        end = text.rindex("}")
        backup.write_text(text[:end] + "logical_volumes {\n" + lvs + "}\n" + text[end:])
        subprocess.run(["vgcfgrestore", *lvm, "-f", backup, vg], check=True, capture_output=True)
        m = probe(only=[os.path.basename(first), os.path.basename(second)])
    finally:
        subprocess.run(["vgremove", "-f", *lvm, vg], capture_output=True)
        subprocess.run(["partx", "-d", first], capture_output=True)
    one, two = m.disks
    assert (one.partitions[0].vg, one.partitions[0].lv_count) == (vg, 3)
    assert (two.vg, two.lv_count, two.signatures) == (vg, 3, ["LVM2_member"])
    assert holdings.describe(holdings.holdings(two, m)) == (
        f"volume group {vg} with 3 logical volumes (the whole disk; it also spans {first} partition 1)")
    assert machine_mod.from_dict(json.loads(m.to_json())).disks[1].vg == vg    # recorded machines keep it
