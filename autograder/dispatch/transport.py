"""What crosses Dask, as bytes in the sandbox's own format (`autograder.execution.wire`).

A run goes out as its cells, calls and tripwires; it comes back as its
`RunOutcome`. Both are encoded with `wire.encode` and decoded with
`wire.decode` (``allow_pickle=False``, no `FunctionSpec` on the way back), so
Dask only ever pickles `bytes`: nothing a student's process returned is
pickled or unpickled anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

from autograder.execution import wire
from autograder.execution.outcome import Call, CallOutcome
from autograder.execution.run import Cell, CellRun, RunOutcome

# A run's outcomes are capped per call by the sandbox (`Limits.result_bytes`); this caps
# one run's whole outcome on its way back to the coordinator.
MAX_BYTES = 1 << 30
_CALL_FIELDS = tuple(f.name for f in fields(CallOutcome))
_CELL_FIELDS = tuple(f.name for f in fields(CellRun))


def encode_run(cells: Sequence[Cell], calls: Sequence[Call], forbidden: Sequence[str]) -> bytes:
    """One run for a Dask worker: cells, calls (case inputs) and this run's tripwires."""
    return wire.encode({
        "cells": [(c.number, c.source) for c in cells],
        "calls": [(c.problem, c.case, tuple(c.args), dict(c.kwargs), c.timeout) for c in calls],
        "forbidden": list(forbidden),
    }, max_bytes=MAX_BYTES, allow_functions=True, name="a run")


def decode_run(data: bytes) -> tuple[list[Cell], list[Call], list[str]]:
    """The inverse of `encode_run`, on the Dask worker (the coordinator is trusted)."""
    job = wire.decode(data, max_bytes=MAX_BYTES, allow_functions=True)
    cells = [Cell(number, source) for number, source in job["cells"]]
    calls = [Call(problem, case, args, kwargs, timeout)
             for problem, case, args, kwargs, timeout in job["calls"]]
    return cells, calls, list(job["forbidden"])


def encode_outcome(run: RunOutcome) -> bytes:
    """A `RunOutcome` as bytes: the decoded values the sandbox returned, re-encoded."""
    return wire.encode({
        "cells": [{name: getattr(c, name) for name in _CELL_FIELDS} for c in run.cells],
        "calls": [{name: getattr(o, name) for name in _CALL_FIELDS} for o in run.calls],
        "crashed": run.crashed, "timed_out": run.timed_out, "stdout": run.stdout,
        "seconds": run.seconds,
    }, max_bytes=MAX_BYTES, name="a run's outcome")


def decode_outcome(data: bytes) -> RunOutcome:
    """The inverse of `encode_outcome`, on the coordinator; anything unexpected is a WireError.

    Raises
    ------
    autograder.execution.wire.WireError
        Not an outcome made by `encode_outcome`.
    """
    tree = wire.decode(data, max_bytes=MAX_BYTES)
    try:
        cells = [CellRun(**_exactly(c, _CELL_FIELDS)) for c in tree["cells"]]
        calls = [CallOutcome(**_exactly(o, _CALL_FIELDS)) for o in tree["calls"]]
        return RunOutcome(cells, calls, str(tree["crashed"]), str(tree["timed_out"]),
                          str(tree["stdout"]), float(tree["seconds"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise wire.WireError(f"decode_outcome: not a run's outcome ({exc})") from None


def _exactly(node: object, names: tuple[str, ...]) -> dict:
    if type(node) is not dict or set(node) != set(names):
        raise TypeError(f"expected the fields {names}")
    return node
