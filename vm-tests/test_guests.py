"""An installed host, configured as its answer file said, that runs guests. Two hosts, each installed
into a disk image on this machine (`installer install --target-image`) and booted once in QEMU (TCG)
through GRUB into Xen and dom0: BIOS (SeaBIOS) with DHCP and an lvm local SR, UEFI (OVMF) with a
static address and an ext local SR. In that boot, first:

- the host is what the answer file asked: HOST READY on the serial console and on the VGA console
  (dom0's tty0, read back from QEMU screendumps), Xen 4.20, host name, address on xenbr0, the SR,
  the first-boot stamps, the root password hash, the masked answer file, the inventory;

then:

- a PV guest made of dom0's own kernel and a busybox initramfs built by the test (guest.py): its
  console (logged by xenconsoled) says hello, its NIC on xenbr0 pings dom0, it writes a marker to
  its disk, an LV of the SR's volume group, and powers off; dom0 reads the marker back from the LV;
- an HVM guest: the device model and firmware are installed, and SeaBIOS starts (its lines in
  Xen's console, "(dN) SeaBIOS ...", with guest_loglvl=all);
- the same busybox guest as PVH;
- memory: dom0's in `xl list` is what the installer planned (DOM0_MEM, Xen's dom0_mem=), and xl
  info's total is the domains plus the free memory plus Xen's own, idle and with a guest running;
- last, as it powers the host off: with the busybox guest running (its staying mode), QEMU's ACPI
  power button (QMP system_powerdown): the guest is shut down first (xendomains' stop, replaced by
  /usr/lib/xenhost/stop-guests, says so on the console; the guest's own console, read from the
  powered-off disk, says it was asked), then the host powers off within POWER_OFF_TIMEOUT.

HVM and PVH need hardware-assisted paging: Debian's Xen has no shadow paging. QEMU's TCG emulates
AMD's nested paging only when asked (`-cpu qemu64,+svm,+npt`, this scenario's CPU; the others keep
qemu64,+svm); without it the HVM and PVH tests skip, quoting Xen's own messages.
XH_GUESTS_CPU overrides the CPU (e.g. XH_GUESTS_CPU=qemu64,+svm to see the skip). HOSTS lists the
hosts (firmware, network, SR type): each is one more install and boot; dom0.py handles ext SRs too
(the guest's disk a file in the mounted SR). One boot per host serves every check: the install and
first boot (about 2 minutes under TCG) are paid once.
"""
from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field

import guest
import pytest
from answers import DHCP, STATIC, answerfile
from dom0 import (CONSOLE_LOGS, WORK, Dom0, GuestFiles, Memory, disk_marker, log_guest_consoles, logs_partition_file,
                  memory_problems, observe_memory, run_linux_guest, sr_disk, start_staying_guest, upload_guest_files,
                  write_config)
from harness import VM
from media import ARTIFACTS, BOOT_TIMEOUT, ROOT, record
from vga import QMP, Screen, TextReader, console_setup_glyphs, kernel_glyphs, load_glyphs

from installer import passwd

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="vm-tests need root (loop devices, mount namespaces)")

CPU = os.environ.get("XH_GUESTS_CPU", "qemu64,+svm,+npt")
PASSWORD = "vm-test-root-pw"
NETWORK = {"dhcp": DHCP, "static": STATIC}
SETTINGS = ('<keymap>us</keymap><timezone>Europe/Paris</timezone>'
            '<ntp source="manual"/><ntp-server>10.0.2.2</ntp-server>')
XEN = "/usr/lib/xen-4.20"
# what an HVM guest needs in dom0: the device model, hvmloader, and the BIOS and UEFI firmware at
# the paths compiled into libxenlight
HVM_FILES = ("/usr/libexec/xen-qemu-system-i386", f"{XEN}/boot/hvmloader", "/usr/share/seabios/bios-256k.bin",
             "/usr/share/ovmf/OVMF.fd")
# (firmware, management network, local SR type): a BIOS and a UEFI host, both SR kinds
HOSTS = [("bios", "dhcp", "lvm"), ("uefi", "static", "ext")]
HAP_LINES = re.compile(r"^\(XEN\) .*(?:HVM:|HAP|SVM|Nested Page|[Ss]hadow).*$", re.M)
# power button to QEMU's exit with a guest running: the guests' wait (XENDOMAINS_STOP_MAXWAIT, 60 s
# in the product) plus an idle host's shutdown (16 s in QEMU), with room for TCG on a busy machine
POWER_OFF_TIMEOUT = 300


