"""The planner against recorded machines (tests/machines/*.json)."""
import dataclasses

import pytest
from helpers import EXAMPLES, check_golden, machine, parse_text

from installer import layout
from installer.answerfile import parse_file
from installer.errors import ConfigError, PlanError
from installer.plan import FIXED_IDS, make_plan

MIB, GIB = 2**20, 2**30


def plan_of(example: str, machine_name: str):
    cfg, _ = parse_file(EXAMPLES / f"{example}.xml")
    return make_plan(cfg, machine(machine_name), FIXED_IDS)


def problems_of(cfg_or_example, machine_name: str) -> list[str]:
    cfg = cfg_or_example if not isinstance(cfg_or_example, str) else parse_file(EXAMPLES / f"{cfg_or_example}.xml")[0]
    with pytest.raises(PlanError) as info:
        make_plan(cfg, machine(machine_name), FIXED_IDS)
    return info.value.problems


def xml(body: str, root="<installation>") -> str:
    return (f'{root}<source type="local"/><root-password>changeme-now</root-password>'
            f'<admin-interface name="eth0" proto="dhcp"/>{body}</installation>')


def cfg_of(body: str, root="<installation>"):
    return parse_text(xml(body, root))[0]


@pytest.mark.parametrize("example,machine_name", [
    ("fresh-dhcp", "bios-1disk"), ("static-vlan-ntp", "uefi-3disks"), ("guest-disks-lvm", "uefi-3disks"),
    ("raid1", "raid-2disks"), ("ipv6", "nvme-uefi"), ("select-by-serial", "nvme-uefi"),
    ("upgrade", "installed-bios"), ("restore", "installed-bios"), ("hooks", "usb-media"),
    ("protect-existing-data", "uefi-3disks"),
])
def test_plan_matches_golden(example, machine_name):
    check_golden(f"plan-{example}-on-{machine_name}.json", make_plan_dict(example, machine_name))


def make_plan_dict(example, machine_name):
    return plan_of(example, machine_name).to_dict()


def test_planning_is_pure_and_repeatable():
    assert make_plan_dict("static-vlan-ntp", "uefi-3disks") == make_plan_dict("static-vlan-ntp", "uefi-3disks")


def test_layout_is_xcpng_order_numbers_and_sizes():
    disk = plan_of("fresh-dhcp", "bios-1disk").primary()
    order = [(p.number, p.name, p.size_mib) for p in disk.partitions]
    assert order == [(5, "logs", 4096), (2, "backup", 18432), (1, "root", 18432), (4, "bios-boot", 512),
                     (6, "swap", 1024), (3, "localsr", 64 * 1024 - 1 - 42497)]
    assert disk.partitions[0].start_mib == 1
    for a, b in zip(disk.partitions, disk.partitions[1:]):
        assert a.end_mib == b.start_mib  # contiguous, no overlap
    assert disk.partitions[-1].end_mib * MIB <= 64 * GIB - MIB  # room for the backup GPT


def test_uefi_gets_an_esp_bios_a_bios_boot_partition():
    uefi = plan_of("static-vlan-ntp", "uefi-3disks").primary().part("boot")
    bios = plan_of("fresh-dhcp", "bios-1disk").primary().part("boot")
    assert (uefi.name, uefi.type_guid, uefi.fstype) == ("ESP", layout.GUID["esp"], "vfat")
    assert (bios.name, bios.type_guid, bios.fstype) == ("bios-boot", layout.GUID["bios"], "")


def test_small_disk_is_refused():
    assert problems_of("fresh-dhcp", "small-disk") == [
        "primary disk /dev/sda is 40.0 GiB; at least 46 GiB is needed (the host's own partitions take 41.5 GiB)"]


def test_disk_exactly_at_minimum_fits():
    m = machine("small-disk")
    m.disks[0].size = layout.MIN_PRIMARY_DISK
    cfg, _ = parse_file(EXAMPLES / "fresh-dhcp.xml")
    p = make_plan(cfg, m, FIXED_IDS)
    assert p.primary().part("sr").size_mib == 46 * 1024 - 1 - 42497


