"""The boot configs the media ship: every entry's boot line must pass our own boot-line parser and
carry the live-boot parameters; the network-boot samples boot the local disk unless an install is
chosen by hand or by a per-host file (pure: no build needed; the hook runs against a real HTTP
server)."""
from __future__ import annotations

import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "image"))
from xhbuild import isobuild, pxebuild, signedboot  # noqa: E402

from installer import cmdline  # noqa: E402

PXE_LINES = {
    "pxelinux": lambda text: re.findall(r"^\s*APPEND (.*)$", text, re.M),
    "grub": lambda text: re.findall(r"^\s*linux /vmlinuz (.*)$", text, re.M),
    "ipxe": lambda text: re.findall(r"^kernel \S+ initrd=initrd.img (.*)$", text, re.M),
}
SAMPLES = {"pxelinux": pxebuild.pxelinux_cfg, "grub": pxebuild.grub_cfg, "ipxe": pxebuild.ipxe_script}
HOST_SAMPLES = {"pxelinux": pxebuild.pxelinux_host_cfg, "grub": pxebuild.grub_host_cfg,
                "ipxe": pxebuild.ipxe_host_script}
SHARED_ANSWERFILE = "answerfile=http://SERVER/xenhost/answerfile.xml"


def _parsed(line: str):
    opts, report = cmdline.parse(line.replace("SERVER", "192.0.2.7").replace("MAC", "52-54-00-12-34-56"))
    assert not report.errors, report.errors
    return opts


@pytest.mark.parametrize("kind", sorted(PXE_LINES))
def test_pxe_samples_boot_lines_parse_and_fetch_the_live_system(kind):
    for text in (SAMPLES[kind](), HOST_SAMPLES[kind]()):
        lines = PXE_LINES[kind](text)
        assert lines, f"no kernel lines in the {kind} sample"
        for line in lines:
            opts = _parsed(line)
            assert "boot=live" in line and "fetch=http://SERVER/xenhost/filesystem.squashfs" in line
            assert set(opts.consoles) == {"tty0", "ttyS0,115200"} and "net.ifnames=0" in line.split()
            # live-boot takes the NIC BOOTIF names (pxelinux: IPAPPEND 2), else every NIC with a
            # link; ethdevice= would pin a name that depends on the drivers' probe order
            assert "ethdevice" not in line and (kind == "pxelinux" or "BOOTIF=01-" in line)
    shared = [_parsed(line) for line in PXE_LINES[kind](SAMPLES[kind]()) if SHARED_ANSWERFILE in line]
    assert len(shared) == 1 and shared[0].answerfile == "http://192.0.2.7/xenhost/answerfile.xml"
    (host,) = [_parsed(line) for line in PXE_LINES[kind](HOST_SAMPLES[kind]())]
    assert host.answerfile == "http://192.0.2.7/xenhost/hosts/52-54-00-12-34-56.xml" and host.needs_network


def _pxelinux_labels(text: str) -> dict[str, list[str]]:
    """LABEL name -> its lines (comments dropped)."""
    labels: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        words = line.split(None, 1)
        if not words or words[0].startswith("#"):
            continue
        if words[0].upper() == "LABEL":
            current = labels.setdefault(words[1].strip(), [])
        elif current is not None:
            current.append(line.strip())
    return labels


def _globals(text: str) -> dict[str, str]:
    """pxelinux directives before the first LABEL, upper-cased names -> values."""
    out = {}
    for line in text.split("\nLABEL ")[0].splitlines():
        words = line.split(None, 1)
        if words and not words[0].startswith("#"):
            out[words[0].upper()] = words[1] if len(words) > 1 else ""
    return out


def test_pxelinux_defaults_to_the_local_disk_and_offers_the_install_by_label():
    cfg = pxebuild.pxelinux_cfg()
    top, labels = _globals(cfg), _pxelinux_labels(cfg)
    # the timeout picks DEFAULT (no ONTIMEOUT, which would override it) and DEFAULT is local boot
    assert top["DEFAULT"] == "local" and "ONTIMEOUT" not in top and int(top["TIMEOUT"]) > 0
    assert top["PROMPT"] == "1" and "IPAPPEND 2" in cfg
    assert labels["local"] == ["LOCALBOOT 0"]
    unattended = " ".join(labels["unattended"])
    assert SHARED_ANSWERFILE in unattended and "KERNEL vmlinuz" in unattended
    assert set(labels) == {"local", "unattended", "interactive", "rescue"}
    assert "unattended" in top["SAY"] and "local disk" in top["SAY"]