@dataclass
class Host:
    vm: VM
    dom0: Dom0
    ready: re.Match                         # the HOST READY line on the serial console
    hostname: str
    address: str                            # dom0's management address, without the prefix length
    sr_type: str
    files: GuestFiles
    timings: dict[str, float] = field(default_factory=dict)
    idle_memory: Memory | None = None       # test_memory_adds_up's reading, with no guest running

    def hap(self) -> bool:
        return "hap" in self.dom0.xl_info().get("virt_caps", "").split()

    def evidence(self) -> str:
        """Xen's own words about HVM support: its boot lines and xl info's capabilities."""
        boot = "\n".join(HAP_LINES.findall(self.vm.console()))
        caps = self.dom0.xl_info().get("virt_caps", "?")
        return f"QEMU -cpu {CPU}; Xen at boot:\n{boot}\nxl info virt_caps: {caps}"


@pytest.fixture(scope="session")
def vga_reader(built, tmp_path_factory):
    """Reads the host's VGA console: dom0's framebuffer text, drawn in the font console-setup loads
    at boot (FONTFACE=Fixed, 8x16), taken from the root image we ship; the kernel's built-in font
    for anything drawn before."""
    fixed = console_setup_glyphs(os.path.join(built["product"], "images", "root.squashfs"),
                                 str(tmp_path_factory.mktemp("host-fonts")))
    kernels = sorted(glob.glob(os.path.join(built["env"], "boot", "vmlinuz-*")))
    assert kernels, f"no kernel in {built['env']}/boot"
    return TextReader(fixed, kernel_glyphs(kernels[-1], like=load_glyphs()))


@pytest.fixture(scope="module", params=HOSTS, ids=lambda p: "-".join(p))
def host(request, built, ssh_key, tmp_path_factory):
    firmware, network, sr_type = request.param
    name = f"{firmware}-{network}-{sr_type}"
    hostname = f"xh-{firmware}.vm-test.invalid"
    out = os.path.join(ARTIFACTS, name)
    os.makedirs(out, exist_ok=True)
    af = tmp_path_factory.mktemp("host") / "answerfile.xml"
    af.write_text(answerfile(ssh_key.public, hostname, NETWORK[network], extra=SETTINGS, password=PASSWORD,
                             disk="sda", sr_type=sr_type))
    image = str(af.parent / "host.img")
    timings: dict[str, float] = {}
    start = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "installer", "install", "--answerfile", str(af),
                          "--target-image", image, "--size", "50G", "--boot-mode", firmware,
                          "--cmdline", "console=ttyS0,115200", "--out", out],
                         cwd=ROOT, capture_output=True, text=True)
    timings["install"] = time.monotonic() - start
    with open(os.path.join(out, "install-output.txt"), "w") as f:
        f.write(res.stdout + res.stderr)
    assert res.returncode == 0, f"install failed:\n{res.stderr[-3000:]}"
    assert PASSWORD not in open(os.path.join(out, "installer.log")).read()
    vm = VM(name, image, firmware, out, cpu=CPU)
    d = None
    try:
        m = vm.boot_until(r"HOST READY: xen=(\S+) hostname=(\S+) management=(\S+) address=(([\d.]+)/\S*)",
                          BOOT_TIMEOUT)
        timings["first boot to host ready"] = time.monotonic() - vm.started
        d = Dom0(vm, ssh_key.private)
        vm.ssh_ok(ssh_key.private, "true")          # sshd is up (retried while it starts)
        start = time.monotonic()
        log_guest_consoles(d)
        files = upload_guest_files(d)
        timings["guest files"] = time.monotonic() - start
        yield Host(vm, d, m, hostname, m.group(5), sr_type, files, timings)
    finally:
        if d and vm.proc.poll() is None:    # the power-button test keeps them itself
            keep_dom0_logs(d, out)
        vm.stop()
        record(f"image {firmware.upper()}, {network}, {sr_type} SR: install on this machine, guests", timings)


def keep_dom0_logs(d: Dom0, out: str) -> None:
    """What dom0 kept of its guests, beside the serial log (best effort)."""
    try:
        logs = d.run("xl dmesg; xl list; tail -n +1 /var/log/xen/console/*.log /var/log/xen/qemu-dm-*.log "
                     f"{WORK}/*-serial.log 2>&1", timeout=60).stdout
    except subprocess.TimeoutExpired:
        logs = "dom0 did not answer"
    with open(os.path.join(out, "dom0-xen-logs.txt"), "w") as f:
        f.write(logs)


