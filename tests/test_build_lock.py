"""Builds sharing the image cache: real processes race over a temporary XENHOST_CACHE with a cheap
fake build made through image/xhbuild/common.py's cached/finished/publish/prune, as the real
builds are (no mmdebstrap here)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# argv: kind key tag seconds [force]. Writes five parts, each saying who wrote it, slowly enough
# for another process to get in between; prints what it did and where.
BUILDER = textwrap.dedent("""\
    import os, sys, time
    sys.path.insert(0, os.path.join(sys.argv[1], "image"))
    from xhbuild import common
    common.REBUILD_WAIT = 1.0
    kind, key, tag, seconds = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
    base, out, done = common.cached(kind, key, "result", "fake " + kind, force=len(sys.argv) > 6)
    if not done:
        os.makedirs(out)
        for i in range(5):
            with open(os.path.join(out, f"part{i}"), "w") as f:
                f.write(tag)
            time.sleep(seconds / 5)
        common.finished(kind, key, base, out)
    print("reused" if done else "built", tag, out, flush=True)
""")

# argv: path. Holds the build holding path in use (as the install tests and vm-tests do) until killed.
USER = textwrap.dedent("""\
    import sys, time
    sys.path.insert(0, sys.argv[1])
    from installer import cachelock, envchroot
    path = envchroot.current(sys.argv[2]) if sys.argv[2] in ("env", "product") else cachelock.use(sys.argv[2])
    print("using", path, flush=True)
    time.sleep(600)
""")

PRUNER = textwrap.dedent("""\
    import os, sys
    sys.path.insert(0, os.path.join(sys.argv[1], "image"))
    from xhbuild import common
    print(" ".join(common.prune(sys.argv[2], sys.argv[3])), flush=True)