def test_two_disks_guest_disk_and_sr_devices():
    p = make_plan(cfg_of("<primary-disk>sda</primary-disk><guest-disk>sdb</guest-disk>", '<installation sr-type="lvm">'),
                  machine("uefi-3disks"), FIXED_IDS)
    assert [(d.path, d.role) for d in p.disks] == [("/dev/sda", "primary"), ("/dev/sdb", "guest")]
    assert p.sr.devices == ["/dev/sda3", "/dev/sdb1"] and p.sr.type == "lvm"
    assert [d.path for d in p.disks if d.wipe] == ["/dev/sda", "/dev/sdb"]  # sdc untouched


def test_no_guest_storage_means_no_partition_3():
    p = make_plan(cfg_of('<primary-disk guest-storage="no">sda</primary-disk>'), machine("bios-1disk"), FIXED_IDS)
    assert p.primary().part("sr") is None and p.sr is None


def test_sr_at_end_no_puts_sr_after_logs():
    p = make_plan(cfg_of('<primary-disk sr-at-end="no">sda</primary-disk>'), machine("bios-1disk"), FIXED_IDS)
    assert [x.number for x in p.primary().partitions] == [5, 3, 2, 1, 4, 6]


def test_preserved_first_partition_shifts_numbers_everywhere():
    from installer.machine import Partition
    m = machine("bios-1disk")
    m.disks[0].partitions = [Partition(1, MIB, 100 * MIB, type="de", label="DellUtility")]
    p = make_plan(cfg_of("<primary-disk>sda</primary-disk>"), m, FIXED_IDS)
    disk = p.primary()
    assert disk.keep == [1] and disk.partitions[0].start_mib == 101
    assert disk.part("root").number == 2
    actions = [a for s in p.steps for a in s.actions]
    assert "mount /dev/sda2 as the target root" in actions and "mount /dev/sda6 on /var/log" in actions
    assert any(a.startswith("install GRUB for BIOS: boot code on /dev/sda, core image in /dev/sda5") for a in actions)


def test_preserved_first_partition_too_large_is_a_plan_error():
    cfg = cfg_of('<primary-disk preserve-first-partition="true">sda</primary-disk>')
    assert problems_of(cfg, "installed-bios") == [
        "primary disk /dev/sda: the host's partitions (41.5 GiB and the local SR) do not fit after the "
        "preserved first partition, which ends at 40961 MiB"]


def test_tiny_guest_disk_is_a_plan_error():
    m = machine("uefi-3disks")
    m.disks[1].size = 2 * MIB
    cfg = cfg_of("<primary-disk>sda</primary-disk><guest-disk>sdb</guest-disk>")
    with pytest.raises(PlanError) as info:
        make_plan(cfg, m, FIXED_IDS)
    assert info.value.problems == ["guest disk /dev/sdb is 2 MiB; at least 4 MiB is needed"]


def test_nvme_partition_names():
    p = plan_of("ipv6", "nvme-uefi")
    assert p.primary().path == "/dev/nvme0n1" and p.sr.devices == ["/dev/nvme0n1p3"]
    assert "mount /dev/nvme0n1p1 as the target root" in [a for s in p.steps for a in s.actions]


def test_4kn_disk_plans_with_mib_alignment():
    p = make_plan(cfg_of("<primary-disk>sda</primary-disk>"), machine("4kn-uefi"), FIXED_IDS)
    assert all((x.start_mib * MIB) % 4096 == 0 for x in p.primary().partitions)
    assert p.warnings == []  # UEFI boots 4Kn disks


def test_4kn_disk_on_bios_warns():
    m = machine("4kn-uefi")
    m.boot_mode = "bios"
    p = make_plan(cfg_of("<primary-disk>sda</primary-disk>"), m, FIXED_IDS)
    assert any("4096-byte sectors" in w for w in p.warnings)


def test_raid1_uses_smallest_member_and_partitions_md():
    p = plan_of("raid1", "raid-2disks")
    assert p.raid.members == ["/dev/sda", "/dev/sdb"] and p.raid.level == 1
    assert p.raid.size == (100 * 1024 - 1) * MIB
    members = [d for d in p.disks if d.role == "raid-member"]
    assert [(d.path, d.table, d.partitions) for d in members] == [("/dev/sda", "", []), ("/dev/sdb", "", [])]
    assert p.primary().path == "/dev/md127" and p.sr.devices == ["/dev/md127p3"]


