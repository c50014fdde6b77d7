"""Mistakes shared by several convolution exercises, as `Mistake` factories.

Each variant recomputes the reference with the misunderstanding built in
(kernel flipped, stride 1, bias dropped, ...) and returns None when the case
cannot show the mistake (no bias, stride already 1, ...).
"""

from __future__ import annotations

import numpy as np

from autograder.cases._core import Case, Mistake, bound, rerun

FLIP_TITLE = ("Your output equals the textbook (signal-processing) convolution, which flips "
              "the kernel.")
FLIP_HINT = ("Deep-learning convolution is cross-correlation and does not flip the kernel: "
             "`y[i] = sum_u h[u] * x[i*stride + u]`.")


TRANSPOSED_FLIP_TITLE = ("Your output equals the transposed convolution with the kernel "
                         "reversed.")
TRANSPOSED_FLIP_HINT = ("A transposed convolution scatters `x[i] * w` onto "
                        "`out[i*stride : i*stride + K]` with the kernel as it is. If you insert "
                        "zeros between the inputs and slide a window instead, that window must "
                        "use the kernel flipped (`w[..., ::-1]`, one flip per spatial axis).")


def flipped_kernel(arg: str, axes: tuple[int, ...], title: str = FLIP_TITLE,
                   hint: str = FLIP_HINT) -> Mistake:
    """The kernel argument `arg` reversed along `axes`."""
    def fn(case: Case):
        return rerun(case, **{arg: np.flip(np.asarray(bound(case)[arg]), axis=axes)})

    return Mistake("flipped_kernel", title, hint, fn)


def bias_ignored(arg: str = "bias") -> Mistake:
    def fn(case: Case):
        bias = bound(case)[arg]
        if bias is None or not np.any(bias):
            return None
        return rerun(case, **{arg: None if not np.isscalar(bias) else 0.0})

    return Mistake("bias_ignored", "Your output equals the right answer without the bias.",
                   "Add the bias of each output channel to every position of that channel.", fn)


def bias_per_input_channel(weight: str = "weight", bias: str = "bias") -> Mistake:
    """The bias added once per input channel, inside the channel sum."""
    def fn(case: Case):
        b, w = bound(case)[bias], np.asarray(bound(case)[weight])
        if b is None or w.ndim < 2 or w.shape[1] < 2:
            return None
        return rerun(case, **{bias: np.asarray(b) * w.shape[1]})

    return Mistake("bias_per_input_channel",
                   "Your output adds the bias once for every input channel.",
                   "The bias is added once per output value, after summing over input channels.",
                   fn)


def stride_ignored() -> Mistake:
    def fn(case: Case):
        stride = bound(case)["stride"]
        if np.all(np.asarray(stride) == 1):
            return None
        return rerun(case, stride=1)

    return Mistake("stride_ignored", "Your output equals the answer for stride 1.",
                   "Move the window by `stride` positions between outputs: "
                   "start at `i*stride`.", fn)


def channels_from_weight_axis(axis: int, spatial: int, arg: str = "weight"):
    """A `Mistake.shape`: the answer with as many channels as ``weight.shape[axis]``.

    The channel axis is the one before the `spatial` trailing axes. None when
    the weight has groups (its axes then hold ``C_in // groups``).
    """
    def shape(case: Case) -> tuple[int, ...] | None:
        args = bound(case)
        expected = list(np.shape(case.expected))
        if args.get("groups", 1) != 1 or len(expected) < spatial + 1:
            return None
        expected[-(spatial + 1)] = np.shape(args[arg])[axis]
        return tuple(expected)

    return shape


def swapped_weight(arg: str = "weight"):
    """A `Mistake.fn`: the answer with the weight's first two axes swapped.

    Only computable when both axes have the same size.
    """
    def fn(case: Case):
        w = np.asarray(bound(case)[arg])
        if w.shape[0] != w.shape[1]:
            return None
        return rerun(case, **{arg: w.swapaxes(0, 1)})

    return fn


def weight_axes_swapped(layout: str, spatial: int, arg: str = "weight") -> Mistake:
    """Weight of layout `layout` (``"(C_out, C_in, K)"``...) read as ``(C_in, C_out, ...)``.

    With as many input as output channels the variant recomputes the wrong
    values. Otherwise the sizes do not fit, and most implementations raise;
    those that run (one of the two is 1 and NumPy broadcasts it) give
    ``C_in`` output channels, which `Mistake.shape` recognises.
    """
    return Mistake("weight_axes_swapped",
                   "Your output reads the weight as if its axes were `(C_in, C_out, ...)`: "
                   "output channel `o` comes from `weight[:, o]` instead of `weight[o]`.",
                   f"The weight's layout is `{layout}`: `weight[o]` holds the kernels of output "
                   "channel `o`, one per input channel, so the output has `weight.shape[0]` "
                   "channels and the sum runs over the `weight.shape[1]` input channels.",
                   swapped_weight(arg), channels_from_weight_axis(1, spatial, arg))


def missing_plus_one(spatial: int) -> Mistake:
    """The last output position of each of the `spatial` trailing axes dropped.

    Padding on one side only also drops the last positions, when the padding is
    smaller than the stride plus one; so does a strided output cut as
    ``full[:len(full)//s*s:s]``. The answers are the same, so `autograder.scoring.diagnose`
    names this mistake, whose hint names both causes, when both match.
    """
    def fn(case: Case):
        e = np.asarray(case.expected)
        if e.ndim < spatial or min(e.shape[-spatial:]) < 2:
            return None
        return e[(Ellipsis, *[slice(0, -1)] * spatial)]

    return Mistake("missing_plus_one", "Your output is one position short: it equals the right "
                   "answer without its last position.",
                   "The output length is `floor((n + 2*p - k) / s) + 1`: count the first window "
                   "too (`range(L_out)`, not `range(L_out - 1)`). With a stride, `full[::s]` "
                   "keeps the last window; `full[:len(full)//s*s:s]` drops it. Padding on the "
                   "left only also loses it: padding=p puts p zeros on BOTH sides.", fn)


def padding_one_side(x: str, spatial: int, side: str) -> Mistake:
    """All the padding put on one side (`side` "left" or "right") of the `spatial` trailing axes."""
    def fn(case: Case):
        args = bound(case)
        p = args["padding"]
        if isinstance(p, str) or isinstance(p, (tuple, list)) or p == 0:
            return None
        arr = np.asarray(args[x])
        pads = [(0, 0)] * (arr.ndim - spatial) + [(p, 0) if side == "left" else (0, p)] * spatial
        return rerun(case, **{x: np.pad(arr, pads), "padding": 0})

    return Mistake(f"padding_{side}_only",
                   f"Your output equals the answer with all the padding on the {side} side only.",
                   "padding=p puts p zeros on BOTH sides: the padded length is `n + 2*p`.", fn)


def total_padding() -> Mistake:
    """`padding` read as the total over both sides (p // 2 per side)."""
    def fn(case: Case):
        p = bound(case)["padding"]
        if not isinstance(p, int) or p < 2 or p % 2:
            return None
        return rerun(case, padding=p // 2)

    return Mistake("total_padding",
                   "Your output equals the answer with padding // 2 zeros on each side.",
                   "padding=p means p zeros on each side, not p in total.", fn)