def test_host_ready_and_configured_as_the_answer_file_said(host, vga_reader):
    xen, hostname, iface, addr, _ = host.ready.groups()
    assert xen.startswith("4.20"), host.ready.group(0)
    assert hostname == host.hostname and iface == "xenbr0", host.ready.group(0)
    assert addr.startswith("10.0.2.15/24"), host.ready.group(0)
    console = host.vm.console()
    assert "GNU GRUB" in console and "(XEN) Xen version 4.20" in console
    # an operator at the machine sees the same line on the VGA console (dom0's tty0)
    Screen(host.vm, vga_reader).wait_text(f"HOST READY: xen={xen} hostname={hostname}", 60)
    ssh = host.dom0.ok
    info = host.dom0.xl_info()
    assert (info["xen_major"], info["xen_minor"]) == ("4", "20")
    assert ssh("hostname -f").strip() == host.hostname
    assert "inet 10.0.2.15/24" in ssh("ip -4 addr show dev xenbr0")
    vgs = ssh("vgs --noheadings -o vg_name").split()
    assert any(v.startswith("VG_XenStorage-") for v in vgs), vgs
    if host.sr_type == "ext":           # the ext SR is a file system on an LV of that group
        assert "/run/sr-mount/" in ssh("findmnt -rn -o TARGET")
    stamps = ssh("ls /var/lib/misc").split()
    assert {"ran-10-ssh-host-keys", "ran-20-inventory-disks", "ran-30-local-sr"} <= set(stamps)
    shadow = ssh("getent shadow root").split(":")[1]
    assert passwd.verify(PASSWORD, shadow), "the root password from the answer file does not verify"
    saved = ssh("cat /var/log/installer/answerfile.xml")
    assert PASSWORD not in saved and "<hostname>" in saved
    assert ssh("findmnt -rn -o SOURCE /var/log").strip().endswith("5")
    inventory = ssh("cat /etc/xensource-inventory")
    assert "PRIMARY_DISK='/dev/vda'" in inventory, inventory
    assert ssh("readlink /etc/localtime").strip().endswith("Europe/Paris")


def test_pv_guest_console_network_and_disk_in_the_sr(host):
    d, token = host.dom0, uuid.uuid4().hex[:12]
    disk = sr_disk(d, "xh-test-pv-disk")
    where = {"lvm": "/dev/VG_XenStorage-", "ext": "/run/sr-mount/"}[host.sr_type]
    assert disk.sr_type == host.sr_type and disk.stored.startswith(where), disk
    start = time.monotonic()
    try:
        said = run_linux_guest(d, host.files, "pv", token, host.address, disk)
        host.timings["PV guest"] = time.monotonic() - start
        assert said[0].startswith("hello from Linux ") and said[0].endswith("PV guest"), said
        assert f"eth0 {guest.GUEST_ADDR} {guest.GUEST_MAC}" in said, said
        assert f"ping {host.address} ok" in said, said
        assert "xvda written" in said, said
        assert disk_marker(d, disk) == guest.DISK_MARKER.format(token=token)
    finally:
        d.run(disk.cleanup)


def _create_hvm(host: Host, name: str, bios: str, paused: bool = False) -> tuple[int, str]:
    """xl create of an HVM guest with the given firmware (paused: built, firmware loaded, device
    model started, not run): (its domain id, its serial log), once its device model runs. Skips with
    Xen's own words when the emulated CPU gives Xen no HAP."""
    d = host.dom0
    listed = d.ok("ls -l " + " ".join(HVM_FILES))
    assert all(f in listed for f in HVM_FILES), listed
    assert "QEMU emulator version" in d.ok(f"{HVM_FILES[0]} --version")     # its libraries resolve
    serial = f"{WORK}/{name}-serial.log"
    cfg = write_config(d, name, guest.hvm_config(name, serial, bios))
    # hvmloader's and SeaBIOS's lines are guest debug output: Xen prints them only when asked
    d.ok("xl set-parameters guest_loglvl=all")
    created = d.run(f"xl create {'-p ' if paused else ''}{cfg}", timeout=300)
    if created.returncode != 0:
        said = (created.stdout + created.stderr).strip()
        xen = d.run("xl dmesg | tail -n 15").stdout
        evidence = f"{host.evidence()}\nxl create: {said}\nxl dmesg:\n{xen}"
        # it got as far as creating the domain: nothing missing, nothing misconfigured
        assert not re.search(r"No such file|cannot find|not found|[Pp]arse error|syntax error", said), evidence
        assert not host.hap(), f"Xen has HAP and still refused the HVM guest:\n{evidence}"
        pytest.skip(f"HVM guests cannot run on this emulated CPU (no HAP, and Debian's Xen has "
                    f"no shadow paging):\n{evidence}")
    domid = d.domid(name)
    assert domid is not None, created.stderr
    dm = d.ok(f"pgrep -af 'xen-qemu-system-i386.*-xen-domid {domid}( |$)' || true")
    assert dm.strip(), f"no device model running for domain {domid}"
    return domid, serial