def test_raid_member_cannot_be_guest_disk():
    with pytest.raises(ConfigError) as info:
        cfg_of('<raid device="md127"><disk>sda</disk><disk>sdb</disk></raid>'
               '<primary-disk>md127</primary-disk><guest-disk>sdb</guest-disk>')
    assert "/dev/sdb is a RAID member and cannot also be a guest disk" in str(info.value)


def test_missing_disk_names_what_exists():
    assert problems_of(cfg_of("<primary-disk>sdz</primary-disk>"), "bios-1disk") == [
        "primary disk /dev/sdz does not exist on this machine; disks present: sda (64.0 GiB, QEMU HARDDISK)"]


def test_same_disk_by_two_names_as_primary_disks_is_refused():
    cfg = cfg_of('<raid device="md127"><disk>sda</disk><disk>disk/by-id/ata-QEMU_HARDDISK_QM00001</disk></raid>'
                 "<primary-disk>md127</primary-disk>")
    assert problems_of(cfg, "uefi-3disks") == ["RAID member /dev/sda is already used as RAID member"]


def test_install_media_cannot_be_a_target():
    cfg = cfg_of("<primary-disk>sda</primary-disk><guest-disk>sdb</guest-disk>")
    assert problems_of(cfg, "usb-media") == [
        "guest disk /dev/sdb holds the installer media; choose another disk",
        "guest disk /dev/sdb is in use: /dev/sdb1 is mounted at /run/install/media"]


def test_missing_nic_names_what_exists():
    cfg = parse_text('<installation><source type="local"/><primary-disk>sda</primary-disk>'
                     '<admin-interface hwaddr="00:11:22:33:44:55" proto="dhcp"/></installation>')[0]
    assert problems_of(cfg, "bios-1disk") == [
        "management interface 00:11:22:33:44:55 does not exist on this machine; NICs present: eth0 (52:54:00:12:34:56)"]


def test_match_selects_by_serial_and_refuses_ambiguity():
    p = plan_of("select-by-serial", "nvme-uefi")
    assert [(d.path, d.role) for d in p.disks] == [("/dev/nvme0n1", "primary"), ("/dev/nvme1n1", "guest")]
    cfg = cfg_of('<primary-disk><match model="QEMU HARDDISK"/></primary-disk>')
    assert problems_of(cfg, "uefi-3disks") == [
        "primary disk: 3 disks (sda, sdb, sdc) match model=QEMU HARDDISK; exactly one must match; disks "
        "present: sda (100.0 GiB, QEMU HARDDISK), sdb (500.0 GiB, QEMU HARDDISK), sdc (1000.0 GiB, QEMU HARDDISK)"]


def test_upgrade_of_existing_layout_keeps_everything_and_reuses_suffix():
    p = plan_of("upgrade", "installed-bios")
    disk = p.primary()
    assert (disk.path, disk.role, disk.wipe, disk.keep) == ("/dev/sda", "existing", False, [1, 2, 3, 4, 5, 6])
    assert p.ids.suffix == "k3x9qa"
    assert [s.name for s in p.steps] == ["prepare", "backup", "laydown", "bootloader", "configure", "finish"]
    assert not any("wipe" in a for s in p.steps for a in s.actions)


def test_upgrade_of_blank_disk_is_refused():
    assert problems_of("upgrade", "bios-1disk") == [
        "existing installation /dev/sda cannot be upgraded: no installation found (partition 1 must be an "
        "ext4 file system labelled root-*; found no partition 1)"]


def test_upgrade_in_other_boot_mode_is_refused():
    m = machine("installed-bios")
    m.boot_mode = "uefi"
    cfg, _ = parse_file(EXAMPLES / "upgrade.xml")
    with pytest.raises(PlanError) as info:
        make_plan(cfg, m, FIXED_IDS)
    assert info.value.problems == [
        "existing installation /dev/sda cannot be upgraded: installed for BIOS boot, but the installer was "
        "booted in UEFI mode; boot the installer in BIOS mode"]


