"""`train_digits` is graded on what it returns: parameters the grader runs on held-out digits.

The oracle is `conv_ref`'s own training, checked against PyTorch in
`test_conv_ref_cnn.py`; answers that are not a trained network (labels, the
training set, untrained or malformed weights) must score 0 with a message that
says what was measured, in `check()`'s verdicts and through the real grader.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import conv_ref
from autograder.cases import PUBLIC_SEED, generate_cases
from autograder.cases.backward import NOISE, HeldOut, digits_split, perturb_digits
from autograder.catalog import DIGITS_PARAMETERS, max_score
from autograder.check import render_text
from autograder.execution.outcome import CallOutcome
from autograder.grade import grade
from autograder.scoring.judge import judge
from autograder.scoring.network import check_parameters, compare_network
from conv_ref import cnn
from examples import make_class
from tests.conftest import read_notebook, solution_path

A = "07_backward"


@functools.cache
def trained(seed: int = 0) -> dict[str, np.ndarray]:
    X_train, y_train, _, _ = digits_split()
    return conv_ref.train_digits(X_train, y_train, seed=seed)


def untrained() -> dict[str, np.ndarray]:
    return cnn._init_params(np.random.default_rng(1), 8, 8)


def verdict(case, value):
    return judge(case, CallOutcome(case.problem, case.name, "ok", value=value), 2.0)


# --------------------------------------------------------------------------- the held-out set


def test_the_held_out_set_is_the_test_quarter_perturbed_by_the_seed():
    _, _, X_test, y_test = digits_split()
    public = generate_cases("train_digits", PUBLIC_SEED, public=True)[0].expected
    official = [generate_cases("train_digits", s, public=False)[0].expected for s in (1, 2)]
    assert isinstance(public, HeldOut) and np.array_equal(public.labels, y_test)
    assert public.images.shape == X_test.shape
    assert public.images.min() >= 0 and public.images.max() <= 1
    assert not np.array_equal(official[0].images, official[1].images)
    assert not np.array_equal(public.images, official[0].images)
    noise = public.images - X_test
    # Every pixel carries noise (clipped at 0 and 1): nothing is moved or dropped.
    assert np.abs(noise).max() < 6 * NOISE
    inside = (X_test > 0.3) & (X_test < 0.7)  # away from the clipping
    assert 0.8 * NOISE < noise[inside].std() < 1.2 * NOISE


def test_the_perturbation_is_noise_clipped_to_the_pixel_range():
    images = np.repeat(np.linspace(0, 1, 64).reshape(1, 1, 8, 8), 50, axis=0)
    out = perturb_digits(images, np.random.default_rng(0))
    assert out.shape == images.shape and out.min() >= 0 and out.max() <= 1
    assert np.allclose(out.mean(axis=0), images[0], atol=0.05)  # no shift: the mean stays put
    assert not np.array_equal(out, perturb_digits(images, np.random.default_rng(1)))


def test_the_case_sends_the_training_split_only():
    case = generate_cases("train_digits", 7, public=False)[0]
    X_train, y_train, X_test, _ = digits_split()
    args, kwargs = case.call().args, case.call().kwargs
    assert len(args) == 2 and np.array_equal(args[0], X_train) and set(kwargs) == {"seed"}
    test_rows = {row.tobytes() for row in X_test.reshape(len(X_test), -1)}
    assert not test_rows & {row.tobytes() for row in args[0].reshape(len(args[0]), -1)}


# --------------------------------------------------------------------------- parameters


def test_the_references_parameters_pass_every_check():
    layers, message = check_parameters(trained())
    assert message == "" and [layer["name"] for layer in layers] == list(DIGITS_PARAMETERS)
    assert all(layer["ok"] and layer["received"] == layer["expected"] for layer in layers)


@pytest.mark.parametrize("value, stage, words", [
    (np.zeros(450, dtype=int), "type", "It looks like predicted labels"),
    (None, "type", "got None (did you forget the `return` statement?)"),
    ([np.zeros((16, 1, 3, 3))], "type", "got a list of length 1"),
    ("weights", "type", "got a str"),
    ({}, "shape", "missing: w1, b1, w2, b2, w3, b3"),
    (untrained() | {"w3": np.zeros((10, 128))}, "shape", "w3: shape (10, 128), expected (128, 10)"),
    (untrained() | {"b2": np.full(32, np.nan)}, "shape", "b2: 32 of 32 entries are NaN or "),
    (untrained() | {"w1": np.full((16, 1, 3, 3), np.inf)}, "shape", "w1: 144 of 144 entries"),
    (untrained() | {"w1": untrained()["w1"].tolist()}, "shape", "w1: a list, not an ndarray"),
    (untrained() | {"b1": np.zeros(16, dtype=complex)}, "shape", "b1: dtype complex128, not real"),
    (untrained() | {"b1": np.zeros(16, dtype=bool)}, "shape", "b1: dtype bool, not real numbers"),
    (untrained() | {"b3": "0"}, "shape", "b3: a str, not an ndarray"),
    (untrained() | {"w1": np.zeros(10**7)}, "shape", "w1: shape (10000000,), expected (16, 1, 3"),
    (untrained() | {"extra": np.zeros(2), 0: 1}, "shape",
     "keys the network does not have: 'extra', 0 (it has w1, b1, w2, b2, w3, b3)"),
    (untrained(), "values", "That is about chance (0.1): were the weights trained?"),
])
def test_answers_that_are_not_a_trained_network_score_0_and_say_why(value, stage, words):
    case = generate_cases("train_digits", PUBLIC_SEED, public=True)[0]
    result = verdict(case, value)
    assert not result.passed and result.score == 0
    assert result.details["stage"] == stage and words in result.message, result.message
    if stage == "values":
        assert result.details["accuracy"] < 0.2
        assert result.message.startswith(f"Accuracy {result.details['accuracy']:.3f} on 450 ")
    text = render_text("train_digits", [result])  # check()'s verdict names every layer
    for name, shape in DIGITS_PARAMETERS.items():
        if isinstance(value, dict):
            assert f"{name} {shape}: " in text


def test_integer_weights_are_real_numbers_and_huge_ones_still_give_labels():
    case = generate_cases("train_digits", PUBLIC_SEED, public=True)[0]
    ints = {name: np.zeros(shape, dtype=np.int32) for name, shape in DIGITS_PARAMETERS.items()}
    assert verdict(case, ints).details["stage"] == "values"  # measured: all labels 0
    huge = {name: np.full(shape, 1e300) for name, shape in DIGITS_PARAMETERS.items()}
    result = verdict(case, huge)
    assert result.details["stage"] == "values" and not result.passed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_reference_passes_on_every_grading_seed(seed):
    case = generate_cases("train_digits", seed, public=False)[0]
    X_train, y_train = case.args
    params = trained(case.kwargs["seed"])
    result = verdict(case, {name: value.astype(np.float32) for name, value in params.items()})
    assert result.passed and result.score == 2.0, result.message
    # The accuracy the grader reports is the one an independent forward pass gives.
    expected = np.mean(conv_ref.predict(params, case.expected.images) == case.expected.labels)
    assert result.details["accuracy"] == pytest.approx(expected, abs=1 / 450)
    assert result.details["accuracy"] >= 0.95 and "grading seed" in result.details["measured"]


def test_check_shows_the_measured_accuracy_when_it_passes():
    case = generate_cases("train_digits", PUBLIC_SEED, public=True)[0]
    result = verdict(case, trained())
    text = render_text("train_digits", [result])
    assert "all 1 public cases passed" in text
    assert f"Accuracy {result.details['accuracy']:.3f} on 450 held-out digits" in text


def test_compare_network_runs_only_the_checked_parameters():
    held = HeldOut(np.zeros((4, 1, 8, 8)), np.array([0, 0, 0, 0]), "4 blank images")
    zeros = {name: np.zeros(shape) for name, shape in DIGITS_PARAMETERS.items()}
    result = compare_network(held, zeros, 0.9)  # every score 0: argmax says label 0
    assert result.passed and result.details["accuracy"] == 1.0
    assert result.details["measured"] == "Accuracy 1.000 on 4 blank images; 0.90 is needed."


# --------------------------------------------------------------------------- the real grader

# Malformed answers as a student might return them: each must score 0 on train_digits alone.
MALFORMED = {
    "labels_old_api": '''\
def train_digits(X_train, y_train, X_test, seed=0):
    d = ((X_test.reshape(len(X_test), 1, -1) - X_train.reshape(1, len(X_train), -1))**2).sum(-1)
    return y_train[d.argmin(axis=1)]
''',
    "nan_weights": '''\
def train_digits(X_train, y_train, seed=0):
    shapes = {"w1": (16, 1, 3, 3), "b1": (16,), "w2": (32, 16, 3, 3), "b2": (32,),
              "w3": (128, 10), "b3": (10,)}
    return {name: np.full(shape, np.nan) for name, shape in shapes.items()}
''',
    "torch_layout": '''\
def train_digits(X_train, y_train, seed=0):
    shapes = {"w1": (16, 1, 3, 3), "b1": (16,), "w2": (32, 16, 3, 3), "b2": (32,),
              "w3": (10, 128), "b3": (10,)}
    return {name: np.zeros(shape) for name, shape in shapes.items()}
''',
    "huge_array": '''\
def train_digits(X_train, y_train, seed=0):
    return {"w1": np.zeros(12 * 2**20)}  # 96 MiB
''',
    "not_plain_data": '''\
def train_digits(X_train, y_train, seed=0):
    return {"w1": object()}
''',
    # Looks for the digits' data file the grader reads the held-out images from.
    "snoop": '''\
def train_digits(X_train, y_train, seed=0):
    import glob
    import sys

    roots = [*sys.path, "/work", "/tmp", "/root", "/home"]
    found = sorted({p for r in roots for p in glob.glob(f"{r}/**/digits*", recursive=True)})
    raise RuntimeError(f"found {found}")
''',
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("digits")
    solution = read_notebook(solution_path(A))
    folder = tmp / "submitted"
    students = {"honest": solution} | {
        name: make_class.with_functions(solution, {"train_digits": source})
        for name, source in MALFORMED.items()}
    for student, nb in students.items():
        path = folder / student / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(make_class._bytes(nb))
    results = grade([folder], out=tmp / "out", seed=5, timeout=120, workers=2)
    return {r.student: r for r in results} | {"out": tmp / "out"}


@pytest.mark.slow
def test_the_honest_network_gets_full_marks_through_the_grader(batch):
    honest = batch["honest"]
    assert honest.error is None and honest.score == max_score(A), honest.problems
    case = honest.problems["train_digits"].cases[0]
    assert case.passed and case.details["accuracy"] >= 0.9


@pytest.mark.slow
@pytest.mark.parametrize("student, status, words", [
    ("labels_old_api", "raised", "missing 1 required positional argument: 'X_test'"),
    ("nan_weights", "ok", "w1: 144 of 144 entries are NaN or infinite"),
    ("torch_layout", "ok", "w3: shape (10, 128), expected (128, 10)"),
    ("huge_array", "invalid_output", "returned something that is not plain array data"),
    ("not_plain_data", "invalid_output", "returned something that is not plain array data"),
    ("snoop", "raised", "RuntimeError: found []"),
])
def test_malformed_answers_score_0_on_train_digits_only(batch, student, status, words):
    result = batch[student]
    assert result.error is None, result.error
    digits = result.problems["train_digits"]
    case = digits.cases[0]
    assert digits.score == 0 and case.status == status and words in case.message, case.message
    assert result.score == max_score(A) - digits.max_score  # the other functions keep theirs


@pytest.mark.slow
def test_the_feedback_says_what_was_measured(batch):
    feedback = batch["out"] / "feedback"
    honest = (feedback / "honest" / f"{A}.md").read_text()
    accuracy = batch["honest"].problems["train_digits"].cases[0].details["accuracy"]
    assert f"`train_digits`: Accuracy {accuracy:.3f} on 450 held-out digits" in honest
    assert "grading seed" in honest
    layout = (feedback / "torch_layout" / f"{A}.md").read_text()
    for name, shape in DIGITS_PARAMETERS.items():  # one row per layer: expected, received
        line = (f"Parameter w3 shape: expected `{shape}`, received `(10, 128)`." if name == "w3"
                else f"Parameter {name} shape: `{shape}` as expected.")
        assert line in layout, layout
    assert "w3: shape (10, 128), expected (128, 10)" in layout
    assert "PyTorch's `nn.Linear` stores the transpose" in layout
    assert "output size" not in layout  # the advice for convolutions does not apply
    html = (feedback / "torch_layout" / f"{A}.html").read_text()
    assert "<td>5. parameter w3 shape</td>" in html and "<td>1. parameter w1 shape</td>" in html
    nan = (feedback / "nan_weights" / f"{A}.md").read_text()
    assert "training diverged" in nan
