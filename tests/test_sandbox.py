"""Sandbox building blocks, each checked in a forked process so the test runner stays intact."""

from __future__ import annotations

import json
import os
import resource
import signal
import time
import traceback
from pathlib import Path

import numpy as np
import pytest

from autograder import sandbox, tripwires
from autograder.sandbox import Limits

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the privilege drop needs root")
UID = sandbox.UID_BASE + 4242  # a user id no process has


def in_child(fn):
    """Run `fn()` in a forked process; return its JSON-able result or raise with its traceback."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            data = json.dumps({"ok": fn()})
        except BaseException:
            data = json.dumps({"error": traceback.format_exc()})
        os.write(w, data.encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    result = json.loads(data)
    if "error" in result:
        raise AssertionError(result["error"])
    return result["ok"]


def test_limits_are_validated():
    assert Limits().memory_bytes == 2 * 2**30
    with pytest.raises(ValueError, match="Limits: cpu_seconds expects a positive number, got 0"):
        Limits(cpu_seconds=0)
    with pytest.raises(ValueError, match="Limits: call_seconds expects a positive number, got '1'"):
        Limits(call_seconds="1")


def test_resolve_sandbox(monkeypatch):
    with pytest.raises(ValueError, match="resolve_sandbox: mode expects 'auto', 'bwrap' or "
                                         "'none', got 'docker'"):
        sandbox.resolve_sandbox("docker")
    assert sandbox.resolve_sandbox("none") == "none"
    monkeypatch.setattr(sandbox, "bwrap_available", lambda: False)
    with pytest.raises(ValueError, match="mode 'bwrap' requested but bubblewrap is not installed"):
        sandbox.resolve_sandbox("bwrap")
    with pytest.warns(RuntimeWarning, match=r"bubblewrap \(bwrap\) is not available"):
        assert sandbox.resolve_sandbox("auto") == "none"
    monkeypatch.setattr(sandbox, "bwrap_available", lambda: True)
    assert sandbox.resolve_sandbox("auto") == "bwrap"


def test_bwrap_argv_isolates_and_reopens_hidden_paths(open_tmp, monkeypatch):
    hidden = open_tmp / "home"
    needed = hidden / "pyenv" / "lib"
    needed.mkdir(parents=True)
    hidden.chmod(0o700)
    monkeypatch.setattr(sandbox, "required_paths", lambda: [needed, Path("/usr")])
    argv = sandbox.bwrap_argv(["python", "-m", "w"])
    joined = " ".join(argv)
    assert argv[-4:] == ["--", "python", "-m", "w"]
    assert "--ro-bind / /" in joined and "--unshare-net" in joined
    assert "--unshare-pid" in joined and "--die-with-parent" in joined
    assert f"--tmpfs {hidden} --perms 0755 --dir {hidden / 'pyenv'} " \
           f"--ro-bind {needed} {needed}" in joined
    assert f"--tmpfs {sandbox.SCRATCH}" in joined and "--remount-ro /tmp" in joined


def test_bwrap_argv_binds_the_workers_files_read_only_into_its_home(monkeypatch):
    monkeypatch.setattr(sandbox, "required_paths", lambda: [Path("/usr")])
    font_list = Path("/cache/matplotlib/fontlist-v3.11.0.json")
    joined = " ".join(sandbox.bwrap_argv(["python"], [font_list]))
    bind = f"--ro-bind {font_list} {sandbox.WORKER_HOME}/fontlist-v3.11.0.json"
    # Inside the worker's 0700 tmpfs (made first), before /tmp becomes read-only.
    assert f"--perms 0700 --tmpfs {sandbox.WORKER_HOME} {bind} --remount-ro /tmp" in joined
    assert "--ro-bind /cache" not in " ".join(sandbox.bwrap_argv(["python"]))


def test_bwrap_argv_binds_back_what_runs_from_under_tmp(monkeypatch):
    """A course cloned (or a virtualenv made) under /tmp stays visible under the private /tmp."""
    venv = Path("/tmp/course/.venv")
    monkeypatch.setattr(sandbox, "required_paths", lambda: [venv, Path("/usr")])
    joined = " ".join(sandbox.bwrap_argv(["python"]))
    private_tmp = joined.index("--tmpfs /tmp ")
    bind = joined.index(f"--perms 0755 --dir /tmp/course --ro-bind {venv} {venv}")
    assert private_tmp < bind < joined.index("--remount-ro /tmp")
    assert "--ro-bind /usr" not in joined  # already visible through the read-only /


def test_required_paths_cover_the_interpreter():
    paths = sandbox.required_paths()
    prefix = Path(os.path.realpath(np.__file__))
    assert any(p == prefix or p in prefix.parents for p in paths)


@needs_root
def test_drop_privileges_holds():
    def child():
        sandbox.drop_privileges(UID)
        results = [os.getuid(), os.getgid(), os.getgroups()]
        for attempt in (lambda: os.setuid(0), lambda: open("/etc/hostname", "a")):
            try:
                attempt()
                results.append("allowed")
            except OSError as e:
                results.append(type(e).__name__)
        return results

    assert in_child(child) == [UID, UID, [], "PermissionError", "PermissionError"]


@needs_root
def test_keep_read_search_reads_but_never_writes(tmp_path):
    secret = tmp_path / "closed" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("readable")
    secret.parent.chmod(0o700)

    def child(keep):
        sandbox.drop_privileges(UID, keep_read_search=keep)
        out = []
        for attempt in (secret.read_text, lambda: secret.write_text("x")):
            try:
                out.append(attempt())
            except OSError as e:
                out.append(type(e).__name__)
        return out

    assert in_child(lambda: child(False)) == ["PermissionError", "PermissionError"]
    assert in_child(lambda: child(True)) == ["readable", "PermissionError"]
    assert secret.read_text() == "readable"


@needs_root
def test_apply_limits_bounds_processes_memory_and_files(open_tmp):
    limits = Limits(memory_bytes=256 * 2**20, max_processes=5, file_bytes=2**16)

    def child():
        sandbox.apply_limits(limits, UID)
        sandbox.drop_privileges(UID)
        os.chdir(open_tmp)
        out = {}
        sleepers = []
        try:
            for _ in range(20):
                pid = os.fork()
                if pid == 0:
                    time.sleep(60)
                    os._exit(0)
                sleepers.append(pid)
        except BlockingIOError:
            out["forked"] = len(sleepers)
        for pid in sleepers:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        try:
            bytearray(512 * 2**20)
        except MemoryError:
            out["memory"] = "MemoryError"
        try:
            with open("big", "wb") as f:
                f.write(b"\0" * 2**17)
        except OSError as e:
            out["file"] = e.strerror
        out["cpu"] = resource.getrlimit(resource.RLIMIT_CPU)
        return out

    result = in_child(child)
    assert result == {"forked": 4, "memory": "MemoryError", "file": "File too large",
                      "cpu": [120, 121]}


def test_kill_descendants_reaches_daemonised_grandchildren():
    def child():
        sandbox.set_subreaper()
        middle = os.fork()
        if middle == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(60)
            os._exit(0)
        os.waitpid(middle, 0)  # the grandchild is now an orphan, adopted by this subreaper
        before = len(sandbox.descendants(os.getpid()))
        sandbox.kill_descendants()
        return before, sandbox.descendants(os.getpid())

    assert in_child(child) == [1, []]


def test_wipe_removes_what_the_child_locked(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f.txt").write_text("x")
    (tmp_path / "g.txt").write_text("y")
    (tmp_path / "link").symlink_to("/etc")
    (tmp_path / "a").chmod(0)
    sandbox.wipe(str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_tripwire_plan_covers_the_forbidden_and_spares_the_allowed():
    plan = tripwires.plan(tripwires.DEFAULT_FORBIDDEN)
    for name in ("numpy.convolve", "numpy.correlate", "torch.nn.functional.conv2d",
                 "torch.nn.functional.conv_transpose2d", "torch.nn.functional.unfold",
                 "torch.nn.functional.avg_pool2d", "torch.nn.functional.pad",
                 "torch.nn.Conv2d.forward", "torch.nn.ConvTranspose1d.forward",
                 "scipy.signal.fftconvolve", "scipy.ndimage.convolve"):
        assert name in plan.names
    for name in plan.names:
        assert not name.startswith(("numpy.lib", "numpy.pad", "torch.nn.functional.relu"))
    assert not any(n.endswith("sliding_window_view") for n in plan.names)


def test_installed_tripwires_record_and_raise():
    def child():
        import numpy

        tripwires.plan(["numpy.convolve"]).install()
        from numpy._core.numeric import convolve  # an alias of the same function

        caught = []
        for fn in (numpy.convolve, convolve):
            try:
                fn([1], [1])
            except tripwires.ForbiddenCall as e:
                caught.append(str(e))
        return caught, tripwires.TRIPPED, float(numpy.sum([1.0, 2.0]))

    caught, tripped, total = in_child(child)
    assert caught == ["numpy.convolve may not be used in graded code"] * 2
    assert tripped == ["numpy.convolve", "numpy.convolve"] and total == 3.0


def test_tripwire_plan_errors_and_absent_libraries():
    with pytest.raises(ValueError, match="tripwires.plan: patterns expects dotted names, got 3"):
        tripwires.plan([3])
    assert tripwires.plan(["no_such_library_here.conv*"]).sites == []


def test_die_with_parent_is_set():
    def child():
        sandbox.die_with_parent()
        import ctypes

        sig = ctypes.c_int()
        ctypes.CDLL(None).prctl(2, ctypes.byref(sig), 0, 0, 0)  # PR_GET_PDEATHSIG
        return sig.value

    assert in_child(child) == signal.SIGKILL