def test_restore_finds_the_only_backup_without_backup_disk():
    cfg = parse_text("<restore/>")[0]
    p = make_plan(cfg, machine("installed-bios"), FIXED_IDS)
    assert p.primary().path == "/dev/sda" and [s.name for s in p.steps][:2] == ["prepare", "restore"]


def test_reinstall_backs_up_when_layout_matches():
    cfg = cfg_of("<primary-disk>sda</primary-disk>", '<installation mode="reinstall">')
    p = make_plan(cfg, machine("installed-bios"), FIXED_IDS)
    assert p.primary().keep == [2]
    assert [s.name for s in p.steps][:3] == ["prepare", "backup", "partition"]
    assert "except partition(s) 2" in p.steps[2].actions[0]


def test_reinstall_without_existing_install_warns():
    cfg = cfg_of("<primary-disk>sdb</primary-disk>", '<installation mode="reinstall">')
    p = make_plan(cfg, machine("installed-bios"), FIXED_IDS)
    assert "backup" not in [s.name for s in p.steps]
    assert p.warnings[0].startswith('mode="reinstall": no existing installation on /dev/sdb')


@pytest.mark.parametrize("ram,expected", [(4096, 1232), (8192, 1440), (65536, 4304), (262144, 8192)])
def test_dom0_memory(ram, expected):
    assert layout.dom0_memory_mib(ram) == expected


def test_dom0_vcpus_capped():
    assert [layout.dom0_vcpus(n) for n in (1, 4, 16, 64)] == [1, 4, 16, 16]


def test_hardware_warnings():
    m = dataclasses.replace(machine("bios-1disk"), memory_mib=768, virtualization="")
    cfg, _ = parse_file(EXAMPLES / "fresh-dhcp.xml")
    assert make_plan(cfg, m, FIXED_IDS).warnings == [
        "this machine has 768 MiB of RAM; at least 1024 MiB is needed to run guests",
        "the CPU shows no hardware virtualization (VT-x/AMD-V): only PV guests will run"]


def test_hooks_appear_as_steps_in_order():
    p = plan_of("hooks", "usb-media")
    names = [s.name for s in p.steps]
    assert names == ["prepare", "hooks-installation-start", "partition", "filesystems", "laydown",
                     "hooks-filesystem-populated", "bootloader", "configure", "finish",
                     "hooks-installation-complete"]
    assert p.steps[5].actions == ["run filesystem-populated script http://192.0.2.5/hooks/populated.sh "
                                  "/tmp/installer/target"]


def test_openvswitch_backend_renders_an_ovs_bridge_with_the_vlan_as_an_internal_port():
    cfg, _ = parse_text('<installation><primary-disk>sda</primary-disk><source type="local"/>'
                     '<admin-interface name="eth0" proto="static" vlan="42"><ipaddr>192.0.2.10</ipaddr>'
                     '<subnet>255.255.255.0</subnet><gateway>192.0.2.1</gateway></admin-interface>'
                     '<network-backend>openvswitch</network-backend></installation>')
    plan = make_plan(cfg, machine("bios-1disk"), FIXED_IDS)
    text = next(f.content for f in plan.files if f.path == "/etc/network/interfaces")
    assert "ovs_type OVSBridge\n\tovs_ports eth0 xenbr0.42" in text
    assert "iface xenbr0.42 inet static\n\tovs_bridge xenbr0\n\tovs_type OVSIntPort\n\tovs_options tag=42\n" \
           "\taddress 192.0.2.10/24\n\tgateway 192.0.2.1" in text
    assert "bridge_ports" not in text


# -- what an install erases (issue 15) ---------------------------------------------------------------

def installed_machine():
    """installed-bios with what the probe reads: the installation's version, and a local SR volume
    group that also spans the whole second disk."""
    from installer.machine import Installation
    m = machine("installed-bios")
    m.installations = [Installation("sda", "Xenhost", "8.3.0")]
    m.disks[0].partitions[2].vg, m.disks[0].partitions[2].lv_count = "VG_XenStorage-0ld", 3
    m.disks[1].signatures, m.disks[1].vg, m.disks[1].lv_count = ["LVM2_member"], "VG_XenStorage-0ld", 3
    return m


