"""Build the network-boot artifacts: one directory to serve as a TFTP server's root (boot loaders,
kernel, initrd: GRUB reads /grub, /vmlinuz and /initrd.img there) and over HTTP (the live squashfs,
the product tree), with sample boot configs for pxelinux (BIOS), GRUB (BIOS and UEFI network boot)
and iPXE.

  pxelinux.0 ldlinux.c32 pxelinux.cfg/default     BIOS PXE with pxelinux (DHCP boot file pxelinux.0)
  grub/shimx64.efi grub/grubx64.efi grub/mmx64.efi  UEFI network boot, Secure Boot or not (boot file
                                                  grub/shimx64.efi: Debian's signed shim and GRUB)
  grub/i386-pc/core.0                             GRUB network boot on BIOS (boot file)
  grub/grub.cfg                                   both GRUBs' menu
  xenhost.ipxe                                    iPXE script (chain http://SERVER/xenhost/xenhost.ipxe)
  per-host/                                       one host's unattended install (see below)
  vmlinuz initrd.img filesystem.squashfs          the live installer system
  tree/                                           the product tree (<source type="url">.../tree</source>)

The configs say http://SERVER/xenhost: the operator replaces SERVER with the HTTP server that serves
this directory at /xenhost/ (README.txt).

Every sample boots the local disk unless told otherwise: a machine that falls through to network
boot must never be erased. An install is chosen by hand (a label or menu entry), or for one host by
a per-host file (per-host/: pxelinux.cfg/01-MAC, grub/grub.cfg-01-MAC, hosts/MAC.ipxe) that the
boot server removes when the host's installation-complete hook reports back (report-installed.sh).
"""
from __future__ import annotations

import os
import shutil

from . import livebuild, productbuild, signedboot
from .common import cached, digest, finished, run, say
from installer.product import DEFAULT as PRODUCT

BASE = "http://SERVER/xenhost"
PXELINUX = ("/usr/lib/PXELINUX/pxelinux.0", "/usr/lib/syslinux/modules/bios/ldlinux.c32")
# No ethdevice=: live-boot's initrd fetches through the NIC that BOOTIF names (below), and without
# BOOTIF tries every NIC with a link by DHCP; ethdevice=eth0 would pin a name that depends on the
# order the drivers probed in. net.ifnames=0: the installer's NICs are ethN, the names answer files
# and network_device= use (as on XCP-ng)
LIVE = f"boot=live fetch={BASE}/filesystem.squashfs net.ifnames=0"
CONSOLES = "console=tty0 console=ttyS0,115200"
# the NIC the machine network booted from, as pxelinux's IPAPPEND 2 says it (GRUB spells the MAC
# with colons, which live-boot accepts too): live-boot's initrd brings that NIC up, and
# report-installed.sh reads it; for the kernel, an unknown parameter
BOOTIF = {"grub": "BOOTIF=01-${net_default_mac}", "ipxe": "BOOTIF=01-${mac:hexhyp}"}
LOCAL = ("local", "boot from local disk")   # the default of every sample
ENTRIES = (   # (label, title, installer arguments): chosen by hand only, never by a timeout
    ("unattended", "unattended install (ERASES the disks its answer file names)",
     f"answerfile={BASE}/answerfile.xml"),
    ("interactive", "install (interactive)", ""),
    ("rescue", "rescue shell", "systemd.unit=rescue.target"),
)
# per-host files: MAC is the host's MAC address in lower case with hyphens (52-54-00-12-34-56), the
# form pxelinux (01-MAC), GRUB (grub.cfg-01-MAC) and iPXE (${mac:hexhyp}) look up
HOST_ANSWERFILE = f"{BASE}/hosts/MAC.xml"
HOST_ENTRY = ("unattended", "unattended install of this host (ERASES the disks its answer file names)",
              f"answerfile={HOST_ANSWERFILE}")
REPORT_URL = f"{BASE}/installed"


def _args(extra: str, bootif: str = "") -> str:
    return " ".join(a for a in (LIVE, CONSOLES, bootif, extra) if a)


