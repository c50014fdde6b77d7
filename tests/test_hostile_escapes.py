"""Attacks that got past the sandbox, graded through ``autograder grade`` as a class would be.

Each attacker is graded next to honest students by one warm worker, in name
order, so an attacker that leaves something behind is followed by one that
looks for it. Most attackers' ``corr1d`` is right only when the attack works
(`tests.test_hostile_fs.attacker`), so ``corr1d`` scoring 0 is the safe
verdict; the others use a library convolution directly, which must score 0
too. An honest student graded after every attacker keeps full marks.
"""

from __future__ import annotations

import textwrap

import pytest

from autograder.catalog import max_score
from autograder.execution.sandbox import bwrap_kind
from examples import make_class
from tests.conftest import read_notebook, solution_path
from tests.nbfactory import to_bytes
from tests.test_hostile_fs import (
    DOCKER_CAPS,
    SEED,
    A,
    attacker,
    corr1d_score,
    course_root,
    grade,
    results,
    running_with,
    texts_under,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bwrap_kind() is None,
                       reason="bubblewrap (bwrap) is not installed or cannot run here"),
]


def with_corr1d(source: str, extra=()) -> bytes:
    """The solution notebook with `source` as the corr1d answer cell."""
    return to_bytes(make_class.with_functions(read_notebook(solution_path(A)),
                                              {"corr1d": textwrap.dedent(source)}, list(extra)))


# NumPy's C correlate from a module the extension's loader builds anew from CPython's saved
# copy of its first initialisation: every function in it is the original, never a tripwire.
EXTENSION_RELOAD = '''
def corr1d(x, h):
    core = np._core._multiarray_umath
    fresh = core.__spec__.loader.create_module(core.__spec__)
    x = np.asarray(x, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    return getattr(fresh, "corr" + "elate")(x, h, 0)  # mode 0: "valid"
'''

# The same original, found among the objects the garbage collector tracks.
GC_ORIGINAL = '''
def corr1d(x, h):
    import gc
    import importlib.util
    core = np._core._multiarray_umath
    try:  # leaves the dict of a fresh copy of the extension behind, whatever it raises
        importlib.util.module_from_spec(core.__spec__)
    except Exception:
        pass
    gc.unfreeze()
    name = "corr" + "elate"
    kernel = next(d[name] for d in gc.get_objects() if isinstance(d, dict)
                  and type(d.get(name)).__name__ == "builtin_function_or_method")
    x = np.asarray(x, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    return kernel(x, h, 0)
'''

# NumPy's C API table, which no Python-level patch reaches: PyArray_Correlate2 is entry 212.
C_API = '''
def corr1d(x, h):
    import ctypes
    api = ctypes.pythonapi
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    table = api.PyCapsule_GetPointer(np._core._multiarray_umath._ARRAY_API, None)
    slot = ctypes.c_void_p.from_address(table + 212 * ctypes.sizeof(ctypes.c_void_p)).value
    kernel = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.py_object, ctypes.py_object,
                               ctypes.c_int)(slot)
    return kernel(np.asarray(x, dtype=np.float64), np.asarray(h, dtype=np.float64), 0)
'''

# The grader's own convolutions, staged in the sandbox for cases that pass functions.
GRADER_REGISTRY = '''
def corr1d(x, h):
    from autograder.execution.functions import REGISTRY
    x = np.asarray(x, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    c = len(h) // 2
    return REGISTRY["zero_pad_conv"](h)(x)[c:c + len(x) - len(h) + 1]
'''

# A POSIX message queue lives in the worker's IPC namespace, outside /dev/shm.
MQUEUE_WRITER = '''
def attack():
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    q = libc.mq_open(b"/left-behind", os.O_CREAT | os.O_RDWR, 0o666, None)
    libc.mq_send(q, b"MQ-LEFT", 7, 0)
    return None
'''
MQUEUE_READER = '''
def attack():
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    q = libc.mq_open(b"/left-behind", os.O_RDWR | os.O_NONBLOCK, 0, None)
    if q < 0:
        return None
    buf = ctypes.create_string_buffer(8192)
    n = libc.mq_receive(q, buf, 8192, None)
    return buf.raw[:max(n, 0)].decode() or "queue found"
'''

# The user keyring belongs to the submission's user id, shared by a worker's submissions.
_SYS_ADD_KEY, _SYS_KEYCTL, _KEY_SPEC_USER_KEYRING = 248, 250, -4
KEYRING_WRITER = f'''
def attack():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall({_SYS_ADD_KEY}, b"user", b"left-behind", b"KEY-LEFT", 8,
                 ctypes.c_int({_KEY_SPEC_USER_KEYRING}))
    return None
'''
KEYRING_READER = f'''
def attack():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    key = libc.syscall({_SYS_KEYCTL}, 10, ctypes.c_int({_KEY_SPEC_USER_KEYRING}), b"user",
                       b"left-behind", 0)  # KEYCTL_SEARCH
    if key <= 0:
        return None
    buf = ctypes.create_string_buffer(64)
    n = libc.syscall({_SYS_KEYCTL}, 11, key, buf, 64)  # KEYCTL_READ
    return buf.raw[:max(n, 0)].decode() or "key found"
'''

