"""The build report reads sizes and build times from the build cache (a fake cache here)."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "image"))
from xhbuild import report  # noqa: E402


def _build(cache, kind: str, result: str, files: dict[str, int], seconds: str) -> None:
    base = cache / kind / "k1"
    for rel, size in files.items():
        path = base / result / rel if rel else base / result
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    (base / "complete").write_text(seconds)
    os.symlink(f"k1/{result}", cache / kind / "current")


def test_report_shows_sizes_build_times_and_what_is_not_built(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "CACHE", str(tmp_path))
    _build(tmp_path, "live", "live", {"filesystem.squashfs": 3 << 20, "vmlinuz": 1 << 20,
                                      "initrd.img": 2 << 20}, "83.6\n")
    _build(tmp_path, "iso", "installer.iso", {"": 5 << 20}, "")     # an older build: no time kept
    rows = {line.split("  ")[0]: line.split() for line in report.render().splitlines()}
    assert rows["live squashfs (installer system)"][-4:] == ["3.0", "MiB", "84", "s"]
    assert rows["installer initrd"][-3:] == ["2.0", "MiB", '"']
    assert rows["installer ISO"][-3:] == ["5.0", "MiB", "-"]
    assert rows["product root image"][-3:] == ["not", "built", "-"]
