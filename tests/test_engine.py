"""The engine: ordered steps, JSON-lines events, failure handling, hooks, masked secrets."""
import io
import json
import os
from pathlib import Path

import pytest
from helpers import EXAMPLES, machine, parse_text

from installer import engine, steps
from installer.answerfile import parse_file
from installer.errors import InstallerError
from installer.events import Events, jsonl_sink, text_sink
from installer.plan import FIXED_IDS, make_plan
from installer.runner import SECRETS


def run(cfg, machine_name="bios-1disk", run_hooks=False, dry_run=True):
    plan = make_plan(cfg, machine(machine_name), FIXED_IDS)
    buf = io.StringIO()
    events = Events(clock=lambda: 0.0)
    events.add_sink(jsonl_sink(buf))
    outcome = engine.run(engine.Context(cfg, plan, events, dry_run=dry_run, run_hooks=run_hooks))
    return outcome, [json.loads(line) for line in buf.getvalue().splitlines()], plan


def steps_that_touch_nothing(monkeypatch) -> None:
    """For a real run (dry_run=False) in a test: every step's run() does nothing; a test then
    replaces the one it is about."""
    for mod in steps.MODULES.values():
        monkeypatch.setattr(mod, "run", lambda ctx, step: None)


def hook_script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path.as_uri()


def cfg_with_hooks(tmp_path, complete_body, start_body="exit 0\n"):
    start = hook_script(tmp_path, "start.sh", start_body)
    complete = hook_script(tmp_path, "complete.sh", complete_body)
    return parse_text(
        '<installation><primary-disk>sda</primary-disk><source type="local"/>'
        '<root-password>changeme-now</root-password><admin-interface name="eth0" proto="dhcp"/>'
        f'<script stage="installation-start" type="url">{start}</script>'
        f'<script stage="installation-complete" type="url">{complete}</script></installation>')[0]


def test_dry_run_emits_ordered_events():
    cfg, _ = parse_file(EXAMPLES / "fresh-dhcp.xml")
    outcome, events, plan = run(cfg)
    assert outcome.success
    starts = [e["step"] for e in events if e["type"] == "step-start"]
    assert starts == [s.name for s in plan.steps]
    assert events[-1]["type"] == "finished" and events[-1]["status"] == "success"
    overall = [e["overall"] for e in events if e["type"] == "progress"]
    assert overall == sorted(overall) and overall[-1] == 1.0
    assert all(0 <= e["ratio"] <= 1 for e in events if e["type"] == "progress")
    assert {e["type"] for e in events} <= {"step-start", "progress", "log", "step-end", "finished"}


def test_the_engine_owns_dry_runs(monkeypatch):
    """A dry run calls no step's run(): each planned action is reported as a dry run, with progress;
    and no step module asks for ctx.dry_run itself."""
    cfg, _ = parse_file(EXAMPLES / "fresh-dhcp.xml")
    for mod in set(steps.MODULES.values()) | {steps.hooks}:
        monkeypatch.setattr(mod, "run", lambda ctx, step: pytest.fail(f"{step.name} ran in a dry run"))
    outcome, events, plan = run(cfg)
    assert outcome.success
    for step in plan.steps:
        logged = [e["message"] for e in events if e["type"] == "log" and e["step"] == step.name]
        skipped = " (not run)" if step.name.startswith("hooks-") else ""
        assert logged == [f"dry run: {a}{skipped}" for a in step.actions]
        ratios = [e["ratio"] for e in events if e["type"] == "progress" and e["step"] == step.name]
        assert ratios[-1] == 1.0
    sources = (Path(steps.__file__).parent).glob("*.py")
    assert not [p.name for p in sources if "dry_run" in p.read_text()]


def test_a_dry_run_says_which_hook_scripts_it_did_not_run(tmp_path):
    marker = tmp_path / "ran"
    cfg = cfg_with_hooks(tmp_path, f"touch {marker}\n", start_body=f"touch {marker}\n")
    outcome, events, _ = run(cfg)
    assert outcome.success and not marker.exists()
    logged = [e["message"] for e in events if e["type"] == "log" and e["step"] == "hooks-installation-start"]
    assert logged == [f"dry run: run installation-start script {cfg.hooks[0].location} (not run)"]


def test_a_real_run_for_disks_this_machine_lacks_stops_in_prepare():
    """The plan came from a recorded machine; the live check finds no such disk and writes nothing."""
    if os.path.exists("/dev/sda"):
        pytest.skip("this machine has a /dev/sda: a real run naming it must never be risked in a test")
    cfg, _ = parse_file(EXAMPLES / "fresh-dhcp.xml")
    outcome, events, _ = run(cfg, dry_run=False)
    assert not outcome.success and outcome.failed_step == "prepare"
    assert "target disk(s) /dev/sda disappeared" in events[-1]["message"]
    assert [e["step"] for e in events if e["type"] == "step-start"] == ["prepare"]


