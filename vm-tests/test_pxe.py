"""Installer media scenario 3, PXE, once per shipped boot loader sample: pxelinux (BIOS), GRUB
(UEFI network boot) and iPXE (QEMU's own iPXE ROM runs the script; kernel and initrd over HTTP).

QEMU's own TFTP server (user networking, restrict=on) serves the boot loader, its config (the
shipped sample with SERVER filled in), the kernel and the initrd; live-boot fetches the installer
system, the installer the answer file and the product tree (source type="url"), all over HTTP from
a boot server the test runs on 127.0.0.1, reached through guestfwd.

The shipped samples boot the local disk unless told otherwise, so each install is chosen as an
operator would (docs/media.md): a per-host boot file for the VM's MAC (per-host/ in the artifacts,
SERVER and MAC filled in) names the host's own answer file, whose installation-complete hook
(per-host/report-installed.sh) reports back; the boot server then removes that file. The installed
disk is booted with network boot still first and the shipped sample unchanged: it must fall through
to the local disk (HOST READY, no installer, partition table unchanged).

test_pxe_sample_unchanged_boots_the_local_disk checks that fall-through for every sample and
firmware (GRUB on BIOS too) in seconds, with a stand-in disk whose boot code only prints a line.
"""
from __future__ import annotations

import hashlib
import http.server
import os
import re
import subprocess
import threading
import time

import pytest
from answers import DHCP, answerfile
from harness import VM
from media import ARTIFACTS, SERVER, blank_disk, booted_host, record, run_install
from vga import Screen, TextReader

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="vm-tests need root (image builds)")

MAC = "52-54-00-12-34-56"        # QEMU's first NIC, as pxelinux, GRUB and iPXE spell it in file names
FALLTHROUGH_TIMEOUT = 180        # power-on to the local disk's boot code: about 15 s here


def served(src: str, where, names) -> None:
    os.makedirs(where, exist_ok=True)
    for name in names:
        os.symlink(os.path.join(src, name), os.path.join(where, name))


def render(pxe: str, rel: str, dest: str) -> None:
    """A shipped file with SERVER (and, in the per-host samples, MAC) filled in, as the operator
    copies it; nothing else changed."""
    with open(os.path.join(pxe, rel)) as f:
        text = f.read()
    assert "http://SERVER/xenhost" in text
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "w") as f:
        f.write(text.replace("SERVER", SERVER).replace("MAC", MAC))