def _pxelinux_entry(label: str, title: str, extra: str) -> list[str]:
    return [f"LABEL {label}", f"  # {PRODUCT.brand} {PRODUCT.version}: {title}", "  KERNEL vmlinuz",
            "  INITRD initrd.img", f"  APPEND {_args(extra)}", "  IPAPPEND 2", ""]


def pxelinux_cfg() -> str:
    p = PRODUCT
    out = ["SERIAL 0 115200",    # the boot: prompt on the serial console too (SAY: on the screen only)
           f"SAY {p.brand} {p.version} network installer: boots the local disk in 5 s; to install, "
           f"type a label: {' '.join(e[0] for e in ENTRIES)}",
           f"DEFAULT {LOCAL[0]}", "PROMPT 1", "TIMEOUT 50", "",
           "# A machine that falls through to network boot must keep its data: the default returns",
           "# to the BIOS, which boots the next device. One host installs unattended when it has its",
           "# own pxelinux.cfg/01-<mac> (per-host/pxelinux.cfg-01-MAC, docs/media.md).",
           f"LABEL {LOCAL[0]}", f"  # {p.brand} {p.version}: {LOCAL[1]}", "  LOCALBOOT 0", ""]
    for entry in ENTRIES:
        out += _pxelinux_entry(*entry)
    return "\n".join(out)


def pxelinux_host_cfg() -> str:
    """pxelinux.cfg/01-MAC: this host installs at once (pxelinux reads it instead of default)."""
    return "\n".join([
        "# pxelinux.cfg/01-MAC: this host only, unattended install at once; the boot server removes",
        "# this file when the host reports its installation complete (docs/media.md)",
        "SERIAL 0 115200", f"DEFAULT {HOST_ENTRY[0]}", "", *_pxelinux_entry(*HOST_ENTRY)])


_GRUB_HEAD = ["insmod all_video",    # else no framebuffer on UEFI
              "serial --unit=0 --speed=115200",
              "terminal_input console serial", "terminal_output console serial", ""]


def _grub_entry(title: str, extra: str, entry_id: str) -> list[str]:
    # files come from the TFTP server GRUB was loaded from
    return [f'menuentry "{PRODUCT.brand} {PRODUCT.version}: {title}" --id {entry_id} {{',
            f"\tlinux /vmlinuz {_args(extra, BOOTIF['grub'])}", "\tinitrd /initrd.img", "}", ""]


_MAC_BYTE = "([0-9a-f][0-9a-f])"
_HOST_CFG = '"$prefix/grub.cfg-01-$m1-$m2-$m3-$m4-$m5-$m6"'
PER_HOST_LOOKUP = [   # GRUB spells the MAC with colons, the file name with hyphens
    "# This host's own grub.cfg-01-<mac>, when the boot server has one: GRUB 2.06's core images read",
    "# it instead of this file by themselves, Debian's signed GRUB (UEFI) reads only this file.",
    "# ([ -s ] opens the file: [ -e ] lists a directory, which TFTP cannot, and is never true there)",
    f"if regexp {' '.join(f'--set={i}:m{i}' for i in range(1, 7))} '^{':'.join([_MAC_BYTE] * 6)}$' "
    '"$net_default_mac"; then',
    f"\tif [ -s {_HOST_CFG} ]; then", f"\t\tconfigfile {_HOST_CFG}", "\tfi", "fi", ""]


def _local_entries(title: str) -> dict[str, list[str]]:
    """The local-disk entry on each platform (GRUB's names: efi, pc)."""
    return {
        # GRUB's exit returns EFI_SUCCESS, on which OVMF (EDK2) shows its boot menu instead of
        # trying the next boot option: start the disk's own boot loader, by its removable path
        "efi": [f'menuentry "{title}" --id {LOCAL[0]} {{',
                "\tinsmod part_gpt", "\tinsmod part_msdos", "\tinsmod fat",   # not loaded on demand
                "\tif search --no-floppy --file --set=root /EFI/BOOT/BOOTX64.EFI; then",
                "\t\tchainloader /EFI/BOOT/BOOTX64.EFI",
                "\telse",
                "\t\techo \"no EFI/BOOT/BOOTX64.EFI on any disk: back to the firmware\"",
                "\t\texit",
                "\tfi",
                "}"],
        # on BIOS, GRUB's exit reboots (into network boot again): chain the first disk's MBR
        "pc": [f'menuentry "{title}" --id {LOCAL[0]} {{',
               "\tinsmod biosdisk", "\tset root=(hd0)", "\tchainloader +1", "}"],
    }