def _wait_firmware(host: Host, name: str, domid: int, done, what: str, timeout: float = 300) -> None:
    """Polls until done() is true; fails with what hvmloader and the device model said."""
    d, deadline = host.dom0, time.monotonic() + timeout
    while not done():
        lines = guest.firmware_lines(d.ok("xl dmesg"), domid, "Loading")
        assert time.monotonic() < deadline, (
            f"no {what} from d{domid} after {timeout:.0f} s; hvmloader said: {lines}\n"
            f"device model log:\n{d.run(f'tail -n 20 /var/log/xen/qemu-dm-{name}.log').stdout}")
        assert d.domid(name) == domid, (f"the HVM guest ended before {what}; hvmloader said: {lines}\n"
                                        f"xl dmesg:\n{d.run('xl dmesg | tail -n 20').stdout}")
        time.sleep(5)


def test_hvm_guest_device_model_and_seabios(host):
    d, name = host.dom0, "xh-test-hvm"
    start = time.monotonic()
    try:
        domid, _ = _create_hvm(host, name, "seabios")
        seen: list[str] = []

        def seabios() -> bool:
            seen[:] = guest.seabios_lines(d.ok("xl dmesg"), domid)
            return any("SeaBIOS (version" in line for line in seen)
        _wait_firmware(host, name, domid, seabios, "SeaBIOS banner")
        host.timings["HVM guest to SeaBIOS"] = time.monotonic() - start
        assert any("HVM Loader" in line for line in seen), seen
    finally:
        d.run(f"xl destroy {name} 2>/dev/null")


# Measured here (QEMU 7.2 TCG, -cpu qemu64,+svm,+npt): running OVMF inside an HVM guest makes the
# emulated machine itself stop: hvmloader says "Loading OVMF ..." and "Invoking OVMF ...", then the
# serial console ends and QEMU is gone (the host's SSH port refuses). So by default the UEFI guest is
# built paused and checked without running; XH_GUESTS_OVMF_RUN=1 runs it to OVMF's boot manager.
OVMF_RUN = os.environ.get("XH_GUESTS_OVMF_RUN") == "1"


def test_hvm_guest_with_uefi_firmware(host):
    """An HVM guest with OVMF (bios="ovmf", what UEFI guests such as recent Windows need): libxl
    builds the domain with OVMF.fd loaded for hvmloader and starts its device model (paused, see
    OVMF_RUN); with XH_GUESTS_OVMF_RUN=1, hvmloader invokes OVMF and its boot manager, finding
    nothing to boot, writes on the guest's serial port."""
    d, name = host.dom0, "xh-test-hvm-uefi"
    start = time.monotonic()
    try:
        domid, serial = _create_hvm(host, name, "ovmf", paused=not OVMF_RUN)
        if not OVMF_RUN:
            state = d.ok(f"xl list {domid}").splitlines()[-1].split()
            assert "p" in state[-2], state          # built and paused, firmware loaded
            host.timings["HVM guest with OVMF built (paused)"] = time.monotonic() - start
            return
        _wait_firmware(host, name, domid, lambda: bool(guest.OVMF_SERIAL.search(d.run(f"cat {serial}").stdout)),
                       "line from OVMF on the guest's serial port", timeout=600)
        host.timings["HVM guest to OVMF's boot manager"] = time.monotonic() - start
        loaded = guest.firmware_lines(d.ok("xl dmesg"), domid, "OVMF")
        assert any("Loading OVMF" in line for line in loaded), loaded
    finally:
        d.run(f"xl destroy {name} 2>/dev/null")


def test_pvh_guest_console_and_network(host):
    if not host.hap():
        pytest.skip(f"PVH guests need HAP, which this emulated CPU does not give Xen:\n{host.evidence()}")
    d, token = host.dom0, uuid.uuid4().hex[:12]
    start = time.monotonic()
    said = run_linux_guest(d, host.files, "pvh", token, host.address, None)
    host.timings["PVH guest"] = time.monotonic() - start
    assert said[0].endswith("PVH guest"), said
    assert f"ping {host.address} ok" in said, said


