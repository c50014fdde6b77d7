"""Shapes, parameter counts and multiply-accumulates through a network given as layer specs.

A network is a list of layer specs, plain dicts, so that it can be written in
a notebook, sent to the grader and built as PyTorch modules alike:

- ``{"type": "conv", "out": C, "kernel": k, "stride": 1, "padding": 0,
  "groups": 1, "bias": True}`` (``kernel``, ``stride``, ``padding`` an int or a pair)
- ``{"type": "maxpool" | "avgpool", "kernel": k, "stride": k, "padding": 0}``
- ``{"type": "relu"}``, ``{"type": "batchnorm"}``, ``{"type": "flatten"}``,
  ``{"type": "global_avgpool"}`` (to ``(C, 1, 1)``)
- ``{"type": "linear", "out": F, "bias": True}`` on a flat ``(F_in,)`` input
- ``{"type": "residual", "body": [...], "shortcut": [...]}``: ``body(x) +
  shortcut(x)``, an empty shortcut being the identity

Counting conventions: parameters are the learnable ones (a batch norm has a
scale and a shift per channel; its running statistics are buffers). MACs are
the multiply-accumulates of convolutions and linear layers only:
``out.numel() * (C_in / groups) * kH * kW`` and ``F_in * F_out``; pooling,
activations, normalisation, biases and the residual sum count 0.
"""

from __future__ import annotations

import numbers

import numpy as np

from conv_ref._checks import _tuple_arg
from conv_ref.shape import conv_output_length

_DEFAULTS = {
    "conv": {"stride": 1, "padding": 0, "groups": 1, "bias": True},
    "maxpool": {"stride": None, "padding": 0},
    "avgpool": {"stride": None, "padding": 0},
    "linear": {"bias": True},
    "residual": {"shortcut": []},
}
_REQUIRED = {"conv": ("out", "kernel"), "maxpool": ("kernel",), "avgpool": ("kernel",),
             "linear": ("out",), "residual": ("body",)}
LAYER_TYPES = ("conv", "maxpool", "avgpool", "relu", "batchnorm", "flatten",
               "global_avgpool", "linear", "residual")

FN = "network_stats"


def _spec(layer, where: str) -> dict:
    """The layer spec with its defaults filled in; ValueError for an unknown or incomplete one."""
    if not isinstance(layer, dict) or layer.get("type") not in LAYER_TYPES:
        raise ValueError(f"{FN}: {where} expects a dict with 'type' one of "
                         f"{', '.join(LAYER_TYPES)}, got {layer!r}")
    kind = layer["type"]
    missing = [key for key in _REQUIRED.get(kind, ()) if key not in layer]
    if missing:
        raise ValueError(f"{FN}: {where} ({kind}) expects the key(s) {', '.join(missing)}, "
                         f"got {layer!r}")
    return {**_DEFAULTS.get(kind, {}), **layer}