def grub_cfg(platform: str | None = None) -> str:
    """grub/grub.cfg; with platform ("efi" or "pc") only what GRUB runs there, which is what must
    be built into Debian's signed GRUB (signedboot.check_grub)."""
    p = PRODUCT
    local = _local_entries(f"{p.brand} {p.version}: {LOCAL[1]}")
    out = ["set timeout=5", f"set default={LOCAL[0]}", *_GRUB_HEAD, *PER_HOST_LOOKUP,
           "# A machine that falls through to network boot must keep its data: the default boots the",
           "# local disk. One host installs unattended when it has its own grub.cfg-01-<mac>, run",
           "# instead of this menu (per-host/grub.cfg-01-MAC, docs/media.md).",
           *(local[platform] if platform else
             ['if [ "$grub_platform" = efi ]; then', *local["efi"], "else", *local["pc"], "fi"]), ""]
    for label, title, extra in ENTRIES:
        out += _grub_entry(title, extra, label)
    return "\n".join(out)


def grub_host_cfg() -> str:
    """grub/grub.cfg-01-MAC: this host installs at once (GRUB reads it instead of grub.cfg)."""
    return "\n".join([
        "# grub.cfg-01-MAC: this host only, unattended install at once; the boot server removes this",
        "# file when the host reports its installation complete (docs/media.md)",
        "set timeout=0", f"set default={HOST_ENTRY[0]}", *_GRUB_HEAD,
        *_grub_entry(HOST_ENTRY[1], HOST_ENTRY[2], HOST_ENTRY[0])])


def _ipxe_boot(extra: str) -> list[str]:
    return [f"kernel {BASE}/vmlinuz initrd=initrd.img {_args(extra, BOOTIF['ipxe'])}", f"initrd {BASE}/initrd.img",
            "boot"]


def ipxe_script() -> str:
    p = PRODUCT
    out = ["#!ipxe",
           f"# {p.brand} {p.version} network installer. A machine that falls through to network boot must",
           "# keep its data: this boots the local disk unless the host has its own script",
           "# hosts/<mac>.ipxe (per-host/MAC.ipxe, docs/media.md) or an install is chosen from the menu.",
           "dhcp",
           f"chain --autofree {BASE}/hosts/${{mac:hexhyp}}.ipxe || goto menu",
           ":menu", f"menu {p.brand} {p.version} network installer",
           f"item {LOCAL[0]} {LOCAL[1]}"]
    out += [f"item {label} {title}" for label, title, _extra in ENTRIES]
    out += [f"choose --default {LOCAL[0]} --timeout 5000 target || goto {LOCAL[0]}", "goto ${target}", "",
            f":{LOCAL[0]}", "# back to the firmware, which boots the next device", "exit 1", ""]
    for label, _title, extra in ENTRIES:
        out += [f":{label}", *_ipxe_boot(extra), ""]
    return "\n".join(out)


def ipxe_host_script() -> str:
    """hosts/MAC.ipxe over HTTP: this host installs at once (xenhost.ipxe chains it)."""
    return "\n".join([
        "#!ipxe", "# hosts/MAC.ipxe: this host only, unattended install at once; the boot server removes",
        "# this file when the host reports its installation complete (docs/media.md)",
        *_ipxe_boot(HOST_ENTRY[2]), ""])


