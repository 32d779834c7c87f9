"""The QEMU harness notices a crashed guest kernel on the console at once (not at its timeout), and
where nothing was written yet powers the VM on once more."""
import subprocess
import time

import pytest

from harness import VM, GuestCrash

OOPS = """[   48.301022] ------------[ cut here ]------------
[   48.302000] kernel BUG at mm/slub.c:123!
[   48.303000] Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI
"""


@pytest.fixture
def vm(tmp_path):
    vm = VM("t", str(tmp_path / "disk"), "bios", str(tmp_path))
    vm.proc = subprocess.Popen(["sleep", "60"])      # stands in for QEMU: still running
    vm.started = time.monotonic()
    yield vm
    vm.proc.kill()
    vm.proc.wait()


def test_crash_is_reported_with_its_report(vm):
    with open(vm.serial_log, "w") as f:
        f.write("Welcome\n" + OOPS + "more\n")
    t = time.monotonic()
    with pytest.raises(GuestCrash) as e:
        vm.wait_for("HOST READY", timeout=60)
    assert time.monotonic() - t < 5
    assert "kernel BUG at mm/slub.c:123" in str(e.value) and "Oops: invalid opcode" in str(e.value)


def test_text_without_a_kernel_timestamp_is_no_crash(vm):
    with open(vm.serial_log, "w") as f:
        f.write("a BUG: in a user message, no kernel timestamp\n")
    with pytest.raises(AssertionError) as e:
        vm.wait_for("HOST READY", timeout=3)
    assert not isinstance(e.value, GuestCrash) and "after 3 s" in str(e.value)


def test_a_crash_before_anything_was_written_powers_on_once_more(tmp_path, monkeypatch):
    """The first power-on crashes, the second reaches the line: the crashed console is kept, a
    warning says so, and at_power_on (the boot loader typing) runs again."""
    powered: list[int] = []
    vm = VM("t", str(tmp_path / "disk"), "bios", str(tmp_path), at_power_on=lambda v: powered.append(1))
    console = [OOPS, "installer: answer file: http://x/a.xml\n"]
    # a test double for QEMU: writes the console this power-on shows, then keeps running
    monkeypatch.setattr(vm, "argv", lambda: ["sh", "-c", f"printf '%s' \"$0\" > {vm.serial_log}; exec sleep 60",
                                             console[len(powered)]])
    try:
        vm.start()
        with pytest.warns(UserWarning, match="powered on once more"):
            m = vm.wait_for_or_restart(r"installer: answer file: (\S+)", timeout=30)
    finally:
        vm.stop()
    assert m.group(1) == "http://x/a.xml" and len(powered) == 2
    assert "kernel BUG at mm/slub.c:123" in open(tmp_path / "t-crashed-serial.log").read()


def test_a_second_crash_fails(tmp_path, monkeypatch):
    vm = VM("t", str(tmp_path / "disk"), "bios", str(tmp_path))
    monkeypatch.setattr(vm, "argv", lambda: ["sh", "-c", f"printf '%s' \"$0\" > {vm.serial_log}; exec sleep 60", OOPS])
    try:
        vm.start()
        with pytest.warns(UserWarning), pytest.raises(GuestCrash):
            vm.wait_for_or_restart("HOST READY", timeout=30)
    finally:
        vm.stop()
