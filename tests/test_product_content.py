"""What the product root and the installer environment contain for real hardware (docs/hardware.md):
the device model and guest firmware, CPU microcode loaded by Xen, the firmware set in both roots and
their initrds, the non-free-firmware sources, and the build keys these choices enter.

The unit tests check the build's inputs and what it hands mmdebstrap; the `built` tests (root, env:
they build or reuse the cached images) check the images themselves."""
from __future__ import annotations

import fnmatch
import glob
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "image"))
from xhbuild import common, contents, envbuild, firmware, mirror, productbuild, report  # noqa: E402

from helpers import EXAMPLES, machine  # noqa: E402

from installer import grub  # noqa: E402
from installer.answerfile import parse_file  # noqa: E402
from installer.config import InstallConfig  # noqa: E402
from installer.plan import FIXED_IDS, make_plan  # noqa: E402

FW = "/usr/lib/firmware"


def _dpkg_keeps(path: str, filters: list[str]) -> bool:
    """dpkg's rule: the last path-exclude/path-include whose glob matches decides (fnmatch, `*`
    crosses `/`)."""
    keep = True
    for line in filters:
        kind, _, glob_ = line.partition("=")
        if fnmatch.fnmatchcase(path, glob_):
            keep = kind == "path-include"
    return keep


def _docs_table() -> dict[str, list[str]]:
    """package -> kept globs, from the firmware table of docs/hardware.md."""
    with open(os.path.join(ROOT, "docs/hardware.md")) as f:
        rows = re.findall(r"^\| `(firmware-[^`]+)` \| ([^|]+) \|", f.read(), re.M)
    return {package: re.findall(r"`([^`]+)`", kept) for package, kept in rows}


def test_the_docs_list_exactly_the_firmware_set_the_build_uses():
    listed = {fw.package: [*fw.keep, *(f"!{g}" for g in fw.drop)] for fw in firmware.load()}
    assert _docs_table() == listed
    assert len(listed) == 8 and "firmware-misc-nonfree" in listed      # tg3, the most common LOM


def test_the_firmware_filter_keeps_the_listed_files_and_the_microcode_only():
    filters = firmware.dpkg_filter().splitlines()
    kept = ["tigon/tg3.bin", "bnx2/bnx2-mips-09-6.2.1b.fw", "bnx2x/bnx2x-e2-7.13.21.0.fw", "ql2500_fw.bin",
            "qed/qed_init_values_zipped-8.59.1.0.bin", "ct2fw-3.2.5.1.bin", "phanfw.bin", "cxgb4/t6fw-1.27.5.0.bin",
            "cxgb4/configs/t6-config-default.txt", "intel/ice/ddp/ice.pkg", "intel/ice/ddp/ice-1.3.41.0.pkg",
            "rtl_nic/rtl8168h-2.fw", "myri10ge_eth_z8e.dat", "intel-ucode/06-55-04", "amd-ucode/microcode_amd_fam19h.bin"]
    dropped = ["rtw89/rtw8922a_fw.bin", "rtl_bt/rtl8761b_fw.bin", "rtlwifi/rtl8192cufw.bin", "intel/vpu/vpu_37xx_v1.bin",
               "intel/ice/ddp-comms/ice_comms-1.3.52.0.pkg", "bnx2x/bnx2x-e1-7.13.1.0.fw", "qat_c62x.bin",
               "qed/qed_init_values_zipped-8.42.2.0.bin", "myri10ge_rss_ethp_big_z8e.dat", "ti/tas2781/x.bin",
               "nvidia/tegra210/vic03_ucode.bin", "e100/d101m_ucode.bin", "3com/typhoon.bin"]
    assert [p for p in kept if not _dpkg_keeps(f"{FW}/{p}", filters)] == []
    assert [p for p in dropped if _dpkg_keeps(f"{FW}/{p}", filters)] == []
    assert _dpkg_keeps("/usr/share/doc/firmware-bnx2/copyright", filters)     # the filter is firmware only


def test_the_filter_is_written_before_the_packages_and_gone_from_the_finished_root(tmp_path):
    add, drop = firmware.hooks()
    subprocess.run(["sh", "-c", add, "exec", str(tmp_path)], check=True)
    assert (tmp_path / firmware.FILTER.lstrip("/")).read_text() == firmware.dpkg_filter()
    subprocess.run(["sh", "-c", drop, "exec", str(tmp_path)], check=True)
    assert not (tmp_path / firmware.FILTER.lstrip("/")).exists()


