"""The pure parts of vm-tests/test_guests.py's memory and power-button checks: the guest's staying
mode (guest.py), the memory arithmetic over `xl list` and `xl info` (dom0.py), and the host's logs
read from a powered-off disk image (dom0.logs_partition_file) on a small image made here."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

import dom0
import guest

BUSYBOX = shutil.which("busybox") or guest.BUSYBOX


def test_the_staying_guest_is_asked_for_on_its_command_line_only():
    assert guest.cmdline("t0k", "10.0.2.15").split()[-1] == "xh_peer=10.0.2.15"
    assert guest.cmdline("t0k", "10.0.2.15", stay=True).split()[-2:] == ["xh_peer=10.0.2.15", "xh_stay=1"]


def _stay_block() -> str:
    """/init's staying branch, without its endless wait."""
    init = guest.INIT
    start = init.index('if [ "$stay" = 1 ]; then')
    body = init[start:init.index("fi\n", start) + 3]
    assert "    while :; do sleep 60; done\n" in body
    return body.replace("    while :; do sleep 60; done\n", "")


@pytest.mark.skipif(not os.path.exists(BUSYBOX), reason="busybox-static is not installed (make deps)")
def test_the_staying_guest_says_when_it_is_asked_to_shut_down_then_powers_off(tmp_path):
    """The branch run by busybox's shell on paths here: the command it gives the kernel for a Xen
    shutdown request, run as the kernel would, says so on the console and powers off."""
    block = (_stay_block().replace("/sbin/xh-shutdown", f"{tmp_path}/xh-shutdown")
             .replace("/proc/sys/kernel/poweroff_cmd", f"{tmp_path}/poweroff_cmd"))
    say = 'say() { echo "XH-GUEST $token: $*"; }\n'
    res = subprocess.run([BUSYBOX, "sh", "-c", f"token=t0k stay=1\n{say}{block}"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "XH-GUEST t0k: running until shut down\n"
    command = (tmp_path / "poweroff_cmd").read_text().strip()
    assert command == f"{tmp_path}/xh-shutdown" and os.access(command, os.X_OK)
    script = (tmp_path / "xh-shutdown").read_text()
    assert script.startswith("#!/bin/sh\n") and script.endswith("exec poweroff -f\n")
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "poweroff").write_text('#!/bin/sh\necho "poweroff $*" >> "$OUT"\n')
    (bin_ / "poweroff").chmod(0o755)
    out = tmp_path / "console"
    run = script.replace("/dev/console", str(out)).replace("#!/bin/sh", "")
    subprocess.run(["sh", "-c", run], env={"PATH": f"{bin_}:/usr/bin:/bin", "OUT": str(out)}, check=True)
    assert guest.said(out.read_text(), "t0k") == ["shutdown requested"]
    assert out.read_text().endswith("poweroff -f\n")


XL_LIST = """\
Name                                        ID   Mem VCPUs\tState\tTime(s)
Domain-0                                     0  1024     1     r-----     120.4
xh-test-stay                                 4   128     1     -b----       3.1
"""
INFO = {"total_memory": "2047", "free_memory": "601", "xen_commandline":
        "placeholder dom0_mem=1024M,max:1024M dom0_max_vcpus=1-1 crashkernel=256M,below=4G ucode=scan"}
CMDLINE = INFO["xen_commandline"]
SERIAL = "(XEN) Xen version 4.20\n(XEN) Kdump: 256MB (262144kB) at 0x6fe00000\n"


def test_xl_list_and_the_crash_kernel_area_are_read():
    assert dom0.xl_list(XL_LIST) == {"Domain-0": (0, 1024), "xh-test-stay": (4, 128)}
    assert dom0.kdump_mib(SERIAL) == 256
    assert dom0.kdump_mib("(XEN) [    0.01] Kdump: 128MB (131072kB) at 0x10") == 128
    assert dom0.kdump_mib("(XEN) Kdump: DISABLED (failed to reserve 256MB)") == 0


def test_memory_that_adds_up_has_no_problem():
    running = dom0.memory(INFO, dom0.xl_list(XL_LIST), 1024, dom0.kdump_mib(SERIAL))
    assert running.xen == 2047 - 601 - 1024 - 128 == 294
    idle = dom0.memory({**INFO, "free_memory": "730"}, {"Domain-0": (0, 1024)}, 1024, 256)
    assert dom0.memory_problems(idle, CMDLINE, {}) == []
    assert dom0.memory_problems(running, CMDLINE, {"xh-test-stay": 128}, idle) == []


def test_memory_that_does_not_add_up_is_named():
    listing = {"Domain-0": (0, 1008), "xh-test-stay": (4, 64)}
    m = dom0.memory({**INFO, "free_memory": "1200"}, listing, 1024, 256)
    idle = dom0.memory({**INFO, "free_memory": "730"}, {"Domain-0": (0, 1024)}, 1024, 256)
    wrong = dom0.memory_problems(m, CMDLINE.replace("1024M,max", "2048M,max"), {"xh-test-stay": 128}, idle)
    assert wrong == [
        f"Xen's command line {CMDLINE.replace('1024M,max', '2048M,max')!r} does not give dom0 the planned 1024 MiB",
        "dom0 has 1008 MiB, planned 1024 MiB",
        "guest xh-test-stay has 64 MiB, configured 128 MiB",
        "total 2047 MiB - free 1200 MiB - domains 1072 MiB = -225 MiB for Xen itself (crash kernel area 256 MiB), "
        "outside 0..381 MiB",
        "Xen's own memory went from 293 to -225 MiB with the guests ['xh-test-stay']"]
    # Xen's own is bounded: the crash kernel's area, 64 MiB and 3 % of the host
    assert dom0.memory_problems(dom0.memory({**INFO, "free_memory": "600"}, {"Domain-0": (0, 1024)}, 1024, 0),
                                CMDLINE, {})[0].endswith("= 423 MiB for Xen itself (crash kernel area 0 MiB), "
                                                         "outside 0..125 MiB")


@pytest.mark.skipif(not all(shutil.which(t) for t in ("sfdisk", "mkfs.ext4", "debugfs")), reason="e2fsprogs, fdisk")
def test_a_log_is_read_from_the_logs_partition_of_a_disk_image(tmp_path):
    image = tmp_path / "host.img"
    with open(image, "wb") as f:
        f.truncate(24 << 20)
    layout = "label: gpt\nstart=2048, size=8192, name=boot\nstart=10240, size=16384, name=logs\n"
    subprocess.run(["sfdisk", "-q", str(image)], input=layout, text=True, check=True, capture_output=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-E", f"offset={10240 * 512}", str(image), "8M"], check=True,
                   capture_output=True)
    log = tmp_path / "guest.log"
    log.write_text("XH-GUEST t0k: running until shut down\r\nXH-GUEST t0k: shutdown requested\r\n")
    where = f"{image}?offset={10240 * 512}"
    for command in ("mkdir /xen", "mkdir /xen/console", f"write {log} /xen/console/guest-xh-test-stay.log"):
        subprocess.run(["debugfs", "-w", "-R", command, where], check=True, capture_output=True)
    text = dom0.logs_partition_file(str(image), "/xen/console/guest-xh-test-stay.log")
    assert guest.said(text, "t0k") == ["running until shut down", "shutdown requested"]
    assert dom0.logs_partition_file(str(image), "/xen/console/missing.log") == ""
