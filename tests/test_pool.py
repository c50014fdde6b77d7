"""WorkerPool: what comes back for ordinary submissions, tripwires, the fallback without bwrap."""

from __future__ import annotations

import os
import socket
import time

import numpy as np
import pytest
import torch

from autograder.catalog import allowed_calls
from autograder.execution import import_policy, tripwires, wire
from autograder.execution.outcome import Call, FunctionSpec
from autograder.execution.pool import CANCELLED, WorkerPool
from autograder.execution.run import RunOutcome, _Corrupt, _Run
from autograder.execution.sandbox import Limits, bwrap_available
from autograder.execution.wire import WireError
from tests.nbfactory import cells

LIMITS = Limits(cell_seconds=5, call_seconds=5, submission_seconds=60,
                memory_bytes=512 * 2**20, max_processes=16, output_bytes=300)
needs_bwrap = pytest.mark.skipif(not bwrap_available(),
                                 reason="bubblewrap (bwrap) is not installed or cannot run here")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the privilege drop needs root")


@pytest.fixture(scope="module")
def pool():
    if not bwrap_available():
        pytest.skip("bubblewrap (bwrap) is not installed or cannot run here")
    with WorkerPool(1, sandbox="bwrap", limits=LIMITS) as p:
        yield p


@pytest.fixture(scope="module")
def bare_pool():
    """Two workers without bubblewrap: limits and privilege drop only."""
    with WorkerPool(2, sandbox="none", limits=LIMITS) as p:
        yield p


SOLUTION = """
    import numpy as np

    def corr1d(x, h):
        n = len(x) - len(h) + 1
        return np.array([np.dot(x[i:i + len(h)], h) for i in range(n)])

    def conv1d(x):
        return helper(x)

    def helper(x):
        return np.reshape(x, (-1, 7))

    def stub(x):
        raise NotImplementedError

    not_a_function = 3
"""


def test_values_and_statuses_come_back(pool):
    x, h = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, -1.0])
    out = pool.run(cells(SOLUTION), [
        Call("corr1d", "worked example", (x, h)),
        Call("conv1d", "bad reshape", (np.arange(3),)),
        Call("stub", "stub", (1,)),
        Call("absent", "missing", ()),
        Call("not_a_function", "not callable", ()),
    ])
    assert isinstance(out, RunOutcome) and out.crashed == out.timed_out == ""
    ok, raised, stub, missing, not_callable = out.calls
    assert ok.status == "ok" and ok.problem == "corr1d" and ok.case == "worked example"
    np.testing.assert_array_equal(ok.value, [-2.0, -2.0])
    assert (raised.status, raised.exc_type) == ("raised", "ValueError")
    assert raised.message == "cannot reshape array of size 3 into shape (7)"
    # Only the student's frames: not numpy's, not the worker's.
    assert raised.traceback.count('File "<cell 1>"') == 2
    assert "numpy" not in raised.traceback and "autograder" not in raised.traceback
    assert "return np.reshape(x, (-1, 7))" in raised.traceback
    assert (stub.status, stub.exc_type) == ("not_implemented", "NotImplementedError")
    assert (missing.status, missing.message) == ("missing", "absent is not defined")
    assert (not_callable.status, not_callable.message) == \
        ("missing", "not_a_function is a int, not a function")


def test_a_failing_cell_is_recorded_and_the_run_goes_on(pool):
    out = pool.run(cells("x = 1", "undefined_name", "def f():\n    return x + 1"),
                   [Call("f", "a")])
    assert [(c.number, c.status) for c in out.cells] == [(1, "ok"), (2, "error"), (3, "ok")]
    assert out.cells[1].error.endswith("NameError: name 'undefined_name' is not defined\n")
    assert 'File "<cell 2>", line 1' in out.cells[1].error
    assert out.calls[0].value == 2


def test_returned_types_survive(pool):
    src = """
        import numpy as np
        def f():
            return (np.float32(1.5), 3, 2.5, [np.eye(2, dtype=np.int8)], {"k": 1j}, None)
    """
    value = pool.run(cells(src), [Call("f", "a")]).calls[0].value
    assert type(value[0]) is np.float32 and value[1:3] == (3, 2.5)
    assert value[3][0].dtype == np.int8 and value[4] == {"k": 1j} and value[5] is None


