"""`train_digits`: the small CNN of notebook 07, built from the reference's own functions.

The network (shapes for a batch of ``N`` 8x8 images)::

    (N, 1, 8, 8) -conv 3x3, 16 filters, pad 1-> ReLU -> max-pool 2x2 -> (N, 16, 4, 4)
                 -conv 3x3, 32 filters, pad 1-> ReLU -> max-pool 2x2 -> (N, 32, 2, 2)
                 -flatten-> (N, 128) -linear-> (N, 10) scores -> softmax cross-entropy

Convolutions run forwards with `conv2d_im2col` and backwards with
`conv2d_backward`; pooling forwards with `max_pool2d`. Training is plain
mini-batch SGD with a step size decaying linearly to zero. Any ``H, W``
divisible by 4 works; the linear layer takes ``32 * H/4 * W/4`` features.
"""

from __future__ import annotations

import numpy as np

from conv_ref._checks import _as_float, _check_ndim, _int_arg
from conv_ref.backward import conv2d_backward
from conv_ref.pool import max_pool2d
from conv_ref.unfold import conv2d_im2col

N_CLASSES = 10
CHANNELS = (16, 32)
LEARNING_RATE = 0.2
BATCH_SIZE = 32


def _init_params(rng: np.random.Generator, height: int, width: int) -> dict[str, np.ndarray]:
    """He-initialised weights (normal, std ``sqrt(2 / fan_in)``) and zero biases."""
    c1, c2 = CHANNELS
    features = c2 * (height // 4) * (width // 4)
    shapes = {"w1": ((c1, 1, 3, 3), 9), "w2": ((c2, c1, 3, 3), 9 * c1),
              "w3": ((features, N_CLASSES), features)}
    params = {name: rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
              for name, (shape, fan_in) in shapes.items()}
    params.update(b1=np.zeros(c1), b2=np.zeros(c2), b3=np.zeros(N_CLASSES))
    return params


def _pool_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of a 2x2, stride-2 max pool: each `dout` goes to its window's first maximum.

    The first maximum in row-major order is the one PyTorch picks, so ties
    (e.g. windows of ReLU zeros) are routed the same way.
    """
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5)
    windows = windows.reshape(n, c, h // 2, w // 2, 4)  # (N, C, H/2, W/2, 4)
    winner = windows.argmax(axis=-1)
    dwindows = np.zeros_like(windows)
    np.put_along_axis(dwindows, winner[..., None], dout[..., None], axis=-1)
    dwindows = dwindows.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
    return dwindows.reshape(n, c, h, w)


def _forward(params: dict[str, np.ndarray], x: np.ndarray):
    """Scores ``(N, 10)`` and the activations the backward pass needs."""
    a1 = np.maximum(conv2d_im2col(x, params["w1"], params["b1"], padding=1), 0)  # (N, 16, H, W)
    p1 = max_pool2d(a1, 2)  # (N, 16, H/2, W/2)
    a2 = np.maximum(conv2d_im2col(p1, params["w2"], params["b2"], padding=1), 0)
    p2 = max_pool2d(a2, 2)  # (N, 32, H/4, W/4)
    scores = p2.reshape(len(x), -1) @ params["w3"] + params["b3"]  # (N, 10)
    return scores, (x, a1, p1, a2, p2)


def _loss_and_dscores(scores: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy and its gradient with respect to the scores."""
    shifted = scores - scores.max(axis=1, keepdims=True)  # exp() cannot overflow
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    rows = np.arange(len(labels))
    loss = float(-np.log(probs[rows, labels]).mean())
    probs[rows, labels] -= 1.0
    return loss, probs / len(labels)


def _backward(params: dict[str, np.ndarray], dscores: np.ndarray, cache) -> dict[str, np.ndarray]:
    """Gradients of the loss with respect to every parameter."""
    x, a1, p1, a2, p2 = cache
    grads = {"w3": p2.reshape(len(x), -1).T @ dscores, "b3": dscores.sum(axis=0)}
    dp2 = (dscores @ params["w3"].T).reshape(p2.shape)
    da2 = _pool_backward(dp2, a2) * (a2 > 0)  # ReLU passes gradient where it was active
    dp1, grads["w2"], grads["b2"] = conv2d_backward(da2, p1, params["w2"], padding=1)
    da1 = _pool_backward(dp1, a1) * (a1 > 0)
    _, grads["w1"], grads["b1"] = conv2d_backward(da1, x, params["w1"], padding=1)
    return grads


def _check_images(fn: str, name: str, images) -> np.ndarray:
    images = _as_float(images, fn, name)
    _check_ndim(images, fn, name, (4,), "(N, 1, H, W)")
    if images.shape[1] != 1 or images.shape[2] % 4 or images.shape[3] % 4 or not len(images):
        raise ValueError(
            f"{fn}: {name} expects (N, 1, H, W) with N >= 1 and H, W divisible by 4, "
            f"got shape {images.shape}"
        )
    return images


def train_digits(X_train, y_train, X_test, seed=0, *, epochs=20, history=None):
    """Train the small CNN on labelled images and predict the labels of `X_test`.

    Parameters
    ----------
    X_train : ndarray of shape (N, 1, H, W)
        Images with values in [0, 1] (scikit-learn's digits: ``H = W = 8``).
    y_train : ndarray of int of shape (N,)
        Labels 0..9.
    X_test : ndarray of shape (M, 1, H, W)
    seed : int
        Seeds the initial weights and the batch order: same seed, same predictions.
    epochs : int, keyword-only
        Passes over the training set.
    history : dict, optional, keyword-only
        Receives ``"loss"`` (mean training loss per epoch) and ``"params"``
        (the trained weights by name).

    Returns
    -------
    ndarray of int of shape (M,)

    Raises
    ------
    ValueError
        Images not ``(N, 1, H, W)`` with ``H, W`` divisible by 4, test images of
        another size, labels of the wrong length or outside 0..9, ``epochs < 1``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> images, labels = rng.random((20, 1, 8, 8)), np.arange(20) % 10
    >>> history = {}
    >>> train_digits(images, labels, images[:3], epochs=2, history=history).shape
    (3,)
    >>> len(history["loss"]), history["params"]["w1"].shape
    (2, (16, 1, 3, 3))
    """
    fn = "train_digits"
    X_train = _check_images(fn, "X_train", X_train)
    X_test = _check_images(fn, "X_test", X_test)
    if X_test.shape[2:] != X_train.shape[2:]:
        raise ValueError(
            f"{fn}: X_test expects images of the training size {X_train.shape[2:]}, "
            f"got {X_test.shape[2:]}"
        )
    y_train = np.asarray(y_train)
    if y_train.shape != (len(X_train),) or y_train.dtype.kind not in "iu":
        raise ValueError(
            f"{fn}: y_train expects {len(X_train)} integer labels (one per image), "
            f"got shape {y_train.shape} and dtype {y_train.dtype}"
        )
    if y_train.min() < 0 or y_train.max() >= N_CLASSES:
        raise ValueError(
            f"{fn}: y_train expects labels 0..{N_CLASSES - 1}, "
            f"got values from {y_train.min()} to {y_train.max()}"
        )
    epochs = _int_arg(epochs, fn, "epochs", 1)

    rng = np.random.default_rng(seed)
    params = _init_params(rng, *X_train.shape[2:])
    # Near-equal batches: a tiny last batch would take a noisy full-size step.
    n_batches = max(1, len(X_train) // BATCH_SIZE)
    losses = []
    for epoch in range(epochs):
        step = LEARNING_RATE * (1 - epoch / epochs)
        total = 0.0
        for batch in np.array_split(rng.permutation(len(X_train)), n_batches):
            scores, cache = _forward(params, X_train[batch])
            loss, dscores = _loss_and_dscores(scores, y_train[batch])
            total += loss * len(batch)
            for name, grad in _backward(params, dscores, cache).items():
                params[name] -= step * grad
        losses.append(total / len(X_train))
    if history is not None:
        history["loss"] = losses
        history["params"] = {name: value.copy() for name, value in params.items()}
    return _forward(params, X_test)[0].argmax(axis=1)
