"""Hostile submissions: each gets its exact verdict, and none affects the next one.

One warm worker in bubblewrap serves every test in this module, in order, so
the tests that check for leaks also check that the worker survived what came
before. The same attacks against the fallback without bubblewrap (limits and
privilege drop only) are in test_pool.py.
"""

from __future__ import annotations

import os
import socket
import time

import numpy as np
import pytest

from autograder.execution.outcome import Call
from autograder.execution.pool import WorkerPool
from autograder.execution.sandbox import Limits, bwrap_available
from tests.nbfactory import cells

pytestmark = pytest.mark.skipif(not bwrap_available(),
                                reason="bubblewrap (bwrap) is not installed or cannot run here")

LIMITS = Limits(cell_seconds=2, call_seconds=1, submission_seconds=60,
                memory_bytes=512 * 2**20, max_processes=16, output_bytes=2000,
                result_bytes=4 * 2**20)


@pytest.fixture(scope="module")
def pool():
    with WorkerPool(1, sandbox="bwrap", limits=LIMITS) as p:
        yield p


def test_infinite_loop_in_a_cell_ends_the_run(pool):
    out = pool.run(cells("x = 1", "while True:\n    pass", "y = 2"),
                   [Call("f", "a"), Call("f", "b")])
    assert out.timed_out == "cell 2 ran longer than 2 s"
    assert [(c.number, c.status) for c in out.cells] == [(1, "ok"), (2, "timeout")]
    assert out.cells[1].error == "cell 2 ran longer than 2 s"
    # No call had started: none of them timed out, they were not run.
    assert [(c.status, c.message) for c in out.calls] == \
        [("not_run", "the submission ran out of time in cell 2")] * 2
    assert out.crashed == ""


def test_infinite_loop_in_a_call_times_out_that_call_only(pool):
    src = """
        def f(x):
            while x:
                pass
            return 7
    """
    out = pool.run(cells(src), [Call("f", "loop", (1,)), Call("f", "quick", (0,))])
    assert out.timed_out == "`f` (case 'loop') ran longer than 1 s"
    assert (out.calls[0].status, out.calls[0].message) == ("timeout", "ran longer than 1 s")
    assert (out.calls[1].status, out.calls[1].value) == ("ok", 7)


def test_a_loop_that_swallows_the_alarm_is_killed(pool):
    src = """
        def f():
            while True:
                try:
                    while True:
                        pass
                except BaseException:
                    pass
    """
    out = pool.run(cells(src), [Call("f", "stubborn", timeout=0.5), Call("f", "next")])
    assert out.timed_out == "`f` (case 'stubborn') ran longer than 0.5 s"
    assert [c.status for c in out.calls] == ["timeout", "not_run"]
    assert out.calls[0].message == out.timed_out
    assert out.calls[1].message == "the submission ran out of time in `f` (case 'stubborn')"


def test_allocating_100_gb_in_a_cell_is_a_memory_crash(pool):
    out = pool.run(cells("import numpy as np", "a = np.ones(10**11)"), [Call("f", "a")])
    assert out.crashed == "exceeded the memory limit of 0.5 GiB in cell 2"
    assert out.cells[-1].status == "error" and out.cells[-1].error == out.crashed
    assert (out.calls[0].status, out.calls[0].message) == \
        ("not_run", "the process died (exceeded the memory limit of 0.5 GiB) while running cell 2")


def test_a_growing_list_in_a_call_is_a_memory_crash(pool):
    src = """
        def hog():
            keep = []
            while True:
                keep.append(bytearray(10**6))
    """
    # Filling 0.5 GiB page by page takes seconds on a loaded machine.
    out = pool.run(cells(src), [Call("hog", "grow", timeout=30), Call("hog", "again")])
    assert out.crashed == "exceeded the memory limit of 0.5 GiB in `hog` (case 'grow')"
    assert [(c.status, c.message) for c in out.calls] == [
        ("crashed", out.crashed),
        ("not_run", "the process died (exceeded the memory limit of 0.5 GiB) "
                    "while running `hog` (case 'grow')")]


