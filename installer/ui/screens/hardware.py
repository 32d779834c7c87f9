"""Hardware warnings: things that make a poor host but do not stop the install."""
from ... import eligibility
from ..screen import Screen
from ..widgets import blank, text


class HardwareScreen(Screen):
    name = "hardware"
    title = "Hardware warnings"
    help = "These do not stop the install. Next continues anyway."
    next_label = "Continue"

    def build(self):
        m = self.session.machine
        body = [text(f"Memory: {m.memory_mib} MiB, CPUs: {m.cpu_count} ({m.cpu_model or 'unknown'}), "
                     f"boot mode: {m.boot_mode.upper()}"), blank()]
        for warning in eligibility.hardware_warnings(m) + eligibility.boot_warnings(m):
            body += [text("! " + warning), blank()]
        return body
