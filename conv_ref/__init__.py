"""NumPy reference implementations of convolution, mirroring torch.nn.functional.

Every public function is re-exported here; the autograder computes expected
values from this package, and its tests check it against PyTorch.

The mirrors of ``torch.nn.functional`` (conv1d/2d, conv_transpose1d/2d,
max/avg_pool1d/2d, pad, unfold, fold) accept the argument forms PyTorch accepts
and refuse the others with a ``ValueError`` or ``TypeError`` naming the
function, the argument and the value. Dtype rule: `pad`, the max pools and
`unfold` only move or select entries and keep the input's dtype (bools and
integers included); the others add or multiply and return the inputs' common
floating dtype, computing integers and bools in float64 (exact, where
PyTorch's integer kernels are missing, wrap around or truncate averages).
Deliberate differences: mixed dtypes are promoted as in NumPy; zero input
channels give a convolution of zeros (plus bias) of the right shape.
"""

from conv_ref.architectures import network_stats
from conv_ref.backward import conv2d_backward, numeric_gradient
from conv_ref.basics import conv1d_single, conv1x1, conv2d_param_count, corr1d, corr2d
from conv_ref.cnn import cnn_forward, predict, train_digits
from conv_ref.conv import conv1d, conv2d, conv2d_general
from conv_ref.equivariance import (
    circulant,
    circulant_eigenvalues,
    circular_conv1d,
    equivariance_gap,
    shift,
    shift_matrix,
)
from conv_ref.fast import conv_work, fft_conv2d, winograd_conv2d, winograd_f23, winograd_tile
from conv_ref.lti import fir_filter
from conv_ref.pad import pad, pad2d
from conv_ref.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from conv_ref.shape import conv_output_length, same_padding
from conv_ref.toeplitz import data_matrix, doubly_block_toeplitz, filter_matrix
from conv_ref.transpose import conv_transpose1d, conv_transpose2d
from conv_ref.unfold import conv2d_im2col, fold, im2col, unfold
from conv_ref.variants import depthwise_separable_conv2d, dilate_kernel, receptive_field

__all__ = [
    "avg_pool1d",
    "avg_pool2d",
    "circulant",
    "circulant_eigenvalues",
    "circular_conv1d",
    "cnn_forward",
    "conv1d",
    "conv1d_single",
    "conv1x1",
    "conv2d",
    "conv2d_backward",
    "conv2d_general",
    "conv2d_im2col",
    "conv2d_param_count",
    "conv_output_length",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_work",
    "corr1d",
    "corr2d",
    "data_matrix",
    "depthwise_separable_conv2d",
    "dilate_kernel",
    "doubly_block_toeplitz",
    "equivariance_gap",
    "fft_conv2d",
    "filter_matrix",
    "fir_filter",
    "fold",
    "im2col",
    "max_pool1d",
    "max_pool2d",
    "network_stats",
    "numeric_gradient",
    "pad",
    "pad2d",
    "predict",
    "receptive_field",
    "same_padding",
    "shift",
    "shift_matrix",
    "train_digits",
    "unfold",
    "winograd_conv2d",
    "winograd_f23",
    "winograd_tile",
]