def test_failing_step_stops_run_and_reports_it(tmp_path, monkeypatch):
    marker = tmp_path / "complete.out"
    cfg = cfg_with_hooks(tmp_path, f'echo "$1" > {marker}\necho "${{XENHOST_FAILURE-unset}}" > {marker}.why\n')

    def boom(ctx, step):
        raise InstallerError("no space left on device")
    steps_that_touch_nothing(monkeypatch)
    monkeypatch.setattr(steps.laydown, "run", boom)
    outcome, events, _ = run(cfg, run_hooks=True, dry_run=False)
    assert (outcome.success, outcome.failed_step) == (False, "laydown")
    started = [e["step"] for e in events if e["type"] == "step-start"]
    assert started[-1] == "laydown" and "bootloader" not in started
    error = next(e for e in events if e["type"] == "error")
    assert (error["step"], error["message"]) == ("laydown", "no space left on device")
    fin = events[-1]
    assert (fin["status"], fin["failed_step"], fin["message"]) == ("failed", "laydown", "no space left on device")
    assert marker.read_text() == "1\n"  # installation-complete ran with the failure flag
    assert (tmp_path / "complete.out.why").read_text() == "step laydown: no space left on device\n"   # and why


def test_crashing_step_is_reported_not_raised(monkeypatch):
    cfg, _ = parse_file(EXAMPLES / "fresh-dhcp.xml")
    steps_that_touch_nothing(monkeypatch)
    monkeypatch.setattr(steps.partition, "run", lambda ctx, step: {}["missing"])
    outcome, events, _ = run(cfg, dry_run=False)
    assert outcome.failed_step == "partition"
    assert events[-1]["message"] == "internal error: KeyError: 'missing'"


def test_success_runs_complete_hook_with_zero(tmp_path):
    marker = tmp_path / "complete.out"
    cfg = cfg_with_hooks(tmp_path, f'echo "$1 ${{XENHOST_FAILURE-unset}}" > {marker}\n')
    outcome, events, _ = run(cfg, run_hooks=True)
    assert outcome.success and marker.read_text() == "0 unset\n"


def test_failing_start_hook_fails_the_install(tmp_path):
    marker = tmp_path / "complete.out"
    cfg = cfg_with_hooks(tmp_path, f'echo "$1" > {marker}\n', start_body="echo nope >&2; exit 3\n")
    outcome, events, _ = run(cfg, run_hooks=True)
    assert outcome.failed_step == "hooks-installation-start"
    assert "exited with code 3" in outcome.message
    assert marker.read_text() == "1\n"
    assert any(e["type"] == "log" and e["message"].endswith("nope") for e in events)


def test_hook_that_is_not_a_script_is_refused(tmp_path):
    cfg = cfg_with_hooks(tmp_path, "exit 0\n")
    (tmp_path / "start.sh").write_text("<html>not found</html>")
    outcome, _, _ = run(cfg, run_hooks=True)
    assert outcome.failed_step == "hooks-installation-start" and "must start with a #! line" in outcome.message


def test_secrets_never_reach_events_or_text(monkeypatch):
    SECRETS.add("S3cretTokenValue")
    cfg, _ = parse_file(EXAMPLES / "fresh-dhcp.xml")
    steps_that_touch_nothing(monkeypatch)
    monkeypatch.setattr(steps.laydown, "run", lambda ctx, step: ctx.log(
        "fetch http://admin:pa55word@192.0.2.5/tree with token S3cretTokenValue"))
    buf = io.StringIO()
    plan = make_plan(cfg, machine("bios-1disk"), FIXED_IDS)
    events = Events()
    events.add_sink(jsonl_sink(buf))
    events.add_sink(text_sink(buf))
    engine.run(engine.Context(cfg, plan, events, dry_run=False))
    out = buf.getvalue()
    assert "fetch http://admin:********@192.0.2.5/tree with token ********" in out
    assert "pa55word" not in out and "S3cretTokenValue" not in out and "changeme-now" not in out


def test_plan_warnings_become_warning_events():
    cfg, _ = parse_file(EXAMPLES / "fresh-dhcp.xml")
    m = machine("bios-1disk")
    m.virtualization = ""
    plan = make_plan(cfg, m, FIXED_IDS)
    seen = []
    events = Events()
    events.add_sink(seen.append)
    engine.run(engine.Context(cfg, plan, events))
    assert [e["message"] for e in seen if e["type"] == "warning"] == plan.warnings != []


@pytest.mark.parametrize("example,machine_name", [("upgrade", "installed-bios"), ("restore", "installed-bios"),
                                                   ("raid1", "raid-2disks")])
def test_every_mode_dry_runs(example, machine_name):
    cfg, _ = parse_file(EXAMPLES / f"{example}.xml")
    outcome, events, _ = run(cfg, machine_name)
    assert outcome.success and events[-1]["status"] == "success"


