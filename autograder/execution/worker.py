"""The warm worker: runs inside the sandbox and forks one child per submission.

``python -S -m autograder.execution.worker FD`` runs from the folder `autograder.execution.staging`
prepares (NumPy and stand-ins only), imports NumPy once, installs the
tripwires (those of a library not imported yet wait for a child that imports
it), then serves jobs from the grader over the Unix socket FD
(`wire.send_message`):

``config``  limits, user id, forbidden patterns, the layers to use; answered
            by ``ready`` with the layers that work here (`_probe_layers`)
``run``     cells and calls, with two descriptors attached (results pipe,
            output pipe); answered by ``started`` then ``ended`` (wait status)
``kill``    end the running child now

The child confines itself (`autograder.execution.sandbox`), installs the import policy
and the job's own tripwires, executes the cells in one fresh namespace, calls
each graded function, and reports on the results pipe as it goes
(`_Runner`): ``cell``/``cell_done``, ``call``/``call_done`` (with the returned
value, the arguments the call modified, whether it returned a view of one),
``trip`` (a forbidden function was called: sent the moment it happens),
``fatal`` (what ended the process; the grader knows where), ``done``. It
never judges a value. Cells are named by the number the
grader gives them (the notebook's, as a student counts), in messages and in
tracebacks (``File "<cell 12>"``). After the
child ends, the worker kills whatever it left running and wipes the scratch
directory and removes the SysV IPC objects and POSIX shared memory it made,
so the next submission starts from the same state.
"""

from __future__ import annotations

import builtins
import hashlib
import inspect
import linecache
import os
import select
import signal
import socket
import stat
import sys
import tempfile
import threading
import time
import traceback
from typing import Any

import numpy as np

from autograder.execution import import_policy, sandbox, seccomp, tripwires, wire
from autograder.execution.outcome import FunctionSpec

# Imported before the first fork so that no submission pays for them: NumPy, the one library
# graded code may use, what the worker itself needs, and the notebooks' setup imports. Under
# bubblewrap Matplotlib and convplot are the harmless stand-ins of
# `autograder.execution.staging`; not PyTorch, SciPy or conv_ref, which graded code may not
# import (`autograder.execution.import_policy`).
WARM_MODULES = ("numpy", "autograder.execution.functions", "matplotlib.pyplot", "convplot")
# Tripwires that depend on the assignment, planned once in the worker and installed by the
# children whose job names them: planning walks every module, and in a child that would copy
# the pages of the whole warm heap (reference counts), 40 ms a submission.
_JOB_PLANS: dict[tuple[str, ...], tripwires.Plan] = {}
# The worker's modules when it became ready, for the children's import policy (the same reason).
_LOADED: tuple = ()
# What a frame's meta may take at most; the rest of the budget is for values.
_META_BYTES = 1 << 20
# The real os._exit: the child replaces os._exit to report a student's call.
_exit = os._exit


class CallTimeout(BaseException):  # noqa: N818 - an event, like KeyboardInterrupt
    """Raised in the student's function by SIGALRM when its time is up."""


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def _student_traceback(exc: BaseException) -> str:
    """The traceback of `exc` with only the student's frames (files named ``<cell N>``)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell ")]
    last = [f"{type(exc).__name__}: {_message(exc)}\n"]
    head = ["Traceback (most recent call last):\n"] if frames else []
    return "".join(head + traceback.format_list(frames) + last)


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a student's __str__ may itself raise
        return "<unprintable>"


def _arrays(value: Any, where: str, depth: int = 0):
    """(where, array) for every ndarray in plain containers, e.g. ``("x[1]", a)``."""
    if isinstance(value, np.ndarray):
        yield where, value
    elif depth < wire.MAX_DEPTH and type(value) in (list, tuple):
        for i, v in enumerate(value):
            yield from _arrays(v, f"{where}[{i}]", depth + 1)
    elif depth < wire.MAX_DEPTH and type(value) is dict:
        for k, v in value.items():
            yield from _arrays(v, f"{where}[{k!r}]", depth + 1)


def _digest(a: np.ndarray, blake2b=hashlib.blake2b) -> bytes:
    # Bound at import: a student who rebinds hashlib's names changes nothing here.
    h = blake2b(f"{a.dtype.str}{a.shape}".encode(), digest_size=16)
    h.update(a.tobytes())
    return h.digest()


def _argument_names(fn: Any, args: tuple, kwargs: dict) -> list[str]:
    """How messages name each argument: the parameter's name, else ``arg 0`` / the keyword."""
    names = [f"arg {i}" for i in range(len(args))] + list(kwargs)
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except (TypeError, ValueError):  # no signature, or arguments it does not take
        return names
    params = list(bound.signature.parameters.values())
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                       p.POSITIONAL_OR_KEYWORD)]
    for i in range(min(len(args), len(positional))):
        names[i] = positional[i]
    return names


