"""Student feedback (.md and .html) from graded results.

`sample_results` builds the results a grading batch produces for the usual
failures, with the exact numbers of the course's worked examples; the report
and platform tests use it too.
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from autograder import catalog
from autograder.cases import mistakes_for
from autograder.outputs.feedback import feedback_path, render_html, render_markdown, write_feedback
from autograder.outputs.feedback.arrays import build_grid, differs_mask, format_pair
from autograder.outputs.feedback.markdown import block, code, grid_text, prose, shade_map, text
from autograder.results import CaseResult, ProblemResult, SubmissionResult
from tests.conftest import GRADED_CLASS_SEED

SECRET_SEED = 918273645
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
PRIVATE_VALUE = "7777.125"  # an input of a hidden case that must stay private


def _array(values, dtype="float64"):
    arr = np.asarray(values, dtype=float)
    return {"type": "ndarray", "shape": list(arr.shape), "dtype": dtype, "values": arr.tolist()}


def _mismatch(expected, received, atol=1e-8, rtol=1e-5):
    e, r = np.asarray(expected, float), np.asarray(received, float)
    differs = ~np.isclose(r, e, rtol=rtol, atol=atol)
    diff = np.abs(r - e)
    return {
        "count": int(differs.sum()), "total": int(e.size), "max_abs": float(diff.max()),
        "max_rel": float((diff / np.maximum(np.abs(e), 1e-300)).max()),
        "first_index": [int(i) for i in np.argwhere(differs)[0]], "atol": atol, "rtol": rtol,
        "differs": differs.tolist(), "abs_diff_map": None,
    }


def _case(name, points, **kw) -> CaseResult:
    passed = kw.pop("passed", False)
    return CaseResult(name=name, passed=passed, score=points if passed else 0.0,
                      max_score=points, **kw)


def _problem(name, cases, flags=()) -> ProblemResult:
    return ProblemResult(name, sum(c.score for c in cases), sum(c.max_score for c in cases),
                         list(flags), cases)


def flipped_kernel_case() -> CaseResult:
    """corr1d on the slides' example: [1,2,3,4] with [1,0,-1] gives [-2,-2]; flipped gives [2,2]."""
    return _case(
        "slides: x=[1,2,3,4], h=[1,0,-1]", 0.5, public=True, diagnosis="flipped_kernel",
        message="2 of 2 values differ from the expected output.",
        hint="Deep-learning convolution is cross-correlation and does not flip the kernel: "
             "`y[i] = sum_j h[j] * x[i*stride + j]`.",
        details={
            "stage": "values",
            "inputs": {"x": {"shape": [4], "dtype": "int64", "values": [1, 2, 3, 4]},
                       "h": {"shape": [3], "dtype": "int64", "values": [1, 0, -1]}},
            "expected": _array([-2, -2]), "received": _array([2, 2]),
            "mismatch": _mismatch([-2, -2], [2, 2]),
        },
    )


def shape_case() -> CaseResult:
    """conv1d_single with L=8, K=3, stride 2, padding 1: 4 outputs, 3 without the +1."""
    return _case(
        "random 1: L=8, K=3, stride=2, padding=1", 1.5, diagnosis="missing_plus_one",
        message="The output has shape (3,), expected (4,).",
        hint="The first window also counts: `L_out = floor((n + 2*p - d*(k-1) - 1) / s) + 1`.",
        details={
            "stage": "shape",
            "inputs": {"x": {"shape": [8], "dtype": "float64"},
                       "h": {"shape": [3], "dtype": "float64"}},
            "expected": {"type": "ndarray", "shape": [4], "dtype": "float64", "values": None},
            "received": {"type": "ndarray", "shape": [3], "dtype": "float64", "values": None},
        },
    )


def raised_case() -> CaseResult:
    return _case(
        "blog: 2 features to 3 features", 1.25, status="raised",
        message="conv1d raised IndexError: index 5 is out of bounds for axis 1 with size 5",
        details={
            "stage": "exception",
            "traceback": (
                "  Cell In[9], line 14, in conv1d\n"
                "    acc += weight[o, c, j] * x[c, i * stride + j]\n"
                "IndexError: index 5 is out of bounds for axis 1 with size 5"
            ),
        },
    )


