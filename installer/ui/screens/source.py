"""Installation source: this media, an HTTP/FTP server, or an NFS export."""
from ... import wizard
from ..screen import Screen
from ..widgets import Choice, Field, text


class SourceScreen(Screen):
    name = "source"
    title = "Installation source"
    help = ("Local media: the product tree on this ISO or USB stick. HTTP: a URL such as "
            "http://server/xenhost/tree. NFS: server:/export/path. Network sources are reached "
            "through the management interface configured before.")

    def build(self):
        self.kind = self.add(Choice("source_type", [("local", "Local media", ""), ("url", "HTTP or FTP", ""),
                                                    ("nfs", "NFS", "")], self.c.source_type,
                                    label="Install from:"))
        self.location = self.add(Field("location", "  URL or NFS path:", self.c.source_location))
        return [self.kind, self.location, text("")]

    def keep(self):
        self.c.source_type, self.c.source_location = self.kind.value, self.location.value.strip()

    def check(self):
        return wizard.check_source(self.c)
