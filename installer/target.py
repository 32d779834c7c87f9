"""The target file systems: mount them, run programs inside them, and let go of them again."""
from __future__ import annotations

import os

from . import runner
from .errors import InstallerError


class Target:
    """Mounts made on the target, undone in reverse order by release()."""

    def __init__(self, root: str):
        self.root = root
        self._mounts: list[str] = []
        self._binds = False

    def path(self, rel: str) -> str:
        return os.path.join(self.root, rel.lstrip("/"))

    def mount(self, device: str, rel: str = "/", fstype: str | None = None, options: str | None = None) -> None:
        where = self.path(rel)
        os.makedirs(where, exist_ok=True)
        argv = ["mount"] + (["-t", fstype] if fstype else []) + (["-o", options] if options else [])
        runner.run(argv + [device, where])
        self._mounts.append(where)

    def mounted(self) -> bool:
        return bool(self._mounts)

    def chroot(self, argv: list[str], check: bool = True, input: str | None = None,
               timeout: float | None = 1800) -> runner.Result:
        """Run argv inside the target with /dev, /proc, /sys and /run available."""
        if not self._mounts:
            raise InstallerError("internal error: the target root is not mounted")
        if not self._binds:
            for rel, argv_mount in (("dev", ["--rbind", "/dev"]), ("proc", ["-t", "proc", "proc"]),
                                    ("sys", ["--rbind", "/sys"]), ("run", ["-t", "tmpfs", "run"])):
                where = self.path(rel)
                os.makedirs(where, exist_ok=True)
                runner.run(["mount", *argv_mount, where])
                if "--rbind" in argv_mount:
                    runner.run(["mount", "--make-rslave", where], check=False)
                self._mounts.append(where)
            self._binds = True
        env = ["/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
               "DEBIAN_FRONTEND=noninteractive", "HOME=/root"]
        return runner.run(["chroot", self.root, *env, *argv], check=check, input=input, timeout=timeout)

    def release(self) -> None:
        """Unmount everything mounted on the target (recursive lazy unmount as a last resort)."""
        errors = []
        for where in reversed(self._mounts):
            res = runner.run(["umount", "--recursive", where], check=False)
            if res.returncode:
                lazy = runner.run(["umount", "--recursive", "--lazy", where], check=False)
                if lazy.returncode:
                    errors.append(f"{where}: {res.stderr.strip()}")
        self._mounts.clear()
        self._binds = False
        runner.run(["sync"], check=False)
        if errors:
            raise InstallerError("cannot unmount the target: " + "; ".join(errors))
