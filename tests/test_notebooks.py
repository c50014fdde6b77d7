"""Every assignment's notebooks follow the grading contract.

For each assignment of `autograder.catalog.ASSIGNMENTS`:

- the release notebook (`notebooks/<a>/<a>.ipynb`) is exactly what
  `nbgrader generate_assignment` makes from the solution notebook
  (`solutions/<a>/<a>.ipynb`);
- every graded function of the catalog has one solution cell and one check cell
  with the catalog's points, and there are no other graded cells;
- no notebook is committed with outputs;
- the documents' worked examples appear, with their numbers, in asserting cells;
- (slow) the solution notebook runs top to bottom, every check passing, and the
  release notebook fails only where an exercise is left unanswered.

A missing notebook is a failure, not a skip: every assignment must ship both.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest

from autograder.catalog import ASSIGNMENTS, problems_for
from tests.conftest import REPO, read_notebook, release_path, solution_path

KERNEL = "conv-course"

# The documents' worked examples: number strings that must appear (whitespace
# ignored) in a code cell of the solution notebook that asserts something.
WORKED_EXAMPLES: dict[str, list[str]] = {
    "01_conv1d": ["[1, 2, 3, 4]", "[1, 0, -1]", "[-2, -2]", "[2, 3, 4]", "[1, 2, 2, 2, -3, -4]"],
    "02_conv2d": [
        "[[1, 5, 9, 13], [2, 6, 10, 14], [3, 7, 11, 15], [4, 8, 12, 16]]",
        "[[7, 15, 23], [9, 17, 25], [11, 19, 27]]",
        "[[13, 21, 29], [19, 27, 35], [25, 33, 41]]",
        "[[9, 17, 25], [12, 20, 28], [15, 23, 31]]",
        "[[8, 24, 40], [8, 24, 40], [8, 24, 40]]",
    ],
    "03_one_by_one": [
        "[[1, 2], [3, 4]]",
        "[[10, 20], [30, 40]]",
        "[[-9, -18], [-27, -36]]",
    ],
    "04_toeplitz": [
        "[1, 2, 3, 4]",
        "[1, 0, -1]",
        "[[1, 0, -1, 0], [0, 1, 0, -1]]",
        "[[1, 2], [2, 3], [3, 4]]",
        "[-2, -2]",
        "[[1, 5, 9, 13], [2, 6, 10, 14], [3, 7, 11, 15], [4, 8, 12, 16]]",
        "[[13, 21, 29], [19, 27, 35], [25, 33, 41]]",
        "[[7, 15, 23], [9, 17, 25], [11, 19, 27]]",
    ],
    # The documents give no numbers for equivariance; the notebook reuses their 1D
    # example with circular padding: [2, -2, -2, 2], and [2, 2, -2, -2] after a shift.
    "05_equivariance": [
        "[1, 2, 3, 4]",
        "[1, 0, -1]",
        "[2, -2, -2, 2]",
        "[-2, -2]",
        "[2, 2, -2, -2]",
    ],
    # The documents name these variants without numbers; the notebook's small examples are
    # worked by hand in its text, and the transposed convolution reuses the 1D example.
    "06_variants": [
        "[[1, 0, 2], [0, 0, 0], [3, 0, 4]]",
        "[[13, 21, 29], [19, 27, 35], [25, 33, 41]]",
        "[[[-16]]]",
        "[[1, 0, -1, 0], [0, 1, 0, -1]]",
        "[-2, -2, 2, 2]",
        "[1, 1, 2, 1, 2, 1, 2, 1, 1]",
        "[[[5, 7], [13, 15]]]",
        "[[[2.5, 4.5], [10.5, 12.5]]]",
        "tuple(receptive_field([(3, 1, 1), (3, 1, 1)])) == (5, 1)",
    ],
    # The backward pass on the documents' 1D example with dy = [1, 1], then a 2D example by hand.
    "07_backward": [
        "[1, 2, 3, 4]",
        "[1, 0, -1]",
        "[-2, -2]",
        "[1, 1, -1, -1]",
        "[3, 5, 7]",
        "[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]",
        "[[[[8, 12], [20, 24]]]]",
        "[2, -4, 3]",
    ],
    # The slides' 1D example and the blog's 2D one through the FFT, and a Winograd tile by hand.
    "08_fast_conv": [
        "[1, 2, 3, 4]",
        "[1, 0, -1]",
        "[-2, -2]",
        "[[13, 21, 29], [19, 27, 35], [25, 33, 41]]",
        "(36, 36, 24, 16, 29)",
        "[[45, 54], [81, 90]]",
    ],
}

# Cell metadata that nbgrader writes into the release and the grader relies on.
_COMPARED_METADATA = ("nbgrader", "tags", "editable", "deletable")


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_demo(cell) -> bool:
    return "demo" in cell.get("metadata", {}).get("tags", [])


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _both_notebooks(assignment: str) -> list[tuple[str, nbformat.NotebookNode]]:
    return [
        ("solution", read_notebook(solution_path(assignment))),
        ("release", read_notebook(release_path(assignment))),
    ]


def generate_release(assignment: str, root: Path) -> Path:
    """Run `nbgrader generate_assignment` in a scratch course directory.

    The scratch root gets a copy of the repository's nbgrader_config.py (whose
    paths are relative to the working directory) and of the assignment's source
    folder, so the real gradebook and notebooks/ are left untouched.
    """
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(REPO / "solutions" / assignment, root / "solutions" / assignment)
    (root / ".nbgrader").mkdir()
    # nbgrader runs `alembic` as a program, so the venv's bin must be on PATH.
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment,
         "--force", "--create", "--log-level=WARN"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"nbgrader generate_assignment {assignment} failed:\n{proc.stderr}"
    return root / "notebooks" / assignment / f"{assignment}.ipynb"


def _cell_view(cell) -> dict:
    meta = cell.get("metadata", {})
    return {
        "cell_type": cell.cell_type,
        "source": cell.source,
        **{key: meta.get(key) for key in _COMPARED_METADATA},
    }


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_is_generated_from_solution(assignment, tmp_path):
    read_notebook(solution_path(assignment))
    committed = read_notebook(release_path(assignment))
    generated = nbformat.read(generate_release(assignment, tmp_path), as_version=4)
    assert len(committed.cells) == len(generated.cells), (
        f"{assignment}: notebooks/ has {len(committed.cells)} cells, nbgrader generates "
        f"{len(generated.cells)}; run `make release`"
    )
    for index, (ours, theirs) in enumerate(zip(committed.cells, generated.cells, strict=True)):
        assert _cell_view(ours) == _cell_view(theirs), (
            f"{assignment}: release cell {index} differs from what nbgrader generates; "
            "run `make release` instead of editing notebooks/ by hand"
        )
    assert committed.metadata.get("kernelspec") == generated.metadata.get("kernelspec")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_kernel_and_setup_cell(assignment):
    for kind, nb in _both_notebooks(assignment):
        assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL, (
            f"{assignment} ({kind}): kernelspec name must be {KERNEL!r}"
        )
        first_code = next(c for c in nb.cells if c.cell_type == "code")
        meta = nbgrader_meta(first_code)
        assert meta.get("grade_id") == "setup" and meta.get("locked") is True, (
            f"{assignment} ({kind}): the first code cell must be the locked setup cell"
        )
        assert "from autograder import check" in first_code.source
        # The grader runs the setup cell for every submission: keep PyTorch out of it.
        assert "torch" not in first_code.source, (
            f"{assignment} ({kind}): the setup cell imports torch; import it in demo cells"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_one_solution_and_one_check_cell_per_graded_function(assignment):
    problems = problems_for(assignment)
    for kind, nb in _both_notebooks(assignment):
        cells = nb.cells
        solution_ids = [nbgrader_meta(c).get("grade_id") for c in cells
                        if nbgrader_meta(c).get("solution")]
        graded_ids = [nbgrader_meta(c).get("grade_id") for c in cells
                      if nbgrader_meta(c).get("grade")]
        # The catalog lists the exercises in the notebook's order (feedback, `list`
        # and the example class's half-solved student follow it).
        assert solution_ids == [p.name for p in problems], (
            f"{assignment} ({kind}): solution cells {solution_ids}, catalog "
            f"{[p.name for p in problems]}"
        )
        assert sorted(graded_ids) == sorted(f"check_{p.name}" for p in problems), (
            f"{assignment} ({kind}): graded cells {graded_ids}; expected one check_<fn> each"
        )
        by_id = {nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(cells)}
        for p in problems:
            sol = cells[by_id[p.name]]
            chk = cells[by_id[f"check_{p.name}"]]
            assert sol.cell_type == "code" and not nbgrader_meta(sol).get("grade")
            if kind == "solution":
                # The catalog's signature, optionally followed by keyword-only extras
                # (e.g. train_digits(..., *, epochs=20, history=None) for the plots).
                head = re.escape(f"def {p.signature[:-1]}")
                assert re.search(head + r"(, \*, [^)]*)?\):", sol.source), (
                    f"{assignment}: solution cell {p.name} must define `def {p.signature}:`"
                )
                assert "### BEGIN SOLUTION" in sol.source and "### END SOLUTION" in sol.source
            else:
                assert "### BEGIN SOLUTION" not in sol.source
                assert "raise NotImplementedError()" in sol.source
            assert by_id[f"check_{p.name}"] == by_id[p.name] + 1, (
                f"{assignment} ({kind}): check_{p.name} must directly follow the solution cell"
            )
            assert chk.cell_type == "code"
            assert chk.source.strip() == f'check("{p.name}", {p.name})'
            assert nbgrader_meta(chk).get("points") == p.points, (
                f"{assignment} ({kind}): check_{p.name} has "
                f"{nbgrader_meta(chk).get('points')} points, catalog {p.points}"
            )
            assert nbgrader_meta(chk).get("locked") is True
        for index, cell in enumerate(cells):
            if is_demo(cell):
                meta = nbgrader_meta(cell)
                assert not meta.get("solution") and not meta.get("grade"), (
                    f"{assignment} ({kind}): cell {index} is tagged demo and graded"
                )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebooks_carry_no_outputs(assignment):
    for kind, nb in _both_notebooks(assignment):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, (
                    f"{assignment} ({kind}): cell {index} has outputs; clear them before committing"
                )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_worked_examples_are_asserted(assignment):
    nb = read_notebook(solution_path(assignment))
    asserting = [_squash(c.source) for c in nb.cells
                 if c.cell_type == "code" and "assert" in c.source]
    expected = WORKED_EXAMPLES.get(assignment)
    assert expected, f"{assignment}: add its worked examples to WORKED_EXAMPLES"
    missing = [text for text in expected if not any(_squash(text) in s for s in asserting)]
    assert not missing, f"{assignment}: worked examples not asserted in any code cell: {missing}"


def execute(path: Path, allow_errors: bool) -> nbformat.NotebookNode:
    nb = read_notebook(path)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name=KERNEL, allow_errors=allow_errors,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return nb


def _reports_not_implemented(outputs) -> bool:
    """Whether a check cell's error says that the exercise is not implemented yet."""
    text = " ".join(f"{o.ename} {o.evalue}" for o in outputs if o.output_type == "error")
    return "NotImplementedError" in text or "not implemented" in text.lower()


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_notebook_runs_and_every_check_passes(assignment):
    # A failing check raises AssertionError, which nbclient turns into CellExecutionError.
    nb = execute(solution_path(assignment), allow_errors=False)
    checks = [c for c in nb.cells if nbgrader_meta(c).get("grade")]
    assert len(checks) == len(problems_for(assignment))
    for cell in checks:
        assert not any(o.output_type == "error" for o in cell.outputs)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_notebook_fails_only_on_unanswered_exercises(assignment):
    nb = execute(release_path(assignment), allow_errors=True)
    unexpected = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            if out.output_type != "error" or out.ename == "NotImplementedError":
                continue
            # A check cell reports the unanswered exercise in its own words and raises.
            if nbgrader_meta(cell).get("grade") and _reports_not_implemented(cell.outputs):
                continue
            unexpected.append(f"cell {index}: {out.ename}: {out.evalue}")
    assert not unexpected, (
        f"{assignment}: the release notebook fails for reasons other than unanswered "
        f"exercises: {unexpected}"
    )


