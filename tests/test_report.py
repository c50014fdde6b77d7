"""summary.html, the TA's report, on the sample batch of tests/test_feedback.py."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from autograder.catalog import max_score
from autograder.outputs.feedback import write_feedback
from autograder.outputs.report import render_summary, submission_flags, write_summary
from autograder.results import SubmissionResult
from tests.test_feedback import (
    HOSTILE,
    _case,
    _parse,
    _problem,
    flipped_kernel_case,
    sample_results,
)


def _rows(page: str) -> list[str]:
    """Each table row's text, whitespace collapsed."""
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", r)).split()) for r in rows]


def _section(page: str, start: str, end: str | None = None) -> str:
    i = page.index(start)
    return page[i:page.index(end, i)] if end else page[i:]


def test_summary_is_written_next_to_the_feedback_and_links_resolve(tmp_path):
    results = sample_results()
    write_feedback(results, tmp_path)
    path = write_summary(results, tmp_path)
    assert path == tmp_path / "summary.html"
    links = [a["href"] for t, a in _parse(path.read_text()).tags if t == "a"]
    assert links and all(not Path(unquote(h)).is_absolute() for h in links)
    for href in links:
        assert (tmp_path / unquote(href)).is_file(), href


def test_summary_embeds_a_histogram_and_a_pass_rate_chart_per_assignment():
    page = render_summary(sample_results())
    images = [a for t, a in _parse(page).tags if t == "img"]
    assert [a["alt"].split(" of ")[0] for a in images] == [
        "Histogram", "Pass rate", "Histogram", "Pass rate"]
    for a in images:
        png = base64.b64decode(a["src"].removeprefix("data:image/png;base64,"))
        assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_summary_pass_rates_and_scores_per_function():
    page = render_summary(sample_results())
    rows = _rows(_section(page, 'id="a-01_conv1d"', "</section>"))
    # alice, carol (not graded) and the hostile submission: only alice passes conv_output_length.
    assert "conv_output_length 1 of 3 (33%) 0.67 / 2 none recognised" in rows
    assert "corr1d 0 of 3 (0%) 0.33 / 2 flipped kernel: 1" in rows
    assert f"3 submissions; mean 1.92, median 0 out of {max_score('01_conv1d')}" in page


def test_summary_counts_a_mistake_once_per_submission():
    def sub(student: str, n_flipped: int) -> SubmissionResult:
        cases = [flipped_kernel_case() for _ in range(n_flipped)]
        return SubmissionResult(student, "01_conv1d", 0, 12,
                                problems={"corr1d": _problem("corr1d", cases)})

    rows = _rows(render_summary([sub("a", 3), sub("b", 1), sub("c", 0)]))
    assert "corr1d 0 of 3 (0%) 0 / 2 flipped kernel: 2" in rows


def test_flagged_submissions_say_why():
    page = render_summary(sample_results())
    rows = _rows(_section(page, "<h2>Flagged submissions</h2>", "<h2>Slowest"))
    assert rows[1:] == [
        "bob 02_conv2d 2 / 11 forbidden call timeout The notebook's code ran out of time, so "
        "the remaining cases were not run. open",
        "carol 01_conv1d 0 / 12 could not be graded the notebook is not valid JSON "
        "(line 1, column 20: Expecting ',' delimiter) open",
    ]


def test_a_flagged_note_keeps_its_code_spans_and_escapes_the_rest():
    note = "cell 31, line 7 in `conv1d`: `torch.nn.functional.conv1d` <b>"
    result = SubmissionResult("dan", "01_conv1d", 0, 12, flags=["forbidden_call"], notes=[note])
    page = render_summary([result])
    assert ("cell 31, line 7 in <code>conv1d</code>: <code>torch.nn.functional.conv1d</code> "
            "&lt;b&gt;") in page


def test_case_statuses_flag_a_submission_the_pipeline_did_not_flag():
    result = SubmissionResult("dan", "01_conv1d", 0, 12, problems={"corr1d": _problem("corr1d", [
        _case("random 1", 1.0, status="crashed"), _case("random 2", 1.0, status="timeout")])})
    assert submission_flags(result) == ["crashed", "timeout"]
    assert submission_flags(SubmissionResult("erin", "01_conv1d", 12, 12)) == []


def test_slowest_submissions_come_first():
    page = render_summary(sample_results())
    rows = _rows(_section(page, "<h2>Slowest"))
    assert rows[1:3] == ["bob 02_conv2d 41.0 s 2 / 11 open", "alice 01_conv1d 3.2 s 5.75 / 12 open"]
    assert rows[-1].startswith("carol")


def test_summary_escapes_student_names():
    page = render_summary(sample_results())
    parsed = _parse(page)
    assert not [t for t, a in parsed.tags if t == "script" or "onerror" in a]
    assert HOSTILE in "".join(parsed.text)


def test_summary_of_nothing():
    assert "No submissions were graded." in render_summary([])


@pytest.mark.slow
def test_summary_on_real_graded_output(graded_class):
    results, out = graded_class
    write_feedback(results, out)
    page = write_summary(results, out).read_text()
    rows = _rows(_section(page, 'id="a-01_conv1d"', "</section>"))
    assert any(r.startswith("corr1d 1 of 3 (33%)") and "flipped kernel: 1" in r for r in rows)
    flagged = _rows(_section(page, "<h2>Flagged submissions</h2>", "<h2>Slowest"))
    assert [r.split()[0] for r in flagged[1:]] == ["broken_json", "calls_torch"]
    for href in [a["href"] for t, a in _parse(page).tags if t == "a"]:
        assert (out / unquote(href)).is_file()