def _dpkg_keeps_entry(path: str, kind: str, filters: list[str]) -> bool:
    """_dpkg_keeps, plus dpkg's rule for links and directories (kind "l", "d"): one it would drop is
    kept when its path starts with the fixed part (up to the first wildcard) of any path-include."""
    if _dpkg_keeps(path, filters):
        return True
    if kind not in ("l", "d"):
        return False
    includes = [g for k, _, g in (line.partition("=") for line in filters) if k == "path-include"]
    return any(path.startswith(re.split(r"[*?\[\\]", g, maxsplit=1)[0]) for g in includes)


# from `dpkg-deb -c` of firmware-intel-misc 20250410-2 (trixie): files and the links among them
INTEL_MISC = {"/usr/lib/firmware/intel/ice/ddp/ice-1.3.41.0.pkg": None, "/usr/lib/firmware/intel/ice/ddp/ice.pkg":
              "ice-1.3.41.0.pkg", "/usr/lib/firmware/intel/vpu/vpu_37xx_v1.bin": None,
              "/usr/lib/firmware/intel/vpu/vpu_37xx_v0.0.bin": "vpu_37xx_v1.bin",
              "/usr/lib/firmware/qat_895xcc_mmp.bin": None, "/usr/lib/firmware/qat_mmp.bin": "qat_895xcc_mmp.bin"}


def _listing(paths: dict[str, str | None]) -> dict[str, str | None]:
    """A root's listing with the directories the paths need."""
    dirs = {"/".join(p.split("/")[:i]): None for p in paths for i in range(2, p.count("/") + 1)}
    return {**dirs, **paths}


def test_the_filter_leaves_links_to_files_it_left_out_which_prune_finds():
    """dpkg keeps intel/vpu/vpu_37xx_v0.0.bin (under the included directory intel) but not the file
    it points at: the reason for firmware.prune()."""
    filters = firmware.dpkg_filter().splitlines()
    kinds = {p: "l" if t else "f" for p, t in INTEL_MISC.items()}
    kept = {p: t for p, t in INTEL_MISC.items() if _dpkg_keeps_entry(p, kinds[p], filters)}
    assert "/usr/lib/firmware/intel/vpu/vpu_37xx_v0.0.bin" in kept
    assert "/usr/lib/firmware/intel/vpu/vpu_37xx_v1.bin" not in kept and "/usr/lib/firmware/qat_mmp.bin" not in kept
    assert firmware.dangling(_listing(kept)) == ["/usr/lib/firmware/intel/vpu/vpu_37xx_v0.0.bin"]


def test_links_are_resolved_inside_the_root():
    fw = "/usr/lib/firmware"
    entries = _listing({"/lib": "usr/lib", "/etc/hostname": None, f"{fw}/tigon/tg3.bin": None,
                        f"{fw}/ok": "tigon/tg3.bin", f"{fw}/abs": "/lib/firmware/tigon/tg3.bin",
                        f"{fw}/chain": "ok", f"{fw}/dir": "tigon", f"{fw}/up": "../../../../../../etc/hostname",
                        f"{fw}/gone": "tigon/tg3-old.bin", f"{fw}/to-gone": "gone", f"{fw}/host": "/etc/passwd",
                        f"{fw}/loop-a": "loop-b", f"{fw}/loop-b": "loop-a", f"{fw}/self": "self",
                        "/etc/broken": "nowhere"})
    assert firmware.resolve(entries, f"{fw}/abs") == f"{fw}/tigon/tg3.bin"
    assert firmware.resolve(entries, "/lib/firmware/chain") == f"{fw}/tigon/tg3.bin"
    assert firmware.resolve(entries, f"{fw}/up") == "/etc/hostname"        # .. stops at the root's top
    assert firmware.resolve(entries, f"{fw}/dir/tg3.bin") == f"{fw}/tigon/tg3.bin"
    # /etc/passwd exists on any machine, but not in this root; a loop leads nowhere; outside the
    # firmware directory nothing is looked at
    assert firmware.dangling(entries) == [f"{fw}/gone", f"{fw}/host", f"{fw}/loop-a", f"{fw}/loop-b", f"{fw}/self",
                                          f"{fw}/to-gone"]
    assert firmware.dangling(entries, ("/etc",)) == ["/etc/broken"]


