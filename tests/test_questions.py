"""Self-test questions: the answers are right (checked with NumPy and PyTorch), `check()` and
official grading accept them in any reasonable form, and a wrong answer never shows the
right one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import conv_ref
from autograder import catalog, check
from autograder.cases import PUBLIC_SEED, generate_cases, mistakes_for
from autograder.cases.questions import QUESTIONS
from autograder.execution.outcome import CallOutcome
from autograder.scoring.judge import judge

NAMES = [p.name for p in catalog.PROBLEMS if p.question]
rng = np.random.default_rng(5)


def answer_of(name):
    return QUESTIONS[name].answer


# ----------------------------------------------------------------------------- the answers


def test_every_question_is_in_the_catalog_with_one_point_and_an_answer():
    assert set(NAMES) == set(QUESTIONS)
    assert len(NAMES) >= 8
    assert {catalog.problem(n).assignment for n in NAMES} >= {
        "01_conv1d", "02_conv2d", "05_equivariance", "06_variants"}
    assert all(catalog.problem(n).points == 1 and catalog.problem(n).signature == f"{n}()"
               for n in NAMES)


def test_output_length_and_shape_are_pytorchs():
    conv = torch.nn.Conv1d(1, 1, 5, stride=2, padding=2)
    assert conv(torch.zeros(1, 1, 20)).shape[-1] == answer_of("q_output_length")
    assert conv_ref.conv_output_length(20, 5, 2, 2) == answer_of("q_output_length")
    conv2 = torch.nn.Conv2d(3, 8, kernel_size=5, stride=2, padding=1)
    assert tuple(conv2(torch.zeros(1, 3, 32, 32)).shape[1:]) == answer_of("q_conv2d_output_shape")


def test_same_padding_keeps_the_size_of_the_dilated_layer():
    p = answer_of("q_same_padding")
    y = F.conv2d(torch.zeros(1, 1, 20, 20), torch.zeros(1, 1, 7, 7), padding=p, dilation=2)
    assert tuple(y.shape[-2:]) == (20, 20)


def test_doubling_the_resolution_keeps_the_parameters_and_quadruples_the_macs():
    from autograder.cases.architectures import NETWORKS

    p_factor, m_factor = answer_of("q_double_resolution")
    for name in ("VGG-16 block 2", "ResNet bottleneck block", "MobileNet block"):
        layers, (c, h, w) = NETWORKS[name]
        _, p1, m1 = conv_ref.network_stats(layers, (c, h, w))
        _, p2, m2 = conv_ref.network_stats(layers, (c, 2 * h, 2 * w))
        assert p2.sum() == p_factor * p1.sum() and m2.sum() == m_factor * m1.sum(), name


def _holds(statement) -> bool:
    return all(statement(rng.standard_normal(int(rng.integers(2, 6))),
                         rng.standard_normal(int(rng.integers(2, 6))),
                         rng.standard_normal(int(rng.integers(2, 6)))) for _ in range(20))


def test_the_properties_that_hold_are_the_answer():
    conv, corr = (lambda a, b: np.convolve(a, b, "full")), (lambda a, b: np.correlate(a, b, "full"))
    statements = {
        "A": lambda x, h, g: np.allclose(conv(x, h), conv(h, x)),
        "B": lambda x, h, g: np.allclose(corr(x, h), corr(h, x)),
        "C": lambda x, h, g: np.allclose(conv(conv(x, h), g), conv(x, conv(h, g))),
        "D": lambda x, h, g: np.allclose(corr(x, h), conv(x, h[::-1])),
        "E": lambda x, h, g: np.allclose(corr(corr(x, h), g), corr(x, corr(h, g))),
    }
    true = {letter for letter, s in statements.items() if _holds(s)}
    assert true == set(answer_of("q_conv_properties"))


def _equivariant(f, x) -> bool:
    """Whether shifting x by one shifts f(x) by some fixed amount (circularly)."""
    y, shifted = f(x), f(torch.roll(x, 1, dims=-1))
    return y.shape == shifted.shape and any(
        torch.allclose(shifted, torch.roll(y, t, dims=-1), atol=1e-6) for t in range(y.shape[-1]))


def test_only_circular_padding_commutes_with_circular_shifts():
    x = torch.randn(1, 1, 12, generator=torch.Generator().manual_seed(0))
    modes = {"A": "zeros", "B": "reflect", "C": "replicate", "D": "circular"}
    good = set()
    for letter, mode in modes.items():
        conv = torch.nn.Conv1d(1, 1, 3, padding=1, padding_mode=mode)
        with torch.no_grad():
            if _equivariant(conv, x):
                good.add(letter)
    assert good == set(answer_of("q_equivariant_padding"))


def test_the_layers_that_break_equivariance_are_the_answer():
    torch.manual_seed(0)
    x = torch.randn(1, 2, 12)
    layers = {
        "A": torch.nn.Conv1d(2, 2, 3, padding=1, padding_mode="circular", bias=False),
        "B": torch.nn.ReLU(),
        "C": torch.nn.Conv1d(2, 2, 3, stride=2, padding=1, padding_mode="circular"),
        "D": torch.nn.MaxPool1d(2, 2),
        "E": lambda t: t + torch.tensor([[0.5], [-1.0]]),
        "F": torch.nn.Linear(12, 12),
    }
    with torch.no_grad():
        broken = {letter for letter, f in layers.items() if not _equivariant(f, x)}
    assert broken == set(answer_of("q_breaks_equivariance"))


def test_the_transposed_convolution_is_the_direct_one_dumoulin_and_visin_give():
    k, s, p, i = 4, 2, 1, 8
    k2, s2, p2, zeros, a = answer_of("q_transposed_equivalent")
    o = conv_ref.conv_output_length(i, k, s, p)
    y = torch.randn(1, 1, o, dtype=torch.float64)
    w = torch.randn(1, 1, k, dtype=torch.float64)
    transposed = F.conv_transpose1d(y, w, stride=s, padding=p, output_padding=a)
    stretched = torch.zeros(1, 1, (o - 1) * (zeros + 1) + 1, dtype=torch.float64)
    stretched[..., ::zeros + 1] = y
    stretched = F.pad(stretched, (0, a))  # the a extra zeros go on the far side
    direct = F.conv1d(stretched, w.flip(-1), stride=s2, padding=p2)
    assert k2 == k and transposed.shape[-1] == i
    assert torch.allclose(transposed, direct)
    assert a == (i + 2 * p - k) % s


def test_output_padding_gives_back_the_longer_input():
    a = answer_of("q_output_padding")
    assert conv_ref.conv_output_length(9, 4, 2, 1) == conv_ref.conv_output_length(8, 4, 2, 1) == 4
    y = F.conv_transpose1d(torch.zeros(1, 1, 4), torch.zeros(1, 1, 4), stride=2, padding=1,
                           output_padding=a)
    assert y.shape[-1] == 9 and a == (9 + 2 * 1 - 4) % 2


# ----------------------------------------------------------------------------- grading


def _forms(answer):
    if isinstance(answer, str):
        return [answer, answer.lower(), ", ".join(reversed(answer)), list(answer)]
    if isinstance(answer, tuple):
        return [answer, list(answer), np.array(answer), tuple(np.int64(v) for v in answer)]
    return [answer, np.int64(answer), float(answer)]


@pytest.mark.parametrize("name", NAMES)
def test_check_and_grading_accept_the_answer_in_every_form(name, capsys):
    (case,) = generate_cases(name, PUBLIC_SEED, public=True)
    assert generate_cases(name, 99, public=False) == [case]
    assert case.args == () and case.kind == "answer" and case.public
    for form in _forms(answer_of(name)):
        check(name, lambda form=form: form)
        assert judge(case, CallOutcome(name, case.name, "ok", value=form), 1.0).passed
    assert "all 1 public cases passed" in capsys.readouterr().out


def _wrong(answer):
    if isinstance(answer, str):
        return "B" if answer != "B" else "A"
    if isinstance(answer, tuple):
        return tuple(v + 1 for v in answer)
    return answer + 3


@pytest.mark.parametrize("name", NAMES)
def test_a_wrong_answer_fails_without_showing_the_right_one(name, capsys):
    answer = answer_of(name)
    wrong = _wrong(answer)
    with pytest.raises(AssertionError, match=f"{name}: 1 of 1 public cases failed") as info:
        check(name, lambda: wrong)
    out = capsys.readouterr().out
    assert "Expected" not in out and "Expected" not in str(info.value)
    (case,) = generate_cases(name, PUBLIC_SEED, public=True)
    result = judge(case, CallOutcome(name, case.name, "ok", value=wrong), 1.0)
    assert not result.passed and "expected" not in result.details
    shown = "".join(sorted(answer)) if isinstance(answer, str) else str(answer)
    if len(shown) > 1:  # single letters and digits occur in any sentence
        assert shown not in out + result.message


@pytest.mark.parametrize("name", NAMES)
def test_wrong_types_and_exceptions_say_what_form_to_use(name):
    (case,) = generate_cases(name, PUBLIC_SEED, public=True)
    result = judge(case, CallOutcome(name, case.name, "ok", value=None), 1.0)
    assert not result.passed and result.message.startswith("Answer with ")
    raised = judge(case, CallOutcome(name, case.name, "raised", exc_type="KeyError",
                                     message="x"), 1.0)
    assert not raised.passed and "expected answer" not in raised.message
    assert "expected" not in raised.details


@pytest.mark.parametrize("name", [n for n in NAMES if mistakes_for(n)])
def test_known_wrong_answers_are_named_without_the_answer(name):
    answer = answer_of(name)
    (case,) = generate_cases(name, PUBLIC_SEED, public=True)
    for mistake in mistakes_for(name):
        result = judge(case, CallOutcome(name, case.name, "ok", value=mistake.fn(case)), 1.0)
        assert not result.passed and result.diagnosis == mistake.id
        if not isinstance(answer, str):
            assert str(answer) not in result.hint


# ----------------------------------------------------------------------------- the command line


def test_graded_by_the_command_line_without_the_answers_in_any_output(tmp_path):
    """`autograder grade` on a 06 submission: the right answer scores, the wrong one does not,
    and no file the grader writes holds the answer of the question answered wrong."""
    import csv
    import os
    import subprocess
    import sys

    from tests.conftest import REPO
    from tests.nbfactory import notebook, to_bytes

    answers = {"q_transposed_equivalent": "def q_transposed_equivalent():\n"
                                          "    return (4, 1, 1, 1, 0)\n",  # p' = p: wrong
               "q_output_padding": "def q_output_padding():\n    return 1\n"}
    # mallory reads the answers from the grader's cases: absent from the sandbox, and a reach
    # into the grader's internals besides
    reads = {"q_output_padding": "def q_output_padding():\n"
                                 "    from autograder.cases.questions import QUESTIONS\n"
                                 "    return QUESTIONS['q_output_padding'].answer\n"}
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "alice.ipynb").write_bytes(to_bytes(notebook(answers)))
    (tmp_path / "in" / "mallory.ipynb").write_bytes(to_bytes(notebook(reads)))
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(tmp_path / "in"), "--out",
         str(tmp_path / "out"), "--seed", "5", "--assignment", "06_variants"],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "COLUMNS": "300"},
        timeout=600)
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "out" / "grades.csv", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    row = rows["alice"]
    assert rows["mallory"]["06_variants:q_output_padding"] == "0"
    assert row["06_variants:q_output_padding"] == "1"
    assert row["06_variants:q_transposed_equivalent"] == "0"
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert any(p.suffix == ".md" for p in written) and any(p.suffix == ".json" for p in written)
    right = answer_of("q_transposed_equivalent")
    forms = (str(right), str(list(right)), "".join(map(str, right)), "[4, 1, 2, 1, 0]")
    for path in written:
        text = path.read_text(errors="replace")
        assert not any(f in text for f in forms), path
    feedback = "".join(p.read_text() for p in written if p.suffix == ".md")
    assert "same padding" in feedback.lower()  # the wrong answer's diagnosis is named
