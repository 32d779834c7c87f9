"""The install's progress (driven by the engine's events) and its outcome."""
from __future__ import annotations

import time

import urwid

from .. import secureboot
from ..config import Mode
from .widgets import blank, buttons as button_row, margin, text

LOG_LINES = 200


class _Keys(urwid.WidgetWrap):
    """Keys for a screen without fields (its frame only passes keys to a selectable body)."""

    def __init__(self, widget, keys: dict):
        self.keys = keys
        super().__init__(widget)

    def selectable(self) -> bool:
        return True

    def keypress(self, size, key):
        if key in self.keys:
            self.keys[key]()
            return None
        return super().keypress(size, key)


class ProgressScreen:
    title = "Installing"
    help = "The install runs on its own: no key is needed. L shows or hides the log."
    can_go_back = False

    def __init__(self, app):
        self.app = app
        self.started = time.monotonic()
        self.step = text("Preparing...")
        self.elapsed = text("")
        self.step_bar = urwid.ProgressBar("bar", "bar done", 0, 100)
        self.overall_bar = urwid.ProgressBar("bar", "bar done", 0, 100)
        self.last = text("")
        self.log = urwid.SimpleFocusListWalker([])
        self.log_shown = False
        self.titles: dict[str, str] = {}        # step name -> its title, for the failure screen
        self.summary = urwid.Pile([self.step, blank(), text("This step:"), self.step_bar, blank(),
                                   text("Whole install:"), self.overall_bar, blank(), self.elapsed, blank(),
                                   self.last, blank(), text("L: show the log")])
        self.body = urwid.WidgetPlaceholder(urwid.Filler(self.summary, valign="top"))
        self._widget = _Keys(self.body, {"l": self.toggle_log, "L": self.toggle_log})

    def widget(self) -> urwid.Widget:
        return margin(self._widget)

    def toggle_log(self) -> None:
        self.log_shown = not self.log_shown
        if self.log_shown:
            self.body.original_widget = urwid.Frame(urwid.ListBox(self.log), footer=text("L: back to progress"))
            if self.log:
                self.log.set_focus(len(self.log) - 1)
        else:
            self.body.original_widget = urwid.Filler(self.summary, valign="top")

    def tick(self) -> None:
        self.elapsed.set_text(f"Elapsed: {int(time.monotonic() - self.started) // 60}:"
                              f"{int(time.monotonic() - self.started) % 60:02d}")

    def event(self, e: dict) -> None:
        t = e["type"]
        if t == "step-start":
            self.titles[e.get("step", "")] = e["title"]
            self.step.set_text(f"Step {e['index']} of {e['total']}: {e['title']}")
            self.step_bar.set_completion(0)
            self.overall_bar.set_completion(100 * (e["index"] - 1) / e["total"])
        elif t == "progress":
            self.step_bar.set_completion(100 * e["ratio"])
            self.overall_bar.set_completion(100 * e["overall"])
        elif t == "step-end":
            self.step_bar.set_completion(100)
        elif t in ("log", "warning", "error"):
            prefix = {"log": "", "warning": "WARNING: ", "error": "ERROR: "}[t]
            line = f"{prefix}{e['message']}"
            self.last.set_text(line[:300])
            self.log.append(text(line))
            del self.log[:-LOG_LINES]
        elif t == "finished" and e.get("status") == "success":
            self.overall_bar.set_completion(100)
        self.tick()


def _done_what(cfg) -> str:
    """What the install did, in a sentence (the disk named as the operator chose it)."""
    if cfg.mode is Mode.UPGRADE:
        return f"The installation on {cfg.existing_installation.describe()} is upgraded."
    if cfg.mode is Mode.RESTORE:
        return f"The backup on {cfg.backup_disk.describe()} is restored."
    return f"The host is installed on {cfg.primary_disk.disk.describe()}."


# what failed before the first step started (wizard_backend's Outcome names these)
BEFORE_STEPS = {"plan": "Planning the install", "network": "Bringing up the network to reach the source",
                "installer": "The installer"}


class DoneScreen:
    """The outcome: what was done (a dry run: that nothing was written) or which step failed and
    why, where the logs are; Reboot (the cursor starts there) and Shell, for checks or repairs."""
    can_go_back = False

    def __init__(self, app, outcome, titles: dict[str, str] | None = None):
        """titles: the steps' titles (step name -> title) as the progress screen showed them."""
        self.app = app
        backend = app.session.backend
        dry = backend.dry_run
        if outcome.success and dry:
            self.title = "Dry run complete"
            body = [text("Nothing was written to any disk: every step of the install ran as a dry run."),
                    blank(), text(f"Its log, its events and the answer file of these choices: "
                                  f"{', '.join([*backend.log_paths(), backend.saved_answerfile])}")]
        elif outcome.success:
            self.title = "Installation complete"
            body = [text(_done_what(app.config)), blank(),
                    text("Remove the installation media, then reboot into the new host."
                         + (" " + secureboot.REMINDER if secureboot.accepted(app.session.machine, app.config)
                            else "")), blank(),
                    text(f"The choices made here are saved on the host as an answer file: "
                         f"{backend.saved_answerfile}")]
        else:
            self.title = "Dry run FAILED" if dry else "Installation FAILED"
            step = outcome.failed_step
            what = (titles or {}).get(step) or BEFORE_STEPS.get(step) or f"The step '{step}'"
            kept = [*backend.log_paths(), *([backend.saved_answerfile] if dry else [])]
            body = [text(("error", f"{what} failed:")), text(outcome.message),
                    blank(), text(("Logs and the answer file of these choices: " if dry else "Logs: ")
                                  + ", ".join(kept))]
            if dry:
                body += [blank(), text("Nothing was written to any disk (a dry run).")]
        self.help = ("Reboot restarts the machine" + (" (in a dry run: ends the wizard)" if dry else "")
                     + (". Shell (F2) opens your own shell on this terminal (a dry run)" if dry else
                        ". Shell (F2) opens a root shell in the installer")
                     + ", to read the logs or check the disks; exit it to come back here.")
        actions = [("Reboot", app.reboot), ("Shell (F2)", app.shell)]
        self.walker = urwid.SimpleFocusListWalker([*body, blank(), button_row(*actions)])
        self.walker.set_focus(len(self.walker) - 1)

    def widget(self) -> urwid.Widget:
        return margin(urwid.ListBox(self.walker))