# ----------------------------------------------------------------------------- other answers

# Appended to every solution cell of a release notebook: the function just defined is
# replaced by another correct answer that `check()` accepts. Only the outermost call is
# converted (a depth counter), so solutions that call each other keep their own arrays.
_VARIANT_CODE = '''
def _other_answer(fn, kind):
    import functools, inspect
    import numpy as _np
    depth = globals().setdefault("_other_answer_depth", [0])
    full = inspect.signature(fn)
    # The catalog's signature only: keyword-only extras (e.g. history=) are optional.
    plain = full.replace(parameters=[p for p in full.parameters.values()
                                     if p.kind is not p.KEYWORD_ONLY])

    def convert(value):
        if isinstance(value, tuple):
            items = [convert(v) for v in value]
            return items if kind == "lists" else tuple(items)
        if isinstance(value, _np.ndarray):
            if kind == "lists":
                return value.tolist()
            if kind == "float32" and value.dtype.kind == "f":
                return value.astype(_np.float32)
        return value

    @functools.wraps(fn)
    def answer(*args, **kwargs):
        plain.bind(*args, **kwargs)  # TypeError, as Python gives, for an extra keyword
        depth[0] += 1
        try:
            value = fn(*args, **kwargs)
        finally:
            depth[0] -= 1
        return value if depth[0] else convert(value)

    answer.__signature__ = plain
    return answer


{name} = _other_answer({name}, {kind!r})
'''

