"""The reference `train_digits` and `predict`: gradients against PyTorch, accuracy, arguments."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import conv_ref
from autograder.cases.backward import digits_split
from autograder.catalog import DIGITS_PARAMETERS
from conv_ref import cnn


def _torch_loss(params: dict[str, np.ndarray], x: np.ndarray, labels: np.ndarray):
    """The same network in PyTorch; returns the loss and the parameter tensors."""
    t = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
    a = F.max_pool2d(F.relu(F.conv2d(torch.tensor(x), t["w1"], t["b1"], padding=1)), 2)
    a = F.max_pool2d(F.relu(F.conv2d(a, t["w2"], t["b2"], padding=1)), 2)
    scores = a.flatten(1) @ t["w3"] + t["b3"]
    return F.cross_entropy(scores, torch.tensor(labels)), t


@pytest.mark.parametrize("height, width", [(8, 8), (4, 12)])
def test_forward_loss_and_every_gradient_equal_torch_autograd(height, width):
    rng = np.random.default_rng(1)
    params = cnn._init_params(rng, height, width)
    for name in ("b1", "b2", "b3"):  # nonzero biases, so that their gradients are exercised
        params[name] = rng.normal(size=params[name].shape)
    x, labels = rng.random((5, 1, height, width)), rng.integers(0, 10, size=5)

    scores, cache = cnn._forward(params, x)
    loss, dscores = cnn._loss_and_dscores(scores, labels)
    grads = cnn._backward(params, dscores, cache)

    torch_loss, tensors = _torch_loss(params, x, labels)
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    assert sorted(grads) == sorted(params)
    for name, grad in grads.items():
        np.testing.assert_allclose(grad, tensors[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def test_pool_backward_routes_ties_to_the_first_maximum_like_torch():
    x = np.array([[[[0.0, 0.0, 1.0, 3.0],
                    [0.0, 0.0, 3.0, 2.0],
                    [5.0, 5.0, -1.0, -2.0],
                    [5.0, 1.0, -3.0, -1.0]]]])
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    x_t = torch.tensor(x, requires_grad=True)
    F.max_pool2d(x_t, 2).backward(torch.tensor(dout))
    ours = cnn._pool_backward(dout, x)
    np.testing.assert_array_equal(ours, x_t.grad.numpy())
    np.testing.assert_array_equal(ours[0, 0], [[1, 0, 0, 2], [0, 0, 0, 0],
                                               [3, 0, 4, 0], [0, 0, 0, 0]])


def test_parameter_shapes_are_the_catalogs():
    assert cnn.param_shapes(8, 8) == DIGITS_PARAMETERS
    params = cnn._init_params(np.random.default_rng(0), 8, 8)
    assert {name: value.shape for name, value in params.items()} == DIGITS_PARAMETERS


def test_digits_accuracy_at_least_95_percent_on_the_graders_split():
    X_train, y_train, X_test, y_test = digits_split()
    params = conv_ref.train_digits(X_train, y_train, seed=0)
    assert {name: value.shape for name, value in params.items()} == DIGITS_PARAMETERS
    assert all(value.dtype == np.float64 for value in params.values())
    y_pred = conv_ref.predict(params, X_test)
    assert y_pred.shape == y_test.shape and y_pred.dtype.kind == "i"
    assert np.mean(y_pred == y_test) >= 0.95
    # The forward pass the grader runs is PyTorch's network on the same parameters.
    t = {name: torch.tensor(value) for name, value in params.items()}
    a = F.max_pool2d(F.relu(F.conv2d(torch.tensor(X_test), t["w1"], t["b1"], padding=1)), 2)
    a = F.max_pool2d(F.relu(F.conv2d(a, t["w2"], t["b2"], padding=1)), 2)
    np.testing.assert_allclose(conv_ref.cnn_forward(params, X_test),
                               (a.flatten(1) @ t["w3"] + t["b3"]).numpy(), atol=1e-10)


def test_same_seed_same_parameters_and_history():
    X_train, y_train, _, _ = digits_split()
    runs = []
    for seed in (3, 3, 4):
        history = {}
        params = conv_ref.train_digits(X_train[:200], y_train[:200], seed=seed, epochs=2,
                                       history=history)
        runs.append((params, history))
    (p1, h1), (p2, h2), (p3, _) = runs
    assert all(np.array_equal(p1[name], p2[name]) for name in p1)
    assert h1["loss"] == h2["loss"] and len(h1["loss"]) == 2
    assert not np.array_equal(p1["w1"], p3["w1"])


def test_training_lowers_the_loss_and_leaves_the_inputs_alone():
    X_train, y_train, _, _ = digits_split()
    X_small, y_small = X_train[:300].copy(), y_train[:300].copy()
    history = {}
    conv_ref.train_digits(X_small, y_small, seed=0, epochs=4, history=history)
    assert history["loss"][-1] < history["loss"][0] < np.log(10) + 0.5
    np.testing.assert_array_equal(X_small, X_train[:300])
    np.testing.assert_array_equal(y_small, y_train[:300])


@pytest.mark.parametrize("kwargs, message", [
    ({"X_train": np.zeros((4, 8, 8))}, r"X_train expects \(N, 1, H, W\), got an array of shape"),
    ({"X_train": np.zeros((4, 2, 8, 8))}, r"X_train expects \(N, 1, H, W\) with N >= 1 and H, W "
                                          r"divisible by 4, got shape \(4, 2, 8, 8\)"),
    ({"X_train": np.zeros((4, 1, 6, 8))}, r"X_train expects .* divisible by 4, got shape"),
    ({"y_train": np.zeros(3, dtype=int)}, r"y_train expects 4 integer labels .* shape \(3,\)"),
    ({"y_train": np.zeros(4)}, r"y_train expects 4 integer labels .* dtype float64"),
    ({"y_train": np.array([0, 1, 10, 2])}, r"y_train expects labels 0..9, got values from 0 "
                                           r"to 10"),
])
def test_bad_arguments_raise_value_error_naming_them(kwargs, message):
    args = {"X_train": np.zeros((4, 1, 8, 8)), "y_train": np.array([0, 1, 2, 3])} | kwargs
    with pytest.raises(ValueError, match=rf"train_digits: {message}"):
        conv_ref.train_digits(**args)


def test_epochs_below_one_is_rejected():
    with pytest.raises(ValueError, match=r"train_digits: epochs expects an integer >= 1, got 0"):
        conv_ref.train_digits(np.zeros((4, 1, 8, 8)), np.arange(4), epochs=0)


def _params(**changes):
    params = cnn._init_params(np.random.default_rng(0), 8, 8)
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


@pytest.mark.parametrize("params, message", [
    (_params(b3=None), r"params expects a dict with keys \['b1', 'b2', 'b3', 'w1', 'w2', 'w3'\]"),
    (_params(extra=np.zeros(1)), r"params expects a dict with keys .*'extra'"),
    (_params(w1=np.zeros((16, 3, 3))), r"params\['w1'\] expects finite values of shape "
                                       r"\(16, 1, 3, 3\), got shape \(16, 3, 3\)"),
    (_params(b2=np.full(32, np.nan)), r"params\['b2'\] expects finite values"),
    (_params(w3=np.zeros((10, 128))), r"params\['w3'\] expects .* \(128, 10\), got shape "
                                      r"\(10, 128\)"),
])
def test_cnn_forward_checks_every_parameter(params, message):
    with pytest.raises(ValueError, match=rf"cnn_forward: {message}"):
        conv_ref.cnn_forward(params, np.zeros((2, 1, 8, 8)))


def test_cnn_forward_sizes_the_linear_layer_from_the_images():
    params = cnn._init_params(np.random.default_rng(0), 4, 12)
    assert conv_ref.predict(params, np.zeros((3, 1, 4, 12))).shape == (3,)
    with pytest.raises(ValueError, match=r"params\['w3'\] expects .* \(96, 10\)"):
        conv_ref.cnn_forward(params | {"w3": np.zeros((128, 10))}, np.zeros((1, 1, 4, 12)))
