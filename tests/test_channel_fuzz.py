"""The result channel under random and mutated frames: only the documented errors, ever.

The grader reads what the student's process writes (`wire.FrameReader`,
`wire.decode`, `run._Run.results`). Whatever the bytes, decoding raises
`WireError` and a run raises `_Corrupt` (the call under way is then
"invalid_output"), never anything else, and `_Run.finish` always gives one
outcome per call. Last, students who write such frames themselves, graded
in one batch with an honest student, through the command line.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder.catalog import max_score
from autograder.execution import wire
from autograder.execution.outcome import Call
from autograder.execution.run import _META, RunOutcome, _Corrupt, _Run
from autograder.execution.sandbox import Limits
from autograder.results import STATUSES
from examples import make_class
from tests.conftest import REPO, read_notebook, solution_path
from tests.nbfactory import cells, to_bytes

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
LIMITS = Limits(result_bytes=1 << 20)

# ---------------------------------------------------------------- strategies

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
                    st.complex_numbers(allow_nan=True, allow_infinity=True))
arrays = st.builds(lambda shape, kind: np.zeros(shape, dtype=kind),
                   st.lists(st.integers(0, 3), max_size=3).map(tuple),
                   st.sampled_from(["f8", "i4", "bool", "c16", "u1", "f2"]))
plain = st.recursive(
    st.one_of(scalars, arrays),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.one_of(st.text(max_size=5), st.integers()),
                                            inner, max_size=4)),
    max_leaves=12)
events = st.sampled_from(sorted(_META))
event_name = st.one_of(events, st.text(max_size=10), plain)


@st.composite
def metas(draw):
    """An event as the child writes it, then perhaps with fields dropped, added or retyped."""
    ev = draw(events)
    good = {"i": 1, "k": 0, "status": "ok", "error": "", "seconds": 0.1, "exc_type": "",
            "message": "m", "traceback": "", "forbidden_call": "", "mutated": [],
            "returned_view": False, "name": "numpy.convolve"}
    meta = {"ev": ev, **{f: good[f] for f in _META[ev]}}
    for field in draw(st.lists(st.sampled_from(sorted(good) + ["ev", "extra"]), max_size=3)):
        action = draw(st.sampled_from(["retype", "drop"]))
        if action == "drop":
            meta.pop(field, None)
        else:
            meta[field] = draw(plain)
    if draw(st.booleans()):
        meta["ev"] = draw(event_name)
    return meta


@st.composite
def npy_blobs(draw):
    """A `.npy` blob whose header says anything: shapes, dtypes, orders, lengths."""
    header = {
        "descr": draw(st.one_of(st.sampled_from(["<f8", "<i8", "|b1", "<c16", "|O", "<U3", "V8",
                                                 "<M8[s]", "S2", "<f8,<i4", "?", "x"]),
                                st.text(max_size=8))),
        "fortran_order": draw(st.one_of(st.booleans(), plain)),
        "shape": draw(st.one_of(
            st.lists(st.integers(-3, 4), max_size=4).map(tuple),
            st.lists(st.integers(0, 2), min_size=60, max_size=70).map(tuple),
            st.lists(st.integers(-2**63, 2**64), max_size=3).map(tuple), plain)),
    }
    buf = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(buf, header)
    except Exception:  # numpy refuses to even write some of them: write the dict ourselves
        text = repr(header).encode()
        buf = io.BytesIO(b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text)
    return buf.getvalue() + draw(st.one_of(st.binary(max_size=64), st.just(_claimed(header))))


def _claimed(header: dict) -> bytes:
    """As many bytes as the header claims, where that is a small number: the header tells the
    truth about its size, so the array reader, not the size check, meets the rest."""
    try:
        n = np.dtype(header["descr"]).itemsize * int(np.prod(header["shape"], dtype=object))
    except Exception:
        return b""
    return bytes(n) if 0 <= n <= 256 else b""


def value_with(blob: bytes, tag: str = "ndarray") -> bytes:
    tree = json.dumps({"tree": {"$": tag, "blob": 0}, "blobs": [len(blob)]}).encode()
    return wire.MAGIC + len(tree).to_bytes(4, "big") + tree + blob


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """`data` with a few bytes changed, cut or inserted."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        how = draw(st.sampled_from(["flip", "cut", "insert"]))
        if how == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif how == "cut":
            del data[at:at + draw(st.integers(1, 8))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@st.composite
def values(draw):
    """What may follow a meta in a frame: a good value, a mutated one, a strange blob, junk."""
    kind = draw(st.sampled_from(["none", "plain", "mutated", "npy", "scalar", "junk"]))
    if kind == "none":
        return b""
    if kind == "plain":
        return wire.encode(draw(plain))
    if kind == "mutated":
        return draw(mutated(wire.encode(draw(plain))))
    if kind in ("npy", "scalar"):
        return value_with(draw(npy_blobs()), "ndarray" if kind == "npy" else "scalar")
    return draw(st.binary(max_size=40))


@st.composite
def streams(draw):
    """Bytes on the results pipe: mostly framed messages, some mutated, cut into chunks."""
    parts = []
    for _ in range(draw(st.integers(1, 8))):
        try:
            meta = wire.encode(draw(metas()))
        except wire.WireError:  # e.g. a dict with a key wire cannot carry
            meta = b""
        data = wire.frame(meta, draw(values()))
        if draw(st.integers(0, 9)) == 0:
            data = draw(mutated(data))
        parts.append(data)
    stream = b"".join(parts)
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=4)))
    return [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]


