"""Warm workers that run submissions, and the grader's side of each run.

`WorkerPool` keeps one warm worker per core (`autograder.worker`, each in its
own sandbox) and one dispatcher thread per worker. For every submission the
dispatcher hands the worker two fresh pipes (results, output), reads both
while the child runs, enforces the wall-clock limits, and turns what came
back into a `RunOutcome`. Everything read from the child is decoded by
`autograder.wire` and checked here; a worker that dies is replaced.

The workers run from a folder staged outside the course (`autograder.staging`:
the worker's modules, NumPy, stand-ins for the notebooks' setup imports). They
start in parallel as soon as the pool is made, each dispatcher waits for its
worker at once rather than at the first submission, and the pool logs when all
of them are ready, with the isolation level they reached (`isolation_level`),
and warns once when it is short of `FULL_ISOLATION`. A worker that cannot
start, or a child that cannot confine itself, raises `SandboxError`: no
student is ever told their code crashed for it.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import queue
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import sandbox, seccomp, staging, wire
from autograder.outcome import Call, CallOutcome, FunctionSpec
from autograder.sandbox import Limits, resolve_sandbox
from autograder.tripwires import DEFAULT_FORBIDDEN

# The child's own alarm ends a slow call; the grader kills it this much later.
CALL_GRACE = 1.0
# How long a worker may take to report after a kill before it is replaced.
KILL_GRACE = 5.0
# Starting the interpreter and NumPy on a very busy machine.
START_SECONDS = 300.0
_REPO = Path(__file__).resolve().parents[1]
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
_DEFAULT_LIMITS = Limits()

log = logging.getLogger("autograder")


@dataclass
class Cell:
    """One notebook cell's Python source, magics already translated.

    Attributes
    ----------
    number : int
        The cell's number as a student counts it in the notebook: 1-based,
        markdown cells included, as `autograder.extract` and `autograder.scan`
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


# --------------------------------------------------------------------------- one worker


def _worker_env(mode: str, site: Path) -> dict[str, str]:
    """A small environment: nothing of the grader's (tokens, CI secrets) reaches the child.

    The staged `site` (`autograder.staging`) is the worker's whole path besides
    the standard library.
    """
    env = {k: os.environ[k] for k in _KEEP_ENV if k in os.environ}
    env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(site),
               HOME=sandbox.SCRATCH if mode.startswith("bwrap") else str(site))
    return env


class SandboxError(RuntimeError):
    """Student code cannot be run here at all: the grader's failure, never a student's."""


# The layers a worker may add on top of bubblewrap, as `isolation_level` names them.
_LAYER_NAMES = {"unshare_net": "netns", "drop": "uid", "rlimits": "rlimits", "nnp": "nnp",
                "seccomp": "seccomp"}


def isolation_level(mode: str, layers: Sequence[str]) -> str:
    """The isolation reached, e.g. ``"bwrap+uid+rlimits+nnp+seccomp"``, ``"none+rlimits"``."""
    return "+".join([mode, *(_LAYER_NAMES[name] for name in layers)])