def _count(value, where: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{FN}: {where} expects {name} an integer >= 1, got {value!r}")
    return int(value)


def _spatial(shape: tuple, kind: str, where: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ValueError(f"{FN}: {where} ({kind}) expects a (C, H, W) input, got shape {shape}")
    return shape


def _window(spec, shape, kind, where, kernel, stride, padding) -> tuple[int, int]:
    kh, kw = _tuple_arg(kernel, 2, FN, f"{where} kernel", 1)
    sh, sw = _tuple_arg(stride, 2, FN, f"{where} stride", 1)
    ph, pw = _tuple_arg(padding, 2, FN, f"{where} padding", 0)
    _, H, W = shape
    if kh > H + 2 * ph or kw > W + 2 * pw:
        raise ValueError(f"{FN}: {where} ({kind}) kernel {(kh, kw)} is larger than the padded "
                         f"input {(H + 2 * ph, W + 2 * pw)}; expected a kernel that fits")
    return (conv_output_length(H, kh, sh, ph), conv_output_length(W, kw, sw, pw)), (kh, kw)


def _layer(spec: dict, shape: tuple, where: str) -> tuple[tuple[int, ...], int, int]:
    """(output shape, parameters, MACs) of one layer on an input of `shape`."""
    kind = spec["type"]
    if kind == "conv":
        c_in, _, _ = _spatial(shape, kind, where)
        c_out = _count(spec["out"], where, "out")
        groups = _count(spec["groups"], where, "groups")
        if c_in % groups or c_out % groups:
            raise ValueError(f"{FN}: {where} (conv) groups={groups} must divide the input "
                             f"channels {c_in} and out={c_out}")
        (ho, wo), (kh, kw) = _window(spec, shape, kind, where, spec["kernel"], spec["stride"],
                                     spec["padding"])
        per_output = (c_in // groups) * kh * kw
        params = c_out * per_output + (c_out if spec["bias"] else 0)
        return (c_out, ho, wo), params, c_out * ho * wo * per_output
    if kind in ("maxpool", "avgpool"):
        c, _, _ = _spatial(shape, kind, where)
        stride = spec["kernel"] if spec["stride"] is None else spec["stride"]
        (ho, wo), _ = _window(spec, shape, kind, where, spec["kernel"], stride, spec["padding"])
        return (c, ho, wo), 0, 0
    if kind == "relu":
        return tuple(shape), 0, 0
    if kind == "batchnorm":
        c, _, _ = _spatial(shape, kind, where)
        return tuple(shape), 2 * c, 0
    if kind == "global_avgpool":
        c, _, _ = _spatial(shape, kind, where)
        return (c, 1, 1), 0, 0
    if kind == "flatten":
        size = 1
        for n in shape:
            size *= n
        return (size,), 0, 0
    if kind == "linear":
        if len(shape) != 1:
            raise ValueError(f"{FN}: {where} (linear) expects a flat (F,) input, got shape "
                             f"{shape}; add a flatten layer before it")
        out = _count(spec["out"], where, "out")
        return (out,), shape[0] * out + (out if spec["bias"] else 0), shape[0] * out
    body_shape, body_params, body_macs = _path(spec["body"], shape, f"{where} body")
    cut_shape, cut_params, cut_macs = _path(spec["shortcut"], shape, f"{where} shortcut")
    if body_shape != cut_shape:
        raise ValueError(f"{FN}: {where} (residual) adds a body of output shape {body_shape} "
                         f"to a shortcut of shape {cut_shape}; expected equal shapes")
    return body_shape, body_params + cut_params, body_macs + cut_macs


def _path(layers, shape: tuple, where: str) -> tuple[tuple[int, ...], int, int]:
    """Output shape, total parameters and total MACs of a list of layers."""
    if not isinstance(layers, (list, tuple)):
        raise ValueError(f"{FN}: {where} expects a list of layer specs, got {layers!r}")
    params = macs = 0
    for i, layer in enumerate(layers):
        shape, p, m = _layer(_spec(layer, f"{where} layer {i}"), shape, f"{where} layer {i}")
        params, macs = params + p, macs + m
    return tuple(shape), params, macs


def network_stats(layers, input_shape) -> tuple:
    """Each layer's output shape, parameter count and multiply-accumulate count.

    Parameters
    ----------
    layers : list of dict
        Layer specs as described in this module's docstring; a ``"residual"``
        layer is one entry whose counts are those of its body and shortcut.
    input_shape : tuple of int
        The input of one example, ``(C, H, W)`` (no batch axis).

    Returns
    -------
    shapes : tuple of tuple of int
        ``shapes[i]`` is the output shape of ``layers[i]``.
    params : ndarray of int64, shape (len(layers),)
        Learnable parameters of each layer.
    macs : ndarray of int64, shape (len(layers),)
        Multiply-accumulates of each layer for one example.

    Raises
    ------
    ValueError
        For an unknown or incomplete spec, channels that `groups` does not
        divide, a kernel larger than its padded input, a linear layer on an
        unflattened input, or a residual whose two paths differ in shape.

    Examples
    --------
    >>> shapes, params, macs = network_stats(
    ...     [{"type": "conv", "out": 6, "kernel": 5}, {"type": "maxpool", "kernel": 2}],
    ...     (1, 32, 32))
    >>> shapes, params.tolist(), macs.tolist()
    (((6, 28, 28), (6, 14, 14)), [156, 0], [117600, 0])
    """
    if (not isinstance(input_shape, (tuple, list)) or len(input_shape) not in (1, 3)
            or any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1
                   for n in input_shape)):
        raise ValueError(f"{FN}: input_shape expects (C, H, W) positive integers, "
                         f"got {input_shape!r}")
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError(f"{FN}: layers expects a non-empty list of layer specs, got {layers!r}")
    shape = tuple(int(n) for n in input_shape)
    shapes, params, macs = [], [], []
    for i, layer in enumerate(layers):
        shape, p, m = _layer(_spec(layer, f"layer {i}"), shape, f"layer {i}")
        shapes.append(tuple(int(n) for n in shape))
        params.append(p)
        macs.append(m)
    return tuple(shapes), np.array(params, dtype=np.int64), np.array(macs, dtype=np.int64)
