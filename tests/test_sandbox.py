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

from autograder.execution import sandbox, tripwires
from autograder.execution.sandbox import Limits

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
    monkeypatch.setattr(sandbox, "bwrap_kind", lambda: None)
    with pytest.raises(ValueError, match="mode 'bwrap' requested but bubblewrap is not installed"):
        sandbox.resolve_sandbox("bwrap")
    with pytest.warns(RuntimeWarning, match=r"bubblewrap \(bwrap\) is not available"):
        assert sandbox.resolve_sandbox("auto") == "none"
    for kind in ("bwrap", "bwrap-userns"):
        monkeypatch.setattr(sandbox, "bwrap_kind", lambda kind=kind: kind)
        assert sandbox.resolve_sandbox("auto") == sandbox.resolve_sandbox("bwrap") == kind


def _binds(argv: list[str]) -> dict[str, str]:
    return {argv[i + 2]: argv[i + 1] for i, a in enumerate(argv) if a == "--ro-bind"}


def test_bwrap_argv_shows_only_the_allowlist():
    site = Path("/tmp/autograder-stage-x/site")
    argv = sandbox.bwrap_argv(["python", "-m", "w"], [(site, site)], scratch_bytes=1234)
    joined = " ".join(argv)
    assert argv[-4:] == ["--", "python", "-m", "w"]
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent"):
        assert flag in argv
    binds = _binds(argv)
    assert "/" not in binds and str(site) in binds
    assert str(sandbox.interpreter()) in binds
    # Nothing of the course, the virtualenv, home folders or host state is bound.
    repo = Path(__file__).resolve().parents[1]
    for dest in binds:
        assert not dest.startswith((str(repo), "/home", "/var", "/run", "/work")), dest
        assert dest == "/etc/ld.so.cache" or not dest.startswith("/etc"), dest
    # The base interpreter's own site-packages is covered by an empty read-only tmpfs.
    for mask in sandbox.interpreter_mounts()[1]:
        assert f"--tmpfs {mask} --remount-ro {mask}" in joined
    assert f"--size 1234 --perms 1777 --tmpfs {sandbox.SCRATCH}" in joined
    # The staged folder under /tmp is bound after the private /tmp, before it turns read-only.
    assert joined.index("--tmpfs /tmp ") < joined.index(f"--ro-bind {site}") \
        < joined.index("--remount-ro /tmp")
    assert "--unshare-user" not in argv


def test_bwrap_argv_in_a_user_namespace_keeps_no_capability():
    argv = sandbox.bwrap_argv(["python"], userns=True)
    assert "--unshare-user" in argv and "--disable-userns" in argv
    assert "--cap-add" not in argv


def test_required_paths_cover_the_interpreter():
    paths = sandbox.required_paths()
    prefix = Path(os.path.realpath(np.__file__))
    assert any(p == prefix or p in prefix.parents for p in paths)
    assert any(p == sandbox.interpreter() or p in sandbox.interpreter().parents for p in paths)


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