def test_function_arguments_are_rebuilt_inside(pool):
    src = """
        def gap(f, x):
            return f(x)
    """
    x = np.array([-1.0, 2.0, -3.0])
    spec = FunctionSpec("weighted_square_sum", {"a": np.array([1.0, 2.0, 3.0])})
    out = pool.run(cells(src), [Call("gap", "relu", (FunctionSpec("relu"), x)),
                                Call("gap", "sum", (spec,), {"x": x})])
    np.testing.assert_array_equal(out.calls[0].value, [0.0, 2.0, 0.0])
    assert out.calls[1].value == 1.0 + 8.0 + 27.0


@pytest.mark.parametrize("body, name", [
    ("return np.convolve(x, x)", "numpy.convolve"),
    ("from numpy import correlate\n    return correlate(x, x)", "numpy.correlate"),
    ("return np.polymul(x, x)", "numpy.polymul"),
    ("return np.poly1d(x) * np.poly1d(x)", "numpy.polymul"),
    ("return np.polynomial.polynomial.polymul(x, x)", "numpy.convolve"),
    ("return np.polynomial.Polynomial(x) * np.polynomial.Polynomial(x)", "numpy.convolve"),
    ("return np._core.multiarray.correlate2(x, x, 0)", "numpy._core.multiarray.correlate2"),
    ("return np._core._multiarray_umath.correlate(x, x, 0)", "numpy._core.multiarray.correlate"),
    ("import numpy.ma\n    return np.ma.convolve(x, x)", "numpy.convolve"),
    ("try:\n        return np.convolve(x, x)\n    except BaseException:\n        return x",
     "numpy.convolve"),
])
def test_forbidden_calls_trip(pool, body, name):
    src = f"import numpy as np\ndef f(x):\n    {body}"
    out = pool.run(cells(src), [Call("f", "a", (np.arange(4.0),))])
    call = out.calls[0]
    assert (call.status, call.forbidden_call) == ("forbidden", name)
    assert call.message == f"called {name}, which graded code may not use"
    assert call.value is None


@pytest.mark.parametrize("module", ["torch", "torch.nn.functional", "scipy.signal",
                                    "scipy.ndimage", "sklearn", "conv_ref", "matplotlib.backends",
                                    "IPython", "nbformat"])
def test_libraries_beyond_numpy_are_absent_from_the_sandbox(pool, module):
    src = f"""
        import importlib
        def f():
            try:
                importlib.import_module({module!r})
            except ImportError as e:
                return type(e).__name__
            return "imported"
    """
    out = pool.run(cells(src), [Call("f", "a")])
    assert out.calls[0].value in ("ImportError", "ModuleNotFoundError")
@pytest.mark.parametrize("body", [
    "import torch\n    return torch.conv1d",
    "import torch.nn.functional as F\n    return F.conv1d",
    "import scipy.signal\n    return scipy.signal.convolve2d(x[None], x[None])",
    "from scipy.ndimage import correlate1d\n    return correlate1d(x, x)",
    "import conv_ref\n    return conv_ref.corr1d(x, x)",
    "return __import__('sk' + 'learn')",
    "import importlib\n    return importlib.import_module('to' + 'rch')",
])
def test_libraries_other_than_numpy_cannot_be_imported(pool, body):
    src = f"import numpy as np\ndef f(x):\n    {body}"
    out = pool.run(cells(src), [Call("f", "a", (np.arange(4.0),))])
    call = out.calls[0]
    assert (call.status, call.exc_type) == ("raised", "ImportError")
    assert call.message.startswith("graded code must use NumPy only: '")
    assert call.message.endswith("' is not available while grading")


