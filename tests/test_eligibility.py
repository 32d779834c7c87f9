"""One rule for what can be upgraded or restored: installer/eligibility.py decides, the planner
(answer files) and the wizard both ask it, and they agree on every recorded machine, with the same
reasons."""
from __future__ import annotations

import ast
import dataclasses
import inspect

import pytest
from helpers import MACHINES, machine, parse_text

from installer import eligibility, holdings, plan as plan_mod, wizard
from installer.errors import PlanError
from installer.layout import GUID
from installer.machine import Installation, Machine
from installer.plan import FIXED_IDS, make_plan
from installer.product import Product

PRODUCT = Product(brand="Xenhost", version="8.3.0")
RECORDED = sorted(p.stem for p in MACHINES.glob("*.json"))

ANSWER_FILES = {
    "upgrade": '<installation mode="upgrade"><existing-installation>{disk}</existing-installation>'
               '<source type="local"/></installation>',
    "restore": "<restore><backup-disk>{disk}</backup-disk></restore>",
}
PLANNER_WHAT = {"upgrade": "existing installation", "restore": "backup disk"}
VERB = {"upgrade": "upgraded", "restore": "restored"}


def wizard_says(m: Machine, action: str, disk: str) -> str | None:
    """None when the wizard lets this action through, else its reason (without the disk name)."""
    errors = wizard.check_install_type(wizard.Choices(action=action, existing_disk=disk), m, PRODUCT)
    if not errors:
        return None
    message = errors["action"]
    prefix = f"{disk} cannot be {VERB[action]}: "
    return message.removeprefix(prefix) if message.startswith(prefix) else message


def planner_says(m: Machine, action: str, disk: str) -> list[str] | None:
    """None when make_plan accepts the answer file, else its problems."""
    cfg = parse_text(ANSWER_FILES[action].format(disk=disk))[0]
    try:
        make_plan(cfg, m, FIXED_IDS, PRODUCT)
    except PlanError as exc:
        return exc.problems
    return None


def check_agreement(m: Machine) -> None:
    """For every disk and both actions: the wizard offers it exactly when the planner accepts it,
    and a refused installation is refused with the same reason."""
    listed = {e.disk for e in eligibility.existing(m, PRODUCT)}
    assert wizard.applies("install-type", wizard.Choices(), m, PRODUCT) == bool(listed)
    for disk in m.disks:
        for action in ("upgrade", "restore"):
            wizard_reason, problems = wizard_says(m, action, disk.name), planner_says(m, action, disk.name)
            where = f"{action} of {disk.name}"
            if wizard_reason is None:
                assert problems is None, f"{where}: the wizard offers it, the planner refuses: {problems}"
                choices = wizard.Choices(action=action, existing_disk=disk.name)
                make_plan(wizard.to_config(choices, m), m, FIXED_IDS, PRODUCT)   # the wizard's own config too
            elif disk.name not in listed:
                assert wizard_reason == "choose an installation"
                assert problems, f"{where}: the wizard lists no installation there, the planner accepts"
            else:
                assert problems == [f"{PLANNER_WHAT[action]} /dev/{disk.name} cannot be {VERB[action]}: "
                                    f"{wizard_reason}"], where


@pytest.mark.parametrize("name", RECORDED)
def test_wizard_and_planner_agree_on_every_recorded_machine(name):
    check_agreement(machine(name))


# -- the decisions, as a table -------------------------------------------------------------------
def installed(**changes) -> Machine:
    """installed-bios (an installation on sda, its backup, BIOS boot) with what the probe read."""
    m = machine("installed-bios")
    m.installations = [Installation("sda", "Xenhost", "8.3.0")]
    return dataclasses.replace(m, **changes)


def read_as(**fields) -> Machine:
    return installed(installations=[Installation("sda", **{"product": "Xenhost", "version": "8.3.0", **fields})])


def without_backup_partition() -> Machine:
    m = installed()
    m.disks[0].partitions = [p for p in m.disks[0].partitions if p.number != 2]
    return m


def backup_not_ext4() -> Machine:
    m = installed()
    m.disks[0].partition(2).fstype = ""
    return m


def installed_for_uefi(boot_mode: str) -> Machine:
    m = installed(boot_mode=boot_mode)
    m.disks[0].partition(4).type = GUID["esp"]
    return m


def busy() -> Machine:
    m = installed()
    m.disks[0].in_use = ["/dev/sda1 is mounted at /mnt"]
    return m


