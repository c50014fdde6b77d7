"""The students' experience, end to end: the release notebooks in a real JupyterLab.

JupyterLab runs on a scratch copy of `notebooks/`, started by `make lab` with a
student's environment (see `tests.browser.jupyterlab`); headless Chromium (the
system's, driven by Playwright) opens each notebook, runs every cell one by
one (as a student pressing Shift+Enter; "Run All" would stop at the first
unanswered exercise), and checks what a student sees. Screenshots go to
`test-artifacts/browser/`.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from autograder.catalog import ASSIGNMENTS
from tests.browser import chromium_path, jupyterlab
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = chromium_path()
if CHROMIUM is None:
    pytestmark.append(
        pytest.mark.skip(
            reason="Chromium is not installed (Debian: apt-get install chromium chromium-driver); "
            "the browser tests need it"
        )
    )

ARTIFACTS = REPO / "test-artifacts" / "browser"
NO_RUNNING_CELL = (
    "() => !Array.from(document.querySelectorAll('.jp-Notebook .jp-InputPrompt'))"
    ".some(e => e.textContent.includes('*'))"
)
KERNEL_IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
# An input prompt reads "[ ]:", "[*]:" while queued or running, then "[7]:".
PROMPT_CHANGED = (
    r"([el, before]) => el.textContent !== before && /\[(\*|\d+)\]/.test(el.textContent)"
)
PROMPT_HAS_COUNT = r"(el) => /\[\d+\]/.test(el.textContent)"

CORRECT_CORR1D = """\
def corr1d(x, h):
    x = np.asarray(x, dtype=float)
    h = np.asarray(h, dtype=float)
    n = len(x) - len(h) + 1
    return np.array([np.dot(x[i:i + len(h)], h) for i in range(n)])
"""
FLIPPED_CORR1D = """\
def corr1d(x, h):
    x = np.asarray(x, dtype=float)
    h = np.asarray(h, dtype=float)[::-1]
    n = len(x) - len(h) + 1
    return np.array([np.dot(x[i:i + len(h)], h) for i in range(n)])