def _memory_record(host: Host, label: str, m: Memory, cmdline: str) -> None:
    """The readings beside the serial log, for the record (docs/testing.md quotes them)."""
    with open(os.path.join(host.vm.workdir, "memory.txt"), "a") as f:
        f.write(f"{label}: total {m.total} MiB, free {m.free} MiB, domains {m.domains}, planned dom0 {m.planned} MiB, "
                f"crash kernel {m.kdump} MiB, Xen's own {m.xen} MiB; Xen's command line: {cmdline}\n")


def test_memory_adds_up_with_the_dom0_memory_the_installer_chose(host):
    deadline = time.monotonic() + 60
    while True:             # a destroyed guest's domain can take a moment to be gone
        m, cmdline = observe_memory(host.dom0)
        if set(m.domains) == {"Domain-0"} or time.monotonic() > deadline:
            break
        time.sleep(3)
    _memory_record(host, "idle", m, cmdline)
    assert set(m.domains) == {"Domain-0"}, m.domains        # the earlier tests' guests are gone
    assert memory_problems(m, cmdline, {}) == [], m
    host.idle_memory = m


def test_host_not_ready_while_the_management_nic_has_no_link(host):
    """The cable out (QMP set_link on QEMU's NIC): the readiness check, run again, names the missing
    link instead of saying HOST READY (the host still holds its address and would answer SSH on it
    locally); with the link back, SSH answers again."""
    d, vm = host.dom0, host.vm
    seen = len(vm.console())
    # started from a timer: the SSH session that starts it goes down with the link
    d.ok("systemd-run --unit xh-test-ready --on-active=5 /usr/lib/xenhost/host-ready --wait 20 --interval 1")
    qmp = QMP(vm.qmp_sock)
    try:
        qmp.execute("set_link", name="net0", up=False)
        try:
            deadline = time.monotonic() + 180
            while "HOST NOT READY" not in vm.console()[seen:]:
                assert time.monotonic() < deadline, f"no HOST NOT READY with the link down:\n{vm.console()[seen:][-2000:]}"
                time.sleep(2)
        finally:
            qmp.execute("set_link", name="net0", up=True)
    finally:
        qmp.close()
    said = re.search(r"HOST NOT READY: ([^*]*?)(?: after \d+ s)?: xen=", vm.console()[seen:])
    assert said and "management: xenbr0 has no link (no carrier on its port eth0)" in said.group(1), \
        vm.console()[seen:][-2000:]
    vm.ssh_ok(d.key, "true")                # the link is back: SSH answers again (retried)


# keep this test the module's last: it powers the host off
def test_power_button_shuts_the_running_guest_down_then_the_host_off(host):
    """The ACPI power button with a guest running: the guest is shut down first, then the host
    powers off, in a bounded time (recorded)."""
    d, vm, token = host.dom0, host.vm, uuid.uuid4().hex[:12]
    name = start_staying_guest(d, host.files, token, host.address)
    m, cmdline = observe_memory(d)
    _memory_record(host, "one guest running", m, cmdline)
    assert memory_problems(m, cmdline, {name: 128}, host.idle_memory) == [], m
    keep_dom0_logs(d, vm.workdir)
    seen = len(vm.console())
    qmp = QMP(vm.qmp_sock)
    start = time.monotonic()
    try:
        qmp.execute("system_powerdown")         # the ACPI power button
    finally:
        qmp.close()
    code = vm.wait_exit(POWER_OFF_TIMEOUT)
    host.timings["power button to power off, a guest running"] = took = time.monotonic() - start
    after = vm.console()[seen:]
    assert code == 0, f"QEMU exited with {code}; the host's console:\n{after[-3000:]}"
    # the host's console: the guest shut down in time, nothing destroyed
    stopped = re.search(rf"xenhost: guest {name} \((\d+)\) shut down after (\d+) s", after)
    assert stopped, f"no shutdown of {name} on the host's console {took:.0f} s after the power button:\n{after[-3000:]}"
    assert "did not shut down" not in after, after[-3000:]
    host.timings["the guest's shutdown"] = float(stopped.group(2))
    # the guest's own console (xenconsoled's log on the host's logs partition): it was asked
    said = guest.said(logs_partition_file(vm.disk, f"{CONSOLE_LOGS.removeprefix('/var/log')}/guest-{name}.log"), token)
    assert said[-2:] == ["running until shut down", "shutdown requested"], said
