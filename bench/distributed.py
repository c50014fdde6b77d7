"""Grading on Dask: the same class locally and on a 1- and a 2-worker `LocalCluster`.

The class is `bench/grading.py`'s: ``--notebooks`` 01_conv1d submissions
(default 100) dealt round robin from the example class's honest students. It is
graded four times through `autograder.grade.grade`, each into a fresh output
folder (no resume cache): on one machine with 1 and with 2 warm sandboxes, and
on a `LocalCluster` of 1 and of 2 Dask workers (one thread, so one warm sandbox,
each). The clusters are started, and their pools warmed by a small batch,
before the timed run: a cluster outlives batches.

Printed per setup: the whole call's wall time, notebooks/s over it, and the
steady rate between the first and the last result (start-up left out). The
overhead Dask adds per submission is the difference of the seconds per notebook
between the 1-worker cluster and the 1-sandbox local pool (goal: under 10 ms);
the scaling is the 2-worker cluster's rate over the 1-worker's (goal: at least
1.7 where two cores are free). The load average is printed around each run:
the machine may be shared, and then the scaling says so.

    python bench/distributed.py [--notebooks 100] [--quick]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, Python puts bench/ first on the path, where this file would shadow the
# `distributed` package: the repository root (bench/, examples/, the package) takes its place.
sys.path[0] = str(ROOT)

from autograder.dispatch import transport  # noqa: E402
from autograder.dispatch.executor import MAX_SHARD, DaskExecutor  # noqa: E402
from autograder.execution.outcome import CallOutcome  # noqa: E402
from autograder.execution.run import Cell, CellRun, RunOutcome  # noqa: E402
from autograder.grade import cases_for, grade  # noqa: E402
from bench.grading import A, class_files  # noqa: E402

SEED = 7
GOAL_OVERHEAD_MS, GOAL_SCALING = 10.0, 1.7


def place(folder: Path, files: dict[str, bytes]) -> Path:
    for student, data in files.items():
        path = folder / student / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def timed(folder: Path, out: Path, **kwargs) -> dict:
    """Grade `folder` into `out`; wall time, steady rate, the scores."""
    stamps: list[float] = []
    load = os.getloadavg()[0]
    start = time.perf_counter()
    results = grade([folder], out=out, seed=SEED, progress=lambda *_: stamps.append(
        time.perf_counter()), **kwargs)
    wall = time.perf_counter() - start
    steady = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 2 else float("nan")
    return {"wall": wall, "rate": len(results) / wall, "steady": steady,
            "load": (load + os.getloadavg()[0]) / 2,
            "scores": {r.student: r.score for r in results}}


def on_cluster(workers: int, folder: Path, warm: Path, out: Path) -> dict:
    started = time.perf_counter()
    with DaskExecutor.connect(cluster=f"local:{workers}") as executor:
        grade([warm], out=out / "warm", seed=SEED, executor=executor)  # pools start here
        ready = time.perf_counter() - started
        result = timed(folder, out / "timed", executor=executor)
        result["task_ms"] = task_round_trip(executor.client)
    result["startup"] = ready
    return result


def task_round_trip(client, tries: int = 50) -> float:
    """Median milliseconds of one tiny Dask task, submitted and awaited (one shard's cost)."""
    times = []
    for _ in range(tries):
        start = time.perf_counter()
        client.submit(len, [], pure=False).result()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def transport_ms(tries: int = 20) -> float:
    """Milliseconds per run to encode and decode a full shard's runs and their outcomes."""
    cases = [c for problem in cases_for(A, SEED).values() for c in problem]
    cells = [Cell(i + 1, "def f(x):\n    return x\n" * 20) for i in range(12)]
    outcome = RunOutcome([CellRun(c.number, "ok", "", 0.01) for c in cells],
                         [CallOutcome(c.problem, c.name, "ok", value=c.expected) for c in cases],
                         stdout="x" * 2000, seconds=0.1)
    runs = [(cells, [c.call() for c in cases], []) for _ in range(MAX_SHARD)]
    start = time.perf_counter()
    for _ in range(tries):
        transport.decode_shard(transport.encode_shard(runs))
        for _ in runs:
            transport.decode_outcome(transport.encode_outcome(outcome))
    return (time.perf_counter() - start) / tries / MAX_SHARD * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="30 notebooks")
    args = parser.parse_args()
    n = 30 if args.quick else args.notebooks
    logging.getLogger("distributed").setLevel(logging.ERROR)
    files = class_files(n)
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        tmp = Path(tmp)
        folder = place(tmp / "class", files)
        warm = place(tmp / "warm", dict(list(files.items())[:4]))
        runs = {
            "local, 1 sandbox": timed(folder, tmp / "l1", workers=1),
            "local, 2 sandboxes": timed(folder, tmp / "l2", workers=2),
            "LocalCluster, 1 worker": on_cluster(1, folder, warm, tmp / "d1"),
            "LocalCluster, 2 workers": on_cluster(2, folder, warm, tmp / "d2"),
        }
    print(f"{n} notebooks of {A}, {os.cpu_count()} cores")
    print(f"{'setup':26} {'wall s':>7} {'nb/s':>6} {'steady nb/s':>12} {'load':>5} "
          f"{'cluster start s':>16}")
    for name, r in runs.items():
        startup = f"{r['startup']:.1f}" if "startup" in r else ""
        print(f"{name:26} {r['wall']:7.1f} {r['rate']:6.2f} {r['steady']:12.2f} "
              f"{r['load']:5.1f} {startup:>16}")
    scores = [r["scores"] for r in runs.values()]
    print("same scores everywhere:", all(s == scores[0] for s in scores))
    local1, dask1, dask2 = (runs[k] for k in ("local, 1 sandbox", "LocalCluster, 1 worker",
                                              "LocalCluster, 2 workers"))
    overhead = (1 / dask1["steady"] - 1 / local1["steady"]) * 1000
    overhead_wall = (dask1["wall"] - local1["wall"]) / n * 1000
    scaling = dask2["steady"] / dask1["steady"]
    print(f"Dask overhead per submission: {overhead:.1f} ms steady, {overhead_wall:.1f} ms "
          f"over the whole call (goal < {GOAL_OVERHEAD_MS:g} ms)")
    task = dask1["task_ms"]
    print(f"  directly: a Dask task round trip {task:.1f} ms (one per shard of up to "
          f"{MAX_SHARD}: {task / MAX_SHARD:.1f}-{task:.1f} ms a submission), encoding and "
          f"decoding a run and its outcome {transport_ms():.2f} ms (in a shard of {MAX_SHARD})")
    print(f"2 workers / 1 worker: {scaling:.2f}x (goal >= {GOAL_SCALING:g}x where two cores "
          f"are free; load average {dask2['load']:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