SDA_HOLDS = ["an installation of Xenhost 8.3.0 (partition 1, root-k3x9qa)",
             "the backup of an earlier installation (partition 2, backup-k3x9qa)",
             "volume group VG_XenStorage-0ld with 3 logical volumes (partition 3; it also spans /dev/sdb)",
             "ext4 file system labelled logs-k3x9qa (partition 5)",
             "swap space labelled swap-k3x9qa (partition 6)",
             "a partition table (GPT, 6 partitions)"]
SDB_HOLDS = ["volume group VG_XenStorage-0ld with 3 logical volumes (the whole disk; it also spans "
             "/dev/sda partition 3)"]


def test_plan_names_what_each_erased_disk_holds():
    cfg = cfg_of("<primary-disk>sda</primary-disk><guest-disk>sdb</guest-disk>")
    p = make_plan(cfg, installed_machine(), FIXED_IDS)
    assert [(d.path, d.holds) for d in p.disks] == [("/dev/sda", SDA_HOLDS), ("/dev/sdb", SDB_HOLDS)]
    assert p.warnings == ["primary disk /dev/sda will be ERASED, destroying " + "; ".join(SDA_HOLDS),
                          "guest disk /dev/sdb will be ERASED, destroying " + "; ".join(SDB_HOLDS)]
    assert p.to_dict()["disks"][0]["holds"] == SDA_HOLDS          # plan --json


def test_plan_text_lists_the_losses_under_each_disk():
    from installer.session import render_plan
    cfg = cfg_of("<primary-disk>sda</primary-disk><guest-disk>sdb</guest-disk>")
    text = render_plan(make_plan(cfg, installed_machine(), FIXED_IDS))
    assert ("Disk /dev/sda (64.0 GiB) - primary, will be ERASED\n  it holds today, and will lose:\n"
            + "".join(f"    - {h}\n" for h in SDA_HOLDS)) in text
    assert "WARNING: guest disk /dev/sdb will be ERASED, destroying volume group VG_XenStorage-0ld" in text


def test_empty_disks_and_empty_tables_are_not_reported():
    m = machine("uefi-3disks")
    m.disks[1].table, m.disks[1].signatures = "gpt", ["gpt"]       # a partition table, no partitions
    p = make_plan(cfg_of("<primary-disk>sda</primary-disk><guest-disk>sdb</guest-disk>",
                         '<installation existing-data="refuse">'), m, FIXED_IDS)
    assert [d.holds for d in p.disks] == [[], []] and p.warnings == []


def test_unknown_version_unlabelled_and_unread_contents_are_still_named():
    from installer.machine import Partition
    m = machine("uefi-3disks")
    m.disks[1].table = "dos"
    m.disks[1].partitions = [Partition(1, MIB, GIB, type="83", fstype="xfs"),
                             Partition(2, GIB + MIB, GIB, type="8e", fstype="LVM2_member"),
                             Partition(3, 2 * GIB + MIB, GIB, type="83")]
    m.disks[2].signatures, m.disks[2].label = ["ext4"], "scratch"
    p = make_plan(cfg_of("<primary-disk>sda</primary-disk><guest-disk>sdb</guest-disk><guest-disk>sdc</guest-disk>"),
                  m, FIXED_IDS)
    assert [d.holds for d in p.disks[1:]] == [
        ["xfs file system without a label (partition 1)",
         "an LVM physical volume, volume group not read (partition 2)",
         "a partition table (MBR, 3 partitions)"],
        ["ext4 file system labelled scratch (the whole disk)"]]


def test_existing_data_refuse_is_a_plan_error_naming_disk_and_contents():
    cfg = cfg_of("<primary-disk>sda</primary-disk><guest-disk>sdb</guest-disk>",
                 '<installation existing-data="refuse">')
    assert problems_of(cfg, "installed-bios") == [
        "primary disk /dev/sda holds data and existing data is protected (existing-data=\"refuse\" or "
        "existing_data=refuse at boot): an installation (version not read) (partition 1, root-k3x9qa); "
        "the backup of an earlier installation (partition 2, backup-k3x9qa); volume group "
        "VG_XenStorage-7a1c2f34-9d0e-4b51-8c6a-2f1e3d4c5b6a with 4 logical volumes (partition 3); ext4 file system labelled logs-k3x9qa (partition 5); swap "
        "space labelled swap-k3x9qa (partition 6); a partition table (GPT, 6 partitions); nothing was "
        "touched. Choose an empty disk, clear this one first, or allow erasing it"]
    with pytest.raises(PlanError) as info:
        make_plan(cfg, installed_machine(), FIXED_IDS)
    assert [p.split(" holds data")[0] for p in info.value.problems] == ["primary disk /dev/sda", "guest disk /dev/sdb"]


