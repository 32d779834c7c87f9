"""The engine's command-line front end: validate, plan, probe, cmdline, and install here (a dry run,
or for real inside the installer environment). installer.commands parses `python -m installer` and
hands these their arguments."""
from __future__ import annotations

import dataclasses
import json
import logging
import sys

from . import cmdline, machine as machine_mod, secureboot, session
from .config import to_plain
from .machine import gib
from .errors import ConfigError, InstallerError, PlanError
from .plan import FIXED_IDS, make_plan
from .probe import probe
from .retarget import image_machine, retarget
from .runner import SECRETS

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("installer.cli")
# what is said here is on stderr already: without --log, no second copy there (logging's last resort)
log.addHandler(logging.NullHandler())


def print_diags(diags, level: int = logging.ERROR) -> None:
    """Diagnostics on stderr and in the --log file, secrets masked."""
    for d in diags:
        text = SECRETS.mask(str(d))
        print(text, file=sys.stderr)
        log.log(level, "%s", text)


def _warn(diagnostic) -> None:
    print_diags([diagnostic], logging.WARNING)


def refused(args, exc: InstallerError) -> int:
    """What a command refuses (an invalid answer file or boot line, a plan that cannot be made, any
    other error in words), on stderr and in the --log file: a log that stops without its reason
    tells the operator nothing. The exit status: 1."""
    if isinstance(exc, ConfigError):
        print_diags(exc.diagnostics)
        print_diags(exc.warnings, logging.WARNING)
    elif isinstance(exc, PlanError):
        print_diags(f"{answerfile_of(args)}: plan error: {problem}" for problem in exc.problems)
    else:
        print_diags([f"error: {exc}"])
    return EXIT_INVALID


def cmd_validate(args) -> int:
    status, configs = EXIT_OK, {}
    for path in args.files:
        try:
            cfg = session.load_answerfile(path, _warn)
        except ConfigError as exc:
            print_diags(exc.diagnostics + exc.warnings)
            status = EXIT_INVALID
            continue
        configs[path] = cfg.to_dict()
        if not args.json:
            print(f"{path}: valid ({cfg.mode.value})")
    if args.json and configs:
        out = next(iter(configs.values())) if len(args.files) == 1 else configs
        print(SECRETS.mask(json.dumps(out, indent=2, sort_keys=True)))
    return status


def _target(args, cfg):
    """(config, machine) to plan against: the recorded machine, or this one probed. --target-disk
    makes that disk the primary one; with --virtual-nics the disk is for another machine (an image):
    only it is seen, and this machine's firmware boot entries are not the target's to change."""
    target = getattr(args, "target_disk", None)
    if target:
        cfg = retarget(cfg, target)
    if getattr(args, "machine", None):      # its boot mode is its file's (--boot-mode is refused with it)
        return cfg, machine_mod.load(args.machine)
    if getattr(args, "virtual_nics", False):
        seen = probe(include_loop=True, only=[target.removeprefix("/dev/")])
        m = image_machine(cfg, seen.disks, seen.boot_mode)
        cfg = dataclasses.replace(cfg, bootloader=dataclasses.replace(cfg.bootloader, write_boot_entry=False))
    else:
        m = probe(include_loop=bool(target and "loop" in target))
    if getattr(args, "boot_mode", None):
        m = dataclasses.replace(m, boot_mode=args.boot_mode)
    return cfg, m


def answerfile_of(args) -> str:
    """The answer file a command names (install also takes it as --answerfile)."""
    return getattr(args, "answerfile", None) or getattr(args, "file", None) or ""


def _load_plan(args, path: str):
    cfg = session.load_answerfile(path, _warn)
    if args.cmdline is not None:
        cfg = cmdline.applied(cfg, session.read_boot_line(args.cmdline, _warn))
    ids = FIXED_IDS if args.reproducible else session.new_ids()
    cfg, machine = _target(args, cfg)
    return cfg, make_plan(cfg, machine, ids)


def cmd_plan(args) -> int:
    cfg, plan = _load_plan(args, args.file)
    if args.json:
        print(SECRETS.mask(json.dumps(plan.to_dict(), indent=2)))
    else:
        print(SECRETS.mask(session.render_plan(plan)))
        if args.show_files:
            for f in plan.files:
                print(f"\n--- {f.path} (mode {f.mode:o})\n{f.content}", end="")
    return EXIT_OK


def cmd_probe(args) -> int:
    m = probe(include_loop=args.include_loop, only=args.disk or None)
    if args.json:
        print(m.to_json(), end="")
    else:
        print(f"Firmware: {m.boot_mode.upper()}; memory {m.memory_mib} MiB; {m.cpu_count} CPUs "
              f"({m.cpu_model}); virtualization: {m.virtualization_shown()}; Secure Boot: "
              f"{secureboot.shown(m)}")
        for d in m.disks:
            flags = [f for f, on in (("removable", d.removable), ("installer media", d.install_media),
                                     ("in use", bool(d.in_use))) if on]
            print(f"disk {d.name}: {gib(d.size)}, {d.logical_sector_size}-byte sectors, "
                  f"{d.model or 'unknown model'} {d.serial}".rstrip()
                  + f"; table {d.table or 'none'}; {len(d.partitions)} partitions"
                  + (f" [{', '.join(flags)}]" if flags else ""))
        for n in m.nics:
            link = {True: "link up", False: "no link", None: "link unknown"}[n.link]
            print(f"nic {n.name}: {n.mac} {n.driver} {link} {' '.join(n.addresses)}".rstrip())
    return EXIT_OK


def cmd_cmdline(args) -> int:
    text = args.text if args.text is not None else cmdline.read_proc()
    try:
        opts = session.read_boot_line(text, _warn)
    except ConfigError as exc:
        print_diags(exc.diagnostics + exc.warnings)
        return EXIT_INVALID
    print(SECRETS.mask(json.dumps(to_plain(opts), indent=2, sort_keys=True)))
    return EXIT_OK


def install(args, path: str, dry_run: bool) -> int:
    """Plan the answer file at path and run the engine on it (the combination of arguments is
    checked by installer.commands)."""
    cfg, plan = _load_plan(args, path)
    outcome = session.run_engine(cfg, plan, sys.stderr, session.masked_file(path),
                                 session.render_plan(plan), args.events, args.log, dry_run,
                                 tree=session.local_tree(args.tree))
    return EXIT_OK if outcome.success else EXIT_INVALID
