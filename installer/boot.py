"""The installer at boot (xenhost-installer.service): kernel command line -> answer file -> engine.

Progress goes to every console on the boot line (console=tty0 console=ttyS0 ...). Disks are only
ever wiped when the boot line names an answer file: a medium booted by accident just waits. The
unit names the media's product tree in $XENHOST_TREE, read here once and passed down. A failed
unattended install that is to reboot (atexit=reboot, the default) first keeps its reason on every
console for FAILURE_WAIT seconds, counting down: the log in /run goes with the reboot, and a machine
that network boots into the same install again would otherwise loop without anyone seeing why.
"""
from __future__ import annotations

import datetime
import io
import logging
import os
import subprocess
import sys
import tarfile
import traceback

from . import cmdline, debugssh, fetch, keyboard, netup, runner, session
from .config import AtExit
from .consoles import Consoles, Keys
from .errors import ConfigError, InstallerError, PlanError
from .hookrunner import run_hook
from .plan import make_plan
from .probe import probe
from .product import DEFAULT
from .ui import launch

RUN = "/run/install"
LOG = f"{RUN}/installer.log"
EVENTS = f"{RUN}/events.jsonl"
FAILURE_WAIT = 60       # seconds a failed install's reason stays on the consoles before atexit=reboot
WRITE_WAIT = 2.0        # seconds a write may wait for a stopped console on the way to the reboot


def network_up(opts, say) -> None:
    """DHCP (or the static network_config=) on the interface network_device= names, or on every one
    ("all")."""
    net = opts.network
    static = netup.Static(net.address, net.gateway, tuple(net.dns)) if net.mode == "static" else None
    say("network: " + netup.bring_up(netup.named(opts.network_device), static, net.vlan))


def fetch_answerfile(url: str, kind: str = "answerfile") -> str:
    """The answer file's local path. For answerfile_generator= the URL names a program: it is
    fetched and run, and what it prints is the answer file (as XCP-ng does). The network may need
    a moment after DHCP: failures that may pass are retried."""
    dest = f"{RUN}/answerfile.xml"
    if kind != "answerfile_generator":
        fetch.fetch_file(url, dest, "answer file", fetch.ANSWER_FILE_MAX, attempts=5)
        return dest
    prog = f"{RUN}/answerfile-generator"
    fetch.fetch_file(url, prog, "answer file generator", fetch.SCRIPT_MAX, attempts=5)
    os.chmod(prog, 0o700)
    shown = fetch.shown(url)
    try:
        res = subprocess.run([prog], capture_output=True, timeout=300, cwd=RUN)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallerError(f"the answer file generator {shown} could not run: "
                             f"{runner.SECRETS.mask(str(exc))}") from None
    if res.returncode:
        tail = runner.SECRETS.mask(res.stderr.decode(errors="replace").strip()[-300:])
        raise InstallerError(f"the answer file generator {shown} failed with exit "
                             f"{res.returncode}: {tail}")
    if len(res.stdout) > fetch.ANSWER_FILE_MAX:
        raise InstallerError(f"the answer file generator {shown} printed more than 1 MiB, the "
                             "limit for an answer file")
    with open(dest, "wb") as f:
        f.write(res.stdout)
    return dest


def support_bundle(extra: dict[str, str]) -> str:
    """Logs, events, probe and plan in one tarball for a bug report (secrets already masked)."""
    path = f"{RUN}/support-{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%SZ}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name in (LOG, EVENTS):
            if os.path.exists(name):
                tar.add(name, arcname=os.path.basename(name))
        for name, text in extra.items():
            data = runner.SECRETS.mask(text).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def at_exit(action: str, say) -> None:
    say(f"at exit: {action}")
    if action == "reboot":
        subprocess.run(["systemctl", "reboot"])
    elif action == "poweroff":
        subprocess.run(["systemctl", "poweroff"])


def main() -> int:
    """The boot line decides: an answer file is installed unattended, else the wizard starts."""
    os.makedirs(RUN, exist_ok=True)
    session.setup_logging(LOG)
    opts, warnings = read_boot_line()
    if opts is None:
        return 1
    out = Consoles(opts.consoles or ["tty0"])

    def say(msg: str) -> None:
        out.write(f"installer: {msg}\n")

    say(f"{DEFAULT.brand} {DEFAULT.version} installer (Debian {DEFAULT.platform_version}, "
        f"Xen {DEFAULT.xen_version})")
    for w in warnings:
        say(str(w))
    boot_line_settings(opts, say)
    tree = session.local_tree()        # the boot unit names the media's product tree
    if not opts.unattended:
        return interactive(opts, say, tree)
    return unattended(opts, out, say, tree)


