"""Secure Boot (installer/secureboot.py): read from a fake efivarfs, recorded in the machine, and the
one rule: the plan is refused before any disk is touched unless the answer file, the boot line or the
wizard accepted it; accepted, the install goes on with a warning and the same steps."""
from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys

import pytest
from helpers import EXAMPLES, MACHINES, ROOT, machine, parse_text
from test_boot import booted, run_dir  # noqa: F401 - their fixtures: boot.main() on a boot line

from installer import answerfile, answerfile_writer, boot, cmdline, machine as machine_mod, secureboot
from installer.config import InstallConfig, Mode
from installer.errors import ConfigError, InstallerError, PlanError
from installer.plan import make_plan

GUID = secureboot.EFI_GLOBAL
ATTRS = b"\x06\x00\x00\x00"         # BOOTSERVICE_ACCESS | RUNTIME_ACCESS, as the firmware sets them


def efivars(tmp_path, **variables):
    """A directory laid out as efivarfs: each variable 4 attribute bytes, then its value."""
    directory = tmp_path / "efivars"
    directory.mkdir()
    (directory / f"Boot0000-{GUID}").write_bytes(ATTRS + b"\x01\x00")   # efivarfs is never empty
    for name, value in variables.items():
        (directory / f"{name}-{GUID}").write_bytes(value if isinstance(value, bytes) else ATTRS + bytes([value]))
    return directory


def lockdown(tmp_path, mode: str):
    path = tmp_path / "lockdown"
    path.write_text(" ".join(f"[{m}]" if m == mode else m for m in ("none", "integrity", "confidentiality")) + "\n")
    return path


# -- detection ------------------------------------------------------------------------------------
@pytest.mark.parametrize("variables,locked,enabled,setup", [
    ({"SecureBoot": 1, "SetupMode": 0}, "integrity", True, False),
    ({"SecureBoot": 1, "SetupMode": 0}, "none", True, False),        # the firmware variable decides
    ({"SecureBoot": 1}, "integrity", True, False),                   # no SetupMode variable: user mode
    ({"SecureBoot": 0, "SetupMode": 0}, "none", False, False),
    ({"SecureBoot": 0, "SetupMode": 0}, "integrity", False, False),  # lockdown= on the boot line: not Secure Boot
    ({"SecureBoot": 0, "SetupMode": 1}, "none", False, True),        # Setup Mode: no platform key, nothing enforced
    ({"SecureBoot": 1, "SetupMode": 1}, "none", False, True),
    ({}, "none", False, False),                                       # firmware without Secure Boot
])
def test_state_from_the_firmware_variables(tmp_path, variables, locked, enabled, setup):
    state = secureboot.read_state(True, efivars(tmp_path, **variables), lockdown(tmp_path, locked))
    assert (state.enabled, state.setup_mode) == (enabled, setup), state.evidence
    if variables:
        assert f"SecureBoot={variables['SecureBoot']}" in state.evidence and f"kernel lockdown: {locked}" in state.evidence


@pytest.mark.parametrize("locked,enabled", [("integrity", True), ("confidentiality", True), ("none", None),
                                            (None, None)])
def test_without_efivarfs_the_kernel_lockdown_decides(tmp_path, locked, enabled):
    empty = tmp_path / "efivars"
    empty.mkdir()                         # the mount point, efivarfs not mounted
    path = lockdown(tmp_path, locked) if locked else tmp_path / "absent"
    for where in (empty, tmp_path / "no-such-dir"):
        state = secureboot.read_state(True, where, path)
        assert state.enabled is enabled and not state.setup_mode
        assert "efivarfs not readable" in state.evidence


@pytest.mark.parametrize("error", [PermissionError(13, "Permission denied"), OSError(5, "Input/output error")])
def test_efivarfs_that_cannot_be_listed_is_unreadable_not_a_crash(tmp_path, monkeypatch, error):
    """iterdir() refused (a PermissionError, any OSError): as if efivarfs were not mounted."""
    where = efivars(tmp_path, SecureBoot=1)
    real = secureboot.Path.iterdir

    def refused(self):
        if self == where:
            raise error
        return real(self)
    monkeypatch.setattr(secureboot.Path, "iterdir", refused)
    for locked, enabled in (("integrity", True), ("none", None)):
        (tmp_path / "lockdown").unlink(missing_ok=True)
        state = secureboot.read_state(True, where, lockdown(tmp_path, locked))
        assert state.enabled is enabled and "efivarfs not readable" in state.evidence


