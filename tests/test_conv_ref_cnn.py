"""The reference `train_digits`: its gradients against PyTorch, its accuracy, its arguments."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import conv_ref
from autograder.cases.backward import digits_split
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


def test_digits_accuracy_at_least_95_percent_on_the_graders_split():
    X_train, y_train, X_test, y_test = digits_split()
    y_pred = conv_ref.train_digits(X_train, y_train, X_test, seed=0)
    assert y_pred.shape == y_test.shape and y_pred.dtype.kind == "i"
    assert np.mean(y_pred == y_test) >= 0.95


def test_same_seed_same_predictions_and_history():
    X_train, y_train, X_test, _ = digits_split()
    runs = []
    for seed in (3, 3, 4):
        history = {}
        pred = conv_ref.train_digits(X_train[:200], y_train[:200], X_test, seed=seed, epochs=2,
                                     history=history)
        runs.append((pred, history))
    (p1, h1), (p2, h2), (_, h3) = runs
    np.testing.assert_array_equal(p1, p2)
    assert h1["loss"] == h2["loss"] and len(h1["loss"]) == 2
    assert not np.array_equal(h1["params"]["w1"], h3["params"]["w1"])


def test_training_lowers_the_loss_and_leaves_the_inputs_alone():
    X_train, y_train, X_test, _ = digits_split()
    X_small, y_small = X_train[:300].copy(), y_train[:300].copy()
    history = {}
    conv_ref.train_digits(X_small, y_small, X_test[:10], seed=0, epochs=4, history=history)
    assert history["loss"][-1] < history["loss"][0] < np.log(10) + 0.5
    np.testing.assert_array_equal(X_small, X_train[:300])
    np.testing.assert_array_equal(y_small, y_train[:300])


@pytest.mark.parametrize("kwargs, message", [
    ({"X_train": np.zeros((4, 8, 8))}, r"X_train expects \(N, 1, H, W\), got an array of shape"),
    ({"X_train": np.zeros((4, 2, 8, 8))}, r"X_train expects \(N, 1, H, W\) with N >= 1 and H, W "
                                          r"divisible by 4, got shape \(4, 2, 8, 8\)"),
    ({"X_test": np.zeros((2, 1, 6, 8))}, r"X_test expects .* divisible by 4, got shape"),
    ({"X_test": np.zeros((2, 1, 12, 8))}, r"X_test expects images of the training size "
                                          r"\(8, 8\), got \(12, 8\)"),
    ({"y_train": np.zeros(3, dtype=int)}, r"y_train expects 4 integer labels .* shape \(3,\)"),
    ({"y_train": np.zeros(4)}, r"y_train expects 4 integer labels .* dtype float64"),
    ({"y_train": np.array([0, 1, 10, 2])}, r"y_train expects labels 0..9, got values from 0 "
                                           r"to 10"),
])
def test_bad_arguments_raise_value_error_naming_them(kwargs, message):
    args = {"X_train": np.zeros((4, 1, 8, 8)), "y_train": np.array([0, 1, 2, 3]),
            "X_test": np.zeros((2, 1, 8, 8))} | kwargs
    with pytest.raises(ValueError, match=rf"train_digits: {message}"):
        conv_ref.train_digits(**args)


def test_epochs_below_one_is_rejected():
    with pytest.raises(ValueError, match=r"train_digits: epochs expects an integer >= 1, got 0"):
        conv_ref.train_digits(np.zeros((4, 1, 8, 8)), np.arange(4), np.zeros((1, 1, 8, 8)),
                              epochs=0)
