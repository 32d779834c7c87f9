"""The event stream: JSON lines that the TUI, the text progress, the logs and the tests all read.

Types: step-start, progress (0..1 ratio for the step and overall), log, warning, error, step-end,
finished. Every message passes the secret masker before it leaves the process.
"""
from __future__ import annotations

import json
import sys
import time
from typing import Callable, TextIO

from .runner import SECRETS, Secrets

TYPES = ("step-start", "progress", "log", "warning", "error", "step-end", "finished")


class Events:
    def __init__(self, secrets: Secrets = SECRETS, clock: Callable[[], float] = time.time):
        self.sinks: list[Callable[[dict], None]] = []
        self.secrets, self.clock = secrets, clock

    def add_sink(self, sink: Callable[[dict], None]) -> None:
        self.sinks.append(sink)

    def emit(self, type_: str, **fields) -> dict:
        assert type_ in TYPES, type_
        event = {"type": type_, "time": round(self.clock(), 3), **self._masked(fields)}
        for sink in self.sinks:
            sink(event)
        return event

    def _masked(self, value):
        """Every string anywhere in the event (lists of actions included) passes the masker."""
        if isinstance(value, str):
            return self.secrets.mask(value)
        if isinstance(value, dict):
            return {k: self._masked(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._masked(v) for v in value]
        return value


def jsonl_sink(stream: TextIO) -> Callable[[dict], None]:
    def write(event: dict) -> None:
        stream.write(json.dumps(event, sort_keys=True) + "\n")
        stream.flush()
    return write


def text_sink(stream: TextIO = sys.stderr) -> Callable[[dict], None]:
    """Human-readable progress for a console or serial line (progress: a line per tenth of a step)."""
    tenths: dict[str, int] = {}

    def write(event: dict) -> None:
        t = event["type"]
        if t == "progress":
            tenth = int(event["ratio"] * 10)
            if tenth <= tenths.get(event["step"], 0) or tenth >= 10:
                return
            tenths[event["step"]] = tenth
            line = f"      {tenth * 10}% ({event['overall'] * 100:.0f}% of the install)"
        elif t == "step-start":
            line = f"[{event['index']}/{event['total']}] {event['title']}..."
        elif t == "step-end":
            line = f"      done in {event['duration']:.1f}s"
        elif t in ("warning", "error"):
            line = f"{t.upper()}: {event['message']}"
        elif t == "log":
            line = f"      {event['message']}"
        elif t == "finished":
            line = (f"Installation finished successfully in {event['duration']:.1f}s" if event["status"] == "success"
                    else f"INSTALLATION FAILED in step {event.get('failed_step')!r}: {event.get('message')}")
        else:
            return
        stream.write(line + "\n")
        stream.flush()
    return write