@pytest.mark.parametrize("raw", [b"\x06\x00\x00\x00", b"\x06\x00\x00\x00\x01\x00", b"\x06\x00\x00\x00\x02"])
def test_a_malformed_variable_is_not_read_as_off(tmp_path, raw):
    """Anything but 4 attribute bytes and a 0 or 1 is unreadable: the lockdown decides, as without efivarfs."""
    state = secureboot.read_state(True, efivars(tmp_path, SecureBoot=raw), lockdown(tmp_path, "integrity"))
    assert state.enabled is True and "efivarfs not readable" in state.evidence


def test_bios_boot_has_no_secure_boot(tmp_path):
    state = secureboot.read_state(False, efivars(tmp_path, SecureBoot=1), lockdown(tmp_path, "integrity"))
    assert (state.enabled, state.setup_mode) == (False, False)


def test_lockdown_mode_reads_the_bracketed_word(tmp_path):
    assert secureboot.lockdown_mode(lockdown(tmp_path, "integrity")) == "integrity"
    assert secureboot.lockdown_mode(tmp_path / "absent") == ""


# -- the machine description ----------------------------------------------------------------------
def test_the_recorded_secure_boot_machine_round_trips():
    m = machine("uefi-secureboot")
    assert (m.boot_mode, m.secure_boot, m.secure_boot_setup_mode) == ("uefi", True, False)
    again = machine_mod.from_dict(json.loads(m.to_json()), "again")
    assert again == m and json.loads(m.to_json())["secure_boot"] is True


@pytest.mark.parametrize("path", sorted(MACHINES.glob("*.json")), ids=lambda p: p.name)
def test_recorded_machines_say_true_false_or_nothing(path):
    """Every UEFI description says true or false: "not known" warns in the plan, so a description
    that leaves it out would change its plans (the not-known case is built in the tests below)."""
    data = json.loads(path.read_text())
    assert machine_mod.load(path).secure_boot is data.get("secure_boot")
    if data["boot_mode"] == "uefi":
        assert data["secure_boot"] in (True, False)


@pytest.mark.parametrize("changes,error", [
    ({"secure_boot": "yes"}, 'secure_boot: expected true, false or null, got "yes"'),
    ({"secure_boot_setup_mode": None}, "secure_boot_setup_mode: expected true or false, got null"),
    ({"boot_mode": "bios"}, 'secure_boot: Secure Boot exists only with UEFI boot, and boot_mode is "bios"'),
    ({"secure_boot_setup_mode": True}, "secure_boot: true means the firmware enforces Secure Boot, which it "
                                       "does not in Setup Mode (secure_boot_setup_mode is true)"),
    ({"boot_mode": "bios", "secure_boot": False, "secure_boot_setup_mode": True},
     'secure_boot_setup_mode: Secure Boot exists only with UEFI boot, and boot_mode is "bios"'),
])
def test_bad_secure_boot_fields_are_one_clear_error(changes, error):
    data = {**json.loads((MACHINES / "uefi-secureboot.json").read_text()), **changes}
    with pytest.raises(InstallerError) as info:
        machine_mod.from_dict(data, "m.json")
    assert str(info.value) == f"m.json: {error}"


# -- the rule, as the planner applies it ----------------------------------------------------------
def fresh(extra: str = "") -> InstallConfig:
    cfg, _ = answerfile.parse_file(EXAMPLES / "fresh-dhcp.xml")
    if extra:
        text = (EXAMPLES / "fresh-dhcp.xml").read_text().replace("</installation>", extra + "</installation>")
        cfg, _ = parse_text(text)
    return dataclasses.replace(cfg, primary_disk=dataclasses.replace(cfg.primary_disk,
                                                                    disk=dataclasses.replace(cfg.primary_disk.disk,
                                                                                             path="/dev/vda")))


def test_secure_boot_refuses_the_plan_in_words():
    with pytest.raises(PlanError) as info:
        make_plan(fresh(), machine("uefi-secureboot"))
    [problem] = info.value.problems
    assert problem == secureboot.REFUSAL
    for words in ("Secure Boot is enabled in this machine's firmware",             # what it does here
                  "the host it installs would not boot: Debian's Xen and the host's GRUB are not signed",
                  "Security or Boot > Secure Boot > Disabled", '"Other OS"',       # what to change
                  "Clearing or resetting the Secure Boot keys is not needed",
                  '<secure-boot action="continue"/> in the answer file or secureboot=continue on the boot line'):
        assert words in problem