def report_hook() -> str:
    """An installation-complete hook: tells the boot server this host is done (either way), so that
    the server removes its per-host boot file and the next network boot falls to the local disk."""
    return "\n".join([
        "#!/bin/sh",
        "# installation-complete hook: $1 is 0 on success, 1 on failure (as an installation-start hook:",
        "# no argument, reported as \"start\"). Reports it for this host's MAC to the boot server, which",
        "# removes the host's per-host boot file; after a failure with the reason in one line",
        "# ($XENHOST_FAILURE, from the installer) as reason=.",
        "set -eu",
        "# the NIC the machine network booted from: BOOTIF=01-<mac> on the boot line (the samples put",
        "# it there), else the first NIC with an IPv4 address (there may be no default route)",
        "mac=$(tr ' ' '\\n' < /proc/cmdline | sed -n 's/^BOOTIF=01-//p' | tr 'A-F:' 'a-f-' | head -n 1)",
        "if [ -z \"$mac\" ]; then",
        "    dev=$(ip -o -4 addr show scope global | sed -n '1s/^[0-9]*: \\([^ ]*\\) .*/\\1/p')",
        "    mac=$(tr : - < \"/sys/class/net/${dev:?no NIC with an IPv4 address}/address\")",
        "fi",
        "set -- -d \"status=${1:-start}\"",
        "if [ -n \"${XENHOST_FAILURE:-}\" ]; then set -- \"$@\" --data-urlencode \"reason=$XENHOST_FAILURE\"; fi",
        f"curl -fsS --max-time 20 --retry 3 -X POST \"$@\" \"{REPORT_URL}/$mac\"",
        ""])


PER_HOST = {   # per-host/<name>: where the operator puts a copy for one host (MAC filled in)
    "pxelinux.cfg-01-MAC": (pxelinux_host_cfg, "TFTP pxelinux.cfg/01-MAC"),
    "grub.cfg-01-MAC": (grub_host_cfg, "TFTP grub/grub.cfg-01-MAC"),
    "MAC.ipxe": (ipxe_host_script, "HTTP xenhost/hosts/MAC.ipxe"),
    "report-installed.sh": (report_hook, "HTTP; <script stage=\"installation-complete\" type=\"url\">"),
}


README = """{brand} {version} network installer
==========================================

Serve this directory twice:
  - as the ROOT of a TFTP server: both GRUBs read /grub/ (Debian's signed network GRUB has that
    prefix built in, and so has grub/i386-pc/core.0) and their menus load /vmlinuz and /initrd.img.
    Names it takes at the top of the TFTP root: /grub/ /vmlinuz /initrd.img /pxelinux.0
    /ldlinux.c32 /pxelinux.cfg/ (the rest is read over HTTP only). On a TFTP root shared with
    other systems see docs/media.md, "The TFTP root".
  - over HTTP at http://SERVER/xenhost/ (live-boot fetches filesystem.squashfs from there, the
    installer fetches the answer file, and <source type="url">http://SERVER/xenhost/tree</source>
    points at the product tree in tree/).
Replace SERVER in pxelinux.cfg/default, grub/grub.cfg and xenhost.ipxe with that server's address.

The DHCP server's boot file, by the client's architecture (DHCP option 93; docs/media.md has ISC
dhcpd and dnsmasq examples):
  0 (BIOS)               pxelinux.0, or grub/i386-pc/core.0 for GRUB
  7 or 9 (x64 UEFI)      grub/shimx64.efi: Debian's signed shim, which starts grub/grubx64.efi
                         (Debian's signed GRUB); Secure Boot on or off
  iPXE (user class iPXE) http://SERVER/xenhost/xenhost.ipxe
Under Secure Boot only grub/shimx64.efi boots (shim, GRUB and kernel are the one signed chain):
iPXE needs Secure Boot off. UEFI HTTP boot is not supported, with or without Secure Boot (the
configs read the loader's files over TFTP).

Coming from an XCP-ng PXE setup: only the installer's parameters carry over (answerfile=,
network_device=, ... from the line of XCP-ng's vmlinuz); mboot.c32, multiboot2, xen.gz, install.img
and XCP-ng's grubx64.efi do not: this installer boots its kernel without Xen. Point the answer
file's <source> at http://SERVER/xenhost/tree.

Every sample boots the LOCAL DISK after its timeout: a machine that falls through to network boot
keeps its data. To install, choose an entry by hand (pxelinux: type its label; GRUB and iPXE: the
menu), or give one host its own boot file, which starts its unattended install at once:
  per-host/pxelinux.cfg-01-MAC  ->  TFTP pxelinux.cfg/01-<mac>      (mac as 52-54-00-12-34-56)
  per-host/grub.cfg-01-MAC      ->  TFTP grub/grub.cfg-01-<mac>
  per-host/MAC.ipxe             ->  HTTP xenhost/hosts/<mac>.ipxe
each naming the answer file http://SERVER/xenhost/hosts/<mac>.xml. Remove the host's file once it
is installed, or it is installed again at its next network boot: per-host/report-installed.sh, as
the answer file's <script stage="installation-complete" type="url">, POSTs to
http://SERVER/xenhost/installed/<mac> for your server to do that (docs/media.md has an example).

The installer system is fetched through the NIC the machine network booted from: its MAC is the
BOOTIF= parameter, which every sample passes (pxelinux: IPAPPEND 2). Without BOOTIF (or when it
names no NIC), live-boot tries every NIC with a link, one after the other, until one gets a DHCP
lease. ethdevice=ethN forces one NIC, but only on a boot line without BOOTIF (BOOTIF wins): drop
IPAPPEND 2 (pxelinux) or the BOOTIF= parameter (GRUB, iPXE) with it.

Kernel parameters (docs/cmdline.md has all of them):
  boot=live fetch=URL/filesystem.squashfs                  the installer system, over HTTP
  answerfile=URL                                           unattended install (http, https, ftp, file)
  network_device=eth0|MAC|all  network_config=dhcp|static:ip=...;gateway=...;dns=...
  console=tty0 console=ttyS0,115200                        progress on every console named
  atexit=reboot|poweroff|shell
The machine needs at least 1 GiB of RAM (the squashfs is held in memory).
"""