class _Worker:
    """One warm worker process and the runs it serves."""

    def __init__(self, mode: str, limits: Limits, forbidden: Sequence[str],
                 stage: staging.Stage):
        self.mode, self.limits, self.forbidden = mode, limits, list(forbidden)
        self.stage = stage
        self.proc: subprocess.Popen | None = None
        self.layers: list[str] = []
        self.failed: dict[str, str] = {}
        self.setup_error = ""
        self.spawn()

    def spawn(self) -> None:
        self.sock, theirs = socket.socketpair()
        # -S: no site-packages, only the staged folder (PYTHONPATH); -P: no current directory.
        command = [str(sandbox.interpreter()), "-S", "-P", "-m", "autograder.worker",
                   str(theirs.fileno())]
        self.log = tempfile.TemporaryFile()
        if self.mode.startswith("bwrap"):
            command = sandbox.bwrap_argv(command, [(self.stage.site, self.stage.site),
                                                   *self.stage.binds],
                                         self.limits.scratch_bytes,
                                         userns=self.mode == "bwrap-userns")
        # bwrap --die-with-parent follows the spawning thread, so a pool must be created in
        # a thread that outlives it (normally the main one); replacements are spawned by
        # the dispatcher thread that serves the worker.
        self.proc = subprocess.Popen(
            command, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self.log, env=_worker_env(self.mode, self.stage.site),
            cwd="/", start_new_session=True)
        theirs.close()
        # Inside a user namespace there is only the one user id: the worker finds that out.
        root = os.geteuid() == 0
        # The process id is unique while the worker lives, so is this user id.
        self.uid = sandbox.UID_BASE + self.proc.pid if root else os.getuid()
        config = {
            "op": "config", "sandbox": self.mode, "uid": self.uid, "drop": root,
            "keep_read_search": root and self.mode == "none" and sandbox.needs_read_search(),
            "unshare_net": self.mode == "none", "rlimits": True, "nnp": True,
            "seccomp": seccomp.supported(),
            "limits": vars(self.limits), "forbidden": self.forbidden}
        try:
            wire.send_message(self.sock, config)
        except OSError:  # it died at once: `wait_ready` reports why, from its stderr
            pass
        self.ready = False

    def _failure(self, what: str) -> SandboxError:
        self.log.seek(0)
        tail = self.log.read()[-3000:].decode(errors="replace")
        return SandboxError(f"WorkerPool: the worker {what}; its stderr ends with:\n{tail}")

    def wait_ready(self, timeout: float = START_SECONDS) -> None:
        if self.ready:
            return
        ready, _, _ = select.select([self.sock], [], [], timeout)
        msg = self._receive() if ready else None
        if msg is None or msg.get("op") != "ready":
            failure = self._failure(f"did not start within {START_SECONDS:g} s" if not ready
                                    else "exited while starting")
            self.kill()  # after reading its stderr: kill closes the log
            raise failure
        self.layers = [x for x in msg.get("layers", []) if x in _LAYER_NAMES]
        self.failed = {str(k): str(v) for k, v in dict(msg.get("failed", {})).items()}
        if type(msg.get("uid")) is int:
            self.uid = msg["uid"]
        self.ready = True

    def kill(self) -> None:
        """Kill the worker and everything it started; a later `run` spawns a new one."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        if os.geteuid() == 0 and self.uid != os.getuid():
            sandbox.kill_uid(self.uid)  # children that left the worker's process group
        self.sock.close()
        self.log.close()
        self.proc = None

    def stop(self) -> None:
        """Ask the worker to exit (end of its socket), then make sure it did."""
        if self.proc is None:
            return
        self.sock.shutdown(socket.SHUT_RDWR)
        try:
            self.proc.wait(timeout=KILL_GRACE)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def run(self, cells: list[Cell], calls: list[Call], job: bytes) -> RunOutcome:
        if self.proc is None:
            self.spawn()
        self.wait_ready()
        run = _Run(cells, calls, self.limits)
        res_r, res_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            wire.send_message(self.sock, job, fds=(res_w, out_w))
        except OSError:
            for fd in (res_r, out_r):
                os.close(fd)
            self.kill()
            return run.finish(None, "", "the grading worker was not running", False)
        finally:
            os.close(res_w)
            os.close(out_w)
        self.setup_error = ""
        status, timeout, crash, corrupt = self._watch(run, res_r, out_r)
        if status is None:
            self.kill()
        if self.setup_error:  # no student code ran: the sandbox failed, not the submission
            raise SandboxError(f"the sandbox could not confine a submission: {self.setup_error}")
        return run.finish(status, timeout, crash, corrupt)

    def _watch(self, run: _Run, res_r: int, out_r: int) -> tuple[int | None, str, str, bool]:
        """Read both pipes and the worker until the child has ended and the pipes are drained."""
        status: int | None = None
        ended = lost = corrupt = False
        timeout = crash = ""
        kill_at: float | None = None
        drain_until: float | None = None
        fds = {res_r, out_r}
        while fds or not (ended or lost):
            now = time.monotonic()
            if (ended or lost) and drain_until is None:
                drain_until = now + 2.0  # a leftover writer cannot hold the run open
            if drain_until is not None and now >= drain_until:
                break
            deadline, why = run.deadline()
            if kill_at is None and not (ended or lost) and now >= deadline:
                timeout, kill_at = why, now
                lost = not self._send_kill()
            if kill_at is not None and not (ended or lost) and now >= kill_at + KILL_GRACE:
                lost = True
                crash = crash or "the grading worker did not stop the submission and was replaced"
            waits = [t for t in (drain_until, None if kill_at else deadline,
                                 kill_at + KILL_GRACE if kill_at else None) if t is not None]
            watch = list(fds) + ([self.sock] if not (ended or lost) else [])
            ready, _, _ = select.select(watch, [], [], max(0.0, min(waits) - now))
            for fd in ready:
                if fd is self.sock:
                    msg = self._receive()
                    if msg is None:
                        lost = True
                        crash = crash or f"the grading worker stopped unexpectedly {run.where()}"
                    elif msg.get("op") == "ended" and type(msg.get("status")) is int:
                        ended, status = True, msg["status"]
                        self.setup_error = str(msg.get("setup_error", ""))[:2000]
                    continue
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    fds.discard(fd)
                    os.close(fd)
                elif fd == out_r:
                    run.output(chunk)
                elif not corrupt:
                    try:
                        run.results(chunk)
                    except _Corrupt as e:
                        corrupt = True
                        crash = f"wrote malformed data to the grader's result channel ({e})"
                        if kill_at is None:
                            kill_at = time.monotonic()
                            lost = not self._send_kill()
        for fd in fds:
            os.close(fd)
        return (None if lost else status), timeout, crash, corrupt

    def _send_kill(self) -> bool:
        try:
            wire.send_message(self.sock, {"op": "kill"})
            return True
        except OSError:
            return False

    def _receive(self) -> dict | None:
        try:
            msg = wire.recv_message(self.sock)
        except (OSError, wire.WireError):
            return None
        return msg[0] if msg is not None and isinstance(msg[0], dict) else None


# --------------------------------------------------------------------------- the pool

FULL_ISOLATION = "bwrap+uid+rlimits+nnp+seccomp"
_warned: set[str] = set()


def _warn_once(level: str, failed: dict[str, str]) -> None:
    """Log, once per process and level, what a sandbox short of `FULL_ISOLATION` lacks."""
    if level == FULL_ISOLATION or level in _warned:
        return
    _warned.add(level)
    why = "; ".join(f"{_LAYER_NAMES.get(k, k)}: {v}" for k, v in failed.items())
    log.warning("isolation is %s, short of %s%s", level, FULL_ISOLATION,
                f" ({why})" if why else "")


def _check_functions(value: Any) -> None:
    """Build every FunctionSpec once here, so a bad one fails in `submit`, not in the child."""
    if isinstance(value, FunctionSpec):
        from autograder.functions import build_function

        build_function(value)
    elif isinstance(value, list | tuple):
        for v in value:
            _check_functions(v)
    elif isinstance(value, dict):
        for v in value.values():
            _check_functions(v)


class WorkerPool:
    """Warm, sandboxed workers that run submissions in parallel.

    Parameters
    ----------
    workers : int, optional
        Number of warm workers; default: the number of cores.
    sandbox : {"auto", "bwrap", "none"}
        See `autograder.sandbox.resolve_sandbox`.
    limits : Limits
        Per-submission limits.
    forbidden : sequence of str
        Dotted patterns of functions replaced by tripwires
        (`autograder.tripwires.DEFAULT_FORBIDDEN`).

    Examples
    --------
    >>> with WorkerPool(1) as pool:  # doctest: +SKIP
    ...     out = pool.run([Cell(1, "def f(x):\\n    return 2 * x")], [Call("f", "two", (3,))])
    >>> out.calls[0].value  # doctest: +SKIP
    6
    """

    def __init__(self, workers: int | None = None, sandbox: str = "auto",
                 limits: Limits = _DEFAULT_LIMITS, forbidden: Sequence[str] = DEFAULT_FORBIDDEN):
        if workers is None:
            workers = os.cpu_count() or 1
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise ValueError(f"WorkerPool: workers expects a positive int, got {workers!r}")
        if not isinstance(limits, Limits):
            raise TypeError(f"WorkerPool: limits expects a Limits, got {type(limits).__name__}")
        if isinstance(forbidden, str):
            raise TypeError(f"WorkerPool: forbidden expects a sequence of patterns, "
                            f"got the string {forbidden!r}")
        self.sandbox = resolve_sandbox(sandbox)
        self.limits = limits
        self._jobs: queue.Queue = queue.Queue()
        self._closed = False
        self._started = time.monotonic()
        self._starting, self._start_failed = workers, False
        self._lock = threading.Lock()
        # Readable once the pool closes: ends the dispatchers' wait for their workers.
        self._wake_r, self._wake_w = os.pipe()
        self._stage = staging.stage(bind_numpy=self.sandbox.startswith("bwrap"))
        self._workers = [_Worker(self.sandbox, limits, forbidden, self._stage)
                         for _ in range(workers)]
        self._threads = [threading.Thread(target=self._dispatch, args=(w,), daemon=True,
                                          name=f"worker-{i}")
                         for i, w in enumerate(self._workers)]
        for t in self._threads:
            t.start()

    @property
    def isolation(self) -> str:
        """The isolation level reached, e.g. ``"bwrap+uid+rlimits+nnp+seccomp"``.

        Known once a worker has started (it probes its layers); before, the
        sandbox mode alone.
        """
        ready = [w for w in self._workers if w.ready]
        return isolation_level(self.sandbox, ready[0].layers if ready else [])

    def submit(self, cells: list[Cell], calls: list[Call],
               forbidden: Sequence[str] = ()) -> concurrent.futures.Future:
        """Queue one submission; the future gives its `RunOutcome`.

        `forbidden`: patterns tripwired in this submission only, on top of the
        pool's, which NumPy's own modules may still call
        (`autograder.tripwires.forbidden_for` the assignment).

        Raises
        ------
        TypeError, ValueError
            Cells or calls of the wrong type, inputs that are not plain data.
        RuntimeError
            The pool is closed.
        """
        if self._closed:
            raise RuntimeError("WorkerPool.submit: the pool is closed")
        cells, calls = list(cells), list(calls)
        for c in cells:
            if not isinstance(c, Cell) or not isinstance(c.source, str) \
                    or not isinstance(c.number, int):
                raise TypeError(
                    f"WorkerPool.submit: cells expects Cell(number, source), got {c!r:.80}")
        for c in calls:
            if not isinstance(c, Call):
                raise TypeError(f"WorkerPool.submit: calls expects Call objects, got {c!r:.80}")
            _check_functions((c.args, c.kwargs))
        if isinstance(forbidden, str) or not all(isinstance(p, str) and p for p in forbidden):
            raise TypeError(f"WorkerPool.submit: forbidden expects a sequence of patterns, "
                            f"got {forbidden!r:.80}")
        job = wire.message({
            "op": "run",
            "forbidden": list(forbidden),
            "cells": [(c.number, c.source) for c in cells],
            "calls": [{"problem": c.problem, "case": c.case, "args": tuple(c.args),
                       "kwargs": dict(c.kwargs), "timeout": c.timeout} for c in calls],
        })
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._jobs.put((cells, calls, job, future))
        return future

    def run(self, cells: list[Cell], calls: list[Call],
            forbidden: Sequence[str] = ()) -> RunOutcome:
        """Run one submission and wait for its outcome."""
        return self.submit(cells, calls, forbidden).result()

    def _warm_up(self, worker: _Worker) -> Exception | None:
        """Wait for `worker` to start; log once every worker has. Its failure, if any.

        A pool closed meanwhile stops waiting: the dispatch loop then serves what
        is queued (waiting for the worker as it always does) or stops the worker.
        """
        ready, _, _ = select.select([worker.sock, self._wake_r], [], [], START_SECONDS)
        failure = None
        if worker.sock in ready or self._wake_r not in ready:
            try:
                worker.wait_ready(timeout=0)  # at once: its answer is there, or time is up
            except Exception as e:  # this thread must live on to serve (and fail) the queue
                failure = e
        with self._lock:
            self._starting -= 1
            self._start_failed |= not worker.ready
            if self._starting == 0 and not self._start_failed:
                n = len(self._workers)
                log.info("%d warm worker%s (%s) ready %.1f s after the pool started", n,
                         "s" if n > 1 else "", self.isolation, time.monotonic() - self._started)
                _warn_once(self.isolation, worker.failed)
        return failure

    def _dispatch(self, worker: _Worker) -> None:
        failure = self._warm_up(worker)
        while (item := self._jobs.get()) is not None:
            cells, calls, job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            if failure is not None:  # the next submission reports it; later ones spawn anew
                future.set_exception(failure)
                failure = None
                continue
            try:
                future.set_result(worker.run(cells, calls, job))
            except BaseException as e:
                future.set_exception(e)
        worker.stop()

    def close(self) -> None:
        """Finish queued submissions, then stop every worker."""
        if self._closed:
            return
        self._closed = True
        os.write(self._wake_w, b"x")
        for _ in self._threads:
            self._jobs.put(None)
        for t in self._threads:
            t.join()
        self._stage.cleanup()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def cancel_all(self) -> None:
        """Stop at once (Ctrl-C): cancel the queued submissions, kill the runs under way.

        The futures of killed runs resolve with a crashed outcome, which the
        caller discards; `close` then returns within seconds.
        """
        while True:
            try:
                item = self._jobs.get_nowait()
            except queue.Empty:
                break
            if item is None:  # close() has begun: its stop markers stay queued
                self._jobs.put(None)
                break
            item[3].cancel()
        for worker in self._workers:
            proc = worker.proc
            if proc is not None and proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
