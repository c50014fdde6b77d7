"""A batch never breaks: hostile inputs, fuzzed notebooks and names, faults contained per function.

Every test grades through `autograder.grade` or the real command line, with an
honest student in the same batch whose full marks are the oracle that nothing
leaked from the others.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder.catalog import max_score, problems_for
from autograder.grade import cache_key, grade, grader_version, limits_for
from autograder.intake.identify import MAX_ID_CHARS, Submission, collect
from autograder.results import TEXT_LIMIT
from examples import make_class
from tests.conftest import REPO, read_notebook, solution_path
from tests.nbfactory import notebook, to_bytes

A = "01_conv1d"
SEED = 3
FAST = {"seed": SEED, "timeout": 20, "workers": 2}
# Examples per fuzzer in the default run; raise it for a longer hunt.
FUZZ_EXAMPLES = int(os.environ.get("AUTOGRADER_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


def honest() -> bytes:
    return to_bytes(read_notebook(solution_path(A)))


def edited(edits=None, extra=()) -> bytes:
    return to_bytes(make_class.with_functions(read_notebook(solution_path(A)), edits or {},
                                              list(extra)))


def place(folder: Path, student: str, data: bytes) -> Path:
    path = folder / student / A / f"{A}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def variant(change) -> bytes:
    raw = json.loads(honest())
    change(raw)
    return json.dumps(raw).encode()


def verdicts(result) -> tuple:
    """What a grading decided, without the times: for comparing two gradings."""
    return (result.score, result.error, tuple(result.flags), tuple(
        (name, p.score, tuple((c.name, c.status, c.passed) for c in p.cases))
        for name, p in result.problems.items()))


# --------------------------------------------------------------------------- the issue's inputs

SUM_600 = "y = " + " + ".join(["1"] * 600)
NESTED = "z = " + "(" * 150 + "1" + ")" * 150 + "\nw = " + "[" * 90 + "]" * 90
TOO_DEEP = "v = " + " + ".join(["1"] * 5000)  # deeper than Python compiles


@pytest.fixture(scope="module")
def issue_batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("issue")
    folder = tmp / "submitted"
    place(folder, "honest", honest())
    place(folder, "meta_string", variant(lambda nb: nb["cells"][1].__setitem__("metadata", "x")))
    place(folder, "cells_ints", variant(lambda nb: nb.__setitem__("cells", [1, 2])))
    place(folder, "minor_x", variant(lambda nb: nb.__setitem__("nbformat_minor", "x")))
    place(folder, "nested", b'{"nbformat": 4, "cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    place(folder, "sum600", edited(extra=[SUM_600, NESTED]))
    place(folder, "too_deep", edited(extra=[TOO_DEEP]))
    login = "l" * 300
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(f"{login}_1_2_{A}.ipynb", honest())
    (folder / "canvas.zip").write_bytes(buffer.getvalue())
    out = tmp / "out"
    results = grade([folder], out=out, **FAST)
    return {r.student: r for r in results}, out


def test_the_issues_inputs_leave_a_complete_gradebook(issue_batch):
    results, out = issue_batch
    long_id = "1"  # the Canvas user id is the key; the 300-character login is the name
    assert results[long_id].name == "l" * 300
    assert sorted(results) == sorted(["honest", "meta_string", "cells_ints", "minor_x", "nested",
                                      "sum600", "too_deep", long_id])
    assert set(rows(out)) == set(results)
    for name in ("summary.html", "canvas.csv"):
        assert (out / name).is_file()
    for student in results:
        assert (out / "feedback" / student / f"{A}.html").is_file()
        assert (out / "results" / student / f"{A}.json").is_file()
    assert results["honest"].score == max_score(A) and results["honest"].flags == []
    schema = "the notebook does not follow the nbformat schema: "
    assert results["meta_string"].error == \
        schema + "the metadata of cell 2 is str, expected an object"
    assert results["cells_ints"].error == schema + "cell 1 is int, expected an object"
    assert results["minor_x"].error == schema + "nbformat_minor is 'x', expected an integer"
    assert results["nested"].error.startswith("the file nests lists or objects more than 64")


def test_deep_expressions_are_graded_like_any_code(issue_batch):
    results, _ = issue_batch
    assert results["sum600"].score == max_score(A) and results["sum600"].flags == []
    deep = results["too_deep"]
    assert deep.score == max_score(A)  # the cell Python cannot compile defines nothing graded
    assert any("RecursionError" in n or "too complex" in n or "recursion" in n.lower()
               for n in deep.notes), deep.notes


def test_a_300_character_login_is_the_name_beside_a_bounded_key(issue_batch):
    results, out = issue_batch
    # The Canvas user id is the key; the login is kept whole as the display name.
    (student,) = [s for s, r in results.items() if r.name.startswith("lll")]
    assert student == "1" and len(results[student].name) == 300
    assert results[student].score == max_score(A)
    assert (out / "results" / student / f"{A}.json").is_file()
    assert all(len(p.name) <= MAX_ID_CHARS + len(".json") for p in out.rglob("*"))


# --------------------------------------------------------------------------- fuzzing

_SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30))
JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=25)


# Pieces of cell source: Python, IPython syntax, deep nesting, and noise.
CODE_PIECES = st.sampled_from([
    "\n", "    ", "import torch\n", "import numpy as np\n", "np.convolve", "(", ")", "[", "]",
    "%%bash\n", "!ls\n", "%time ", "%pip install x\n", "get_ipython().system('ls')",
    "def corr1d(x, h):\n    return x\n", "raise SystemExit(2)\n", "1 + " * 300 + "1\n",
    "(" * 120 + ")" * 120, "print('x' * 10**5)\n", "lambda: 0", "\x00", '"""', "\\",
]) | st.text(max_size=30)