# lists: nested lists instead of arrays, lists instead of tuples; float32: the results
# rounded to single precision (accepted at float32 precision). Both without the optional
# keyword-only arguments.
OTHER_ANSWERS = ("lists", "float32")


def with_other_answers(assignment: str, kind: str) -> nbformat.NotebookNode:
    """The release notebook with each exercise answered by the solution turned into `kind`."""
    solutions = {nbgrader_meta(c).get("grade_id"): c.source
                 for c in read_notebook(solution_path(assignment)).cells
                 if nbgrader_meta(c).get("solution")}
    nb = read_notebook(release_path(assignment))
    for cell in nb.cells:
        name = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution"):
            cell.source = solutions[name] + "\n" + _VARIANT_CODE.format(name=name, kind=kind)
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("kind", OTHER_ANSWERS)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_demo_cells_work_with_every_answer_check_accepts(assignment, kind):
    nb = with_other_answers(assignment, kind)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name=KERNEL, allow_errors=True,
        resources={"metadata": {"path": str(release_path(assignment).parent)}},
    )
    client.execute()
    failed = []
    for index, cell in enumerate(nb.cells):
        for out in cell.outputs if cell.cell_type == "code" else []:
            if out.output_type == "error":
                failed.append(f"cell {index} ({nbgrader_meta(cell).get('grade_id') or 'demo'})"
                              f": {out.ename}: {out.evalue[:300]}\n{cell.source[:300]}")
    # A failing check would mean the answer is not one `check()` accepts: also reported.
    assert not failed, f"{assignment} with {kind} answers:\n" + "\n---\n".join(failed)


