"""The grader's side of one run: the cells and calls it sends, what it makes of the replies.

`_Run` follows one submission while its worker runs it (`autograder.execution.pool`
feeds it the bytes of both pipes): every event on the results channel is decoded
by `autograder.execution.wire`, checked against `_META` (`_checked`; anything else is
`_Corrupt`), and placed in order; tripwires, time limits and how the child
ended become the `RunOutcome`, with one `CallOutcome` per `Call`.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from autograder.execution import wire
from autograder.execution.outcome import Call, CallOutcome
from autograder.execution.sandbox import Limits

# The child's own alarm ends a slow call; the grader kills it this much later.
CALL_GRACE = 1.0


@dataclass
class Cell:
    """One notebook cell's Python source, magics already translated.

    Attributes
    ----------
    number : int
        The cell's number as a student counts it in the notebook: 1-based,
        markdown cells included, as `autograder.intake.extract` and `autograder.intake.scan`
        name it. Messages and tracebacks (``File "<cell 12>"``) use it as it is.
    source : str
    """

    number: int
    source: str


@dataclass
class CellRun:
    """What happened to one cell (`Cell.number`): status is "ok", "error" or "timeout"."""

    number: int
    status: str
    error: str = ""
    seconds: float = 0.0


@dataclass
class RunOutcome:
    """One submission's run: cells that started, one `CallOutcome` per call, and verdicts.

    Attributes
    ----------
    cells : list of CellRun
        The cells that started, in order.
    calls : list of CallOutcome
        One per `Call`, in order. The call under way when the run ended gets
        "timeout", "crashed" or "invalid_output" with the reason as message;
        the calls after it were never started and get "not_run", with a message
        that says what stopped the run and where, e.g. ``"the submission ran
        out of time in `corr1d` (case 'slides')"``.
    crashed : str
        Why the process ended early, e.g. ``"called sys.exit(3) in cell 2"``.
    timed_out : str
        The first time limit exceeded, e.g. ``"cell 4 ran longer than 10 s"``
        or ``"`corr1d` (case 'slides') ran longer than 10 s"``.
    stdout : str
        Captured stdout and stderr, truncated to ``Limits.output_bytes``.
    seconds : float
        Wall clock of the run.
    """

    cells: list[CellRun] = field(default_factory=list)
    calls: list[CallOutcome] = field(default_factory=list)
    crashed: str = ""
    timed_out: str = ""
    stdout: str = ""
    seconds: float = 0.0


# --------------------------------------------------------------------------- one run


class _Names(list):
    """A field kind: a list of at most 100 str (`CallOutcome.mutated`)."""


# Each event the child writes, and its fields' kinds. `trip` comes the moment a tripwire fires,
# within the cell or call under way.
_META = {
    "cell": {"i": int},
    "cell_done": {"i": int, "status": str, "error": str, "seconds": float},
    "call": {"k": int},
    "call_done": {"k": int, "status": str, "exc_type": str, "message": str, "traceback": str,
                  "seconds": float, "forbidden_call": str, "mutated": _Names,
                  "returned_view": bool},
    "trip": {"name": str},
    "fatal": {"message": str},
    "done": {},
}
_CHILD_STATUSES = ("ok", "raised", "not_implemented", "missing", "timeout", "forbidden",
                   "invalid_output")


class _Corrupt(Exception):
    """The results channel held something our child code never writes."""


def _forbidden_message(name: str) -> str:
    return f"called {name}, which graded code may not use"


def _checked(meta: Any) -> dict:
    """`meta` if it is one of the `_META` events with exactly its fields; raises _Corrupt."""
    if type(meta) is not dict or type(meta.get("ev")) is not str or meta["ev"] not in _META:
        raise _Corrupt(f"unknown message {meta!r:.100}")
    fields = _META[meta["ev"]]
    if set(meta) != {"ev", *fields}:
        raise _Corrupt(f"message {meta['ev']!r} has fields {sorted(map(str, meta))}"[:300])
    for name, kind in fields.items():
        value = meta[name]
        if kind is float and type(value) is int:
            value = meta[name] = float(value)
        if kind is _Names:
            good = type(value) is list and len(value) <= 100 and \
                all(type(v) is str for v in value)
        else:
            good = type(value) is kind
        if not good:
            raise _Corrupt(f"message {meta['ev']!r}: {name} is {value!r:.60}")
    return meta


class _Run:
    """The grader's view of one submission while it runs: fed frames, gives a RunOutcome."""

    def __init__(self, cells: list[Cell], calls: list[Call], limits: Limits):
        self.cells, self.calls, self.limits = cells, calls, limits
        self.start = time.monotonic()
        self.reader = wire.FrameReader(limits.result_bytes)
        self.out = bytearray()
        self.out_dropped = 0
        self.cell_runs: list[CellRun] = []
        self.outcomes: list[CallOutcome] = []
        self.phase: tuple[str, int, float] | None = None  # ("cell"|"call", position, started)
        self.done = False
        self.fatal = ""
        self.timed_out = ""
        # ("cell"|"call", position) -> the first forbidden function it called. Only ever added
        # to: what the child reports later cannot take a trip back.
        self.trips: dict[tuple[str, int], str] = {}
        self.stray_trip = ""  # a trip between steps: it counts against the next one

    # -- input

    def output(self, chunk: bytes) -> None:
        room = self.limits.output_bytes - len(self.out)
        self.out += chunk[:max(room, 0)]
        self.out_dropped += max(len(chunk) - max(room, 0), 0)

    def results(self, chunk: bytes) -> None:
        """Take bytes from the results pipe; raises _Corrupt, and nothing else."""
        try:
            # One by one: the frames before a bad one count (a `call` just before the junk
            # its call wrote says which call spoilt the channel).
            for meta, value in self.reader.messages(chunk):
                self._event(_checked(wire.decode(meta, max_bytes=1 << 20)), value)
        except _Corrupt:
            raise
        except wire.WireError as e:
            raise _Corrupt(str(e)) from None
        except Exception as e:  # whatever the bytes did to us: the channel is spoilt
            raise _Corrupt(f"{type(e).__name__}: {e}"[:300]) from None

    def _event(self, meta: dict, value: bytes) -> None:
        ev, now = meta["ev"], time.monotonic()
        if self.done or self.fatal:
            raise _Corrupt(f"message {ev!r} after the end of the run")
        expected_cell = len(self.cell_runs)
        if ev == "trip":
            name = meta["name"][:200]
            if self.phase:
                self.trips.setdefault(self.phase[:2], name)
            else:
                self.stray_trip = self.stray_trip or name
            return
        if ev in ("cell", "call") and self.stray_trip:
            position = expected_cell if ev == "cell" else meta["k"]
            self.trips.setdefault((ev, position), self.stray_trip)
            self.stray_trip = ""
        if ev == "cell":
            if self.phase or self.outcomes or expected_cell >= len(self.cells) \
                    or meta["i"] != self.cells[expected_cell].number:
                raise _Corrupt(f"cell {meta['i']} started out of order")
            self.phase = ("cell", expected_cell, now)
        elif ev == "cell_done":
            if not self.phase or self.phase[0] != "cell" or meta["i"] != self.cells[
                    self.phase[1]].number or meta["status"] not in ("ok", "error"):
                raise _Corrupt(f"cell {meta['i']} ended out of order")
            run = CellRun(meta["i"], meta["status"], meta["error"][:20000], meta["seconds"])
            tripped = self.trips.get(self.phase[:2])
            if tripped and not run.error.startswith(_forbidden_message(tripped)):
                run.status, run.error = "error", f"{_forbidden_message(tripped)}\n{run.error}"
            self.cell_runs.append(run)
            self.phase = None
        elif ev == "call":
            if self.phase or meta["k"] != len(self.outcomes) or meta["k"] >= len(self.calls):
                raise _Corrupt(f"call {meta['k']} started out of order")
            self.phase = ("call", meta["k"], now)
        elif ev == "call_done":
            if not self.phase or self.phase[0] != "call" or meta["k"] != self.phase[1] \
                    or meta["status"] not in _CHILD_STATUSES:
                raise _Corrupt(f"call {meta['k']} ended out of order")
            self.outcomes.append(self._outcome(meta, value))
            self.phase = None
        elif ev == "fatal":
            self.fatal = meta["message"][:2000]
        elif self.phase or len(self.outcomes) != len(self.calls):
            raise _Corrupt("message 'done' before the end of the run")
        else:
            self.done = True

    def _forbid_tripped_functions(self) -> None:
        """Every case of a function that tripped on one is forbidden.

        Code that trips once can stop the next trips from being reported (its
        process is its own); what it did on one case it does on every case.
        """
        first: dict[str, tuple[str, str]] = {}
        for (kind, k), name in sorted(self.trips.items()):
            if kind == "call" and k < len(self.outcomes):
                first.setdefault(self.outcomes[k].problem, (name, self.outcomes[k].case))
        for out in self.outcomes:
            if out.problem in first and out.status != "forbidden":
                name, case = first[out.problem]
                out.status, out.forbidden_call, out.value = "forbidden", name, None
                out.returned_view = False
                out.message = f"called {name} in case {case!r}, which graded code may not use"

    def _outcome(self, meta: dict, value: bytes) -> CallOutcome:
        call = self.calls[meta["k"]]
        out = CallOutcome(call.problem, call.case, meta["status"], None, meta["exc_type"][:200],
                          meta["message"][:5000], meta["traceback"][:20000], meta["seconds"],
                          meta["forbidden_call"][:200], [m[:200] for m in meta["mutated"]],
                          meta["returned_view"])
        tripped = self.trips.get(("call", meta["k"]))
        if tripped:  # whatever the child says now
            out.status, out.forbidden_call = "forbidden", tripped
            out.message, out.returned_view = _forbidden_message(tripped), False
        if out.status == "ok":
            try:
                out.value = wire.decode(value, max_bytes=self.limits.result_bytes)
            except Exception as e:  # WireError, or anything a forged blob makes NumPy raise
                out.status, out.message = "invalid_output", str(e).removeprefix("wire.decode: ")
                out.message = out.message[:1000]
        elif out.status == "timeout" and not self.timed_out:
            self.timed_out = f"{_call_name(call)} {out.message}"
        return out

    # -- time

    def _call_seconds(self, k: int) -> float:
        return self.calls[k].timeout or self.limits.call_seconds

    def deadline(self) -> tuple[float, str]:
        """The next wall-clock limit and what exceeding it means."""
        end = self.start + self.limits.submission_seconds
        why = f"the submission ran longer than {self.limits.submission_seconds:g} s"
        if self.phase and self.phase[0] == "cell":
            limit = self.phase[2] + self.limits.cell_seconds
            if limit < end:
                number = self.cells[self.phase[1]].number
                end, why = limit, f"cell {number} ran longer than {self.limits.cell_seconds:g} s"
        elif self.phase:
            call, seconds = self.calls[self.phase[1]], self._call_seconds(self.phase[1])
            limit = self.phase[2] + seconds + CALL_GRACE
            if limit < end:
                end = limit
                why = f"{_call_name(call)} ran longer than {seconds:g} s"
        return end, why

    # -- verdict

    def _step(self) -> str:
        """What is under way: ``cell 12``, or the call as `_call_name` names it; "" between."""
        if self.phase is None:
            return ""
        if self.phase[0] == "cell":
            return f"cell {self.cells[self.phase[1]].number}"
        return _call_name(self.calls[self.phase[1]])

    def _between(self) -> str:
        if self.outcomes:
            return "after the last call" if len(self.outcomes) == len(self.calls) else \
                "between calls"
        return "before running any cell" if not self.cell_runs else "between cells"

    def where(self) -> str:
        """``while running cell 12``, ``while running `f` (case 'a')``, ``between calls``..."""
        return f"while running {self._step()}" if self.phase else self._between()

    def within(self) -> str:
        """``in cell 12``, ``in `corr1d` (case 'slides')``, ``between calls``."""
        return f"in {self._step()}" if self.phase else self._between()

    def finish(self, status: int | None, timeout: str, crash: str,
               corrupt: bool) -> RunOutcome:
        """Compose the outcome once the child has ended.

        Parameters
        ----------
        status : int or None
            The child's wait status; None when the worker was lost.
        timeout, crash : str
            What the grader itself decided (a time limit, a lost worker, a
            corrupt channel); empty when the child ended on its own.
        corrupt : bool
            The results channel was corrupt: the call under way is "invalid_output".
        """
        timed_out = timeout or self.timed_out
        # What the child did, without the place (the place is ours to tell, not the child's).
        cause = self.fatal
        crashed = crash or (f"{self.fatal} {self.within()}" if self.fatal else "")
        if not (timeout or crash or self.fatal) and status is not None:
            if os.WIFSIGNALED(status):
                sig = os.WTERMSIG(status)
                if sig == signal.SIGXCPU:
                    timeout = f"used more than {self.limits.cpu_seconds} s of CPU time " \
                              f"{self.within()}"
                    timed_out = timed_out or timeout
                else:
                    name = (signal.strsignal(sig) or f"signal {sig}").lower()
                    cause = f"killed by signal {sig}, {name}"
                    crashed = f"the process was killed by signal {sig} ({name}) {self.where()}"
            elif not self.done:
                cause = f"exited with code {os.WEXITSTATUS(status)}"
                crashed = f"the process {cause} {self.where()} before finishing"
        reason = timeout or crashed
        if timeout:
            not_run = f"the submission ran out of time {self.within()}"
        elif corrupt:
            not_run = f"the process {crash}"
        elif cause and not crash:
            not_run = f"the process died ({cause}) {self.where()}"
        else:  # the grader lost the worker, or a forged end of the run
            not_run = crashed or "the run ended before this case"
        tripped = self.trips.get(self.phase[:2], "") if self.phase else ""
        if self.phase and self.phase[0] == "cell":
            number = self.cells[self.phase[1]].number
            error = f"{_forbidden_message(tripped)}\n{reason}" if tripped else reason
            self.cell_runs.append(CellRun(number, "timeout" if timeout else "error", error,
                                          time.monotonic() - self.phase[2]))
        elif self.phase:  # the call under way: the only one that ran into the end
            call = self.calls[self.phase[1]]
            verdict = "invalid_output" if corrupt else "timeout" if timeout else "crashed"
            outcome = CallOutcome(call.problem, call.case, verdict, message=reason,
                                  seconds=time.monotonic() - self.phase[2])
            if tripped:  # the forbidden call is the verdict; how the run ended comes after
                outcome.status, outcome.forbidden_call = "forbidden", tripped
                outcome.message = f"{_forbidden_message(tripped)}; then {reason}"
            self.outcomes.append(outcome)
        for call in self.calls[len(self.outcomes):]:
            self.outcomes.append(CallOutcome(call.problem, call.case, "not_run", message=not_run))
        self._forbid_tripped_functions()
        text = self.out.decode("utf-8", errors="replace")
        if self.out_dropped:
            text += f"\n[output truncated: {self.out_dropped} more bytes not shown]\n"
        return RunOutcome(self.cell_runs, self.outcomes, crashed, timed_out, text,
                          time.monotonic() - self.start)


def _call_name(call: Call) -> str:
    """A call as messages name it: the function in backticks, then ``(case 'slides')``."""
    return f"`{call.problem}` (case {call.case!r})"