def test_prune_removes_the_dangling_links_and_the_directories_left_empty(tmp_path):
    root = tmp_path / "root"
    fw = root / "usr/lib/firmware"
    for rel in ("tigon/tg3.bin", "intel/ice/ddp/ice-1.3.41.0.pkg"):
        (fw / rel).parent.mkdir(parents=True, exist_ok=True)
        (fw / rel).write_bytes(b"x")
    for rel in ("intel/ish", "intel/ice/ddp-comms", "intel/vpu"):
        (fw / rel).mkdir(parents=True)
    links = {"intel/ice/ddp/ice.pkg": "ice-1.3.41.0.pkg", "intel/vpu/vpu_37xx_v0.0.bin": "vpu_37xx_v1.bin",
             "tg3-abs.bin": "/usr/lib/firmware/tigon/tg3.bin", "passwd": "/etc/passwd"}
    for rel, target in links.items():
        os.symlink(target, fw / rel)
    os.symlink("usr/lib", root / "lib")
    removed, emptied = firmware.prune(str(root))
    assert removed == ["/usr/lib/firmware/intel/vpu/vpu_37xx_v0.0.bin", "/usr/lib/firmware/passwd"]
    assert emptied == ["/usr/lib/firmware/intel/ice/ddp-comms", "/usr/lib/firmware/intel/ish",
                       "/usr/lib/firmware/intel/vpu"]
    assert os.path.islink(fw / "intel/ice/ddp/ice.pkg") and os.path.islink(fw / "tg3-abs.bin")
    assert (fw / "tigon/tg3.bin").exists() and os.path.islink(root / "lib")
    assert firmware.prune(str(root)) == ([], [])            # nothing left to do; no firmware at all:
    assert firmware.prune(str(tmp_path / "empty")) == ([], [])


def test_both_builds_prune_and_check_the_root_mmdebstrap_made_and_put_efivarfs_in_its_initrd(monkeypatch,
                                                                                              tmp_path):
    made, pruned, checked = [], [], []

    def fake(pkgs, hooks, target, sources, dpkg_excludes=(), essential_hooks=()):
        assert common.EFIVARFS_INITRD in essential_hooks
        made.append(target)

    def check(root):
        assert pruned[-1] == root           # the links prune() removes are no firmware
        checked.append(root)
        raise StopIteration                 # the rest of the build is not run
    monkeypatch.setattr(firmware, "prune", pruned.append)
    monkeypatch.setattr(firmware, "check", check)
    monkeypatch.setattr(mirror, "derive", lambda root="/": mirror.Mirror("http://m.test/debian", None))
    for module in (productbuild, envbuild):
        monkeypatch.setattr(module, "mmdebstrap", fake)
    monkeypatch.setattr(envbuild, "need_tools", lambda: None)
    monkeypatch.setattr(envbuild, "cached", lambda *a: (str(tmp_path), str(tmp_path / "root"), False))
    monkeypatch.setattr(envbuild, "run", lambda argv, **kw: None)
    monkeypatch.setattr(envbuild, "key", lambda: "k")
    for call in (lambda: productbuild._root(str(tmp_path / "r"), str(tmp_path)), envbuild.build):
        with pytest.raises(StopIteration):
            call()
    assert made == pruned == checked == [str(tmp_path / "r"), str(tmp_path / "root.tmp")]


def test_the_efivarfs_hook_adds_the_module_to_the_initrd_and_lists_no_prerequisite(tmp_path):
    subprocess.run(["sh", "-c", common.EFIVARFS_INITRD, "exec", str(tmp_path)], check=True)
    hook = tmp_path / "etc/initramfs-tools/hooks/xenhost-efivarfs"
    assert os.access(hook, os.X_OK) and hook.read_text().splitlines()[-1] == "manual_add_modules efivarfs"
    res = subprocess.run([str(hook), "prereqs"], capture_output=True, text=True)
    assert (res.returncode, res.stdout) == (0, "")