BIOS_ON_UEFI = ("installed for BIOS boot, but the installer was booted in UEFI mode; boot the installer "
                "in BIOS mode")
BACKUP_BIOS_ON_UEFI = ("the backup was made for BIOS boot, but the installer was booted in UEFI mode; "
                       "boot the installer in BIOS mode")
NO_INSTALLATION = ("no installation found (partition 1 must be an ext4 file system labelled root-*; "
                   "found no partition 1)")

CASES = [   # machine, why no upgrade ("" = offered), why no restore ("" = offered)
    ("same version (a repair)", installed, "", ""),
    ("older version", lambda: read_as(version="8.2.1"), "", ""),
    ("8.3 is 8.3.0", lambda: read_as(version="8.3"), "", ""),
    ("newer version", lambda: read_as(version="8.3.1"),
     "version 8.3.1 is newer than this installer's 8.3.0", ""),
    ("newer major version", lambda: read_as(version="10.0"),
     "version 10.0 is newer than this installer's 8.3.0", ""),
    ("first boot never finished", lambda: read_as(booted=False),
     "this installation never completed its first boot", ""),
    ("other product", lambda: read_as(product="XCP-ng"),
     "it is an installation of XCP-ng, not of Xenhost", ""),
    ("inventory unreadable", lambda: read_as(product="", version="", booted=False),
     "its product and version could not be read (/etc/xensource-inventory)", ""),
    ("not read by the probe (recorded without it)", lambda: installed(installations=[]), "", ""),
    ("BIOS installation, UEFI installer", lambda: installed(boot_mode="uefi"), BIOS_ON_UEFI, BACKUP_BIOS_ON_UEFI),
    ("UEFI installation, UEFI installer", lambda: installed_for_uefi("uefi"), "", ""),
    ("UEFI installation, BIOS installer", lambda: installed_for_uefi("bios"),
     "installed for UEFI boot, but the installer was booted in BIOS mode; boot the installer in UEFI mode",
     "the backup was made for UEFI boot, but the installer was booted in BIOS mode; boot the installer "
     "in UEFI mode"),
    ("no backup partition", without_backup_partition,
     "no backup partition (2) to keep the current installation in",
     "no backup found (partition 2 must be an ext4 file system; found no partition 2)"),
    ("backup partition empty", backup_not_ext4, "",
     "no backup found (partition 2 must be an ext4 file system; found no file system)"),
    ("disk in use", busy, "in use: /dev/sda1 is mounted at /mnt", "in use: /dev/sda1 is mounted at /mnt"),
]


@pytest.mark.parametrize("make,upgrade,restore", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_what_can_be_upgraded_and_restored(make, upgrade, restore):
    m = make()
    sda = m.disks[0]
    assert eligibility.upgrade_refused(sda, m, PRODUCT) == upgrade
    assert eligibility.restore_refused(sda, m) == restore
    [found] = eligibility.existing(m, PRODUCT)
    assert (found.disk, found.can_upgrade, found.can_restore) == ("sda", not upgrade, not restore)
    assert found.has_backup == (eligibility.backup(sda) is not None)
    if m.disks[0].in_use:
        # the planner names a busy disk as it names any busy disk, once; the reason is in it
        assert "is in use: /dev/sda1 is mounted at /mnt" in planner_says(m, "upgrade", "sda")[0]
        assert wizard_says(m, "upgrade", "sda") == upgrade
    else:
        check_agreement(m)


def test_a_disk_without_an_installation_is_not_listed_and_says_why():
    m = machine("bios-1disk")
    assert eligibility.existing(m, PRODUCT) == []
    assert eligibility.upgrade_refused(m.disks[0], m, PRODUCT) == NO_INSTALLATION
    assert eligibility.restore_refused(m.disks[0], m) == NO_INSTALLATION
    assert planner_says(m, "upgrade", "sda") == [f"existing installation /dev/sda cannot be upgraded: {NO_INSTALLATION}"]


def test_a_root_labelled_partition_that_is_not_ext4_is_no_installation():
    m = installed()
    m.disks[0].partition(1).fstype = "xfs"
    assert eligibility.root(m.disks[0]) is None and eligibility.existing(m, PRODUCT) == []
    assert "found xfs labelled root-k3x9qa" in eligibility.upgrade_refused(m.disks[0], m, PRODUCT)


def test_restore_without_a_named_disk_needs_exactly_one_backup():
    m = installed()
    assert [d.name for d in eligibility.backup_disks(m)] == ["sda"]
    make_plan(parse_text("<restore/>")[0], m, FIXED_IDS, PRODUCT)
    second = dataclasses.replace(m.disks[0], name="sdc", partitions=[dataclasses.replace(p) for p in m.disks[0].partitions])
    m.disks.append(second)
    with pytest.raises(PlanError) as info:
        make_plan(parse_text("<restore/>")[0], m, FIXED_IDS, PRODUCT)
    assert info.value.problems == ["restore: 2 disks carry a backup (sda, sdc); name one with <backup-disk>"]


@pytest.mark.parametrize("shift,refused", [(0, ""), (2**20, "the existing layout has no backup partition where "
                                           "the new layout puts one, so the existing installation "
                                           "cannot be backed up")])
def test_reinstall_keeps_the_installation_only_where_the_new_backup_partition_lands(shift, refused):
    m = installed()
    m.disks[0].partition(2).start += shift
    cfg = parse_text('<installation mode="reinstall"><primary-disk>sda</primary-disk><source type="local"/>'
                     '<root-password>changeme-now</root-password><admin-interface name="eth0" proto="dhcp"/>'
                     '</installation>')[0]
    if not refused:
        assert make_plan(cfg, m, FIXED_IDS, PRODUCT).primary().keep == [2]
        return
    with pytest.raises(PlanError) as info:
        make_plan(cfg, m, FIXED_IDS, PRODUCT)
    assert info.value.problems == [f'mode="reinstall": /dev/sda: {refused}; use mode="fresh" to discard it']


@pytest.mark.parametrize("module", [plan_mod, eligibility, holdings])
def test_the_planner_and_the_shared_rules_import_no_wizard_module(module):
    tree = ast.parse(inspect.getsource(module))
    imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for a in node.names}
    assert not imported & {"offers", "wizard", "ui"}, imported


