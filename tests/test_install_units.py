"""Pure parts of real installs: sizes, mirror derivation, GPT renumbering, GRUB config and MBR patching."""
from __future__ import annotations

import os
import struct
import sys

import pytest

from installer import grub, image_install, layout, storage
from installer.errors import InstallerError
from installer.plantypes import DiskPlan
from installer.product import Product

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "image"))
from xhbuild import mirror  # noqa: E402


@pytest.mark.parametrize("text,value", [("64G", 64 << 30), ("46GiB", 46 << 30), ("512M", 512 << 20),
                                        ("1T", 1 << 40), ("1.5G", 3 << 29), ("4096", 4096)])
def test_sizes(text, value):
    assert image_install.parse_size(text) == value


@pytest.mark.parametrize("text", ["", "G", "64X", "-1G", "sixty"])
def test_bad_sizes_are_clear_errors(text):
    with pytest.raises(InstallerError, match="bad size"):
        image_install.parse_size(text)


def test_mirror_comes_from_the_machines_apt_configuration(tmp_path):
    d = tmp_path / "etc/apt/sources.list.d"
    d.mkdir(parents=True)
    (d / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.test/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\n\nTypes: deb\nURIs: http://mirror.test/debian-security\n"
        "Suites: bookworm-security\nComponents: main\n")
    (d / "other.list").write_text("deb [arch=amd64] https://vendor.test/apt stable main\n")
    m = mirror.derive(str(tmp_path))
    # the host lists main only: the build adds non-free-firmware (microcode, NIC firmware) itself
    assert m.sources() == ["deb http://mirror.test/debian trixie main non-free-firmware",
                           "deb http://mirror.test/debian trixie-updates main non-free-firmware",
                           "deb http://mirror.test/debian-security trixie-security main non-free-firmware"]


def test_one_line_sources_work_too_and_no_archive_is_an_error(tmp_path):
    (tmp_path / "etc/apt").mkdir(parents=True)
    with pytest.raises(SystemExit, match="no Debian archive"):
        mirror.derive(str(tmp_path))
    (tmp_path / "etc/apt/sources.list").write_text("deb http://m.test/debian bookworm main\n")
    assert mirror.derive(str(tmp_path)).archive == "http://m.test/debian"


DUMP = """label: gpt
label-id: 7F9B171D-9E74-4324-B8D1-B0CD4CD63A49
device: /dev/loop0
unit: sectors
first-lba: 34
last-lba: 134217694
sector-size: 512

/dev/loop0p1 : start=        2048, size=     8388608, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=AAAAAAAA-0000-4000-8000-000000000001
/dev/loop0p2 : start=     8390656, size=    37748736, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=AAAAAAAA-0000-4000-8000-000000000002
/dev/loop0p3 : start=    46139392, size=    37748736, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=AAAAAAAA-0000-4000-8000-000000000003
/dev/loop0p4 : start=    83888128, size=     1048576, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=AAAAAAAA-0000-4000-8000-000000000004
/dev/loop0p5 : start=    84936704, size=     2097152, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, uuid=AAAAAAAA-0000-4000-8000-000000000005
/dev/loop0p6 : start=    87033856, size=    47181824, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, uuid=AAAAAAAA-0000-4000-8000-000000000006
"""


def test_table_rewrite_gives_xcpng_numbers_names_and_types_keeping_places_and_guids():
    plan = _Plan("uefi")
    plan.disk.path = "/dev/loop0"
    out = storage.edit_dump(DUMP, plan.disk, renumber=True)
    assert out.splitlines()[:7] == DUMP.splitlines()[:7], "header (disk GUID) kept"
    rows = {line.split(" :")[0]: line for line in out.splitlines() if line.startswith("/dev/")}
    assert list(rows) == ["/dev/loop0p5", "/dev/loop0p2", "/dev/loop0p1", "/dev/loop0p4",
                          "/dev/loop0p6", "/dev/loop0p3"]
    assert 'start=        2048' in rows["/dev/loop0p5"] and 'name="logs"' in rows["/dev/loop0p5"]
    assert "uuid=AAAAAAAA-0000-4000-8000-000000000004" in rows["/dev/loop0p4"]
    assert "type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B" in rows["/dev/loop0p4"]
    again = storage.edit_dump(out, plan.disk, renumber=False)
    assert again == out, "a second pass with the plan's numbers changes nothing"