def corr2d_flipped_case() -> CaseResult:
    """corr2d of arange(9).reshape(3,3) with [[0,1],[2,3]]: [[19,25],[37,43]]; flipped kernel."""
    expected, received = [[19, 25], [37, 43]], [[5, 11], [23, 29]]
    return _case(
        "d2l: X=arange(9).reshape(3,3), K=[[0,1],[2,3]]", 1.0, public=True,
        diagnosis="flipped_kernel", hint="Do not flip the kernel.",
        details={"stage": "values",
                 "inputs": {"X": {"shape": [3, 3], "dtype": "int64",
                                  "values": np.arange(9).reshape(3, 3).tolist()},
                            "K": {"shape": [2, 2], "dtype": "int64", "values": [[0, 1], [2, 3]]}},
                 "expected": _array(expected), "received": _array(received),
                 "mismatch": _mismatch(expected, received)},
    )


def large_pad_case() -> CaseResult:
    """pad2d of a 40x40 input: 44x44 output, wrong only on the border (block map 22x22)."""
    diff_map = np.zeros((22, 22))
    diff_map[0, :] = diff_map[-1, :] = diff_map[:, 0] = diff_map[:, -1] = 1.5
    return _case(
        "random 2: (40, 40), padding 2, reflect", 1.0,
        details={
            "stage": "values",
            "inputs": {"x": {"shape": [40, 40], "dtype": "float64"}, "padding": 2,
                       "mode": {"shape": [], "dtype": "str", "values": "reflect"}},
            "expected": {"type": "ndarray", "shape": [44, 44], "dtype": "float64", "values": None},
            "received": {"type": "ndarray", "shape": [44, 44], "dtype": "float64", "values": None},
            "mismatch": {"count": 344, "total": 1936, "max_abs": 1.5, "max_rel": 0.75,
                         "first_index": [0, 0], "atol": 1e-8, "rtol": 1e-5, "differs": None,
                         "abs_diff_map": diff_map.tolist()},
        },
    )


def sample_results() -> list[SubmissionResult]:
    """Four submissions: ordinary mistakes, a timeout and a forbidden call, a broken
    notebook, and a hostile one whose every student-controlled string is HTML."""
    alice = SubmissionResult(
        "alice", "01_conv1d", score=5.75, max_score=12, seed=SECRET_SEED, seconds=3.2,
        problems={
            "conv_output_length": _problem("conv_output_length", [
                _case("worked example", 1.0, passed=True), _case("edge", 1.0, passed=True)]),
            "corr1d": _problem("corr1d", [
                flipped_kernel_case(),
                _case("random 1: L=6, K=3", 0.5, diagnosis="flipped_kernel", details={
                    "stage": "values",
                    "inputs": {"x": {"shape": [6], "dtype": "float64",
                                     "values": [float(PRIVATE_VALUE)] * 6}}}),
                _case("random 2: L=9, K=4", 0.5, passed=True, public=True),
                _case("edge: K=L", 0.5, passed=True),
            ]),
            "conv1d_single": _problem("conv1d_single", [
                _case("slides", 1.5, passed=True, public=True), shape_case()]),
            "conv1d": _problem("conv1d", [
                raised_case(), _case("random 1", 1.25, status="raised"),
                _case("bad stride raises ValueError", 1.25, passed=True),
                _case("random 2", 1.25, status="raised")]),
        },
    )
    bob = SubmissionResult(
        "bob", "02_conv2d", score=2.0, max_score=11, seed=SECRET_SEED, seconds=41.0,
        flags=["forbidden_call", "timeout"],
        notes=["The notebook's code ran out of time, so the remaining cases were not run."],
        problems={
            "corr2d": _problem("corr2d", [
                corr2d_flipped_case(),
                _case("random 1", 1.0, status="timeout",
                      message="corr2d did not return within 10 s (the limit per call).",
                      details={"stage": "status", "cell": 5})]),
            "pad2d": _problem("pad2d", [
                _case("worked example", 1.0, passed=True, public=True), large_pad_case(),
                _case("circular", 1.0, passed=True)]),
            "conv2d": _problem("conv2d", [
                _case("slides: 4x4x2 input, three 2x2 kernels", 6.0, status="forbidden",
                      message="conv2d called torch.nn.functional.conv2d, which graded "
                              "functions may not use.",
                      details={"stage": "status", "call": "torch.nn.functional.conv2d",
                               "cell": 7, "line": 12,
                               "source": "return F.conv2d(torch.tensor(x), w).numpy()"})],
                flags=["forbidden_call"]),
        },
    )
    carol = SubmissionResult(
        "carol", "01_conv1d", score=0.0, max_score=12, seed=SECRET_SEED, seconds=0.1,
        error="the notebook is not valid JSON (line 1, column 20: Expecting ',' delimiter)",
    )
    mallory = SubmissionResult(
        HOSTILE, "01_conv1d", score=0.0, max_score=12, seed=SECRET_SEED, seconds=1.0,
        notes=[f"cell 3 raised an error: {HOSTILE}"],
        problems={"corr1d": _problem("corr1d", [_case(
            HOSTILE, 2.0, status="raised", message=f"corr1d raised ValueError: {HOSTILE}",
            details={"stage": "exception", "cell": HOSTILE, "source": HOSTILE,
                     "traceback": f"  Cell In[2], line 1\nValueError: {HOSTILE}"},
        )])},
    )
    return [alice, bob, carol, mallory]