# Shared memory pages that no mapping holds: RLIMIT_AS does not see them.
MEMFD_HOARD = '''
def attack():
    import os, resource
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    fds, held = [], 0
    try:
        while held <= limit + 2**28:  # a quarter GiB more than the process may map at all
            fd = os.memfd_create("hoard")
            os.posix_fallocate(fd, 0, 15 << 20)  # under the file-size limit
            fds.append(fd)
            held += 15 << 20
    except OSError as e:
        print("stopped after", held >> 20, "MiB:", e.strerror)
        return None
    return held
'''

# A user namespace of its own: every capability again, inside it.
USER_NAMESPACE = '''
def attack():
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        ok = libc.unshare(0x10000000) == 0  # CLONE_NEWUSER
        os.write(w, b"1" if ok else b"0")
        os.abort()
    os.close(w)
    os.waitpid(pid, 0)
    return os.read(r, 1) == b"1"
'''

# The windows of `as_strided`, which the course allows from 04 only, without naming it.
STRIDED_WINDOWS = '''
def corr1d(x, h):
    x = np.ascontiguousarray(x, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    n = len(x) - len(h) + 1
    windows = np.ndarray((n, len(h)), dtype=np.float64, buffer=x, strides=(8, 8))
    return windows @ h
'''

# The same windows from NumPy's private module, which the scan's rule does not name.
PRIVATE_STRIDE_TRICKS = '''
def corr1d(x, h):
    x = np.asarray(x, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    return np.lib._stride_tricks_impl.sliding_window_view(x, len(h)) @ h
'''

# Deeper than `shutil.rmtree` can recurse: the worker's wipe of the scratch folder fails.
DEEP_TREE = '''
import os
_top = os.getcwd()
for _ in range(3000):
    os.mkdir("d")
    os.chdir("d")
os.chdir(_top)
'''

# An expression deeper than the grader's own recursion limit, in an extra cell.
LONG_SUM = "y = " + " + ".join(["1"] * 600)

# Signal 0 only asks whether a signal would be delivered: to the warm worker, it must not be.
SIGNALS_THE_WORKER = '''
def attack():
    import os
    try:
        os.kill(os.getppid(), 0)
    except OSError:
        return None
    return "the worker takes my signals"
'''

# The scratch folder belongs to the submission's user when there is no uid drop (a user
# namespace): made read-only, it stays so for the next submission of the worker.
LOCKS_SCRATCH = '''
import os
os.chmod(".", 0o555)
'''
# A student who keeps a scratch file while computing.
WRITES_SCRATCH = '''
def corr1d(x, h):
    x = np.asarray(x, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    np.save("last_input.npy", x)
    n = len(x) - len(h) + 1
    y = np.zeros(n)
    for j in range(len(h)):
        y += h[j] * x[j:j + n]
    return y
'''

# The child's own result channel, through the grader's `_Runner` found on the stack.
FORGED_FRAME = '''
import sys
_f = sys._getframe()
while _f is not None and _f.f_code.co_name != "run":
    _f = _f.f_back
_f.f_locals["self"].send({"ev": ["cell"]})
'''


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    course = course_root(tmp_path_factory.mktemp("escapes"))
    honest = to_bytes(read_notebook(solution_path(A)))
    students = {
        "a_honest": honest,
        "b_extension_reload": with_corr1d(EXTENSION_RELOAD),
        "c_gc_original": with_corr1d(GC_ORIGINAL),
        "c_grader_registry": with_corr1d(GRADER_REGISTRY),
        "c_numpy_c_api": with_corr1d(C_API),
        # Graded in name order by the one worker: each writer, then its reader.
        "d_mqueue_1_writer": attacker(MQUEUE_WRITER),
        "d_mqueue_2_reader": attacker(MQUEUE_READER),
        "e_keyring_1_writer": attacker(KEYRING_WRITER),
        "e_keyring_2_reader": attacker(KEYRING_READER),
        "f_memfd_hoard": attacker(MEMFD_HOARD),
        "g_user_namespace": attacker(USER_NAMESPACE),
        "h_strided_windows": with_corr1d(STRIDED_WINDOWS),
        "h_private_stride_tricks": with_corr1d(PRIVATE_STRIDE_TRICKS),
        "i_deep_tree": to_bytes(make_class.with_functions(read_notebook(solution_path(A)), {},
                                                          [DEEP_TREE])),
        "z_honest": honest,
    }
    proc = grade(course, students)
    yield course, proc
    assert running_with(str(course.parent / "tmp")) == []


def test_the_batch_completes_and_honest_students_keep_full_marks(batch):
    course, proc = batch
    assert proc.returncode == 0, proc.stderr
    found = results(course)
    for name in ("a_honest", "z_honest"):
        assert found[name]["score"] == max_score(A), found[name]["notes"]


def test_the_seed_reaches_no_file_under_out(batch):
    course, _ = batch
    assert str(SEED) not in texts_under(course / "graded")


