"""The installed host's guests at power-off (image/product/overlay: guests.py, stop-guests, bounded.py,
Debian's xendomains configured and its stop replaced): every guest asked at once, one wait, what is
left destroyed, all of it inside xendomains.service's stop timeout however `xl` hangs. The pure parts
are called directly; stop-guests runs here with fake `xl` and `systemctl` commands."""
from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from test_host_ready import LIB, OVERLAY, UNITS, _executable, _kill_listed, _load, _unit

guests = _load("guests")
bounded = _load("bounded")
stop_guests = _load("stop_guests", os.path.join(LIB, "stop-guests"))     # its imports are loaded already

XL_LIST = """\
Name                                        ID   Mem VCPUs\tState\tTime(s)
Domain-0                                     0  1024     1     r-----      63.2
xh-test-stay                                 3   128     1     -b----       2.0
my guest                                     5   256     2     ---s--       1.1
gone                                         7    64     1     -----d       0.3
"""


def test_xl_list_is_read_into_guests():
    found = guests.parse_xl_list(XL_LIST)
    assert found == [guests.Domain(3, "xh-test-stay", "-b----"), guests.Domain(5, "my guest", "---s--"),
                     guests.Domain(7, "gone", "-----d")]
    assert [d.ended for d in found] == [False, True, True]
    assert guests.parse_xl_list("Name ID Mem VCPUs State Time(s)\nDomain-0 0 1024 1 r----- 1.0\n") == []


def test_settled_guests_are_those_gone_or_ended():
    listed = guests.parse_xl_list(XL_LIST)
    assert guests.settled({3: "xh-test-stay", 5: "my guest", 9: "quick"}, listed) == [(5, True), (9, False)]


def test_systemds_time_spans_are_read():
    assert guests.timespan("6min\n") == 360 and guests.timespan("5min") == 300
    assert guests.timespan("1min 30s") == 90 and guests.timespan("1h 2min 500ms") == 3720.5
    assert guests.timespan("infinity") == math.inf and guests.timespan("0") == math.inf
    assert guests.timespan("") is None and guests.timespan("soon") is None and guests.timespan("5 parsecs") is None


def test_the_wait_is_cut_to_what_the_stop_timeout_leaves():
    # Debian's 300 s wait under Debian's TimeoutSec=5min: systemd would kill stop-guests mid-wait
    assert guests.wait_within(300, 300, 1, 45) == 254
    assert guests.wait_within(60, 360, 1, 45) == 60
    assert guests.wait_within(600, math.inf, 1, 45) == 600
    assert guests.wait_within(60, 30, 1, 45) == 0           # asked, then destroyed at once
    assert guests.cut_line(300, 254, 300, 45, "TimeoutStopSec") == (
        "XENDOMAINS_STOP_MAXWAIT=300 cut to 254 s: xendomains.service must stop within 300 s (TimeoutStopSec), "
        "and asking the guests and destroying what is left need up to 45 s of it")
    assert guests.destroyed_line("db", 4, 60) == "guest db (4) did not shut down within 60 s: destroyed"
    assert guests.destroyed_line("db", 4, 60, "no answer within 30 s") == (
        "guest db (4) did not shut down within 60 s and could not be destroyed (xl destroy: no answer within 30 s)")