def _by_student(name: str) -> SubmissionResult:
    return next(r for r in sample_results() if r.student == name)


# ----------------------------------------------------------------------------- Markdown


def test_markdown_worked_example_names_the_mistake_and_shows_both_arrays():
    md = render_markdown(_by_student("alice"))
    assert "**Score: 5.75 / 12**" in md
    assert "Likely mistake: flipped kernel." in md
    # The engine's own sentence for the mistake, looked up in its registry.
    title = next(m.title for m in mistakes_for("corr1d") if m.id == "flipped_kernel")
    assert text(title) in md
    assert "2 of 2 entries differ." in md
    assert "First differing entry at index [0]: expected -2, received 2." in md
    section = md[md.index("## `corr1d`"):md.index("## `conv1d_single`")]
    grid = section[section.index("```text"):]
    assert re.search(r"expected\s+received", grid)
    assert re.search(r"-2\* -2\* +2\*  2\*", grid)


def test_markdown_orders_inputs_type_shape_values():
    md = render_markdown(_by_student("alice"))
    section = md[md.index("## `corr1d`"):]
    positions = [section.index(s) for s in ("Inputs:", "1. Type:", "2. Shape:", "3. Values:",
                                            "entries differ", "What to look at next")]
    assert positions == sorted(positions)
    assert "`x`: `[1, 2, 3, 4] (shape (4,), int64)`" in section


def test_markdown_shape_mismatch_stops_before_values():
    md = render_markdown(_by_student("alice"))
    section = md[md.index("## `conv1d_single`"):md.index("## `conv1d`:")]
    assert "1. Type: `ndarray of float64` as expected." in section
    assert "2. Shape: expected `(4,)`, received `(3,)`." in section
    assert "3. Values: not compared" in section
    assert "`x`: `shape (8,), float64`" in section
    assert "Likely mistake: missing plus one." in section


def test_markdown_exception_shows_the_students_traceback_in_a_block():
    md = render_markdown(_by_student("alice"))
    section = md[md.index("## `conv1d`:"):]
    assert "First failing case: blog: 2 features to 3 features (raised an exception)" in section
    assert "```text\n  Cell In[9], line 14, in conv1d\n" in section
    assert "Read the last line of the traceback first" in section
    # Only the first failing case in full; the others by name and verdict.
    assert "- random 1: raised an exception" in section
    assert "- random 2: raised an exception" in section
    assert "bad stride" not in section  # passed cases are not listed


