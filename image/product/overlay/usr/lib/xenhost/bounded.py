"""Commands run with a deadline that holds (host-ready, stop-guests; tests/test_host_ready.py).

subprocess.run's timeout kills the command, then waits for it to end: a command stuck in the
kernel (`xl` in uninterruptible sleep on a wedged toolstack) outlives the kill, and that wait
lasts for ever. Here a command past its deadline is killed and left behind: neither it nor its
output (which a child of it may hold open) is waited for again.
"""
from __future__ import annotations

import subprocess
import time

NO_ANSWER = 124             # the exit codes of timeout(1) and of a shell that finds no command
NOT_RUN = 127
# after the deadline, a command that has exited gets this long to hand over the rest of its output
_DRAIN = 0.5


class Call:
    """One command, started at once; several run side by side, so that one that hangs costs the
    others nothing."""

    def __init__(self, argv: list[str]):
        self.started = time.monotonic()
        self.error = ""
        try:
            self.proc: subprocess.Popen | None = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except OSError as e:
            self.proc, self.error = None, e.strerror or str(e)

    def result(self, deadline: float) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) once it ends, waiting no later than deadline (a monotonic
        time); NO_ANSWER, its stderr saying how long it had, when it did not end by then."""
        if self.proc is None:
            return NOT_RUN, "", self.error
        try:
            out, err = self.proc.communicate(timeout=max(0.0, deadline - time.monotonic()))
            return self.proc.returncode, out, err
        except subprocess.TimeoutExpired:
            pass
        if self.proc.poll() is not None:         # ended just now; its output may still be in the pipes
            try:
                out, err = self.proc.communicate(timeout=_DRAIN)
                return self.proc.returncode, out, err
            except subprocess.TimeoutExpired:
                return self.proc.returncode, "", ""
        self.proc.kill()                          # and not waited for: it may never go
        for pipe in (self.proc.stdout, self.proc.stderr):
            pipe.close()
        return NO_ANSWER, "", f"no answer within {time.monotonic() - self.started:.0f} s"


def run(argv: list[str], within: float) -> tuple[int, str, str]:
    """One command, given `within` seconds."""
    return Call(argv).result(time.monotonic() + within)


def run_all(argvs: list[list[str]], within: float) -> list[tuple[int, str, str]]:
    """Several commands side by side, all within the same `within` seconds; results in order."""
    calls = [Call(argv) for argv in argvs]
    deadline = time.monotonic() + within
    return [call.result(deadline) for call in calls]