def _grub_entries(text: str) -> list[tuple[str, str]]:
    """(id, body) of every menuentry, in order."""
    return re.findall(r'^menuentry "[^"]*" --id (\S+) \{\n(.*?)^\}', text, re.M | re.S)


def test_grub_defaults_to_the_local_disk_on_bios_and_uefi_and_offers_the_install_in_the_menu():
    cfg = pxebuild.grub_cfg()
    assert re.findall(r"^set default=(\S+)$", cfg, re.M) == ["local"]
    assert re.search(r"^set timeout=[1-9]", cfg, re.M) and "fallback" not in cfg
    entries = _grub_entries(cfg)
    assert [i for i, _ in entries] == ["local", "local", "unattended", "interactive", "rescue"]
    # one local entry per firmware: the if/else on $grub_platform picks which is defined
    efi_part, bios_part = cfg.split('if [ "$grub_platform" = efi ]; then\n', 1)[1].split("\nelse\n", 1)
    efi_body, bios_body = _grub_entries(efi_part)[0][1], _grub_entries(bios_part)[0][1]
    # UEFI: the disk's own boot loader at the removable path (GRUB's exit returns EFI_SUCCESS, and
    # OVMF then shows its boot menu); exit only when no disk has one
    assert "search --no-floppy --file --set=root /EFI/BOOT/BOOTX64.EFI" in efi_body
    assert "chainloader /EFI/BOOT/BOOTX64.EFI" in efi_body and "insmod part_gpt" in efi_body
    assert efi_body.index("chainloader") < efi_body.index("exit")
    # BIOS: the first disk's MBR (GRUB's exit on BIOS reboots, into network boot again)
    assert [line.strip() for line in bios_body.splitlines()] == ["insmod biosdisk", "set root=(hd0)",
                                                                 "chainloader +1"]
    assert "linux" not in efi_body + bios_body and "exit" not in bios_body
    assert SHARED_ANSWERFILE in dict(entries)["unattended"]


def test_ipxe_defaults_to_the_local_disk_and_offers_the_install_in_the_menu():
    script = pxebuild.ipxe_script()
    lines = [line for line in script.splitlines() if line and not line.startswith("#")]
    menu_at = lines.index(":menu")
    # before the menu: only DHCP and this host's own script, if the server has one
    assert lines[:menu_at] == ["dhcp", "chain --autofree http://SERVER/xenhost/hosts/${mac:hexhyp}.ipxe || goto menu"]
    (choose,) = [line for line in lines if line.startswith("choose ")]
    assert "--default local" in choose and "--timeout 5000" in choose and choose.endswith("|| goto local")
    assert lines[lines.index(":local") + 1] == "exit 1"      # back to the firmware: its next device
    items = [line.split()[1] for line in lines if line.startswith("item ")]
    assert items == ["local", "unattended", "interactive", "rescue"]
    unattended = lines[lines.index(":unattended") + 1]
    assert SHARED_ANSWERFILE in unattended
    assert lines.index(":local") < lines.index(":unattended")   # local is not reached by falling through
    assert "autoboot" not in script and "sanboot" not in script


def test_per_host_samples_install_at_once_with_the_hosts_own_answer_file():
    pxelinux = pxebuild.pxelinux_host_cfg()
    top = _globals(pxelinux)
    assert top["DEFAULT"] == "unattended" and "PROMPT" not in top and "TIMEOUT" not in top
    assert list(_pxelinux_labels(pxelinux)) == ["unattended"]
    grub = pxebuild.grub_host_cfg()
    assert "set timeout=0" in grub and "set default=unattended" in grub
    assert [i for i, _ in _grub_entries(grub)] == ["unattended"]
    assert pxebuild.ipxe_host_script().startswith("#!ipxe\n")
    ipxe = [line for line in pxebuild.ipxe_host_script().splitlines() if line and not line.startswith("#")]
    assert [line.split()[0] for line in ipxe] == ["kernel", "initrd", "boot"]
    for text in (pxelinux, grub, "\n".join(ipxe)):
        assert "answerfile=http://SERVER/xenhost/hosts/MAC.xml" in text and SHARED_ANSWERFILE not in text
    # the names the loaders look up (pxelinux: 01-<mac>; GRUB: grub.cfg-01-<mac>; the iPXE sample
    # chains hosts/${mac:hexhyp}.ipxe), and each sample says where its copy goes
    assert {name: where for name, (_make, where) in pxebuild.PER_HOST.items()} == {
        "pxelinux.cfg-01-MAC": "TFTP pxelinux.cfg/01-MAC", "grub.cfg-01-MAC": "TFTP grub/grub.cfg-01-MAC",
        "MAC.ipxe": "HTTP xenhost/hosts/MAC.ipxe",
        "report-installed.sh": 'HTTP; <script stage="installation-complete" type="url">'}
    assert "${mac:hexhyp}" in pxebuild.ipxe_script() and "hosts/${mac:hexhyp}.ipxe" in pxebuild.ipxe_script()