def _texts() -> dict[str, str]:
    p = PRODUCT
    out = {"pxelinux.cfg/default": pxelinux_cfg(), "grub/grub.cfg": grub_cfg(), "xenhost.ipxe": ipxe_script(),
           "README.txt": README.format(brand=p.brand, version=p.version)}
    out.update({f"per-host/{name}": make() for name, (make, _where) in PER_HOST.items()})
    return out


def build(force: bool = False) -> str:
    live = livebuild.build()
    tree = productbuild.build()
    efi = signedboot.build()
    texts = _texts()
    inputs = [live, tree, efi] + [part for item in sorted(texts.items()) for part in item]
    for path in PXELINUX:
        if not os.path.exists(path):
            raise SystemExit(f"missing {path}: install the Debian packages pxelinux syslinux-common")
        with open(path, "rb") as f:
            inputs.append(f.read())
    for module in (__file__, signedboot.__file__):
        with open(module, "rb") as f:
            inputs.append(f.read())
    k = digest(inputs)
    base, out, done = cached("pxe", k, "pxe", "PXE artifacts", force)
    if done:
        return out
    signedboot.check_grub(efi, "grubnetx64.efi", {"grub/grub.cfg": grub_cfg("efi"),
                                                  "per-host/grub.cfg-01-MAC": grub_host_cfg()})
    os.makedirs(os.path.join(out, "pxelinux.cfg"))
    os.makedirs(os.path.join(out, "per-host"))
    for name in livebuild.FILES:
        os.link(os.path.join(live, name), os.path.join(out, name))
    shutil.copytree(tree, os.path.join(out, "tree"), copy_function=os.link)
    for path in PXELINUX:
        shutil.copy(path, out)
    # GRUB on BIOS: this machine's GRUB with its modules; on UEFI: Debian's signed shim and GRUB
    run(["grub-mknetdir", f"--net-directory={out}", "--subdir=grub", "--directory=/usr/lib/grub/i386-pc"])
    for dest, name in signedboot.NET.items():
        shutil.copy(os.path.join(efi, name), os.path.join(out, dest))
    for rel, text in texts.items():
        with open(os.path.join(out, rel), "w") as f:
            f.write(text)
    os.chmod(os.path.join(out, "per-host", "report-installed.sh"), 0o755)
    say(f"PXE artifacts in {out}")
    return finished("pxe", k, base, out)
