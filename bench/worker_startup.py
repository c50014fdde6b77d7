"""Warm-worker start-up: seconds from creating a one-worker pool to its first result.

Starts a `WorkerPool` of one worker ``--repeat`` times (default 5) and times,
for each, the pool's start up to its answer to an empty submission (the
worker imports what it keeps warm, installs the tripwires, says it is ready,
forks one child) and then one small submission that imports what a
course notebook's setup cell imports (NumPy, Matplotlib) and defines and calls
one function. Prints the median and the range of both, and the load average
(the machine may be shared).

    python bench/worker_startup.py [--repeat 5] [--sandbox auto|bwrap|none]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.execution.outcome import Call  # noqa: E402
from autograder.execution.pool import WorkerPool  # noqa: E402
from autograder.execution.run import Cell  # noqa: E402

SETUP = "import numpy as np\nimport matplotlib.pyplot as plt\n"
FUNCTION = "def double(x):\n    return 2 * x\n"


def once(sandbox: str) -> tuple[float, float]:
    """(seconds until the worker is ready, seconds for the first submission)."""
    start = time.perf_counter()
    with WorkerPool(1, sandbox) as pool:
        pool.run([], [])  # an empty submission: answered as soon as the worker is ready
        ready = time.perf_counter() - start
        out = pool.run([Cell(1, SETUP), Cell(2, FUNCTION)], [Call("double", "one", (3,))])
        first = time.perf_counter() - start - ready
    if out.calls[0].value != 6:
        raise SystemExit(f"the submission did not run: {out}")
    return ready, first


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sandbox", default="auto")
    args = parser.parse_args(argv)
    times = [once(args.sandbox) for _ in range(args.repeat)]
    for label, values in (("worker ready", [t[0] for t in times]),
                          ("first submission", [t[1] for t in times])):
        print(f"{label:>17}: median {statistics.median(values):.2f} s "
              f"(min {min(values):.2f}, max {max(values):.2f}, n={len(values)})")
    print(f"     load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
