"""The QEMU harness notices a crashed guest kernel on the console at once (not at its timeout)."""
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "vm-tests"))
from harness import VM, GuestCrash  # noqa: E402

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
