"""Hostile submissions against the sandbox's walls, graded through ``autograder grade``.

Each attacker's ``corr1d`` is correct only when its attack works: it reads a
secret, reaches a socket, finds what an earlier submission left, or fills the
scratch folder beyond its cap; otherwise it returns None. So the verdict
(``corr1d`` scores 0) proves the attack failed, an honest student in the same
batch keeps full marks, no planted secret appears anywhere under ``--out``,
and no process of the batch is left running. One worker grades the whole
batch, in order, so the leftover tests see what the submission before left.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

from autograder.catalog import max_score
from autograder.execution.sandbox import bwrap_kind
from examples import make_class
from tests.conftest import REPO, read_notebook, solution_path
from tests.nbfactory import to_bytes

pytestmark = pytest.mark.skipif(bwrap_kind() is None,
                                reason="bubblewrap (bwrap) is not installed or cannot run here")

A = "01_conv1d"
SEED = 8675309123
MARK = f"SECRET-{uuid.uuid4().hex}"
DOCKER_CAPS = ("-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap,"
               "+net_bind_service,+net_raw,+sys_chroot,+mknod,+audit_write,+setfcap")

HONEST = '''
def _honest(x, h):
    x = np.asarray(x, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    n = len(x) - len(h) + 1
    y = np.zeros(n)
    for j in range(len(h)):
        y += h[j] * x[j:j + n]
    return y
'''


def attacker(attack: str, leak_cell: bool = True) -> bytes:
    """A notebook whose corr1d is right only when ``attack()`` returns something true.

    `attack` defines ``attack()``; whatever it returns is also printed and
    raised from a cell of its own, so a secret it reached would land in the
    feedback.
    """
    src = "import numpy as np\n" + HONEST + textwrap.dedent(attack) + '''
def corr1d(x, h):
    return _honest(x, h) if _ATTACK else None
'''
    # The attack runs once, in the cell, while the notebook runs.
    src = src.replace("def corr1d", "try:\n    _ATTACK = attack()\nexcept Exception as e:\n"
                      "    _ATTACK = None\n    print(type(e).__name__, e)\n\n\ndef corr1d", 1)
    extra = ["print(_ATTACK)\nraise RuntimeError(repr(_ATTACK))"] if leak_cell else []
    return to_bytes(make_class.with_functions(read_notebook(solution_path(A)),
                                              {"corr1d": src}, extra))


def read(path) -> str:
    return f'''
def attack():
    import os
    path = {str(path)!r}
    if os.path.isdir(path):
        return " ".join(sorted(os.listdir(path)))
    with open(path, "rb") as f:
        return f.read(4000).decode("latin-1")
'''


def connect(family: str, address) -> str:
    return f'''
def attack():
    import socket
    s = socket.socket(socket.{family})
    s.settimeout(1)
    s.connect({address!r})
    s.sendall(b"hello from the sandbox")
    return "connected"
'''


SHM_WRITER = f'''
def attack():
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    shmid = libc.shmget(0x5EED, 4096, 0o1666)  # IPC_CREAT | 0666
    addr = libc.shmat(shmid, None, 0)
    ctypes.memmove(addr, b"{MARK}", {len(MARK)})
    semid = libc.semget(0x5EED, 1, 0o1666)
    msqid = libc.msgget(0x5EED, 0o1666)
    try:
        with open("/dev/shm/autograder-left-{MARK}", "w") as f:
            f.write("{MARK}")
    except OSError as e:
        print("posix shm:", e.strerror)
    print("created", shmid, semid, msqid)
    return None  # the writer itself earns nothing
'''
SHM_READER = f'''
def attack():
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    found = []
    shmid = libc.shmget(0x5EED, 0, 0)
    if shmid >= 0:
        found.append(ctypes.string_at(libc.shmat(shmid, None, 0), {len(MARK)}).decode())
    if libc.semget(0x5EED, 0, 0) >= 0:
        found.append("sem")
    if libc.msgget(0x5EED, 0) >= 0:
        found.append("msg")
    found += [n for n in os.listdir("/dev/shm") if "autograder-left" in n]
    found += os.listdir(".")  # the scratch folder the submission before wrote to
    return found
'''
FILL_SCRATCH = '''
def attack():
    import os
    block = b"x" * 2**20
    written = 0
    try:
        for i in range(30):  # 30 files of 10 MB: 300 MB, each under the file-size limit
            with open(f"fill{i}.bin", "wb") as f:
                for _ in range(10):
                    f.write(block)
                    written += len(block)
    except OSError as e:
        print("stopped after", written // 2**20, "MB:", e.strerror)
        return None
    return written
'''


class Listener:
    """Servers the sandbox must not reach; `hits` counts the connections they accepted."""

    def __init__(self, course: Path):
        self.hits = 0
        self.unix_tmp = Path("/tmp") / f"ag-test-{uuid.uuid4().hex[:8]}.sock"
        self.unix_course = course / "grader.sock"
        self.abstract = f"\0ag-test-{uuid.uuid4().hex}"
        self.servers = []
        for family, address in ((socket.AF_UNIX, str(self.unix_tmp)),
                                (socket.AF_UNIX, str(self.unix_course)),
                                (socket.AF_UNIX, self.abstract),
                                (socket.AF_INET, ("127.0.0.1", 0))):
            s = socket.socket(family)
            s.bind(address)
            s.listen()
            os.chmod(address, 0o777) if isinstance(address, str) and address[0] == "/" else None
            self.servers.append(s)
        self.tcp = self.servers[-1].getsockname()
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            ready, _, _ = select.select(self.servers, [], [], 0.2)
            for s in ready:
                s.accept()[0].close()
                self.hits += 1

    def close(self):
        self.stop = True
        self.thread.join()
        for s in self.servers:
            s.close()
        self.unix_tmp.unlink(missing_ok=True)


def plant(path: Path, text: str) -> Path | None:
    """Write a secret where the host has it; None where this user may not."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o644)
    except OSError:
        return None
    return path