def test_a_bad_firmware_line_is_an_error_with_its_place(tmp_path):
    bad = tmp_path / "firmware.txt"
    bad.write_text("# ok\nfirmware-bnx2 bnx2/*\nfirmware-x /usr/lib/firmware/x\n")
    with pytest.raises(SystemExit, match=r"firmware.txt:3: expected"):
        firmware.load(str(bad))


def _captured(monkeypatch, module, call):
    """The arguments the build hands mmdebstrap (nothing is built)."""
    seen = {}

    def fake(pkgs, hooks, target, sources, dpkg_excludes=(), essential_hooks=()):
        seen.update(pkgs=pkgs, hooks=hooks, sources=sources, excludes=dpkg_excludes, essential=essential_hooks)
        raise StopIteration
    monkeypatch.setattr(module, "mmdebstrap", fake)
    monkeypatch.setattr(mirror, "derive", lambda root="/": mirror.Mirror("http://m.test/debian", None))
    with pytest.raises(StopIteration):
        call()
    return seen


def test_the_product_root_gets_the_device_model_microcode_and_firmware(monkeypatch, tmp_path):
    seen = _captured(monkeypatch, productbuild, lambda: productbuild._root(str(tmp_path / "r"), str(tmp_path)))
    pkgs = set(seen["pkgs"])
    assert {"qemu-system-xen", "seabios", "ovmf", "amd64-microcode", "intel-microcode", "iucode-tool",
            "xz-utils"} <= pkgs
    assert set(firmware.packages()) <= pkgs
    add, drop = firmware.hooks()
    assert add in seen["essential"] and seen["hooks"][-1] == drop
    # the microcode defaults come with the overlay, then the initrd is made again
    hooks = seen["hooks"]
    assert hooks[0].startswith("copy-in ") and hooks.index(productbuild.MICROCODE_INITRD) > 0
    assert all(s.endswith(" main non-free-firmware") for s in seen["sources"])
    # OVMF: only /usr/share/ovmf/OVMF.fd, where libxl looks
    filters = [f"path-exclude={g}" for g in seen["excludes"]]
    assert not _dpkg_keeps("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", filters)
    assert not _dpkg_keeps("/usr/share/qemu/firmware/60-edk2-x86_64.json", filters)
    assert _dpkg_keeps("/usr/share/ovmf/OVMF.fd", filters) and _dpkg_keeps("/usr/share/qemu/OVMF.fd", filters)
    assert _dpkg_keeps("/usr/share/seabios/bios-256k.bin", filters)


def test_the_installer_environment_gets_the_firmware_set_and_no_microcode(monkeypatch, tmp_path):
    monkeypatch.setattr(envbuild, "need_tools", lambda: None)
    monkeypatch.setattr(envbuild, "cached", lambda *a: (str(tmp_path), str(tmp_path / "root"), False))
    monkeypatch.setattr(envbuild, "run", lambda argv, **kw: None)
    monkeypatch.setattr(envbuild, "key", lambda: "k")
    seen = _captured(monkeypatch, envbuild, envbuild.build)
    assert set(firmware.packages()) <= set(seen["pkgs"]) and "xz-utils" in seen["pkgs"]
    assert not {"amd64-microcode", "intel-microcode"} & set(seen["pkgs"])
    add, drop = firmware.hooks()
    assert add in seen["essential"] and seen["hooks"][-1] == drop
    assert all(s.endswith(" main non-free-firmware") for s in seen["sources"])


def _sourced(path: str, *names: str) -> list[str]:
    script = f'. "{path}"; ' + "; ".join(f'echo "${name}"' for name in names)
    return subprocess.run(["sh", "-c", script], check=True, capture_output=True, text=True).stdout.split("\n")[:-1]


def test_the_overlay_sets_early_microcode_for_every_cpu_of_both_vendors():
    default = os.path.join(ROOT, "image/product/overlay/etc/default")
    assert _sourced(f"{default}/amd64-microcode", "AMD64UCODE_INITRAMFS") == ["early"]
    assert _sourced(f"{default}/intel-microcode", "IUCODE_TOOL_INITRAMFS", "IUCODE_TOOL_SCANCPUS",
                    "IUCODE_TOOL_EXTRA_OPTIONS") == ["early", "no", ""]


