"""The coordinator's side: grading runs sent to a Dask cluster in shards.

`DaskExecutor` wraps a `distributed.Client`. Before a batch it checks every
Dask worker (same grader code, a sandbox that works there: `sandbox_mode`);
its `pool` is a `DaskPool`, which `autograder.grade.run` uses exactly like the
local `WorkerPool`: ``submit(cells, calls, forbidden)`` gives a future of the
run's `RunOutcome`. The pool groups runs into shards (one Dask task each, to
spread Dask's per-task cost over several notebooks) and sends them as bytes
(`autograder.dispatch.transport`); the Dask workers run them on their warm
pools (`autograder.dispatch.plugin`).

Faults are Dask's to handle: a shard whose worker dies is run again on
another (``distributed.scheduler.allowed-failures`` times), then its runs fail
with `KilledWorker`, which the batch turns into error rows. Each run's future
resolves once, so each submission is recorded once. Everything written
(results, gradebooks, feedback) is written by the coordinator.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import math
import threading
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from autograder.dispatch import transport
from autograder.dispatch.address import parse_cluster, scheduler_address
from autograder.dispatch.plugin import PLUGIN_PREFIX, SandboxPlugin, describe_host, run_shard
from autograder.execution.outcome import Call
from autograder.execution.pool import SandboxError
from autograder.execution.run import Cell
from autograder.execution.sandbox import Limits
from autograder.execution.wire import WireError

# Shards hold at most this many runs, and are small enough for every worker thread to
# get several (a killed worker then loses little, and the batch's tail stays short).
MAX_SHARD = 8
SHARDS_PER_THREAD = 4

log = logging.getLogger("autograder")


class DaskExecutor:
    """Grading on the Dask cluster behind `client`.

    Attributes
    ----------
    client : distributed.Client
    where : str
        How messages name the cluster (its address).
    done_by_worker : Counter
        Runs finished per Dask worker address, for the progress display.
    """

    def __init__(self, client, where: str = ""):
        self.client = client
        self.where = where or str(client.scheduler.address)
        self.done_by_worker: Counter = Counter()
        self.version = ""

    @classmethod
    @contextmanager
    def connect(cls, scheduler: str | None = None,
                cluster: str | None = None) -> Iterator[DaskExecutor]:
        """An executor on the scheduler at `scheduler`, or on a new `LocalCluster` (`cluster`).

        Raises
        ------
        ValueError
            A bad address or cluster spec.
        OSError
            The scheduler cannot be reached, or has no worker.
        """
        from distributed import Client, LocalCluster

        if (scheduler is None) == (cluster is None):
            raise ValueError("DaskExecutor.connect: give a scheduler address or a cluster spec")
        if cluster is not None:
            n = parse_cluster(cluster)
            # One thread per Dask worker: each hosts one warm sandbox per thread.
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                              dashboard_address=None) as local, Client(local) as client:
                yield cls(client, f"a local cluster of {len(client.nthreads())} workers")
            return
        address = scheduler_address(scheduler)
        seconds = connect_seconds()
        try:
            client = Client(address, timeout=seconds)
        except (OSError, TimeoutError) as exc:
            raise OSError(f"could not reach the Dask scheduler at {address} within "
                          f"{seconds:g} s ({exc})") from None
        with client:
            try:
                client.wait_for_workers(1, timeout=seconds)
            except (OSError, TimeoutError):
                raise OSError(f"the Dask scheduler at {address} has no worker after "
                              f"{seconds:g} s: start `dask worker {address}` on each "
                              "grading host") from None
            yield cls(client, address)

    def sandbox_mode(self, sandbox: str) -> str:
        """The sandbox mode every Dask worker resolves `sandbox` to (it is part of the cache key).

        Raises
        ------
        ValueError
            No worker, workers with other grader code, or workers that disagree.
        SandboxError
            The sandbox requested does not work on some host.
        """
        from autograder.grade import grader_version

        self.version = grader_version()  # the code on disk: what this process will record
        hosts = self.client.run(describe_host, sandbox)
        if not hosts:
            raise ValueError(f"the Dask cluster at {self.where} has no worker")
        for address, host in sorted(hosts.items()):
            if host["version"] != self.version:
                raise ValueError(
                    f"the Dask worker {address} ({host['host']}) runs grader {host['version']}, "
                    f"this machine {self.version}: install the same checkout on every host")
            if host["error"]:
                raise SandboxError(f"on the Dask worker {address} ({host['host']}): "
                                   f"{host['error']}")
        modes = {h["sandbox"] for h in hosts.values()}
        if len(modes) > 1:
            by_mode = {m: sorted(a for a, h in hosts.items() if h["sandbox"] == m) for m in modes}
            raise ValueError(f"the Dask workers would run different sandboxes ({by_mode}); "
                             "give every grading host bubblewrap, or pass --sandbox")
        return modes.pop()

    def pool(self, sandbox: str, limits: Limits, workers: int | None = None,
             expected: int | None = None) -> DaskPool:
        """A pool on the cluster's warm sandboxes (`workers` is for local pools only)."""
        return DaskPool(self, sandbox, limits, expected)