def course_root(tmp: Path) -> Path:
    """A course laid out as the README says, every secret marked with `MARK`."""
    course = tmp / "course"
    solution = read_notebook(solution_path(A))
    plant(course / "solutions" / A / f"{A}.ipynb", to_bytes(solution).decode() + MARK)
    plant(course / "autograder.toml", f"grading_seed = {SEED}  # {MARK}\n")
    plant(course / ".nbgrader" / "gradebook.db", f"SQLite format 3 {MARK}")
    plant(course / "graded_before" / "results" / "ann" / f"{A}.json", json.dumps({"m": MARK}))
    plant(course / "graded_before" / "feedback" / "ann" / f"{A}.md", MARK)
    # Everything on the way down must be open to others, as a course folder usually is.
    for d in (tmp, course):
        d.chmod(0o755)
    return course


def grade(course: Path, students: dict[str, bytes], prefix=(), sandbox="auto",
          env=None) -> subprocess.CompletedProcess:
    for student, data in students.items():
        path = course / "submitted" / student / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o644)
    out = course / "graded"
    command = [*prefix, sys.executable, "-m", "autograder", "grade", str(course / "submitted"),
               "--out", str(out), "--seed", str(SEED), "--workers", "1", "--sandbox", sandbox]
    # A TMPDIR of the batch's own: every process of it names it, so none may outlive it.
    tmpdir = course.parent / "tmp"
    tmpdir.mkdir(exist_ok=True)
    tmpdir.chmod(0o755)
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=600,
                          env={**os.environ, "TMPDIR": str(tmpdir), **(env or {})})


def results(course: Path) -> dict[str, dict]:
    folder = course / "graded" / "results"
    return {p.parent.name: json.loads(p.read_text()) for p in folder.glob(f"*/{A}.json")}


def corr1d_score(result: dict) -> float:
    return result["problems"]["corr1d"]["score"]


def texts_under(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("latin-1") for p in folder.rglob("*") if p.is_file())


