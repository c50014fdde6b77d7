"""Case generators: worked examples, determinism, counts, and conv_ref == PyTorch on every case."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import conv_ref
from autograder.cases import PUBLIC_SEED, generate_cases
from autograder.cases.backward import digits_split
from autograder.catalog import PROBLEMS
from autograder.execution.functions import build_function
from autograder.execution.outcome import Call, FunctionSpec

SEED = 12345
NAMES = [p.name for p in PROBLEMS]
QUICK = [n for n in NAMES if n != "train_digits"]
# Self-test questions have one fixed case each (tests/test_questions.py covers them).
FUNCTIONS = [p.name for p in PROBLEMS if not p.question]


def all_cases(name):
    return generate_cases(name, PUBLIC_SEED, public=True) + generate_cases(name, SEED, public=False)


def value_cases(name):
    return [c for c in all_cases(name) if c.kind in ("allclose", "exact")]


def example(name, case_name):
    cases = {c.name: c for c in generate_cases(name, PUBLIC_SEED, public=True)}
    return cases[case_name].expected


# ----------------------------------------------------------------------------- worked examples


def test_worked_examples_have_the_source_numbers():
    assert np.array_equal(example("corr1d", "slides: x=[1,2,3,4], h=[1,0,-1]"), [-2, -2])
    assert np.array_equal(example("conv1d", "slides: x=[[1,2,3,4]], weight=[[[1,0,-1]]]"),
                          [[-2, -2]])
    assert example("conv_output_length", "slides: n=4, k=3") == 2
    assert example("conv_output_length", "2D example: n=4, k=2") == 3
    y = example("conv2d", "worked examples: 4x4x2 input, three 2x2 kernels")
    assert y.shape == (3, 3, 3)
    assert np.array_equal(y[0], [[13, 21, 29], [19, 27, 35], [25, 33, 41]])
    assert np.array_equal(
        example("conv2d", "worked examples: 4x4x2 input, its first two 2x2 kernels"), y[:2])
    assert np.array_equal(example("corr2d", "worked examples: channel A with [[1,0],[0,1]]"),
                          [[7, 15, 23], [9, 17, 25], [11, 19, 27]])
    y = example("conv1x1", "worked examples: weight of shape (3, 2, 1, 1)")
    assert np.array_equal(y[2], [[-9, -18], [-27, -36]])
    assert np.array_equal(y[1], [[10, 20], [30, 40]])
    # blog: [2,3,4], w=[0.5,-1], b=0.25, stride 2, padding 1: [0*w0 + 2*w1 + b, 3*w0 + 4*w1 + b]
    assert np.array_equal(example("conv1d_single", "blog: kernel size 2, stride 2, padding 1"),
                          [2 * -1.0 + 0.25, 3 * 0.5 - 4 + 0.25])
    assert np.array_equal(example("shift", "x=[1,2,3,4], k=1"), [4, 1, 2, 3])
    assert np.allclose(example("circulant_eigenvalues", "slides' kernel h=[1,0,-1], n=4"),
                       [0, -2j, 0, 2j])
    assert example("receptive_field", "7/2, 3/2, then 3 with dilation 2") == (27, 4)
    assert example("equivariance_gap", "circular convolution with [1,0,-1]: gap 0") == 0.0
    assert example("equivariance_gap", "zero-padded convolution with [1,0,-1]: gap > 0") > 0


# ----------------------------------------------------------------------------- the contract


@pytest.mark.parametrize("name", FUNCTIONS)
def test_cases_are_deterministic_and_depend_on_the_seed(name):
    a, b = generate_cases(name, SEED, public=False), generate_cases(name, SEED, public=False)
    assert [c.name for c in a] == [c.name for c in b]
    for x, y in zip(a, b, strict=True):
        assert repr(x.args) == repr(y.args) and repr(x.kwargs) == repr(y.kwargs)
    if name != "train_digits":  # one fixed split, no random cases
        other = generate_cases(name, SEED + 1, public=False)
        assert repr([c.args for c in a]) != repr([c.args for c in other])


@pytest.mark.parametrize("name", FUNCTIONS)
def test_counts_and_public_flags(name):
    public = generate_cases(name, PUBLIC_SEED, public=True)
    official = generate_cases(name, SEED, public=False)
    assert public and all(c.public for c in public)
    assert len({c.name for c in official}) == len(official)
    if name != "train_digits":
        assert 8 <= len(official) <= 28, len(official)  # small enough to grade a class fast
        assert len(public) < len(official)
        assert any(not c.public for c in official)
    # the worked examples are graded too
    examples = {c.name for c in public if not c.name.startswith("random")}
    assert examples <= {c.name for c in official}


@pytest.mark.parametrize("name", ["conv1d", "conv2d"])
@pytest.mark.parametrize("seed", [PUBLIC_SEED, SEED, 11, 2024])
def test_the_first_case_with_several_channels_has_as_many_in_as_out(name, seed):
    """A weight read as (C_in, C_out, ...) can be named there: it gives wrong values."""
    cases = generate_cases(name, seed, public=seed == PUBLIC_SEED)
    shapes = [np.shape(c.args[1]) for c in cases if c.kind == "allclose"]
    first = next(s for s in shapes if s[:2] != (1, 1))
    assert first[0] == first[1] >= 2, first


@pytest.mark.parametrize("name", [p.name for p in PROBLEMS if p.checks_errors])
def test_error_cases_make_the_reference_raise(name):
    errors = [c for c in all_cases(name) if c.kind == "raises"]
    assert len(errors) >= 3
    assert any(c.public for c in generate_cases(name, PUBLIC_SEED, public=True)
               if c.kind == "raises")
    for case in errors:
        args, kwargs = case.materialize()
        with pytest.raises(ValueError, match=name):
            getattr(conv_ref, name)(*args, **kwargs)


def test_call_carries_inputs_but_never_the_answer():
    case = generate_cases("conv1d", PUBLIC_SEED, public=True)[0]
    call = case.call()
    assert isinstance(call, Call)
    assert (call.problem, call.case) == ("conv1d", case.name)
    assert not hasattr(call, "expected")
    assert all(a is None or a is case.args[i] for i, a in enumerate(call.args))


def test_materialize_copies_and_builds_functions():
    case = generate_cases("equivariance_gap", PUBLIC_SEED, public=True)[0]
    (f, x), _ = case.materialize()
    assert callable(f) and not isinstance(f, FunctionSpec)
    x[:] = 0
    assert case.args[1].any()


def test_generate_cases_rejects_bad_arguments():
    with pytest.raises(ValueError, match="generate_cases: seed expects a non-negative int, got -1"):
        generate_cases("conv1d", -1, public=True)
    with pytest.raises(ValueError, match="no graded function named 'conv3d'"):
        generate_cases("conv3d", 0, public=True)


def test_digits_split_is_scikit_learns_digits():
    from sklearn.datasets import load_digits

    X_train, y_train, X_test, y_test = digits_split()
    digits = load_digits()
    assert X_train.shape == (1347, 1, 8, 8) and X_test.shape == (450, 1, 8, 8)
    assert 0.0 <= X_train.min() and X_train.max() == 1.0
    # every image of the split is a digits image with its label
    both = np.concatenate([X_train, X_test])[:, 0] * 16
    assert np.array_equal(np.sort(both.reshape(len(both), -1), axis=0),
                          np.sort(digits.images.reshape(len(both), -1), axis=0))
    assert np.array_equal(np.bincount(np.concatenate([y_train, y_test])),
                          np.bincount(digits.target))
    assert np.bincount(y_test).min() >= 40  # stratified: every class in the test set


# ----------------------------------------------------------------------------- conv_ref == PyTorch


def t(a):
    if a is None or isinstance(a, torch.Tensor):
        return a
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def _torch_conv2d(x, weight, bias=None, stride=1, padding=0, padding_mode="zeros"):
    """torch.nn.Conv2d, the layer that has padding_mode."""
    weight = t(weight)
    layer = torch.nn.Conv2d(weight.shape[1], weight.shape[0], weight.shape[2:], stride, padding,
                            bias=bias is not None, padding_mode=padding_mode, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(weight)
        if bias is not None:
            layer.bias.copy_(t(bias))
        return layer(t(x))


def _batched(fn, x, *rest, spatial):
    """Run a torch op that wants a batch axis on a possibly unbatched input."""
    x = t(x)
    unbatched = x.ndim == spatial + 1
    y = fn(x[None] if unbatched else x, *rest)
    return y[0] if unbatched else y


def _pad2d(x, padding, mode="zeros"):
    if isinstance(padding, int):
        sides = (padding,) * 4
    elif len(padding) == 2:
        sides = (padding[1], padding[1], padding[0], padding[0])
    else:
        sides = tuple(padding)
    x = t(x)
    lead = x.shape[:-2]
    flat = x.reshape(-1, 1, *x.shape[-2:])
    mode = {"zeros": "constant"}.get(mode, mode)
    return F.pad(flat, sides, mode=mode).reshape(*lead, *F.pad(flat, sides, mode=mode).shape[-2:])


def _backward(dout, x, weight, stride=1, padding=0):
    xt, wt = t(x).requires_grad_(), t(weight).requires_grad_()
    bt = torch.zeros(wt.shape[0], dtype=torch.float64, requires_grad=True)
    y = _batched(lambda a, w, b: F.conv2d(a, w, b, stride, padding), xt, wt, bt, spatial=2)
    y.backward(t(dout))
    return xt.grad, wt.grad, bt.grad


TORCH = {
    "corr1d": lambda x, h: F.conv1d(t(x)[None, None], t(h)[None, None])[0, 0],
    "conv1d_single": lambda x, h, bias=0.0, stride=1, padding=0: F.conv1d(
        t(x)[None, None], t(h)[None, None], t([bias]), stride, padding)[0, 0],
    "conv1d": lambda x, weight, bias=None, stride=1, padding=0: F.conv1d(
        t(x), t(weight), t(bias), stride, padding),
    "corr2d": lambda X, K: F.conv2d(t(X)[None, None], t(K)[None, None])[0, 0],
    "pad2d": _pad2d,
    "conv2d": _torch_conv2d,
    "conv1x1": lambda x, weight, bias=None: F.conv2d(
        t(x), t(np.asarray(weight).reshape(*np.shape(weight)[:2], 1, 1)), t(bias)),
    "im2col": lambda x, kernel_size, stride=1, padding=0, dilation=1: _batched(
        lambda a: F.unfold(a, kernel_size, dilation, padding, stride), x, spatial=2),
    "conv2d_im2col": lambda x, weight, bias=None, stride=1, padding=0: F.conv2d(
        t(x), t(weight), t(bias), stride, padding),
    "conv2d_general": lambda x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1:
        F.conv2d(t(x), t(weight), t(bias), stride, padding, dilation, groups),
    "conv_transpose1d": lambda x, weight, stride=1, padding=0: F.conv_transpose1d(
        t(x), t(weight), None, stride, padding),
    "conv_transpose2d": lambda x, weight, bias=None, stride=1, padding=0: F.conv_transpose2d(
        t(x), t(weight), t(bias), stride, padding),
    "max_pool2d": lambda x, kernel_size, stride=None, padding=0: F.max_pool2d(
        t(x), kernel_size, stride, padding),
    "avg_pool2d": lambda x, kernel_size, stride=None, padding=0: F.avg_pool2d(
        t(x), kernel_size, stride, padding, count_include_pad=True),
    "circular_conv1d": lambda x, w: _batched(lambda a: F.conv1d(
        F.pad(a[:, None] if a.ndim == 2 else a, (len(w) // 2, len(w) // 2), mode="circular"),
        t(w)[None, None])[:, 0], x, spatial=0) if len(w) % 2 and len(w) // 2 <= np.shape(x)[-1]
        else None,
    "conv2d_backward": _backward,
    "depthwise_separable_conv2d": lambda x, depthwise, pointwise, stride=1, padding=0: F.conv2d(
        F.conv2d(t(x), t(depthwise), None, stride, padding, groups=np.shape(depthwise)[0]),
        t(pointwise)),
    "dilate_kernel": lambda w, dilation: None,  # checked below through conv2d's dilation
    "fft_conv2d": lambda x, weight, bias=None, stride=1, padding=0: F.conv2d(
        t(x), t(weight), t(bias), stride, padding),
    "winograd_f23": lambda x, g: F.conv1d(t(x)[None, None], t(g)[None, None])[0, 0],
    "winograd_tile": lambda d, g: F.conv2d(t(d)[None, None], t(g)[None, None])[0, 0],
    "winograd_conv2d": lambda x, weight, bias=None, padding=0: F.conv2d(
        t(x), t(weight), t(bias), 1, padding),
}


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("name", sorted(TORCH))
def test_expected_values_equal_pytorch(name):
    checked = 0
    for case in value_cases(name):
        args, kwargs = case.materialize()
        want = TORCH[name](*args, **kwargs)
        if want is None:
            continue
        got = case.expected
        for g, w in zip(got if isinstance(got, tuple) else (got,),
                        want if isinstance(want, tuple) else (want,), strict=True):
            np.testing.assert_allclose(g, w.detach().numpy(), rtol=1e-10, atol=1e-10,
                                       err_msg=f"{name}: {case.name}")
        checked += 1
    assert checked >= 5 or name == "dilate_kernel"


def test_dilated_kernels_equal_pytorch_dilation():
    for case in value_cases("dilate_kernel"):
        w, dilation = case.materialize()[0]
        if np.ndim(w) != 2:
            continue
        x = np.arange(12.0 * 12).reshape(1, 1, 12, 12) % 7
        direct = F.conv2d(t(x), t(w)[None, None], dilation=dilation)
        via_kernel = F.conv2d(t(x), t(case.expected)[None, None])
        np.testing.assert_allclose(direct, via_kernel, err_msg=case.name)


@pytest.mark.parametrize("name", ["filter_matrix", "data_matrix", "doubly_block_toeplitz",
                                  "circulant", "shift_matrix"])
def test_matrices_reproduce_the_convolution(name):
    """The matrix views against PyTorch's conv1d/conv2d (or np.roll for shifts)."""
    for case in value_cases(name):
        args, kwargs = case.materialize()
        M = case.expected
        if name == "filter_matrix":
            h, n = args
            x = np.arange(1.0, n + 1) ** 1.5
            want = F.conv1d(t(x)[None, None], t(h)[None, None], **kwargs)[0, 0]
            np.testing.assert_allclose(M @ x, want, err_msg=case.name)
        elif name == "data_matrix":
            x, k = args
            h = np.arange(1.0, k + 1)
            want = F.conv1d(t(x)[None, None], t(h)[None, None], **kwargs)[0, 0]
            np.testing.assert_allclose(h @ M, want, err_msg=case.name)
        elif name == "doubly_block_toeplitz":
            K, H, W = args
            X = np.arange(1.0, H * W + 1).reshape(H, W) ** 1.5
            want = F.conv2d(t(X)[None, None], t(K)[None, None])[0, 0].numpy().ravel()
            np.testing.assert_allclose(M @ X.ravel(), want, err_msg=case.name)
        elif name == "circulant":
            w, n = args
            x = np.arange(1.0, n + 1) ** 1.5
            want = sum(w[j] * np.roll(x, -(j - len(w) // 2)) for j in range(len(w)))
            np.testing.assert_allclose(M @ x, want, err_msg=case.name)
        else:
            n, k = args[0], args[1] if len(args) > 1 else 1
            x = np.arange(1.0, n + 1)
            np.testing.assert_array_equal(M @ x, np.roll(x, k))


def test_function_specs_match_the_reference():
    x = np.array([1.0, -2.0, 0.5, 3.0, 4.0])
    w = np.array([0.5, -1.0, 2.0])
    circ = build_function(FunctionSpec("circular_conv", {"w": w}))
    np.testing.assert_allclose(circ(x), conv_ref.circular_conv1d(x, w))
    zero = build_function(FunctionSpec("zero_pad_conv", {"w": w}))
    np.testing.assert_allclose(zero(x), conv_ref.conv1d_single(x, w, padding=1))
    loss = build_function(FunctionSpec("conv_square_loss", {"w": w}))
    assert loss(x) == pytest.approx(0.5 * np.sum(conv_ref.conv1d_single(x, w, padding=1) ** 2))
    sin = build_function(FunctionSpec("weighted_sin_sum", {"a": x}))
    assert sin(x) == pytest.approx(np.sum(x * np.sin(x)))
    np.testing.assert_array_equal(build_function(FunctionSpec("relu"))(x), [1, 0, 0.5, 3, 4])


def test_build_function_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="build_function: unknown function kind 'eval'"):
        build_function(FunctionSpec("eval", {"source": "1"}))
    with pytest.raises(TypeError, match="build_function: spec expects a FunctionSpec, got str"):
        build_function("relu")


def test_numeric_gradient_cases_match_the_analytic_gradient():
    """The reference's central differences against the closed form, within the case's atol."""
    for case in value_cases("numeric_gradient"):
        spec, x = case.args[0], case.args[1]
        if spec.kind == "weighted_square_sum":
            exact = 2 * spec.params["a"] * x
        elif spec.kind == "weighted_sin_sum":
            exact = spec.params["a"] * np.cos(x)
        else:
            continue
        h = case.args[2] if len(case.args) > 2 else 1e-6
        np.testing.assert_allclose(case.expected, exact, atol=10 * h + 1e-5, err_msg=case.name)