def read_boot_line():
    """(options, warnings) of the kernel command line, its secrets registered (session); (None, [])
    when it is invalid, after saying why on the kernel's console (the consoles it names are not
    known then, so the warnings wait for them)."""
    warnings: list = []
    try:
        return session.read_boot_line(cmdline.read_proc(), warnings.append), warnings
    except ConfigError as exc:
        out = Consoles(["console"])
        for d in exc.diagnostics:
            out.write(f"installer: {d}\n")
        return None, []


def unattended(opts, out, say, tree: str | None) -> int:
    """Network, answer file, plan, engine. A failure is reported on the consoles, to the
    answer file's scripts if the engine never ran, and in a support bundle."""
    extra: dict[str, str] = {}      # what the support bundle holds besides the log and events
    cfg = None
    reason = ""                     # why it failed, in one line: the countdown and the report hook
    try:
        if opts.needs_network:
            network_up(opts, say)
        cfg = read_answerfile(opts, say, extra)
        plan, plan_text = plan_install(cfg, extra)
        outcome = session.run_engine(cfg, plan, out, extra.get("answerfile.xml", ""), plan_text,
                                     EVENTS, LOG, dry_run=False, tree=tree)
        if outcome.success:
            say("INSTALLATION COMPLETE")
            at_exit(cfg.at_exit.value, say)
            return 0
        reason = f"step {outcome.failed_step}: {outcome.message}"        # as the engine tells its hooks
        say(f"INSTALLATION FAILED in {reason}")
    except ConfigError as exc:
        for d in exc.diagnostics:
            say(str(d))
            logging.getLogger("installer.boot").error("%s", d)
        reason = "the answer file is invalid; no disk was touched: " + "; ".join(map(str, exc.diagnostics))
        say("INSTALLATION FAILED: the answer file is invalid; no disk was touched")
    except PlanError as exc:
        for p in exc.problems:
            say(f"plan error: {p}")
            logging.getLogger("installer.boot").error("plan error: %s", p)
        reason = "the install cannot be planned on this machine; no disk was touched: " + "; ".join(exc.problems)
        say("INSTALLATION FAILED: the install cannot be planned on this machine; no disk was touched")
        failed_before_engine(cfg, say, reason)
    except InstallerError as exc:
        reason = str(exc)
        say(f"INSTALLATION FAILED: {exc}")
        logging.getLogger("installer.boot").error("INSTALLATION FAILED: %s", exc)
        failed_before_engine(cfg, say, reason)
    return failed(opts, out, say, extra, reason)


def read_answerfile(opts, say, extra: dict[str, str]):
    """The answer file the boot line names, fetched and parsed, with the boot line's settings
    applied; its masked copy goes into extra even when it turns out invalid."""
    path = fetch_answerfile(opts.answerfile, opts.answerfile_kind)
    say(f"answer file: {fetch.shown(opts.answerfile)}")
    try:
        extra["answerfile.xml"] = session.masked_file(path)
    except ConfigError:
        pass            # not XML: parse_file says where
    return session.load_answerfile(path, lambda w: say(str(w)), opts)


def plan_install(cfg, extra: dict[str, str]):
    """(plan, plan as text) on this machine; the machine and the plan text also go into extra for
    the support bundle."""
    machine = probe()
    extra["probe.json"] = machine.to_json()
    plan = make_plan(cfg, machine, session.new_ids())
    extra["plan.txt"] = session.render_plan(plan)
    return plan, extra["plan.txt"]


def failed(opts, out: Consoles, say, extra: dict[str, str], reason: str) -> int:
    """After a failure: the support bundle, the reason held on the consoles before a reboot, then
    the boot line's atexit= action."""
    bundle = support_bundle(extra)
    say(f"logs: {LOG}, events: {EVENTS}, support bundle: {bundle}")
    if opts.atexit == AtExit.REBOOT:
        hold_before_reboot(out, say, reason)
    at_exit(opts.atexit.value, say)
    return 1