def test_markdown_timeout_names_the_cell_and_forbidden_call_names_the_line():
    md = render_markdown(_by_student("bob"))
    assert "- random 1: did not finish in time" in md  # second failing case of corr2d
    conv2d = md[md.index("## `conv2d`"):]
    assert ("Where: call to torch.nn.functional.conv2d, line 12 of the cell that defines "
            "`conv2d`: " in conv2d)
    assert "`return F.conv2d(torch.tensor(x), w).numpy()`" in conv2d
    assert "A call to a forbidden library function was found in your code." in md
    assert "library convolutions" in conv2d


def test_timeout_as_first_failure_names_the_cell():
    timeout = _by_student("bob").problems["corr2d"].cases[1]
    result = SubmissionResult("dan", "02_conv2d", 0, 11, problems={
        "corr2d": _problem("corr2d", [timeout])})
    assert "Where: the cell that defines `corr2d`" in render_markdown(result)
    assert ("<strong>Where:</strong> the cell that defines <code>corr2d</code>"
            in render_html(result))


def test_markdown_large_output_gets_a_shaded_difference_map():
    md = render_markdown(_by_student("bob"))
    section = md[md.index("## `pad2d`"):md.index("## `conv2d`")]
    assert "344 of 1936 entries differ." in section
    block_text = section[section.index("```text\n") + 8:]
    rows = block_text[:block_text.index("\n```")].split("\n")
    assert len(rows) == 22 and rows[0] == "@" * 22 and rows[5] == "@" + " " * 20 + "@"


def test_markdown_broken_notebook_says_why_and_what_to_do():
    md = render_markdown(_by_student("carol"))
    assert "## Your notebook could not be graded" in md
    assert "Expecting ',' delimiter" in md
    assert "Restart Kernel and Run All Cells" in md
    assert "| function |" not in md


def test_feedback_never_shows_the_seed_or_other_cases_inputs():
    alice = _by_student("alice")
    for page in (render_markdown(alice), render_html(alice)):
        assert str(SECRET_SEED) not in page
        assert PRIVATE_VALUE not in page
        assert "random 1: L=6, K=3" in page  # summarised by name


def test_markdown_escapes_student_text():
    """Rendered by a CommonMark renderer that passes raw HTML through, no tag survives."""
    md = render_markdown(_by_student(HOSTILE))
    page = _parse(MarkdownIt("commonmark", {"html": True}).enable("table").render(md))
    assert not [t for t, a in page.tags if t in ("script", "img") or "onerror" in a]
    assert HOSTILE in "".join(page.text)  # shown, as text
    outside_code = re.sub(r"`+[^`]*`+", "", md)
    assert not re.search(r"<[A-Za-z/!?]", outside_code)


def test_markdown_helpers_cannot_be_broken_out_of():
    assert code("a ``` b") == "````a ``` b````"
    assert block("x\n````\ny").startswith("`````text\n")
    assert text("# [link](http://x) <b>") == r"\# [link\](http://x) &lt;b>"


def _rendered(md: str) -> _Collector:
    return _parse(MarkdownIt("commonmark", {"html": True}).enable("table").render(md))


# Markdown's and HTML's special characters, with letters, digits, spaces and newlines.
MARKUP_TEXT = st.text(alphabet="ab1_ *`<>&#;[](){}:!/?|~=+-.\\\t\n", max_size=40)


@settings(max_examples=300, deadline=None)
@given(MARKUP_TEXT, st.booleans())
@example("[a]: /u\n[a] <https://x> &lt; &#60;", True)  # a link definition, then its use
@example("](/u) [a](/u) ![i](/u) [b][a]", False)
def test_text_renders_as_exactly_the_text_and_nothing_else(s, line_start):
    """The oracle is a CommonMark renderer: no tag but paragraphs and line breaks, same text."""
    before = "" if line_start else "x"  # mid-line: after the grader's own words
    page = _rendered(before + text(s, line_start=line_start))
    assert {t for t, _ in page.tags} <= {"p", "br"}
    assert "".join(page.text).split() == (before + s).split()  # white space aside


