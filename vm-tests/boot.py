#!/usr/bin/env python3
"""Boot an installed disk image in QEMU (TCG) and wait for the host's HOST READY (or NOT READY) line.

usage: vm-tests/boot.py IMAGE [--firmware bios|uefi] [--timeout S] [--keep-running]
The serial log is written next to the image; guests are network-isolated (restrict=on).
"""
import argparse
import os
import sys
import time

from harness import VM      # beside this script: run as a script, its directory is on the path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("image")
    ap.add_argument("--firmware", choices=["bios", "uefi"], default="uefi")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--keep-running", action="store_true", help="leave the VM up after the ready line")
    args = ap.parse_args()
    workdir = os.path.dirname(os.path.abspath(args.image))
    vm = VM(os.path.splitext(os.path.basename(args.image))[0], args.image, args.firmware, workdir).start()
    print(f"booting {args.image} ({args.firmware.upper()}, TCG); serial log {vm.serial_log}", flush=True)
    try:
        m = vm.wait_for(r"\*\*\* .*HOST (?:NOT )?READY.*\*\*\*", args.timeout)
    except AssertionError as exc:
        print(exc, file=sys.stderr)
        vm.stop()
        return 1
    print(f"{m.group(0)}\n(after {time.monotonic() - vm.started:.0f} s)", flush=True)
    rc = 1 if "HOST NOT READY" in m.group(0) else 0
    if args.keep_running:
        print(f"VM left running (pid {vm.proc.pid}); ssh -p {vm.ssh_port} root@127.0.0.1")
        return rc
    vm.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main())
