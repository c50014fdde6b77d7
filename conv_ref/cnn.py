"""`train_digits` and `predict`: the small CNN of notebook 07, from the reference's own functions.

The network (shapes for a batch of ``N`` 8x8 images)::

    (N, 1, 8, 8) -conv 3x3, 16 filters, pad 1-> ReLU -> max-pool 2x2 -> (N, 16, 4, 4)
                 -conv 3x3, 32 filters, pad 1-> ReLU -> max-pool 2x2 -> (N, 32, 2, 2)
                 -flatten-> (N, 128) -linear-> (N, 10) scores -> softmax cross-entropy

Convolutions run forwards with `conv2d_im2col` and backwards with
`conv2d_backward`; pooling forwards with `max_pool2d`. Training is plain
mini-batch SGD with a step size decaying linearly to zero. Any ``H, W``
divisible by 4 works; the linear layer takes ``32 * H/4 * W/4`` features.

`train_digits` returns the trained parameters by name (`param_shapes` gives
their shapes); `cnn_forward` and `predict` run the network on them. The
grader uses the last two on parameters a submission returned, so they check
every array before using it.
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


def param_shapes(height: int = 8, width: int = 8) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter, by name, for ``height x width`` images.

    Examples
    --------
    >>> param_shapes()["w3"], param_shapes()["b2"]
    ((128, 10), (32,))
    """
    c1, c2 = CHANNELS
    features = c2 * (height // 4) * (width // 4)
    return {"w1": (c1, 1, 3, 3), "b1": (c1,), "w2": (c2, c1, 3, 3), "b2": (c2,),
            "w3": (features, N_CLASSES), "b3": (N_CLASSES,)}


def _init_params(rng: np.random.Generator, height: int, width: int) -> dict[str, np.ndarray]:
    """He-initialised weights (normal, std ``sqrt(2 / fan_in)``) and zero biases."""
    params = {}
    for name, shape in param_shapes(height, width).items():
        fan_in = int(np.prod(shape[1:])) if name != "w3" else shape[0]
        params[name] = (rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
                        if name.startswith("w") else np.zeros(shape))
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


def _check_params(fn: str, params, height: int, width: int) -> dict[str, np.ndarray]:
    """`params` as float64 arrays after checking names, shapes and finiteness."""
    shapes = param_shapes(height, width)
    if not isinstance(params, dict) or set(params) != set(shapes):
        got = sorted(map(str, params)) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"{fn}: params expects a dict with keys {sorted(shapes)}, got {got}")
    checked = {}
    for name, shape in shapes.items():
        value = _as_float(params[name], fn, f"params[{name!r}]")
        if value.shape != shape or not np.isfinite(value).all():
            raise ValueError(
                f"{fn}: params[{name!r}] expects finite values of shape {shape}, "
                f"got shape {value.shape}"
            )
        checked[name] = value.astype(np.float64)
    return checked


def cnn_forward(params, X):
    """The network's scores for a batch of images.

    Parameters
    ----------
    params : dict of str to ndarray
        The parameters by name, shaped as `param_shapes` says for these images.
    X : ndarray of shape (N, 1, H, W)
        ``H, W`` divisible by 4.

    Returns
    -------
    ndarray of float64 of shape (N, 10)

    Raises
    ------
    ValueError
        Images not ``(N, 1, H, W)`` with ``H, W`` divisible by 4; parameters with
        other names or shapes, or not finite.

    Examples
    --------
    >>> zeros = {name: np.zeros(shape) for name, shape in param_shapes().items()}
    >>> cnn_forward(zeros | {"b3": np.arange(10.0)}, np.ones((2, 1, 8, 8)))[:, -2:]
    array([[8., 9.],
           [8., 9.]])
    """
    fn = "cnn_forward"
    X = _check_images(fn, "X", X)
    params = _check_params(fn, params, *X.shape[2:])
    return _forward(params, X)[0]


def predict(params, X):
    """The network's labels for a batch of images: the index of the largest score.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> params = _init_params(rng, 8, 8)
    >>> predict(params, rng.random((3, 1, 8, 8))).shape
    (3,)
    """
    return cnn_forward(params, X).argmax(axis=1)


def train_digits(X_train, y_train, seed=0, *, epochs=20, history=None):
    """Train the small CNN on labelled images; return its trained parameters.

    Parameters
    ----------
    X_train : ndarray of shape (N, 1, H, W)
        Images with values in [0, 1] (scikit-learn's digits: ``H = W = 8``).
    y_train : ndarray of int of shape (N,)
        Labels 0..9.
    seed : int
        Seeds the initial weights and the batch order: same seed, same parameters.
    epochs : int, keyword-only
        Passes over the training set.
    history : dict, optional, keyword-only
        Receives ``"loss"``, the mean training loss of each epoch.

    Returns
    -------
    dict of str to ndarray
        ``w1, b1, w2, b2, w3, b3``, float64, shaped as `param_shapes` says;
        `predict` turns them into labels.

    Raises
    ------
    ValueError
        Images not ``(N, 1, H, W)`` with ``H, W`` divisible by 4, labels of the
        wrong length or outside 0..9, ``epochs < 1``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> images, labels = rng.random((20, 1, 8, 8)), np.arange(20) % 10
    >>> history = {}
    >>> params = train_digits(images, labels, epochs=2, history=history)
    >>> params["w1"].shape, len(history["loss"]), predict(params, images[:3]).shape
    ((16, 1, 3, 3), 2, (3,))
    """
    fn = "train_digits"
    X_train = _check_images(fn, "X_train", X_train)
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
    return params
