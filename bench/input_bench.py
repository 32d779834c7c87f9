#!/usr/bin/python3
"""Input-size benchmark: every command on answer files (and boot lines) of hostile shapes, at
several sizes up to the 1 MiB limit, side by side.

Each shape stresses one path: a long comment, a long attribute or text (valid or quoted back in an
error), URLs with credentials and secret query values, many lines, elements or attributes, a huge
password, UTF-16. Linear code shows time growing with size (x4 from 256 KiB to 1 MiB); a quadratic
spot shows x16. Runs in-process (python -m installer's own main), so start-up time is left out.

    .venv/bin/python bench/input_bench.py [--sizes 65536,262144,1048576] [--shape NAME ...]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from installer import commands  # noqa: E402
from installer.xmlsafe import MAX_BYTES  # noqa: E402

MACHINE = os.path.join(ROOT, "tests", "machines", "uefi-3disks.json")
PASSWORD = "Known-Pa55word"
BASE = f"""<?xml version="1.0"?>
<installation>
  <primary-disk>sda</primary-disk>
  <keymap>us</keymap>
  <root-password>{PASSWORD}</root-password>
  <source type="local"/>
  <admin-interface name="eth0" proto="dhcp"/>
  <timezone>Europe/Paris</timezone>
  <!--FILL-->