def test_allowed_library_functions_do_not_trip(pool):
    src = """
        import numpy as np
        import matplotlib.pyplot as plt
        from numpy.lib.stride_tricks import sliding_window_view
        def f(x):
            windows = sliding_window_view(np.pad(x, 1), 3)
            plt.plot(x)
            return windows.sum(axis=1), np.fft.irfft(np.fft.rfft(x), len(x))
    """
    out = pool.run(cells(src), [Call("f", "a", (np.array([1.0, -2.0, 3.0]),))])
    assert out.calls[0].status == "ok"
    np.testing.assert_array_equal(out.calls[0].value[0], [-1.0, 2.0, 1.0])
    np.testing.assert_allclose(out.calls[0].value[1], [1.0, -2.0, 3.0])


def test_stride_tricks_trip_only_where_the_submission_forbids_them(pool):
    src = """
        import numpy as np
        from numpy.lib.stride_tricks import as_strided, sliding_window_view
        def windows(x):
            return sliding_window_view(x, 2)
        def strided(x):
            return as_strided(x, (2, 2), (8, 8))
        def vectorized(x):  # NumPy's own use of as_strided
            return np.vectorize(lambda v: v[::-1], signature="(n)->(n)")(x[None])[0]
    """
    x = np.arange(3.0)
    calls = [Call("windows", "a", (x,)), Call("strided", "a", (x,)), Call("vectorized", "a", (x,))]
    forbidden = pool.run(cells(src), calls, forbidden=tripwires.STRIDE_TRICKS)
    assert [(c.status, c.forbidden_call) for c in forbidden.calls] == [
        ("forbidden", "numpy.lib.stride_tricks.sliding_window_view"),
        ("forbidden", "numpy.lib.stride_tricks.as_strided"), ("ok", "")]
    np.testing.assert_array_equal(forbidden.calls[2].value, [2.0, 1.0, 0.0])
    allowed = pool.run(cells(src), calls)
    assert [c.status for c in allowed.calls] == ["ok", "ok", "ok"]
    assert tripwires.forbidden_for(allowed_calls("03_one_by_one")) == (
        tripwires.STRIDE_TRICKS + tripwires.FFT)
    assert tripwires.forbidden_for(allowed_calls("04_toeplitz")) == tripwires.FFT
    assert tripwires.forbidden_for(allowed_calls("05_equivariance")) == ()
    assert tripwires.forbidden_for(allowed_calls("08_fast_conv")) == ()


def test_the_fft_trips_before_05_and_not_in_08(pool):
    src = """
        import numpy as np
        def f(x):
            return np.fft.irfft(np.fft.rfft(x), len(x))
    """
    calls = [Call("f", "a", (np.array([1.0, -2.0, 3.0]),))]
    before = pool.run(cells(src), calls, forbidden=tripwires.forbidden_for(
        allowed_calls("04_toeplitz")))
    assert (before.calls[0].status, before.calls[0].forbidden_call) == (
        "forbidden", "numpy.fft.rfft")
    allowed = pool.run(cells(src), calls, forbidden=tripwires.forbidden_for(
        allowed_calls("08_fast_conv")))
    assert allowed.calls[0].status == "ok"
    np.testing.assert_allclose(allowed.calls[0].value, [1.0, -2.0, 3.0])


def test_a_forbidden_call_in_a_cell_marks_the_cell(pool):
    out = pool.run(cells("import numpy as np\ny = np.convolve([1, 2], [1])"), [])
    assert out.cells[0].status == "error"
    assert out.cells[0].error.startswith(
        "called numpy.convolve, which graded code may not use\nTraceback")


def test_output_is_captured_and_truncated(pool):
    out = pool.run(cells("print('x' * 1000)\nimport sys\nprint('err', file=sys.stderr)"), [])
    assert out.stdout.startswith("x" * 300)
    assert out.stdout.endswith("\n[output truncated: 705 more bytes not shown]\n")


def test_submit_returns_futures_in_order(bare_pool):
    src = "import time\ndef f(i):\n    time.sleep(0.1 * (i % 2))\n    return i * i"
    futures = [bare_pool.submit(cells(src), [Call("f", str(i), (i,))]) for i in range(6)]
    assert [f.result().calls[0].value for f in futures] == [i * i for i in range(6)]