def test_hardware_and_boot_warnings():
    m = Machine(boot_mode="bios", memory_mib=512, virtualization="")
    assert eligibility.hardware_warnings(m) == [
        "this machine has 512 MiB of RAM; at least 1024 MiB is needed to run guests",
        "the CPU shows no hardware virtualization (VT-x/AMD-V): only PV guests will run"]
    assert eligibility.boot_warnings(m) == [
        "the installer was booted in legacy BIOS mode: the host will boot in BIOS mode too; boot the "
        "installer in UEFI mode for a UEFI host"]
    good = Machine(boot_mode="uefi", memory_mib=8192, virtualization="vmx")
    assert eligibility.hardware_warnings(good) == [] and eligibility.boot_warnings(good) == []
    assert eligibility.hardware_warnings(Machine(memory_mib=0, virtualization="svm")) == []  # RAM unknown


NO_HAP = ("the CPU has {vt} but no {paging} (hardware-assisted paging): HVM and PVH guests will not run "
          "(Debian's Xen has no shadow paging), only PV guests; {paging} comes with the CPU model, firmware "
          "rarely has a switch for it; in a virtual machine, enable nested paging")


@pytest.mark.parametrize("virt,hap,warned", [
    ("vmx", True, []), ("svm", True, []),
    ("vmx", None, []), ("svm", None, []),          # not known (recorded before the probe read it): silent
    ("vmx", False, [NO_HAP.format(vt="VT-x", paging="EPT")]),
    ("svm", False, [NO_HAP.format(vt="AMD-V", paging="NPT")]),
    ("", False, ["the CPU shows no hardware virtualization (VT-x/AMD-V): only PV guests will run"]),
])
def test_hardware_assisted_paging_warning(virt, hap, warned):
    assert eligibility.hardware_warnings(Machine(memory_mib=8192, virtualization=virt, hap=hap)) == warned


def test_no_paging_is_a_plan_warning_and_the_wizard_shows_its_hardware_screen():
    m = dataclasses.replace(machine("uefi-3disks"), hap=False)
    assert not wizard.applies("hardware", wizard.Choices(), machine("uefi-3disks"), PRODUCT)
    assert wizard.applies("hardware", wizard.Choices(), m, PRODUCT)
    cfg = parse_text('<installation><primary-disk>sda</primary-disk><keymap>us</keymap><root-password>secret1'
                     '</root-password><source type="local"/><admin-interface name="eth0" proto="dhcp"/>'
                     '<timezone>UTC</timezone></installation>')[0]
    p = make_plan(cfg, m, FIXED_IDS, PRODUCT)
    assert NO_HAP.format(vt="VT-x", paging="EPT") in p.warnings