@pytest.mark.parametrize("source, verdict, cause", [
    ("import os\nos._exit(0)", "called os._exit(0) in cell 2", "called os._exit(0)"),
    ("import sys\nsys.exit(3)", "called sys.exit(3) in cell 2", "called sys.exit(3)"),
    ("raise SystemExit", "called sys.exit() in cell 2", "called sys.exit()"),
    ("raise KeyboardInterrupt", "raised KeyboardInterrupt in cell 2",
     "raised KeyboardInterrupt"),
    ("import posix\nposix._exit(4)",
     "the process exited with code 4 while running cell 2 before finishing",
     "exited with code 4"),
    ("import ctypes\nctypes.string_at(0)",
     "the process was killed by signal 11 (segmentation fault) while running cell 2",
     "killed by signal 11, segmentation fault"),
])
def test_exits_and_crashes_in_a_cell(pool, source, verdict, cause):
    out = pool.run(cells("def f():\n    return 1", source, "z = 3"), [Call("f", "a")])
    assert out.crashed == verdict
    assert [(c.number, c.status) for c in out.cells] == [(1, "ok"), (2, "error")]
    assert (out.calls[0].status, out.calls[0].message) == \
        ("not_run", f"the process died ({cause}) while running cell 2")
    assert out.timed_out == ""


def test_sys_exit_inside_a_graded_call(pool):
    out = pool.run(cells("import sys\ndef f():\n    sys.exit(3)"), [Call("f", "bye")])
    assert out.crashed == "called sys.exit(3) in `f` (case 'bye')"
    assert out.calls[0].status == "crashed"


def test_segfault_inside_a_graded_call(pool):
    out = pool.run(cells("import ctypes\ndef f():\n    return ctypes.string_at(0)"),
                   [Call("f", "null")])
    assert out.crashed == ("the process was killed by signal 11 (segmentation fault) "
                           "while running `f` (case 'null')")
    assert out.calls[0].status == "crashed"


def test_fork_bomb_is_bounded_and_cleaned_up(pool):
    bomb = """
        import os
        print("uid", os.getuid(), flush=True)
        while True:
            os.fork()
    """
    survivor = """
        import os, time
        if os.fork() == 0:
            os.setsid()  # leave the process group, as a daemon would
            if os.fork() == 0:
                time.sleep(600)
            os._exit(0)
    """
    out = pool.run(cells(survivor, bomb, "def f():\n    return 'alive'"), [Call("f", "a")])
    assert out.cells[0].status == "ok"
    assert out.cells[1].status == "error"
    assert "BlockingIOError: [Errno 11] Resource temporarily unavailable" in out.cells[1].error
    assert (out.calls[0].status, out.calls[0].value) == ("ok", "alive")
    uid = int(out.stdout.split()[1])
    assert uid != 0
    left = [p for p in os.listdir("/proc") if p.isdigit() and _uid_of(p) == uid]
    assert left == []


def _uid_of(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("Uid:"))
    except OSError:
        return None


def test_a_fake_result_frame_on_stdout_is_just_output(pool):
    src = """
        import sys
        from autograder.execution import wire
        fake = wire.frame(wire.encode({"ev": "call_done", "k": 0, "status": "ok"}),
                          wire.encode(42))
        def f():
            sys.stdout.buffer.write(fake)
            sys.stdout.flush()
            print("done printing")
            return 1
    """
    out = pool.run(cells(src), [Call("f", "a")])
    assert (out.calls[0].status, out.calls[0].value) == ("ok", 1)
    assert "CVF1" in out.stdout and "done printing" in out.stdout
    assert out.crashed == ""


WRITE_RESULT_FD = """
    import os, stat
    def result_fds():
        fds = []
        for fd in map(int, os.listdir("/proc/self/fd")):
            try:
                if fd > 2 and stat.S_ISFIFO(os.fstat(fd).st_mode):
                    fds.append(fd)
            except OSError:  # the descriptor listdir used, closed by now
                pass
        return fds
"""

