"""The steps on their own: what one step hands the next, and the boot arguments the plan shows."""
from __future__ import annotations

import types

from helpers import EXAMPLES, machine

from installer import engine, grub, steps, storage
from installer.answerfile import parse_file
from installer.config import InstallConfig
from installer.events import Events
from installer.plan import FIXED_IDS, make_plan
from installer.steps import prepare


def test_partition_wipes_the_disks_prepare_found_live(monkeypatch):
    """prepare's live probe reaches partition through the engine's Context.checked, nothing else."""
    cfg, _ = parse_file(EXAMPLES / "fresh-dhcp.xml")
    recorded = machine("bios-1disk")
    plan = make_plan(cfg, recorded, FIXED_IDS)
    live = machine("bios-1disk")          # what the probe finds now: other objects, same disks
    for name, mod in steps.MODULES.items():
        if name not in ("prepare", "partition"):       # the others touch nothing here
            monkeypatch.setattr(mod, "run", lambda ctx, step: None)
    monkeypatch.setattr(prepare, "probe", lambda include_loop, only: live)
    fake_tree = types.SimpleNamespace(remote=False, describe=lambda: "a test tree",
                                      verify=lambda check, warn, files: None)
    monkeypatch.setattr(prepare, "open_tree", lambda cfg, cache_dir, local: fake_tree)
    wiped = []
    monkeypatch.setattr(storage, "wipe", lambda disk, log: wiped.append(disk))
    monkeypatch.setattr(storage, "write_tables", lambda disks, log: None)
    ctx = engine.Context(cfg, plan, Events(), dry_run=False)
    outcome = engine.run(ctx)
    assert outcome.success, outcome.message
    assert wiped == [live.find_disk("/dev/sda")] and wiped[0] is not recorded.find_disk("/dev/sda")
    assert ctx.checked.disks == {d.path: d for d in live.disks} and ctx.checked.hook_scripts == {}


def test_the_plan_shows_the_boot_arguments_grub_cfg_boots():
    """One definition of the Xen and dom0 command lines: the bootloader step's planned action
    carries exactly what the rendered grub.cfg boots."""
    cfg, _ = parse_file(EXAMPLES / "fresh-dhcp.xml")
    plan = make_plan(cfg, machine("bios-1disk"), FIXED_IDS)
    action = next(s for s in plan.steps if s.name == "bootloader").actions[-1]
    xen, dom0 = grub.xen_command_line(plan), grub.dom0_command_line(plan.primary().part("root").label)
    assert f"Xen {xen}; dom0 {dom0}" in action and "crashkernel=256M,below=4G" in action
    text = grub.grub_cfg(plan, InstallConfig(), {"kernel": "vmlinuz-6.12", "initrd": "initrd.img-6.12",
                                                  "xen": "xen-4.20-amd64.gz"})
    assert text.count(f"multiboot2 /boot/xen-4.20-amd64.gz {xen} ") == 3
    assert text.count(f"module2 /boot/vmlinuz-6.12 {dom0} ") == 3
    assert f"linux /boot/vmlinuz-6.12 {dom0} " in text          # the rescue entry without Xen too
