#!/usr/bin/python3
"""Build the installer environment, the product tree, the ISO or the PXE artifacts (cached by
inputs); print their paths.

usage: image/build.py {env,product,all,iso,pxe,report} [--force] [--output PATH]
"""
import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xhbuild import envbuild  # noqa: E402


def _publish(src: str, dest: str) -> None:
    """Put a cached result at dest as hard links (a copy across file systems)."""
    def link(s, d):
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)
    if os.path.isdir(dest) and not os.path.islink(dest):
        shutil.rmtree(dest)
    elif os.path.lexists(dest):
        os.unlink(dest)
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    if os.path.isdir(src):
        shutil.copytree(src, dest, copy_function=link)
    else:
        link(src, dest)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["env", "product", "all", "iso", "pxe", "report"])
    ap.add_argument("--force", action="store_true", help="rebuild even when cached")
    ap.add_argument("--output", help="also put the ISO or the PXE directory here (hard links)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("image/build.py must run as root (mmdebstrap --mode=root, chroot)", file=sys.stderr)
        return 2
    if args.what in ("env", "all"):
        print(envbuild.build(args.force))
    if args.what in ("product", "all"):
        from xhbuild import productbuild
        print(productbuild.build(args.force))
    if args.what in ("iso", "pxe"):
        from xhbuild import isobuild, pxebuild, report
        result = (isobuild if args.what == "iso" else pxebuild).build(args.force)
        if args.output:
            _publish(result, args.output)
            result = args.output
        print(report.render(), file=sys.stderr)
        print(result)
    if args.what == "report":
        from xhbuild import report
        print(report.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