""")


@pytest.fixture
def cache(tmp_path):
    path = tmp_path / "cache"
    path.mkdir()
    return path


def start(cache, script: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "XENHOST_CACHE": str(cache)}
    return subprocess.Popen([sys.executable, "-c", script, ROOT, *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def build(cache, kind: str, key: str, tag: str, seconds: float = 0.0, *extra: str) -> tuple[int, str, str]:
    return finish(start(cache, BUILDER, kind, key, tag, str(seconds), *extra))


def wait_for(predicate, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def contents(cache, kind: str, key: str) -> dict[str, str]:
    out = cache / kind / key / "result"
    return {p.name: p.read_text() for p in sorted(out.iterdir())}


def hold(cache, what: str) -> subprocess.Popen:
    """A process holding a build in use; returns once it does."""
    proc = start(cache, USER, what)
    line = proc.stdout.readline()
    assert line.startswith("using "), line + proc.stderr.read()
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()


def test_a_second_builder_of_the_same_kind_waits_then_reuses_the_finished_build(cache):
    first = start(cache, BUILDER, "live", "k1", "A", "2")
    wait_for(lambda: (cache / "live" / "k1" / "result" / "part0").exists(), "the first build to start")
    code, out, err = build(cache, "live", "k1", "B")
    assert code == 0, err
    assert out.split()[:2] == ["reused", "B"]
    assert "waiting for another process building the fake live" in err
    code, out, err = finish(first)
    assert code == 0, err
    assert out.split()[:2] == ["built", "A"]
    # without the lock, B emptied the directory A was filling and rebuilt it with its own parts
    assert contents(cache, "live", "k1") == {f"part{i}": "A" for i in range(5)}
    assert (cache / "live" / "k1" / "complete").exists()
    assert os.readlink(cache / "live" / "current") == "k1/result"


def test_builders_of_two_keys_of_one_kind_never_remove_each_others_build(cache):
    first = start(cache, BUILDER, "env", "k1", "A", "2")
    wait_for(lambda: (cache / "env" / "k1" / "result" / "part0").exists(), "the first build to start")
    second = start(cache, BUILDER, "env", "k2", "B", "0.5")
    code, out, err = finish(first)
    assert code == 0 and out.startswith("built A"), err
    code, out, err = finish(second)
    assert code == 0 and out.startswith("built B"), err
    assert contents(cache, "env", "k2") == {f"part{i}": "B" for i in range(5)}
    # k2's publish removed k1 if its builder had ended by then, else kept it whole
    if (cache / "env" / "k1").exists():
        assert "keeping the older env build k1" in err
        assert contents(cache, "env", "k1") == {f"part{i}": "A" for i in range(5)}
        assert finish(start(cache, PRUNER, "env", "k2"))[1].split() == ["k1"]
    assert sorted(os.listdir(cache / "env")) == [".build.lock", "current", "k2", "k2.lock"]


def test_a_builder_killed_halfway_leaves_no_stale_lock_and_its_build_is_redone(cache):
    first = start(cache, BUILDER, "product", "k1", "A", "60")
    wait_for(lambda: (cache / "product" / "k1" / "result" / "part0").exists(), "the first build to start")
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert not (cache / "product" / "k1" / "complete").exists()
    start_time = time.monotonic()
    code, out, err = build(cache, "product", "k1", "B")
    assert code == 0, err
    assert out.startswith("built B"), out   # the unfinished directory is not taken for a build
    assert time.monotonic() - start_time < 20   # the dead builder's lock did not hold it up
    assert "waiting" not in err
    assert contents(cache, "product", "k1") == {f"part{i}": "B" for i in range(5)}


def test_prune_keeps_a_build_in_use_and_removes_it_once_released(cache):
    assert build(cache, "env", "k1", "A")[0] == 0
    user = hold(cache, "env")     # envchroot.current("env"), as an install through the environment
    try:
        code, _out, err = build(cache, "env", "k2", "B")
        assert code == 0, err
        assert "keeping the older env build k1: it is in use or being built" in err
        assert contents(cache, "env", "k1") == {f"part{i}": "A" for i in range(5)}
        assert (cache / "env" / "k1" / "complete").exists()
        assert os.readlink(cache / "env" / "current") == "k2/result"
    finally:
        stop(user)
    code, out, err = finish(start(cache, PRUNER, "env", "k2"))
    assert code == 0, err
    assert out.split() == ["k1"]
    assert "removing the older env build k1" in err
    assert sorted(os.listdir(cache / "env")) == [".build.lock", "current", "k2", "k2.lock"]


def test_prune_never_removes_a_build_in_progress(cache):
    assert build(cache, "iso", "k1", "A")[0] == 0
    builder = start(cache, BUILDER, "iso", "k2", "B", "2")
    wait_for(lambda: (cache / "iso" / "k2" / "result" / "part0").exists(), "the build to start")
    code, out, err = finish(start(cache, PRUNER, "iso", "k1"))
    assert code == 0, err
    assert out.split() == []
    assert "keeping the older iso build k2" in err
    code, out, err = finish(builder)
    assert code == 0, err
    assert contents(cache, "iso", "k2") == {f"part{i}": "B" for i in range(5)}
    assert not (cache / "iso" / "k1").exists()     # pruned by k2's publish


def test_a_dependent_build_holds_what_it_was_built_from(cache):
    """livebuild builds from the env build: a newer env build must not remove it meanwhile."""
    script = BUILDER.replace('print("reused"', 'time.sleep(600)  # the next build uses it\nprint("reused"')
    dependent = start(cache, script, "env", "k1", "A", "0")
    wait_for(lambda: (cache / "env" / "k1" / "complete").exists(), "the env build")
    try:
        code, _out, err = build(cache, "env", "k2", "B")
        assert code == 0, err
        assert "keeping the older env build k1" in err
        assert contents(cache, "env", "k1") == {f"part{i}": "A" for i in range(5)}
    finally:
        stop(dependent)


def test_a_forced_rebuild_of_a_build_in_use_is_refused_and_leaves_it_intact(cache):
    assert build(cache, "pxe", "k1", "A")[0] == 0
    user = hold(cache, str(cache / "pxe" / "k1" / "result"))     # as vm-tests/conftest.py does
    try:
        code, _out, err = build(cache, "pxe", "k1", "B", 0, "--force")
        assert code == 1
        assert "cannot rebuild the fake pxe k1: another process is using it" in err
        assert "Traceback" not in err
        assert contents(cache, "pxe", "k1") == {f"part{i}": "A" for i in range(5)}
        assert (cache / "pxe" / "k1" / "complete").exists()
    finally:
        stop(user)
    code, out, err = build(cache, "pxe", "k1", "C", 0, "--force")
    assert code == 0 and out.startswith("built C"), err
    assert contents(cache, "pxe", "k1") == {f"part{i}": "C" for i in range(5)}


def test_a_user_of_a_pruned_or_unfinished_build_gets_a_clear_error(cache, monkeypatch):
    monkeypatch.setattr("installer.cachelock.CACHE", str(cache))
    from installer import cachelock
    from installer.errors import InstallerError
    (cache / "env" / "k1" / "result").mkdir(parents=True)       # no completion marker
    with pytest.raises(InstallerError, match="the cached env build k1 is unfinished or was removed"):
        cachelock.use(str(cache / "env" / "k1" / "result"))
    assert not cachelock.holds(cachelock.build_lock("env", "k1"))
    with pytest.raises(InstallerError, match="the cached env build k9 is gone"):
        cachelock.use(str(cache / "env" / "k9" / "result"))
    assert not (cache / "env" / "k9.lock").exists()
    outside = str(cache.parent / "elsewhere")
    assert cachelock.use(outside) == outside      # a tree given by path, not from the cache


def test_a_user_waits_for_a_rebuild_of_the_build_it_asks_for(cache):
    assert build(cache, "live", "k1", "A")[0] == 0
    builder = start(cache, BUILDER, "live", "k1", "B", "2", "--force")
    wait_for(lambda: not (cache / "live" / "k1" / "complete").exists(), "the rebuild to start")
    user = start(cache, USER, str(cache / "live" / "k1" / "result"))
    try:
        line = user.stdout.readline()     # only once the rebuild is complete
        assert line.startswith("using "), line
        assert (cache / "live" / "k1" / "complete").exists()
        assert contents(cache, "live", "k1") == {f"part{i}": "B" for i in range(5)}
    finally:
        stop(user)
    assert "waiting for the live build k1: another process is building it" in user.stderr.read()
    code, out, err = finish(builder)
    assert code == 0 and out.startswith("built B"), err


def test_a_lock_waited_for_while_its_build_is_removed_is_taken_on_the_new_lock_file(cache, monkeypatch):
    """prune unlinks a build's lock file while holding it: a process that was waiting on that file
    must not believe it holds the build (a later pruner would lock the new file freely)."""
    import fcntl
    import threading
    from installer import cachelock
    monkeypatch.setattr(cachelock, "CACHE", str(cache))
    (cache / "env").mkdir()
    lock = cachelock.build_lock("env", "k1")
    remover = os.open(lock, os.O_RDONLY | os.O_CREAT)
    fcntl.flock(remover, fcntl.LOCK_EX)
    got = []
    waiter = threading.Thread(target=lambda: got.append(cachelock.acquire(lock, exclusive=False)))
    waiter.start()
    time.sleep(0.3)
    assert not got            # still waiting for the remover
    os.unlink(lock)
    os.close(remover)
    waiter.join(10)
    try:
        assert got == [True]
        assert os.path.samestat(os.fstat(cachelock._held[lock]), os.stat(lock))
        other = os.open(lock, os.O_RDONLY)
        with pytest.raises(BlockingIOError):      # a pruner now finds it held
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(other)
    finally:
        cachelock.release(lock)