def hold_before_reboot(out: Consoles, say, reason: str, seconds: int = FAILURE_WAIT) -> None:
    """The reason last on every console (the progress above it scrolls away), a countdown rewritten
    in place each second, and a key on a console to reboot at once. From here on the path leads to
    the reboot: no console may hold it up (writes to the terminals wait at most WRITE_WAIT)."""
    out.bound = WRITE_WAIT
    with Keys(out.names) as keys:          # first: it lets output stopped by an XOFF go on
        say(f"INSTALLATION FAILED: {reason}")
        say(f"the log in {RUN} is lost when the machine restarts; atexit=shell or atexit=poweroff on the "
            "boot line stop here instead")
        say(f"rebooting in {seconds} s: press a key on this console to reboot now")
        for left in range(seconds, 0, -1):
            out.terminals(f"\rinstaller: rebooting in {left:>3} s ")
            if keys.pressed(1):
                out.terminals("\n")
                say("a key was pressed: rebooting now")
                return
    out.terminals("\n")


def failed_before_engine(cfg, say, reason: str) -> None:
    """The answer file's installation-complete scripts hear of a failure the engine never saw (a
    refused plan), with its reason: a one-shot PXE setup that removes the host's boot entry from
    such a script must not boot the same failing install for ever."""
    if cfg is None:
        return
    for hook in cfg.hooks_for("installation-complete"):
        try:
            run_hook(hook, ["1"], say, failure=reason)
            say(f"installation-complete script {fetch.shown(hook.location)} ran with 1")
        except InstallerError as exc:
            say(f"WARNING: {exc}")
        except Exception as exc:  # noqa: BLE001 - the failure must still reach the consoles and atexit
            logging.getLogger("installer.boot").exception("installation-complete script")
            say(f"WARNING: installation-complete script {fetch.shown(hook.location)} failed: "
                f"{type(exc).__name__}: {runner.SECRETS.mask(str(exc))}")


def boot_line_settings(opts, say) -> None:
    """keymap= and sshpassword= act at once, as in XCP-ng: the consoles' keyboard, and SSH into
    the installer for debugging (its network too, for the wizard, when network_device= asks)."""
    def tell(msg: str) -> None:       # the console and the log
        say(msg)
        logging.getLogger("installer.boot").info("%s", msg)

    if opts.keymap:
        problem = keyboard.load_console_keymap(opts.keymap)
        tell(f"keymap {opts.keymap} loaded" if problem is None else
             f"keymap {opts.keymap} could NOT be loaded on the console: {problem}")
    if not opts.ssh_password_hash:
        return
    try:
        tell(debugssh.enable(opts.ssh_password_hash))
    except (InstallerError, OSError) as exc:
        tell(f"SSH into the installer is NOT enabled: {runner.SECRETS.mask(str(exc))}")
        return
    if opts.unattended:
        return     # its network comes up before the answer file is fetched
    if not opts.network_device_given:
        tell("SSH is reachable once the network is up: add network_device= (e.g. all) to bring "
             "it up at boot")
        return
    try:
        network_up(opts, say)
    except InstallerError as exc:
        tell(f"no network for SSH: {exc}")


def interactive_console(consoles: list[str]) -> str:
    """The wizard runs on the last console= of the boot line (the kernel's /dev/console too):
    tty0 means the first virtual terminal."""
    name = (consoles or ["tty0"])[-1].split(",")[0]
    return "/dev/tty1" if name == "tty0" else f"/dev/{name}"


def interactive(opts, say, tree: str | None) -> int:
    device = interactive_console(opts.consoles)
    say(f"no answer file on the boot line: the interactive installer runs on {device}")
    if opts.secure_boot:        # never pre-answers its screen, nor reaches the answer file it writes
        say(f"secureboot={opts.secure_boot} is for answer files: the interactive installer asks on its own "
            "Secure Boot screen (shown only where the firmware enforces Secure Boot)")
    try:
        return launch.run_on_console(device, opts, tree)
    finally:
        say(f"the interactive installer ended; logs: {LOG}")


def guarded() -> int:
    """main(), but a bug still ends with a readable report on the consoles, never silence."""
    try:
        return main()
    except Exception:  # noqa: BLE001 - the last line of defence at boot
        text = traceback.format_exc()
        Consoles(["ttyS0", "tty0"]).write("installer: internal error:\n" + runner.SECRETS.mask(text))
        return 1


if __name__ == "__main__":
    sys.exit(guarded())
