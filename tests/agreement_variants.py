"""Hand-written answers for `tests/agreement.py`: mistakes students make, and correct answers
written other ways than the reference.

Each is a plain NumPy function, as a student would write it in a notebook
(`check()` reads its source), registered with `@mistake(problem)` or
`@correct(problem)`. The correct answers that only change the type of the
result (a list, float32, NumPy integers) are built for every graded function
at the end, from the reference's answers.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.signal
from numpy.lib.stride_tricks import sliding_window_view

from autograder import catalog

VARIANTS: list = []


def _harness():
    """`tests/agreement.py`, imported as this module was (package or script)."""
    import importlib

    return importlib.import_module(f"{__package__}.agreement" if __package__ else "agreement")


def _register(problem: str, correct: bool):
    def add(fn):
        Variant = _harness().Variant  # noqa: N806 - a class

        VARIANTS.append(Variant(problem, getattr(fn, '__name__', 'answer'), fn, correct))
        return fn
    return add


def mistake(problem: str):
    return _register(problem, correct=False)


def correct(problem: str):
    return _register(problem, correct=True)


def _pad_last(x, p, axes=1):
    x = np.asarray(x, dtype=float)
    return np.pad(x, [(0, 0)] * (x.ndim - axes) + [(p, p)] * axes)


def _size(n, k, s=1, p=0, d=1):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


# ----------------------------------------------------------------------------- 01


@correct("conv_output_length")
def conv_output_length_checked(n, k, stride=1, padding=0, dilation=1):
    if stride < 1 or padding < 0 or dilation < 1 or dilation * (k - 1) + 1 > n + 2 * padding:
        raise ValueError("bad arguments")
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1


@correct("corr1d")
def corr1d_tap_loop(x, h):
    x, h = np.asarray(x, dtype=float), np.asarray(h, dtype=float)
    out = np.zeros(len(x) - len(h) + 1)
    for j in range(len(h)):
        out += h[j] * x[j:j + len(out)]
    return out


@correct("corr1d")
def corr1d_position_loop_list(x, h):
    return [float(sum(h[j] * x[i + j] for j in range(len(h)))) for i in range(len(x) - len(h) + 1)]


@mistake("corr1d")
def corr1d_np_convolve(x, h):
    return np.convolve(x, h[::-1], mode="valid")


@mistake("corr1d")
def corr1d_np_correlate(x, h):
    return np.correlate(x, h, mode="valid")


@correct("conv1d_single")
def conv1d_single_loops(x, h, bias=0.0, stride=1, padding=0):
    xp = _pad_last(x, padding)
    n = _size(len(x), len(h), stride, padding)
    return np.array([xp[i * stride:i * stride + len(h)] @ h + bias for i in range(n)])


@mistake("conv1d_single")
def conv1d_single_truncated_stride(x, h, bias=0.0, stride=1, padding=0):
    xp = _pad_last(x, padding)
    full = np.array([xp[i:i + len(h)] @ h for i in range(len(xp) - len(h) + 1)]) + bias
    return full[:len(full) // stride * stride:stride]


@correct("conv1d")
def conv1d_taps(x, weight, bias=None, stride=1, padding=0):
    if x.ndim not in (2, 3) or x.shape[-2] != weight.shape[1] or stride < 1 or padding < 0:
        raise ValueError("bad arguments")
    xp = _pad_last(x, padding)
    K = weight.shape[-1]
    if K > xp.shape[-1]:
        raise ValueError("kernel too long")
    n = (xp.shape[-1] - K) // stride + 1
    out = np.zeros((*x.shape[:-2], weight.shape[0], n))
    for j in range(K):
        window = xp[..., j:j + (n - 1) * stride + 1:stride]
        out += np.einsum("oc,...cl->...ol", weight[:, :, j], window)
    return out if bias is None else out + np.asarray(bias)[:, None]


# ----------------------------------------------------------------------------- 02


@mistake("corr2d")
def corr2d_scipy(X, K):
    return scipy.signal.correlate2d(X, K, mode="valid")


@correct("corr2d")
def corr2d_taps_int(X, K):
    X, K = np.asarray(X), np.asarray(K)
    h, w = X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1
    out = np.zeros((h, w), dtype=np.result_type(X, K, float))
    for m in range(K.shape[0]):
        for n in range(K.shape[1]):
            out += K[m, n] * X[m:m + h, n:n + w]
    return out


_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _conv2d(x, weight, bias, stride, padding, padding_mode, use_width_stride=True):
    x = np.asarray(x, dtype=float)
    if x.ndim not in (3, 4) or x.shape[-3] != weight.shape[1]:
        raise ValueError("channel mismatch")
    sh, sw = (stride, stride) if np.isscalar(stride) else stride
    if min(sh, sw) < 1:
        raise ValueError("stride")
    kh, kw = weight.shape[-2:]
    if padding == "same":
        if (sh, sw) != (1, 1):
            raise ValueError("same needs stride 1")
        pads = [((kh - 1) // 2, kh - 1 - (kh - 1) // 2), ((kw - 1) // 2, kw - 1 - (kw - 1) // 2)]
    else:
        ph, pw = (padding, padding) if np.isscalar(padding) else padding
        pads = [(ph, ph), (pw, pw)]
    xp = np.pad(x, [(0, 0)] * (x.ndim - 2) + pads, mode=_MODES[padding_mode])
    if kh > xp.shape[-2] or kw > xp.shape[-1]:
        raise ValueError("kernel too large")
    if not use_width_stride:
        sw = 1
    h, w = (xp.shape[-2] - kh) // sh + 1, (xp.shape[-1] - kw) // sw + 1
    out = np.zeros((*x.shape[:-3], weight.shape[0], h, w))
    for i in range(kh):
        for j in range(kw):
            win = xp[..., i:i + (h - 1) * sh + 1:sh, j:j + (w - 1) * sw + 1:sw]
            out += np.einsum("oc,...chw->...ohw", weight[:, :, i, j], win)
    return out if bias is None else out + np.asarray(bias)[:, None, None]


@correct("conv2d")
def conv2d_taps(x, weight, bias=None, stride=1, padding=0, padding_mode="zeros"):
    return _conv2d(x, weight, bias, stride, padding, padding_mode)


@mistake("conv2d")
def conv2d_width_stride_ignored(x, weight, bias=None, stride=1, padding=0, padding_mode="zeros"):
    return _conv2d(x, weight, bias, stride, padding, padding_mode, use_width_stride=False)


# ----------------------------------------------------------------------------- 03


def _w2(weight):
    return weight.reshape(weight.shape[0], weight.shape[1])


@correct("conv1x1")
def conv1x1_einsum(x, weight, bias=None):
    y = np.einsum("oc,...chw->...ohw", _w2(weight), x)
    return y if bias is None else y + np.asarray(bias)[:, None, None]


@mistake("conv1x1")
def conv1x1_pixel_loop(x, weight, bias=None):
    w = _w2(weight)
    out = np.zeros((*x.shape[:-3], w.shape[0], *x.shape[-2:]))
    for i in range(x.shape[-2]):
        for j in range(x.shape[-1]):
            out[..., :, i, j] = x[..., :, i, j] @ w.T
    return out if bias is None else out + np.asarray(bias)[:, None, None]


# ----------------------------------------------------------------------------- 04


def _filter_matrix(h, n, stride, padding, width_padded=False):
    h = np.asarray(h, dtype=float)
    m = len(h)
    if padding == "same":
        if stride != 1:
            raise ValueError("same needs stride 1")
        left, total = (m - 1) // 2, m - 1
    else:
        left, total = (0, 0) if padding == "valid" else (padding, 2 * padding)
    L = (n + total - m) // stride + 1
    if L < 1:
        raise ValueError("empty output")
    T = np.zeros((L, n + total))
    for i in range(L):
        T[i, i * stride:i * stride + m] = h
    return T if width_padded else T[:, left:left + n]


@correct("filter_matrix")
def filter_matrix_rows(h, n, stride=1, padding=0):
    return _filter_matrix(h, n, stride, padding)


@mistake("filter_matrix")
def filter_matrix_padded_width(h, n, stride=1, padding=0):
    return _filter_matrix(h, n, stride, padding, width_padded=True)


def _data_matrix(x, k, stride, padding, copy):
    if padding == "same":
        if stride != 1:
            raise ValueError("same needs stride 1")
        pads = ((k - 1) // 2, k - 1 - (k - 1) // 2)
    else:
        pads = (0, 0) if padding == "valid" else (padding, padding)
    xp = np.pad(np.asarray(x, dtype=float), pads) if pads != (0, 0) else np.asarray(x)
    if k > len(xp):
        raise ValueError("empty output")
    windows = sliding_window_view(xp, k)[::stride].T
    return windows.copy() if copy else windows


@correct("data_matrix")
def data_matrix_sliding(x, k, stride=1, padding=0):
    return _data_matrix(x, k, stride, padding, copy=True)


@mistake("data_matrix")
def data_matrix_returns_view(x, k, stride=1, padding=0):
    return _data_matrix(x, k, stride, padding, copy=False)


def _pair(v):
    return (v, v) if np.isscalar(v) else tuple(v)


@correct("im2col")
def im2col_sliding(x, kernel_size, stride=1, padding=0, dilation=1):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(_pair, (kernel_size, stride, padding, dilation))
    x = np.asarray(x, dtype=float)
    xp = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])
    win = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(-2, -1))
    win = win[..., ::sh, ::sw, ::dh, ::dw]  # (..., C, H_out, W_out, kH, kW)
    C, h, w = win.shape[-5:-2]
    win = np.moveaxis(win, (-2, -1), (-4, -3))  # (..., C, kH, kW, H_out, W_out)
    return win.reshape(*x.shape[:-3], C * kh * kw, h * w)


@correct("conv2d_im2col")
def conv2d_im2col_matmul(x, weight, bias=None, stride=1, padding=0):
    cols = im2col_sliding(x, weight.shape[-2:], stride, padding)
    kh, kw = weight.shape[-2:]
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    h = (x.shape[-2] + 2 * ph - kh) // sh + 1
    w = (x.shape[-1] + 2 * pw - kw) // sw + 1
    y = (weight.reshape(weight.shape[0], -1) @ cols).reshape(*x.shape[:-3], -1, h, w)
    return y if bias is None else y + np.asarray(bias)[:, None, None]


@mistake("conv2d_im2col")
def conv2d_im2col_position_loop(x, weight, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=float)
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    xp = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])
    kh, kw = weight.shape[-2:]
    h, w = (xp.shape[-2] - kh) // sh + 1, (xp.shape[-1] - kw) // sw + 1
    out = np.zeros((*x.shape[:-3], weight.shape[0], h, w))
    for p in range(h):
        for q in range(w):
            patch = xp[..., p * sh:p * sh + kh, q * sw:q * sw + kw]
            out[..., p, q] = np.einsum("ocij,...cij->...o", weight, patch)
    return out if bias is None else out + np.asarray(bias)[:, None, None]


# ----------------------------------------------------------------------------- 05


@correct("shift")
def shift_slicing(x, k=1, circular=True):
    x = np.asarray(x)
    n = x.shape[-1]
    if circular:
        return np.roll(x, k, axis=-1)
    out = np.zeros_like(x, dtype=float)
    if abs(k) < n:
        if k >= 0:
            out[..., k:] = x[..., :n - k]
        else:
            out[..., :n + k] = x[..., -k:]
    return out


@mistake("shift")
def shift_negative_k_wrong(x, k=1, circular=True):
    x = np.asarray(x)
    n = x.shape[-1]
    if circular:
        return np.roll(x, k, axis=-1)
    out = np.zeros_like(x, dtype=float)
    k = abs(k)  # treats a shift left like a shift right
    if k < n:
        out[..., k:] = x[..., :n - k]
    return out


@mistake("shift")
def shift_modifies_x(x, k=1, circular=True):
    x[...] = shift_slicing(x.copy(), k, circular)
    return x


@correct("circular_conv1d")
def circular_conv1d_taps(x, w):
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    c = len(w) // 2
    return sum(w[j] * np.roll(x, c - j, axis=-1) for j in range(len(w)))


@mistake("circular_conv1d")
def circular_conv1d_centre_low(x, w):
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    c = (len(w) - 1) // 2
    return sum(w[j] * np.roll(x, c - j, axis=-1) for j in range(len(w)))


@correct("circulant")
def circulant_loops(w, n):
    C = np.zeros((n, n))
    for i in range(n):
        for j in range(len(w)):
            C[i, (i + j - len(w) // 2) % n] += w[j]
    return C


@mistake("circulant")
def circulant_assigns(w, n):
    C = np.zeros((n, n))
    for i in range(n):
        for j in range(len(w)):
            C[i, (i + j - len(w) // 2) % n] = w[j]
    return C


@mistake("circulant_eigenvalues")
def circulant_eigenvalues_eigvals(w, n):
    return np.linalg.eigvals(circulant_loops(w, n))


@correct("circulant_eigenvalues")
def circulant_eigenvalues_sum(w, n):
    c = circulant_loops(w, n)[0]
    t = np.arange(n)
    return np.exp(2j * np.pi * np.outer(t, t) / n) @ c


# ----------------------------------------------------------------------------- 06


@mistake("conv_transpose1d")
def conv_transpose1d_zero_insertion_unflipped(x, weight, stride=1, padding=0):
    x = np.asarray(x, dtype=float)
    K = weight.shape[-1]
    L = x.shape[-1]
    up = np.zeros((*x.shape[:-1], (L - 1) * stride + 1))
    up[..., ::stride] = x
    up = np.pad(up, [(0, 0)] * (x.ndim - 1) + [(K - 1, K - 1)])
    n = up.shape[-1] - K + 1
    out = np.zeros((*x.shape[:-2], weight.shape[1], n))
    for j in range(K):  # correlates with weight as it is: the flip is missing
        out += np.einsum("io,...il->...ol", weight[:, :, j], up[..., j:j + n])
    return out[..., padding:n - padding]


@correct("conv_transpose1d")
def conv_transpose1d_scatter(x, weight, stride=1, padding=0):
    x = np.asarray(x, dtype=float)
    K, L = weight.shape[-1], x.shape[-1]
    full = np.zeros((*x.shape[:-2], weight.shape[1], (L - 1) * stride + K))
    for i in range(L):
        full[..., i * stride:i * stride + K] += np.einsum("...i,iok->...ok", x[..., i], weight)
    return full[..., padding:full.shape[-1] - padding]


# ----------------------------------------------------------------------------- 07


@mistake("numeric_gradient")
def numeric_gradient_in_place(f, x, h=1e-6):
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        x[i] += h
        up = f(x)
        x[i] -= 2 * h
        grad[i] = (up - f(x)) / (2 * h)  # x[i] is never put back
    return grad


@correct("numeric_gradient")
def numeric_gradient_copy(f, x, h=1e-6):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


# ----------------------------------------------------------------------------- 01: FIR


@correct("fir_filter")
def fir_filter_position_loop(x, h):
    x, h = np.asarray(x, dtype=float), np.asarray(h, dtype=float)
    y = []
    for n in range(len(x) + len(h) - 1):
        y.append(sum(h[k] * x[n - k] for k in range(len(h)) if 0 <= n - k < len(x)))
    return np.array(y, dtype=float)


@mistake("fir_filter")
def fir_filter_np_convolve(x, h):
    return np.convolve(x, h)


@mistake("fir_filter")
def fir_filter_padded_correlation(x, h):
    x, h = np.asarray(x, dtype=float), np.asarray(h, dtype=float)
    xp = np.pad(x, len(h) - 1)
    return np.array([xp[i:i + len(h)] @ h for i in range(len(x) + len(h) - 1)])


# ----------------------------------------------------------------------------- 03: networks


def _stats_dims(n, k, s, p):
    return (n + 2 * p - k) // s + 1


@correct("network_stats")
def network_stats_lists(layers, input_shape):
    def one(spec, shape):
        kind = spec.get("type")
        if kind == "conv":
            k = spec["kernel"]
            k = k if isinstance(k, (tuple, list)) else (k, k)
            st = spec.get("stride", 1)
            st = st if isinstance(st, (tuple, list)) else (st, st)
            pd = spec.get("padding", 0)
            pd = pd if isinstance(pd, (tuple, list)) else (pd, pd)
            g = spec.get("groups", 1)
            if shape[0] % g or spec["out"] % g or any(
                    k[i] > shape[i + 1] + 2 * pd[i] for i in range(2)):
                raise ValueError("network_stats: bad conv layer")
            out = (spec["out"], *(_stats_dims(shape[i + 1], k[i], st[i], pd[i]) for i in range(2)))
            per = shape[0] // g * k[0] * k[1]
            return out, spec["out"] * per + spec["out"] * bool(spec.get("bias", True)), \
                out[0] * out[1] * out[2] * per
        if kind in ("maxpool", "avgpool"):
            k, s, p = spec["kernel"], spec.get("stride") or spec["kernel"], spec.get("padding", 0)
            return (shape[0], *(_stats_dims(n, k, s, p) for n in shape[1:])), 0, 0
        if kind in ("relu", "batchnorm"):
            return shape, 2 * shape[0] if kind == "batchnorm" else 0, 0
        if kind == "global_avgpool":
            return (shape[0], 1, 1), 0, 0
        if kind == "flatten":
            return (int(np.prod(shape)),), 0, 0
        if kind == "linear":
            if len(shape) != 1:
                raise ValueError("network_stats: linear needs a flat input")
            out, bias = spec["out"], spec.get("bias", True)
            return (out,), shape[0] * out + out * bool(bias), shape[0] * out
        if kind == "residual":
            paths = []
            for path in (spec["body"], spec.get("shortcut", [])):
                s, p, m = shape, 0, 0
                for inner in path:
                    s, dp, dm = one(inner, s)
                    p, m = p + dp, m + dm
                paths.append((s, p, m))
            if paths[0][0] != paths[1][0]:
                raise ValueError("network_stats: residual shapes differ")
            return paths[0][0], paths[0][1] + paths[1][1], paths[0][2] + paths[1][2]
        raise ValueError(f"network_stats: unknown layer {kind!r}")

    shape, rows = tuple(input_shape), []
    for spec in layers:
        shape, p, m = one(spec, shape)
        rows.append((list(shape), p, m))
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


@mistake("network_stats")
def network_stats_macs_per_pixel(layers, input_shape):
    # the right shapes and parameters, but MACs for one output pixel only
    shapes, params, macs = network_stats_lists(layers, input_shape)
    pixels = [int(np.prod(s[1:])) if len(s) == 3 else 1 for s in shapes]
    return shapes, params, [m // n for m, n in zip(macs, pixels, strict=True)]


# ----------------------------------------------------------------------------- other types


def _typed(problem: str, convert, label: str):
    """A correct answer given in another type: the reference's answers, converted."""
    from autograder.cases import PUBLIC_SEED, generate_cases

    OFFICIAL_SEED, _key = _harness().OFFICIAL_SEED, _harness()._key  # noqa: N806

    table = {}
    for seed, public in ((PUBLIC_SEED, True), (OFFICIAL_SEED, False)):
        for case in generate_cases(problem, seed, public=public):
            args, kwargs = case.materialize()
            table[_key(args, kwargs)] = case

    answer = functools.partial(_answer, table, convert)
    answer.__name__ = label
    return answer


