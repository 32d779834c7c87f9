"""Installation source: this media, an HTTP/FTP server, or an NFS export."""
from ... import wizard
from ..screen import Screen
from ..widgets import Choice, Field, text


class SourceScreen(Screen):
    name = "source"
    title = "Installation source"
    help = ("Local media: the product tree on this ISO or USB stick. HTTP: a URL such as "
            "http://server/xenhost/tree. NFS: server:/export/path or nfs://server/export/path, nothing "
            "else. Network sources are reached through the management interface configured before.")

    def build(self):
        self.kind = self.add(Choice("source_type", [("local", "Local media", ""), ("url", "HTTP or FTP", ""),
                                                    ("nfs", "NFS", "")], self.c.source_type,
                                    label="Install from:", on_change=self.grey_unused))
        self.location = self.add(Field("location", "  URL or NFS path:", self.c.source_location))
        self.grey_unused(self.kind.value)
        return [self.kind, self.location, text("")]

    def grey_unused(self, kind: str) -> None:
        """Local media has no location: greyed then, so the cursor skips it."""
        self.location.grey("for HTTP/FTP or NFS only" if kind == "local" else "")

    def keep(self):
        self.c.source_type, self.c.source_location = self.kind.value, self.location.value.strip()

    def check(self):
        return wizard.check_source(self.c)