# Writes a well-framed "ok" result whose array header claims `shape` over
# `n_bytes` of data, straight to the result channel, then exits.
FORGE_ARRAY = WRITE_RESULT_FD + """
    import io, posix
    import numpy as np
    from autograder.execution import wire
    def forge_array(shape, n_bytes):
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"descr": "<f8", "fortran_order": False, "shape": shape})
        blob = buf.getvalue() + b"\\0" * n_bytes
        meta = wire.encode({"ev": "call_done", "k": 0, "status": "ok", "exc_type": "",
                            "message": "", "traceback": "", "seconds": 0.0,
                            "forbidden_call": "", "mutated": [],
                            "returned_view": False})
        tree = b'{"tree":{"$":"ndarray","blob":0},"blobs":[%d]}' % len(blob)
        value = wire.MAGIC + len(tree).to_bytes(4, "big") + tree + blob
        for fd in result_fds():
            os.write(fd, wire.frame(meta, value))
        posix._exit(0)
"""


def test_garbage_on_the_result_channel(pool):
    src = WRITE_RESULT_FD + """
    def f():
        for fd in result_fds():
            os.write(fd, b"garbage!" * 4)
        return 1
    """
    out = pool.run(cells(src), [Call("f", "a"), Call("f", "b")])
    assert out.crashed == ("wrote malformed data to the grader's result channel "
                           "(bad frame start b'garbage!')")
    assert [c.status for c in out.calls] == ["invalid_output", "not_run"]
    assert out.calls[0].message == out.crashed
    assert out.calls[1].message == "the process " + out.crashed


def test_a_forged_result_with_a_10_gb_header_is_invalid_output(pool):
    src = FORGE_ARRAY + """
    def f():
        forge_array((1250000000,), 8)
    """
    out = pool.run(cells(src), [Call("f", "forged"), Call("f", "b")])
    assert out.calls[0].status == "invalid_output"
    assert out.calls[0].message == ("an array header claims shape (1250000000,) of float64 "
                                    "(10000000000 bytes) but 8 bytes are present")
    assert out.crashed == "the process exited with code 0 between calls before finishing"
    assert (out.calls[1].status, out.calls[1].message) == \
        ("not_run", "the process died (exited with code 0) between calls")


def test_a_forged_result_with_negative_dimensions_is_invalid_output(pool):
    src = FORGE_ARRAY + """
    def f():
        forge_array((-1, -2), 16)
    """
    out = pool.run(cells(src), [Call("f", "forged"), Call("f", "b")])
    assert out.calls[0].status == "invalid_output"
    assert out.calls[0].message == ("an array header claims shape (-1, -2), "
                                    "which has a negative dimension")
    assert out.calls[1].status == "not_run"


@pytest.mark.parametrize("body, status, message", [
    ("return np.array([1, 'a'], dtype=object)", "invalid_output",
     "the return value is an array of dtype object; expected numbers "
     "(bool, int, float or complex)"),
    ("return [np.zeros(2), lambda x: x]", "invalid_output",
     "the return value[1] is a builtins.function; expected plain data "
     "(ndarray, number, str, bool, None, list, tuple or dict)"),
    ("return np.zeros(10**6)", "invalid_output",
     "the return value is an array of 7.6 MiB; the limit for all values together is 3.0 MiB"),
])
def test_values_that_are_not_plain_data(pool, body, status, message):
    out = pool.run(cells(f"import numpy as np\ndef f():\n    {body}"), [Call("f", "a")])
    assert out.calls[0].status == status
    assert message in out.calls[0].message
    assert out.crashed == ""


def test_patching_np_allclose_changes_nothing_outside(pool):
    src = """
        import numpy as np
        np.allclose = lambda *a, **k: True
        np.testing.assert_allclose = lambda *a, **k: None
        def f(x):
            return x + 1
    """
    x = np.arange(4.0)
    out = pool.run(cells(src), [Call("f", "a", (x,))])
    np.testing.assert_array_equal(out.calls[0].value, x + 1)
    assert not np.allclose(out.calls[0].value, x)


