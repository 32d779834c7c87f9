"""Console keymap names -> XKB: every accepted name checked against xkb-data's own rules, and the
host's /etc/default/keyboard rendered from it (installer/data/keymaps.txt, installer/keyboard.py)."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess

import pytest

from installer import keyboard, values
from installer.envchroot import CACHE

SYSTEM_RULES = "/usr/share/X11/xkb/rules/base.lst"
PRODUCT_IMAGE = os.path.join(CACHE, "product", "current", "images", "root.squashfs")


def read_rules(path: str) -> tuple[set[str], set[str], set[tuple[str, str]], set[str]]:
    """(models, layouts, (layout, variant) pairs, options) of an XKB rules .lst file."""
    sections: dict[str, list[list[str]]] = {}
    current = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("!"):
                current = sections.setdefault(line.split()[1], [])
            elif line.strip() and current is not None:
                current.append(line.split())
    return ({w[0] for w in sections["model"]}, {w[0] for w in sections["layout"]},
            {(w[1].rstrip(":"), w[0]) for w in sections["variant"]}, {w[0] for w in sections["option"]})


def unknown(rules_path: str, table: dict | None = None) -> list[str]:
    models, layouts, variants, options = read_rules(rules_path)
    bad = []
    for name, x in sorted((table or keyboard.table()).items()):
        lays = x.layout.split(",")
        vars_ = x.variant.split(",") if x.variant else [""] * len(lays)
        if len(vars_) != len(lays):
            bad.append(f"{name}: {len(lays)} layouts but {len(vars_)} variants")
        if x.model not in models:
            bad.append(f"{name}: model {x.model}")
        for layout, variant in zip(lays, vars_):
            if layout not in layouts:
                bad.append(f"{name}: layout {layout}")
            elif variant and (layout, variant) not in variants:
                bad.append(f"{name}: variant {layout}({variant})")
        bad += [f"{name}: option {o}" for o in filter(None, x.options.split(",")) if o not in options]
    return bad


def test_every_accepted_keymap_has_exactly_one_mapping():
    assert set(keyboard.table()) == set(values.keymaps())
    assert len(keyboard.table()) == 149


def test_every_mapping_exists_in_xkb_data_of_this_machine():
    assert os.path.exists(SYSTEM_RULES), "xkb-data is missing: `make` installs it (APT_PACKAGES)"
    assert unknown(SYSTEM_RULES) == []


def test_every_mapping_exists_in_xkb_data_of_the_product(tmp_path):
    """The host's own xkb-data (Debian 13) is what console-setup reads at first boot."""
    if not os.path.exists(PRODUCT_IMAGE) or not shutil.which("unsquashfs"):
        pytest.skip("the product tree is not built yet (make images)")
    rel = SYSTEM_RULES.lstrip("/")
    subprocess.run(["unsquashfs", "-q", "-n", "-d", str(tmp_path / "root"), PRODUCT_IMAGE, rel],
                   check=True, capture_output=True)
    assert unknown(str(tmp_path / "root" / rel)) == []


def test_the_check_fails_the_old_mapping():
    """The old rule (split the console name on "-") gave most names a layout XKB does not have."""
    old = {}
    for name in values.keymaps():
        layout, _, variant = name.partition("-")
        old[name] = keyboard.Xkb(layout, variant if variant != "latin1" else "")
    bad = {line.split(":")[0] for line in unknown(SYSTEM_RULES, old)}
    assert {"uk", "azerty", "de-latin1-nodeadkeys", "dvorak-fr", "dvorak"} <= bad
    assert len(bad) >= 100


@pytest.mark.parametrize("keymap,layout,variant", [
    ("uk", "gb", ""), ("azerty", "fr", ""), ("de-latin1-nodeadkeys", "de", "nodeadkeys"),
    ("dvorak", "us", "dvorak"), ("dvorak-fr-bepo", "fr", "bepo"), ("dvorak-uk", "gb", "dvorak"),
    ("fr_CH-latin1", "ch", "fr"), ("sg", "ch", ""), ("mac-usb-de-latin1-nodeadkeys", "de", "mac_nodeadkeys"),
    ("ru", "us,ru", ""), ("us", "us", "")])
def test_known_names_map_to_the_layout_operators_expect(keymap, layout, variant):
    x = keyboard.xkb(keymap)
    assert (x.model, x.layout, x.variant) == ("pc105", layout, variant)


def test_non_latin_layouts_switch_with_alt_shift():
    x = keyboard.xkb("ru")
    assert x.options == "grp:alt_shift_toggle,grp_led:scroll"
    assert keyboard.xkb("de").options == ""


def shell_assignments(text: str) -> dict[str, str]:
    """/etc/default/keyboard as the shell reads it (console-setup sources it)."""
    out = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key] = shlex.split(value)[0] if value else ""
    return out


def test_default_keyboard_is_what_console_setup_reads():
    got = shell_assignments(keyboard.default_keyboard("de-latin1-nodeadkeys"))
    assert got == {"XKBMODEL": "pc105", "XKBLAYOUT": "de", "XKBVARIANT": "nodeadkeys",
                   "XKBOPTIONS": "", "BACKSPACE": "guess"}
    assert shell_assignments(keyboard.default_keyboard("ru"))["XKBLAYOUT"] == "us,ru"


def test_ckbcomp_gets_the_mapping_not_the_console_name():
    assert keyboard.ckbcomp_argv("dvorak-uk") == ["ckbcomp", "-model", "pc105", "-layout", "gb",
                                                   "-variant", "dvorak"]
    assert keyboard.ckbcomp_argv("ru")[-2:] == ["-option", "grp:alt_shift_toggle,grp_led:scroll"]