def test_xen_loads_the_microcode_in_every_xen_boot_entry():
    cfg, _ = parse_file(EXAMPLES / "fresh-dhcp.xml")
    plan = make_plan(cfg, machine("bios-1disk"), FIXED_IDS)
    assert grub.xen_command_line(plan).split()[-1] == "ucode=scan"
    text = grub.grub_cfg(plan, InstallConfig(), {"kernel": "vmlinuz-6.12", "initrd": "initrd.img-6.12",
                                                  "xen": "xen-4.20-amd64.gz"})
    xen_lines = [line for line in text.splitlines() if line.strip().startswith("multiboot2 ")]
    assert len(xen_lines) == 3 and all(" ucode=scan " in line for line in xen_lines)


def test_the_build_keys_follow_the_firmware_set_and_the_apt_components(monkeypatch, tmp_path):
    monkeypatch.setattr(mirror, "derive", lambda root="/": mirror.Mirror("http://m.test/debian", None))
    monkeypatch.setattr(productbuild.signing, "public_key", lambda: b"key")
    monkeypatch.setattr(envbuild.signing, "public_key", lambda: b"key")
    keys = (productbuild.key(), envbuild.key())
    changed = tmp_path / "firmware.txt"
    changed.write_text(open(firmware.LIST).read().replace("rtl_nic/*", "rtl_nic/rtl8168*"))
    monkeypatch.setattr(firmware, "LIST", str(changed))
    with_other_globs = (productbuild.key(), envbuild.key())
    assert with_other_globs[0] != keys[0] and with_other_globs[1] != keys[1]
    monkeypatch.setattr(mirror, "COMPONENTS", "main")
    assert productbuild.key() != with_other_globs[0] and envbuild.key() != with_other_globs[1]


# ---- the built images (make images iso; cached by inputs) ----------------------------------------

def built(test):
    """A check of the built images: root, and builds the images when the cache has none."""
    for mark in (pytest.mark.root, pytest.mark.env,
                 pytest.mark.skipif(os.geteuid() != 0, reason="building the images needs root (mmdebstrap, chroot)")):
        test = mark(test)
    return test


