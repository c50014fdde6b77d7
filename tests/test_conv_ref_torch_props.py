"""conv_ref against torch.nn.functional on random argument combinations, valid and invalid.

For each op, hypothesis draws an input and every argument in each form PyTorch
knows (an int, a one-element or full tuple, a list, a NumPy integer, ``()``,
``None``) and in forms it refuses (wrong lengths, out-of-range values, floats,
bools, strings). Both libraries run the same call; either both answer, with
the same shape and values and the dtype of conv_ref's dtype rule (see
``conv_ref._checks``), or both refuse. PyTorch refuses with ``RuntimeError``
(and relatives) where conv_ref raises ``ValueError``, and both raise
``TypeError`` for an argument of the wrong type; conv_ref's message starts
with the function's name.

Integer and bool inputs go to PyTorch as float64 (its integer kernels are
patchy); a select-only op's float64 answer cast to the input dtype is the
expected one, which is also how PyTorch casts a fill value.

Not drawn, as the libraries differ there on purpose: zero input channels for a
convolution (PyTorch returns an array of the wrong shape); bad argument values
with an empty input to a convolution, and dilation 0 in a depthwise one
(PyTorch skips some checks there); NaNs (ties between NaNs); mixed dtypes
(conv_ref promotes like NumPy); a transposed convolution's output of size 0
(PyTorch answers for 2D batched inputs and refuses otherwise); circular
padding wider than what a crop leaves (PyTorch reads uninitialised memory).

Examples per op: 200 by default; ``CONV_REF_TORCH_PROFILE=thorough`` runs 3000.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import conv_ref

settings.register_profile("default", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = settings.get_profile(os.environ.get("CONV_REF_TORCH_PROFILE", "default"))

# Ops that only move or select entries keep the input's dtype; the others compute in float.
SELECT_ONLY = {"pad", "max_pool1d", "max_pool2d", "unfold"}
DTYPES = [np.float64, np.float32, np.int64, np.bool_]
# PyTorch's errors for a bad value; conv_ref raises ValueError for each of them.
TORCH_VALUE_ERRORS = (RuntimeError, ValueError, IndexError, NotImplementedError)


# --- argument forms -----------------------------------------------------------------------

def int_forms(lo: int, hi: int, n: int, *, invalid: bool = True):
    """An int-or-tuple argument in every form: int, tuple of 1 or n, list, NumPy int, and
    (with `invalid`) empty and over-long tuples, a float, a bool, a string."""
    v = st.integers(lo, hi)
    forms = [v, v.map(np.int64), st.tuples(v), st.lists(v, min_size=n, max_size=n).map(tuple),
             st.lists(v, min_size=n, max_size=n)]
    if invalid:
        forms += [st.just(()), st.lists(v, min_size=n + 1, max_size=n + 1).map(tuple),
                  st.just(2.0), st.just(True), st.just("1")]
    return st.one_of(forms)


class Args:
    """Draws one call's arguments: all valid, or (``bad``) each possibly out of range or of
    the wrong form, so that about half the calls are valid whatever the op's arity."""

    def __init__(self, draw):
        self.draw = draw
        self.bad = draw(st.booleans())

    def ints(self, lo: int, hi: int, n: int, bad_lo: int):
        """An int-or-tuple argument with values in [lo, hi] ([bad_lo, hi] when bad)."""
        return self.draw(int_forms(bad_lo if self.bad else lo, hi, n, invalid=self.bad))

    def flag(self):
        """A bool; when bad, sometimes an int, a string or None."""
        return self.draw(st.one_of(st.booleans(), st.booleans(), st.booleans(),
                                   st.sampled_from([0, 1, "yes", None])) if self.bad
                         else st.booleans())

    def pick(self, good, bad):
        """One of `good`, or when bad one of `good` + `bad`."""
        return self.draw(st.sampled_from(list(good) + (list(bad) if self.bad else [])))

    def size(self, lo: int, hi: int, n: int | None = None):
        """A size in [lo, hi] (when bad, 0 too), or a list of `n` of them."""
        sizes = self.draw(st.lists(st.integers(0 if self.bad else lo, hi), min_size=n or 1,
                                   max_size=n or 1))
        return sizes[0] if n is None else sizes