def test_existing_data_refuse_also_guards_raid_members():
    m = machine("raid-2disks")
    from installer.machine import Partition
    m.disks[1].table, m.disks[1].partitions = "gpt", [Partition(1, MIB, GIB, fstype="ntfs", label="Windows")]
    cfg, _ = parse_file(EXAMPLES / "raid1.xml")
    cfg.existing_data = "refuse"
    with pytest.raises(PlanError) as info:
        make_plan(cfg, m, FIXED_IDS)
    assert info.value.problems[0].startswith(
        f"RAID member {m.disks[1].path} holds data and existing data is protected")
    assert "ntfs file system labelled Windows (partition 1)" in info.value.problems[0]


@pytest.mark.parametrize("in_file,at_boot,refused", [
    ("erase", None, False), ("erase", "refuse", True), ("refuse", "erase", True), ("refuse", None, True)])
def test_the_stricter_of_answer_file_and_boot_line_wins(in_file, at_boot, refused):
    from installer import cmdline
    cfg = cfg_of("<primary-disk>sda</primary-disk>", f'<installation existing-data="{in_file}">')
    cfg = cmdline.applied(cfg, cmdline.parse(f"existing_data={at_boot}" if at_boot else "")[0])
    if refused:
        assert problems_of(cfg, "installed-bios")[0].startswith("primary disk /dev/sda holds data")
    else:
        assert make_plan(cfg, machine("installed-bios"), FIXED_IDS).primary().holds


def test_reinstall_keeps_the_installation_as_the_backup_and_says_what_goes():
    cfg = cfg_of("<primary-disk>sda</primary-disk>", '<installation mode="reinstall">')
    p = make_plan(cfg, installed_machine(), FIXED_IDS)
    assert p.primary().holds == SDA_HOLDS[1:]       # the installation survives in partition 2


def test_a_preserved_first_partition_is_not_reported_as_lost():
    from installer.machine import Partition
    m = machine("bios-1disk")
    m.disks[0].table = "gpt"
    m.disks[0].partitions = [Partition(1, MIB, 100 * MIB, type="de", fstype="vfat", label="DellUtility"),
                             Partition(2, 101 * MIB, GIB, fstype="ext4", label="old")]
    p = make_plan(cfg_of("<primary-disk>sda</primary-disk>"), m, FIXED_IDS)
    assert p.primary().holds == ["ext4 file system labelled old (partition 2)",
                                 "a partition table (GPT, 2 partitions)"]


def test_upgrade_and_restore_erase_nothing_and_name_nothing():
    for example in ("upgrade", "restore"):
        p = plan_of(example, "installed-bios")
        assert p.primary().holds == [] and not any("ERASED" in w for w in p.warnings)


