#!/usr/bin/env python3
"""Print the phase timings the vm-tests recorded (build/vm-tests/timings.json) as one table."""
import json
import os
import sys

PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "vm-tests",
                    "timings.json")


def table(data: dict[str, dict[str, float]]) -> str:
    first = ["installer boot", "install", "first boot to host ready"]
    phases = list(dict.fromkeys(first + [p for t in data.values() for p in t]))
    rows = [["scenario", *phases, "total"]]
    for name, t in sorted(data.items()):
        rows.append([name, *(f"{t[p]:.0f} s" if p in t else "-" for p in phases), f"{sum(t.values()):.0f} s"])
    width = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, width)))
             for r in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def main() -> int:
    if not os.path.exists(PATH):
        print(f"no timings recorded yet ({PATH})")
        return 0
    with open(PATH) as f:
        print(table(json.load(f)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