class _Plan:
    def __init__(self, boot_mode="bios"):
        self.product = Product()
        self.dom0_memory_mib, self.dom0_vcpus = 1440, 4
        parts = layout.primary_layout(64 << 30, boot_mode, "abc123")
        self.disk = DiskPlan("/dev/vda", "primary", 64 << 30, partitions=parts)

    def primary(self):
        return self.disk


def test_grub_config_entries_and_serial_default():
    from installer.config import InstallConfig
    cfg = InstallConfig()
    files = {"kernel": "vmlinuz-6.12", "initrd": "initrd.img-6.12", "xen": "xen-4.20-amd64.gz"}
    text = grub.grub_cfg(_Plan(), cfg, files)
    assert "set default=0" in text and "serial --unit" not in text
    assert "insmod all_video" in text          # a framebuffer for the direct Linux entry on UEFI
    assert text.count("multiboot2 /boot/xen-4.20-amd64.gz dom0_mem=1440M,max:1440M dom0_max_vcpus=1-4") == 3
    assert "root=LABEL=root-abc123" in text and "linux /boot/vmlinuz-6.12 root=LABEL=root-abc123" in text
    cfg.bootloader.serial_console = "ttyS1,57600n8"
    text = grub.grub_cfg(_Plan(), cfg, files)
    assert "serial --unit=1 --speed=57600" in text and "set default=1" in text
    assert "com2=57600,8n1 console=com2,vga" in text and "console=ttyS1,57600n8" in text


def test_a_boot_console_with_parity_and_data_bits_reaches_grub_xen_and_linux():
    """console=ttyS0,115200e7 on the installer's boot line made the host's default entry
    speed=1152007; parity and data bits are their own settings."""
    from installer import cmdline
    from installer.config import InstallConfig
    cfg = InstallConfig()
    cfg = cmdline.applied(cfg, cmdline.parse("console=tty0 console=ttyS0,115200e7")[0])
    files = {"kernel": "vmlinuz-6.12", "initrd": "initrd.img-6.12", "xen": "xen-4.20-amd64.gz"}
    text = grub.grub_cfg(_Plan(), cfg, files)
    assert "serial --unit=0 --speed=115200 --word=7 --parity=even --stop=1" in text
    assert "com1=115200,7e1 console=com1,vga" in text and "console=ttyS0,115200e7" in text
    assert "1152007" not in text
    assert grub.parse_serial("ttyS2") == {"tty": "ttyS2", "unit": 2, "speed": 115200, "parity": "no",
                                          "bits": 8, "xen": "8n1", "linux": "n8"}


def test_bios_boot_code_goes_to_the_mbr_and_core_image_to_the_bios_boot_partition(tmp_path):
    plan = _Plan("bios")
    disk = tmp_path / "disk.img"
    mbr = bytearray(512)
    mbr[0x1BE:0x1CE] = bytes([0, 0, 2, 0, 0xEE, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF])
    mbr[510:512] = b"\x55\xaa"
    with open(disk, "wb") as f:
        f.write(mbr)
        f.truncate(64 << 30)
    boot_img = tmp_path / "boot.img"
    boot_img.write_bytes(bytes(range(256)) * 2)
    core = tmp_path / "core.img"
    core.write_bytes(b"C" * 512 * 40 + b"tail")
    plan.disk.path = str(disk)
    grub._bios(plan.disk, str(boot_img), str(core))
    start = plan.disk.part("boot").start_mib * 2048
    data = open(disk, "rb").read(512)
    assert data[0x1BE:0x200] == bytes(mbr[0x1BE:0x200]), "the protective MBR partition table is kept"
    assert struct.unpack_from("<Q", data, 0x5C)[0] == start
    assert data[0x66:0x68] == b"\x90\x90" and data[0x64] == 0xFF
    with open(disk, "rb") as f:
        f.seek(start * 512)
        first = f.read(512)
    assert struct.unpack_from("<QH", first, 500) == (start + 1, 40), "blocklist: the rest of core.img"


