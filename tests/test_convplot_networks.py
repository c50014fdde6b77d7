"""convplot.networks: the profile draws one bar per layer with the caller's numbers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import conv_ref
from autograder.cases.architectures import NETWORKS
from convplot.networks import layer_labels, network_profile, unrolled


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("name", list(NETWORKS))
def test_profile_shows_every_layer_with_its_numbers(name):
    layers, shape = NETWORKS[name]
    shapes, params, macs = conv_ref.network_stats(layers, shape)
    fig = network_profile(name, layer_labels(layers), shapes, params, macs)
    act, par, mac = fig.axes
    assert [len(ax.patches) for ax in fig.axes] == [len(layers)] * 3
    heights = [p.get_height() for p in par.patches]
    np.testing.assert_array_equal(np.nan_to_num(heights), params)
    np.testing.assert_array_equal(np.nan_to_num([p.get_height() for p in act.patches]),
                                  [np.prod(s) for s in shapes])
    assert fig._suptitle.get_text() == name
    ticks = [t.get_text() for t in mac.get_xticklabels()]
    assert all(str(tuple(s)) in t for s, t in zip(shapes, ticks, strict=True))


def test_labels_name_kernel_stride_groups_and_residual_parts():
    labels = layer_labels([{"type": "conv", "out": 8, "kernel": 3, "stride": 2},
                           {"type": "conv", "out": 8, "kernel": 3, "groups": 8},
                           {"type": "residual", "body": [{"type": "relu"}] * 3, "shortcut": []},
                           {"type": "maxpool", "kernel": 2}, {"type": "linear", "out": 10}])
    assert labels == ["conv 3x3/2 → 8", "conv 3x3 dw → 8", "residual (3+0)", "maxpool 2",
                      "linear → 10"]


def test_unrolled_draws_the_layers_inside_a_residual_block_with_the_same_totals():
    layers, shape = NETWORKS["ResNet basic block, downsampling"]
    labels, shapes, params, macs = unrolled(layers, shape, conv_ref.network_stats)
    body, shortcut = layers[0]["body"], layers[0]["shortcut"]
    assert len(labels) == len(body) + len(shortcut) + 1 + 1  # the add, then the final ReLU
    assert labels[0] == "body: conv 3x3/2 → 128" and labels[len(body)].startswith("shortcut: ")
    assert labels[-2:] == ["add", "relu"] and shapes[-1] == shapes[-2] == (128, 28, 28)
    _, block_params, block_macs = conv_ref.network_stats(layers, shape)
    assert sum(params) == block_params.sum() and sum(macs) == block_macs.sum()
    fig = network_profile("block", labels, shapes, params, macs)
    assert len(fig.axes[1].patches) == len(labels)