"""


def _lab_settings(root: Path) -> None:
    """Render every cell (no windowing) and keep news pop-ups away."""
    user = root / ".jupyter-config" / "lab" / "user-settings" / "@jupyterlab"
    settings = {
        "notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }
    for rel, value in settings.items():
        path = user / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    for assignment in ASSIGNMENTS:
        if (REPO / "notebooks" / assignment).is_dir():  # a missing one fails in its own test
            shutil.copytree(REPO / "notebooks" / assignment, root / assignment)
    solved = root / "solved"
    solved.mkdir()
    shutil.copy(REPO / "solutions" / "01_conv1d" / "01_conv1d.ipynb", solved / "01_conv1d.ipynb")
    _lab_settings(root)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with jupyterlab(root, ARTIFACTS / "jupyterlab.log") as server:
        yield server


@pytest.fixture
def page(browser, lab):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.set_default_timeout(120_000)
    yield page
    context.close()
    # Seven kernels with PyTorch loaded do not fit beside each other on a small machine.
    lab.shutdown_kernels()


def _open(page, lab, assignment: str):
    path = f"{assignment}/{assignment}.ipynb"
    page.goto(lab.notebook_url(path))
    # Cells render one after another: wait for all of those in the file.
    n_cells = len(nbformat.read(lab.root / path, as_version=4).cells)
    page.wait_for_function(
        f"() => document.querySelectorAll('.jp-Notebook .jp-Cell').length >= {n_cells}")
    page.wait_for_selector(KERNEL_IDLE)
    _no_dialog(page)


def _no_dialog(page) -> None:
    """Fail with its text when JupyterLab shows a dialog (kernel died, not found, ...)."""
    dialogs = page.locator(".jp-Dialog")
    assert dialogs.count() == 0, f"JupyterLab opened a dialog: {dialogs.first.inner_text()!r}"


def _run_cell(page, index: int) -> None:
    """Run one cell as a student does, and wait until its execution count is new."""
    prompt = page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputPrompt").first
    before = prompt.inner_text()
    handle = prompt.element_handle()
    # A key press sent while the kernel's websocket is still connecting is lost:
    # press again until the prompt shows that the cell is queued or ran.
    for _ in range(3):
        try:
            prompt.click(timeout=30_000)  # command mode, this cell selected
        except PlaywrightTimeout:
            _no_dialog(page)  # a dialog in front of the notebook says why
            raise
        page.keyboard.press("Control+Enter")
        try:
            page.wait_for_function(PROMPT_CHANGED, arg=[handle, before], timeout=15_000)
            break
        except PlaywrightTimeout:
            continue
    else:
        raise AssertionError(f"cell {index} did not start after three Ctrl+Enter")
    page.wait_for_function(PROMPT_HAS_COUNT, arg=handle)
    page.wait_for_function(NO_RUNNING_CELL)
    page.wait_for_selector(KERNEL_IDLE)


def _cell_with_source(page, source: str) -> int:
    sources = page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").all_inner_texts()
    matches = [i for i, s in enumerate(sources) if source in s]
    assert matches, f"no cell contains {source!r}"
    return matches[0]


def _errors(page) -> list[str]:
    errs = page.locator(".jp-Notebook [data-mime-type='application/vnd.jupyter.stderr']")
    return [t for t in errs.all_inner_texts() if "Traceback" in t or "Error" in t]


def _replace_source(page, index: int, source: str) -> None:
    editor = page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(source)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_notebook_runs_in_jupyterlab(page, lab, assignment):
    _open(page, lab, assignment)
    n_cells = page.locator(".jp-Notebook .jp-Cell").count()
    assert n_cells > 10, "the notebook did not render its cells"
    for i in range(n_cells):
        if "jp-CodeCell" in (
            page.locator(".jp-Notebook .jp-Cell").nth(i).get_attribute("class") or ""
        ):
            _run_cell(page, i)
    page.screenshot(path=str(ARTIFACTS / f"{assignment}.png"), full_page=True)

    errors = _errors(page)
    assert errors, "an untouched release notebook should show the unanswered exercises"
    unexpected = [
        e for e in errors if "NotImplementedError" not in e and "not implemented" not in e
    ]
    assert not unexpected, "errors other than unanswered exercises:\n" + "\n---\n".join(
        e[:800] for e in unexpected
    )
    images = page.locator(".jp-Notebook .jp-OutputArea .jp-RenderedImage img").count()
    assert images > 0, (
        "no figure rendered: does the kernel of `make lab` use Matplotlib's inline backend?"
    )
    drawn = _drawing_cells(page)
    assert drawn, "no picture appeared: every drawing needs an answer to an exercise"
    assert all(shown for _, shown in drawn), "a drawing cell that ran without error showed no " \
        f"picture: {[source[:80] for source, shown in drawn if not shown]}"
    check_outputs = page.locator(".jp-Notebook .jp-OutputArea-output").all_inner_texts()
    assert any("not implemented" in t.lower() for t in check_outputs), (
        "no check cell showed its verdict"
    )
    slider_cells = page.locator(".jp-Notebook .jp-CodeCell").filter(
        has=page.locator(".widget-slider"))
    if _has_slider(lab.root / assignment / f"{assignment}.ipynb"):
        assert slider_cells.count(), (
            "the notebook makes a slider but none rendered (is the ipywidgets JupyterLab "
            "extension installed?)"
        )
        _drive_slider(page, slider_cells.first)


def _has_slider(path: Path) -> bool:
    """Whether a code cell of the notebook makes an ipywidgets slider."""
    cells = nbformat.read(path, as_version=4).cells
    return any(c.cell_type == "code" and "Slider(" in c.source for c in cells)


def _drawing_cells(page) -> list[tuple[str, bool]]:
    """(source, picture shown) of every cell that calls plt.show() at top level, ran, and
    raised nothing.

    Untouched release notebooks draw some pictures from the exercises' answers:
    those cells fail with NotImplementedError, so they are not counted.
    """
    drawn = []
    for cell in page.locator(".jp-Notebook .jp-CodeCell").all():
        source = cell.locator(".jp-InputArea-editor").inner_text()
        if not any(line.startswith("plt.show()") for line in source.splitlines()):
            continue
        ran = re.search(r"\[\d+\]", cell.locator(".jp-InputPrompt").first.inner_text())
        failed = cell.locator("[data-mime-type='application/vnd.jupyter.stderr']").count()
        if ran and not failed:
            drawn.append((source, cell.locator(".jp-RenderedImage img").count() > 0))
    return drawn


def test_a_drawing_needs_no_answer_to_show_in_the_release(page, lab):
    # The opening drawing of the first notebook needs no exercise: figures render inline.
    _open(page, lab, "01_conv1d")
    for source in ("import numpy as np", "slide_1d("):
        _run_cell(page, _cell_with_source(page, source))
    assert [shown for _, shown in _drawing_cells(page)] == [True]


def _drive_slider(page, cell) -> None:
    """An ipywidgets slider moves one step on ArrowRight and its picture is redrawn.

    ipywidgets 8 draws sliders with noUiSlider: the handle (``.noUi-handle``) takes
    the keyboard focus, the value is shown in ``.widget-readout``, and the figure
    drawn for the value is a PNG in the widget's output area.
    """
    readout = cell.locator(".widget-slider .widget-readout").first
    picture = cell.locator(".jp-OutputArea-output .jp-RenderedImage img")
    picture.first.wait_for()
    value, before = readout.inner_text(), picture.first.get_attribute("src")
    cell.locator(".widget-slider .noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([cell, src]) => { const img = cell.querySelector('.jp-RenderedImage img');"
        " return img !== null && img.getAttribute('src') !== src; }",
        arg=[cell.element_handle(), before],
    )
    assert int(readout.inner_text()) == int(value) + 1
    assert picture.count() == 1, "the old picture should be replaced, not kept"
    cell.screenshot(path=str(ARTIFACTS / "slider_moved.png"))


def test_check_cell_verdicts_for_a_correct_and_a_flipped_solution(page, lab):
    _open(page, lab, "01_conv1d")
    _run_cell(page, _cell_with_source(page, "from autograder import check"))
    solution = _cell_with_source(page, "def corr1d(")
    check_cell = _cell_with_source(page, 'check("corr1d", corr1d)')

    _replace_source(page, solution, CORRECT_CORR1D)
    _run_cell(page, solution)
    _run_cell(page, check_cell)
    verdict = page.locator(".jp-Notebook .jp-Cell").nth(check_cell).locator(".jp-OutputArea")
    page.screenshot(path=str(ARTIFACTS / "check_pass.png"), full_page=True)
    text = verdict.inner_text()
    assert "passed" in text.lower() and "Error" not in text, text

    _replace_source(page, solution, FLIPPED_CORR1D)
    _run_cell(page, solution)
    _run_cell(page, check_cell)
    text = verdict.inner_text()
    page.screenshot(path=str(ARTIFACTS / "check_flipped.png"), full_page=True)
    assert "AssertionError" in text and "flip" in text.lower(), text


def _validate(page, lab, path: str) -> str:
    page.goto(lab.notebook_url(path))
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    page.wait_for_selector(KERNEL_IDLE)
    page.get_by_role("button", name="Validate").first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for()
    page.wait_for_function(
        "() => !document.querySelector('.jp-Dialog').innerText.includes('Validating')"
    )
    return dialog.inner_text()


def test_nbgrader_validate_button(page, lab):
    text = _validate(page, lab, "01_conv1d/01_conv1d.ipynb")
    page.screenshot(path=str(ARTIFACTS / "validate_release.png"))
    # An unanswered release notebook fails validation, naming the failing check cells.
    assert "failed" in text.lower() and "not implemented" in text, textwrap.shorten(text, 500)

    text = _validate(page, lab, "solved/01_conv1d.ipynb")
    page.screenshot(path=str(ARTIFACTS / "validate_solved.png"))
    assert "passes all the tests" in text.lower() or "success" in text.lower(), textwrap.shorten(
        text, 500
    )
