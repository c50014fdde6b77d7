"""Benchmark: where the FFT overtakes im2col + GEMM, and what Winograd does for 3x3 layers.

Run by ``make bench`` (never by the tests)::

    .venv/bin/python bench/fast_conv.py            # kernel 3..31, one thread
    .venv/bin/python bench/fast_conv.py --quick    # fewer repeats: a smoke run

The layer of notebook 08's crossover plot, larger: ``C_in -> C_out`` channels on
an ``S x S`` image with "same" padding, kernel size 3 to 31. For every size it
prints the best-of-n times of ``conv_ref.conv2d`` (im2col + GEMM),
``conv_ref.fft_conv2d`` and, for k = 3, ``conv_ref.winograd_conv2d``, their ratio
FFT / im2col (< 1: the FFT is faster) and the first kernel size from which the
FFT stays faster. The calls take turns and the best of n is kept, so that load
from other processes hits each alike; one BLAS thread by default, since on a
busy machine the multi-threaded figures mostly measure the scheduler.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import conv_ref  # noqa: E402  (the repository root is put on the path above)


def best_of(calls: dict, repeat: int) -> dict[str, float]:
    """Best time of each call, the calls taking turns."""
    best = dict.fromkeys(calls, np.inf)
    for _ in range(repeat):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64, help="image side (default %(default)s)")
    parser.add_argument("--channels", type=int, nargs=2, default=(4, 8), metavar=("IN", "OUT"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="2 repeats instead of 5")
    args = parser.parse_args(argv)
    repeat = 2 if args.quick else 5
    rng = np.random.default_rng(0)
    c_in, c_out = args.channels
    x = rng.standard_normal((1, c_in, args.size, args.size))
    print(f"{c_in} -> {c_out} channels, {args.size}x{args.size}, 'same' padding, "
          f"{args.threads} thread(s), best of {repeat}; load average {os.getloadavg()[0]:.1f}")
    print(f"{'k':>3} {'im2col+GEMM':>12} {'FFT':>10} {'FFT/im2col':>11} {'Winograd':>10}")
    ratios = []
    with threadpool_limits(args.threads):
        for k in range(3, 32, 4):
            w = rng.standard_normal((c_out, c_in, k, k))
            calls = {"gemm": lambda w=w, k=k: conv_ref.conv2d(x, w, padding=k // 2),
                     "fft": lambda w=w, k=k: conv_ref.fft_conv2d(x, w, padding=k // 2)}
            if k == 3:
                calls["winograd"] = lambda w=w: conv_ref.winograd_conv2d(x, w, padding=1)
            t = best_of(calls, repeat)
            ratios.append((k, t["fft"] / t["gemm"]))
            wino = f"{1e3 * t['winograd']:8.2f}ms" if "winograd" in t else f"{'':>10}"
            print(f"{k:3} {1e3 * t['gemm']:10.2f}ms {1e3 * t['fft']:8.2f}ms "
                  f"{ratios[-1][1]:11.2f} {wino}")
    slower = [k for k, r in ratios if r >= 1]
    later = [k for k, _ in ratios if not slower or k > slower[-1]]
    print(f"FFT faster from k = {later[0]} on" if later else "FFT never faster here")


if __name__ == "__main__":
    main()
