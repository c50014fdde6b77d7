"""Step 3: the code that runs: check and demo cells out, magics translated, shell escapes noted."""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.intake.extract import extract_code, is_check_cell
from tests.nbfactory import notebook


def demo_cell(source):
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["demo"]
    return cell


def test_check_cells_demo_cells_and_markdown_are_left_out():
    nb = notebook(
        {"corr1d": "def corr1d(x, h):\n    return x"},
        extra=[demo_cell("import torch\ntorch.nn.functional.conv1d"), new_markdown_cell("# hi")],
    )
    out = extract_code(nb)
    assert [c.index for c in out.cells] == [0, 1]  # setup and the answer, not 2, 3, 4
    assert out.cells[1].source == "def corr1d(x, h):\n    return x"
    assert is_check_cell(nb.cells[2]) and not is_check_cell(nb.cells[1])
    assert out.shell_escapes == [] and out.notes == []


def test_shell_escapes_are_removed_and_reported_with_their_cell():
    nb = notebook({}, extra=[new_code_cell("!pip install scipy\nx = 1\nfiles = !ls"),
                             new_code_cell("%%bash\nrm -rf ~"),
                             new_code_cell("%pip install torch\n%system ls")])
    out = extract_code(nb)
    assert out.shell_escapes == [
        "cell 2: !pip install scipy", "cell 2: !ls", "cell 3: %%bash",
        "cell 4: %pip install torch", "cell 4: %system ls",
    ]
    assert out.cells[1].source == "None\nx = 1\nfiles = None\n"
    assert [c.index for c in out.cells] == [0, 1, 3]  # the %%bash cell is gone
    assert "`!pip install scipy` (cell 2) was not run" in out.notes[0]
    assert "get_ipython" not in "".join(c.source for c in out.cells)


def test_magics_are_translated_and_line_numbers_kept():
    nb = notebook({}, extra=[
        new_code_cell("%matplotlib inline\ny = 'é'\n%load_ext autoreload"),
        new_code_cell("%%time\ndef f(x):\n    return 2 * x"),
        new_code_cell("%timeit f(3)\nz = 1"),
        new_code_cell("%%writefile notes.txt\nhello"),
    ])
    out = extract_code(nb)
    sources = {c.index: c.source for c in out.cells}
    assert sources[1] == "None\ny = 'é'\nNone\n"
    assert sources[2] == "\ndef f(x):\n    return 2 * x"  # the body runs, on its own lines
    assert sources[3] == "None\nz = 1\n"
    assert 4 not in sources
    assert out.notes == [
        "`%timeit f(3)` (cell 4) was not run: the grader runs Python only.",
        "`%%writefile notes.txt` (cell 5) was not run: the grader runs Python only.",
    ]
    assert out.shell_escapes == []


def test_a_syntax_error_is_passed_on_for_the_sandbox_to_report():
    nb = notebook({"corr1d": "def corr1d(x, h:\n    return x"})
    assert extract_code(nb).cells[1].source.startswith("def corr1d(x, h:")


def test_cells_nested_deeper_than_python_parses_are_passed_on_as_written():
    deep = "v = " + " + ".join(["1"] * 5000)
    sum600 = "y = " + " + ".join(["1"] * 600)
    nb = new_notebook(cells=[new_code_cell(deep), new_code_cell(sum600)])
    out = extract_code(nb)
    assert [c.source for c in out.cells] == [deep, sum600]
    assert out.notes == [] and out.shell_escapes == []


def test_a_parser_failure_of_cpython_itself_is_code_that_cannot_run(monkeypatch):
    # Fuzzing found CPython 3.11 raising SystemError ("AST constructor recursion depth
    # mismatch") from ast.parse on deeply nested input: every step passes such a cell on.
    import ast

    from autograder.grade import definitions
    from autograder.intake.scan import scan_cells

    def broken(*args, **kwargs):
        raise SystemError("AST constructor recursion depth mismatch (before=144, after=44)")

    source = "import scipy.signal\ndef corr1d(x, h):\n    return x"
    monkeypatch.setattr(ast, "parse", broken)
    out = extract_code(new_notebook(cells=[new_code_cell(source)]))
    assert [c.source for c in out.cells] == [source]
    assert scan_cells(out.cells, "01_conv1d") == []
    assert definitions(out.cells) == {}
