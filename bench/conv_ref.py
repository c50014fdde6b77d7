"""Benchmark: conv_ref.conv2d against torch.nn.functional.conv2d on ResNet-like layers.

Run by ``make bench`` (never by the tests)::

    .venv/bin/python bench/conv_ref.py               # full sizes, about a minute
    .venv/bin/python bench/conv_ref.py --threads 1   # both libraries single-threaded
    .venv/bin/python bench/conv_ref.py --quick       # batch 1, fewer repeats: a smoke run

Both libraries run in this one process with the same number of threads
(``--threads``, by default NumPy's BLAS thread count). For each layer and
dtype it prints the best-of-n times, the ratio conv_ref/torch against its goal,
the fraction of the machine's matmul peak each reaches (the peak measured as a
NumPy matmul of exactly the layer's GEMM: ``(C_out, C_in*kH*kW) @
(C_in*kH*kW, H_out*W_out)`` per sample), and conv_ref's peak extra memory
(tracemalloc) against one im2col buffer of the whole batch plus the output.

Goals: float64 ratio <= 1.0, float32 ratio <= 3.0, memory <= im2col + output.

The calls of the two libraries take turns and the best of n is kept, so that
load from other processes hits both alike; the load average is printed, since
on a busy machine the multi-threaded figures mostly measure the scheduler
(compare with ``--threads 1``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import conv_ref  # noqa: E402  (the repository root is put on the path above)


@dataclass(frozen=True)
class Layer:
    """One convolution layer: NCHW input, OIHW weight, stride and padding."""

    name: str
    n: int
    c_in: int
    c_out: int
    size: int
    kernel: int
    stride: int
    padding: int

    def out_size(self) -> int:
        return conv_ref.conv_output_length(self.size, self.kernel, self.stride, self.padding)


LAYERS = (
    Layer("3x3 64->64 56x56", 8, 64, 64, 56, 3, 1, 1),
    Layer("3x3/2 128->256 28x28", 8, 128, 256, 28, 3, 2, 1),
    Layer("1x1 64->256 56x56", 8, 64, 256, 56, 1, 1, 0),
)


# --clock: wall time, or the CPU time of this process (all its threads), which
# other processes' load does not inflate; with one thread the two agree on a quiet machine.
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def best_times(fns, repeat: int, clock=time.perf_counter) -> list[float]:
    """Best time of each function on `clock` over `repeat` rounds, after one warm-up (seconds).

    The functions take turns within each round, so that load from other
    processes on the machine hits all of them alike.
    """
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeat):
        for fn, spent in zip(fns, times, strict=True):
            start = clock()
            fn()
            spent.append(clock() - start)
    return [min(spent) for spent in times]


def peak_extra_bytes(fn) -> int:
    """Peak memory allocated by NumPy (and Python) during one call of `fn`."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def blas_threads() -> int:
    """Threads of NumPy's BLAS (the first BLAS pool threadpoolctl reports)."""
    for pool in threadpool_info():
        if pool["user_api"] == "blas" and "numpy" in pool["filepath"]:
            return pool["num_threads"]
    return 1


def bench_layer(layer: Layer, dtype, repeat: int, batch: int, clock) -> dict:
    """Times, GEMM fractions and memory of one layer in one dtype."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, layer.c_in, layer.size, layer.size)).astype(dtype)
    w = rng.standard_normal((layer.c_out, layer.c_in, layer.kernel, layer.kernel)).astype(dtype)
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)

    def ours():
        return conv_ref.conv2d(x, w, stride=layer.stride, padding=layer.padding)

    def theirs():
        with torch.no_grad():
            return F.conv2d(xt, wt, stride=layer.stride, padding=layer.padding)

    np.testing.assert_allclose(ours(), theirs().numpy(), rtol=1e-3, atol=1e-3)

    depth, length = layer.c_in * layer.kernel**2, layer.out_size() ** 2
    a = rng.standard_normal((layer.c_out, depth)).astype(dtype)
    b = rng.standard_normal((batch, depth, length)).astype(dtype)
    t_gemm, t_ours, t_torch = best_times([lambda: np.matmul(a, b), ours, theirs], repeat, clock)

    itemsize = np.dtype(dtype).itemsize
    cols_bytes = 0 if layer.kernel == 1 and layer.stride == 1 else batch * depth * length * itemsize
    out_bytes = batch * layer.c_out * length * itemsize
    return {
        "t_ours": t_ours,
        "t_torch": t_torch,
        "t_gemm": t_gemm,
        "gflops": 2 * batch * layer.c_out * depth * length / t_gemm / 1e9,
        "mem": peak_extra_bytes(ours),
        "budget": cols_bytes + out_bytes,
    }


def load_average() -> str:
    """The 1-minute load average and the number of CPUs, e.g. ``"load 3.1 on 2 CPUs"``."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 1 and 2 repeats")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both libraries (default: NumPy's BLAS thread count)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="best of this many rounds (default 7, 2 with --quick)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall time (default) or the process's CPU time: steadier on a "
                             "busy machine, comparable only with --threads 1")
    args = parser.parse_args(argv)
    batch, repeat = (1, 2) if args.quick else (8, 7)
    repeat = args.repeat or repeat
    threads = args.threads or blas_threads()

    torch.set_num_threads(threads)
    print(f"numpy {np.__version__}, torch {torch.__version__}; threads: {threads} "
          f"(NumPy's BLAS and torch); batch {batch}, best of {repeat} ({args.clock} time); "
          f"{load_average()}")
    header = (f"{'layer':<22}{'dtype':<9}{'conv_ref':>10}{'torch':>10}{'ratio':>7}{'goal':>7}"
              f"{'peak GF/s':>11}{'ours%':>7}{'torch%':>7}{'mem MB':>9}{'budget':>9}")
    print(header)
    print("-" * len(header))
    failures = []
    with threadpool_limits(threads, user_api="blas"):
        for layer in LAYERS:
            for dtype, goal in ((np.float64, 1.0), (np.float32, 3.0)):
                r = bench_layer(layer, dtype, repeat, batch, CLOCKS[args.clock])
                ratio = r["t_ours"] / r["t_torch"]
                name = f"{layer.name} {np.dtype(dtype).name}"
                print(f"{layer.name:<22}{np.dtype(dtype).name:<9}"
                      f"{r['t_ours'] * 1e3:>8.1f}ms{r['t_torch'] * 1e3:>8.1f}ms{ratio:>7.2f}"
                      f"{'<=' + format(goal, '.1f'):>7}"
                      f"{r['gflops']:>11.1f}{100 * r['t_gemm'] / r['t_ours']:>6.0f}%"
                      f"{100 * r['t_gemm'] / r['t_torch']:>6.0f}%"
                      f"{r['mem'] / 2**20:>9.1f}{r['budget'] / 2**20:>9.1f}", flush=True)
                if ratio > goal:
                    failures.append(f"{name}: ratio {ratio:.2f} > {goal}")
                if r["mem"] > r["budget"] * 1.01:
                    failures.append(f"{name}: memory {r['mem'] / 2**20:.1f} MB over budget "
                                    f"{r['budget'] / 2**20:.1f} MB")
    print(f"after the run: {load_average()}")
    print("goals met" if not failures else "goals missed:\n  " + "\n  ".join(failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