def _answer(table, convert, *args, **kwargs):
    case = table[_harness()._key(args, kwargs)]
    if case.kind == "raises":
        raise ValueError("bad arguments")
    return convert(case.expected)


def _each(convert):
    return lambda v: tuple(convert(i) for i in v) if isinstance(v, tuple) else convert(v)


def _float32(v):
    v = np.asarray(v)
    return v.astype(np.complex64 if v.dtype.kind == "c" else np.float32)


for _p in catalog.PROBLEMS:
    if _p.name == "train_digits":
        continue
    from autograder.cases import PUBLIC_SEED as _SEED
    from autograder.cases import generate_cases as _generate

    _kind = next(c.kind for c in _generate(_p.name, _SEED, public=True) if c.kind != "raises")
    if _kind == "answer":  # a self-test answer in another form: lower case, commas, NumPy ints
        correct(_p.name)(_typed(_p.name, lambda v: ", ".join(v.lower()) if isinstance(v, str)
                                else _each(np.int64)(v), "answer_other_form"))
    elif _p.name == "network_stats":  # shapes of several lengths: lists of lists, not an array
        correct(_p.name)(_typed(_p.name, lambda v: ([list(s) for s in v[0]], v[1].tolist(),
                                                    v[2].tolist()), "nested_list"))
    elif _kind == "exact":
        correct(_p.name)(_typed(_p.name, _each(np.int64), "numpy_integers"))
    else:
        correct(_p.name)(_typed(_p.name, _each(lambda v: np.asarray(v).tolist()), "nested_list"))
        correct(_p.name)(_typed(_p.name, _each(_float32), "float32"))
