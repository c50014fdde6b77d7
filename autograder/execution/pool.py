"""Warm workers that run submissions.

`WorkerPool` keeps one warm worker per core (`autograder.execution.worker`, each in its
own sandbox) and one dispatcher thread per worker. For every submission the
dispatcher hands the worker two fresh pipes (results, output), reads both
while the child runs, enforces the wall-clock limits, and turns what came
back into a `RunOutcome`. Everything read from the child is decoded by
`autograder.execution.wire` and checked here; a worker that dies is replaced.

The workers run from a folder staged outside the course (`autograder.execution.staging`:
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
from pathlib import Path
from typing import Any

from autograder.execution import sandbox, seccomp, staging, wire
from autograder.execution.outcome import Call, FunctionSpec
from autograder.execution.run import Cell, RunOutcome, _Corrupt, _Run
from autograder.execution.sandbox import Limits, resolve_sandbox
from autograder.execution.tripwires import DEFAULT_FORBIDDEN

# How long a worker may take to report after a kill before it is replaced.
KILL_GRACE = 5.0
CANCELLED = "the batch was interrupted"  # the crash of a run Ctrl-C stopped
# Starting the interpreter and NumPy on a very busy machine.
START_SECONDS = 300.0
_REPO = Path(__file__).resolve().parents[2]
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
_DEFAULT_LIMITS = Limits()

log = logging.getLogger("autograder")


# --------------------------------------------------------------------------- one worker


def _worker_env(mode: str, site: Path) -> dict[str, str]:
    """A small environment: nothing of the grader's (tokens, CI secrets) reaches the child.

    The staged `site` (`autograder.execution.staging`) is the worker's whole path besides
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
        # Readable once the pool is cancelled (Ctrl-C): a run under way stops at once,
        # even one that started after `cancel_all` looked at this worker.
        self.cancel_fd: int | None = None
        self.layers: list[str] = []
        self.failed: dict[str, str] = {}
        self.setup_error = ""
        self.spawn()

    def spawn(self) -> None:
        self.sock, theirs = socket.socketpair()
        # -S: no site-packages, only the staged folder (PYTHONPATH); -P: no current directory.
        command = [str(sandbox.interpreter()), "-S", "-P", "-m", "autograder.execution.worker",
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

    def cancelled(self) -> bool:
        return self.cancel_fd is not None and bool(select.select([self.cancel_fd], [], [], 0)[0])

    def run(self, cells: list[Cell], calls: list[Call], job: bytes) -> RunOutcome:
        run = _Run(cells, calls, self.limits)
        if self.cancelled():
            return run.finish(None, "", CANCELLED, False)
        if self.proc is None:
            self.spawn()
        self.wait_ready()
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
            if self.cancel_fd is not None and not (ended or lost):
                watch.append(self.cancel_fd)
            ready, _, _ = select.select(watch, [], [], max(0.0, min(waits) - now))
            if self.cancel_fd in ready:  # Ctrl-C: the caller discards this outcome
                lost, crash = True, CANCELLED
                continue
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
        from autograder.execution.functions import build_function

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
        See `autograder.execution.sandbox.resolve_sandbox`.
    limits : Limits
        Per-submission limits.
    forbidden : sequence of str
        Dotted patterns of functions replaced by tripwires
        (`autograder.execution.tripwires.DEFAULT_FORBIDDEN`).

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
        self._cancel_r, self._cancel_w = os.pipe()  # readable once cancel_all ran
        self._stage = staging.stage(bind_numpy=self.sandbox.startswith("bwrap"))
        self._workers = [_Worker(self.sandbox, limits, forbidden, self._stage)
                         for _ in range(workers)]
        for w in self._workers:
            w.cancel_fd = self._cancel_r
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
        (`autograder.execution.tripwires.forbidden_for` the assignment).

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

    def flush(self) -> None:
        """Nothing held back: every submission is queued as it comes (a cluster's pool shards)."""

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
        for fd in (self._wake_r, self._wake_w, self._cancel_r, self._cancel_w):
            os.close(fd)
        self._cancel_w = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def cancel_all(self) -> None:
        """Stop at once (Ctrl-C): cancel the queued submissions, kill the runs under way.

        The futures of killed runs resolve with a crashed outcome, which the
        caller discards; `close` then returns within seconds.
        """
        if self._cancel_w is not None:  # None once closed: nothing runs any more
            os.write(self._cancel_w, b"x")  # runs under way (or starting) stop at once
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
