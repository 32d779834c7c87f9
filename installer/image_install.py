"""Install into a disk image (`install --target-image` on a build machine): check, attach the image,
install inside the installer environment (where `install --target-disk --virtual-nics` runs).

Everything that can be refused is refused before the image is created or attached: the answer file
must validate and plan against a machine with a disk of the image's size.
"""
from __future__ import annotations

import os
import shutil
import sys

from . import cmdline, envchroot, runner, session, values
from .errors import InstallerError, PlanError
from .machine import Disk, gib
from .plan import FIXED_IDS, make_plan
from .retarget import image_machine, retarget


def parse_size(text: str) -> int:
    """--size: bytes, in the answer file's size words (64G, 1.5TiB, 4096)."""
    try:
        return values.size_bytes(text)
    except ValueError:
        raise InstallerError(f"bad size {text!r}: use a number with K, M, G or T (64G)") from None


def image_size(path: str, requested: str | None) -> int:
    if requested:
        return parse_size(requested)
    if os.path.exists(path):
        return os.path.getsize(path)
    return 64 * 1024 ** 3


def precheck(cfg, image: str, size: int, boot_mode: str):
    """Plan against a stand-in machine: a too-small image or a bad config fails before any write."""
    cfg = retarget(cfg, "/dev/target-image")
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


def run(answerfile_path: str, image: str, *, size: str | None = None, boot_mode: str | None = None,
        cmdline_text: str | None = None, reproducible: bool = False, tree: str | None = None,
        out: str = "build/install", events: str | None = None, log: str | None = None) -> int:
    """Validate, pre-plan, attach, run the real install inside the environment, detach.

    size: of a new image (default: the image's own, else 64G); boot_mode: default uefi; tree: the
    product tree (default: the newest build); out: where the log and events are left; events, log:
    where to copy them too."""
    boot_mode = boot_mode or "uefi"
    # warnings are shown by the install inside the environment, which reads the same files
    cfg = session.load_answerfile(answerfile_path, lambda w: None)
    if cmdline_text is not None:
        cfg = cmdline.applied(cfg, session.read_boot_line(cmdline_text, lambda w: None))
    nbytes = image_size(image, size)
    precheck(cfg, image, nbytes, boot_mode)
    env_root = envchroot.current("env")
    tree = tree or envchroot.current("product")
    out = os.path.abspath(out)
    os.makedirs(out, exist_ok=True)
    copy = os.path.join(out, "answerfile.xml")    # holds the password: private, removed afterwards
    with open(answerfile_path, "rb") as src, open(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                                                          0o600), "wb") as dst:
        shutil.copyfileobj(src, dst)
    dev = attach(image, nbytes)
    print(f"install: {image} attached as {dev} ({gib(nbytes)}, "
          f"{boot_mode.upper()})", file=sys.stderr)
    inner = ["--log", f"{envchroot.OUT}/installer.log", "install", f"{envchroot.OUT}/answerfile.xml",
             "--target-disk", dev, "--boot-mode", boot_mode, "--virtual-nics",
             "--events", f"{envchroot.OUT}/events.jsonl"]
    if cmdline_text is not None:
        inner += ["--cmdline", cmdline_text]
    if reproducible:
        inner.append("--reproducible")
    try:
        code = envchroot.run(inner, tree, out, env_root)
    finally:
        detach(dev)
        os.unlink(copy)
    if events and os.path.exists(os.path.join(out, "events.jsonl")):
        shutil.copy(os.path.join(out, "events.jsonl"), events)
    if log and os.path.exists(os.path.join(out, "installer.log")):
        with open(os.path.join(out, "installer.log")) as src, open(log, "a") as dest:
            shutil.copyfileobj(src, dest)
    print(f"install: {'finished' if code == 0 else 'FAILED'}; log and events in {out}", file=sys.stderr)
    return code