def mutate(data: st.DataObject, doc):
    """`doc` with one to three values replaced, deleted or added at random places."""
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        node = doc
        while True:
            keys = sorted(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = data.draw(st.sampled_from(keys))
            child = node[key]
            if isinstance(child, dict | list) and child and data.draw(st.booleans()):
                node = child
                continue
            action = data.draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                node[key] = data.draw(JSON)
            elif action == "delete" and isinstance(node, dict):
                del node[key]
            elif action == "delete":
                node.pop(key)
            elif isinstance(node, dict):
                node[data.draw(st.text(max_size=12))] = data.draw(JSON)
            else:
                node.insert(key, data.draw(JSON))
            break
    return doc


def corrupt_bytes(data: st.DataObject, raw: bytes) -> bytes:
    """Bytes cut, flipped or inserted somewhere in `raw`."""
    at = data.draw(st.integers(0, len(raw)))
    kind = data.draw(st.sampled_from(["cut", "flip", "insert"]))
    if kind == "cut":
        return raw[:at]
    if kind == "flip":
        return raw[:at] + bytes([data.draw(st.integers(0, 255))]) + raw[at + 1:]
    return raw[:at] + data.draw(st.binary(max_size=20)) + raw[at:]


@pytest.fixture(scope="module")
def fuzz_batch(tmp_path_factory):
    """Fuzzed notebooks and zip member names, all graded in one batch with an honest student.

    Hypothesis draws the inputs (``FUZZ_EXAMPLES`` per fuzzer); the grading runs
    once, on warm workers, and the properties are checked on the whole batch.
    """
    tmp = tmp_path_factory.mktemp("fuzz")
    folder = tmp / "submitted"
    place(folder, "honest", honest())
    base = json.loads(honest())
    made: dict[str, list] = {"notebooks": [], "random": [], "members": [], "code": []}

    @FUZZ
    @given(st.data())
    def mutated_notebooks(data):
        doc = mutate(data, base)
        raw = json.dumps(doc).encode()
        if data.draw(st.booleans(), label="byte-level too"):
            raw = corrupt_bytes(data, raw)
        made["notebooks"].append(place(folder, f"mut{len(made['notebooks']):03d}", raw))

    @FUZZ
    @given(JSON, st.booleans())
    def random_json(value, as_notebook):
        if as_notebook:  # enough of a notebook's keys to get past the first checks
            value = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": value}
        raw = json.dumps(value).encode()
        made["random"].append(place(folder, f"rnd{len(made['random']):03d}", raw))

    @FUZZ
    @given(st.lists(CODE_PIECES, min_size=1, max_size=8))
    def extra_code(pieces):
        # A valid notebook with one more code cell: extract, scan and the sandbox get the code.
        raw = edited(extra=["".join(pieces)])
        made["code"].append(place(folder, f"code{len(made['code']):03d}", raw))

    small = to_bytes(notebook({"corr1d": "def corr1d(x, h):\n    return x"}))

    # zipfile cuts a name at a NUL byte: the archive could not hold such a name.
    names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                    min_size=1, max_size=300)

    @FUZZ
    @given(names, st.integers(0, 10**12), st.booleans())
    def member_names(login, sid, canvas):
        name = f"{login}_{sid % 997}_{sid}_{A}.ipynb" if canvas else f"{login}.ipynb"
        if name not in made["members"]:
            made["members"].append(name)

    mutated_notebooks()
    random_json()
    extra_code()
    member_names()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in made["members"]:
            zf.writestr(name, small)
    (folder / "lms.zip").write_bytes(buffer.getvalue())
    out = tmp / "out"
    results = grade([folder], out=out, assignment=A, **FAST)
    return results, out, made, folder