@needs_root
def test_without_bwrap_the_child_runs_unprivileged(bare_pool, repo):
    src = """
        import os, resource
        def f(path):
            try:
                open(path, "a").close()
                wrote = "written"
            except OSError as e:
                wrote = e.strerror
            try:
                os.setuid(0)
                regained = True
            except OSError:
                regained = False
            return os.getuid(), wrote, regained, resource.getrlimit(resource.RLIMIT_NPROC)[0]
    """
    out = bare_pool.run(cells(src), [Call("f", "a", (str(repo / "README.md"),))])
    uid, wrote, regained, nproc = out.calls[0].value
    assert uid >= 2**20 and wrote == "Permission denied" and regained is False
    assert nproc == LIMITS.max_processes


@needs_root
def test_without_bwrap_fork_bombs_memory_and_network_are_still_bounded(bare_pool):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        src = f"""
            import os, socket
            import numpy as np
            def bomb():
                while True:
                    os.fork()
            def net():
                try:
                    socket.create_connection(("127.0.0.1", {server.getsockname()[1]}), 0.5)
                except OSError as e:
                    return type(e).__name__
                return "connected"
            def hog():
                return np.ones(2 * LIMIT // 8)
            LIMIT = {LIMITS.memory_bytes}
        """
        out = bare_pool.run(cells(src), [Call("bomb", "a"), Call("net", "b"), Call("hog", "c")])
    bomb, net, hog = out.calls
    assert (bomb.status, bomb.exc_type) == ("raised", "BlockingIOError")
    assert (net.status, net.value) == ("ok", "OSError")  # no route at all: an empty namespace
    assert hog.status == "crashed"
    assert out.crashed == "exceeded the memory limit of 0.5 GiB in `hog` (case 'c')"


def test_a_custom_forbidden_list_replaces_the_default():
    with WorkerPool(1, sandbox="none", limits=LIMITS, forbidden=("numpy.fft.*",)) as p:
        src = "import numpy as np\ndef f(x):\n    return np.convolve(x, x), np.fft.fft(x)"
        out = p.run(cells(src), [Call("f", "a", (np.ones(2),))])
    assert (out.calls[0].status, out.calls[0].forbidden_call) == ("forbidden", "numpy.fft.fft")


def test_a_worker_that_cannot_start_fails_the_next_submissions():
    # An empty pattern makes the worker's tripwire plan raise before it reports ready.
    with WorkerPool(1, sandbox="none", limits=LIMITS, forbidden=("",)) as p:
        for _ in range(2):  # the second submission starts a new worker, which fails again
            with pytest.raises(RuntimeError, match=r"(?s)the worker exited while starting; its "
                               r"stderr ends with:.*tripwires.plan: patterns expects dotted"):
                p.run(cells("x = 1"), [])


def test_cancel_all_stops_a_run_under_way_and_one_that_starts_after_it():
    # The worker thread may take a job just before cancel_all looks at it (it was
    # not running yet, so nothing is killed); the run must still stop at once.
    slow = cells("import time\ntime.sleep(60)")
    with WorkerPool(1, sandbox="none", limits=LIMITS) as p:
        under_way = p.submit(slow, [])
        while not under_way.running():
            time.sleep(0.05)  # polling for the run to start, not measuring time
        p.cancel_all()
        assert under_way.result(timeout=30).crashed  # killed, or stopped by the cancel
        after = p.run(slow, [])  # nothing is started any more
        assert after.crashed == CANCELLED and after.cells == []