</installation>
"""


def _fill(n: int, make, base: str = BASE, marker: str = "<!--FILL-->") -> bytes:
    """base with marker replaced by make(k), k chosen so the file is about n bytes (never more)."""
    budget = k = max(0, n - len(base.encode()) + len(marker))
    text = make(k)
    while len(text.encode()) > budget and k > 0:     # a repeated unit may overshoot
        k -= len(text.encode()) - budget + 64
        text = make(k)
    return base.replace(marker, text).encode()


def _repeat(unit: str):
    return lambda k: unit * (k // len(unit))


def _wrap(head: str, unit: str, tail: str):
    return lambda k: head + unit * (max(0, k - len(head) - len(tail)) // len(unit)) + tail


def _replace(old: str, head: str, unit: str, tail: str):
    """BASE with one line replaced by head + unit... + tail."""
    base = BASE.replace(old, "<!--FILL-->").replace("  <!--FILL-->\n</installation>", "</installation>")
    return lambda n: _fill(n, _wrap(head, unit, tail), base)


def _services(k: int) -> str:
    """As many <service> elements as the limit allows (5000), names padded to fill the size."""
    unit = len('<service name="s0000-x" state="enabled"/>')
    count = min(4900, k // unit)
    pad = max(1, min(200, k // max(count, 1) - unit + 1))
    return "".join(f'<service name="s{i:04}-{"x" * pad}" state="enabled"/>' for i in range(count))


# name -> n -> answer file bytes of about n bytes
SHAPES = {
    "comment": lambda n: _fill(n, _wrap("<!-- ", "a", " -->")),
    "comment-urls": lambda n: _fill(n, _wrap("<!-- ", "http://u:p@h/?token=x&sig=y a=b ", " -->")),
    "comment-url-run": lambda n: _fill(n, _wrap("<!-- http://", "a:", "@ -->")),
    "comment-key-run": lambda n: _fill(n, _wrap("<!-- ", "a=", " -->")),
    "comment-lines": lambda n: _fill(n, _wrap("<!-- ", "\n", " -->")),
    "attribute-valid": _replace('  <primary-disk>sda</primary-disk>\n',
                                '  <primary-disk><match model="', "a", '"/></primary-disk>\n'),
    "attribute-unknown": _replace('  <source type="local"/>\n', '  <source type="local" x="', "a", '"/>\n'),
    "attribute-bad-value": _replace('  <source type="local"/>\n', '  <source type="', "a", '"/>\n'),
    "attribute-urls": _replace('  <source type="local"/>\n', '  <source type="local" x="',
                               "http://u:p@h/?token=x ", '"/>\n'),
    "text-url": _replace('  <source type="local"/>\n', '  <source type="url">http://192.0.2.5/', "a",
                         "</source>\n"),
    "text-url-password": _replace('  <source type="local"/>\n', '  <source type="url">http://u:', "p@/",
                                  "@192.0.2.5/tree</source>\n"),
    "text-url-query": _replace('  <source type="local"/>\n', '  <source type="url">http://192.0.2.5/t?',
                               "token=x&amp;", "</source>\n"),
    "text-bad": _replace('  <timezone>Europe/Paris</timezone>\n', "  <hostname>", "a", "</hostname>\n"),
    "text-blank-lines": _replace('  <timezone>Europe/Paris</timezone>\n', "  <hostname>", "\n",
                                 "host</hostname>\n"),
    "password-long": _replace(f"  <root-password>{PASSWORD}</root-password>\n", "  <root-password>", "p",
                              "</root-password>\n"),
    "password-charrefs": _replace(f"  <root-password>{PASSWORD}</root-password>\n", "  <root-password>",
                                  "&#112;", "</root-password>\n"),
    "password-hash": _replace(f"  <root-password>{PASSWORD}</root-password>\n",
                              '  <root-password type="hash">$6$', "a", "</root-password>\n"),
    "many-elements": lambda n: _fill(n, _services),
    "many-elements-one-line": lambda n: _fill(n, _services).replace(b"\n", b" "),
    "many-attributes": lambda n: _fill(n, lambda k: '<source type="local"' + "".join(
        f' a{i}="1"' for i in range(k // 10)) + "/>"),
    "many-unknown-attributes": lambda n: _fill(n, lambda k: "".join(
        f'<service name="s{i:04}" state="enabled" namx="1" stata="1" nome="{"1" * max(1, k // 3900 - 70)}"/>'
        for i in range(min(3900, k // 71)))),
    "utf16-comment": lambda n: _fill(n // 2 - 64, _wrap("<!-- ", "a", " -->")).replace(
        b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>').decode().encode("utf-16"),
}

# name -> n -> kernel command line of about n characters
BOOT_SHAPES = {
    "word": lambda n: "x" * n,
    "params": lambda n: "a=b " * (n // 4),
    "consoles": lambda n: "console=ttyS0 " * (n // 14),
    "answerfile-password": lambda n: "answerfile=http://u:" + "p" * n + "@192.0.2.5/a.xml",
    "answerfile-query": lambda n: "answerfile=http://192.0.2.5/a.xml?" + "token=x&" * (n // 8),
    "sshpassword": lambda n: "sshpassword=" + "p" * n,
    "unterminated-quote": lambda n: 'x="' + "a " * (n // 2),
}

COMMANDS = {
    "validate": lambda f: ["validate", f],
    "validate --json": lambda f: ["validate", "--json", f],
    "plan": lambda f: ["plan", f, "--machine", MACHINE, "--reproducible"],
    "install --dry-run": lambda f: ["install", "--dry-run", f, "--machine", MACHINE, "--reproducible"],
}


def timed(argv: list[str]) -> tuple[float, int, str]:
    """(seconds, exit code, output) of python -m installer ARGV, run in this process."""
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = commands.main(argv)
        except Exception as exc:  # noqa: BLE001 - a bug elsewhere: time it, say so, go on
            code = -1
            print(f"traceback: {type(exc).__name__}: {exc}")
    return time.perf_counter() - start, code, out.getvalue()


def _row(shape: str, command: str, runs: list[tuple[float, int, str]]) -> str:
    times = [t for t, _, _ in runs]
    ratio = f"  x{times[-1] / max(times[-2], 1e-4):<5.1f}" if len(times) > 1 else ""
    code = runs[-1][1]
    status = "ok" if code == 0 else "TRACEBACK" if code < 0 else f"exit {code}"
    return f"{shape:<24} {command:<18}" + "".join(f"{t:>11.3f}s" for t in times) + ratio + " " + status


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=f"65536,262144,{MAX_BYTES}")
    ap.add_argument("--shape", action="append", help="only these shapes (repeatable)")
    ap.add_argument("--dir", default="/tmp/input-bench")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    os.makedirs(args.dir, exist_ok=True)
    head = (f"{'shape':<24} {'command':<18}" + "".join(f"{s // 1024:>8} KiB" for s in sizes)
            + "  last/prev status (largest)")
    print(head)
    print("-" * len(head))
    worst = 0.0
    for name, make in SHAPES.items():
        if args.shape and name not in args.shape:
            continue
        files = []
        for size in sizes:
            path = os.path.join(args.dir, f"{name}-{size}.xml")
            with open(path, "wb") as f:
                f.write(make(size))
            files.append(path)
        for command, argv in COMMANDS.items():
            runs = [timed(argv(f)) for f in files]
            worst = max(worst, runs[-1][0])
            print(_row(name, command, runs), flush=True)
    for name, make in BOOT_SHAPES.items():
        if args.shape and name not in args.shape:
            continue
        runs = [timed(["cmdline", make(size)]) for size in sizes]
        worst = max(worst, runs[-1][0])
        print(_row("boot:" + name, "cmdline", runs), flush=True)
    print(f"\nslowest run at {sizes[-1] // 1024} KiB: {worst:.3f}s (last/prev: the time ratio of the "
          "last two sizes; linear code grows as the size, quadratic code as its square)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