def _rules_line(assignment: str, name: str) -> str:
    """The **Rules:** line of the exercise that asks for `name` (its text just above it)."""
    cells = read_notebook(solution_path(assignment)).cells
    index = next(i for i, c in enumerate(cells) if nbgrader_meta(c).get("grade_id") == name)
    statement = next(c for c in reversed(cells[:index]) if c.cell_type == "markdown")
    assert name in statement.source, f"{assignment}: no exercise text just above {name}"
    rules = statement.source[statement.source.find("**Rules:**"):]
    assert rules.startswith("**Rules:**"), f"{assignment}: the exercise {name} has no Rules line"
    return " ".join(rules.split())


# What the grader enforces beyond the values (autograder.intake.scan and the run-time checks).
_EXTRA_RULES = {"conv1x1": "no Python loop over pixels",
                "conv2d_im2col": "no Python loop over output positions",
                **{p.name: "`np.fft` is allowed" for p in problems_for("08_fast_conv")}}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_states_the_graded_rules(assignment):
    from autograder.catalog import allowed_calls
    from autograder.intake.scan import assignment_number

    for p in problems_for(assignment):
        if p.question:  # a self-test answer: no computation for rules to govern
            continue
        rules = _rules_line(assignment, p.name)
        for rule in ("NumPy only", "`np.convolve`", "`np.correlate`", "do not modify the inputs"):
            assert rule in rules, f"{assignment}: {p.name}'s rules miss {rule!r}: {rules}"
        stride_tricks = ("`np.lib.stride_tricks` is allowed" if assignment_number(assignment) >= 4
                         else "no `np.lib.stride_tricks` (allowed from notebook 04)")
        assert stride_tricks in rules, f"{assignment}: {p.name}: {rules}"
        fft = ("`np.fft` is allowed" if "numpy.fft" in allowed_calls(assignment)
               else "no `np.fft` (allowed from notebook 05)")
        assert fft in rules, f"{assignment}: {p.name}: {rules}"
        extra = _EXTRA_RULES.get(p.name)
        assert extra is None or extra in rules, f"{assignment}: {p.name}: {rules}"
        assert "return a new array" in rules or "return new arrays" in rules or (
            re.search(r"return an? (int|float|tuple of ints)\.", rules)), rules


def _statement(assignment: str, name: str) -> str:
    cells = read_notebook(solution_path(assignment)).cells
    index = next(i for i, c in enumerate(cells) if nbgrader_meta(c).get("grade_id") == name)
    return cells[index - 1].source if cells[index - 1].cell_type == "markdown" else ""


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_self_test_asks_its_question_just_above_its_answer(assignment):
    for p in problems_for(assignment):
        if not p.question:
            continue
        text = _statement(assignment, p.name)
        assert text.startswith("### Self-test: ") and text.splitlines()[0].endswith(
            "(1 point)"), f"{assignment}: {p.name} needs a '### Self-test: ... (1 point)' cell"
        assert "**Answer:** return " in text, f"{assignment}: {p.name} must say what to return"
        assert "never what the right answer is" in text


def test_the_architectures_of_notebook_03_are_the_graded_ones():
    from autograder.cases.architectures import NETWORKS

    cells = read_notebook(solution_path("03_one_by_one")).cells
    (source,) = [c.source for c in cells if c.cell_type == "code" and "NETWORKS = {" in c.source]
    namespace: dict = {}
    exec(source.replace("print(", "(lambda *a: None)("), namespace)
    assert namespace["NETWORKS"] == NETWORKS