def test_a_core_image_too_big_for_the_partition_is_refused(tmp_path):
    plan = _Plan("bios")
    plan.disk.part("boot").size_mib = 1
    core = tmp_path / "core.img"
    core.write_bytes(b"C" * (2 << 20))
    with pytest.raises(InstallerError, match="does not fit"):
        grub._bios(plan.disk, str(tmp_path / "none"), str(core))


def test_remote_tree_file_names_cannot_leave_the_download_directory(tmp_path):
    from installer.tree import Tree
    tree = Tree("http://127.0.0.1:9/tree", cache_dir=str(tmp_path))
    for name in ("../../etc/passwd", "/etc/passwd", "pool/../../x"):
        with pytest.raises(InstallerError, match="refusing the file name"):
            tree.copy(name)


def test_url_credentials_become_basic_auth_and_a_secret():
    from installer.runner import SECRETS
    from installer.tree import Tree
    tree = Tree("http://op:s3cr3t-pw@192.0.2.7:8080/tree/")
    assert tree.describe() == "http://op:********@192.0.2.7:8080/tree"
    assert "s3cr3t-pw" not in SECRETS.mask("fetching http://192.0.2.7/x with s3cr3t-pw")


def test_release_checksums_are_read(tmp_path):
    from installer.tree import release_sha256
    rel = tmp_path / "Release"
    rel.write_text("Suite: xenhost\nSHA256:\n " + "a" * 64 + " 12 main/binary-amd64/Packages\n "
                   + "b" * 64 + " 9 main/binary-amd64/Packages.gz\n")
    assert release_sha256(str(rel), "main/binary-amd64/Packages") == "a" * 64
    assert release_sha256(str(rel), "main/binary-i386/Packages") is None


def test_target_partitions_are_told_apart_from_other_loop_devices():
    storage._TARGETS.clear()
    storage._TARGETS.update({"loop1", "sda", "nvme0n1"})
    try:
        assert storage._is_target("loop1") and storage._is_target("loop1p3")
        assert not storage._is_target("loop10") and not storage._is_target("loop10p1")
        assert storage._is_target("sda3") and not storage._is_target("sdab")
        assert storage._is_target("nvme0n1p2") and not storage._is_target("nvme0n11")
    finally:
        storage._TARGETS.clear()


# -- host files rendered in the plan: chrony.conf, keyboard, machine-id (issue 15) ----------------
def _fresh(extra: str = "", root_attrs: str = ""):
    from helpers import machine, parse_text
    from installer.plan import make_plan
    cfg, report = parse_text(f"""<?xml version="1.0"?>
<installation{root_attrs}>
  <primary-disk>sda</primary-disk>
  <admin-interface name="eth0" proto="dhcp"/>
  <root-password>a-long-password</root-password>
  <source type="local"/>
  {extra}
</installation>""")
    return cfg, report, make_plan(cfg, machine("uefi-3disks"))


def _file(plan, path: str):
    return next(f for f in plan.files if f.path == path)


