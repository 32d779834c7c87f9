"""python -m installer as users run it: exit codes, messages, JSON."""
import dataclasses
import json
import subprocess
import sys

import pytest
from helpers import EXAMPLES, MACHINES, ROOT


def cli(*args, check=None):
    res = subprocess.run([sys.executable, "-m", "installer", *map(str, args)], cwd=ROOT,
                         capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if check is not None:
        assert res.returncode == check, res.stderr
    return res


def test_validate_all_examples():
    res = cli("validate", *sorted(EXAMPLES.glob("*.xml")), check=0)
    assert res.stdout.count(": valid (") == len(list(EXAMPLES.glob("*.xml")))


def test_validate_bad_file_exits_1_with_position(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text('<installation>\n  <primary-disk>sda</primary-disk>\n  <colour>blue</colour>\n</installation>\n')
    res = cli("validate", bad, check=1)
    assert f"{bad}:3:3: error: unknown element <colour> in <installation>" in res.stderr
    assert "Traceback" not in res.stderr


def test_validate_mixed_files_reports_each(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<installation>")
    res = cli("validate", EXAMPLES / "fresh-dhcp.xml", bad, check=1)
    assert "fresh-dhcp.xml: valid (fresh)" in res.stdout and f"{bad}:1:15: error: malformed XML" in res.stderr


def test_validate_json_shows_neither_the_password_nor_its_hash():
    res = cli("validate", "--json", EXAMPLES / "fresh-dhcp.xml", check=0)
    data = json.loads(res.stdout)
    assert data["root_password"] == {"hash": "********", "origin": "plaintext"}
    assert "changeme-now" not in res.stdout and "$6$" not in res.stdout
    assert data["primary_disk"]["disk"]["path"] == "/dev/sda"


def test_plan_text_and_json():
    res = cli("plan", EXAMPLES / "guest-disks-lvm.xml", "--machine", MACHINES / "uefi-3disks.json", check=0)
    assert ("Disk /dev/sdc (1000.0 GiB) - guest, will be ERASED\n  it holds no data today (blank, or an "
            "empty partition table)") in res.stdout
    assert "Local SR: lvm on /dev/sda3, /dev/sdb1, /dev/sdc1" in res.stdout
    res = cli("plan", EXAMPLES / "guest-disks-lvm.xml", "--machine", MACHINES / "uefi-3disks.json", "--json",
              "--reproducible", check=0)
    assert json.loads(res.stdout)["sr"]["devices"] == ["/dev/sda3", "/dev/sdb1", "/dev/sdc1"]


def test_plan_show_files_renders_templates():
    res = cli("plan", EXAMPLES / "static-vlan-ntp.xml", "--machine", MACHINES / "uefi-3disks.json",
              "--show-files", check=0)
    assert "--- /etc/network/interfaces" in res.stdout and "iface xenbr0.42 inet static" in res.stdout


def test_plan_error_exits_1():
    res = cli("plan", EXAMPLES / "fresh-dhcp.xml", "--machine", MACHINES / "small-disk.json", check=1)
    assert "plan error: primary disk /dev/sda is 40.0 GiB; at least 46 GiB is needed" in res.stderr


def test_bad_machine_file(tmp_path):
    m = tmp_path / "m.json"
    m.write_text('{"disks": [{"name": "sda"}]}')
    res = cli("plan", EXAMPLES / "fresh-dhcp.xml", "--machine", m, check=1)
    assert res.stderr == f"error: {m}: disks[0].size: missing (a required field)\n"


def test_install_dry_run_writes_events_and_log(tmp_path):
    events, log = tmp_path / "events.jsonl", tmp_path / "install.log"
    res = cli("--log", log, "install", EXAMPLES / "fresh-dhcp.xml", "--machine", MACHINES / "bios-1disk.json",
              "--dry-run", "--events", events, check=0)
    lines = [json.loads(x) for x in events.read_text().splitlines()]
    assert lines[-1]["type"] == "finished" and lines[-1]["status"] == "success"
    assert "[1/7] Preparing..." in res.stderr and "Installation finished successfully" in res.stderr
    assert "laydown: dry run: unpack Xenhost" in log.read_text()


def test_real_install_outside_the_installer_environment_is_refused_clearly():
    res = cli("install", EXAMPLES / "fresh-dhcp.xml", "--machine", MACHINES / "bios-1disk.json", check=2)
    assert "real installs run inside the installer environment" in res.stderr
    assert "--target-image" in res.stderr and "--dry-run" in res.stderr


def test_cmdline_command():
    res = cli("cmdline", "answerfile=http://192.0.2.5/a.xml atexit=shell sshpassword=topsecret", check=0)
    data = json.loads(res.stdout)
    assert data["answerfile"] == "http://192.0.2.5/a.xml" and data["atexit"] == "shell"
    assert "topsecret" not in res.stdout
    cli("cmdline", "answerfile=x rt_answerfile=y", check=1)


@pytest.mark.parametrize("args", [[], ["validate"], ["frobnicate"]])
def test_usage_errors_exit_2(args):
    assert cli(*args).returncode == 2


def test_log_file_masks_credentials(tmp_path):
    af = tmp_path / "a.xml"
    af.write_text((EXAMPLES / "fresh-dhcp.xml").read_text().replace(
        '<source type="local"/>', '<source type="url" repo-gpgcheck="no">http://deploy:S3cr3tPw@192.0.2.5/tree/</source>'))
    log, events = tmp_path / "install.log", tmp_path / "events.jsonl"
    res = cli("--log", log, "install", af, "--machine", MACHINES / "bios-1disk.json", "--dry-run",
              "--events", events, check=0)
    text = log.read_text() + res.stderr + events.read_text()
    assert "http://deploy:********@192.0.2.5/tree/ (signature check DISABLED" in log.read_text()
    assert "S3cr3tPw" not in text


def test_plan_applies_kernel_parameters():
    res = cli("plan", EXAMPLES / "fresh-dhcp.xml", "--machine", MACHINES / "bios-1disk.json",
              "--cmdline", "console=ttyS0 atexit=poweroff", check=0)
    assert "At the end: poweroff" in res.stdout
    res = cli("plan", EXAMPLES / "fresh-dhcp.xml", "--machine", MACHINES / "bios-1disk.json",
              "--cmdline", "atexit=halt", check=1)
    assert "<kernel command line>:1:1: error: atexit must be one of reboot, poweroff, shell" in res.stderr


def test_a_dry_run_does_not_pretend_to_preview_a_target_image(tmp_path):
    res = cli("install", "--dry-run", "--target-image", tmp_path / "t.img", EXAMPLES / "fresh-dhcp.xml", check=2)
    assert "cannot preview --target-image/--target-disk" in res.stderr
    assert not (tmp_path / "t.img").exists()


def test_a_refused_install_leaves_its_reason_in_the_log(tmp_path):
    """--log FILE used to stay empty on a refused plan: the refusal went to stderr only. Every error a
    command refuses in words is in the log too (the boot path logs its plan errors the same way)."""
    from installer import secureboot
    log = tmp_path / "install.log"
    res = cli("--log", log, "install", EXAMPLES / "fresh-dhcp.xml", "--machine", MACHINES / "uefi-secureboot.json",
              "--dry-run", check=1)
    assert f"plan error: {secureboot.REFUSAL}" in res.stderr
    text = log.read_text()
    assert f"ERROR installer.cli: {EXAMPLES / 'fresh-dhcp.xml'}: plan error: {secureboot.REFUSAL}" in text
    assert "primary disk /dev/sda does not exist on this machine" in text       # every problem, not the first
    bad = tmp_path / "bad.xml"                              # an invalid answer file: located, in the log
    bad.write_text("<installation>\n  <primary-disk>sda</primary-disk>\n  <frob/>\n</installation>\n")
    res = cli("--log", log, "plan", bad, "--machine", MACHINES / "bios-1disk.json", check=1)
    assert f"{bad}:3:" in res.stderr and f"{bad}:3:" in log.read_text()
    res = cli("--log", log, "plan", EXAMPLES / "fresh-dhcp.xml", "--machine", tmp_path / "none.json", check=1)
    assert res.stderr.startswith("error: ") and res.stderr.strip() in log.read_text()
    res = cli("plan", EXAMPLES / "fresh-dhcp.xml", "--machine", MACHINES / "uefi-secureboot.json", check=1)
    assert res.stderr.count(secureboot.REFUSAL) == 1                   # without --log: said once


def test_an_image_has_no_secure_boot_state_to_warn_about(monkeypatch):
    """An image has no firmware: its machine (--target-image's precheck, --virtual-nics inside the
    environment) takes Secure Boot as off, not as "could not be read" (a warning on every UEFI image)."""
    import argparse
    from helpers import parse_text
    from installer import cli as cli_mod, image_install, secureboot
    from installer.machine import Disk
    from installer.retarget import image_machine
    cfg, _ = parse_text((EXAMPLES / "fresh-dhcp.xml").read_text())
    m = image_machine(cfg, [Disk(name="loop0", size=64 * 1024 ** 3)], "uefi")
    assert m.secure_boot is False and not secureboot.unknown(m)
    plan = image_install.precheck(cfg, "host.img", 64 * 1024 ** 3, "uefi")
    assert not any("Secure Boot" in w for w in plan.warnings), plan.warnings
    seen = image_machine(cfg, [Disk(name="loop0", size=64 * 1024 ** 3)], "uefi")
    monkeypatch.setattr(cli_mod, "probe", lambda **kw: dataclasses.replace(seen, secure_boot=None))
    args = argparse.Namespace(target_disk="/dev/loop0", machine=None, virtual_nics=True, boot_mode="uefi")
    _, target = cli_mod._target(args, cfg)
    assert target.secure_boot is False and secureboot.verdict(target, "stop") == ("", [])


def test_boot_mode_with_a_recorded_machine_is_refused_not_ignored(tmp_path):
    res = cli("install", "--dry-run", EXAMPLES / "fresh-dhcp.xml", "--machine", MACHINES / "uefi-secureboot.json",
              "--boot-mode", "bios", check=2)
    assert "--boot-mode" in res.stderr and '"boot_mode"' in res.stderr and "--machine" in res.stderr
    assert "not with --machine" in " ".join(cli("install", "--help", check=0).stdout.split())
