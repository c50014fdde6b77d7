"""Cases and known mistakes for 01_conv1d's FIR section: fir_filter.

Worked example: the slides' ``x=[1,2,3,4]`` through the FIR system with
impulse response ``h=[1,0,-1]`` gives the full convolution ``[1,2,2,2,-3,-4]``
(the cross-correlation's valid part ``[-2,-2]``, flipped, sits in the middle).
"""

from __future__ import annotations

import numpy as np

from autograder.cases._core import Case, CaseSet, Mistake, bound, fixed, randn, reference

X_SLIDES, H_SLIDES = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, -1.0])


def fir_filter(cs: CaseSet, rng) -> None:
    cs.example("slides: x=[1,2,3,4], h=[1,0,-1]", (X_SLIDES, H_SLIDES))
    cs.example("impulse in, impulse response out: x=[1,0,0,0], h=[3,2,1]",
               (np.array([1.0, 0.0, 0.0, 0.0]), np.array([3.0, 2.0, 1.0])))
    cs.example("an asymmetric filter longer than the signal", (fixed(71, 3), fixed(72, 5)))
    for i in range(cs.n(2, 6)):
        L, K = int(rng.integers(1, 9)), int(rng.integers(1, 6))
        cs.random(f"random {i + 1}: x of length {L}, h of length {K}",
                  (randn(rng, L), randn(rng, K)))
    cs.edge("one tap: a scaled copy", (randn(rng, 5), np.array([2.5])))
    cs.edge("integer inputs", (np.array([1, -2, 3]), np.array([2, 1])))
    cs.edge("both of length 1", (np.array([3.0]), np.array([-2.0])))


def _wrong(change):
    def fn(case: Case):
        b = bound(case)
        x, h = np.asarray(b["x"], dtype=float), np.asarray(b["h"], dtype=float)
        return change(x, h, reference("fir_filter", (x, h), {}))
    return fn


def _valid(x, h, full):
    return full[len(h) - 1:len(x)] if len(x) >= len(h) else None


def _same(x, h, full):
    return full[:len(x)] if len(h) > 1 else None


def _unflipped(x, h, full):
    return None if np.allclose(h, h[::-1]) else reference("fir_filter", (x, h[::-1]), {})


MISTAKES = {"fir_filter": [
    Mistake("not_flipped", "Your output is the cross-correlation x ⋆ h over the full length: "
            "the kernel is not flipped.",
            "The FIR system computes `y[n] = sum_k h[k] * x[n - k]`: tap `k` multiplies the "
            "input `k` steps in the PAST, so `h` runs backwards over `x`.", _wrong(_unflipped)),
    Mistake("valid_only", "Your output keeps only the positions where `h` fits inside `x` "
            "(the 'valid' part).",
            "The system's output starts as soon as the first input arrives and ends when the "
            "last has left the filter: length `len(x) + len(h) - 1` (x is zero outside).",
            _wrong(_valid), shape=lambda case: (max(len(bound(case)["x"]) - len(bound(case)["h"])
                                                    + 1, 0),)),
    Mistake("cut_to_input_length", "Your output stops after `len(x)` samples.",
            "The last `len(h) - 1` outputs still see the end of x: the full output has "
            "`len(x) + len(h) - 1` samples.", _wrong(_same),
            shape=lambda case: (len(bound(case)["x"]),)),
]}

GENERATORS = {"fir_filter": fir_filter}