@pytest.fixture
def boot_server(tmp_path):
    """What an operator's boot server does: TFTP (QEMU's, from tftp/) and HTTP (www/, here), plus
    POST /xenhost/installed/<mac> from report-installed.sh, which removes that host's per-host boot
    files. Yields (www, tftp, port, requests [(method, path, status)], reports [(mac, body)])."""
    www, tftp = tmp_path / "www", tmp_path / "tftp"
    (www / "xenhost" / "hosts").mkdir(parents=True)
    tftp.mkdir()
    requests: list[tuple[str, str, int]] = []
    reports: list[tuple[str, str]] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(www), **kwargs)

        def log_request(self, code="-", size="-"):
            requests.append((self.command, self.path, int(code)))

        def log_message(self, *args):
            pass

        def do_POST(self):
            m = re.fullmatch(r"/xenhost/installed/([0-9a-f]{2}(?:-[0-9a-f]{2}){5})", self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode(errors="replace")
            if not m:
                self.send_error(404)
                return
            mac = m.group(1)
            for path in (tftp / "pxelinux.cfg" / f"01-{mac}", tftp / "grub" / f"grub.cfg-01-{mac}",
                         www / "xenhost" / "hosts" / f"{mac}.ipxe"):
                if path.exists():
                    path.unlink()
            reports.append((mac, body))
            self.send_response(204)
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield www, tftp, server.server_address[1], requests, reports
    server.shutdown()


# (firmware, boot loader): what QEMU's TFTP server holds, the shipped config, the DHCP boot file,
# what the installer's console shows, the per-host sample and where its copy goes (tftp/ or www/)
LOADERS = {
    ("bios", "pxelinux"): (["pxelinux.0", "ldlinux.c32", "vmlinuz", "initrd.img"], "pxelinux.cfg/default",
                           "pxelinux.0", "PXELINUX", "pxelinux.cfg-01-MAC", f"tftp/pxelinux.cfg/01-{MAC}"),
    # the per-host config boots at once: no menu drawn, but GRUB puts BOOT_IMAGE= first
    ("uefi", "grub"): (["vmlinuz", "initrd.img"], "grub/grub.cfg", "grub/shimx64.efi",
                       "Command line: BOOT_IMAGE=/vmlinuz boot=live", "grub.cfg-01-MAC", f"tftp/grub/grub.cfg-01-{MAC}"),
    # kernel and initrd over HTTP; SeaBIOS shows iPXE's banner on VGA only, but only the iPXE
    # script puts initrd= first on the kernel's command line
    ("bios", "ipxe"): ([], "xenhost.ipxe", "xenhost.ipxe", "Command line: initrd=initrd.img boot=live",
                       "MAC.ipxe", f"www/xenhost/hosts/{MAC}.ipxe"),
}
LOCAL_BOOT_SEEN = {   # the sample's local-disk entry on the serial console (iPXE: VGA only)
    "pxelinux": "Booting from local disk",
    "grub": "boot from local disk'",     # GRUB: Booting `<brand> <version>: boot from local disk'
}


def tftp_tree(pxe: str, tftp, loader: str) -> tuple[str, str]:
    """QEMU's TFTP directory: the loader's files and its shipped config, SERVER filled in."""
    files, config, bootfile = LOADERS[("uefi" if loader == "grub" else "bios", loader)][:3]
    served(pxe, tftp, files)
    render(pxe, config, str(tftp / config))
    if loader == "grub":   # shim, signed GRUB (UEFI), i386-pc (BIOS): all but the config rendered above
        served(os.path.join(pxe, "grub"), tftp / "grub", sorted(set(os.listdir(os.path.join(pxe, "grub"))) - {"grub.cfg"}))
    return str(tftp), bootfile


def head_digest(disk: str, size: int = 1 << 20) -> str:
    """The first MiB: MBR, GPT header and partition entries (a re-install writes new ones)."""
    with open(disk, "rb") as f:
        return hashlib.sha256(f.read(size)).hexdigest()


@pytest.mark.parametrize("firmware,loader", sorted(LOADERS))
def test_pxe_unattended_install_over_http(firmware, loader, pxe, boot_server, ssh_key, tmp_path):
    www, tftp, port, requests, reports = boot_server
    _files, _config, bootfile, banner, per_host, dest = LOADERS[(firmware, loader)]
    name = f"pxe-{firmware}-{loader}"
    hostname = f"xh-{name}.vm-test.invalid"
    fwd = [f"{SERVER}:80=127.0.0.1:{port}"]
    # HTTP: the PXE directory at /xenhost/ (as its README says); this host's answer file, with the
    # shipped installation-complete hook that reports back
    served(pxe, www / "xenhost", [n for n in os.listdir(pxe) if n != "answerfile.xml"])
    render(pxe, "per-host/report-installed.sh", str(www / "xenhost" / "hosts" / "report-installed.sh"))
    hook = f'<script stage="installation-complete" type="url">http://{SERVER}/xenhost/hosts/report-installed.sh</script>'
    (www / "xenhost" / "hosts" / f"{MAC}.xml").write_text(answerfile(
        ssh_key.public, hostname, DHCP, extra=hook, source=f'<source type="url">http://{SERVER}/xenhost/tree</source>'))
    # TFTP: the boot loader, kernel and initrd, the shipped config unchanged but for SERVER; and
    # the operator's choice: this host's own boot file
    tftp_dir, _ = tftp_tree(pxe, tftp, loader)
    host_file = str(tmp_path / dest)
    render(pxe, f"per-host/{per_host}", host_file)
    disk = blank_disk(str(tmp_path / "disk.img"))
    vm = VM("installer", disk, firmware, os.path.join(ARTIFACTS, name), memory_mib=1024,
            netboot=(tftp_dir, bootfile), guestfwd=fwd).start()
    timings: dict[str, float] = {}
    run_install(vm, timings)      # atexit: the default, reboot (QEMU runs with -no-reboot: it ends)
    text = vm.console()
    assert banner in text and f"fetch=http://{SERVER}/xenhost/filesystem.squashfs" in text
    assert f"answerfile=http://{SERVER}/xenhost/hosts/{MAC}.xml" in text
    assert f"product tree http://{SERVER}/xenhost/tree verified" in text, text[-3000:]
    # one-shot: the hook reported success and the boot server removed this host's boot file
    assert reports == [(MAC, "status=0")], (reports, text[-3000:])
    assert not os.path.exists(host_file)
    # the installed machine, still network booting first: the unchanged sample boots its disk,
    # up to the installed GRUB's own menu (then stopped: on that boot the firmware's DHCP lease
    # takes the address the SSH forward expects, so the host is checked on a plain disk boot)
    before = head_digest(disk)
    seen = len(requests)
    again = VM("fallthrough", disk, firmware, os.path.join(ARTIFACTS, name), netboot=(tftp_dir, bootfile),
               guestfwd=fwd).start()
    try:
        again.wait_for(r"Booting `\S+ \S+ \(serial console\)'", 300)    # the installed grub.cfg's entry
        timings["network boot to the installed GRUB"] = time.monotonic() - again.started
        fall_text = again.console()
    finally:
        again.stop()
    assert "boot=live" not in fall_text and "installer: answer file" not in fall_text
    if loader == "ipxe":    # the script looked for this host's own script (gone: 404), then the menu
        assert ("GET", f"/xenhost/hosts/{MAC}.ipxe", 404) in requests[seen:], requests[seen:]
    else:
        assert LOCAL_BOOT_SEEN[loader] in fall_text, fall_text[:3000]
    assert head_digest(disk) == before
    with booted_host(name, disk, firmware, ssh_key.private, hostname, "10.0.2.15/24", timings):
        pass
    record(f"3 PXE {firmware.upper()} ({loader}), tree over HTTP", timings)


# A stand-in for an installed disk: boot code that only says it ran. BIOS: an MBR that writes
# LOCAL DISK BOOTED to COM1 and halts (8086 code, assembled by hand):
#   cli; xor ax,ax; mov ds,ax; cld; mov si,msg; mov dx,0x3f8
#   next: lodsb; test al,al; jz done; out dx,al; jmp next
#   done: hlt; jmp done
MARKER = "LOCAL DISK BOOTED"
MBR_CODE = bytes.fromhex("fa31c08ed8fc" "be177c" "baf803" "ac84c07403eeebf8" "f4ebfd")
# UEFI: an ESP holding EFI/BOOT/BOOTX64.EFI, a GRUB image whose built-in config prints the line
EFI_CFG = f"serial --unit=0 --speed=115200\nterminal_output serial\necho {MARKER}\nsleep 600\n"


def standin_disk(firmware: str, tmp_path) -> str:
    disk = str(tmp_path / "standin.img")
    if firmware == "bios":
        msg = MARKER.encode() + b"\r\n\0"
        assert 0x7c00 + len(MBR_CODE) == int.from_bytes(MBR_CODE[7:9], "little")   # msg: right after
        with open(disk, "wb") as f:
            f.write((MBR_CODE + msg).ljust(510, b"\0") + b"\x55\xaa")
            f.truncate(64 << 20)
        return disk
    cfg, efi, esp = tmp_path / "embed.cfg", str(tmp_path / "BOOTX64.EFI"), str(tmp_path / "esp.img")
    cfg.write_text(EFI_CFG)
    for argv in (["grub-mkimage", "-O", "x86_64-efi", "-p", "/EFI/BOOT", "-c", str(cfg), "-o", efi,
                  "serial", "terminal", "echo", "sleep"],
                 ["mformat", "-C", "-i", esp, "-T", "65536", "-h", "64", "-s", "32", "::"],
                 ["mmd", "-i", esp, "::/EFI", "::/EFI/BOOT"],
                 ["mcopy", "-i", esp, efi, "::/EFI/BOOT/BOOTX64.EFI"]):
        subprocess.run(argv, check=True, capture_output=True)
    blank_disk(disk, size=64 << 20)
    subprocess.run(["sgdisk", "-o", "-n1:2048:+32M", "-t1:ef00", disk], check=True, capture_output=True)
    with open(esp, "rb") as src, open(disk, "r+b") as dst:
        dst.seek(1 << 20)
        dst.write(src.read())
    return disk


FALLTHROUGH = {   # (firmware, loader): DHCP boot file (the TFTP tree as in scenario 3)
    ("bios", "pxelinux"): "pxelinux.0",
    ("bios", "grub"): "grub/i386-pc/core.0",
    ("uefi", "grub"): "grub/shimx64.efi",      # Debian's signed shim, then its signed GRUB
    ("bios", "ipxe"): "xenhost.ipxe",
}


@pytest.mark.parametrize("firmware,loader", sorted(FALLTHROUGH))
def test_pxe_sample_unchanged_boots_the_local_disk(firmware, loader, pxe, boot_server, tmp_path):
    """A machine with a bootable disk that network boots first, served the shipped sample with
    only SERVER filled in: after the sample's timeout the disk's own boot code runs, and the disk
    is byte-for-byte unchanged."""
    www, tftp, port, requests, _reports = boot_server
    served(pxe, www / "xenhost", ["vmlinuz", "initrd.img", "filesystem.squashfs"])
    tftp_dir, _ = tftp_tree(pxe, tftp, loader)
    bootfile = FALLTHROUGH[(firmware, loader)]
    disk = standin_disk(firmware, tmp_path)
    with open(disk, "rb") as f:
        before = hashlib.sha256(f.read()).hexdigest()
    vm = VM("fallthrough", disk, firmware, os.path.join(ARTIFACTS, f"pxe-local-{firmware}-{loader}"),
            memory_mib=512, netboot=(tftp_dir, bootfile), guestfwd=[f"{SERVER}:80=127.0.0.1:{port}"]).start()
    try:
        if loader == "ipxe":   # its menu is on VGA only: local disk first and chosen, install offered
            lines = Screen(vm, TextReader()).wait_text("network installer", 60)
            entries = [line.strip() for line in lines if line.strip()]
            assert entries[1].startswith("boot from local disk"), lines
            assert any(e.startswith("unattended install") for e in entries), lines
        vm.wait_for(re.escape(MARKER), FALLTHROUGH_TIMEOUT)
        text = vm.console()
    finally:
        vm.stop()
    assert "Linux version" not in text and "boot=live" not in text
    if loader in LOCAL_BOOT_SEEN:
        assert LOCAL_BOOT_SEEN[loader] in text, text[-2000:]
    else:
        assert ("GET", f"/xenhost/hosts/{MAC}.ipxe", 404) in requests, requests
    assert not any(path.endswith(("vmlinuz", "initrd.img", "squashfs")) for _m, path, _c in requests), requests
    with open(disk, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == before