def test_artifact_texts_name_the_product_and_every_file_says_the_local_disk_is_the_default():
    texts = pxebuild._texts()
    assert set(texts) == {"pxelinux.cfg/default", "grub/grub.cfg", "xenhost.ipxe", "README.txt",
                          *(f"per-host/{name}" for name in pxebuild.PER_HOST)}
    from installer.product import DEFAULT as P
    for rel in ("pxelinux.cfg/default", "grub/grub.cfg", "xenhost.ipxe", "README.txt"):
        assert f"{P.brand} {P.version}" in texts[rel] and "local disk" in texts[rel].lower(), rel
    assert f"{P.brand} {P.version}" in isobuild.MENU.format(brand=P.brand, version=P.version)


def test_the_tftp_root_the_readme_and_docs_name_is_the_one_the_configs_read():
    """GRUB reads /grub (its prefix) and /vmlinuz, /initrd.img from the TFTP root: the directory
    must be that root, and the README and docs/media.md list the names it takes there."""
    assert signedboot.PREFIX["grubnetx64.efi"] == "/grub" and signedboot.NET_BOOT_FILE.startswith("grub/")
    cfg = pxebuild.grub_cfg()
    assert re.findall(r"^\tlinux (\S+) ", cfg, re.M) == ["/vmlinuz"] * 3
    assert re.findall(r"^\tinitrd (\S+)$", cfg, re.M) == ["/initrd.img"] * 3
    names = ["/grub/", "/vmlinuz", "/initrd.img", *(f"/{os.path.basename(p)}" for p in pxebuild.PXELINUX),
             "/pxelinux.cfg/"]
    readme = " ".join(pxebuild._texts()["README.txt"].split())
    with open(os.path.join(ROOT, "docs/media.md")) as f:
        media = f.read()
    tftp = media.split("### The TFTP root", 1)[1].split("\n### ", 1)[0]
    for name in names:
        assert f" {name} " in readme and f"`{name}" in tftp, name
    # the DHCP examples offer the boot files by client architecture (option 93: 0 BIOS, 7/9 x64 UEFI)
    assert "option arch = 00:07 or option arch = 00:09" in media
    assert all(f"option:client-arch,{n}" in media for n in (0, 7, 9))
    assert all(f'"{f}"' in media or f",{f}" in media for f in ("pxelinux.0", signedboot.NET_BOOT_FILE))


