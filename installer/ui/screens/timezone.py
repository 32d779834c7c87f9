"""Time zone, by region and then city."""
from ... import wizard
from ..screen import Screen
from ..widgets import Choice

REGION_ROWS, CITY_ROWS = 6, 7     # with the frames, the buttons and an error, 80x24 holds both


class TimezoneScreen(Screen):
    name = "timezone"
    title = "Time zone"
    help = "Choose a region, then Tab to the city list. Etc/UTC keeps the host on UTC."

    def build(self):
        zones = wizard.timezones()
        # both lists scroll inside their boxes, so Next stays on the 80x24 screen
        self.region = self.add(Choice("region", [(r, r, "") for r in zones], self.c.tz_region,
                                      on_change=self._region, label="Region", height=REGION_ROWS))
        self.city = None
        self._region(self.region.value)
        return [self.region, self.city]

    def _region(self, region: str) -> None:
        """A new region: a new city list in place of the old one."""
        cities = wizard.timezones().get(region, [])
        chosen = self.c.tz_city if self.c.tz_city in cities else (cities[0] if cities else "")
        old, self.city = self.city, self.add(Choice("city", [(c, c, "") for c in cities], chosen,
                                                    label=f"City in {region}", height=CITY_ROWS))
        if old is not None and old in self.walker:
            self.walker[self.walker.index(old)] = self.city

    def keep(self):
        self.c.tz_region, self.c.tz_city = self.region.value, self.city.value

    def check(self):
        return wizard.check_timezone(self.c)
