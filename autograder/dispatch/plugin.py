"""The Dask worker's side: one warm sandboxed `WorkerPool` per Dask worker, and the shard task.

`SandboxPlugin` is registered by the coordinator (`client.register_plugin`);
every Dask worker, including one that joins or restarts later, runs its
`setup`, which starts a `WorkerPool` of one sandbox per worker thread: the
heavy start-up (the staged NumPy, the layer probe) happens once per Dask
worker, not once per task. `run_shard` is the task: a shard's runs, as bytes
(`autograder.dispatch.transport`), queued together on that pool.
"""

from __future__ import annotations

import functools
import socket

from distributed import WorkerPlugin, get_worker

from autograder.dispatch import transport
from autograder.execution.pool import SandboxError, WorkerPool
from autograder.execution.sandbox import Limits, resolve_sandbox

PLUGIN_PREFIX = "autograder-sandbox"


@functools.cache
def loaded_version() -> str:
    """The grader's version as this process first found it (`autograder.grade.grader_version`).

    Once per process: a checkout updated under a running Dask worker changes the files, not
    the code the worker has imported, so the worker must keep reporting what it runs.
    """
    from autograder.grade import grader_version

    return grader_version()


class SandboxPlugin(WorkerPlugin):
    """Keeps a warm `WorkerPool` in each Dask worker.

    Parameters
    ----------
    sandbox : {"auto", "bwrap", "none"}
    limits : dict
        `Limits` as plain data (``vars(limits)``).
    name : str
        The plugin's name; `run_shard` finds the pool by it.
    """

    idempotent = True  # registering the same configuration again keeps the warm pools

    def __init__(self, sandbox: str, limits: dict, name: str):
        self.sandbox, self.limits, self.name = sandbox, dict(limits), name
        self.pool: WorkerPool | None = None
        self.version = ""

    def setup(self, worker) -> None:
        self.version = loaded_version()
        # Called on the Dask worker's event-loop thread, which lives as long as the worker:
        # bubblewrap's --die-with-parent follows the thread that spawns it.
        self.pool = WorkerPool(worker.state.nthreads, self.sandbox, Limits(**self.limits))

    def teardown(self, worker) -> None:
        if self.pool is not None:
            self.pool.cancel_all()
            self.pool.close()
            self.pool = None


def run_shard(plugin: str, version: str, shard: bytes) -> dict:
    """Run a shard's runs on this Dask worker's warm pool; their outcomes, in order.

    Returns
    -------
    dict
        ``worker`` (this Dask worker's address), ``isolation`` (the level its
        sandboxes reached) and ``outcomes`` (one `transport.encode_outcome` per run).

    Raises
    ------
    autograder.execution.pool.SandboxError
        No student code can run on this host, or it runs other grader code (a
        worker that joined after the coordinator's checks); the batch stops.
    """
    worker = get_worker()
    hosted = worker.plugins.get(plugin)
    pool = getattr(hosted, "pool", None)
    if pool is None:
        raise SandboxError(f"the Dask worker {worker.address} has no warm sandbox pool "
                           "(its plugin did not start: see that worker's log)")
    if hosted.version != version:
        raise SandboxError(f"the Dask worker {worker.address} runs grader {hosted.version}, "
                           f"the coordinator {version}: install the same checkout on every host")
    futures = [pool.submit(*run) for run in transport.decode_shard(shard)]
    outcomes = [transport.encode_outcome(f.result()) for f in futures]
    return {"worker": worker.address, "isolation": pool.isolation, "outcomes": outcomes}


def describe_host(sandbox: str) -> dict:
    """What the coordinator checks on every Dask worker before a batch: code and sandbox."""
    try:
        mode, error = resolve_sandbox(sandbox), ""
    except ValueError as exc:
        mode, error = "", str(exc)
    return {"host": socket.gethostname(), "version": loaded_version(), "sandbox": mode,
            "error": error}