def test_plain_text_reads_as_written_in_the_md_file():
    # What the grader writes about tolerances and formulas: no entities, no stray backslashes.
    assert text("|received - expected| <= atol, L_out = 2") == (
        r"\|received - expected\| <= atol, L_out = 2")
    assert prose("a `b*c` <= d_e & f") == "a `b*c` <= d_e & f"
    assert text("- item\n1. first\n> quote") == r"\- item  " + "\n" + r"1\. first  " + (
        "\n" + r"\> quote")


# ----------------------------------------------------------------------------- HTML


class _Collector(HTMLParser):
    """Tags, attributes and text of a page, for checks that do not depend on layout."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(page: str) -> _Collector:
    c = _Collector()
    c.feed(page)
    return c


def test_html_is_self_contained():
    for result in sample_results():
        page = _parse(render_html(result))
        tags = {t for t, _ in page.tags}
        assert not tags & {"script", "link", "iframe", "object", "embed"}
        for _, attrs in page.tags:
            for key in ("src", "href"):
                value = attrs.get(key)
                assert value is None or value.startswith(("data:image/png;base64,", "#"))


def test_html_escapes_hostile_student_text():
    page = render_html(_by_student(HOSTILE))
    assert "<script" not in page and "<img src=x" not in page
    parsed = _parse(page)
    assert not [t for t, a in parsed.tags if t in ("script", "img") or "onerror" in a]
    assert HOSTILE in "".join(parsed.text)  # shown, as text


def test_html_highlights_exactly_the_differing_entries():
    page = render_html(_by_student("bob"))
    section = page[page.index('id="fn-corr2d"'):page.index('id="fn-pad2d"')]
    cells = re.findall(r'<td( class="d")?>(-?\d+)</td>', section)
    assert [v for _, v in cells] == ["19", "25", "37", "43", "5", "11", "23", "29"]
    assert all(mark for mark, _ in cells)
    assert "Likely mistake: flipped kernel." in section


def test_html_large_output_embeds_a_png_heatmap():
    page = render_html(_by_student("bob"))
    section = page[page.index('id="fn-pad2d"'):page.index('id="fn-conv2d"')]
    uri = re.search(r'src="data:image/png;base64,([^"]+)"', section).group(1)
    assert base64.b64decode(uri)[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_lists_every_function_with_its_score():
    page = _parse(render_html(_by_student("alice")))
    body = " ".join(" ".join(page.text).split())
    for name, score in (("conv_output_length", "2 / 2"), ("corr1d", "1 / 2"),
                        ("conv1d_single", "1.5 / 3"), ("conv1d", "1.25 / 5")):
        assert re.search(rf"{name} {re.escape(score)}", body), name


def test_every_known_mistake_is_named_in_the_feedback():
    """For each function and each mistake the engine can diagnose, the feedback names it."""
    checked = 0
    for p in catalog.PROBLEMS:
        try:
            mistakes = mistakes_for(p.name)
        except ImportError:  # that assignment's cases are not in this checkout yet
            continue
        for mistake in mistakes:
            # As the engine's judge fills it: the hint starts with the mistake's sentence.
            case = _case("case 1", 1.0, diagnosis=mistake.id,
                         hint=f"{mistake.title} {mistake.hint}", details={"stage": "values"})
            result = SubmissionResult("s", p.assignment, 0, catalog.max_score(p.assignment),
                                      problems={p.name: _problem(p.name, [case])})
            md, page = render_markdown(result), render_html(result)
            name = mistake.id.replace("_", " ")
            assert f"Likely mistake: {text(name)}." in md
            assert f"Likely mistake: {name}." in page
            # The engine's sentence once: beside the name when the id means one
            # thing for this function, else at the start of the hint.
            assert md.count(prose(mistake.title)) == 1
            assert prose(mistake.hint) in md
            unique = len({m.title for m in mistakes if m.id == mistake.id}) == 1
            beside = f"Likely mistake: {text(name)}.** {prose(mistake.title)}"
            assert (beside in md) == unique
            checked += 1
    assert checked >= 10


def test_feedback_without_details_still_says_what_happened():
    case = _case("random 3", 1.0, status="crashed")
    result = SubmissionResult("erin", "01_conv1d", 0, 12,
                              problems={"corr1d": _problem("corr1d", [case])})
    md = render_markdown(result)
    assert "First failing case: random 3 (crashed the Python process)" in md
    assert "sys.exit" in md


@pytest.mark.parametrize(("reason", "advice"), [
    ("exceeded the memory limit (2.0 GiB) in conv1d", "Your code ran out of memory"),
    ("called os._exit(0) in cell 38", "Remove `sys.exit()`, `os._exit()`, `exit()` and"),
])
def test_a_crash_gets_advice_for_its_cause(reason, advice):
    case = _case("slides", 1.0, status="crashed", message=f"The process died: {reason}.")
    result = SubmissionResult("erin", "01_conv1d", 0, 12,
                              problems={"conv1d": _problem("conv1d", [case])})
    assert advice in render_markdown(result)
    page = render_html(result)
    assert reason in page and re.sub("`([^`]+)`", r"<code>\1</code>", advice) in page


def test_a_timeout_shows_the_def_line_of_its_function():
    case = _case("slides", 1.0, status="timeout",
                 message="`corr1d` (cell 11, line 1) did not finish: ran longer than 10 s.",
                 details={"stage": "status", "cell": 11, "line": 1,
                          "source": "def corr1d(x, h):"})
    result = SubmissionResult("erin", "01_conv1d", 0, 12,
                              problems={"corr1d": _problem("corr1d", [case])})
    md = render_markdown(result)
    # "cell 11" counts markdown cells, which JupyterLab does not number: the cell is named
    # by the function it defines, and its def line is shown.
    assert "`corr1d` did not finish: ran longer than 10 s." in md
    assert "Where: line 1 of the cell that defines `corr1d`: `def corr1d(x, h):`" in md
    assert "cell 11" not in md
    assert ("<strong>Where:</strong> line 1 of the cell that defines <code>corr1d</code>: "
            "<code>def corr1d(x, h):</code>" in render_html(result))


@pytest.mark.parametrize(("reason", "advice"), [
    ("the submission ran out of time in `corr1d` (case 'slides')", ""),
    ("the process died (exceeded the memory limit of 2.0 GiB) while running `conv1d` "
     "(case 'slides')", " Your code ran out of memory"),
    ("the process died (called os._exit(0)) while running cell 38",
     " Remove `sys.exit()`, `os._exit()`, `exit()` and"),
])
def test_a_case_that_never_ran_says_so_and_why(reason, advice):
    never = [_case(name, 1.0, status="not_run", details={"stage": "status"},
                   message=f"`conv1d_single` was not run on this case: {reason}.")
             for name in ("slides", "blog")]
    result = SubmissionResult("erin", "01_conv1d", 0, 12,
                              problems={"conv1d_single": _problem("conv1d_single", never)})
    md = render_markdown(result)
    assert "First failing case: slides (not run, the notebook had already stopped)" in md
    assert "- blog: not run, the notebook had already stopped" in md
    # A cell is counted as a student counts it, markdown cells too.
    told = reason.replace("cell 38", "cell 38 (counting from the top, text cells included)")
    assert prose(f"`conv1d_single` was not run on this case: {told}.") in md
    assert ("**What to look at next:** This case never ran, so there is nothing to fix in it "
            "yet: fix what stopped the notebook (the time limit or the crash named above), and "
            f"it will be graded.{advice}") in md
    assert "did not finish" not in md and "crashed" not in md


# ----------------------------------------------------------------------------- files


def test_write_feedback_writes_html_and_md_per_submission(tmp_path):
    results = sample_results()
    written = write_feedback(results, tmp_path)
    assert len(written) == 2 * len(results)
    assert tmp_path / "feedback" / "alice" / "01_conv1d.html" in written
    assert (tmp_path / "feedback" / "bob" / "02_conv2d.md").read_text().startswith("# Feedback")
    for path in written:
        assert path.resolve().is_relative_to((tmp_path / "feedback").resolve())
    assert feedback_path(tmp_path, "../../x", "01_conv1d").parent.parent == tmp_path / "feedback"


# ----------------------------------------------------------------------------- arrays


def test_format_pair_shows_enough_digits_to_differ():
    assert format_pair(0.1 + 0.2, 0.3) == ("0.30000000000000004", "0.3")
    assert format_pair(13.0, 13.0) == ("13", "13")
    assert format_pair(1 + 2j, 1 - 2j) == ("1+2j", "1-2j")


def test_grid_wraps_long_1d_outputs_and_keeps_the_mask():
    e = np.arange(25.0)
    r = e.copy()
    r[13] = -1.0
    grid = build_grid(e, r, differs_mask(e, r, {"atol": 1e-8, "rtol": 1e-5}))
    assert grid.row_labels == ["0", "10", "20"]
    assert grid.expected[1][3] == "13" and grid.received[1][3] == "-1"
    assert [d for row in grid.differs for d in row].count(True) == 1 and grid.differs[1][3]
    assert grid.expected[2][5:] == [""] * 5
    lines = grid_text(grid).split("\n")
    assert lines[0].split() == ["expected", "received"]
    assert "-1*" in lines[3]


def test_differs_mask_prefers_the_engines_mask():
    e, r = np.zeros(3), np.array([0.0, 1e-9, 5.0])
    assert differs_mask(e, r, {"differs": [True, False, False]}).tolist() == [True, False, False]
    assert differs_mask(e, r, {"atol": 1e-8, "rtol": 0}).tolist() == [False, False, True]


def test_shade_map_scales_to_the_largest_difference():
    assert shade_map([[0.0, 0.4], [1.0, float("nan")]]) == " =\n@@"


@pytest.mark.parametrize("bad", [None, {}, {"values": [[1, 2], [3]]}])
def test_grid_absent_when_values_are_missing_or_ragged(bad):
    case = flipped_kernel_case()
    case.details["received"] = bad
    view_md = render_markdown(SubmissionResult("s", "01_conv1d", 0, 12, problems={
        "corr1d": _problem("corr1d", [case])}))
    assert "```text" not in view_md
    assert "2 of 2 entries differ." in view_md


# ----------------------------------------------------------------------------- real grading

@pytest.mark.slow
def test_feedback_on_real_graded_output(graded_class):
    results, _ = graded_class
    by = {r.student: r for r in results}
    md = render_markdown(by["flipped_kernel"])
    corr1d = md[md.index("## `corr1d`"):]
    assert "Likely mistake: flipped kernel." in corr1d
    assert re.search(r"-2\* -2\* +2\*  2\*", corr1d)  # the slides' example, side by side
    assert corr1d.index("`x`:") < corr1d.index("`h`:")  # in the order of the signature
    assert corr1d.count("entries differ") == 1  # the engine's sentence, not repeated
    torch_md = render_markdown(by["calls_torch"])
    assert "line 7 of the cell that defines `conv1d`" in torch_md
    assert "torch.nn.functional.conv1d" in torch_md
    # A cell that defines no function (its top-level `import torch`) is counted as a student
    # counts; every other place is named by the function.
    assert all(m.group(1) for m in re.finditer(r"(?<![<;])cell \d+( \(counting from the top)?",
                                               torch_md)), torch_md
    assert "could not be graded" in render_markdown(by["broken_json"])
    for r in results:
        assert str(GRADED_CLASS_SEED) not in render_markdown(r)
        page = _parse(render_html(r))
        assert all(a.get("src", "data:").startswith("data:") for _, a in page.tags)


def test_a_function_that_returns_none_is_told_to_return():
    case = _case("slides: n=4, k=3", 2.0, message="Expected an int, got None.", details={
        "stage": "type", "expected": {"type": "int", "dtype": "int", "shape": [], "values": 2},
        "received": {"type": "NoneType", "values": None}})
    result = SubmissionResult("frank", "01_conv1d", 0, 12, flags=["monkeypatch"], problems={
        "conv_output_length": _problem("conv_output_length", [case])})
    md = render_markdown(result)
    assert "1. Type: expected `int`, received `NoneType`." in md
    assert "Your function returned `None`: end it with `return`" in md
    assert "replaces a library function" in md and "Flagged for your TA" not in md
    assert "replaces a library function (such as <code>np.allclose</code>)" in render_html(result)


# ----------------------------------------------------------------------------- cosmetics


@pytest.fixture(scope="module")
def graded_crash_and_untouched(example_class, tmp_path_factory):
    """The example class's `exits` (os._exit in an extra cell) and `untouched` notebooks."""
    from autograder.grade import grade

    notebooks = [example_class / s / "01_conv1d" / "01_conv1d.ipynb"
                 for s in ("exits", "untouched")]
    results = grade(notebooks, out=tmp_path_factory.mktemp("graded"), seed=GRADED_CLASS_SEED,
                    workers=1)
    return {r.student: r for r in results}