class _Inputs:
    """Fingerprints of a call's input arrays, to tell afterwards which ones the call changed."""

    def __init__(self, fn: Any, args: tuple, kwargs: dict):
        names = _argument_names(fn, args, kwargs)
        values = list(args) + list(kwargs.values())
        self.arrays = [(where, a) for name, v in zip(names, values, strict=True)
                       for where, a in _arrays(v, name)]
        self.digests = [_digest(a) for _, a in self.arrays]

    def mutated(self) -> list[str]:
        """The inputs whose contents, shape or dtype changed, e.g. ``["x"]``."""
        changed = [where for (where, a), d in zip(self.arrays, self.digests, strict=True)
                   if _digest(a) != d]
        return list(dict.fromkeys(changed))

    def viewed_by(self, result: Any, may_share=np.may_share_memory) -> bool:
        """Whether an array in `result` shares memory with an input array."""
        try:
            out = [a for _, a in _arrays(result, "result")]
            # Bounds only: the inputs are fresh arrays, so any overlap comes from one of them.
            return any(may_share(r, a) for r in out for _, a in self.arrays)
        except Exception:  # a student's ndarray subclass may refuse
            return False


def _rebuild(value: Any) -> Any:
    """Turn every `FunctionSpec` in a call's arguments into its NumPy function."""
    if isinstance(value, FunctionSpec):
        from autograder.execution.functions import build_function

        return build_function(value)
    if isinstance(value, list | tuple):
        return type(value)(_rebuild(v) for v in value)
    if isinstance(value, dict):
        return {k: _rebuild(v) for k, v in value.items()}
    return value