def test_the_xendomains_defaults_shut_guests_down_with_one_bounded_wait():
    script = ('. "$1"; printf "%s|" "$XENDOMAINS_SAVE" "$XENDOMAINS_RESTORE" "$XENDOMAINS_MIGRATE" '
              '"$XENDOMAINS_STOP_MAXWAIT" "$XENDOMAINS_AUTO"')
    out = subprocess.run(["sh", "-c", script, "sh", os.path.join(OVERLAY, "etc/default/xendomains")],
                         capture_output=True, text=True, check=True).stdout
    assert out == "|||60|/etc/xen/auto|"
    dropins = sorted(os.listdir(os.path.join(UNITS, "xendomains.service.d")))
    # systemd reads drop-ins in name order, the last one winning: `systemctl edit`'s override.conf after ours
    assert dropins == ["10-xenhost.conf"] and sorted(dropins + ["override.conf"])[-1] == "override.conf"
    dropin = _unit(os.path.join(UNITS, "xendomains.service.d", dropins[0]))
    assert dropin["Service"]["ExecStop"] == ["", "/usr/lib/xenhost/stop-guests"]   # Debian's stop replaced
    assert "console" in dropin["Service"]["StandardOutput"][0]
    # the stop timeout holds asking, destroying and Debian's own 300 s wait (Debian's unit: 5min)
    timeout = guests.timespan(dropin["Service"]["TimeoutStopSec"][-1])
    reserve = stop_guests.ASK + stop_guests.DESTROY + stop_guests.MARGIN
    assert guests.wait_within(300, timeout, 5, reserve) == 300
    mode = os.stat(os.path.join(LIB, "stop-guests")).st_mode
    assert mode & 0o111 == 0o111


def test_stop_guests_reads_the_wait_as_debians_script_does(tmp_path):
    assert stop_guests.configured_wait(os.path.join(OVERLAY, "etc/default/xendomains")) == 60
    debian = tmp_path / "xendomains"
    debian.write_text("# Debian's\nXENDOMAINS_SAVE=/var/lib/xen/save\nXENDOMAINS_STOP_MAXWAIT=300\n")
    assert stop_guests.configured_wait(str(debian)) == 300
    assert stop_guests.configured_wait(str(tmp_path / "missing")) == stop_guests.WAIT


# ---- bounded.py: a command that hangs is left, never waited for -------------------------------------

def test_a_command_stuck_past_its_deadline_is_left_behind(tmp_path):
    # a process that outlives SIGKILL (uninterruptible sleep) cannot be made here; the nearest: a
    # shell whose output a child holds open, so that waiting for its end would block as well
    pids = tmp_path / "pids"
    start = time.monotonic()
    try:
        results = bounded.run_all([["sh", "-c", f"sleep 600 & echo $! >> {pids}; wait"], ["echo", "quick"],
                                   ["/nonexistent/xl"]], 1)
    finally:
        _kill_listed(pids)
    assert time.monotonic() - start < 5
    assert results[0] == (bounded.NO_ANSWER, "", "no answer within 1 s")
    assert results[1] == (0, "quick\n", "")
    assert results[2][0] == bounded.NOT_RUN and results[2][2] == "No such file or directory"


# ---- stop-guests with a fake xl ---------------------------------------------------------------------

FAKE_XL = r"""#!/usr/bin/env python3
# A fake xl over a JSON state file: {"domains": {id: [name, state, behaviour]}, "log": [...]}.
# behaviour on shutdown: "obeys" (gone), "lingers" (stays listed, shut down), "ignores", "refuses"
# (fails); "hangs": xl shutdown never returns, as if stuck in the kernel (killing it leaves its
# output open: a child holds it); "wedged": xl destroy hangs too. Calls may run side by side.
import fcntl, json, os, subprocess, sys, time
path = os.environ["XL_STATE"]
cmd, args = sys.argv[1], sys.argv[2:]
with open(path + ".lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    st = json.load(open(path))
    st["log"].append(" ".join(sys.argv[1:]))
    doms = st["domains"]
    how = doms[args[-1]][2] if cmd in ("shutdown", "destroy") and args[-1] in doms else ""
    hang = (cmd == "shutdown" and how in ("hangs", "wedged")) or (cmd == "destroy" and how == "wedged")
    if cmd == "list" and not st.get("broken"):
        print("Name                                        ID   Mem VCPUs\tState\tTime(s)")
        print("Domain-0                                     0  1024     1     r-----      63.2")
        for domid, (name, state, _) in sorted(doms.items(), key=lambda d: int(d[0])):
            print(f"{name:40s} {domid:>5} 128 1 {state} 1.0")
    elif cmd == "shutdown" and how == "obeys":
        del doms[args[-1]]
    elif cmd == "shutdown" and how == "lingers":
        doms[args[-1]][1] = "---s--"
    elif cmd == "destroy" and not hang:
        doms.pop(args[-1], None)
    json.dump(st, open(path, "w"))
if cmd == "list" and st.get("broken"):
    sys.exit(1)
if hang:
    child = subprocess.Popen(["sleep", "600"])
    with open(os.environ["XL_HUNG"], "a") as f:
        f.write(f"{child.pid}\n")
    time.sleep(600)
if cmd == "shutdown" and how == "refuses":
    print("libxl: error: PV control interface not available", file=sys.stderr)
    sys.exit(1)
"""


