"""Verify the installation source: its signed manifest and every file's checksum, before any disk
is touched (the install checks them again anyway)."""
from ... import locations, wizard
from ...errors import InstallerError
from ..screen import Screen
from ..widgets import Choice, text


class VerifyScreen(Screen):
    name = "verify"
    title = "Verify the installation source"
    help = "Verification reads the whole root image once (a few seconds locally, longer over the network)."

    def build(self):
        self.verified: tuple | None = None
        self.mode = self.add(Choice("verify", [("skip", "Skip verification", ""),
                                               ("verify", "Verify the source now", "")],
                                    "verify" if self.c.verify_source else "skip"))
        return [text(f"Source: {self.describe()}"), text(""), self.mode]

    def describe(self) -> str:
        return "local media" if self.c.source_type == "local" else locations.shown(self.c.source_location)

    def refresh(self):
        self.rebuild()

    def keep(self):
        self.c.verify_source = self.mode.value == "verify"

    def check(self):
        key = (self.c.source_type, self.c.source_location)
        if not self.c.verify_source or self.verified == key:
            return {}
        self.say("Verifying the installation source...")
        self.app.redraw()
        try:
            result = self.session.backend.verify_source(wizard.to_config(self.c, self.session.machine))
        except InstallerError as exc:       # the backend words every failure (fetch's wording)
            return {"source": f"the source could not be verified: {exc}. Back changes the source; "
                              "Skip verification goes on without checking it now."}
        self.verified = key
        self.say(result)
        return {}
