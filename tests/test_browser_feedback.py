"""Feedback pages and summary.html open in real headless Chromium, from disk, cleanly."""

from __future__ import annotations

import pytest

from autograder.outputs.feedback import render_html, write_feedback
from autograder.outputs.report import write_summary
from autograder.results import CaseResult, ProblemResult, SubmissionResult
from tests.browser import chromium_path
from tests.test_feedback import HOSTILE, sample_results

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="Chromium is not installed (apt-get install chromium): browser tests need it",
    ),
]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("feedback")
    results = sample_results()
    html = [p for p in write_feedback(results, out) if p.suffix == ".html"]
    return out, html + [write_summary(results, out)]


def _visit(browser, path, screenshot):
    """Open `path`; what went wrong, what was requested, and how the page turned out."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    seen = {"problems": [], "requests": [], "dialogs": []}
    page.on("console", lambda m: m.type in ("error", "warning") and seen["problems"].append(m.text))
    page.on("pageerror", lambda e: seen["problems"].append(str(e)))
    page.on("requestfailed", lambda r: seen["problems"].append(f"failed: {r.url}"))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.goto(path.as_uri(), wait_until="load")
    seen["images_ok"] = page.evaluate(
        "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    seen["scripts"] = page.evaluate("document.querySelectorAll('script').length")
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return seen


def test_pages_open_without_console_errors_or_requests(pages, browser):
    out, paths = pages
    for path in paths:
        seen = _visit(browser, path, out / f"{path.parent.name}-{path.stem}.png")
        assert not seen["problems"], (path, seen["problems"])
        # The page itself and its data: images; nothing from the network or disk.
        assert all(u == path.as_uri() or u.startswith("data:") for u in seen["requests"]), seen
        assert seen["images_ok"] and seen["scripts"] == 0 and not seen["dialogs"], path


def test_heatmap_and_grids_render(pages, browser):
    out, _ = pages
    page = browser.new_page()
    page.goto((out / "feedback" / "bob" / "02_conv2d.html").as_uri())
    sizes = page.evaluate("Array.from(document.images).map(i => [i.naturalWidth, i.naturalHeight])")
    highlighted = page.evaluate("document.querySelectorAll('#fn-corr2d td.d').length")
    page.close()
    assert len(sizes) == 1 and sizes[0][0] > 200 and sizes[0][1] > 200
    assert highlighted == 8  # all four entries, on both sides


def test_hostile_text_is_shown_not_run(pages, browser):
    out, paths = pages
    hostile = next(p for p in paths if "script" in p.parent.name)
    page = browser.new_page()
    page.goto(hostile.as_uri())
    title = page.evaluate("document.querySelector('main p strong').textContent")
    page.close()
    assert title == HOSTILE


def test_names_in_code_do_not_wrap_inside(tmp_path, browser):
    # A narrow screen: the inputs table squeezes its first column, and `kernel_size` must
    # stay on one line rather than break as "kernel_si ze".
    case = CaseResult(
        "random 1", False, 0.0, 1.0, message="The output has shape (3,), expected (4,).",
        details={"stage": "shape",
                 "inputs": {"x": {"shape": [2, 3, 9, 9], "dtype": "float64"},
                            "kernel_size": {"shape": [], "dtype": "int", "values": 3},
                            "stride": {"shape": [], "dtype": "int", "values": 2}},
                 "expected": {"type": "ndarray", "shape": [2, 27, 16], "dtype": "float64"},
                 "received": {"type": "ndarray", "shape": [2, 27, 9], "dtype": "float64"}})
    result = SubmissionResult("erin", "04_toeplitz", 0, 18, problems={
        "im2col": ProblemResult("im2col", 0, 1, [], [case])})
    path = tmp_path / "page.html"
    path.write_text(render_html(result))
    page = browser.new_page(viewport={"width": 320, "height": 900})
    page.goto(path.as_uri())
    lines = page.evaluate(
        "Array.from(document.querySelectorAll('code'))"
        ".filter(c => c.textContent === 'kernel_size')"
        ".map(c => { const r = document.createRange(); r.selectNodeContents(c);"
        " return new Set(Array.from(r.getClientRects()).map(q => Math.round(q.top))).size; })")
    page.screenshot(path=str(tmp_path / "narrow.png"), full_page=True)
    page.close()
    assert lines and all(n == 1 for n in lines), lines