def test_argument_errors(bare_pool):
    with pytest.raises(ValueError, match="WorkerPool: workers expects a positive int, got 0"):
        WorkerPool(0)
    with pytest.raises(TypeError, match="WorkerPool: limits expects a Limits, got dict"):
        WorkerPool(1, limits={})
    with pytest.raises(TypeError, match="forbidden expects a sequence of patterns"):
        WorkerPool(1, forbidden="numpy.convolve")
    with pytest.raises(ValueError, match="resolve_sandbox: mode expects 'auto', 'bwrap' or"):
        WorkerPool(1, sandbox="docker")
    with pytest.raises(TypeError, match=r"cells expects Cell\(number, source\), got 'x = 1'"):
        bare_pool.submit(["x = 1"], [])
    with pytest.raises(TypeError, match="calls expects Call objects, got"):
        bare_pool.submit([], [("f", "a")])
    with pytest.raises(WireError, match=r"the torch.Tensor; expected plain data|torch.Tensor"):
        bare_pool.submit([], [Call("f", "a", (torch.ones(2),))])
    with pytest.raises(ValueError, match="build_function: unknown function kind 'nope'"):
        bare_pool.submit([], [Call("f", "a", (FunctionSpec("nope"),))])


def test_a_closed_pool_refuses_work():
    p = WorkerPool(1, sandbox="none", limits=LIMITS)
    p.close()
    with pytest.raises(RuntimeError, match="WorkerPool.submit: the pool is closed"):
        p.submit([], [])
    p.close()  # closing twice is harmless


def test_the_cpu_limit_ends_the_run():
    limits = Limits(cpu_seconds=1, call_seconds=60, submission_seconds=60)
    with WorkerPool(1, sandbox="none", limits=limits) as p:
        out = p.run(cells("def spin():\n    while True:\n        pass"),
                    [Call("spin", "a"), Call("spin", "b")])
    assert out.timed_out == "used more than 1 s of CPU time in `spin` (case 'a')"
    assert [c.status for c in out.calls] == ["timeout", "not_run"]
    assert out.calls[0].message == out.timed_out
    assert out.calls[1].message == "the submission ran out of time in `spin` (case 'a')"


# The grader's side of a run, fed the frames a child writes: no process involved.


def _feed(run: _Run, *events: dict) -> None:
    """Frames as the child writes them; a call that returned returns its number."""
    run.results(b"".join(
        wire.frame(wire.encode(e), wire.encode(e["k"]) if e.get("status") == "ok" and "k" in e
                   else b"") for e in events))


def _call_done(k: int, status: str = "ok", message: str = "") -> dict:
    return {"ev": "call_done", "k": k, "status": status, "exc_type": "", "message": message,
            "traceback": "", "seconds": 0.5, "forbidden_call": "",
            "mutated": [], "returned_view": False}


def _two_cells_three_calls() -> _Run:
    run = _Run(cells("x = 1", "def f():\n    return x"),
               [Call("f", "a"), Call("f", "b"), Call("f", "c")], LIMITS)
    _feed(run, {"ev": "cell", "i": 1}, {"ev": "cell_done", "i": 1, "status": "ok", "error": "",
                                        "seconds": 0.0})
    return run


def test_a_fatal_call_crashes_and_the_calls_after_it_are_not_run():
    run = _two_cells_three_calls()
    _feed(run, {"ev": "cell", "i": 2},
          {"ev": "cell_done", "i": 2, "status": "ok", "error": "", "seconds": 0.0},
          {"ev": "call", "k": 0}, _call_done(0, "ok"), {"ev": "call", "k": 1},
          {"ev": "fatal", "message": "exceeded the memory limit of 0.5 GiB"})
    out = run.finish(0, "", "", False)
    assert out.crashed == "exceeded the memory limit of 0.5 GiB in `f` (case 'b')"
    assert [(c.case, c.status, c.value, c.message) for c in out.calls] == [
        ("a", "ok", 0, ""),
        ("b", "crashed", None, out.crashed),
        ("c", "not_run", None,
         "the process died (exceeded the memory limit of 0.5 GiB) while running `f` (case 'b')"),
    ]


def test_a_submission_timeout_in_a_cell_names_that_cell_and_runs_no_call():
    run = _two_cells_three_calls()
    _feed(run, {"ev": "cell", "i": 2})
    assert run.deadline()[1] == "cell 2 ran longer than 5 s"
    out = run.finish(9, "cell 2 ran longer than 5 s", "", False)
    assert out.timed_out == "cell 2 ran longer than 5 s" and out.crashed == ""
    assert [(c.number, c.status, c.error) for c in out.cells] == [
        (1, "ok", ""), (2, "timeout", "cell 2 ran longer than 5 s")]
    assert {(c.status, c.message) for c in out.calls} == {
        ("not_run", "the submission ran out of time in cell 2")}


def test_a_call_timeout_the_child_reports_lets_the_run_go_on():
    run = _two_cells_three_calls()
    _feed(run, {"ev": "cell", "i": 2},
          {"ev": "cell_done", "i": 2, "status": "ok", "error": "", "seconds": 0.0},
          {"ev": "call", "k": 0}, _call_done(0, "timeout", "ran longer than 5 s"),
          {"ev": "call", "k": 1}, _call_done(1), {"ev": "call", "k": 2}, _call_done(2),
          {"ev": "done"})
    out = run.finish(0, "", "", False)
    assert out.timed_out == "`f` (case 'a') ran longer than 5 s" and out.crashed == ""
    assert [(c.status, c.value) for c in out.calls] == [("timeout", None), ("ok", 1), ("ok", 2)]


def test_an_exit_between_calls_leaves_the_rest_not_run():
    run = _two_cells_three_calls()
    _feed(run, {"ev": "cell", "i": 2},
          {"ev": "cell_done", "i": 2, "status": "ok", "error": "", "seconds": 0.0},
          {"ev": "call", "k": 0}, _call_done(0))
    out = run.finish(3 << 8, "", "", False)  # the wait status of exit code 3
    assert out.crashed == "the process exited with code 3 between calls before finishing"
    assert [(c.status, c.message) for c in out.calls[1:]] == \
        [("not_run", "the process died (exited with code 3) between calls")] * 2


def test_an_end_of_run_before_the_last_call_is_corrupt():
    run = _two_cells_three_calls()
    with pytest.raises(_Corrupt, match="message 'done' before the end of the run"):
        _feed(run, {"ev": "done"})
    out = run.finish(0, "", "wrote malformed data to the grader's result channel (x)", True)
    assert {(c.status, c.message) for c in out.calls} == {
        ("not_run", "the process wrote malformed data to the grader's result channel (x)")}


def test_cells_out_of_order_are_corrupt():
    run = _two_cells_three_calls()
    with pytest.raises(_Corrupt, match="cell 1 started out of order"):
        _feed(run, {"ev": "cell", "i": 1})  # cell 1 has run: cell 2 is next


MUTATORS = """
    import numpy as np

    def honest(x, h):
        return x[:2] * h[0]

    def in_place(x, h):
        x += 1
        return x.sum()

    def keyword(x, h):
        h[0] = 5.0
        return 0

    def nested(pair):
        pair[1].shape = (3, 1)  # the shape changes, not a value
        return 0

    def raises_after(x, h):
        np.copyto(x, 0)
        raise ValueError("no")

    class Anonymous:
        def __call__(self, *args):
            args[0][...] = 0
            return 1
    anonymous = Anonymous()

    def same(x, h):
        return x

    def sliced(x, h):
        return x[1:]

    def copied(x, h):
        return x.copy(), h + 0

    def transposed_in_tuple(x, h):
        return h.copy(), [x.T]
"""


@pytest.mark.parametrize("name, kwargs, mutated, status", [
    ("honest", {}, [], "ok"),
    ("in_place", {}, ["x"], "ok"),
    ("keyword", {"h": True}, ["h"], "ok"),
    ("raises_after", {}, ["x"], "raised"),
    ("anonymous", {}, ["arg 0"], "ok"),
])
def test_the_inputs_a_call_modified_are_named(pool, name, kwargs, mutated, status):
    x, h = np.arange(4.0), np.array([2.0, 1.0])
    args, kw = ((x,), {"h": h}) if kwargs else ((x, h), {})
    out = pool.run(cells(MUTATORS), [Call(name, "a", args, kw)])
    assert (out.calls[0].status, out.calls[0].mutated) == (status, mutated)
    np.testing.assert_array_equal(x, np.arange(4.0))  # the grader's own copy is never touched


def test_a_changed_shape_inside_a_container_is_named_by_its_place(pool):
    out = pool.run(cells(MUTATORS), [Call("nested", "a", ((np.ones(2), np.ones(3)),))])
    assert out.calls[0].mutated == ["pair[1]"]


@pytest.mark.parametrize("name, view", [("honest", False), ("same", True), ("sliced", True),
                                        ("copied", False), ("transposed_in_tuple", True)])
def test_returning_a_view_of_an_input_is_reported(pool, name, view):
    out = pool.run(cells(MUTATORS), [Call(name, "a", (np.arange(4.0), np.array([2.0, 1.0])))])
    assert (out.calls[0].status, out.calls[0].returned_view) == ("ok", view)


CELL_2 = ({"ev": "cell", "i": 2},
          {"ev": "cell_done", "i": 2, "status": "ok", "error": "", "seconds": 0.0})
TRIP = {"ev": "trip", "name": "numpy.convolve"}
FORBIDDEN = "called numpy.convolve, which graded code may not use"


def test_a_trip_stays_whatever_the_call_reports_after_it():
    run = _two_cells_three_calls()
    _feed(run, *CELL_2, {"ev": "call", "k": 0}, TRIP, _call_done(0, "ok"),
          {"ev": "call", "k": 1}, _call_done(1), {"ev": "call", "k": 2}, _call_done(2),
          {"ev": "done"})
    out = run.finish(0, "", "", False)
    first, *rest = out.calls
    assert (first.status, first.forbidden_call, first.message, first.value) == \
        ("forbidden", "numpy.convolve", FORBIDDEN, None)
    # The other cases of the same function: the code that tripped once may hide the next trips.
    assert [(c.status, c.message) for c in rest] == 2 * [
        ("forbidden", "called numpy.convolve in case 'a', which graded code may not use")]


def test_a_trip_before_a_crash_is_the_verdict_of_the_call():
    run = _two_cells_three_calls()
    _feed(run, *CELL_2, {"ev": "call", "k": 0}, TRIP,
          {"ev": "fatal", "message": "called os._exit(0)"})
    first = run.finish(0, "", "", False).calls[0]
    assert (first.status, first.forbidden_call) == ("forbidden", "numpy.convolve")
    assert first.message == f"{FORBIDDEN}; then called os._exit(0) in `f` (case 'a')"


def test_a_trip_between_steps_counts_against_the_next_one_and_a_cell_trip_marks_the_cell():
    run = _two_cells_three_calls()
    _feed(run, {"ev": "cell", "i": 2}, TRIP,
          {"ev": "cell_done", "i": 2, "status": "ok", "error": "", "seconds": 0.0},
          {"ev": "trip", "name": "numpy.polymul"}, {"ev": "call", "k": 0}, _call_done(0))
    out = run.finish(0, "", "", False)
    assert (out.cells[1].status, out.cells[1].error) == ("error", FORBIDDEN + "\n")
    assert (out.calls[0].status, out.calls[0].forbidden_call) == ("forbidden", "numpy.polymul")


def test_mutated_inputs_and_views_are_carried_and_bounded():
    run = _two_cells_three_calls()
    done = {**_call_done(0), "mutated": ["x" * 500, "h"], "returned_view": True}
    _feed(run, *CELL_2, {"ev": "call", "k": 0}, done)
    first = run.finish(0, "", "", False).calls[0]
    assert (first.mutated, first.returned_view) == (["x" * 200, "h"], True)
    with pytest.raises(_Corrupt, match="mutated is"):
        _feed(_two_cells_three_calls(), *CELL_2, {"ev": "call", "k": 0},
              {**_call_done(0), "mutated": ["x"] * 101})


def test_no_library_graded_code_may_not_use_is_loaded_in_the_worker(pool):
    src = """
        import sys
        def loaded():
            return sorted({name.partition(".")[0] for name in list(sys.modules)})
    """
    out = pool.run(cells(src), [Call("loaded", "a")])
    roots = set(out.calls[0].value)
    assert "numpy" in roots
    assert roots & import_policy.DENIED_ROOTS == set()