def test_text_progress_prints_one_line_per_tenth_of_a_step():
    buf = io.StringIO()
    sink = text_sink(buf)
    for r in (0.01, 0.05, 0.12, 0.13, 0.55, 0.99, 1.0):
        sink({"type": "progress", "step": "laydown", "ratio": r, "overall": 0.4 + r / 7})
    sink({"type": "progress", "step": "finish", "ratio": 0.3, "overall": 0.95})
    lines = buf.getvalue().splitlines()
    assert [ln.split("%")[0].strip() for ln in lines] == ["10", "50", "90", "30"]
    assert lines[0].endswith("(42% of the install)")


def test_prepare_fetches_every_hook_before_any_disk_is_touched(http_dir):
    """A filesystem-populated script that is missing used to be found only after partitioning."""
    from installer.config import Hook, InstallConfig
    from installer.hookrunner import HookError
    from installer.steps import prepare
    www, url = http_dir
    (www / "start.sh").write_text("#!/bin/sh\ntrue\n")
    cfg = InstallConfig(hooks=[Hook("installation-start", "url", f"{url}/start.sh"),
                               Hook("filesystem-populated", "url", f"{url}/missing.sh")])
    with pytest.raises(HookError) as exc:
        prepare.fetch_hooks(cfg.hooks, lambda m: None)
    assert "missing.sh" in str(exc.value) and "404" in str(exc.value)
    (www / "missing.sh").write_text("#!/bin/sh\necho populated \"$1\"\n")
    scripts = prepare.fetch_hooks(cfg.hooks, lambda m: None)
    assert scripts[("filesystem-populated", f"{url}/missing.sh")].startswith(b"#!/bin/sh")
    (www / "missing.sh").unlink()          # runs from the copy fetched before the disks were touched
    from installer.hookrunner import run_hook
    seen = []
    run_hook(cfg.hooks[1], ["/target"], seen.append, scripts[("filesystem-populated", f"{url}/missing.sh")])
    assert seen == ["filesystem-populated hook: populated /target"]


@pytest.mark.parametrize("reason,told", [
    ("sgdisk failed: bad\x00byte", "sgdisk failed: bad\\x00byte"),          # NUL: no environment holds it
    ("a\udc80b undecodable", "a\\udc80b undecodable"),                       # not UTF-8
    ("x\ud800y", "x\\ud800y"),
    ("\x1b[2J\x7f\x9b  cleared\r\n\tscreen", "\\x1b[2J\\x7f\\x9b cleared screen"),
    ("password=hunter2 at http://u:pw@h/x é", "password=******** at http://u:********@h/x é")])
def test_the_report_hook_hears_a_reason_of_any_characters_in_one_printable_line(tmp_path, reason, told):
    from installer.hookrunner import one_line, run_hook
    SECRETS.add("hunter2")
    assert one_line(reason) == told
    out = tmp_path / "told"
    cfg = cfg_with_hooks(tmp_path, f'printf "%s" "$XENHOST_FAILURE" > {out}\n')
    run_hook(cfg.hooks_for("installation-complete")[0], ["1"], print, failure=reason)
    assert out.read_text() == told


def test_a_failure_with_a_nul_byte_is_still_reported_to_the_end(tmp_path, monkeypatch):
    """A failed command's stderr (decoded with errors="replace", which keeps NUL) in the reason used
    to raise out of engine.run: no finished event, so no support bundle, countdown or atexit."""
    marker = tmp_path / "complete.out"
    cfg = cfg_with_hooks(tmp_path, f'echo "$1 $XENHOST_FAILURE" > {marker}\n')
    steps_that_touch_nothing(monkeypatch)
    monkeypatch.setattr(steps.laydown, "run", lambda ctx, step: (_ for _ in ()).throw(
        InstallerError("tar failed: \x00\x1b[31m\udc80")))
    outcome, events, _ = run(cfg, run_hooks=True, dry_run=False)
    assert (outcome.success, outcome.failed_step) == (False, "laydown")
    assert events[-1]["type"] == "finished" and events[-1]["status"] == "failed"
    assert marker.read_text() == "1 step laydown: tar failed: \\x00\\x1b[31m\\udc80\n"


def test_a_final_hook_that_fails_in_any_way_is_a_warning(tmp_path, monkeypatch):
    cfg = cfg_with_hooks(tmp_path, "exit 0\n")

    def broken(*a, **kw):
        raise PermissionError(13, "Permission denied")        # e.g. a temporary directory mounted noexec
    monkeypatch.setattr(engine, "run_hook", broken)
    outcome, events, _ = run(cfg, run_hooks=True)
    assert outcome.success and events[-1]["type"] == "finished" and events[-1]["status"] == "success"
    warning = next(e for e in events if e["type"] == "warning" and "complete.sh" in e["message"])
    assert warning["message"].endswith("failed: PermissionError: [Errno 13] Permission denied")