def test_secure_boot_comes_first_among_the_problems():
    cfg = fresh()
    cfg.interface.name = "eth9"
    with pytest.raises(PlanError) as info:
        make_plan(cfg, machine("uefi-secureboot"))
    assert info.value.problems[0] == secureboot.REFUSAL and len(info.value.problems) == 2


@pytest.mark.parametrize("how", ["answer file", "boot line"])
def test_accepted_the_install_goes_on_with_a_warning_and_the_same_steps(how):
    m = machine("uefi-secureboot")
    if how == "answer file":
        cfg = fresh('  <secure-boot action="continue"/>\n')
    else:
        cfg = cmdline.applied(fresh(), cmdline.parse("quiet secureboot=continue")[0])
    assert cfg.secure_boot == "continue"
    plan = make_plan(cfg, m)
    assert plan.warnings[0] == secureboot.ACCEPTED
    assert "the installed host will NOT boot until Secure Boot is disabled" in plan.warnings[0]
    off = make_plan(cfg, dataclasses.replace(m, secure_boot=False))     # what the host gets is unchanged
    assert (plan.steps, plan.files, plan.disks) == (off.steps, off.files, off.disks)
    assert off.warnings == plan.warnings[1:]


def test_setup_mode_is_not_enforcing_and_the_plan_says_so():
    m = dataclasses.replace(machine("uefi-secureboot"), secure_boot=False, secure_boot_setup_mode=True)
    plan = make_plan(fresh(), m)
    assert plan.warnings[0] == secureboot.SETUP_MODE and "enforces nothing" in plan.warnings[0]


@pytest.mark.parametrize("changes", [{"secure_boot": False}, {"boot_mode": "bios", "secure_boot": False},
                                     {"boot_mode": "bios", "secure_boot": None}])
def test_no_effect_when_the_firmware_does_not_enforce(changes):
    plan = make_plan(fresh(), dataclasses.replace(machine("uefi-secureboot"), **changes))
    assert not any("Secure Boot" in w for w in plan.warnings)


# -- not known: a warning, never a refusal --------------------------------------------------------
UNKNOWN_HEAD = "Secure Boot: its state could not be read"


def not_known():
    """The recorded QEMU machine as the probe sees it when efivarfs is unreadable and no lockdown shows."""
    return dataclasses.replace(machine("uefi-secureboot"), secure_boot=None)


def test_not_known_warns_first_in_words_the_operator_acts_on():
    m = not_known()
    assert secureboot.unknown(m) and not secureboot.enforcing(m)
    plan = make_plan(fresh(), m)                # planned: an unknown must not block firmware without efivars
    assert plan.warnings[0] == secureboot.UNKNOWN
    for words in (UNKNOWN_HEAD, "efivarfs were not readable", "the installed host will not boot",
                  "check the firmware setup", "Security or Boot > Secure Boot", "make sure it is Disabled"):
        assert words in plan.warnings[0]
    known = make_plan(fresh(), dataclasses.replace(m, secure_boot=False))     # the same install otherwise
    assert (plan.steps, plan.files, plan.disks) == (known.steps, known.files, known.disks)
    assert known.warnings == plan.warnings[1:]


@pytest.mark.parametrize("action", ["stop", "continue"])
def test_not_known_is_the_same_warning_whatever_the_action(action):
    assert secureboot.verdict(not_known(), action) == ("", [secureboot.UNKNOWN])


def test_not_known_concerns_only_a_uefi_install_that_writes_a_boot_loader():
    assert secureboot.verdict(not_known(), "stop", writes_boot_loader=False) == ("", [])
    bios = dataclasses.replace(not_known(), boot_mode="bios")
    assert not secureboot.unknown(bios) and secureboot.verdict(bios, "stop") == ("", [])
    setup = dataclasses.replace(not_known(), secure_boot_setup_mode=True)   # Setup Mode is known: nothing enforced
    assert not secureboot.unknown(setup) and secureboot.verdict(setup, "stop") == ("", [secureboot.SETUP_MODE])


def test_not_known_in_the_probe_line_and_in_the_description():
    m = not_known()
    assert secureboot.shown(m) == "not known"
    assert json.loads(m.to_json())["secure_boot"] is None
    assert machine_mod.from_dict(json.loads(m.to_json()), "again").secure_boot is None


