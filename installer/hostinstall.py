"""`install --target-image` from a build machine: check, attach the image, install inside the env.

Everything that can be refused is refused before the image is created or attached: the answer file
must validate and plan against a machine with a disk of the image's size.
"""
from __future__ import annotations

import os
import re
import shutil
import sys

from . import envchroot, runner
from .errors import InstallerError
from .machine import NIC, Disk, Machine

SIZE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?", re.IGNORECASE)


def parse_size(text: str) -> int:
    m = SIZE_RE.fullmatch(text.strip())
    if not m:
        raise InstallerError(f"bad size {text!r}: use a number with K, M, G or T (64G)")
    return int(float(m.group(1)) * 1024 ** " KMGT".index((m.group(2) or " ").upper()))


def virtual_nics(cfg) -> list[NIC]:
    """The NIC the answer file names, for a machine we cannot see (the one the image will boot on)."""
    iface = cfg.interface
    if iface is None:
        return [NIC("eth0", "")]
    return [NIC(iface.name or "eth0", iface.mac or "", link=None)]


def image_machine(cfg, disks: list[Disk], boot_mode: str) -> Machine:
    """The machine an image will boot on: its disks as given, NICs from the answer file, memory and
    CPUs unknown (dom0 gets the base memory and one vCPU)."""
    return Machine(boot_mode=boot_mode, memory_mib=0, cpu_count=1, disks=disks, nics=virtual_nics(cfg))


def retarget(cfg, disk_path: str) -> None:
    """The answer file's primary disk becomes the given one; other disks cannot exist here."""
    from .config import DiskRef, PrimaryDisk

    if cfg.primary_disk is None:
        cfg.primary_disk = PrimaryDisk(DiskRef(path=disk_path))
    else:
        cfg.primary_disk.disk = DiskRef(path=disk_path)


def image_size(path: str, requested: str | None) -> int:
    if requested:
        return parse_size(requested)
    if os.path.exists(path):
        return os.path.getsize(path)
    return 64 * 1024 ** 3


def precheck(cfg, image: str, size: int, boot_mode: str):
    """Plan against a stand-in machine: a too-small image or a bad config fails before any write."""
    from .errors import PlanError
    from .plan import FIXED_IDS, make_plan

    retarget(cfg, "/dev/target-image")
    stand_in = Disk(name="target-image", size=size, model="disk image " + os.path.basename(image))
    try:
        return make_plan(cfg, image_machine(cfg, [stand_in], boot_mode), FIXED_IDS)
    except PlanError as exc:
        exc.problems = [p.replace("/dev/target-image", f"the image {image}") for p in exc.problems]
        raise


def attach(image: str, size: int) -> str:
    """Create or grow the (sparse) image and attach it; stale attachments of it are dropped first."""
    for line in runner.run(["losetup", "--associated", image], check=False).stdout.splitlines():
        stale = line.split(":", 1)[0]
        runner.run(["partx", "-d", stale], check=False)
        runner.run(["losetup", "--detach", stale], check=False)
    if not os.path.exists(image) or os.path.getsize(image) < size:
        os.makedirs(os.path.dirname(os.path.abspath(image)), exist_ok=True)
        with open(image, "ab") as f:
            f.truncate(size)
    return runner.run(["losetup", "--find", "--show", image]).stdout.strip()


def detach(dev: str) -> None:
    runner.run(["partx", "-d", dev], check=False)
    runner.run(["losetup", "--detach", dev], check=False)


def run(args, answerfile_path: str) -> int:
    """Validate, pre-plan, attach, run the real install inside the environment, detach."""
    from . import answerfile, cmdline

    args.boot_mode = args.boot_mode or "uefi"
    cfg, _report = answerfile.parse_file(answerfile_path)
    if args.cmdline is not None:
        cmdline.apply(cfg, cmdline.parse(args.cmdline)[0])
    size = image_size(args.target_image, args.size)
    precheck(cfg, args.target_image, size, args.boot_mode)
    env_root = envchroot.current("env")
    tree = args.tree or envchroot.current("product")
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    copy = os.path.join(out, "answerfile.xml")    # holds the password: private, removed afterwards
    with open(answerfile_path, "rb") as src, open(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                                                          0o600), "wb") as dst:
        shutil.copyfileobj(src, dst)
    dev = attach(args.target_image, size)
    print(f"install: {args.target_image} attached as {dev} ({size / 1024 ** 3:.1f} GiB, "
          f"{args.boot_mode.upper()})", file=sys.stderr)
    inner = ["--log", f"{envchroot.OUT}/installer.log", "install", f"{envchroot.OUT}/answerfile.xml",
             "--target-disk", dev, "--boot-mode", args.boot_mode, "--virtual-nics",
             "--events", f"{envchroot.OUT}/events.jsonl"]
    if args.cmdline is not None:
        inner += ["--cmdline", args.cmdline]
    if args.reproducible:
        inner.append("--reproducible")
    try:
        code = envchroot.run(inner, tree, out, env_root)
    finally:
        detach(dev)
        os.unlink(copy)
    if args.events and os.path.exists(os.path.join(out, "events.jsonl")):
        shutil.copy(os.path.join(out, "events.jsonl"), args.events)
    if args.log and os.path.exists(os.path.join(out, "installer.log")):
        with open(os.path.join(out, "installer.log")) as src, open(args.log, "a") as dest:
            shutil.copyfileobj(src, dest)
    print(f"install: {'finished' if code == 0 else 'FAILED'}; log and events in {out}", file=sys.stderr)
    return code