def test_fuzzed_inputs_leave_a_complete_gradebook_and_the_honest_student_whole(fuzz_batch):
    results, out, made, folder = fuzz_batch
    assert all(len(v) >= min(FUZZ_EXAMPLES, 5) for v in made.values()), made
    by = {r.student: r for r in results}
    assert by["honest"].score == max_score(A) and by["honest"].flags == []
    # One row per submission found, none merged, every one saved and in grades.csv.
    assert len(by) == len(results) == len(collect([folder], A))
    assert set(rows(out)) == set(by)
    assert len(list((out / "results").glob("*/*.json"))) == len(results)
    for r in results:
        assert len(r.student) <= MAX_ID_CHARS and "/" not in r.student
        assert all(len(n) <= TEXT_LIMIT + 60 for n in r.notes)
        assert r.error is None or isinstance(r.error, str)
        assert 0 <= r.score <= max_score(A)
    # Every mutated notebook and random document is a row of its own.
    for path in made["notebooks"] + made["random"] + made["code"]:
        assert path.parents[1].name in by
    # A valid notebook with odd code is graded, not an error row.
    errors = {p.parents[1].name: by[p.parents[1].name].error for p in made["code"]}
    assert {k: e for k, e in errors.items() if e is not None} == {}


# --------------------------------------------------------------------------- containment

# Loops when the grader calls it, not when the notebook's other functions do: the
# issue's student, whose three other functions were right.
LOOPS = '''\
import sys

_original_length = conv_output_length


def conv_output_length(n, k, *args, **kwargs):
    if not sys._getframe(1).f_code.co_filename.startswith("<cell"):
        while True:
            pass
    return _original_length(n, k, *args, **kwargs)
'''

HOGS_ONE_CASE = '''\
import sys

_original_length = conv_output_length


def conv_output_length(n, k, *args, **kwargs):
    # The "2D example" case, called by the grader (not by conv1d_single and conv1d).
    if (n, k) == (4, 2) and not sys._getframe(1).f_code.co_filename.startswith("<cell"):
        np.ones(10**12)  # 8 TB: more than the sandbox allows
    return _original_length(n, k, *args, **kwargs)
'''
EXITS = "import os\n\n\ndef corr1d(x, h):\n    os._exit(3)"