class DaskPool:
    """Runs sent to the cluster in shards; the same interface as `WorkerPool`.

    Parameters
    ----------
    executor : DaskExecutor
    sandbox : {"auto", "bwrap", "none"}
    limits : Limits
    expected : int, optional
        How many submissions the batch will run, to size the shards.
    """

    def __init__(self, executor: DaskExecutor, sandbox: str, limits: Limits,
                 expected: int | None = None):
        self.executor, self.client = executor, executor.client
        if not executor.version:
            executor.sandbox_mode(sandbox)
        config = {"sandbox": sandbox, "limits": vars(limits), "version": executor.version}
        digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
        # Named by the grader's version and the configuration: batches alike share the warm
        # pools, and a batch with other limits (another TA's, at the same time) gets its own.
        self._version_tag = hashlib.sha256(executor.version.encode()).hexdigest()[:8]
        self.plugin = f"{PLUGIN_PREFIX}-{self._version_tag}-{digest}"
        self._forget_stale_pools()
        self.client.register_plugin(SandboxPlugin(sandbox, vars(limits), self.plugin),
                                    name=self.plugin)
        threads = max(1, sum(self.client.nthreads().values()))
        self.shard_size = max(1, min(MAX_SHARD, math.ceil((expected or 1)
                                                          / (SHARDS_PER_THREAD * threads))))
        self._isolation = sandbox
        self._buffer: list[tuple[tuple, concurrent.futures.Future]] = []
        self._inflight: set = set()  # Dask forgets a task whose last future is dropped
        self._lock = threading.Lock()
        self._stopping = False

    def _forget_stale_pools(self) -> None:
        """Stop the warm pools of other grader code: no batch can use them any more."""
        ours = f"{PLUGIN_PREFIX}-{self._version_tag}-"
        for name in self.client.run_on_scheduler(_plugin_names):
            if name.startswith(PLUGIN_PREFIX + "-") and not name.startswith(ours):
                self.client.unregister_worker_plugin(name)

    @property
    def isolation(self) -> str:
        """The isolation the last shard reached (each run's future carries its own)."""
        return self._isolation

    def submit(self, cells: list[Cell], calls: list[Call],
               forbidden: Sequence[str] = ()) -> concurrent.futures.Future:
        """Queue one run; the future gives its `RunOutcome` and, once done, ``.isolation``."""
        if self._stopping:
            raise RuntimeError("DaskPool.submit: the pool is closed")
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            self._buffer.append(((list(cells), list(calls), list(forbidden)), future))
            full = len(self._buffer) >= self.shard_size
        if full:
            self.flush()
        return future

    def flush(self) -> None:
        """Send the runs queued so far as one shard."""
        with self._lock:
            shard, self._buffer = self._buffer, []
        if not shard:
            return
        futures = [f for _, f in shard]
        try:
            data = transport.encode_shard([run for run, _ in shard])
        except WireError as exc:  # a run whose inputs are not plain data fails alone
            if len(shard) == 1:
                futures[0].set_exception(exc)
                return
            for item in shard:
                with self._lock:
                    self._buffer.append(item)
                self.flush()
            return
        task = self.client.submit(run_shard, self.plugin, self.executor.version, data,
                                  pure=False, key=f"autograder-shard-{uuid.uuid4().hex}")
        with self._lock:
            self._inflight.add(task)
        task.add_done_callback(lambda t: self._resolve(t, futures))

    def _resolve(self, task, futures: list[concurrent.futures.Future]) -> None:
        """Called in Dask's callback thread once a shard has finished, failed or been cancelled."""
        with self._lock:
            self._inflight.discard(task)
        try:
            shard = task.result()
            outcomes = shard["outcomes"]
            if len(outcomes) != len(futures):
                raise WireError(f"a shard came back with {len(outcomes)} outcomes for "
                                f"{len(futures)} runs")
        except BaseException as exc:
            error = exc
            if task.cancelled() and not self._stopping:  # not ours: the scheduler went away
                error = SandboxError(f"the Dask cluster at {self.executor.where} dropped the "
                                     "batch's tasks (its scheduler stopped or restarted)")
            for f in futures:
                if not f.done():
                    f.set_exception(error)
            return
        self._isolation = shard["isolation"]
        for f, data in zip(futures, outcomes, strict=True):
            if f.done():
                continue
            try:
                run = transport.decode_outcome(data)
            except WireError as exc:
                f.set_exception(exc)
                continue
            f.isolation = shard["isolation"]
            self.executor.done_by_worker[shard["worker"]] += 1
            f.set_result(run)

    def cancel_all(self) -> None:
        """Stop at once (Ctrl-C): cancel what is queued and what the cluster has not finished.

        A shard already running on a Dask worker finishes there within its time limits;
        its outcome is discarded.
        """
        self._stopping = True
        with self._lock:
            shard, self._buffer = self._buffer, []
            tasks = list(self._inflight)
        for _, f in shard:
            f.cancel()
        if tasks:
            self.client.cancel(tasks)

    def close(self) -> None:
        """Stop taking runs; the warm pools stay on the cluster for the next batch."""
        self._stopping = True

    def __enter__(self) -> DaskPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect_seconds() -> float:
    """Dask's own connect timeout (``distributed.comm.timeouts.connect``; the environment
    variable ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT`` sets it): how long to wait for
    the scheduler, then for its first worker."""
    import dask
    from dask.utils import parse_timedelta

    return float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect")))


def _plugin_names(dask_scheduler=None) -> list[str]:
    """The worker plugins the scheduler holds (run on the scheduler)."""
    return list(dask_scheduler.worker_plugins)