# ---------------------------------------------------------------- properties


@FUZZ
@given(st.one_of(st.binary(max_size=200), plain.map(wire.encode).flatmap(mutated)))
def test_decode_raises_only_wire_errors(data):
    try:
        wire.decode(data)
    except wire.WireError:
        pass


@FUZZ
@given(npy_blobs(), st.sampled_from(["ndarray", "scalar"]))
def test_any_npy_header_decodes_or_is_a_wire_error(blob, tag):
    try:
        out = wire.decode(value_with(blob, tag))
    except wire.WireError:
        return
    assert isinstance(out, np.ndarray | np.generic)
    assert out.dtype.kind in wire.PLAIN_KINDS


@FUZZ
@given(st.lists(st.binary(max_size=30), max_size=6), st.integers(0, 100))
def test_the_frame_reader_raises_only_wire_errors(chunks, cap):
    reader = wire.FrameReader(cap)
    try:
        for chunk in chunks:
            for meta, value in reader.feed(chunk):
                assert isinstance(meta, bytes) and isinstance(value, bytes)
    except wire.WireError:
        pass


def _run() -> _Run:
    return _Run(cells("x = 1", "def f():\n    return x"),
                [Call("f", "a"), Call("f", "b"), Call("g", "c")], LIMITS)


@FUZZ
@given(streams(), st.sampled_from([None, 0, 9, 256]))
def test_a_run_fed_anything_is_corrupt_at_worst_and_always_finishes(chunks, status):
    run, corrupt, crash = _run(), False, ""
    try:
        for chunk in chunks:
            run.results(chunk)
    except _Corrupt as e:
        corrupt, crash = True, f"wrote malformed data to the grader's result channel ({e})"
    out = run.finish(status, "", crash, corrupt)
    assert isinstance(out, RunOutcome)
    assert [(c.problem, c.case) for c in out.calls] == [("f", "a"), ("f", "b"), ("g", "c")]
    assert all(c.status in STATUSES for c in out.calls)
    assert all(isinstance(m, str) for c in out.calls for m in c.mutated)


def test_the_malformed_frames_named_in_the_issue_are_corrupt():
    """A `call_done` whose fields are lists or dicts, and an array of 65 dimensions."""
    start = [{"ev": "cell", "i": 1},
             {"ev": "cell_done", "i": 1, "status": "ok", "error": "", "seconds": 0.0},
             {"ev": "cell", "i": 2},
             {"ev": "cell_done", "i": 2, "status": "ok", "error": "", "seconds": 0.0},
             {"ev": "call", "k": 0}]
    done = {"ev": "call_done", "k": 0, "status": "ok", "exc_type": "", "message": "",
            "traceback": "", "seconds": 0.0, "forbidden_call": "", "mutated": [],
            "returned_view": False}
    for bad in ({**done, "status": ["ok"]}, {**done, "ev": ["call_done"]},
                {**done, "mutated": [{"x": 1}]}, {**done, "k": {"a": 1}},
                {"ev": "trip", "name": ["numpy.convolve"]}, {**done, 1.5: 1, None: 2}):
        run = _run()
        with pytest.raises(_Corrupt):
            run.results(b"".join(wire.frame(wire.encode(m)) for m in [*start, bad]))
        assert run.finish(0, "", "corrupt", True).calls[0].status == "invalid_output"
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": (1,) * 65})
    run = _run()
    run.results(b"".join(wire.frame(wire.encode(m)) for m in start)
                + wire.frame(wire.encode(done), value_with(buf.getvalue() + bytes(8))))
    first = run.finish(0, "", "", False).calls[0]
    assert first.status == "invalid_output"
    assert first.message == "an array header claims 65 dimensions; NumPy allows at most 64"