def test_a_crash_is_told_once(graded_crash_and_untouched):
    result = graded_crash_and_untouched["exits"]
    assert sum("process died" in n for n in result.notes) >= 1  # the engine may say it more
    md = render_markdown(result)
    head = md[:md.index("| function |")]
    assert head.count("os.\\_exit(0)") == 1, head
    # The cases the crash left were run again without its cell: nothing is lost to it.
    assert result.score == result.max_score
    # The cell it ran in is not a function's: counted as a student counts, text cells too.
    assert "text cells included" in head


def test_an_unanswered_function_gets_one_line(graded_crash_and_untouched):
    result = graded_crash_and_untouched["untouched"]
    n_cases = len(result.problems["corr1d"].cases)
    md = render_markdown(result)
    corr1d = md[md.index("## `corr1d`"):md.index("## `conv1d_single`")]
    assert f"**not implemented yet (all {n_cases} cases).**" in corr1d
    assert corr1d.count("not implemented") == 1, corr1d
    assert "Replace `raise NotImplementedError()`" in corr1d
    assert "First failing case" not in corr1d and "Other failing cases" not in corr1d
    html = render_html(result)
    for name, problem in result.problems.items():  # one line per function in the page too
        section = html[html.index(f'<section id="fn-{name}">'):]
        section = section[:section.index("</section>")]
        assert section.count("not implemented") == 1, section
        assert f"not implemented yet (all {len(problem.cases)} cases)" in section