@pytest.fixture
def xl(tmp_path):
    """The fake xl and systemctl on PATH (the unit's stop timeout: XH_STOP_TIMEOUT, else the drop-in's
    6min), over state in tmp_path; the stuck children of hung calls are killed afterwards."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    _executable(bin_ / "xl", FAKE_XL)
    _executable(bin_ / "systemctl", "#!/bin/sh\n"
                                    "[ \"$*\" = 'show -p TimeoutStopUSec --value xendomains.service' ] || exit 1\n"
                                    "echo \"${XH_STOP_TIMEOUT:-6min}\"\n")
    hung = tmp_path / "hung-pids"
    yield tmp_path, {**os.environ, "PATH": f"{bin_}:{os.environ['PATH']}", "XL_STATE": str(tmp_path / "xl.json"),
                     "XL_HUNG": str(hung)}
    _kill_listed(hung)


def start_stop_guests(xl, domains: dict, *args: str, broken: bool = False, **env) -> subprocess.Popen:
    tmp, environ = xl
    (tmp / "xl.json").write_text(json.dumps({"domains": domains, "log": [], "broken": broken}))
    return subprocess.Popen([sys.executable, os.path.join(LIB, "stop-guests"), "--interval", "0.1", *args],
                            env={**environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_stop_guests(xl, domains: dict, *args: str, **kw) -> tuple[subprocess.CompletedProcess, dict]:
    proc = start_stop_guests(xl, domains, *(args or ("--wait", "1")), **kw)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), \
        json.loads((xl[0] / "xl.json").read_text())


def test_stop_guests_shuts_every_guest_down_then_destroys_what_is_left(xl):
    start = time.monotonic()
    res, state = run_stop_guests(xl, {"3": ["quick", "-b----", "obeys"], "4": ["stuck", "r-----", "ignores"],
                                      "5": ["orphan", "-b----", "lingers"], "6": ["no pv", "-b----", "refuses"]})
    assert res.returncode == 0, res.stderr
    assert 1 <= time.monotonic() - start < 30
    lines = res.stdout.splitlines()
    assert lines[0] == ("xenhost: shutting down 4 guests, waiting up to 1 s: quick (3), stuck (4), orphan (5), "
                        "no pv (6)")
    assert "xenhost: guest no pv (6): xl shutdown failed: libxl: error: PV control interface not available" in lines
    assert "xenhost: guest quick (3) shut down after 0 s" in lines
    assert "xenhost: guest orphan (5) shut down after 0 s" in lines          # shut down, then its domain cleared
    assert lines[-2:] == ["xenhost: guest stuck (4) did not shut down within 1 s: destroyed",
                          "xenhost: guest no pv (6) did not shut down within 1 s: destroyed"]
    assert state["domains"] == {}
    log = state["log"]
    asked = [c for c in log if c.startswith("shutdown")]
    assert sorted(asked) == ["shutdown -F 3", "shutdown -F 4", "shutdown -F 5", "shutdown -F 6"]
    assert log.index("destroy 4") > max(log.index(c) for c in asked) and "destroy 3" not in log


def test_stop_guests_with_no_guest_says_so_at_once(xl):
    res, state = run_stop_guests(xl, {})
    assert res.stdout == "xenhost: no guests running\n" and state["log"] == ["list"]


def test_stop_guests_says_when_xl_does_not_answer(xl):
    res, _ = run_stop_guests(xl, {"3": ["g", "-b----", "obeys"]}, broken=True)
    assert res.returncode == 1 and res.stdout == "xenhost: xl list does not answer: the guests could not be shut down\n"


def test_stop_guests_cuts_the_wait_to_fit_the_units_stop_timeout(xl):
    # Debian's 300 s wait under a 12 s stop timeout: systemd would kill stop-guests before it destroys
    start = time.monotonic()
    res, state = run_stop_guests(xl, {"3": ["stuck", "r-----", "ignores"], "4": ["quick", "-b----", "obeys"]},
                                 "--wait", "300", "--ask-within", "1", "--destroy-within", "1",
                                 XH_STOP_TIMEOUT="12s")
    took = time.monotonic() - start
    assert took < 12, took
    lines = res.stdout.splitlines()
    cut = re.fullmatch(r"xenhost: XENDOMAINS_STOP_MAXWAIT=300 cut to ([45]) s: xendomains.service must stop within "
                       r"12 s \(TimeoutStopSec\), and asking the guests and destroying what is left need up to 7 s "
                       r"of it", lines[0])
    assert cut, lines
    assert lines[1] == f"xenhost: shutting down 2 guests, waiting up to {cut.group(1)} s: stuck (3), quick (4)"
    assert lines[-1] == f"xenhost: guest stuck (3) did not shut down within {cut.group(1)} s: destroyed"
    assert state["domains"] == {}


def test_stop_guests_keeps_its_bound_when_xl_calls_hang(xl):
    # one stuck `xl shutdown` and one stuck `xl destroy`: the others are asked, waited for and
    # destroyed in the same time, and nothing is waited for past its step
    start = time.monotonic()
    res, state = run_stop_guests(xl, {"3": ["hung", "r-----", "hangs"], "4": ["quick", "-b----", "obeys"],
                                      "5": ["wedged", "r-----", "wedged"], "6": ["stuck", "r-----", "ignores"]},
                                 "--wait", "2", "--ask-within", "1", "--destroy-within", "1")
    took = time.monotonic() - start
    assert res.returncode == 0, res.stderr
    assert took < 10, took               # about ask 1 + wait 2 + destroy 1
    lines = res.stdout.splitlines()
    assert "xenhost: guest hung (3): xl shutdown failed: no answer within 1 s" in lines
    assert "xenhost: guest wedged (5): xl shutdown failed: no answer within 1 s" in lines
    assert "xenhost: guest quick (4) shut down after 0 s" in lines
    assert lines[-3:] == ["xenhost: guest hung (3) did not shut down within 2 s: destroyed",
                          "xenhost: guest wedged (5) did not shut down within 2 s and could not be destroyed "
                          "(xl destroy: no answer within 1 s)",
                          "xenhost: guest stuck (6) did not shut down within 2 s: destroyed"]
    assert list(state["domains"]) == ["5"]


def test_stop_guests_destroys_what_is_left_when_systemd_says_stop(xl):
    proc = start_stop_guests(xl, {"3": ["stuck", "r-----", "ignores"]}, "--wait", "60")
    try:
        assert proc.stdout.readline().startswith("xenhost: shutting down 1 guest, waiting up to 60 s")
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert re.search(r"^xenhost: told to stop after 1 s \(SIGTERM: xendomains.service's stop timeout\): destroying "
                     r"the guests left\nxenhost: guest stuck \(3\) did not shut down within 1 s: destroyed\n$", out), out
    assert json.loads((xl[0] / "xl.json").read_text())["domains"] == {}
