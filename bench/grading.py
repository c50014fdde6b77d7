"""Grading throughput: ``nbgrader autograde`` against ``autograder grade`` on a realistic class.

The class is ``--notebooks`` 01_conv1d submissions (default 100) dealt round
robin from the example class's honest students: perfect, partial, untouched
and one per typical mistake (`examples.make_class.MISTAKES`). The autograder
grades all of them with the whole command a teacher runs (``python -m
autograder grade``: interpreter start, imports, warm sandboxed workers,
grading, results, feedback, summary, CSV files). Writing the scores into an
nbgrader gradebook, which ``grade`` adds when it is given an nbgrader
course's ``submitted/`` folder, is timed on its own afterwards.

nbgrader autogrades one notebook after another, each in a fresh kernel, so its
time is linear in the class size; it runs on the first ``--subset`` notebooks
(default 12, every kind at least once) in a real course directory
(``source/``, ``generate_assignment``, students in its database). Its rate is
taken between the first and the last notebook it writes, which leaves out its
own start-up and so favours it; the rate over its whole command is printed
too. The ratio compares the autograder's whole command with that steady rate.

Also printed: the worker start-up within the run (from the grader's log),
the median and 90th percentile of the seconds each submission ran in its
sandbox, the load average around each run (the machine is shared), and
whether both graders pass and fail the same functions on the common notebooks
(nbgrader's verdicts are read before the autograder runs).

    python bench/grading.py [--notebooks 100] [--subset 12] [--workers N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: find examples/ and the package beside it

from examples import make_class  # noqa: E402

A = "01_conv1d"
HONEST = ("perfect", "partial", "untouched", *make_class.MISTAKES)
SEED = 7
QUICK = {"notebooks": 27, "subset": 3}
# The grader logs this once every warm worker has started (autograder.execution.pool).
STARTUP_LOG = re.compile(r"warm workers? \(([\w+-]+)\) ready ([0-9.]+) s after the pool started")
# The goal, for a class of about a hundred.
GOAL_RATIO, GOAL_MEDIAN, GOAL_CLASS = 30.0, 0.15, 100


def class_files(n: int) -> dict[str, bytes]:
    """student id -> notebook bytes: `n` students dealt round robin over the honest kinds."""
    notebooks = make_class.class_notebooks(ROOT)
    width = len(str(n - 1))
    return {f"{i:0{width}d}-{HONEST[i % len(HONEST)]}": notebooks[HONEST[i % len(HONEST)], A]
            for i in range(n)}


def run(command: list[str], cwd: Path) -> tuple[float, str]:
    """Run a command; its wall time in seconds and its stderr."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed ({done.returncode}):\n"
                           f"{done.stderr[-3000:]}")
    return seconds, done.stderr


def submitted(folder: Path, files: dict[str, bytes]) -> Path:
    """``<folder>/submitted/<student>/<a>/<a>.ipynb``, as nbgrader and LMS exports lay them out."""
    for student, data in files.items():
        path = folder / "submitted" / student / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
    return folder / "submitted"


def nbgrader_config(folder: Path) -> None:
    """Make `folder` an nbgrader course: its config, with the gradebook inside it."""
    (folder / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        "c.CourseDirectory.course_id = 'bench'\n"
        f"c.CourseDirectory.root = {str(folder)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{folder}/gradebook.db'\n"
        f"c.ClearSolutions.code_stub = {{'python': {make_class.STUB!r}}}\n"
    )


def prepare_nbgrader(folder: Path) -> None:
    """What a course does before autograding: generate the assignment, import the students."""
    nbgrader_config(folder)
    (folder / "source" / A).mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / A / f"{A}.ipynb", folder / "source" / A / f"{A}.ipynb")
    nbgrader = [sys.executable, "-m", "nbgrader"]
    run([*nbgrader, "generate_assignment", A, "--create", "--force", "--log-level=ERROR"], folder)
    students = folder / "students.csv"
    students.write_text("id\n" + "\n".join(p.name for p in (folder / "submitted").iterdir()) + "\n")
    run([*nbgrader, "db", "student", "import", str(students), "--log-level=ERROR"], folder)


def nbgrader_verdicts(folder: Path, students: list[str]) -> dict[str, dict[str, bool]]:
    """student -> function -> whether its check cell got full marks under nbgrader."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{folder}/gradebook.db") as gb:
        for student in students:
            nb = gb.find_submission_notebook(A, A, student)
            out[student] = {g.name.removeprefix("check_"): g.score == g.max_score
                            for g in nb.grades}
    return out


def nbgrader_steady_seconds(folder: Path, students: list[str]) -> float:
    """Seconds per notebook between the first and the last autograded notebook nbgrader wrote."""
    stamps = sorted((folder / "autograded" / s / A / f"{A}.ipynb").stat().st_mtime
                    for s in students)
    return (stamps[-1] - stamps[0]) / (len(stamps) - 1)


def autograder_verdicts(out: Path) -> tuple[dict[str, dict[str, bool]], list[float]]:
    """student -> function -> all cases passed; and the seconds each submission ran."""
    verdicts, seconds = {}, []
    for path in sorted((out / "results").glob(f"*/{A}.json")):
        result = json.loads(path.read_text())
        verdicts[result["student"]] = {
            name: bool(p["cases"]) and all(c["passed"] for c in p["cases"])
            for name, p in result["problems"].items()
        }
        seconds.append(result["seconds"])
    return verdicts, seconds


def export_seconds(out: Path, folder: Path) -> float:
    """Seconds to write the autograder's results into a fresh nbgrader gradebook in `folder`."""
    from autograder.outputs.platforms.nbgrader_db import write_scores
    from autograder.results import SubmissionResult

    nbgrader_config(folder)
    results = [SubmissionResult.from_dict(json.loads(p.read_text()))
               for p in sorted((out / "results").glob(f"*/{A}.json"))]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's notes on nbgrader's session use
        write_scores(results, folder)
    return time.perf_counter() - start


