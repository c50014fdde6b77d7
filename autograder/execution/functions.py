"""The fixed set of functions that cases may pass as arguments.

`equivariance_gap(f, x, k)` and `numeric_gradient(f, x, h)` take a function.
No code crosses the sandbox boundary, so a case names one of these by a
`FunctionSpec(kind, params)` and both sides rebuild it with `build_function`:
the worker inside the sandbox, and the grader for expected values.

Every function is plain NumPy and deliberately avoids `np.convolve`,
`np.correlate` and `conv_ref`, which are forbidden inside the student's
process and would trip the worker's guard.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autograder.execution.outcome import FunctionSpec


def _circular_conv(w) -> Callable[[np.ndarray], np.ndarray]:
    """``y[i] = sum_j w[j] * x[(i + j - len(w)//2) % n]`` on a 1D `x`."""
    w = np.asarray(w, dtype=float)
    c = len(w) // 2

    def circular_conv(x):
        x = np.asarray(x, dtype=float)
        # np.roll(x, -s)[i] == x[(i + s) % n]
        return sum(w[j] * np.roll(x, -(j - c)) for j in range(len(w)))

    return circular_conv


def _zero_pad_conv(w) -> Callable[[np.ndarray], np.ndarray]:
    """Same-size cross-correlation with ``len(w)//2`` zeros on each side (odd `len(w)`)."""
    w = np.asarray(w, dtype=float)
    c = len(w) // 2

    def zero_pad_conv(x):
        x = np.asarray(x, dtype=float)
        xp = np.concatenate([np.zeros(c), x, np.zeros(len(w) - 1 - c)])
        return sum(w[j] * xp[j : j + len(x)] for j in range(len(w)))

    return zero_pad_conv


def _relu() -> Callable[[np.ndarray], np.ndarray]:
    def relu(x):
        return np.maximum(np.asarray(x, dtype=float), 0.0)

    return relu


def _weighted_square_sum(a) -> Callable[[np.ndarray], float]:
    """``sum(a * x**2)``: gradient ``2 * a * x``."""
    a = np.asarray(a, dtype=float)

    def weighted_square_sum(x):
        return float(np.sum(a * np.asarray(x, dtype=float) ** 2))

    return weighted_square_sum


def _weighted_sin_sum(a) -> Callable[[np.ndarray], float]:
    """``sum(a * sin(x))``: gradient ``a * cos(x)``."""
    a = np.asarray(a, dtype=float)

    def weighted_sin_sum(x):
        return float(np.sum(a * np.sin(np.asarray(x, dtype=float))))

    return weighted_sin_sum


def _conv_square_loss(w) -> Callable[[np.ndarray], float]:
    """``0.5 * sum(zero_pad_conv(w)(x) ** 2)``: a convolution layer's squared-error loss."""
    conv = _zero_pad_conv(w)

    def conv_square_loss(x):
        return float(0.5 * np.sum(conv(x) ** 2))

    return conv_square_loss


REGISTRY: dict[str, Callable[..., Callable]] = {
    "circular_conv": _circular_conv,
    "zero_pad_conv": _zero_pad_conv,
    "relu": _relu,
    "weighted_square_sum": _weighted_square_sum,
    "weighted_sin_sum": _weighted_sin_sum,
    "conv_square_loss": _conv_square_loss,
}


def build_function(spec: FunctionSpec) -> Callable:
    """The callable a `FunctionSpec` names.

    >>> f = build_function(FunctionSpec("weighted_square_sum", {"a": [1.0, 2.0]}))
    >>> f(np.array([3.0, 1.0]))
    11.0
    """
    if not isinstance(spec, FunctionSpec):
        raise TypeError(f"build_function: spec expects a FunctionSpec, got {type(spec).__name__}")
    if spec.kind not in REGISTRY:
        raise ValueError(
            f"build_function: unknown function kind {spec.kind!r}; "
            f"expected one of {', '.join(REGISTRY)}"
        )
    return REGISTRY[spec.kind](**spec.params)
