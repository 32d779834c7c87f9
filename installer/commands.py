"""The command line, `python -m installer ...`: every command's arguments, the checks of their
combinations, and the front end each goes to: cli (validate, plan, probe, cmdline, install here),
image_install (install --target-image, from a build machine), ui.launch (tui, the wizard).
Front ends never import each other; this module only chooses one.
"""
from __future__ import annotations

import argparse
import sys

from . import __version__, cli, envchroot, image_install, session
from .cli import EXIT_INVALID, EXIT_USAGE
from .errors import InstallerError
from .ui import launch


def cmd_install(args) -> int:
    """install: the answer file into a disk image (a build machine), or onto this machine's disks
    (inside the installer environment), or a dry run of it."""
    path = cli.answerfile_of(args)
    if not path:
        print("install: give the answer file (--answerfile FILE)", file=sys.stderr)
        return EXIT_USAGE
    if args.machine and args.boot_mode:
        # the recorded machine's firmware is part of its record (Secure Boot with it): never half-changed
        print("install: --boot-mode is for this machine or a target; a recorded machine (--machine) "
              "boots as its file says: set \"boot_mode\" there (with its Secure Boot fields) or record "
              "the machine again", file=sys.stderr)
        return EXIT_USAGE
    if args.dry_run and (args.target_image or args.target_disk):
        # a dry run plans against --machine or this machine's disks: it would not preview the target
        print("install: --dry-run plans against a recorded machine (--machine) or this machine; it "
              "cannot preview --target-image/--target-disk (use plan --machine M.json)", file=sys.stderr)
        return EXIT_USAGE
    if args.dry_run:
        return cli.install(args, path, dry_run=True)
    if args.target_image:
        if envchroot.in_environment():
            print("install: --target-image is for build machines; inside the installer give "
                  "--target-disk", file=sys.stderr)
            return EXIT_USAGE
        return image_install.run(path, args.target_image, size=args.size, boot_mode=args.boot_mode,
                                 cmdline_text=args.cmdline, reproducible=args.reproducible,
                                 tree=args.tree, out=args.out, events=args.events, log=args.log)
    if not envchroot.in_environment():
        print("install: real installs run inside the installer environment (booted, or entered "
              "with --target-image on a build machine); use --dry-run to see what would happen",
              file=sys.stderr)
        return EXIT_USAGE
    if args.machine:
        print("install: --machine (a recorded machine) is only for --dry-run; a real install plans "
              "against the disks it can see", file=sys.stderr)
        return EXIT_USAGE
    if args.virtual_nics and not args.target_disk:
        print("install: --virtual-nics needs --target-disk", file=sys.stderr)
        return EXIT_USAGE
    return cli.install(args, path, dry_run=False)


def build_parser() -> argparse.ArgumentParser:
    """Every command and its arguments; each names the function that runs it (func)."""
    ap = argparse.ArgumentParser(prog="python -m installer", description="Xen host installer")
    ap.add_argument("--version", action="version", version=__version__)
    ap.add_argument("--log", help="write the installer log (secrets masked) to this file")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check answer files; exit 1 if any is invalid")
    p.add_argument("files", nargs="+")
    p.add_argument("--json", action="store_true", help="print the normalized InstallConfig")
    p.set_defaults(func=cli.cmd_validate)

    for name, func, helptext in (("plan", cli.cmd_plan, "dry run: show what an install would do"),
                                 ("install", cmd_install, "run the install engine")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("file", nargs="?" if name == "install" else None, help="answer file")
        p.add_argument("--machine", help="recorded machine description (JSON) instead of probing")
        p.add_argument("--cmdline", metavar="TEXT",
                       help="installer kernel parameters to apply (atexit=...), as at boot")
        p.add_argument("--reproducible", action="store_true",
                       help="fixed UUIDs, label suffix and date (for comparisons)")
        if name == "plan":
            p.add_argument("--json", action="store_true")
            p.add_argument("--show-files", action="store_true", help="print the rendered files")
        else:
            p.add_argument("--answerfile", metavar="FILE", help="answer file (instead of the positional)")
            p.add_argument("--dry-run", action="store_true", help="run every step without side effects")
            p.add_argument("--events", help="write the JSON-lines event stream to this file")
            where = p.add_mutually_exclusive_group()
            where.add_argument("--target-image", metavar="IMG",
                               help="install into this disk image file (created sparse if missing); "
                                    "it replaces the answer file's primary disk")
            where.add_argument("--target-disk", metavar="DEV",
                               help="install onto this block device instead of the answer file's primary disk")
            p.add_argument("--size", help="size of a new --target-image (default 64G)")
            p.add_argument("--boot-mode", choices=["bios", "uefi"],
                           help="firmware the target will boot with (default: --target-image: uefi; "
                                "otherwise this machine's); not with --machine, whose file says it")
            p.add_argument("--virtual-nics", action="store_true",
                           help="the target is another machine: take its NICs from the answer file")
            p.add_argument("--tree", help="product tree directory (default: the newest build / the media)")
            p.add_argument("--out", default="build/install",
                           help="--target-image: directory for the installer log and events")
        p.set_defaults(func=func)

    p = sub.add_parser("probe", help="describe this machine")
    p.add_argument("--json", action="store_true")
    p.add_argument("--include-loop", action="store_true", help="also list loop devices")
    p.add_argument("--disk", action="append", help="only this disk (kernel name); repeatable")
    p.set_defaults(func=cli.cmd_probe)

    p = sub.add_parser("cmdline", help="parse installer kernel parameters (default: /proc/cmdline)")
    p.add_argument("text", nargs="?")
    p.set_defaults(func=cli.cmd_cmdline)

    launch.add_parser(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    """Run one command; what it refuses is said in words, with exit 1 (2: a usage error)."""
    args = build_parser().parse_args(argv)
    session.setup_logging(args.log)
    try:
        return args.func(args)
    except InstallerError as exc:      # ConfigError and PlanError too: stderr and the --log file
        return cli.refused(args, exc)