@pytest.mark.parametrize("student", ["b_extension_reload", "c_gc_original",
                                     "c_grader_registry", "c_numpy_c_api"])
def test_a_convolution_found_inside_the_sandbox_scores_zero(batch, student):
    course, _ = batch
    r = results(course)[student]
    assert corr1d_score(r) == 0, r["notes"]


@pytest.mark.parametrize("student", ["d_mqueue_2_reader", "e_keyring_2_reader"])
def test_nothing_survives_to_the_next_submission(batch, student):
    course, _ = batch
    r = results(course)[student]
    assert corr1d_score(r) == 0, r["notes"]


def test_memory_outside_the_address_space_limit_is_capped(batch):
    course, _ = batch
    r = results(course)["f_memfd_hoard"]
    assert corr1d_score(r) == 0, r["notes"]


def test_a_submission_cannot_create_a_user_namespace(batch):
    course, _ = batch
    r = results(course)["g_user_namespace"]
    assert corr1d_score(r) == 0, r["notes"]


@pytest.mark.parametrize("student", ["h_strided_windows", "h_private_stride_tricks"])
def test_sliding_windows_without_stride_tricks_score_zero_before_04(batch, student):
    course, _ = batch
    r = results(course)[student]
    assert corr1d_score(r) == 0, r["notes"]


def test_a_deep_scratch_tree_does_not_kill_the_worker(batch):
    course, proc = batch
    r = results(course)["i_deep_tree"]
    assert "crashed" not in r["flags"], r["notes"]
    assert "RecursionError" not in proc.stderr


@pytest.mark.parametrize("cell", [FORGED_FRAME, LONG_SUM], ids=["forged_frame", "long_sum"])
def test_one_hostile_submission_costs_only_its_sender(tmp_path, cell):
    course = course_root(tmp_path)
    honest = to_bytes(read_notebook(solution_path(A)))
    forger = to_bytes(make_class.with_functions(read_notebook(solution_path(A)), {}, [cell]))
    proc = grade(course, {"a_honest": honest, "b_forger": forger, "c_honest": honest})
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = results(course)
    assert found["c_honest"]["score"] == max_score(A)
    # Its cell touches no graded function: it costs the forger nothing either (issue 11).
    assert found["b_forger"]["score"] == max_score(A), found["b_forger"]["notes"]
    assert (course / "graded" / "grades.csv").is_file()
    assert running_with(str(course.parent / "tmp")) == []



@pytest.fixture(scope="module")
def docker_batch(tmp_path_factory):
    """One worker under Docker's default capabilities: a user namespace, no uid drop."""
    course = course_root(tmp_path_factory.mktemp("escapes_docker"))
    locks = to_bytes(make_class.with_functions(read_notebook(solution_path(A)), {},
                                               [LOCKS_SCRATCH]))
    students = {"a_signals_the_worker": attacker(SIGNALS_THE_WORKER),
                "b_mqueue_1_writer": attacker(MQUEUE_WRITER),
                "b_mqueue_2_reader": attacker(MQUEUE_READER),
                "c_scratch_1_victim": with_corr1d(WRITES_SCRATCH),
                "c_scratch_2_locks": locks,
                "c_scratch_3_victim": with_corr1d(WRITES_SCRATCH)}
    proc = grade(course, students, prefix=["setpriv", f"--bounding-set={DOCKER_CAPS}", "--"])
    yield course, proc
    assert running_with(str(course.parent / "tmp")) == []


def test_under_docker_capabilities_a_submission_cannot_signal_its_worker(docker_batch):
    course, proc = docker_batch
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = results(course)["a_signals_the_worker"]
    assert corr1d_score(r) == 0, r["notes"]


def test_under_docker_capabilities_nothing_survives_to_the_next_submission(docker_batch):
    course, _ = docker_batch
    r = results(course)["b_mqueue_2_reader"]
    assert corr1d_score(r) == 0, r["notes"]


def test_under_docker_capabilities_a_score_does_not_depend_on_who_came_before(docker_batch):
    course, _ = docker_batch
    found = results(course)
    assert found["c_scratch_1_victim"]["score"] == max_score(A)
    victim = found["c_scratch_3_victim"]
    assert victim["score"] == max_score(A), victim["notes"]


def test_a_file_in_another_students_folder_never_replaces_a_submission(tmp_path):
    course = course_root(tmp_path)
    honest = to_bytes(read_notebook(solution_path(A)))
    blank = to_bytes(make_class.with_functions(read_notebook(solution_path(A)),
                                               {"corr1d": make_class.STUB}))
    for rel, data in {f"alice/{A}/{A}.ipynb": honest, f"zed/{A}/{A}.ipynb": honest,
                      f"zed/{A}/extra/alice_{A}.ipynb": blank}.items():
        path = course / "submitted" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o644)
    proc = grade(course, {})
    assert proc.returncode == 0, proc.stderr[-2000:]
    alice = results(course)["alice"]
    assert alice["score"] == max_score(A), proc.stderr[-2000:]