def test_not_known_on_the_wizard_summary():
    from installer import wizard, wizard_summary
    from installer.product import DEFAULT as PRODUCT
    m = not_known()
    c = wizard.defaults(m)
    c.password_hash = "x"
    [line] = wizard_summary.secure_boot(wizard.to_config(c, m), m)
    assert line == wizard_summary.Line(secureboot.UNKNOWN_SHORT) and line.text.startswith(UNKNOWN_HEAD)
    assert "check the firmware setup (Security or Boot > Secure Boot) and disable it" in line.text
    assert wizard_summary.lines(c, m, PRODUCT)[-1] == line
    assert not wizard.applies("secure-boot", c, m, PRODUCT)       # no screen to stop at: a warning only


def described(tmp_path, **changes):
    """uefi-secureboot.json written with changes, for the command line."""
    path = tmp_path / "m.json"
    path.write_text(json.dumps({**json.loads((MACHINES / "uefi-secureboot.json").read_text()), **changes}))
    return path


def vda_answer_file(tmp_path):
    path = tmp_path / "a.xml"
    path.write_text(VDA)
    return path


def test_not_known_in_installer_plan_output(tmp_path):
    res = subprocess.run([sys.executable, "-m", "installer", "plan", vda_answer_file(tmp_path), "--machine",
                          described(tmp_path, secure_boot=None)], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert f"WARNING: {secureboot.UNKNOWN}" in res.stdout
    assert f"WARNING: {secureboot.UNKNOWN}" in (ROOT / "docs" / "answerfile.md").read_text()     # as documented
    res = subprocess.run([sys.executable, "-m", "installer", "plan", vda_answer_file(tmp_path), "--machine",
                          described(tmp_path, secure_boot=False)], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0 and "Secure Boot" not in res.stdout


def test_not_known_on_the_unattended_console_and_in_its_log(tmp_path):
    """The engine an unattended install runs prints and logs plan warnings (here in a dry run)."""
    log, events = tmp_path / "install.log", tmp_path / "events.jsonl"
    res = subprocess.run([sys.executable, "-m", "installer", "--log", log, "install", vda_answer_file(tmp_path),
                          "--machine", described(tmp_path, secure_boot=None), "--dry-run", "--events", events],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert f"WARNING: {secureboot.UNKNOWN}" in " ".join(res.stderr.split())
    assert f"plan: {secureboot.UNKNOWN}" in log.read_text()
    warned = [json.loads(x) for x in events.read_text().splitlines() if '"warning"' in x]
    assert {"step": "plan", "message": secureboot.UNKNOWN}.items() <= warned[0].items()


@pytest.mark.parametrize("mode", [Mode.UPGRADE, Mode.RESTORE, Mode.REINSTALL])
def test_every_mode_that_writes_a_boot_loader_is_refused(mode):
    """An upgrade or a restore writes GRUB too: refused (among whatever else is wrong) unless accepted."""
    m = machine("uefi-secureboot")
    for action, refused in (("stop", True), ("continue", False)):
        cfg = dataclasses.replace(fresh(), mode=mode, secure_boot=action)
        problems: list[str] = []
        try:
            make_plan(cfg, m)
        except PlanError as exc:        # an upgrade or restore finds nothing to work on here, too
            problems = exc.problems
        assert (secureboot.REFUSAL in problems) is refused


def test_only_an_install_that_writes_a_boot_loader_is_concerned():
    m = machine("uefi-secureboot")
    assert secureboot.verdict(m, "stop", writes_boot_loader=False) == ("", [])
    assert secureboot.verdict(m, "stop") == (secureboot.REFUSAL, [])


# -- the answer file ------------------------------------------------------------------------------
HEAD = '<?xml version="1.0"?>\n'
BODY = ('  <primary-disk>sda</primary-disk>\n  <source type="local"/>\n'
        '  <admin-interface name="eth0" proto="dhcp"/>\n')


def installation(element: str, root: str = "<installation>") -> str:
    return HEAD + root + "\n" + BODY + element + "</installation>\n"


@pytest.mark.parametrize("element,action", [("", "stop"), ('  <secure-boot action="stop"/>\n', "stop"),
                                            ('  <secure-boot action="continue"/>\n', "continue")])
def test_the_secure_boot_element(element, action):
    cfg, report = parse_text(installation(element))
    assert cfg.secure_boot == action and not [w for w in report.warnings if "secure-boot" in w.message]


@pytest.mark.parametrize("element,expected", [
    ('<secure-boot action="yes"/>',
     "test.xml:6:14: error: <secure-boot action=\"yes\">: action must be one of stop, continue; got 'yes'"),
    ('<secure-boot action="Continue"/>',
     "test.xml:6:14: error: <secure-boot action=\"Continue\">: action must be one of stop, continue; got "
     "'Continue' (did you mean 'continue'?)"),
    ("<secure-boot/>", "test.xml:6:1: error: <secure-boot> needs the attribute 'action'"),
    ('<secure-boot mode="continue"/>',
     "test.xml:6:14: error: unknown attribute 'mode' on <secure-boot>; allowed attributes: action"),
    ('<secure-boot action="continue">yes</secure-boot>',
     "test.xml:6:32: error: <secure-boot> does not take text content; found 'yes'"),
    ('<secure-boot action="continue"/><secure-boot action="continue"/>',
     "test.xml:6:33: error: <secure-boot> may appear only once in <installation> (first at line 6)"),
    ('<secureboot action="continue"/>',
     "test.xml:6:1: error: unknown element <secureboot> in <installation> (did you mean 'secure-boot'?)"),
])
def test_secure_boot_element_errors_are_positioned(element, expected):
    with pytest.raises(ConfigError) as info:
        parse_text(installation(element))
    assert any(str(d).startswith(expected) for d in info.value.diagnostics), \
        [str(d) for d in info.value.diagnostics]


def test_upgrade_and_restore_read_it_too():
    cfg, report = parse_text(HEAD + '<installation mode="upgrade">\n  <existing-installation>sda</existing-installation>\n'
                             '  <source type="local"/>\n  <secure-boot action="continue"/>\n</installation>\n')
    assert cfg.mode == Mode.UPGRADE and cfg.secure_boot == "continue" and not report.warnings
    cfg, report = parse_text(HEAD + '<restore>\n  <secure-boot action="continue"/>\n</restore>\n')
    assert cfg.mode == Mode.RESTORE and cfg.secure_boot == "continue" and not report.warnings


# -- the boot line --------------------------------------------------------------------------------
def test_the_boot_parameter():
    assert cmdline.parse("quiet")[0].secure_boot is None
    assert cmdline.parse("secureboot=continue")[0].secure_boot == "continue"
    opts, report = cmdline.parse("secureboot=stop secureboot=continue")
    assert opts.secure_boot == "continue"          # the last one, as XCP-ng reads a repeated parameter
    assert any("secureboot is given twice" in str(w) for w in report.warnings)


@pytest.mark.parametrize("file_says,boot_says,result", [
    ("stop", None, "stop"), ("continue", None, "continue"), ("stop", "continue", "continue"),
    ("continue", "stop", "continue"),           # either accepting is enough
    ("stop", "stop", "stop")])
def test_the_boot_line_or_the_answer_file_accepts(file_says, boot_says, result):
    opts = cmdline.parse(f"secureboot={boot_says}" if boot_says else "")[0]
    assert cmdline.applied(InstallConfig(secure_boot=file_says), opts).secure_boot == result


@pytest.mark.parametrize("wizard_says", ["stop", "continue"])
def test_the_boot_line_accepts_nothing_for_the_wizard(wizard_says):
    """The wizard's config keeps its own screen's answer: secureboot= is the answer file's twin."""
    opts = cmdline.parse("secureboot=continue atexit=poweroff")[0]
    cfg = cmdline.applied(InstallConfig(secure_boot=wizard_says), opts, wizard=True)
    assert cfg.secure_boot == wizard_says and cfg.at_exit.value == "poweroff"     # the rest applies


@pytest.mark.parametrize("text,expected", [
    ("quiet secureboot=off",
     "<kernel command line>:1:7: error: secureboot must be one of stop, continue; got 'off'"),
    ("secureboot", "<kernel command line>:1:1: error: secureboot must be one of stop, continue; got ''"),
])
def test_boot_parameter_errors(text, expected):
    with pytest.raises(ConfigError) as info:
        cmdline.parse(text)
    assert expected in [str(d) for d in info.value.diagnostics]


# -- the answer file written back -----------------------------------------------------------------
needs_xmllint = pytest.mark.skipif(shutil.which("xmllint") is None,
                                   reason="xmllint missing: `make test` installs libxml2-utils")


def written(cfg: InstallConfig, tmp_path) -> tuple[str, InstallConfig]:
    text = answerfile_writer.to_xml(cfg)
    path = tmp_path / "written.xml"
    path.write_text(text)
    return text, answerfile.parse_file(path)[0]


@pytest.mark.parametrize("mode", list(Mode))
def test_written_back_only_when_accepted_and_read_again(tmp_path, mode):
    cfg = fresh() if mode in (Mode.FRESH, Mode.REINSTALL) else InstallConfig(mode=mode)
    if mode == Mode.UPGRADE:
        cfg = answerfile.parse_file(EXAMPLES / "upgrade.xml")[0]
    for action in ("stop", "continue"):
        cfg = dataclasses.replace(cfg, mode=mode, secure_boot=action)
        text, again = written(cfg, tmp_path)
        assert ('<secure-boot action="continue"/>' in text) is (action == "continue")
        assert again.secure_boot == action


@needs_xmllint
@pytest.mark.parametrize("action", ["stop", "continue"])
def test_schema_accepts_what_the_writer_writes(tmp_path, action):
    for mode in ("fresh", "restore"):
        cfg = fresh() if mode == "fresh" else InstallConfig(mode=Mode.RESTORE)
        path = tmp_path / f"{mode}.xml"
        path.write_text(answerfile_writer.to_xml(dataclasses.replace(cfg, secure_boot="continue"))
                        .replace('"continue"', f'"{action}"'))
        res = subprocess.run(["xmllint", "--noout", "--relaxng", ROOT / "answerfiles" / "answerfile.rng", path],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr


@needs_xmllint
@pytest.mark.parametrize("element", ['<secure-boot action="maybe"/>', "<secure-boot/>",
                                     '<secure-boot action="continue">x</secure-boot>'])
def test_schema_rejects_bad_secure_boot(tmp_path, element):
    path = tmp_path / "bad.xml"
    path.write_text(installation(f"  {element}\n"))
    res = subprocess.run(["xmllint", "--noout", "--relaxng", ROOT / "answerfiles" / "answerfile.rng", path],
                         capture_output=True, text=True)
    assert res.returncode != 0


@pytest.mark.parametrize("changes,words", [({}, "enforced"), ({"secure_boot": False}, "off"),
                                           ({"secure_boot": None}, "not known"),
                                           ({"secure_boot": False, "secure_boot_setup_mode": True},
                                            "Setup Mode (not enforced)"),
                                           ({"boot_mode": "bios", "secure_boot": False}, "none (BIOS boot)")])
def test_the_state_in_words(changes, words):
    assert secureboot.shown(dataclasses.replace(machine("uefi-secureboot"), **changes)) == words


# -- at boot: an unattended install --------------------------------------------------------------
VDA = """<installation><primary-disk>vda</primary-disk><source type="local"/>
<admin-interface name="eth0" proto="dhcp"/><root-password>b00t-pw-long</root-password></installation>"""


@pytest.fixture
def secure_machine(run_dir, booted, monkeypatch):  # noqa: F811 - the fixtures imported above
    """boot.main() on the recorded Secure Boot machine, up to the engine (kept, not run)."""
    monkeypatch.setattr(boot, "probe", lambda: machine("uefi-secureboot"))
    given: dict = {}

    def run_engine(cfg, plan, stream, masked, plan_text, events, log, dry_run, tree=None):
        from installer.engine import Outcome
        given.update(cfg=cfg, plan=plan)
        return Outcome(True)
    monkeypatch.setattr(boot.session, "run_engine", run_engine)
    (run_dir / "a.xml").write_text(VDA)

    def run(extra: str = "") -> int:
        return booted(f"answerfile=file://{run_dir}/a.xml atexit=poweroff {extra}")
    run.given = given
    return run


def test_at_boot_the_refusal_is_printed_and_logged_and_nothing_runs(secure_machine, run_dir, capsys):
    assert secure_machine() == 1
    err = capsys.readouterr().err
    assert f"installer: plan error: {secureboot.REFUSAL}" in err
    assert "installer: INSTALLATION FAILED: the install cannot be planned on this machine; no disk was touched" in err
    assert f"plan error: {secureboot.REFUSAL}" in (run_dir / "installer.log").read_text()
    assert secure_machine.given == {}                           # the engine never ran


def test_at_boot_secureboot_continue_goes_on_with_the_warning(secure_machine, capsys):
    assert secure_machine("secureboot=continue") == 0
    assert secure_machine.given["cfg"].secure_boot == "continue"
    assert secure_machine.given["plan"].warnings[0] == secureboot.ACCEPTED


def test_at_boot_not_known_goes_on_with_the_warning(secure_machine, monkeypatch):
    monkeypatch.setattr(boot, "probe", not_known)
    assert secure_machine() == 0
    assert secure_machine.given["plan"].warnings[0] == secureboot.UNKNOWN