class _Runner:
    """Executes one submission inside the child and reports on the results pipe."""

    def __init__(self, fd: int, limits: sandbox.Limits):
        self.fd = fd
        self.limits = limits
        self.budget = limits.result_bytes
        self.pid = os.getpid()
        self.timer_armed = False
        # Whole frames only, also when a student's thread trips while the main thread writes.
        self.lock = threading.RLock()

    def send(self, meta: dict, value: bytes = b"") -> None:
        if os.getpid() != self.pid:
            # A copy made by the student's os.fork() must never speak for the submission.
            _exit(0)
        data = wire.frame(wire.encode(meta, max_bytes=_META_BYTES), value)
        with self.lock:
            self.budget -= len(data)
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view):]

    def trip(self, name: str) -> None:
        """Tell the grader at once that forbidden function `name` was called."""
        self.send({"ev": "trip", "name": str(name)})

    def fatal(self, cause: str) -> None:
        """Report what ends the process, e.g. ``"called sys.exit(3)"``, and end it."""
        self.send({"ev": "fatal", "message": cause})
        _exit(0)

    def _fatal_for(self, exc: BaseException) -> None:
        """End the run for the exceptions that mean the process should stop."""
        if isinstance(exc, SystemExit):
            code = "" if exc.code is None else repr(exc.code)
            self.fatal(f"called sys.exit({code})")
        if isinstance(exc, KeyboardInterrupt):
            self.fatal("raised KeyboardInterrupt")
        if isinstance(exc, MemoryError):
            self.fatal(f"exceeded the memory limit of {_gib(self.limits.memory_bytes)}")

    def patched_exit(self, status: int = 0) -> None:
        self.fatal(f"called os._exit({status})")

    def on_alarm(self, signum, frame) -> None:
        if self.timer_armed:
            self.timer_armed = False
            raise CallTimeout

    def run(self, cells: list, calls: list, forbidden: list | tuple = ()) -> None:
        """Run the cells, then the calls; `forbidden`: the job's own tripwire patterns."""
        # NumPy's own callers keep these (`tripwires.STRIDE_TRICKS`); resolved here, in the
        # child, since they differ from one assignment to the next.
        if forbidden:
            job_plan = _JOB_PLANS.get(tuple(forbidden))
            (job_plan or tripwires.plan(forbidden, numpy_may_call=True)).install()
        tripwires.set_reporter(self.trip)
        import_policy.install(_LOADED or None)
        namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        for number, source in cells:
            self.send({"ev": "cell", "i": number})
            start = time.perf_counter()
            status, error = self._cell(number, source, namespace)
            self.send({"ev": "cell_done", "i": number, "status": status, "error": error,
                       "seconds": time.perf_counter() - start})
        for k, call in enumerate(calls):
            self.send({"ev": "call", "k": k})
            self._call(k, call, namespace)
        self.send({"ev": "done"})

    def _cell(self, number: int, source: str, namespace: dict) -> tuple[str, str]:
        filename = f"<cell {number}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        tripwires.TRIPPED.clear()
        try:
            exec(compile(source, filename, "exec"), namespace)
            error = ""
        except BaseException as exc:
            self._fatal_for(exc)
            error = _student_traceback(exc)
        if os.getpid() != self.pid:
            _exit(0)
        if tripwires.TRIPPED:
            return "error", f"called {tripwires.TRIPPED[0]}, which graded code may not use\n{error}"
        return ("error" if error else "ok"), error

    def _call(self, k: int, call: dict, namespace: dict) -> None:
        meta = {"ev": "call_done", "k": k, "status": "ok", "exc_type": "", "message": "",
                "traceback": "", "seconds": 0.0, "forbidden_call": "", "mutated": [],
                "returned_view": False}
        fn = namespace.get(call["problem"])
        if fn is None or not callable(fn):
            meta["status"] = "missing"
            meta["message"] = (f"{call['problem']} is not defined" if fn is None else
                               f"{call['problem']} is a {type(fn).__name__}, not a function")
            self.send(meta)
            return
        seconds = call["timeout"] or self.limits.call_seconds
        value = b""
        args, kwargs = _rebuild(call["args"]), _rebuild(call["kwargs"])
        inputs = _Inputs(fn, args, kwargs)
        result = None
        tripwires.TRIPPED.clear()
        start = time.perf_counter()
        try:
            self.timer_armed = True
            signal.setitimer(signal.ITIMER_REAL, seconds)
            result = fn(*args, **kwargs)
            # Encoding may run the student's code too (__iter__, __float__...): keep the timer.
            value = wire.encode(result, max_bytes=max(0, self.budget - _META_BYTES),
                                name="the return value")
        except wire.WireError as exc:
            meta["status"] = "invalid_output"
            meta["message"] = str(exc).removeprefix("wire.encode: ")
        except CallTimeout:
            meta["status"] = "timeout"
            meta["message"] = f"ran longer than {seconds:g} s"
        except BaseException as exc:
            self._fatal_for(exc)
            meta["status"] = "not_implemented" if isinstance(exc, NotImplementedError) else "raised"
            meta["exc_type"] = type(exc).__name__
            meta["message"] = _message(exc)
            meta["traceback"] = _student_traceback(exc)
        finally:
            self.timer_armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
        meta["seconds"] = time.perf_counter() - start
        if os.getpid() != self.pid:
            _exit(0)
        meta["mutated"] = inputs.mutated()
        meta["returned_view"] = meta["status"] == "ok" and inputs.viewed_by(result)
        if tripwires.TRIPPED:
            meta.update(status="forbidden", forbidden_call=tripwires.TRIPPED[0],
                        message=f"called {tripwires.TRIPPED[0]}, which graded code may not use")
            value = b""
        self.send(meta, value if meta["status"] == "ok" else b"")


def _confine(cfg: dict) -> sandbox.Limits:
    """The child's own layers, in order: the ones `_probe_layers` found to work here."""
    limits = sandbox.Limits(**cfg["limits"])
    if cfg["unshare_net"]:
        sandbox.unshare_network()
    if cfg["rlimits"]:
        sandbox.apply_limits(limits, cfg["uid"])
    if cfg["drop"]:
        sandbox.drop_privileges(cfg["uid"], cfg["keep_read_search"])
    if cfg["nnp"]:
        sandbox.no_new_privs()
    if cfg["seccomp"]:
        # Last: it refuses the calls the layers above need. No signal may reach the worker
        # (this process's parent), its process group, or the sandbox's first process.
        worker = os.getppid()
        seccomp.install(protect=(worker, os.getpgid(worker), 1))
    return limits