def test_a_fault_costs_only_its_function_and_regrading_gives_the_same_verdicts(tmp_path):
    folder = tmp_path / "submitted"
    place(folder, "honest", honest())
    place(folder, "loops", edited(extra=[LOOPS]))
    place(folder, "hogs", edited(extra=[HOGS_ONE_CASE]))
    place(folder, "exits", edited(extra=[EXITS]))
    gradings = [{r.student: r for r in grade([folder], out=tmp_path / f"out{i}",
                                             **{**FAST, "timeout": 10})}
                for i in range(2)]
    first, second = gradings
    for student in first:
        assert verdicts(first[student]) == verdicts(second[student]), student
    r = first
    assert r["honest"].score == max_score(A)
    others = {p.name for p in problems_for(A)}
    for student, faulty in (("loops", "conv_output_length"), ("hogs", "conv_output_length"),
                            ("exits", "corr1d")):
        for name in others - {faulty}:
            p = r[student].problems[name]
            assert p.score == p.max_score, (student, name)
    loops = r["loops"].problems["conv_output_length"]
    assert [c.status for c in loops.cases[:2]] == ["timeout", "timeout"] and loops.score == 0
    hogs = r["hogs"].problems["conv_output_length"]
    failed = [c for c in hogs.cases if not c.passed]
    assert [(c.name, c.status) for c in failed] == [("2D example: n=4, k=2", "crashed")]
    assert hogs.score == pytest.approx(hogs.max_score * (1 - 1 / len(hogs.cases)))
    exits = r["exits"].problems["corr1d"]
    assert exits.score == 0 and {c.status for c in exits.cases} <= {"crashed", "not_run"}


def test_the_limits_leave_room_for_the_rest_of_the_submission():
    limits = limits_for(10)
    assert (limits.submission_seconds, limits.call_seconds, limits.cell_seconds) == (10, 5, 5)
    assert limits_for(60).call_seconds == 10  # never above the sandbox's own limit


def test_a_planted_file_never_replaces_another_students_work(tmp_path):
    folder = tmp_path / "submitted"
    place(folder, "alice", honest())
    own = place(folder, "zed", edited({"corr1d": "def corr1d(x, h):\n    return x"}))
    planted = own.parent / "extra" / f"alice_{A}.ipynb"
    planted.parent.mkdir()
    planted.write_bytes(to_bytes(notebook({})))
    os.utime(own, (1_000_000, 1_000_000))  # the planted file is zed's newer one
    out = tmp_path / "out"
    results = {r.student: r for r in grade([folder], out=out, **FAST)}
    assert sorted(results) == ["alice", "zed"]
    assert results["alice"].score == max_score(A)
    assert results["zed"].source == str(planted) and results["zed"].score == 0
    summary = (out / "summary.html").read_text()
    assert "zed / 01_conv1d: graded" in summary and f"ignored &#39;{own}&#39;" in summary


# --------------------------------------------------------------------------- resume and the cache


def test_the_cache_key_covers_what_can_change_a_verdict(tmp_path):
    sub = Submission("alice", A, honest(), "x.ipynb")
    version = grader_version()
    release = tmp_path / "notebooks" / A / f"{A}.ipynb"
    release.parent.mkdir(parents=True)
    release.write_bytes(honest())
    key = cache_key(sub, version, SEED, limits_for(20), "bwrap", tmp_path)
    assert key == cache_key(sub, version, SEED, limits_for(20), "bwrap", tmp_path)
    changed = [
        cache_key(Submission("alice", A, honest() + b" ", "x.ipynb"), version, SEED,
                  limits_for(20), "bwrap", tmp_path),
        cache_key(sub, version + "x", SEED, limits_for(20), "bwrap", tmp_path),
        cache_key(sub, version, SEED + 1, limits_for(20), "bwrap", tmp_path),
        cache_key(sub, version, SEED, limits_for(30), "bwrap", tmp_path),
        cache_key(sub, version, SEED, limits_for(20), "none", tmp_path),
    ]
    release.write_bytes(honest() + b"\n")
    changed.append(cache_key(sub, version, SEED, limits_for(20), "bwrap", tmp_path))
    assert len({key, *changed}) == len(changed) + 1


