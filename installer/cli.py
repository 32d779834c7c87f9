"""python -m installer: validate, plan, probe, cmdline, install (dry run)."""
from __future__ import annotations

import argparse
import datetime
import json
import logging
import sys

from . import __version__, answerfile, cmdline, engine, envchroot, hostinstall, machine as machine_mod
from .errors import ConfigError, InstallerError, PlanError
from .events import Events, jsonl_sink, text_sink
from .plan import FIXED_IDS, Ids, make_plan
from .runner import SECRETS

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _print_diags(diags) -> None:
    for d in diags:
        print(SECRETS.mask(str(d)), file=sys.stderr)


def cmd_validate(args) -> int:
    status, configs = EXIT_OK, {}
    for path in args.files:
        try:
            cfg, report = answerfile.parse_file(path)
        except ConfigError as exc:
            _print_diags(exc.diagnostics + exc.warnings)
            status = EXIT_INVALID
            continue
        _print_diags(report.warnings)
        configs[path] = cfg.to_dict()
        if not args.json:
            print(f"{path}: valid ({cfg.mode.value})")
    if args.json and configs:
        out = next(iter(configs.values())) if len(args.files) == 1 else configs
        print(SECRETS.mask(json.dumps(out, indent=2, sort_keys=True)))
    return status


def _machine(args, cfg) -> machine_mod.Machine:
    if getattr(args, "machine", None):
        if getattr(args, "target_disk", None):
            hostinstall.retarget(cfg, args.target_disk)
        return machine_mod.load(args.machine)
    from .probe import probe
    target = getattr(args, "target_disk", None)
    if target:
        hostinstall.retarget(cfg, target)
    if getattr(args, "virtual_nics", False):
        # installing a disk for another machine (an image): only the target disk is ours to see,
        # and this machine's firmware boot entries are not the target's to change
        seen = probe(include_loop=True, only=[target.removeprefix("/dev/")])
        m = hostinstall.image_machine(cfg, seen.disks, seen.boot_mode)
        cfg.bootloader.write_boot_entry = False
    else:
        m = probe(include_loop=bool(target and "loop" in target))
    if getattr(args, "boot_mode", None):
        m.boot_mode = args.boot_mode
    return m


def _load_plan(args):
    cfg, report = answerfile.parse_file(args.file)
    _print_diags(report.warnings)
    if args.cmdline is not None:
        opts, boot_report = cmdline.parse(args.cmdline)
        _print_diags(boot_report.warnings)
        cmdline.apply(cfg, opts)
    ids = FIXED_IDS if args.reproducible else new_ids()
    return cfg, make_plan(cfg, _machine(args, cfg), ids)


def new_ids() -> Ids:
    """Fresh UUIDs and label suffix, dated now (the planner itself never reads the clock)."""
    return Ids.new(datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))


def render_plan(plan) -> str:
    lines = [f"Plan: {plan.mode} install of {plan.product['brand']} {plan.product['version']} "
             f"({plan.boot_mode.upper()} boot)"]
    for disk in plan.disks:
        lines.append(f"\nDisk {disk.path} ({disk.size / 2**30:.1f} GiB) - {disk.role}"
                     + (", will be ERASED" if disk.wipe else ", kept"))
        if disk.holds:
            lines.append("  it holds today, and will lose:")
            lines += [f"    - {h}" for h in disk.holds]
        elif disk.wipe:
            lines.append("  it holds no data today (blank, or an empty partition table)")
        if disk.partitions:
            lines.append(f"  {'#':>2} {'name':<10} {'start MiB':>10} {'end MiB':>10} {'size MiB':>10}  "
                         "file system")
        for p in disk.partitions:
            fs = f"{p.fstype} {p.label}".strip() + (f" on {p.mountpoint}" if p.mountpoint else "")
            lines.append(f"  {p.number:>2} {p.name:<10} {p.start_mib:>10} {p.end_mib:>10} "
                         f"{p.size_mib:>10}  {fs}")
    if plan.raid:
        lines.append(f"\nRAID1 {plan.raid['device']} from {', '.join(plan.raid['members'])}")
    if plan.sr:
        lines.append(f"\nLocal SR: {plan.sr.type} on {', '.join(plan.sr.devices)} (VG {plan.sr.vg})")
    lines.append(f"At the end: {plan.at_exit}")
    lines.append(f"Dom0: {plan.dom0_memory_mib} MiB memory, {plan.dom0_vcpus} vCPUs; "
                 f"hostname {plan.hostname}")
    m = plan.management
    if m:
        v4 = m["ipv4"]["address"] or m["ipv4"]["mode"]
        v6 = m["ipv6"]["address"] or m["ipv6"]["mode"]
        lines.append(f"Management: {m['nic']} ({m['mac']}) on bridge {m['bridge']}"
                     f"{' VLAN ' + str(m['vlan']) if m['vlan'] else ''}; IPv4 {v4}; IPv6 {v6}")
    lines.append("\nSteps:")
    for i, step in enumerate(plan.steps, 1):
        lines.append(f"  {i}. {step.title} [{step.name}]")
        lines += [f"     - {a}" for a in step.actions]
    if plan.files:
        lines.append("\nFiles written on the host: " + ", ".join(f.path for f in plan.files))
    for w in plan.warnings:
        lines.append(f"WARNING: {w}")
    return "\n".join(lines)