def _directives(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


# Debian 13's chrony.conf without its source lines (pool, sourcedir): all kept
DEBIAN_CHRONY_SETTINGS = ["keyfile /etc/chrony/chrony.keys", "driftfile /var/lib/chrony/chrony.drift",
                          "ntsdumpdir /var/lib/chrony", "logdir /var/log/chrony", "maxupdateskew 100.0",
                          "rtcsync", "makestep 1 3", "leapseclist /usr/share/zoneinfo/leap-seconds.list",
                          "confdir /etc/chrony/conf.d"]


@pytest.mark.parametrize("xml,sources", [
    ("<ntp-server>ntp1.example.org</ntp-server><ntp-server>192.0.2.123</ntp-server>",
     ["server ntp1.example.org iburst", "server 192.0.2.123 iburst"]),
    ('<ntp source="manual"/><ntp-server>192.0.2.5</ntp-server>', ["server 192.0.2.5 iburst"]),
    ('<ntp source="dhcp"/>', ["sourcedir /run/chrony-dhcp"]),
    ("", ["sourcedir /run/chrony-dhcp"]),      # DHCP management interface, nothing said: dhcp
    ('<ntp source="default"/>', [f"server {i}.debian.pool.ntp.org iburst" for i in range(4)]),
    ('<ntp source="none"/>', []),
])
def test_chrony_conf_has_only_the_sources_of_its_mode(xml, sources):
    _cfg, _report, plan = _fresh(xml)
    assert not [f for f in plan.files if f.path.startswith("/etc/chrony/sources.d/")]
    got = _directives(_file(plan, "/etc/chrony/chrony.conf").content)
    assert not [line for line in got if line.startswith("pool")]       # Debian's pool line is gone
    assert [line for line in got if line.startswith(("server", "sourcedir /run"))] == sources
    assert "sourcedir /etc/chrony/sources.d" in got      # where an administrator adds sources later
    assert got[-len(DEBIAN_CHRONY_SETTINGS):] == DEBIAN_CHRONY_SETTINGS


def test_chrony_conf_keeps_every_other_setting_of_the_products_own(tmp_path):
    """Against the built product root's /etc/chrony/chrony.conf: only source lines differ."""
    import shutil
    import subprocess
    from installer.envchroot import CACHE
    image = os.path.join(CACHE, "product", "current", "images", "root.squashfs")
    if not os.path.exists(image) or not shutil.which("unsquashfs"):
        pytest.skip("the product tree is not built yet (make images)")
    subprocess.run(["unsquashfs", "-q", "-n", "-d", str(tmp_path / "r"), image, "etc/chrony/chrony.conf"],
                   check=True, capture_output=True)
    debian = _directives((tmp_path / "r/etc/chrony/chrony.conf").read_text())
    _cfg, _report, plan = _fresh("<ntp-server>192.0.2.5</ntp-server>")
    ours = _directives(_file(plan, "/etc/chrony/chrony.conf").content)
    sources = ("pool ", "server ", "peer ", "sourcedir ")
    assert [d for d in debian if not d.startswith(sources)] == [d for d in ours if not d.startswith(sources)]
    assert [d for d in debian if d.startswith("pool ")]      # what manual mode must not keep


def test_keyboard_and_machine_id_are_planned_files():
    _cfg, _report, plan = _fresh("<keymap>de-latin1-nodeadkeys</keymap>")
    keyboard = _file(plan, "/etc/default/keyboard").content
    assert 'XKBLAYOUT="de"\n' in keyboard and 'XKBVARIANT="nodeadkeys"\n' in keyboard
    mid = _file(plan, "/etc/machine-id")
    assert mid.content == plan.ids.installation_uuid.replace("-", "") + "\n" and mid.mode == 0o444
    _cfg, _report, plan = _fresh()
    assert 'XKBLAYOUT="us"\n' in _file(plan, "/etc/default/keyboard").content


def test_plan_show_files_prints_the_keyboard_and_chrony_files():
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    res = subprocess.run([sys.executable, "-m", "installer", "plan", "answerfiles/examples/static-vlan-ntp.xml",
                          "--machine", "tests/machines/uefi-3disks.json", "--reproducible", "--show-files"],
                         cwd=root, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "--- /etc/default/keyboard (mode 644)" in res.stdout
    assert "--- /etc/chrony/chrony.conf (mode 644)" in res.stdout and "\npool " not in res.stdout


def test_configure_writes_the_planned_files_and_nothing_by_hand(tmp_path):
    """The configure step on a real directory standing in for the target root."""
    from installer import engine
    from installer.events import Events
    from installer.steps import configure
    _cfg, _report, plan = _fresh("<keymap>uk</keymap><timezone>Etc/UTC</timezone>")
    root = tmp_path / "target"
    (root / "etc").mkdir(parents=True)
    (root / "etc/shadow").write_text("root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n")
    (root / "etc/machine-id").write_text("")
    (root / "usr/share/zoneinfo/Etc").mkdir(parents=True)
    (root / "usr/share/zoneinfo/Etc/UTC").write_text("TZif")
    ctx = engine.Context(_cfg, plan, Events(), dry_run=False, target_root=str(root))
    configure.run(ctx, None)
    for f in plan.files:
        assert (root / f.path.lstrip("/")).read_text() == f.content
        assert (root / f.path.lstrip("/")).stat().st_mode & 0o777 == f.mode
    assert 'XKBLAYOUT="gb"' in (root / "etc/default/keyboard").read_text()
    assert (root / "etc/shadow").read_text().startswith(f"root:{_cfg.root_password.hash}:")


# -- signature checks, driver sources: never silent (issue 15) -----------------------------------
def test_turned_off_checks_warn_in_validate_and_in_the_plan():
    _cfg, report, plan = _fresh('<driver-source type="url">http://192.0.2.9/drivers</driver-source>',
                                ' repo-gpgcheck="false" gpgcheck="false"')
    shown = [str(w) for w in report.warnings]
    assert any(w.startswith("test.xml:2:15: warning: <installation repo-gpgcheck=\"false\">: the "
                            "signature of the product tree is NOT checked") for w in shown)
    assert any(w.startswith("test.xml:2:37: warning: <installation gpgcheck=\"false\"> has no effect")
               for w in shown)
    assert any(":7:3: warning: <driver-source> is ignored" in w for w in shown)
    assert [w.split(" ")[0] for w in plan.warnings if "signature" in w or "driver" in w] == \
        ["signature", "gpgcheck=\"false\"", "<driver-source>"]


def test_a_sources_own_repo_gpgcheck_decides_for_that_source():
    from helpers import parse_text
    from installer.plan import source_warnings
    _cfg, report, plan = _fresh()
    assert not [w for w in plan.warnings if "signature" in w or "gpgcheck" in w] and not report.warnings
    cfg, report = parse_text("""<?xml version="1.0"?>
<installation repo-gpgcheck="false">
  <primary-disk>sda</primary-disk><admin-interface name="eth0" proto="dhcp"/>
  <root-password>a-long-password</root-password>
  <source type="url" repo-gpgcheck="true">http://192.0.2.9/tree</source>
</installation>""")
    assert [w.line for w in report.warnings] == [2]      # what was written is still said
    assert not [w for w in source_warnings(cfg) if "signature" in w]     # but the source is checked
    cfg.sources[0].repo_gpgcheck = False
    assert [w for w in source_warnings(cfg) if w.startswith("signature check OFF")]


def test_plan_warnings_reach_the_console_and_the_log(tmp_path):
    """Events the text console shows and the log file, from a dry run of the CLI."""
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    src = open(os.path.join(root, "answerfiles/examples/fresh-dhcp.xml")).read()
    answer = tmp_path / "a.xml"
    answer.write_text(src.replace("<installation", '<installation repo-gpgcheck="false"', 1))
    log = tmp_path / "install.log"
    res = subprocess.run([sys.executable, "-m", "installer", "--log", str(log), "install", str(answer),
                          "--machine", "tests/machines/uefi-3disks.json", "--dry-run",
                          "--events", str(tmp_path / "e.jsonl")], cwd=root, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "WARNING: signature check OFF" in res.stderr
    assert "signature check OFF" in log.read_text()
    assert '"type": "warning"' in (tmp_path / "e.jsonl").read_text()


# -- boot line: keymap=, no-gpgcheck, no-repo-gpgcheck, sshpassword= (issue 15) ------------------
def test_boot_keymap_is_the_hosts_when_the_answer_file_gives_none():
    from installer import cmdline
    opts, _ = cmdline.parse("keymap=fr_CH")
    cfg, _report, _plan = _fresh()
    cfg = cmdline.applied(cfg, opts)
    assert cfg.keymap == "fr_CH"
    cfg, _report, _plan = _fresh("<keymap>uk</keymap>")
    cfg = cmdline.applied(cfg, opts)
    assert cfg.keymap == "uk"          # the answer file wins, as in XCP-ng


def test_gpgcheck_flags_apply_to_a_wizard_install_with_warnings():
    from installer import cmdline
    from installer.config import InstallConfig
    opts, report = cmdline.parse("no-repo-gpgcheck no-gpgcheck")
    assert [(w.column, str(w).split(": warning: ")[1][:40]) for w in report.warnings] == [
        (1, "no-repo-gpgcheck: the signature of the p"), (18, "no-gpgcheck has no effect: Debian packag")]
    cfg = InstallConfig()
    cfg = cmdline.applied(cfg, opts)
    assert cfg.repo_gpgcheck is False and cfg.gpgcheck is False


def test_gpgcheck_flags_next_to_an_answer_file_are_refused_as_xcpng_does():
    from installer import cmdline
    from installer.errors import ConfigError
    with pytest.raises(ConfigError, match="no-repo-gpgcheck cannot be combined with answerfile"):
        cmdline.parse("answerfile=http://192.0.2.5/a.xml no-repo-gpgcheck")


def test_the_wizards_source_check_honours_no_repo_gpgcheck(tmp_path):
    """A real (unsigned) tree directory: refused for want of a signature, unless the boot line
    said no-repo-gpgcheck."""
    from helpers import machine
    from installer import cmdline, wizard
    from installer.wizard_backend import DryRunBackend
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / ".treeinfo").write_text("[general]\nname = Xenhost\nversion = 0.1.0\n"
                                    "[images-x86_64]\nroot = images/root.squashfs\n[checksums]\n")
    m = machine("uefi-3disks")
    choices = wizard.defaults(m)
    with pytest.raises(InstallerError, match=r"\.treeinfo\.asc|signature|product key"):
        DryRunBackend(m, str(tmp_path / "run"), None, tree=str(tree)).verify_source(wizard.to_config(choices, m))
    opts, _ = cmdline.parse("no-repo-gpgcheck")
    said = DryRunBackend(m, str(tmp_path / "run"), opts, tree=str(tree)).verify_source(wizard.to_config(choices, m))
    assert said.startswith("Verified: Xenhost 0.1.0") and "signature check disabled" in said


def test_sshpassword_keeps_only_a_hash_and_never_the_password(capsys):
    from installer import cmdline, passwd
    opts, _ = cmdline.parse("sshpassword=debug-me-please atexit=shell")
    assert passwd.verify("debug-me-please", opts.ssh_password_hash)
    assert "debug-me-please" not in repr(opts)
    assert {"debug-me-please", opts.ssh_password_hash} <= opts.secrets   # for the front end's mask


def test_sshpassword_sets_the_installers_root_hash_and_lets_root_in(tmp_path):
    from installer import cmdline, debugssh, passwd
    opts, _ = cmdline.parse("sshpassword=debug-me-please")
    (tmp_path / "etc").mkdir()
    shadow = tmp_path / "etc/shadow"
    shadow.write_text("root:*:19000:0:99999:7:::\nsshd:!:19000::::::\n")
    shadow.chmod(0o640)
    debugssh.prepare(str(tmp_path), opts.ssh_password_hash)
    root = shadow.read_text().splitlines()[0].split(":")
    assert passwd.verify("debug-me-please", root[1]) and root[2:] == ["19000", "0", "99999", "7", "", "", ""]
    assert shadow.read_text().splitlines()[1] == "sshd:!:19000::::::"
    assert shadow.stat().st_mode & 0o777 == 0o640
    assert "debug-me-please" not in shadow.read_text()
    dropin = (tmp_path / debugssh.DROP_IN).read_text()
    assert "PermitRootLogin yes" in dropin and "debug-me-please" not in dropin


def test_sshpassword_without_a_root_account_is_a_clear_error(tmp_path):
    from installer import debugssh
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/shadow").write_text("daemon:*:1::::::\n")
    with pytest.raises(InstallerError, match="has no root account"):
        debugssh.prepare(str(tmp_path), "$6$salt$hash")