def test_network_is_unreachable(pool):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        src = f"""
            import socket
            def f():
                try:
                    socket.create_connection(("127.0.0.1", {port}), timeout=0.5)
                except OSError as e:
                    return type(e).__name__
                return "connected"
        """
        out = pool.run(cells(src), [Call("f", "a")])
    assert out.calls[0].status == "ok"
    assert out.calls[0].value == "ConnectionRefusedError"


def test_writing_outside_the_scratch_directory_fails(pool, open_tmp, repo):
    canary = open_tmp / "canary.txt"
    canary.write_text("original")
    canary.chmod(0o666)  # even a file everybody may write is read-only in the sandbox
    src = """
        def f(path):
            try:
                with open(path, "w") as fh:
                    fh.write("changed")
            except OSError as e:
                return e.strerror
            return "written"
    """
    out = pool.run(cells(src), [Call("f", "canary", (str(canary),)),
                                Call("f", "course", (str(repo / "autograder" / "new.py"),)),
                                Call("f", "tmp", ("/tmp/x",))])
    # Outside the allowlist a path is absent; the private /tmp itself is read-only.
    assert [c.value for c in out.calls] == ["No such file or directory"] * 2 + \
        ["Read-only file system"]
    assert canary.read_text() == "original"
    assert not (repo / "autograder" / "new.py").exists()


def test_state_does_not_leak_to_the_next_submission(pool):
    first = """
        import builtins, os
        import numpy as np
        np.sum = lambda *a, **k: -1
        builtins.LEAKED = True
        os.environ["LEAKED"] = "1"
        with open("left.txt", "w") as fh:
            fh.write("left behind")
        os.mkdir("locked")
        os.chmod("locked", 0)
        def f():
            return sorted(os.listdir("."))
    """
    second = """
        import builtins, os
        import numpy as np
        def f():
            return (float(np.sum([1.0, 2.0])), hasattr(builtins, "LEAKED"),
                    "LEAKED" in os.environ, sorted(os.listdir(".")),
                    os.getcwd() == os.environ["HOME"])
    """
    out = pool.run(cells(first), [Call("f", "a")])
    assert out.calls[0].value == ["left.txt", "locked"]
    out = pool.run(cells(second), [Call("f", "a")])
    assert out.calls[0].value == (3.0, False, False, [], True)


def test_the_child_cannot_kill_the_warm_worker(pool):
    src = """
        import os, signal
        def f():
            try:
                os.kill(os.getppid(), signal.SIGKILL)
            except OSError as e:
                return type(e).__name__
            return "killed"
    """
    out = pool.run(cells(src), [Call("f", "a")])
    assert out.calls[0].value == "PermissionError"
    assert pool.run(cells("def f():\n    return 5"), [Call("f", "a")]).calls[0].value == 5


def test_a_killed_warm_worker_is_replaced(pool):
    worker = pool._workers[0]
    old = worker.proc.pid
    future = pool.submit(cells("import time\ntime.sleep(30)"),
                         [Call("f", "a")])
    while not _child_running(worker):
        time.sleep(0.05)
    os.killpg(old, 9)
    out = future.result()
    assert out.crashed == "the grading worker stopped unexpectedly while running cell 1"
    assert (out.calls[0].status, out.calls[0].message) == ("not_run", out.crashed)
    out = pool.run(cells("def f():\n    return 6"), [Call("f", "a")])
    assert out.calls[0].value == 6 and worker.proc.pid != old


def _child_running(worker) -> bool:
    """Whether a submission's process (its own user id) is asleep: in its cell's sleep, so past
    the frame that says the cell started."""
    return any(_uid_of(p) == worker.uid and _state_of(p) == "S"
               for p in os.listdir("/proc") if p.isdigit())


def _state_of(pid: str) -> str | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(line.split()[1] for line in f if line.startswith("State:"))
    except OSError:
        return None