def test_cases_that_failed_the_same_uninformative_way_share_a_short_line():
    stopped = [_case(f"random {i}", 1.0, status="not_run", details={"stage": "status"},
                     message="`conv1d` was not run on this case: the process died (x).")
               for i in range(1, 6)]
    result = SubmissionResult("erin", "01_conv1d", 0, 12, problems={
        "conv1d": _problem("conv1d", [raised_case(), *stopped])})
    md = render_markdown(result)
    assert "Other failing cases (5), in short:" in md
    assert "- 5 cases: not run, the notebook had already stopped" in md
    assert "random 2" not in md


def test_the_first_failing_case_shown_is_a_worked_example_when_one_failed():
    random_case = shape_case()  # a random (secret) case that failed, listed first
    assert not random_case.public
    result = SubmissionResult("erin", "01_conv1d", 0, 12, problems={
        "corr1d": _problem("corr1d", [random_case, flipped_kernel_case()])})
    md = render_markdown(result)
    assert "First failing case: slides: x=[1,2,3,4], h=[1,0,-1] (wrong values)" in md
    assert "- random 1: L=8, K=3, stride=2, padding=1: wrong shape" in md


def test_a_forbidden_call_is_placed_in_the_cell_that_defines_the_function():
    case = _case("slides", 1.0, status="forbidden",
                 message="`conv1d` (cell 33, line 7) called np.convolve, which is not allowed.",
                 details={"stage": "status", "cell": 33, "line": 7, "call": "np.convolve",
                          "source": "return np.convolve(x, h)"})
    result = SubmissionResult("erin", "01_conv1d", 0, 12, problems={
        "conv1d": _problem("conv1d", [case])})
    md = render_markdown(result)
    assert ("Where: call to np.convolve, line 7 of the cell that defines `conv1d`: "
            "`return np.convolve(x, h)`") in md
    assert "cell 33" not in md