def _child(cfg: dict, job: dict, res_fd: int, out_fd: int, setup_fd: int) -> None:
    """Confine this freshly forked process, then run the submission. Never returns.

    `setup_fd` hears ``ok`` once the process is confined, or why it could not
    be, and is closed before any student code runs: a failure there is the
    grader's, never the student's.
    """
    os.setsid()  # its own process group, so a timeout can kill all of it at once
    sandbox.die_with_parent()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    # Keep only stdio, the results pipe and the setup pipe: not the worker's control socket.
    low, high = sorted((res_fd, setup_fd))
    os.closerange(3, low)
    os.closerange(low + 1, high)
    os.closerange(high + 1, os.sysconf("SC_OPEN_MAX"))
    try:
        limits = _confine(cfg)
    except BaseException as exc:
        os.write(setup_fd, f"{type(exc).__name__}: {exc}".encode()[:2000])
        _exit(70)
    os.write(setup_fd, b"ok")
    os.close(setup_fd)
    scratch = cfg["scratch"]
    os.chdir(scratch)
    os.environ.update(HOME=scratch, TMPDIR=scratch, MPLCONFIGDIR=scratch)
    tempfile.tempdir = scratch
    sys.dont_write_bytecode = True
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    runner = _Runner(res_fd, limits)
    signal.signal(signal.SIGALRM, runner.on_alarm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os._exit = runner.patched_exit
    runner.run(job["cells"], job["calls"], job.get("forbidden", ()))
    sys.stdout.flush()
    sys.stderr.flush()
    _exit(0)


def _read_all(fd: int) -> bytes:
    data = b""
    while chunk := os.read(fd, 4096):
        data += chunk
    os.close(fd)
    return data


def _run_job(sock: socket.socket, cfg: dict, job: dict, fds: list[int]) -> None:
    res_fd, out_fd = fds
    ipc_before, shm_before = sandbox.ipc_objects(), sandbox.shm_files()
    setup_r, setup_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(setup_r)
            _child(cfg, job, res_fd, out_fd, setup_w)
        except BaseException:
            traceback.print_exc()
        finally:
            _exit(70)
    os.close(res_fd)
    os.close(out_fd)
    os.close(setup_w)
    pidfd = os.pidfd_open(pid)
    wire.send_message(sock, {"op": "started"})
    killed = host_gone = False
    while not host_gone:
        ready, _, _ = select.select([sock, pidfd], [], [])
        if pidfd in ready:
            break
        msg = wire.recv_message(sock)
        host_gone = msg is None
        if host_gone or msg[0].get("op") == "kill":
            killed = True
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:  # it had already moved to another group, or ended
                os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(pidfd)
    sandbox.kill_descendants()
    if cfg["drop"]:
        sandbox.kill_uid(cfg["uid"])  # what left this worker's tree: nothing may outlive the run
    # Nothing of this submission may reach the next: files, SysV IPC, POSIX shared memory.
    sandbox.wipe(cfg["scratch"])
    # Its mode and owner too: a child that runs as the worker's own user may have changed them.
    mode, owner, group = cfg["scratch_stat"]
    os.chown(cfg["scratch"], owner, group)
    os.chmod(cfg["scratch"], mode)
    sandbox.sweep_ipc(cfg["uid"], ipc_before)
    sandbox.sweep_shm_files(cfg["uid"], shm_before)
    setup = _read_all(setup_r).decode(errors="replace")
    if not host_gone:
        wire.send_message(sock, {"op": "ended", "status": status, "killed": killed,
                                 "setup_error": "" if setup == "ok" else
                                 setup or "the process ended before confining itself"})


def _trial(cfg: dict) -> str:
    """Fork a child that confines itself as a submission would; "" or why it could not."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            _confine(cfg)
            os.write(w, b"ok")
        except BaseException as exc:
            os.write(w, f"{type(exc).__name__}: {exc}".encode()[:2000])
        _exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    answer = _read_all(r).decode(errors="replace")
    return "" if answer == "ok" else answer or "the trial process died"


def _probe_layers(cfg: dict) -> dict[str, str]:
    """Turn off each of the child's layers that cannot work here; what failed, and why.

    Each layer is tried alone in a forked child (a network namespace without
    bubblewrap, resource limits, the user id of its own, ``no_new_privs``);
    the ones that fail are left out of every submission's confinement, and
    the grader records the level reached.
    """
    failed = {}
    off = {"unshare_net": False, "rlimits": False, "drop": False, "nnp": False,
           "seccomp": False}
    for layer in ("unshare_net", "rlimits", "drop", "nnp", "seccomp"):
        if cfg[layer]:
            trial = {**cfg, **off, layer: True}
            if layer == "seccomp":  # installed after no_new_privs, probed just before it
                trial["nnp"] = cfg["nnp"]
            why = _trial(trial)
            if why:
                cfg[layer] = False
                failed[layer] = why
    if not cfg["drop"]:
        cfg["uid"] = os.getuid()  # the process limit counts the user it runs as
    return failed


class _InstallAfter:
    """A module loader that runs the real one, then installs the tripwires of `patterns`."""

    def __init__(self, loader: Any, patterns: list[str], pending: dict[str, list[str]]):
        self._loader, self._patterns, self._pending = loader, patterns, pending

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        # Before the importing code gets the package back, so it never sees the originals.
        tripwires.plan(self._patterns).install()
        # Only now: an import cut short (by a time limit) leaves them pending for the next.
        self._pending.pop(module.__name__, None)

    def __getattr__(self, name: str) -> Any:  # get_data, get_source, resource readers...
        return getattr(self._loader, name)


class _TripwiresOnImport:
    """Installs the tripwires of a library the worker did not import, once a submission does.

    First on ``sys.meta_path``: when a package with pending patterns (``scipy``) is
    imported, in whatever way (``import scipy.signal``, ``from scipy import ndimage``, a
    library that uses it), its loader is wrapped by `_InstallAfter`; the tripwires are
    resolved then, as `tripwires.plan` would have in the worker, importing the modules the
    patterns name.
    """

    def __init__(self, pending: dict[str, list[str]]):
        self.pending = pending

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in self.pending:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _InstallAfter(spec.loader, self.pending[name], self.pending)
                return spec
        return None


def _install_tripwires(patterns: list[str]) -> None:
    """Tripwires now for the libraries the worker imported; on import for the others."""
    now: list[str] = []
    later: dict[str, list[str]] = {}
    for pattern in patterns:
        root = pattern.split(".", 1)[0] if isinstance(pattern, str) else ""
        if root.isidentifier() and root not in sys.modules:
            later.setdefault(root, []).append(pattern)
        else:  # including what is not a pattern: `plan` says what is wrong with it
            now.append(pattern)
    # Installed here once rather than in every child: the worker itself never calls them,
    # and each child would otherwise copy the pages of every module it patches.
    tripwires.plan(now).install()
    if later:
        sys.meta_path.insert(0, _TripwiresOnImport(later))


def _prepare_scratch(cfg: dict) -> str:
    if cfg["sandbox"].startswith("bwrap"):
        return sandbox.SCRATCH  # a capped tmpfs of its own inside the sandbox
    return tempfile.mkdtemp(prefix="autograder-scratch-")


def _add_exit_builtins() -> None:
    """``exit()`` and ``quit()``, which ``python -S`` leaves out, as a notebook has them."""
    import _sitebuiltins

    builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")


def serve(sock: socket.socket) -> None:
    """Warm up, read the configuration, then run jobs until the grader closes the socket."""
    import gc
    import importlib

    # Importing creates objects by the million and few cycles: collections during the imports
    # cost about a tenth of the start-up and find little. One collection follows below.
    gc.disable()
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            continue  # optional: a library that is not installed cannot be called either
    _add_exit_builtins()
    msg = wire.recv_message(sock)
    if msg is None:
        return
    cfg = msg[0]
    _install_tripwires(cfg["forbidden"])
    # The course's two sets: nothing allowed yet (01-03), the FFT not yet (04).
    for allowed in ((), ("numpy.lib.stride_tricks",)):
        patterns = tripwires.forbidden_for(allowed)
        _JOB_PLANS[patterns] = tripwires.plan(patterns, numpy_may_call=True)
    global _LOADED
    _LOADED = import_policy.snapshot()
    sandbox.set_subreaper()
    sandbox.set_undumpable()
    cfg["scratch"] = _prepare_scratch(cfg)
    failed = _probe_layers(cfg)
    if cfg["drop"] and not cfg["sandbox"].startswith("bwrap"):
        os.chown(cfg["scratch"], cfg["uid"], cfg["uid"])
    st = os.stat(cfg["scratch"])
    cfg["scratch_stat"] = (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    layers = [name for name in ("unshare_net", "drop", "rlimits", "nnp", "seccomp") if cfg[name]]
    gc.collect()
    gc.freeze()  # keep the warm heap out of the children's collections: fewer copied pages
    gc.enable()  # the children collect their own garbage as usual
    wire.send_message(sock, {"op": "ready", "layers": layers, "failed": failed,
                             "uid": cfg["uid"]})
    wire.send_message(sock, {"op": "ready"})
    try:
        while (msg := wire.recv_message(sock, allow_functions=True)) is not None:
            if msg[0].get("op") == "run":
                _run_job(sock, cfg, msg[0], msg[1])
            else:
                for fd in msg[1]:  # a late "kill" for a child that had already ended
                    os.close(fd)
    finally:
        if not cfg["sandbox"].startswith("bwrap"):
            sandbox.wipe(cfg["scratch"])
            os.rmdir(cfg["scratch"])


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides when workers stop
    serve(socket.socket(fileno=int(sys.argv[1])))
    # Nothing is left to flush or clean up: skip tearing down PyTorch and the rest module by
    # module, which keeps the grader waiting for a tenth of a second or more per worker.
    sys.stderr.flush()
    _exit(0)
