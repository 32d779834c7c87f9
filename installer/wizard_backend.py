"""The wizard's backend: the interactive installer's side effects, behind one small interface the
wizard calls: apply a keymap, verify a source, install, open a shell, reboot. Backend does them for
real in the installer environment; DryRunBackend plans against a (recorded) machine and runs the
engine in dry-run mode.
"""
from __future__ import annotations

import datetime
import logging
import os
import subprocess
from importlib import resources
from typing import Callable

from . import answerfile_writer, cmdline, fetch, keyboard, netup, session, tree as tree_mod
from .config import InstallConfig
from .engine import Outcome
from .errors import InstallerError, PlanError
from .machine import Machine
from .plan import make_plan
from .product import DEFAULT as DEFAULT_PRODUCT
from .runner import SECRETS
from .steps.finish import LOG_DIR


def eula_text(tree_dir: str | None) -> str:
    """The license shown before the install: the product tree's EULA, or the installer's own copy
    of it when there is no tree yet (a network boot learns the tree's URL later)."""
    if tree_dir:
        try:
            with open(os.path.join(tree_dir, "EULA"), encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            pass
    return resources.files("installer.data").joinpath("EULA").read_text()


def answer_xml(cfg: InstallConfig) -> str:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return answerfile_writer.to_xml(cfg, comment=f"written by the {DEFAULT_PRODUCT.brand} "
                                    f"{DEFAULT_PRODUCT.version} interactive installer on {stamp}")


class Backend:
    """The real thing, inside the installer environment. tree: the local product tree's directory
    (None: the installer media)."""
    dry_run = False
    run_dir = "/run/install"
    saved_answerfile = f"{LOG_DIR}/answerfile.xml"

    def __init__(self, machine: Machine, boot_options=None, tree: str | None = None,
                 console: str | None = None):
        """console: the device the wizard runs on at boot (the shell's terminal: the installer's
        own standard input and output are not a terminal there); None: this process's terminal."""
        self.machine = machine
        self.console = console
        self.boot_options = boot_options    # the installer's boot line (consoles): as for an answer file
        self.tree = tree
        self.keymaps: list[str] = []
        self.network_up: tuple | None = None      # what the installer's network was brought up with
        self.network_tried: tuple | None = None   # ... or last tried with (a failed try: half up)

    def set_keymap(self, keymap: str) -> None:
        self.keymaps.append(keymap)
        problem = keyboard.load_console_keymap(keymap)
        if problem:
            logging.getLogger("installer.wizard_backend").warning("keymap %s not loaded: %s", keymap, problem)

    def verify_source(self, cfg: InstallConfig) -> str:
        """Check the source's signed manifest and every file's checksum now. Every failure is an
        InstallerError in words (fetch's, for an exception that is not one), never raw exception text."""
        SECRETS.add_all(cfg.secrets)     # the wizard's (password, source URL) before any message
        cfg = self.with_boot_options(cfg)     # no-repo-gpgcheck on the boot line
        try:
            self.network_for(cfg)
            t = tree_mod.open_tree(cfg, os.path.join(self.run_dir, "tree-cache"), local=self.tree)
            warnings: list[str] = []
            info = t.verify(tree_mod.signature_required(cfg), warnings.append)
        except InstallerError:
            raise
        except Exception as exc:  # noqa: BLE001 - the wizard shows a failure in words, not a traceback
            raise fetch.failure(exc, cfg.sources[0].location if cfg.sources else "") from None
        general = info["general"]
        return (f"Verified: {general.get('name', '?')} {general.get('version', '?')}, signed manifest and "
                f"{len(info['checksums'])} files match." + (" " + " ".join(warnings) if warnings else ""))

    def install(self, cfg: InstallConfig, sink: Callable[[dict], None]) -> Outcome:
        """Plan against this machine and run the engine; every event also goes to sink. Always an
        Outcome: an error nobody foresaw is a failure in words on the wizard's screen (and its
        traceback in the log), never a dead console."""
        SECRETS.add_all(cfg.secrets)     # before any message, a refused plan's too
        try:
            return self.run_install(cfg, sink)
        except Exception as exc:  # noqa: BLE001 - see the docstring
            logging.getLogger("installer.wizard_backend").exception("the install stopped on an unexpected error")
            return Outcome(False, "installer", SECRETS.mask(f"unexpected error: {exc}"))

    def run_install(self, cfg: InstallConfig, sink: Callable[[dict], None]) -> Outcome:
        cfg = self.with_boot_options(cfg)
        try:
            plan = make_plan(cfg, self.machine, session.new_ids())
        except PlanError as exc:
            return Outcome(False, "plan", "; ".join(exc.problems))
        try:
            self.network_for(cfg)
        except InstallerError as exc:
            return Outcome(False, "network", str(exc))
        os.makedirs(self.run_dir, exist_ok=True)
        return session.run_engine(cfg, plan, None, answer_xml(cfg), session.render_plan(plan),
                                  self.events_path(), self.log_path(), self.dry_run, sink=sink,
                                  tree=self.tree)

    def with_boot_options(self, cfg: InstallConfig) -> InstallConfig:
        """The config with what the boot line says, as for an answer file: installed from a serial
        console, the host's boot menu and console use it too. secureboot= aside: the wizard's own
        Secure Boot screen decides (cmdline.applied)."""
        return cmdline.applied(cfg, self.boot_options, wizard=True) if self.boot_options is not None else cfg

    def network_for(self, cfg: InstallConfig) -> None:
        """A network source is reached through the management interface as configured in the
        wizard (an upgrade asks nothing: DHCP on every NIC). Again only when those settings
        changed since (an operator who corrected a gateway after a failed verification)."""
        src = cfg.sources[0] if cfg.sources else None
        if src is None or src.type == "local":
            return
        iface = cfg.interface
        nics = [iface.name] if iface and iface.name else [n.name for n in self.machine.nics]
        static = None
        if iface and iface.ipv4.mode.value == "static":
            static = netup.Static(iface.ipv4.address, iface.ipv4.gateway, tuple(cfg.name_servers))
        wanted = (tuple(nics), static, iface.vlan if iface else None)
        if wanted == self.network_up:
            return
        if self.network_tried is not None:
            netup.take_down(list(self.network_tried[0]), self.network_tried[2])
        self.network_up, self.network_tried = None, wanted
        netup.bring_up(nics, static, wanted[2], purpose=" to reach the installation source")
        self.network_up = wanted

    def events_path(self) -> str:
        return os.path.join(self.run_dir, "events.jsonl")

    def log_path(self) -> str:
        return os.path.join(self.run_dir, "installer.log")

    def log_paths(self) -> list[str]:
        return [self.log_path(), self.events_path()]

    def shell(self) -> None:
        if self.console is None:
            print("Type exit to return to the installer.", flush=True)
            subprocess.run(["/bin/bash", "-l"])
            return
        with open(self.console, "r+b", buffering=0) as tty:
            tty.write(b"Type exit to return to the installer.\r\n")
            subprocess.run(["/bin/bash", "-l"], stdin=tty, stdout=tty, stderr=tty)

    def reboot(self) -> None:
        subprocess.run(["systemctl", "reboot"])


class DryRunBackend(Backend):
    """Plans against the given machine and runs the engine in dry-run mode: no disk, no keymap,
    no shell, no reboot; what would have happened is recorded in `actions`."""
    dry_run = True

    def __init__(self, machine: Machine, run_dir: str, boot_options=None, tree: str | None = None,
                 own_shell: bool = False):
        """own_shell: Shell (F2) opens the user's own shell on this terminal (`tui --dry-run` run by
        a person); otherwise it is only recorded."""
        super().__init__(machine, boot_options, tree)
        self.own_shell = own_shell
        self.run_dir = run_dir
        self.saved_answerfile = os.path.join(run_dir, "answerfile.xml")
        self.actions: list[str] = []

    def set_keymap(self, keymap: str) -> None:
        self.keymaps.append(keymap)
        self.actions.append(f"loadkeys {keymap}")

    def verify_source(self, cfg: InstallConfig) -> str:
        if cfg.sources[0].type == "local" and not self.tree:
            raise InstallerError("dry run: no local product tree (give --tree or set XENHOST_TREE)")
        return super().verify_source(cfg)

    def network_for(self, cfg: InstallConfig) -> None:
        if cfg.sources and cfg.sources[0].type != "local":
            self.actions.append(f"network up to reach {cfg.sources[0].location}")

    def install(self, cfg: InstallConfig, sink: Callable[[dict], None]) -> Outcome:
        """As Backend's, and the installer log (an unforeseen error's traceback too), events and
        answer file go to run_dir (the installer's boot sets up its log; a dry run has no boot)."""
        try:
            os.makedirs(self.run_dir, exist_ok=True)
        except OSError as exc:
            return Outcome(False, "installer", f"cannot make the directory {self.run_dir} for the dry "
                                               f"run's log and answer file: {exc.strerror}")
        handler = session.setup_logging(self.log_path(), fresh=True)
        try:
            return super().install(cfg, sink)
        finally:
            logging.getLogger("installer").removeHandler(handler)
            handler.close()

    def run_install(self, cfg: InstallConfig, sink: Callable[[dict], None]) -> Outcome:
        cfg = self.with_boot_options(cfg)
        # owner-only, like the copy on the host: it names the disks, addresses and sources
        fd = os.open(self.saved_answerfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)       # an earlier run's file keeps its mode through O_TRUNC
        with os.fdopen(fd, "w") as f:
            f.write(answer_xml(cfg))
        return super().run_install(cfg, sink)

    def shell(self) -> None:
        self.actions.append("shell")
        if self.own_shell:
            print("A dry run: your own shell, not the installer's. Type exit to return to the wizard.", flush=True)
            subprocess.run([os.environ.get("SHELL") or "/bin/sh"])

    def reboot(self) -> None:
        self.actions.append("reboot")