@pytest.fixture
def report_server():
    """A real HTTP server recording POSTs: (base URL, [(path, body)])."""
    posts: list[tuple[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            posts.append((self.path, self.rfile.read(int(self.headers["Content-Length"])).decode()))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}", posts
    server.shutdown()


def _first_nic_mac() -> str | None:
    """The fallback the hook takes without BOOTIF=: the first NIC with a global IPv4 address."""
    if not shutil.which("curl"):
        return None
    out = subprocess.run(["ip", "-o", "-4", "addr", "show", "scope", "global"], capture_output=True, text=True).stdout
    if not out.strip():
        return None
    with open(f"/sys/class/net/{out.split()[1]}/address") as f:
        return f.read().strip().replace(":", "-")


def _hook(tmp_path, server: str, cmdline: str | None = None):
    text = pxebuild.report_hook().replace("SERVER", server)
    if cmdline is not None:      # the machine's boot line, in place of /proc/cmdline
        (tmp_path / "cmdline").write_text(cmdline + "\n")
        assert text.count("/proc/cmdline") == 1
        text = text.replace("/proc/cmdline", str(tmp_path / "cmdline"))
    hook = tmp_path / "report-installed.sh"
    hook.write_text(text)
    hook.chmod(0o700)
    return hook


@pytest.mark.parametrize("bootif,mac", [
    ("BOOTIF=01-52-54-00-ab-cd-ef", "52-54-00-ab-cd-ef"),          # pxelinux's IPAPPEND 2
    ("BOOTIF=01-52:54:00:AB:CD:EF", "52-54-00-ab-cd-ef"),          # GRUB's ${net_default_mac}
])
@pytest.mark.parametrize("args,status", [(["0"], "0"), (["1"], "1"), ([], "start")])   # [], installation-start
def test_report_hook_posts_the_boot_nics_mac_and_the_outcome(report_server, tmp_path, args, status, bootif, mac):
    if not shutil.which("curl"):
        pytest.skip("needs curl, as in the installer environment")
    server, posts = report_server
    hook = _hook(tmp_path, server, f"boot=live quiet {bootif} answerfile=http://x/a.xml")
    res = subprocess.run([str(hook), *args], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert posts == [(f"/xenhost/installed/{mac}", f"status={status}")]


def test_report_hook_posts_why_the_install_failed(report_server, tmp_path):
    """The installer hands a failure's reason to the script ($XENHOST_FAILURE): it goes to the boot
    server as reason=, URL-encoded, so the operator learns why without anyone at the console."""
    if not shutil.which("curl"):
        pytest.skip("needs curl, as in the installer environment")
    server, posts = report_server
    hook = _hook(tmp_path, server, "BOOTIF=01-52-54-00-ab-cd-ef")
    why = "the install cannot be planned: Secure Boot is enabled & \"Other OS\" 100%"
    res = subprocess.run([str(hook), "1"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "XENHOST_FAILURE": why})
    assert res.returncode == 0, res.stderr
    [(path, body)] = posts
    assert path == "/xenhost/installed/52-54-00-ab-cd-ef"
    assert urllib.parse.parse_qs(body) == {"status": ["1"], "reason": [why]}


def test_report_hook_without_bootif_takes_the_first_nic_with_an_address(report_server, tmp_path):
    mac = _first_nic_mac()
    if mac is None:
        pytest.skip("needs curl and a NIC with an IPv4 address, as in the installer environment")
    server, posts = report_server
    res = subprocess.run([str(_hook(tmp_path, server, "boot=live quiet")), "0"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert posts == [(f"/xenhost/installed/{mac}", "status=0")]
    assert re.fullmatch(r"[0-9a-f]{2}(-[0-9a-f]{2}){5}", mac)


def test_report_hook_fails_visibly_when_the_server_does_not_answer(tmp_path):
    """The installer logs a failing installation-complete hook as a warning: it must fail, not
    pretend (the host's per-host boot file then stays, and the operator sees why)."""
    if not shutil.which("curl"):
        pytest.skip("needs curl, as in the installer environment")
    hook = _hook(tmp_path, "127.0.0.1:9", "BOOTIF=01-52-54-00-ab-cd-ef")
    hook.write_text(hook.read_text().replace("--retry 3", "--retry 0"))
    res = subprocess.run([str(hook), "0"], capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and "curl" in res.stderr


def test_every_boot_line_names_the_boot_nic_for_the_hook():
    """BOOTIF=01-<mac>: pxelinux adds it (IPAPPEND 2), the GRUB and iPXE lines carry it."""
    for kind, make in [*SAMPLES.items(), *HOST_SAMPLES.items()]:
        text = make()
        if kind == "pxelinux":
            assert text.count("IPAPPEND 2") == text.count("KERNEL vmlinuz") > 0
        else:
            lines = PXE_LINES[kind](text)
            assert lines and all(pxebuild.BOOTIF[kind] in line for line in lines), kind


def test_iso_menu_entries_parse_and_only_the_unattended_one_names_an_answer_file():
    lines = re.findall(r"^\s*linux /live/vmlinuz (.*)$", isobuild.MENU, re.M)
    assert len(lines) == 4
    parsed = [cmdline.parse(line)[0] for line in lines]
    assert [o.unattended for o in parsed] == [False, False, True, False]
    assert parsed[2].answerfile == "file:///run/live/medium/answerfile.xml"
    assert all("boot=live" in line and "net.ifnames=0" in line for line in lines)