@st.composite
def arrays(draw, shape, dtype=None):
    """An array of `shape`: small integers for integer dtypes, normals for floats."""
    dtype = np.dtype(dtype or draw(st.sampled_from(DTYPES)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        return rng.integers(-4, 5, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def batch_shape(a: Args, channels, spatial):
    """(N, C, *spatial) or (C, *spatial); N may be 0."""
    return a.pick([(), (1,), (2,), (0,)], [])+ (channels,) + tuple(spatial)


# --- calls per op: (args, kwargs) with NumPy arrays -------------------------------------

@st.composite
def conv_calls(draw, nd):
    a = Args(draw)
    groups = a.pick([1, 1, 2, np.int64(1)], [0, 3, True, 1.0])
    g = groups if isinstance(groups, int) and not isinstance(groups, bool) and groups > 0 else 1
    c_in, c_out = g * draw(st.integers(1, 2)), g * draw(st.integers(1, 2))
    kernel = draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd))
    spatial = a.size(5, 7, nd)
    dtype = draw(st.sampled_from(DTYPES))
    x = draw(arrays(batch_shape(a, c_in, spatial), dtype))
    w = draw(arrays((c_out, c_in // g + a.pick([0], [0, 0, 1]), *kernel), dtype))
    kwargs = {"groups": groups}
    bias = a.pick([None, c_out], [c_out + 1])
    if bias is not None:
        kwargs["bias"] = draw(arrays((bias,), dtype))
    if draw(st.booleans()):
        kwargs["stride"] = a.ints(1, 3, nd, 0)
    if draw(st.booleans()):
        kwargs["padding"] = (a.ints(0, 2, nd, -1) if draw(st.integers(0, 3))
                             else a.pick(["same", "valid"], ["full"]))
    if draw(st.booleans()):
        kwargs["dilation"] = a.ints(1, 2, nd, 0)
    return (x, w), kwargs


@st.composite
def conv_transpose_calls(draw, nd):
    a = Args(draw)
    groups = a.pick([1, 1, 2], [0, 3, True])
    g = groups if isinstance(groups, int) and not isinstance(groups, bool) and groups > 0 else 1
    c_in, c_out_per_group = g * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd))
    dtype = draw(st.sampled_from(DTYPES))
    x = draw(arrays(batch_shape(a, c_in, a.size(2, 5, nd)), dtype))
    w = draw(arrays((c_in + a.pick([0], [0, 1]), c_out_per_group, *kernel), dtype))
    kwargs = {"groups": groups}
    bias = a.pick([None, g * c_out_per_group], [g * c_out_per_group + 1])
    if bias is not None:
        kwargs["bias"] = draw(arrays((bias,), dtype))
    stride = a.ints(1, 3, nd, 0)
    dilation = a.ints(1, 2, nd, 0)
    kwargs.update(stride=stride, dilation=dilation, padding=a.ints(0, 1, nd, -1))
    if draw(st.booleans()):
        # Valid output padding is below the stride or the dilation: 0 or 1 here, often.
        kwargs["output_padding"] = a.ints(0, 1 if a.bad or min(np.ravel(stride)) > 1 else 0,
                                          nd, -1)
    if a.bad and draw(st.integers(0, 10)) == 0:
        kwargs["padding"] = "same"
    return (x, w), kwargs


@st.composite
def pool_calls(draw, nd, kind):
    a = Args(draw)
    x = draw(arrays(batch_shape(a, a.size(1, 2), a.size(3, 7, nd)),
                    draw(st.sampled_from(DTYPES if kind == "max" else DTYPES[:3]))))
    kernel = a.ints(2, 4, nd, 0)
    kwargs = {}
    if draw(st.booleans()):
        kwargs["stride"] = draw(st.one_of(st.none(), st.just(()))) if draw(st.booleans()) \
            else a.ints(1, 3, nd, 0)
    if draw(st.booleans()):
        kwargs["padding"] = a.ints(0, 1, nd, -1)
    if kind == "max" and draw(st.booleans()):
        kwargs["dilation"] = a.ints(1, 2, nd, 0)
    if draw(st.booleans()):
        kwargs["ceil_mode"] = a.flag()
    if kind == "max" and draw(st.booleans()):
        kwargs["return_indices"] = draw(st.sampled_from([True, False, 1, 0]))
    if kind == "avg" and draw(st.booleans()):
        kwargs["count_include_pad"] = a.flag()
    if kind == "avg" and nd == 2 and draw(st.booleans()):
        kwargs["divisor_override"] = a.pick([None, 1, 3, -2], [0, 2.0, True])
    return (x, kernel), kwargs


@st.composite
def pad_calls(draw):
    a = Args(draw)
    mode = a.pick(["constant", "constant", "reflect", "replicate", "circular"], ["wrap"])
    d = draw(st.integers(1, 3))
    # Non-constant modes pad d axes of an input with one or two axes more.
    ndim = draw(st.integers(1, 5)) if mode == "constant" or a.bad else d + draw(st.integers(1, 2))
    d = min(d, ndim)
    shape = tuple(a.size(1, 4, ndim))
    x = draw(arrays(shape))
    widths = [draw(st.integers(-2 if a.bad else -(n // 2), 3 if a.bad else max(n - 1, 0)))
              for n in shape[::-1][:d] for _ in range(2)]
    pad = draw(st.sampled_from([tuple, list]))(widths + a.pick([[]], [[1], [1, 1, 1, 1]]))
    if a.bad and draw(st.integers(0, 10)) == 0:
        pad = draw(st.sampled_from([1, (1.0, 1), (True, 0)]))
    kwargs = {"mode": mode}
    if draw(st.booleans()):
        kwargs["value"] = (a.pick([None, 0, 0.0], ["x", 2.0]) if mode != "constant"
                           else draw(st.one_of(st.none(), st.just(True), st.floats(-3, 3),
                                               st.integers(-3, 3))))
    return (x, pad), kwargs


@st.composite
def unfold_calls(draw):
    a = Args(draw)
    ndim = a.pick([3, 4, 4], [2, 5])
    shape = [a.size(1, 2) for _ in range(ndim - 2)] + a.size(3, 6, 2)
    x = draw(arrays(tuple(shape)))
    kwargs = {name: a.ints(good, hi, 2, bad) for name, good, hi, bad in
              [("dilation", 1, 2, 0), ("padding", 0, 1, -1), ("stride", 1, 3, 0)]
              if draw(st.booleans())}
    return (x, a.ints(1, 3, 2, 0)), kwargs


def _blocks(size, k, d, p, s):
    """PyTorch's number of sliding blocks along one axis (may be < 1)."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


@st.composite
def fold_calls(draw):
    a = Args(draw)
    kernel = draw(st.lists(st.integers(1, 3), min_size=2, max_size=2))
    dilation = draw(st.lists(st.integers(1, 2), min_size=2, max_size=2))
    padding = draw(st.lists(st.integers(0, 2), min_size=2, max_size=2))
    stride = draw(st.lists(st.integers(1, 3), min_size=2, max_size=2))
    # Valid output sizes hold the dilated kernel; bad ones may be anything.
    size = [draw(st.integers(0 if a.bad else d * (k - 1) + 1, 7))
            for k, d in zip(kernel, dilation, strict=True)]
    blocks = [_blocks(*v) for v in zip(size, kernel, dilation, padding, stride, strict=True)]
    length = max(blocks[0], 0) * max(blocks[1], 0) + a.pick([0], [0, 1])
    rows = draw(st.integers(1, 2)) * kernel[0] * kernel[1] + a.pick([0], [0, 1])
    x = draw(arrays(a.pick([(), (1,), (2,), (0,)], [(1, 1)]) + (rows, length)))

    def form(values, lo, hi):  # the drawn values in one of their forms, or (bad) anything
        forms = [st.just(tuple(values)), st.just(list(values)),
                 st.just(values[0]) if values[0] == values[1] else st.nothing()]
        return draw(st.one_of(forms + ([int_forms(lo, hi, 2)] if a.bad else [])))
    kwargs = {"dilation": form(dilation, 0, 2), "padding": form(padding, -1, 2),
              "stride": form(stride, 0, 3)}
    return (x, form(size, -1, 6), form(kernel, 0, 3)), kwargs


CALLS = {
    "conv1d": conv_calls(1), "conv2d": conv_calls(2),
    "conv_transpose1d": conv_transpose_calls(1), "conv_transpose2d": conv_transpose_calls(2),
    "max_pool1d": pool_calls(1, "max"), "max_pool2d": pool_calls(2, "max"),
    "avg_pool1d": pool_calls(1, "avg"), "avg_pool2d": pool_calls(2, "avg"),
    "pad": pad_calls(), "unfold": unfold_calls(), "fold": fold_calls(),
}


# --- running both -----------------------------------------------------------------------

def _torch(value):
    """Arrays as tensors: floats keep their dtype, integers and bools go as float64."""
    if isinstance(value, np.ndarray):
        dtype = value.dtype if value.dtype.kind == "f" else np.float64
        return torch.from_numpy(np.ascontiguousarray(value, dtype=dtype))
    return value


def _outcome(call):
    try:
        with warnings.catch_warnings():  # PyTorch's performance hints, e.g. for padding="same"
            warnings.simplefilter("ignore", UserWarning)
            return call(), None
    except Exception as error:  # noqa: BLE001  (any error is an outcome to compare)
        return None, error


def _expected(ref, op, dtype):
    """PyTorch's float answer in conv_ref's dtype rule: cast back for select-only ops."""
    ref = ref.detach().numpy()
    if op in SELECT_ONLY and dtype.kind in "biu":
        return ref.astype(dtype)
    return ref


def _assert_same(ours, ref, op, dtype):
    assert isinstance(ours, np.ndarray), f"{op}: returned {type(ours).__name__}"
    expected = _expected(ref, op, dtype)
    want = dtype if op in SELECT_ONLY or dtype.kind == "f" else np.dtype(np.float64)
    assert ours.shape == expected.shape, f"{op}: shape {ours.shape}, torch {expected.shape}"
    assert ours.dtype == want, f"{op}: dtype {ours.dtype}, expected {want}"
    tol = 1e-4 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(ours.astype(np.float64), expected.astype(np.float64),
                               rtol=tol, atol=tol, err_msg=op)


def check_against_torch(op, args, kwargs) -> str:
    """Run `op` in both libraries and assert the same answer or the same refusal.

    Returns ``"answered"``, ``"refused"`` or ``"excluded"`` (a documented difference).
    """
    dtype = args[0].dtype
    ours, our_error = _outcome(lambda: getattr(conv_ref, op)(*args, **kwargs))
    ref, torch_error = _outcome(lambda: getattr(F, op)(*map(_torch, args),
                                                       **{k: _torch(v) for k, v in kwargs.items()}))
    if op.startswith("conv") and ref is not None and our_error is not None and (
            # For an empty input PyTorch's convolutions skip some checks (dilation 0, empty
            # spatial axes), its depthwise kernels skip the dilation check: both answer.
            args[0].size == 0 or "dilation expects" in str(our_error)):
        return "excluded"
    if op.startswith("conv_transpose") and ref is not None and 0 in ref.shape[-int(op[-2]):]:
        return "excluded"  # an output of size 0: PyTorch answers for 2D batched inputs only
    if op == "pad" and ref is not None and "after cropping" in str(our_error):
        return "excluded"  # PyTorch wraps past the cropped axis into uninitialised memory
    if torch_error is not None:
        assert our_error is not None, f"{op}: torch raised {torch_error!r}, conv_ref answered"
        want = TypeError if isinstance(torch_error, TypeError) else ValueError
        assert isinstance(our_error, want), (
            f"{op}: torch raised {torch_error!r}, conv_ref {our_error!r}")
        assert str(our_error).startswith(f"{op}: "), our_error
        return "refused"
    assert our_error is None, f"{op}: conv_ref raised {our_error!r}, torch answered"
    if isinstance(ref, tuple):
        assert isinstance(ours, tuple) and len(ours) == 2, f"{op}: expected (values, indices)"
        _assert_same(ours[0], ref[0], op, dtype)
        assert ours[1].dtype == np.int64
        np.testing.assert_array_equal(ours[1], ref[1].numpy(), err_msg=f"{op} indices")
    else:
        _assert_same(ours, ref, op, dtype)
    return "answered"


def _agreement_test(op):
    @PROFILE
    @given(call=CALLS[op])
    def test(call):
        outcome = check_against_torch(op, *call)
        event(outcome)  # --hypothesis-show-statistics shows the share of each outcome
        assume(outcome != "excluded")

    test.__name__ = f"test_{op}_agrees_with_torch"
    return test


# One test per op, so that each gets its own examples and statistics.
for _op in CALLS:
    globals()[f"test_{_op}_agrees_with_torch"] = _agreement_test(_op)
