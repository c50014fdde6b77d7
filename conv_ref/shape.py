"""Output-size arithmetic: the one formula every op, test and notebook uses."""

from __future__ import annotations

from conv_ref._checks import _int_arg, _tuple_arg


def conv_output_length(n, k, stride=1, padding=0, dilation=1) -> int:
    """Output length of a convolution (or pooling window sweep) along one axis.

    ``(n + 2*padding - dilation*(k-1) - 1) // stride + 1``

    Parameters
    ----------
    n : int
        Input length (>= 1).
    k : int
        Kernel size (>= 1).
    stride : int
        Step between windows (>= 1).
    padding : int
        Zeros added on each side (>= 0).
    dilation : int
        Spacing between kernel taps (>= 1); the kernel spans ``dilation*(k-1) + 1`` entries.

    Returns
    -------
    int
        Number of window positions, at least 1.

    Raises
    ------
    ValueError
        If an argument is out of range or the kernel does not fit (result < 1).

    Examples
    --------
    >>> conv_output_length(4, 3)
    2
    >>> conv_output_length(3, 2, stride=2, padding=1)
    2
    >>> conv_output_length(56, 3, stride=2, padding=1)
    28
    """
    fn = "conv_output_length"
    n = _int_arg(n, fn, "n", 1)
    k = _int_arg(k, fn, "k", 1)
    stride = _int_arg(stride, fn, "stride", 1)
    padding = _int_arg(padding, fn, "padding", 0)
    dilation = _int_arg(dilation, fn, "dilation", 1)
    out = (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1
    if out < 1:
        raise ValueError(
            f"{fn}: kernel of extent {dilation * (k - 1) + 1} (k={k}, dilation={dilation}) does "
            f"not fit in input length n={n} with padding={padding}: output length {out} < 1; "
            "expected a kernel no longer than the padded input"
        )
    return out


def same_padding(k, dilation=1) -> tuple[int, int]:
    """``(left, right)`` padding that keeps a stride-1 output the input's length, as PyTorch.

    ``total = dilation*(k-1); (total // 2, total - total // 2)``: the odd extra
    element goes on the right.

    Examples
    --------
    >>> same_padding(3)
    (1, 1)
    >>> same_padding(4)
    (1, 2)
    """
    k = _int_arg(k, "same_padding", "k", 1)
    dilation = _int_arg(dilation, "same_padding", "dilation", 1)
    total = dilation * (k - 1)
    return total // 2, total - total // 2


def _padding_pairs(
    padding, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...], fn: str
) -> tuple[tuple[int, int], ...]:
    """``(left, right)`` zero padding per spatial dim from int, tuple, ``"valid"`` or ``"same"``.

    ``"same"`` follows PyTorch: total ``dilation*(k-1)``, the odd element on the right;
    it is only defined for stride 1.
    """
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{fn}: padding='same' expects stride 1, got stride {stride}"
                )
            return tuple(same_padding(k, d) for k, d in zip(kernel, dilation, strict=True))
        raise ValueError(
            f"{fn}: padding expects an integer, a tuple, 'valid' or 'same', got {padding!r}"
        )
    return tuple((p, p) for p in _tuple_arg(padding, n, fn, "padding", 0, one=True))