# ---------------------------------------------------------------- end to end

A = "01_conv1d"
# The student's side: find the results pipe. The frames themselves are made here, in the
# test, and written as bytes literals: a student's `from autograder import wire` is proven
# by the scan before it runs, and this test is about what the run-time channel does.
FIND_FD = """\
import os, stat
def _results_fd():
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            if fd > 2 and stat.S_ISFIFO(os.fstat(fd).st_mode):
                return fd
        except OSError:
            pass
"""
_BODY = "def corr1d(x, h):\n    os.write(_results_fd(), {!r})\n    return x[:len(x) - len(h) + 1]\n"


def _done(**fields) -> bytes:
    meta = {"ev": "call_done", "k": 0, "status": "ok", "exc_type": "", "message": "",
            "traceback": "", "seconds": 0.0, "forbidden_call": "", "mutated": [],
            "returned_view": False}
    return wire.encode({**meta, **fields})


def _ndim65_blob() -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                               "shape": (1,) * 65})
    return buf.getvalue() + bytes(8)


def _ndim65() -> bytes:
    blob = _ndim65_blob()
    tree = b'{"tree":{"$":"ndarray","blob":0},"blobs":[%d]}' % len(blob)
    return wire.frame(_done(), wire.MAGIC + (41).to_bytes(4, "big") + tree + blob)


JUNK = {
    "list_status": lambda: wire.frame(_done(status=["ok"])),
    "dict_message": lambda: wire.frame(_done(message={"a": [1, 2]})),
    "ndim65": _ndim65,
    "unknown_event": lambda: wire.frame(wire.encode({"ev": "cheer", "k": 0})),
    "huge_frame": lambda: wire.FRAME_MAGIC + (2**32 - 1).to_bytes(4, "big"),
    "negative_shape": lambda: wire.frame(_done(), wire.encode(np.zeros(2))
                                         .replace(b"(2,)", b"(-2,)")),
    "bad_dtype": lambda: wire.frame(_done(), wire.encode(np.zeros(2)).replace(b"<f8", b"|O8")),
    "early_done": lambda: wire.frame(wire.encode({"ev": "done"})),
    "garbage": lambda: b"garbage!" * 100,
}


@pytest.fixture(scope="module")
def junk_batch(tmp_path_factory):
    """Students whose corr1d writes junk into the results pipe, graded by the command line."""
    tmp = tmp_path_factory.mktemp("junk")
    solution = read_notebook(solution_path(A))
    students = {"honest": solution}
    for name, frame in JUNK.items():
        source = FIND_FD + _BODY.format(frame())
        students[name] = make_class.with_functions(solution, {"corr1d": source})
    for student, nb in students.items():
        path = tmp / "submitted" / student / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(to_bytes(nb))
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(tmp / "submitted"), "--out",
         str(tmp / "out"), "--seed", "11", "--workers", "2", "--timeout", "30"],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    return done, tmp / "out"


def test_junk_on_the_results_pipe_leaves_a_complete_gradebook(junk_batch):
    done, out = junk_batch
    assert done.returncode == 0, done.stderr[-3000:]
    with open(out / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"honest", *JUNK}
    assert float(rows["honest"]["total"]) == max_score(A)
    for student in JUNK:
        result = json.loads((out / "results" / student / f"{A}.json").read_text())
        corr1d = result["problems"]["corr1d"]
        assert corr1d["score"] == 0, student
        assert corr1d["cases"][0]["status"] in ("invalid_output", "crashed"), student