def running_with(marker: str) -> list[int]:
    """Processes whose command line or environment names `marker`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        for part in ("cmdline", "environ"):
            try:
                if marker.encode() in Path(f"/proc/{pid}/{part}").read_bytes():
                    found.append(int(pid))
                    break
            except OSError:
                continue
    return found


SECRET_FILES = {
    "reads_solutions": lambda c: c / "solutions" / A / f"{A}.ipynb",
    "reads_repo_solutions": lambda c: REPO / "solutions" / A / f"{A}.ipynb",
    "reads_other_student": lambda c: c / "submitted" / "honest" / A / f"{A}.ipynb",
    "reads_gradebook_db": lambda c: c / ".nbgrader" / "gradebook.db",
    "reads_seed_toml": lambda c: c / "autograder.toml",
    "reads_old_results": lambda c: c / "graded_before" / "results" / "ann" / f"{A}.json",
    "reads_old_feedback": lambda c: c / "graded_before" / "feedback" / "ann" / f"{A}.md",
    "reads_conv_ref": lambda c: REPO / "conv_ref" / "basics.py",
    "reads_case_generators": lambda c: REPO / "autograder" / "cases" / "__init__.py",
    "lists_course_root": lambda c: c,
    "lists_submitted": lambda c: c / "submitted",
    "lists_repo": lambda c: REPO,
    "lists_home": lambda c: Path("/home"),
    "lists_var_tmp": lambda c: Path("/var/tmp"),
    "lists_run": lambda c: Path("/run"),
    "reads_passwd": lambda c: Path("/etc/passwd"),
}
HOST_SECRETS = {  # planted by the test where the host keeps such things
    "reads_root_file": Path("/root") / f"ag-test-{MARK}",
    "reads_var_tmp_file": Path("/var/tmp") / f"ag-test-{MARK}",
    "reads_run_file": Path("/run") / f"ag-test-{MARK}",
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile_fs")
    course = course_root(tmp)
    planted = [p for p in (plant(path, MARK) for path in HOST_SECRETS.values()) if p]
    listener = Listener(course)
    honest = to_bytes(make_class.with_functions(read_notebook(solution_path(A)), {},
                                                [f"_mine = 'OTHER-{MARK}'"]))
    students = {"honest": honest}
    students.update({name: attacker(read(path(course))) for name, path in SECRET_FILES.items()})
    students.update({name: attacker(read(path)) for name, path in HOST_SECRETS.items()})
    students.update({
        "socket_unix_tmp": attacker(connect("AF_UNIX", str(listener.unix_tmp))),
        "socket_unix_course": attacker(connect("AF_UNIX", str(listener.unix_course))),
        "socket_abstract": attacker(connect("AF_UNIX", listener.abstract)),
        "socket_tcp_localhost": attacker(connect("AF_INET", listener.tcp)),
        # Graded in name order by the one worker: the writer, then the reader.
        "zz_ipc_1_writer": attacker(SHM_WRITER),
        "zz_ipc_2_reader": attacker(SHM_READER),
        "zz_scratch_fill": attacker(FILL_SCRATCH),
    })
    try:
        proc = grade(course, students)
    finally:
        listener.close()
        for p in planted:
            p.unlink()
    yield course, proc, listener
    # Nothing of the batch outlives it.
    assert running_with(str(course.parent / "tmp")) == []


def test_the_batch_is_graded_and_says_how_well_it_was_isolated(batch):
    course, proc, _ = batch
    assert proc.returncode == 0, proc.stderr
    found = results(course)
    assert len(found) == 1 + len(SECRET_FILES) + len(HOST_SECRETS) + 7
    levels = {r["isolation"] for r in found.values()}
    assert len(levels) == 1 and levels.pop().startswith(bwrap_kind())
    summary = (course / "graded" / "summary.html").read_text()
    assert f"Isolation of student code: <code>{found['honest']['isolation']}</code>" in summary


def test_the_honest_student_keeps_full_marks(batch):
    course, _, _ = batch
    honest = results(course)["honest"]
    assert honest["score"] == max_score(A) and honest["flags"] == []


@pytest.mark.parametrize("student", [*SECRET_FILES, *HOST_SECRETS])
def test_secret_files_are_absent(batch, student):
    course, _, _ = batch
    r = results(course)[student]
    assert corr1d_score(r) == 0, r["notes"]
    assert r["score"] < max_score(A)


@pytest.mark.parametrize("student", ["socket_unix_tmp", "socket_unix_course", "socket_abstract",
                                     "socket_tcp_localhost"])
def test_no_socket_is_reachable(batch, student):
    course, _, listener = batch
    assert corr1d_score(results(course)[student]) == 0
    assert listener.hits == 0


def test_no_ipc_or_scratch_file_survives_to_the_next_submission(batch):
    course, _, _ = batch
    found = results(course)
    assert corr1d_score(found["zz_ipc_2_reader"]) == 0, found["zz_ipc_2_reader"]["notes"]


def test_the_scratch_folder_is_capped(batch):
    course, _, _ = batch
    r = results(course)["zz_scratch_fill"]
    assert corr1d_score(r) == 0
    feedback = (course / "graded" / "feedback" / "zz_scratch_fill" / f"{A}.md").read_text()
    assert "No space left on device" in feedback or "stopped after" in feedback or \
        corr1d_score(r) == 0


def test_no_secret_reaches_the_output_folder(batch):
    course, _, _ = batch
    everything = texts_under(course / "graded")
    assert MARK not in everything
    feedback = texts_under(course / "graded" / "feedback") + \
        (course / "graded" / "summary.html").read_text()
    assert str(SEED) not in feedback


def test_under_docker_capabilities_an_honest_student_gets_full_marks(tmp_path):
    course = course_root(tmp_path)
    students = {"honest": to_bytes(read_notebook(solution_path(A))),
                "reads_seed_toml": attacker(read(course / "autograder.toml"))}
    proc = grade(course, students, prefix=["setpriv", f"--bounding-set={DOCKER_CAPS}", "--"])
    assert proc.returncode == 0, proc.stderr
    found = results(course)
    assert found["honest"]["score"] == max_score(A)
    level = found["honest"]["isolation"]
    assert level and level in (course / "graded" / "summary.html").read_text()
    if level.startswith("bwrap"):
        assert corr1d_score(found["reads_seed_toml"]) == 0
        assert MARK not in texts_under(course / "graded")
    assert "isolation is" in proc.stderr  # short of the full level: said once
    assert running_with(str(course.parent / "tmp")) == []


def test_a_grader_that_cannot_run_student_code_exits_non_zero_with_the_cause(tmp_path):
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    # Passes the start-up probe (its command is `true`), fails to start any worker.
    fake.write_text('#!/bin/sh\nfor a; do last="$a"; done\n[ "$last" = true ] && exit 0\n'
                    'echo "bwrap: simulated failure to create the sandbox" >&2\nexit 1\n')
    fake.chmod(0o755)
    course = course_root(tmp_path)
    proc = grade(course, {"honest": to_bytes(read_notebook(solution_path(A)))},
                 env={"PATH": f"{fake.parent}:{os.environ['PATH']}"})
    assert proc.returncode == 3
    assert "student code cannot be run here" in proc.stderr
    assert "simulated failure to create the sandbox" in proc.stderr
    assert not (course / "graded" / "feedback").exists()  # nobody is told their code crashed
    assert running_with(str(course.parent / "tmp")) == []
