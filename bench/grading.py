"""Grading throughput: ``nbgrader autograde`` against ``autograder grade`` on the same class.

The class is the example class's honest 01_conv1d submissions (perfect, the
typical mistakes, partial, untouched), replicated. nbgrader gets a real course
directory in a temporary folder (``source/``, ``generate_assignment``,
``submitted/``, students in its database) and runs every notebook in a
kernel, as it does in a course; the autograder grades the same files with the
sandbox on. Prints notebooks per second for each, the ratio, the median
seconds per notebook, and whether both agree on which functions pass.

    python bench/grading.py [--copies 3] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: find examples/ and the package beside it

from examples import make_class  # noqa: E402

A = "01_conv1d"
HONEST = ("perfect", "partial", "untouched", *make_class.MISTAKES)
SEED = 7


def class_files(copies: int) -> dict[str, bytes]:
    """student id -> notebook bytes: each honest student `copies` times."""
    notebooks = make_class.class_notebooks(ROOT)
    return {f"{student}-{i}": notebooks[student, A] for i in range(copies) for student in HONEST}


def run(command: list[str], cwd: Path) -> float:
    """Run a command; its wall time in seconds."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
    return time.perf_counter() - start


def nbgrader_course(tmp: Path, files: dict[str, bytes]) -> Path:
    """A course directory with the assignment generated and the submissions in place."""
    course = tmp / "nbgrader"
    (course / "source" / A).mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / A / f"{A}.ipynb", course / "source" / A / f"{A}.ipynb")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        "c.CourseDirectory.course_id = 'bench'\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{course}/gradebook.db'\n"
        f"c.ClearSolutions.code_stub = {{'python': {make_class.STUB!r}}}\n"
    )
    nbgrader = [sys.executable, "-m", "nbgrader"]
    run([*nbgrader, "generate_assignment", A, "--create", "--force", "--log-level=ERROR"], course)
    students = course / "students.csv"
    students.write_text("id\n" + "\n".join(files) + "\n")
    run([*nbgrader, "db", "student", "import", str(students), "--log-level=ERROR"], course)
    for student, data in files.items():
        path = course / "submitted" / student / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
    return course


def nbgrader_passes(course: Path, files: dict[str, bytes]) -> dict[str, dict[str, bool]]:
    """student -> function -> whether its check cell passed under nbgrader."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        for student in files:
            nb = gb.find_submission_notebook(A, A, student)
            out[student] = {g.name.removeprefix("check_"): g.score == g.max_score
                            for g in nb.grades}
    return out


def autograder_passes(out: Path) -> tuple[dict[str, dict[str, bool]], list[float]]:
    """student -> function -> all cases passed; and each submission's seconds."""
    passes, seconds = {}, []
    for path in sorted((out / "results").glob(f"*/{A}.json")):
        result = json.loads(path.read_text())
        passes[result["student"]] = {
            name: bool(p["cases"]) and all(c["passed"] for c in p["cases"])
            for name, p in result["problems"].items()
        }
        seconds.append(result["seconds"])
    return passes, seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3, help="replicas of each honest student")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    files = class_files(args.copies)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        course = nbgrader_course(tmp, files)
        print(f"{len(files)} notebooks ({len(HONEST)} honest students x {args.copies})")
        nb_seconds = run([sys.executable, "-m", "nbgrader", "autograde", A,
                          "--log-level=ERROR"], course)
        ours_out = tmp / "autograder"
        command = [sys.executable, "-m", "autograder", "grade", str(course / "submitted"),
                   "--out", str(ours_out), "--seed", str(SEED), "--sandbox", "auto"]
        if args.workers:
            command += ["--workers", str(args.workers)]
        ours_seconds = run(command, ROOT)
        theirs = nbgrader_passes(course, files)
        ours, per_notebook = autograder_passes(ours_out)
    nb_rate, ours_rate = len(files) / nb_seconds, len(files) / ours_seconds
    print(f"nbgrader autograde : {nb_seconds:7.1f} s  {nb_rate:7.2f} notebooks/s")
    print(f"autograder grade   : {ours_seconds:7.1f} s  {ours_rate:7.2f} notebooks/s "
          f"(sandbox on, {args.workers or os.cpu_count()} workers)")
    print(f"ratio              : {ours_rate / nb_rate:7.1f}x")
    print(f"median per notebook: {statistics.median(per_notebook):.3f} s (autograder, in sandbox)")
    disagree = sorted(
        f"{s}:{fn} nbgrader={theirs[s].get(fn)} autograder={ours[s][fn]}"
        for s in files for fn in ours.get(s, {}) if theirs[s].get(fn) != ours[s][fn]
    )
    print("same functions pass in both: " + ("yes" if not disagree else "no"))
    for line in disagree:
        print("  " + line)


if __name__ == "__main__":
    main()