def load() -> str:
    """The load average over 1, 5 and 15 minutes, e.g. ``"2.9/3.3/3.7"``."""
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=100,
                        help="class size graded by the autograder (default: %(default)s)")
    parser.add_argument("--subset", type=int, default=12,
                        help="notebooks nbgrader autogrades (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=None,
                        help="autograder workers (default: one per core)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK['notebooks']} notebooks, nbgrader on {QUICK['subset']}")
    args = parser.parse_args(argv)
    if args.quick:
        args.notebooks, args.subset = QUICK["notebooks"], QUICK["subset"]
    if not 2 <= args.subset <= args.notebooks:
        parser.error(f"--subset expects 2..{args.notebooks} (the class size), got {args.subset}")
    files = class_files(args.notebooks)
    common = list(files)[:args.subset]
    kinds = f"perfect, partial, untouched, {len(make_class.MISTAKES)} typical mistakes"
    print(f"class: {len(files)} honest {A} notebooks ({kinds}; round robin), "
          f"{os.cpu_count()} cores, load average {load()} (1/5/15 min)")

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        theirs_dir = Path(tmp) / "nbgrader"
        submitted(theirs_dir, {s: files[s] for s in common})
        prepare_nbgrader(theirs_dir)
        nb_seconds, _ = run([sys.executable, "-m", "nbgrader", "autograde", A,
                             "--log-level=ERROR"], theirs_dir)
        nb_load = load()
        nb_steady = nbgrader_steady_seconds(theirs_dir, common)
        theirs = nbgrader_verdicts(theirs_dir, common)

        ours_dir, out = Path(tmp) / "autograder", Path(tmp) / "out"
        command = [sys.executable, "-m", "autograder", "grade", str(submitted(ours_dir, files)),
                   "--out", str(out), "--seed", str(SEED), "--sandbox", "auto"]
        if args.workers:
            command += ["--workers", str(args.workers)]
        ours_seconds, log = run(command, ROOT)
        ours_load = load()
        ours, per_notebook = autograder_verdicts(out)
        export = export_seconds(out, ours_dir)

    nb_rate, steady_rate = len(common) / nb_seconds, 1 / nb_steady
    ours_rate = len(files) / ours_seconds
    startup = STARTUP_LOG.search(log)
    sandbox, startup_s = (startup.group(1), startup.group(2)) if startup else ("?", "?")
    p90 = statistics.quantiles(per_notebook, n=10)[-1] if len(per_notebook) > 1 else float("nan")
    median = statistics.median(per_notebook)
    print(f"nbgrader autograde : {len(common):4d} notebooks {nb_seconds:7.1f} s  "
          f"{steady_rate:6.2f} notebooks/s steady ({nb_rate:.2f}/s over the whole command); "
          f"load after {nb_load}")
    print("                     sequential, one kernel per notebook: linear in the class size, "
          "so timed on a subset")
    print(f"autograder grade   : {len(files):4d} notebooks {ours_seconds:7.1f} s  "
          f"{ours_rate:6.2f} notebooks/s (whole command, {sandbox} sandbox, "
          f"{args.workers or os.cpu_count()} workers); load after {ours_load}")
    print(f"  worker start-up  : {startup_s} s (all workers in parallel, within the run above)")
    print(f"  per notebook     : median {median:.3f} s, 90th percentile {p90:.3f} s "
          f"(each submission's run in its sandbox)")
    print(f"  nbgrader export  : {export:.1f} s more to write the scores into an nbgrader "
          f"gradebook (only for an nbgrader course folder; "
          f"{len(files) / (ours_seconds + export):.2f} notebooks/s with it)")
    ratio = ours_rate / steady_rate
    print(f"ratio              : {ratio:.1f}x (against nbgrader's steady rate; "
          f"{ours_rate / nb_rate:.1f}x against its whole command)")
    disagree = sorted(
        f"{s}:{fn} nbgrader={theirs[s].get(fn)} autograder={ok}"
        for s in common for fn, ok in ours.get(s, {}).items() if theirs[s].get(fn) != ok
    )
    missing = [s for s in common if s not in ours]
    verdicts = sum(len(ours.get(s, {})) for s in common)
    same = not disagree and not missing
    print(f"same function verdicts on the {len(common)} common notebooks: "
          + ("yes" if same else "no") + f" ({verdicts} function verdicts compared)")
    for line in disagree + [f"{s}: no autograder result" for s in missing]:
        print("  " + line)
    met = ratio >= GOAL_RATIO and median < GOAL_MEDIAN
    print(f"goal (>= {GOAL_RATIO:g}x, median < {GOAL_MEDIAN} s): " + ("met" if met else "not met")
          + ("" if len(files) >= GOAL_CLASS else
             f" (set for a class of {GOAL_CLASS}; start-up weighs more on {len(files)})"))


if __name__ == "__main__":
    main()
