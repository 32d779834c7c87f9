"""Real installs into disk images, run inside the installer environment (install --target-image).

What is checked from outside after each run: the partition table, labels and the SR volume group on
the image, the files in the installed root, the events, and that nothing else was written. Bad input
and faults must fail with a clear message naming the step, and a re-run must then succeed.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = [pytest.mark.env, pytest.mark.root,
              pytest.mark.skipif(os.geteuid() != 0, reason="real installs need root (loop devices, mounts)")]

AF = """<?xml version="1.0"?>
<installation{root_attrs}>
  <primary-disk>sda</primary-disk>
  <root-password>integration-pw-1</root-password>
  <source type="local"/>
  <admin-interface name="eth0" proto="dhcp"/>
  <hostname>it.example.org</hostname>
  <timezone>America/New_York</timezone>
  {extra}
</installation>
"""


@pytest.fixture(scope="module")
def built():
    res = subprocess.run(["/usr/bin/python3", "image/build.py", "all"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    env, product = res.stdout.split()
    return {"env": env, "product": product}


def write_af(tmp_path, name="a.xml", extra="", root_attrs="") -> str:
    path = tmp_path / name
    path.write_text(AF.format(extra=extra, root_attrs=root_attrs))
    return str(path)


def install(tmp_path, af, image, *extra, timeout=900):
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "installer", "install", "--answerfile", af, "--target-image", str(image),
            "--out", str(out), *extra]
    res = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    events = []
    if (out / "events.jsonl").exists():
        events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    return res, events


def finished(events) -> dict:
    return next(e for e in events if e["type"] == "finished")


class Image:
    """The image attached read-only, its partitions added, for looking inside."""

    def __init__(self, path):
        self.path = str(path)

    def __enter__(self):
        self.dev = subprocess.run(["losetup", "--find", "--show", "--read-only", self.path],
                                  check=True, capture_output=True, text=True).stdout.strip()
        subprocess.run(["partx", "-a", self.dev], check=False, capture_output=True)
        self.mounts = []
        return self

    def part(self, n: int) -> str:
        return f"{self.dev}p{n}"

    def mount(self, n: int, where) -> str:
        os.makedirs(where, exist_ok=True)
        subprocess.run(["mount", "-o", "ro,noload", self.part(n), str(where)], check=True)
        self.mounts.append(str(where))
        return str(where)

    def __exit__(self, *exc):
        for m in reversed(self.mounts):
            subprocess.run(["umount", m], check=False)
        subprocess.run(["partx", "-d", self.dev], check=False, capture_output=True)
        subprocess.run(["losetup", "--detach", self.dev], check=False)


def blkid(dev: str) -> dict:
    out = subprocess.run(["blkid", "-p", "-o", "export", dev], capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_bios_install_lays_out_xcpng_partitions_and_configures_the_host(built, tmp_path):
    image = tmp_path / "host.img"
    # an unselected disk: must stay byte-for-byte the same
    bystander = tmp_path / "bystander.img"
    bystander.write_bytes(os.urandom(1 << 20) * 8)
    other = subprocess.run(["losetup", "--find", "--show", str(bystander)], check=True,
                           capture_output=True, text=True).stdout.strip()
    before = hashlib.sha256(bystander.read_bytes()).hexdigest()
    try:
        res, events = install(tmp_path, write_af(tmp_path), image, "--boot-mode", "bios", "--size", "48G")
    finally:
        subprocess.run(["losetup", "--detach", other], check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    assert hashlib.sha256(bystander.read_bytes()).hexdigest() == before
    assert finished(events)["status"] == "success"
    steps = [e["step"] for e in events if e["type"] == "step-end"]
    assert steps == ["prepare", "partition", "filesystems", "laydown", "bootloader", "configure", "finish"]
    table = json.loads(subprocess.run(["sfdisk", "--json", str(image)], capture_output=True, text=True,
                                      check=True).stdout)["partitiontable"]
    parts = {int(p["node"].rsplit("img", 1)[1]): p for p in table["partitions"]}
    names = {n: p.get("name") for n, p in parts.items()}
    assert names == {1: "root", 2: "backup", 3: "localsr", 4: "bios-boot", 5: "logs", 6: "swap"}
    order = [n for n, _ in sorted(parts.items(), key=lambda kv: kv[1]["start"])]
    assert order == [5, 2, 1, 4, 6, 3], "XCP-ng on-disk order: logs, backup, root, boot, swap, SR"
    assert parts[4]["type"] == "21686148-6449-6E6F-744E-656564454649"      # BIOS boot
    mbr = image.open("rb").read(512)
    assert mbr[510:512] == b"\x55\xaa" and mbr[0x5C:0x64] == (parts[4]["start"]).to_bytes(8, "little")
    with Image(image) as img:
        root = blkid(img.part(1))
        assert root["TYPE"] == "ext4" and root["LABEL"].startswith("root-")
        assert blkid(img.part(5))["LABEL"].startswith("logs-") and blkid(img.part(6))["TYPE"] == "swap"
        assert blkid(img.part(3))["TYPE"] == "LVM2_member"
        vg = subprocess.run(["pvs", "--noheadings", "-o", "vg_name", "--devices", img.part(3), img.part(3)],
                            capture_output=True, text=True).stdout.strip()
        assert vg.startswith("VG_XenStorage-")
        m = img.mount(1, tmp_path / "root")
        img.mount(5, tmp_path / "root" / "var" / "log")
        etc = os.path.join(m, "etc")
        assert open(os.path.join(etc, "hostname")).read().strip() == "it"
        assert os.readlink(os.path.join(etc, "localtime")).endswith("America/New_York")
        assert "LABEL=" + root["LABEL"] in open(os.path.join(etc, "fstab")).read()
        shadow = open(os.path.join(etc, "shadow")).read()
        assert "\nroot:$6$" in "\n" + shadow
        assert "multiboot2 /boot/xen-4.20" in open(os.path.join(m, "boot/grub/grub.cfg")).read()
        assert os.path.exists(os.path.join(m, "boot/grub/i386-pc/core.img"))
        assert os.path.lexists(os.path.join(etc, "systemd/system/multi-user.target.wants/xenhost-firstboot.service"))
        assert os.path.lexists(os.path.join(etc, "systemd/system/multi-user.target.wants/xenhost-ready.service"))
        assert not [f for f in os.listdir(os.path.join(etc, "ssh")) if f.startswith("ssh_host_")]
        logs = os.path.join(m, "var/log/installer")
        saved = open(os.path.join(logs, "answerfile.xml")).read()
        assert "integration-pw-1" not in saved and "********" in saved
        for name in os.listdir(logs):
            assert "integration-pw-1" not in open(os.path.join(logs, name), errors="replace").read()
        assert "INSTALLATION_UUID=" in open(os.path.join(etc, "xensource-inventory")).read()
        # planned files, not written by hand: the whole chrony.conf (no Debian pool left), the XKB
        # keyboard of the keymap (us: none given), the machine id
        assert "\npool " not in "\n" + open(os.path.join(etc, "chrony/chrony.conf")).read()
        assert 'XKBLAYOUT="us"' in open(os.path.join(etc, "default/keyboard")).read()
        assert len(open(os.path.join(etc, "machine-id")).read().strip()) == 32


def test_uefi_install_fills_the_esp_with_the_fallback_loader(built, tmp_path):
    image = tmp_path / "host.img"
    res, events = install(tmp_path, write_af(tmp_path), image, "--boot-mode", "uefi", "--size", "48G")
    assert res.returncode == 0, res.stderr[-3000:]
    assert any("removable-media path EFI/BOOT/BOOTX64.EFI" in e.get("message", "") for e in events), \
        "no firmware entry for another machine: the fallback loader path is what boots"
    with Image(image) as img:
        esp = blkid(img.part(4))
        assert esp["TYPE"] == "vfat" and esp["PART_ENTRY_TYPE"].lower() == "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
        listing = subprocess.run(["mdir", "-i", img.part(4), "-/", "-b", "::/EFI"], capture_output=True,
                                 text=True, env={**os.environ, "MTOOLS_SKIP_CHECK": "1"}).stdout
        assert "::/EFI/BOOT/BOOTX64.EFI" in listing and "::/EFI/xenhost/grubx64.efi" in listing


def test_too_small_image_is_refused_before_anything_is_written(built, tmp_path):
    image = tmp_path / "small.img"
    res, _ = install(tmp_path, write_af(tmp_path), image, "--size", "40G")
    assert res.returncode == 1
    assert f"the image {image} is 40.0 GiB; at least 46 GiB is needed" in res.stderr, res.stderr
    assert not image.exists()


def tampered_tree(built, tmp_path, how: str) -> str:
    tree = tmp_path / "tree"
    shutil.copytree(built["product"], tree, copy_function=os.link)   # hard links: cheap
    if how == "manifest":
        info = tree / ".treeinfo"
        text = info.read_text().replace("version = ", "version = 9")
        info.unlink()
        info.write_text(text)
    elif how == "image":
        img = tree / "images" / "root.squashfs"
        data = bytearray(img.read_bytes())
        img.unlink()
        data[len(data) // 2] ^= 0xFF
        img.write_bytes(bytes(data))
    elif how == "package":
        deb = sorted((tree / "pool" / "pool").glob("openvswitch-switch_*.deb"))[0]
        data = bytearray(deb.read_bytes())
        deb.unlink()
        data[-100] ^= 0xFF
        deb.write_bytes(bytes(data))
    elif how == "missing":
        (tree / "images" / "root.squashfs").unlink()
    return str(tree)


@pytest.mark.parametrize("how,message", [
    ("manifest", "does not verify against the trusted product key"),
    ("image", "images/root.squashfs does not match the signed manifest"),
    ("missing", "images/root.squashfs is missing"),
])
def test_a_tampered_or_broken_product_tree_is_refused_before_partitioning(built, tmp_path, how, message):
    image = tmp_path / "host.img"
    image.write_bytes(b"\xA5" * (1 << 20))
    with open(image, "r+b") as f:
        f.truncate(48 << 30)
    res, events = install(tmp_path, write_af(tmp_path), image, "--tree", tampered_tree(built, tmp_path, how))
    assert res.returncode == 1
    end = finished(events)
    assert end["status"] == "failed" and end["failed_step"] == "prepare"
    assert message in end["message"], end["message"]
    assert image.open("rb").read(1 << 20) == b"\xA5" * (1 << 20), "the disk was written"


def test_failing_hook_names_the_step_and_a_rerun_succeeds(built, tmp_path, http_dir):
    www, url = http_dir
    (www / "fail.sh").write_text("#!/bin/sh\necho 'hook says no' >&2\nexit 3\n")
    (www / "done.sh").write_text("#!/bin/sh\necho \"$1\" > /dev/null\n")
    image = tmp_path / "host.img"
    bad = write_af(tmp_path, "bad.xml", extra=f'<script stage="filesystem-populated" type="url">{url}/fail.sh</script>'
                                              f'<script stage="installation-complete" type="url">{url}/done.sh</script>')
    res, events = install(tmp_path, bad, image, "--size", "48G")
    assert res.returncode == 1
    end = finished(events)
    assert end["failed_step"] == "hooks-filesystem-populated" and "exited with code 3" in end["message"]
    assert any("hook says no" in e.get("message", "") for e in events)
    assert any("ran with 1" in e.get("message", "") for e in events), "installation-complete gets 1"
    good = write_af(tmp_path, "good.xml")
    res, events = install(tmp_path, good, image)
    assert res.returncode == 0, res.stderr[-3000:]


def test_a_killed_install_is_followed_by_a_clean_reinstall(built, tmp_path):
    image = tmp_path / "host.img"
    out = tmp_path / "out"
    af = write_af(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "installer", "install", "--answerfile", af,
                             "--target-image", str(image), "--size", "48G", "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        events = out / "events.jsonl"
        if events.exists() and '"step": "laydown"' in events.read_text():
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the install never reached laydown")
    os.killpg(proc.pid, signal.SIGKILL)   # the whole session we started: CLI, namespace, unsquashfs
    proc.wait()
    assert "finished" not in (out / "events.jsonl").read_text()
    res, events = install(tmp_path, af, image)
    assert res.returncode == 0, res.stderr[-3000:]
    assert finished(events)["status"] == "success"


def test_openvswitch_backend_installs_from_the_signed_pool(built, tmp_path):
    image = tmp_path / "host.img"
    af = write_af(tmp_path, extra="<network-backend>openvswitch</network-backend>")
    res, events = install(tmp_path, af, image, "--size", "48G")
    assert res.returncode == 0, res.stderr[-3000:]
    assert any("installed from the pool: openvswitch-switch" in e.get("message", "") for e in events)
    with Image(image) as img:
        m = img.mount(1, tmp_path / "root")
        assert os.path.exists(os.path.join(m, "usr/bin/ovs-vsctl"))


def test_a_tampered_pool_package_is_refused(built, tmp_path):
    image = tmp_path / "host.img"
    af = write_af(tmp_path, extra="<network-backend>openvswitch</network-backend>")
    res, events = install(tmp_path, af, image, "--size", "48G", "--tree", tampered_tree(built, tmp_path, "package"))
    assert res.returncode == 1
    end = finished(events)
    assert end["failed_step"] == "laydown" and "installing openvswitch-switch from the pool failed" in end["message"]
    assert "openvswitch-switch_" in end["message"] and "does not match the pool's signed index" in end["message"]


def test_a_root_image_swapped_after_prepare_checked_it_is_not_installed(built, tmp_path):
    """prepare hashes the media's files in place; a hook at installation-start (after that check)
    makes the test swap the root image for another valid squashfs. laydown installs only its own
    copy, checked as it was copied: the swap is refused, nothing of it lands on the disk."""
    import http.server
    import threading
    tree = tmp_path / "tree"
    shutil.copytree(built["product"], tree, copy_function=os.link)
    evil = tmp_path / "evil"
    (evil / "etc").mkdir(parents=True)
    (evil / "etc" / "swapped-in").write_text("not the signed image\n")
    subprocess.run(["mksquashfs", str(evil), str(tmp_path / "evil.squashfs"), "-quiet", "-no-progress"],
                   check=True, capture_output=True)
    swapped = []

    class Swapper(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            img = tree / "images" / "root.squashfs"
            img.unlink()
            shutil.copyfile(tmp_path / "evil.squashfs", img)
            swapped.append(self.path)
            body = b"#!/bin/sh\nexit 0\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Swapper)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f'<script stage="installation-start" type="url">http://127.0.0.1:{server.server_address[1]}/swap.sh</script>'
    image = tmp_path / "host.img"
    try:
        res, events = install(tmp_path, write_af(tmp_path, extra=hook), image, "--size", "48G", "--tree", str(tree))
    finally:
        server.shutdown()
    assert swapped == ["/swap.sh"]
    assert res.returncode == 1
    end = finished(events)
    assert end["failed_step"] == "laydown", end
    assert "images/root.squashfs does not match the signed manifest" in end["message"], end["message"]
    with Image(image) as img:
        m = img.mount(1, tmp_path / "root")
        assert not os.path.exists(os.path.join(m, "etc/swapped-in")), "the swapped image was unpacked"
        assert not os.path.exists(os.path.join(m, "etc/hostname")), "nothing was unpacked"


def test_bios_boot_code_on_the_root_partition_leaves_the_mbr_alone(built, tmp_path):
    """<bootloader location="partition">: GRUB's boot.img in the root partition's first sector (for
    another boot loader to chainload), pointing at core.img in the BIOS-boot partition; the MBR's
    boot code area is not written. Then existing-data="refuse" over that installation touches nothing."""
    image = tmp_path / "host.img"
    af = write_af(tmp_path, extra='<bootloader location="partition"/>')
    res, events = install(tmp_path, af, image, "--boot-mode", "bios", "--size", "48G")
    assert res.returncode == 0, res.stderr[-3000:]
    assert any(e["type"] == "warning" and "chainloads that partition" in e["message"] for e in events)
    table = json.loads(subprocess.run(["sfdisk", "--json", str(image)], capture_output=True, text=True,
                                      check=True).stdout)["partitiontable"]
    start = {int(p["node"].rsplit("img", 1)[1]): p["start"] for p in table["partitions"]}
    with image.open("rb") as f:
        mbr = f.read(512)
        f.seek(start[1] * 512)
        vbr = f.read(512)
        f.seek(start[4] * 512)
        diskboot = f.read(512)
    assert mbr[:440] == bytes(440), "the MBR's boot code area was written"
    assert mbr[510:512] == b"\x55\xaa"                                   # the protective MBR stays
    with Image(image) as img:
        assert blkid(img.part(1))["LABEL"].startswith("root-")          # ext4 untouched by boot code
        m = img.mount(1, tmp_path / "root")
        boot_img = open(os.path.join(m, "boot/grub/i386-pc/boot.img"), "rb").read()
        core_img = open(os.path.join(m, "boot/grub/i386-pc/core.img"), "rb").read(512)
    assert vbr[0x68:0x1FE] == boot_img[0x68:0x1FE] and vbr[:3] == boot_img[:3], "not GRUB's boot.img"
    assert vbr[510:512] == b"\x55\xaa"                                   # chainloaders check it
    assert int.from_bytes(vbr[0x5C:0x64], "little") == start[4], "boot.img must load core.img's sector"
    assert vbr[0x64] == 0xFF                                             # the drive the BIOS booted from
    assert diskboot[:0x1F4] == core_img[:0x1F4]                          # diskboot.img, then its blocklist
    assert int.from_bytes(diskboot[0x1F4:0x1FC], "little") == start[4] + 1
    assert any(e.get("message", "").startswith("GRUB installed for BIOS on /dev/loop") and
               e["message"].endswith("p1") for e in events)

    # the same disk again, now with existing data protected: refused before anything is written
    def fingerprint() -> str:
        h = hashlib.sha256()
        with image.open("rb") as f:
            for sector in (0, start[1], start[4], start[5]):
                f.seek(sector * 512)
                h.update(f.read(4 << 20))
        return h.hexdigest()
    before = fingerprint()
    refuse = write_af(tmp_path, "refuse.xml", root_attrs=' existing-data="refuse"')
    res, _ = install(tmp_path, refuse, image, "--boot-mode", "bios")
    assert res.returncode == 1
    assert "plan error: primary disk /dev/loop" in res.stderr and "holds data" in res.stderr, res.stderr[-3000:]
    assert "(partition 1, root-" in res.stderr and "ext4 file system labelled logs-" in res.stderr
    assert fingerprint() == before
