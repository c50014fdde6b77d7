"""What crosses Dask, as bytes in the sandbox's own format (`autograder.execution.wire`).

A shard of runs goes out as their cells, calls and tripwires; each run comes
back as its `RunOutcome`. Both are encoded with `wire.encode` and decoded with
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


def encode_shard(runs: Sequence[tuple[Sequence[Cell], Sequence[Call], Sequence[str]]]) -> bytes:
    """A shard's runs for a Dask worker: each run's cells, calls and tripwires.

    The submissions of one assignment share their cases (one seed), so each call
    is encoded once per shard and the runs name theirs by index.
    """
    table: dict[tuple, int] = {}
    calls: list[tuple] = []
    encoded = []
    for cells, run_calls, forbidden in runs:
        indices = []
        for c in run_calls:
            key = (c.problem, c.case, id(c.args), c.timeout, tuple(sorted(c.kwargs)))
            if key not in table:
                table[key] = len(calls)
                calls.append((c.problem, c.case, tuple(c.args), dict(c.kwargs), c.timeout))
            indices.append(table[key])
        encoded.append({"cells": [(c.number, c.source) for c in cells], "calls": indices,
                        "forbidden": list(forbidden)})
    return wire.encode({"calls": calls, "runs": encoded}, max_bytes=MAX_BYTES,
                       allow_functions=True, name="a shard")


def decode_shard(data: bytes) -> list[tuple[list[Cell], list[Call], list[str]]]:
    """The inverse of `encode_shard`, on the Dask worker (the coordinator is trusted)."""
    shard = wire.decode(data, max_bytes=MAX_BYTES, allow_functions=True)
    calls = [Call(problem, case, args, kwargs, timeout)
             for problem, case, args, kwargs, timeout in shard["calls"]]
    return [([Cell(number, source) for number, source in run["cells"]],
             [calls[i] for i in run["calls"]], list(run["forbidden"])) for run in shard["runs"]]


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
