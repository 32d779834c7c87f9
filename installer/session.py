"""What every front end (the command line, the boot-time installer, the wizard) shares around one
install: fresh ids, the plan as text, the masked answer file, the masked log, and the engine run.

Front ends call this module; none of them imports another.
"""
from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Callable

from . import answerfile, cmdline, engine
from .answerfile_mask import masked_answerfile
from .config import InstallConfig
from .errors import Diagnostic
from .events import Events, jsonl_sink, text_sink
from .machine import gib
from .plantypes import Ids
from .runner import SECRETS
from .xmlsafe import MAX_BYTES

# the product tree on the installer media, as the boot unit (xenhost-installer.service) names it;
# read at a front end's edge only, then passed down
TREE_VARIABLE = "XENHOST_TREE"


def local_tree(given: str | None = None) -> str | None:
    """The local product tree's directory: the one given, else $XENHOST_TREE, else None (the
    installer media's default mount, tree.MEDIA)."""
    return given or os.environ.get(TREE_VARIABLE) or None


def read_boot_line(text: str, warn: Callable[[Diagnostic], None]) -> cmdline.BootOptions:
    """The installer options of a boot line, its secrets registered with the process's mask
    before anything is shown, its warnings handed to warn; ConfigError if it is refused."""
    opts, report = cmdline.parse(text)
    SECRETS.add_all(opts.secrets)
    for w in report.warnings:
        warn(w)
    return opts


def load_answerfile(path: str, warn: Callable[[Diagnostic], None],
                    boot: cmdline.BootOptions | None = None) -> InstallConfig:
    """An answer file as every front end reads it: parsed (ConfigError with file:line:column),
    its secrets registered with the process's mask, its warnings handed to warn, and the boot
    line's settings applied when there is one."""
    cfg, report = answerfile.parse_file(path)
    SECRETS.add_all(cfg.secrets)
    for w in report.warnings:
        warn(w)
    return cmdline.applied(cfg, boot) if boot is not None else cfg


def new_ids() -> Ids:
    """Fresh UUIDs and label suffix, dated now (the planner itself never reads the clock)."""
    return Ids.new(datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))


def render_plan(plan) -> str:
    """The plan as people read it: disks and what they lose, network, steps, files, warnings."""
    lines = [f"Plan: {plan.mode.value} install of {plan.product.brand} {plan.product.version} "
             f"({plan.boot_mode.upper()} boot)"]
    for disk in plan.disks:
        lines += _disk_lines(disk)
    if plan.raid:
        lines.append(f"\nRAID1 {plan.raid.device} from {', '.join(plan.raid.members)}")
    if plan.sr:
        lines.append(f"\nLocal SR: {plan.sr.type} on {', '.join(plan.sr.devices)} (VG {plan.sr.vg})")
    lines.append(f"At the end: {plan.at_exit.value}")
    lines.append(f"Dom0: {plan.dom0_memory_mib} MiB memory, {plan.dom0_vcpus} vCPUs; "
                 f"hostname {plan.hostname}")
    m = plan.management
    if m:
        v4 = m.ipv4.address or m.ipv4.mode.value
        v6 = m.ipv6.address or m.ipv6.mode.value
        lines.append(f"Management: {m.nic} ({m.mac}) on bridge {m.bridge}"
                     f"{' VLAN ' + str(m.vlan) if m.vlan else ''}; IPv4 {v4}; IPv6 {v6}")
    lines.append("\nSteps:")
    for i, step in enumerate(plan.steps, 1):
        lines.append(f"  {i}. {step.title} [{step.name}]")
        lines += [f"     - {a}" for a in step.actions]
    if plan.files:
        lines.append("\nFiles written on the host: " + ", ".join(f.path for f in plan.files))
    for w in plan.warnings:
        lines.append(f"WARNING: {w}")
    return "\n".join(lines)


def _disk_lines(disk) -> list[str]:
    lines = [f"\nDisk {disk.path} ({gib(disk.size)}) - {disk.role}"
             + (", will be ERASED" if disk.wipe else ", kept")]
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
    return lines


def masked_file(path: str) -> str:
    """The answer file as it may be kept (logs, the target, a support bundle): written again from
    its parsed content with every secret blanked. MaskError if it is no longer XML."""
    with open(path, "rb") as f:
        return masked_answerfile(f.read(MAX_BYTES + 1), path)


def run_engine(cfg, plan, stream, masked: str, plan_text: str, events_path: str | None,
               log_path: str | None, dry_run: bool, sink=None, tree: str | None = None) -> engine.Outcome:
    """Text progress on stream (if any), events to sink (if any) and as JSON lines to events_path,
    then the engine; tree: the local product tree's directory (None: the installer media). The
    config's secrets are registered with the mask first, whichever front end built it (front ends
    register them on parsing too: their messages before the engine are masked as well)."""
    SECRETS.add_all(cfg.secrets)
    events = Events()
    if stream is not None:
        events.add_sink(text_sink(stream))
    if sink is not None:
        events.add_sink(sink)
    if events_path:
        events.add_sink(jsonl_sink(open(events_path, "w")))
    ctx = engine.Context(cfg, plan, events, dry_run=dry_run, run_hooks=not dry_run, plan_text=plan_text,
                         answerfile_masked=masked, log_path=log_path, events_path=events_path,
                         local_tree=tree)
    return engine.run(ctx)


class MaskFilter(logging.Filter):
    """Masks a record's message (its arguments merged in) before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = SECRETS.mask(record.getMessage()), ()
        return True


class MaskingFormatter(logging.Formatter):
    """Masks the whole formatted record, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return SECRETS.mask(super().format(record))


def setup_logging(path: str | None, fresh: bool = False) -> logging.Handler | None:
    """The installer's log (secrets masked) appended to path (fresh: replacing it, as a dry run's
    events and answer file are); nothing without a path. Returns the handler (a dry run removes
    it when its install ends)."""
    if not path:
        return None
    handler = logging.FileHandler(path, mode="w" if fresh else "a")
    handler.addFilter(MaskFilter())
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("installer")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler
