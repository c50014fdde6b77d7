"""Grading on a Dask cluster gives the gradebook of one machine, through faults.

A `LocalCluster` of two worker processes (one thread each, so one warm sandbox
each) grades a small class with the faults of `tests.test_batch_robust` (a
loop, a memory hog, an exit) and a student who tries to reach the cluster; the
oracle is the same class graded locally with the same seed.
"""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
from pathlib import Path

import distributed
import pytest

from autograder.dispatch import transport
from autograder.dispatch.address import parse_cluster, scheduler_address
from autograder.dispatch.executor import DaskExecutor
from autograder.execution import staging, wire
from autograder.execution.outcome import Call, CallOutcome, FunctionSpec
from autograder.execution.run import Cell, CellRun, RunOutcome
from autograder.grade import GRADER_ERROR, grade
from examples import make_class
from tests.conftest import REPO
from tests.test_batch_robust import (
    EXITS,
    HOGS_ONE_CASE,
    LOOPS,
    A,
    edited,
    honest,
    place,
    verdicts,
)

pytestmark = pytest.mark.slow
SEED = 11
OPTIONS = {"seed": SEED, "timeout": 10}

# Student code that tries every address of the cluster, and Dask itself; `corr1d` is right
# only when nothing was reached, so the student's score is the oracle.
REACH = '''\
import socket

_reached = []
for _host, _port in {addresses!r}:
    try:
        socket.create_connection((_host, _port), timeout=3).close()
        _reached.append(_port)
    except OSError:
        pass
try:
    import distributed
    _reached.append("distributed")
except ImportError:
    pass
_honest_corr1d = corr1d


def corr1d(x, h):
    if _reached:
        return np.zeros(1)
    return _honest_corr1d(x, h)
'''


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.split("://")[-1].rpartition(":")
    return host, int(port)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local, \
            distributed.Client(local) as client:
        yield DaskExecutor(client)


@pytest.fixture(scope="module")
def klass(tmp_path_factory, cluster):
    """A class with honest, mistaken and faulty students; and its local grading."""
    folder = tmp_path_factory.mktemp("class") / "submitted"
    notebooks = make_class.class_notebooks(REPO)
    place(folder, "honest", honest())
    for kind in ("flipped_kernel", "bias_ignored"):
        place(folder, kind, notebooks[kind, A])
    place(folder, "loops", edited(extra=[LOOPS]))
    place(folder, "hogs", edited(extra=[HOGS_ONE_CASE]))
    place(folder, "exits", edited(extra=[EXITS]))
    client = cluster.client
    addresses = [_host_port(client.scheduler.address),
                 *map(_host_port, client.nthreads())]
    reach = REACH.format(addresses=addresses)
    place(folder, "reach", edited(extra=[reach]))
    out = tmp_path_factory.mktemp("local")
    local = {r.student: r for r in grade([folder], out=out, workers=2, **OPTIONS)}
    return folder, local, out, reach


def _verdicts(result) -> tuple:
    """`verdicts` in an order of its own: a result read back from ``results/`` (the resume
    cache) lists its functions in another order than a fresh one."""
    score, error, flags, problems = verdicts(result)
    return score, error, tuple(sorted(flags)), tuple(sorted(problems))


def _grades(out: Path) -> list[dict[str, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _saved(out: Path) -> list[str]:
    return sorted(p.relative_to(out / "results").as_posix()
                  for p in (out / "results").rglob("*.json"))


def test_a_cluster_grades_case_by_case_as_one_machine(cluster, klass, tmp_path):
    folder, local, local_out, _ = klass
    results = grade([folder], out=tmp_path, executor=cluster, **OPTIONS)
    assert sorted(r.student for r in results) == sorted(local)
    for r in results:
        assert _verdicts(r) == _verdicts(local[r.student]), r.student
        assert r.isolation == local[r.student].isolation
    assert _grades(tmp_path) == _grades(local_out)
    assert _saved(tmp_path) == _saved(local_out)
    assert sum(cluster.done_by_worker.values()) >= len(results)
    # The faults stayed faults of their function, under the cluster's limits too.
    by = {r.student: r for r in results}
    loops = by["loops"].problems["conv_output_length"]
    assert [c.status for c in loops.cases[:2]] == ["timeout", "timeout"]
    hogs = [(c.name, c.status) for c in by["hogs"].problems["conv_output_length"].cases
            if not c.passed]
    assert hogs == [("2D example: n=4, k=2", "crashed")]


def test_student_code_reaches_neither_the_scheduler_nor_the_workers_nor_dask(cluster, klass,
                                                                              tmp_path):
    folder, local, _, reach = klass
    # The same code outside the sandbox reaches the cluster: the test can fail.
    scope = {"np": __import__("numpy"), "corr1d": lambda x, h: None}
    exec(compile(reach, "<reach>", "exec"), scope)
    assert scope["_reached"], "the cluster should be reachable from outside the sandbox"
    results = {r.student: r for r in grade([folder], out=tmp_path, executor=cluster, **OPTIONS)}
    assert results["reach"].problems["corr1d"].passed
    assert results["reach"].score == results["honest"].score == local["honest"].score


def test_a_worker_killed_mid_batch_leaves_the_same_gradebook(cluster, klass, tmp_path):
    folder, local, local_out, _ = klass
    client = cluster.client
    killed = []

    def kill_once(done, total, result):
        if killed:
            return
        busy = [w for w, keys in client.processing().items() if keys]
        victim = (busy or sorted(client.nthreads()))[0]
        killed.append(victim)
        try:
            client.run(os._exit, 1, workers=[victim])
        except Exception:  # the worker died before it could answer: what was asked
            pass

    results = grade([folder], out=tmp_path, executor=cluster, progress=kill_once, **OPTIONS)
    assert killed and killed[0] not in client.nthreads()  # the nanny started a new one
    students = [r.student for r in results]
    assert sorted(students) == sorted(set(students)) == sorted(local)
    for r in results:
        assert _verdicts(r) == _verdicts(local[r.student]), r.student
    assert _grades(tmp_path) == _grades(local_out)
    assert _saved(tmp_path) == _saved(local_out)
    client.wait_for_workers(2, timeout=120)


def test_a_shard_that_keeps_failing_becomes_error_rows_and_a_rerun_grades_them(cluster, klass,
                                                                                tmp_path):
    folder, local, local_out, _ = klass
    client = cluster.client
    client.wait_for_workers(2, timeout=120)
    before = client.run_on_scheduler(_allowed_failures, 0)  # no second try for any shard
    killed = []

    def kill_busy(done, total, result):
        busy = [w for w, keys in client.processing().items() if keys]
        if busy and not killed:
            killed.append(busy[0])
            try:
                client.run(os._exit, 1, workers=[busy[0]])
            except Exception:
                pass

    try:
        first = grade([folder], out=tmp_path, executor=cluster, progress=kill_busy, **OPTIONS)
    finally:
        client.run_on_scheduler(_allowed_failures, before)
    assert killed
    failed = [r for r in first if r.error]
    assert failed, "the killed worker's shard should have failed"
    for r in failed:
        assert GRADER_ERROR in r.flags and "KilledWorker" in r.error
    assert sorted(r.student for r in first) == sorted(local)  # one row each, nothing hung
    client.wait_for_workers(2, timeout=120)
    # Error rows are never reused: the same command grades them, and keeps the rest.
    second = {r.student: r for r in grade([folder], out=tmp_path, executor=cluster, **OPTIONS)}
    for student, r in second.items():
        assert _verdicts(r) == _verdicts(local[student]), student
    assert _grades(tmp_path) == _grades(local_out)


def test_workers_with_other_grader_code_are_refused_before_anything_runs(cluster, klass,
                                                                         tmp_path):
    folder = klass[0]
    client = cluster.client
    client.run(_pretend_version, "0.0.0+elsewhere")
    try:
        with pytest.raises(ValueError, match=r"runs grader 0\.0\.0\+elsewhere, this machine"):
            grade([folder], out=tmp_path, executor=cluster, **OPTIONS)
    finally:
        client.run(_pretend_version, None)
    assert not (tmp_path / "results").exists()


def _pretend_version(version):
    """On a Dask worker: report another grader version (None: the real one again)."""
    from autograder.dispatch import plugin

    real = getattr(plugin, "_real_loaded_version", plugin.loaded_version)
    plugin._real_loaded_version = real
    plugin.loaded_version = real if version is None else (lambda: version)


def _allowed_failures(value, dask_scheduler=None):
    old = dask_scheduler.allowed_failures
    dask_scheduler.allowed_failures = value
    return old


# --------------------------------------------------------------------------- the command line


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)],
                          capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "COLUMNS": "300", **(env or {})}, timeout=600)


def test_the_command_grades_on_a_running_scheduler(cluster, klass, tmp_path):
    folder, _, local_out, _ = klass
    done = run_cli("grade", folder, "--out", tmp_path, "--seed", SEED, "--timeout", 10,
                   "--scheduler", cluster.client.scheduler.address)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "; per worker: " in done.stderr and "(ETA " in done.stderr
    assert _grades(tmp_path) == _grades(local_out)


def test_the_command_starts_a_local_cluster(klass, tmp_path):
    folder, local, _, _ = klass
    one = tmp_path / "in"
    place(one, "honest", honest())
    out = tmp_path / "out"
    done = run_cli("grade", one, "--out", out, "--seed", SEED, "--timeout", 10,
                   "--cluster", "local:1")
    assert done.returncode == 0, done.stderr[-3000:]
    (row,) = _grades(out)
    assert row["student"] == "honest"
    assert float(row["total"]) == pytest.approx(local["honest"].score, abs=1e-3)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("flags", "message"), [
    (["--cluster", "local:0"], "--cluster expects 'local' or 'local:N' with N >= 1"),
    (["--cluster", "slurm"], "--cluster expects 'local' or 'local:N'"),
    (["--scheduler", "::8786::"], "--scheduler expects a Dask scheduler address"),
    (["--scheduler", "ws://host:8786"], "the scheme 'ws' is not tcp or tls"),
    (["--scheduler", "tcp://127.0.0.1:1", "--cluster", "local"], "not allowed with argument"),
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "--workers counts sandboxes"),
    (["--scheduler", "PORT"], "could not reach the Dask scheduler at tcp://127.0.0.1:"),
])
def test_bad_cluster_arguments_exit_2_with_a_clear_message(tmp_path, flags, message):
    nb = place(tmp_path / "in", "honest", honest())
    flags = [f"127.0.0.1:{_free_port()}" if f == "PORT" else f for f in flags]
    done = run_cli("grade", nb, "--out", tmp_path / "out", "--seed", SEED, *flags,
                   env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})
    assert done.returncode == 2, done.stderr[-2000:]
    assert message in " ".join(done.stderr.split()), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "results").exists()


# --------------------------------------------------------------------------- the pieces


def test_runs_and_outcomes_cross_dask_as_wire_bytes_only():
    calls = [Call("corr1d", "a", (__import__("numpy").arange(3.0), (1, 2)), {"k": 1}, 2.0),
             Call("numeric_gradient", "b", (FunctionSpec("weighted_square_sum", {"a": 1.5}),))]
    cells = [Cell(2, "def corr1d(x, h):\n    return x")]
    other = [Cell(1, "x = 1")]
    data = transport.encode_shard([(cells, calls, ["numpy.convolve"]),
                                   (other, [calls[1], calls[0]], [])])
    assert isinstance(data, bytes)
    (got_cells, got_calls, forbidden), (cells_2, calls_2, forbidden_2) = \
        transport.decode_shard(data)
    assert got_cells == cells and forbidden == ["numpy.convolve"]
    assert got_calls[1] == calls[1] and got_calls[0].args[1] == (1, 2)
    assert got_calls[0].kwargs == {"k": 1} and got_calls[0].timeout == 2.0
    assert cells_2 == other and forbidden_2 == [] and calls_2 == [got_calls[1], got_calls[0]]
    outcome = RunOutcome([CellRun(2, "ok", "", 0.1)],
                         [CallOutcome("corr1d", "a", "ok", value=(__import__("numpy").ones(2),),
                                      mutated=["x"])], "", "", "out", 1.5)
    back = transport.decode_outcome(transport.encode_outcome(outcome))
    assert back.cells == outcome.cells and back.stdout == "out" and back.seconds == 1.5
    assert back.calls[0].value[0].tolist() == [1.0, 1.0] and back.calls[0].mutated == ["x"]
    # Outcomes never carry functions, and a pickle is not an outcome.
    with pytest.raises(wire.WireError):
        transport.decode_outcome(wire.encode({"calls": [FunctionSpec("x", {})]},
                                             allow_functions=True))
    with pytest.raises(wire.WireError):
        transport.decode_outcome(__import__("pickle").dumps(outcome))
    with pytest.raises(wire.WireError):
        transport.decode_outcome(wire.encode({"cells": [], "calls": [{"problem": "x"}]}))


def test_the_sandbox_never_stages_dask_or_the_dispatch_code():
    assert {"autograder.dispatch", "dask", "distributed"} <= set(staging.NEVER_STAGED)
    modules = staging.worker_modules()
    assert not [m for m in modules if m.startswith("autograder.dispatch")]


def test_cluster_specs_and_addresses_are_checked():
    assert parse_cluster("local") is None and parse_cluster("local:3") == 3
    for bad in ("local:", "local:-1", "local:0", "local:2:3", "", "LOCAL"):
        with pytest.raises(ValueError, match="--cluster expects"):
            parse_cluster(bad)
    assert scheduler_address("tls://10.0.0.1:8786") == "tls://10.0.0.1:8786"
    for bad in ("", "host", "tcp://host:0", "tcp://host:99999", "inproc://x"):
        with pytest.raises(ValueError, match="--scheduler expects"):
            scheduler_address(bad)