def test_install_dry_run_shows_the_losses_on_the_console_in_events_and_log(tmp_path):
    import json
    import subprocess
    import sys

    from helpers import ROOT
    (tmp_path / "m.json").write_text(installed_machine().to_json())
    (tmp_path / "a.xml").write_text(xml("<primary-disk>sda</primary-disk><guest-disk>sdb</guest-disk>"))
    events, log = tmp_path / "events.jsonl", tmp_path / "installer.log"
    res = subprocess.run([sys.executable, "-m", "installer", "--log", str(log), "install", str(tmp_path / "a.xml"),
                          "--machine", str(tmp_path / "m.json"), "--dry-run", "--events", str(events)],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    want = "primary disk /dev/sda will be ERASED, destroying an installation of Xenhost 8.3.0"
    assert f"WARNING: {want}" in res.stderr
    warnings = [e for e in map(json.loads, events.read_text().splitlines()) if e["type"] == "warning"]
    assert any(e["step"] == "plan" and e["message"].startswith(want) for e in warnings)
    assert f"WARNING installer.engine: plan: {want}" in log.read_text()


# -- guest disks are a set, as in XCP-ng --------------------------------------------------------------

def test_primary_disk_named_again_as_guest_disk_by_id_puts_the_sr_on_it():
    cfg = cfg_of('<primary-disk guest-storage="no">sda</primary-disk>'
                 "<guest-disk>disk/by-id/ata-QEMU_HARDDISK_QM00001</guest-disk>")
    p = make_plan(cfg, machine("uefi-3disks"), FIXED_IDS)
    assert [(d.path, d.role) for d in p.disks] == [("/dev/sda", "primary")]
    assert p.sr.devices == ["/dev/sda3"] and p.primary().part("sr") is not None
    assert p.warnings == ["guest disk /dev/disk/by-id/ata-QEMU_HARDDISK_QM00001 is the primary disk /dev/sda: "
                          "as in XCP-ng, this puts the local SR on the primary disk, overriding "
                          "guest-storage=\"no\""]


def test_a_guest_disk_reached_twice_is_used_once():
    cfg = cfg_of('<primary-disk>sda</primary-disk><guest-disk>sdb</guest-disk>'
                 '<guest-disk><match serial="QM00002"/></guest-disk>')
    p = make_plan(cfg, machine("uefi-3disks"), FIXED_IDS)
    assert [(d.path, d.role) for d in p.disks] == [("/dev/sda", "primary"), ("/dev/sdb", "guest")]
    assert p.sr.devices == ["/dev/sda3", "/dev/sdb1"]
    assert p.warnings == ["guest disk disk matching serial=QM00002 is /dev/sdb, already a guest disk; it is "
                          "used once, as in XCP-ng"]


def test_raid_member_reached_as_guest_disk_stays_an_error():
    cfg, _ = parse_file(EXAMPLES / "raid1.xml")
    from installer.config import DiskRef
    m = machine("raid-2disks")
    cfg.guest_disks = [DiskRef(path="/dev/disk/by-id/" + m.disks[1].by_id[0])]
    assert f"guest disk {m.disks[1].path} is already used as RAID member" in problems_of(cfg, "raid-2disks")


# -- <bootloader location="partition"> -----------------------------------------------------------------

def test_bootloader_on_the_root_partition_is_planned_and_warned_on_bios():
    p = make_plan(cfg_of('<primary-disk>sda</primary-disk><bootloader location="partition"/>'),
                  machine("bios-1disk"), FIXED_IDS)
    step = next(s for s in p.steps if s.name == "bootloader")
    assert step.actions[0] == ("install GRUB for BIOS: boot code on /dev/sda1 (its first sector; the MBR of "
                               "/dev/sda is not written), core image in /dev/sda4")
    assert p.warnings == ['<bootloader location="partition">: GRUB\'s boot code goes into the first sector '
                          "of the root partition /dev/sda1, and the boot code in the MBR of /dev/sda is left "
                          "as it is: the host boots only if another boot loader chainloads that partition"]


def test_bootloader_location_is_irrelevant_on_uefi():
    p = make_plan(cfg_of('<primary-disk>sda</primary-disk><bootloader location="partition"/>'),
                  machine("uefi-3disks"), FIXED_IDS)
    assert p.warnings == ['<bootloader location="partition"> has no effect on UEFI: GRUB goes into the EFI '
                          "system partition whatever the location"]
    assert "install GRUB for UEFI" in next(s for s in p.steps if s.name == "bootloader").actions[0]


def test_a_second_source_is_refused_before_anything_is_touched():
    cfg = cfg_of('<primary-disk>sda</primary-disk><source type="url">ftp://192.0.2.5/pack</source>')
    assert len(cfg.sources) == 2
    with pytest.raises(PlanError) as info:
        make_plan(cfg, machine("uefi-3disks"), FIXED_IDS)
    assert info.value.problems == ["additional package sources (supplemental packs) are not supported yet: "
                                   "give one <source> (found 2); nothing was touched"]
