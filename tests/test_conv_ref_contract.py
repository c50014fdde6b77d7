"""Package-wide promises: every export is documented and tested; inputs are never written;
float32 stays float32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import conv_ref
from tests.test_conv_ref_conv import seed_input, seed_kernels

TESTS = Path(__file__).parent


def test_every_export_has_a_docstring_with_an_example():
    for name in conv_ref.__all__:
        doc = getattr(conv_ref, name).__doc__ or ""
        assert "Examples" in doc and ">>>" in doc, f"{name} has no doctest example"


def test_every_export_is_called_in_a_test_module():
    text = "".join(p.read_text() for p in TESTS.glob("test_conv_ref_*.py")
                   if p.name != Path(__file__).name)
    missing = [name for name in conv_ref.__all__ if f"conv_ref.{name}(" not in text]
    assert not missing, f"exports without a test: {missing}"


def _ro(a, dtype=np.float32):
    a = np.array(a, dtype=dtype)
    a.flags.writeable = False
    return a


x4, w4 = seed_input()[None], seed_kernels()


CALLS = {
    "conv1d": lambda: conv_ref.conv1d(_ro(np.ones((2, 5))), _ro(np.ones((1, 2, 3))), padding=1,
                                      padding_mode="reflect"),
    "conv2d": lambda: conv_ref.conv2d(_ro(x4), _ro(w4), _ro(np.ones(3)), padding="same"),
    "conv2d 1x1": lambda: conv_ref.conv2d(_ro(x4), _ro(np.ones((3, 2, 1, 1)))),
    "conv2d_general": lambda: conv_ref.conv2d_general(_ro(x4), _ro(np.ones((2, 1, 2, 2))),
                                                      groups=2, dilation=2),
    "conv_transpose1d": lambda: conv_ref.conv_transpose1d(_ro(np.ones((2, 3))),
                                                          _ro(np.ones((2, 1, 2))), stride=2),
    "conv_transpose2d": lambda: conv_ref.conv_transpose2d(_ro(x4), _ro(np.ones((2, 1, 2, 2))),
                                                          _ro(np.ones(1)), stride=2),
    "max_pool2d": lambda: conv_ref.max_pool2d(_ro(x4), 3, 2, 1, ceil_mode=True),
    "avg_pool2d": lambda: conv_ref.avg_pool2d(_ro(x4), 3, 2, 1, count_include_pad=False),
    "max_pool1d": lambda: conv_ref.max_pool1d(_ro(np.ones((2, 5))), 2),
    "avg_pool1d": lambda: conv_ref.avg_pool1d(_ro(np.ones((2, 5))), 2),
    "pad": lambda: conv_ref.pad(_ro(x4), (1, 1, 1, 1), mode="circular"),
    "pad2d": lambda: conv_ref.pad2d(_ro(x4), 1, "replicate"),
    "unfold": lambda: conv_ref.unfold(_ro(x4), 2),
    "fold": lambda: conv_ref.fold(_ro(np.ones((4, 9))), (4, 4), 2),
    "im2col": lambda: conv_ref.im2col(_ro(x4), 2, padding=1),
    "conv2d_im2col": lambda: conv_ref.conv2d_im2col(_ro(x4), _ro(w4)),
    "corr1d": lambda: conv_ref.corr1d(_ro([1, 2, 3, 4]), _ro([1, 0, -1])),
    "conv1d_single": lambda: conv_ref.conv1d_single(_ro([1, 2, 3, 4]), _ro([1, 0, -1]),
                                                    padding=1),
    "corr2d": lambda: conv_ref.corr2d(_ro(x4[0, 0]), _ro(np.eye(2))),
    "conv1x1": lambda: conv_ref.conv1x1(_ro(x4), _ro(np.ones((3, 2)))),
    "filter_matrix": lambda: conv_ref.filter_matrix(_ro([1, 0, -1]), 4),
    "data_matrix": lambda: conv_ref.data_matrix(_ro([1, 2, 3, 4]), 3),
    "doubly_block_toeplitz": lambda: conv_ref.doubly_block_toeplitz(_ro(np.eye(2)), 3, 3),
    "shift": lambda: conv_ref.shift(_ro([1, 2, 3]), 1, circular=False),
    "circular_conv1d": lambda: conv_ref.circular_conv1d(_ro([1, 2, 3]), _ro([1, 2, 3])),
    "circulant": lambda: conv_ref.circulant(_ro([1, 2, 3]), 4),
    "dilate_kernel": lambda: conv_ref.dilate_kernel(_ro(w4), 2),
    "depthwise_separable_conv2d": lambda: conv_ref.depthwise_separable_conv2d(
        _ro(x4), _ro(np.ones((2, 1, 2, 2))), _ro(np.ones((3, 2, 1, 1)))),
    "conv2d_backward dx": lambda: conv_ref.conv2d_backward(
        _ro(np.ones((1, 3, 3, 3))), _ro(x4), _ro(w4))[0],
    "conv2d_backward dweight": lambda: conv_ref.conv2d_backward(
        _ro(np.ones((1, 3, 3, 3))), _ro(x4), _ro(w4))[1],
}


@pytest.mark.parametrize("name", list(CALLS))
def test_read_only_float32_inputs_give_float32(name):
    # Read-only inputs make any write into an argument raise.
    assert CALLS[name]().dtype == np.float32


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint8, bool])
def test_integer_and_bool_inputs_follow_the_dtype_rule(dtype):
    # Ops that add or multiply compute in float64; ops that move or select keep the dtype.
    x = np.ones((1, 3, 3), dtype=dtype)
    assert conv_ref.conv2d(x, np.ones((1, 1, 2, 2), dtype=dtype)).dtype == np.float64
    assert conv_ref.conv_transpose2d(x, np.ones((1, 1, 2, 2), dtype=dtype)).dtype == np.float64
    assert conv_ref.avg_pool2d(x, 2).dtype == np.float64
    assert conv_ref.fold(conv_ref.unfold(x, 2), 3, 2).dtype == np.float64
    assert conv_ref.pad2d(x, 1).dtype == np.float64
    assert conv_ref.max_pool2d(x, 2, padding=1).dtype == dtype
    assert conv_ref.max_pool1d(x[0], 2, return_indices=True)[0].dtype == dtype
    assert conv_ref.pad(x, (1, 1), value=1).dtype == dtype
    assert conv_ref.unfold(x, 2).dtype == dtype