def cmd_plan(args) -> int:
    cfg, plan = _load_plan(args)
    if args.json:
        print(SECRETS.mask(json.dumps(plan.to_dict(), indent=2)))
    else:
        print(SECRETS.mask(render_plan(plan)))
        if args.show_files:
            for f in plan.files:
                print(f"\n--- {f.path} (mode {f.mode:o})\n{f.content}", end="")
    return EXIT_OK


def cmd_probe(args) -> int:
    from .probe import probe
    m = probe(include_loop=args.include_loop, only=args.disk or None)
    if args.json:
        print(m.to_json(), end="")
    else:
        print(f"Firmware: {m.boot_mode.upper()}; memory {m.memory_mib} MiB; {m.cpu_count} CPUs "
              f"({m.cpu_model}); virtualization: {m.virtualization or 'none'}")
        for d in m.disks:
            flags = [f for f, on in (("removable", d.removable), ("installer media", d.install_media),
                                     ("in use", bool(d.in_use))) if on]
            print(f"disk {d.name}: {d.size / 2**30:.1f} GiB, {d.logical_sector_size}-byte sectors, "
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
        opts, report = cmdline.parse(text)
    except ConfigError as exc:
        _print_diags(exc.diagnostics + exc.warnings)
        return EXIT_INVALID
    _print_diags(report.warnings)
    from .config import _plain
    print(SECRETS.mask(json.dumps(_plain(opts), indent=2, sort_keys=True)))
    return EXIT_OK


def cmd_install(args) -> int:
    path = args.answerfile or args.file
    if not path:
        print("install: give the answer file (--answerfile FILE)", file=sys.stderr)
        return EXIT_USAGE
    args.file = path
    if args.dry_run and (args.target_image or args.target_disk):
        # a dry run plans against --machine or this machine's disks: it would not preview the target
        print("install: --dry-run plans against a recorded machine (--machine) or this machine; it "
              "cannot preview --target-image/--target-disk (use plan --machine M.json)", file=sys.stderr)
        return EXIT_USAGE
    if args.dry_run:
        cfg, plan = _load_plan(args)
        return _run_engine(args, cfg, plan, dry_run=True)
    if args.target_image:
        if envchroot.in_environment():
            print("install: --target-image is for build machines; inside the installer give "
                  "--target-disk", file=sys.stderr)
            return EXIT_USAGE
        return hostinstall.run(args, path)
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
    cfg, plan = _load_plan(args)
    return _run_engine(args, cfg, plan, dry_run=False)


def _run_engine(args, cfg, plan, dry_run: bool) -> int:
    outcome = run_engine(cfg, plan, sys.stderr, masked_file(args.file), render_plan(plan),
                         args.events, args.log, dry_run)
    return EXIT_OK if outcome.success else EXIT_INVALID


def masked_file(path: str) -> str:
    """The answer file as it may be kept (logs, the target, a support bundle): written again from
    its parsed content with every secret blanked. MaskError if it is no longer XML."""
    from .answerfile_mask import masked_answerfile
    from .xmlsafe import MAX_BYTES
    with open(path, "rb") as f:
        return masked_answerfile(f.read(MAX_BYTES + 1), path)


def run_engine(cfg, plan, stream, masked: str, plan_text: str, events_path: str | None,
               log_path: str | None, dry_run: bool, sink=None) -> engine.Outcome:
    """Text progress on stream (if any), events to sink (if any) and as JSON lines to events_path,
    then the engine."""
    events = Events()
    if stream is not None:
        events.add_sink(text_sink(stream))
    if sink is not None:
        events.add_sink(sink)
    if events_path:
        events.add_sink(jsonl_sink(open(events_path, "w")))
    ctx = engine.Context(cfg, plan, events, dry_run=dry_run, run_hooks=not dry_run, plan_text=plan_text,
                         answerfile_masked=masked, log_path=log_path, events_path=events_path)
    return engine.run(ctx)


class _MaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = SECRETS.mask(record.getMessage()), ()
        return True


class _MaskingFormatter(logging.Formatter):
    """Masks the whole formatted record, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return SECRETS.mask(super().format(record))


def _setup_logging(path: str | None) -> None:
    if not path:
        return
    handler = logging.FileHandler(path)
    handler.addFilter(_MaskFilter())
    handler.setFormatter(_MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("installer")
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m installer", description="Xen host installer")
    ap.add_argument("--version", action="version", version=__version__)
    ap.add_argument("--log", help="write the installer log (secrets masked) to this file")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check answer files; exit 1 if any is invalid")
    p.add_argument("files", nargs="+")
    p.add_argument("--json", action="store_true", help="print the normalized InstallConfig")
    p.set_defaults(func=cmd_validate)

    for name, func, helptext in (("plan", cmd_plan, "dry run: show what an install would do"),
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
                                "otherwise this machine's)")
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
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("cmdline", help="parse installer kernel parameters (default: /proc/cmdline)")
    p.add_argument("text", nargs="?")
    p.set_defaults(func=cmd_cmdline)

    from .ui.main import add_parser as add_tui
    add_tui(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.log)
    try:
        return args.func(args)
    except ConfigError as exc:
        _print_diags(exc.diagnostics + exc.warnings)
        return EXIT_INVALID
    except PlanError as exc:
        for problem in exc.problems:
            print(f"{getattr(args, 'file', '')}: plan error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    except InstallerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
