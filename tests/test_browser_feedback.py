"""Feedback pages and summary.html open in real headless Chromium, from disk, cleanly."""

from __future__ import annotations

import pytest

from autograder.feedback import write_feedback
from autograder.report import write_summary
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