@pytest.fixture(scope="module")
def images():
    """env root, product tree, ISO: built or reused from the cache."""
    out = {}
    for what in ("all", "iso"):
        res = subprocess.run(["/usr/bin/python3", "image/build.py", what], cwd=ROOT, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr[-3000:]
        out[what] = res.stdout.split()
    (env, product), (iso,) = out["all"], out["iso"]
    return {"env": env, "product": product, "iso": iso}


def _firmware_files(files: dict[str, int]) -> set[str]:
    return {p[len(FW) + 1:] for p in files if p.startswith(FW + "/")}


def _check_firmware(files: set[str], where: str) -> None:
    """Every kept glob has files, every firmware file (but microcode) is kept and not dropped."""
    entries = firmware.load()
    for fw in entries:
        for g in fw.keep:
            assert any(fnmatch.fnmatchcase(f, g) for f in files), f"{where}: nothing matches {fw.package} {g}"
    stray = [f for f in files if not f.startswith(("intel-ucode/", "amd-ucode/")) and
             (not any(fnmatch.fnmatchcase(f, g) for fw in entries for g in fw.keep) or
              any(fnmatch.fnmatchcase(f, g) for fw in entries for g in fw.drop))]
    assert stray == [], f"{where}: firmware outside image/firmware.txt"
    # regular files (ice.pkg is a link to the versioned package)
    for f in ("tigon/tg3.bin", "bnx2x/bnx2x-e2-7.13.21.0.fw", "intel/ice/ddp/ice-*.pkg", "rtl_nic/rtl8168h-2.fw",
              "phanfw.bin", "ql2500_fw.bin", "cxgb4/t6fw-*.bin"):
        assert any(fnmatch.fnmatchcase(x, f) for x in files), f"{where}: {f} missing"


def _has_efivarfs(members: dict[str, int]) -> bool:
    return any(fnmatch.fnmatchcase(m, "usr/lib/modules/*/kernel/fs/efivarfs/efivarfs.ko*") for m in members)


@built
def test_built_product_root_has_device_model_guest_firmware_microcode_and_firmware(images):
    image = os.path.join(images["product"], "images/root.squashfs")
    files = contents.squashfs_files(image)
    assert files["/usr/libexec/xen-qemu-system-i386"] > 10 * 2 ** 20
    assert files["/usr/share/seabios/bios-256k.bin"] == 262144 and "/usr/share/ovmf/OVMF.fd" in files
    assert "/usr/lib/xen-4.20/boot/hvmloader" in files
    assert not [p for p in files if p.startswith("/usr/share/OVMF/")]
    # the paths libxenlight has compiled in are the ones these packages ship
    (libxl,) = [p for p in files if re.fullmatch(r"/usr/lib/x86_64-linux-gnu/libxenlight\.so\.[0-9.]+", p)]
    lib = contents.squashfs_cat(image, libxl)
    for path in (b"/usr/libexec/xen-qemu-system-i386", b"/usr/share/seabios/bios-256k.bin", b"/usr/share/ovmf/OVMF.fd"):
        assert path in lib, path
    fw = _firmware_files(files)
    _check_firmware(fw, "product root")
    assert firmware.dangling(contents.squashfs_entries(image)) == [], "links to firmware the build left out"
    assert len([f for f in fw if f.startswith("intel-ucode/")]) > 100 and any(f.startswith("amd-ucode/") for f in fw)
    assert firmware.FILTER not in files
    assert b"AMD64UCODE_INITRAMFS=early" in contents.squashfs_cat(image, "etc/default/amd64-microcode")
    versions = contents.dpkg_versions(contents.squashfs_cat(image, "var/lib/dpkg/status").decode())
    missing = {*firmware.packages(), "amd64-microcode", "intel-microcode", "iucode-tool", "qemu-system-xen",
               "seabios", "ovmf", "xz-utils"} - set(versions)
    assert not missing
    # the initrd: Xen's ucode=scan reads the microcode of both vendors from its uncompressed start;
    # the firmware of the NIC drivers it holds is inside; its main part is xz
    (initrd,) = [p for p in files if p.startswith("/boot/initrd.img-")]
    data = contents.squashfs_cat(image, initrd)
    early, main = contents.initrd_members(data)
    assert early["kernel/x86/microcode/GenuineIntel.bin"] > 5 * 2 ** 20
    assert early["kernel/x86/microcode/AuthenticAMD.bin"] > 10 ** 4
    assert contents.main_compression(data) == "xz"
    members = {**early, **main}
    for f in ("tigon/tg3.bin", "bnx2x/bnx2x-e2-7.13.21.0.fw", "rtl_nic/rtl8168h-2.fw"):
        assert f"usr/lib/firmware/{f}" in members, f
    assert _has_efivarfs(members)


@built
def test_built_installer_environment_and_its_initrd_have_the_firmware(images):
    env = images["env"]
    files = report.tree_files(env)
    _check_firmware(_firmware_files(files), "installer environment")
    assert firmware.dangling(firmware.root_entries(env)) == [], "links to firmware the build left out"
    assert not os.path.exists(os.path.join(env, firmware.FILTER.lstrip("/")))
    with open(os.path.join(env, "var/lib/dpkg/status")) as f:
        assert not set(firmware.packages()) - set(contents.dpkg_versions(f.read()))
    with open(sorted(glob.glob(os.path.join(env, "boot/initrd.img-*")))[-1], "rb") as f:
        data = f.read()
    early, main = contents.initrd_members(data)
    assert contents.main_compression(data) == "xz"
    for fw in ("tigon/tg3.bin", "bnx2/bnx2-mips-09-6.2.1b.fw", "bnx2x/bnx2x-e2-7.13.21.0.fw", "rtl_nic/rtl8168h-2.fw",
               "intel/ice/ddp/ice-*.pkg", "phanfw.bin"):      # ice.pkg is a link to the versioned file
        assert any(fnmatch.fnmatchcase(m, f"usr/lib/firmware/{fw}") for m in {**early, **main}), fw
    assert _has_efivarfs({**early, **main})       # its init-top mounts it on a UEFI boot (Secure Boot probe)


@built
def test_built_iso_is_within_its_size_goal(images):
    size = os.path.getsize(images["iso"])
    text = report.render()
    assert report.goal_line(size) in text and "not available" not in text, text
    assert size <= report.ISO_GOAL_MB * 10 ** 6, text
