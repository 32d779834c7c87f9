#!/usr/bin/python3
"""Build the installer environment and/or the product tree (cached by inputs); print their paths.

usage: image/build.py {env,product,all} [--force]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xhbuild import envbuild  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["env", "product", "all", "iso"])
    ap.add_argument("--force", action="store_true", help="rebuild even when cached")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("image/build.py must run as root (mmdebstrap --mode=root, chroot)", file=sys.stderr)
        return 2
    if args.what in ("env", "all"):
        print(envbuild.build(args.force))
    if args.what in ("product", "all"):
        from xhbuild import productbuild
        print(productbuild.build(args.force))
    if args.what == "iso":
        from xhbuild import isobuild
        print(isobuild.build(args.force))
    return 0


if __name__ == "__main__":
    sys.exit(main())