def test_regrading_a_subset_keeps_the_other_rows(tmp_path):
    folder = tmp_path / "submitted"
    place(folder, "alice", honest())
    place(folder, "bob", edited({"corr1d": "def corr1d(x, h):\n    return x"}))
    out = tmp_path / "out"
    grade([folder], out=out, **FAST)
    before = rows(out)
    path = tmp_path / "late" / "bob" / A / f"{A}.ipynb"
    place(tmp_path / "late", "bob", honest())
    (bob,) = grade([path], out=out, **FAST)
    after = rows(out)
    assert sorted(after) == ["alice", "bob"]
    assert after["alice"] == before["alice"]
    assert float(before["bob"]["total"]) == max_score(A) - 2  # corr1d was wrong
    assert float(after["bob"]["total"]) == bob.score == max_score(A)
    with open(out / "canvas.csv", newline="") as fh:
        canvas = {row["SIS Login ID"]: row for row in csv.DictReader(fh)}
    assert {"alice", "bob"} <= set(canvas)


def test_a_new_timeout_regrades_and_the_same_one_reuses(tmp_path):
    folder = tmp_path / "submitted"
    place(folder, "alice", honest())
    out = tmp_path / "out"
    grade([folder], out=out, **FAST)
    saved = out / "results" / "alice" / f"{A}.json"
    stamp = saved.stat().st_mtime_ns
    grade([folder], out=out, **FAST)
    assert saved.stat().st_mtime_ns == stamp
    grade([folder], out=out, **{**FAST, "timeout": 30})
    assert saved.stat().st_mtime_ns != stamp


# --------------------------------------------------------------------------- bounded outputs


def test_long_texts_from_student_code_are_cut_everywhere(tmp_path):
    shout = "raise ValueError('" + "x" * 20_000 + "')"
    many = [f"raise RuntimeError('cell {i}')" for i in range(300)]
    folder = tmp_path / "submitted"
    place(folder, "honest", honest())
    place(folder, "loud", edited(extra=[shout, *many]))
    out = tmp_path / "out"
    results = {r.student: r for r in grade([folder], out=out, **FAST)}
    loud = results["loud"]
    assert loud.score == max_score(A) and results["honest"].score == max_score(A)
    cut = [n for n in loud.notes if "more characters cut]" in n]
    assert cut and all(len(n) <= TEXT_LIMIT + 60 for n in loud.notes)
    assert loud.notes[-1].endswith("more notes cut]")
    row = rows(out)["loud"]
    assert len(row["notes"]) < 10_100
    stored = json.loads((out / "results" / "loud" / f"{A}.json").read_text())
    assert stored["notes"] == loud.notes
    assert "more characters cut]" in (out / "feedback" / "loud" / f"{A}.md").read_text() \
        or "more notes cut]" in (out / "feedback" / "loud" / f"{A}.md").read_text()


# --------------------------------------------------------------------------- Ctrl-C


def test_ctrl_c_stops_soon_keeps_finished_results_and_says_how_to_resume(tmp_path):
    folder = tmp_path / "submitted"
    place(folder, "a_quick", honest())
    # Each cell stays under the cell limit; together they would take 90 s.
    place(folder, "b_slow", edited(extra=["import time\ntime.sleep(9)"] * 10))
    out = tmp_path / "out"
    grade_args = ["-m", "autograder", "grade", str(folder), "--seed", str(SEED),
                  "--workers", "1", "--timeout", "100", "--out", str(out)]
    # As from a terminal: a shell's background job (how CI may start the suite) inherits
    # SIGINT ignored, and Python would keep ignoring it; the grader must start with Ctrl-C live.
    command = [sys.executable, "-c", "import os, signal, sys; "
               "signal.signal(signal.SIGINT, signal.SIG_DFL); "
               "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])", *grade_args]
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    quick = out / "results" / "a_quick" / f"{A}.json"
    while proc.poll() is None and not quick.exists():
        time.sleep(0.05)  # polling for progress, not measuring time
    assert proc.poll() is None, proc.communicate()
    time.sleep(2)  # b_slow is under way
    proc.send_signal(signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=30)  # far below the 100 s b_slow would take
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("Ctrl-C did not stop the batch within 30 s")
    assert proc.returncode == 130
    assert "run the same command" in stderr
    assert quick.is_file() and json.loads(quick.read_text())["score"] == max_score(A)
    assert not (out / "results" / "b_slow").exists()  # an interrupted run is not a result
