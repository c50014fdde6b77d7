"""The ``autograder`` command: a thin layer over `autograder.grade`.

    autograder grade PATH... --out DIR [--assignment A] [--workers N] [--seed S]
                     [--sandbox auto|bwrap|none] [--timeout SECONDS]
                     [--roster CANVAS_EXPORT.csv] [--canvas-assignment A=ID]
                     [--scheduler ADDRESS | --cluster local[:N]]
    autograder check NOTEBOOK
    autograder list
    autograder demo
    autograder gradescope [--root /autograder] [--seed S]
    autograder --version

Exit status (`EXIT_CODES`, also in ``--help``): 0 when the batch was graded,
whatever the scores (``check``: 0 only when every public case passes); 1 when
``check`` finds a failing case or ``gradescope`` could not grade; 2 when the
grader itself could not run (bad arguments, no inputs, an output folder it
cannot write), with a message and no traceback; 3 when student code cannot
be run here at all (the sandbox cannot start or confine a submission), with
the cause; 4 when every submission of the batch failed for a reason on the
grader's side (`autograder.grade.GRADER_ERROR`), so that a script notices a
broken set-up rather than a class of zeros; 130 when interrupted (run the
same command again to resume).
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from autograder import catalog
from autograder.execution.pool import SandboxError
from autograder.grade import COURSE_ROOT, GRADER_ERROR, check_notebook, grade, grader_version
from autograder.outputs.points import points
from autograder.results import SubmissionResult

EXIT_NOT_PASSED = 1
EXIT_GRADER_ERROR = 2
EXIT_SANDBOX_ERROR = 3
EXIT_ALL_FAILED = 4
EXIT_INTERRUPTED = 130
EXIT_CODES = f"""\
exit status:
  0    graded (whatever the scores); check: every public case passes
  {EXIT_NOT_PASSED}    check: a public case fails; gradescope: the submission could not be graded
  {EXIT_GRADER_ERROR}    the grader could not run: bad arguments, no notebooks, no seed, an
       output folder it cannot write (a message, no traceback)
  {EXIT_SANDBOX_ERROR}    student code cannot be run here: the sandbox cannot start or confine it
  {EXIT_ALL_FAILED}    every submission failed on the grader's side (see summary.html): the
       set-up is broken, the scores are not the students'
  {EXIT_INTERRUPTED}  interrupted: run the same command again to resume
"""
LIST_LEGEND = ("(E): the function must also raise ValueError on bad arguments "
               "(wrong shapes, a stride below 1...); some of its cases check that it does.")
EXAMPLES = {
    "grade": "autograder grade course/submitted --out out/01 --assignment 01_conv1d\n"
             "  autograder grade submissions.zip --out out/canvas --roster gradebook_export.csv\n"
             "  autograder grade course/submitted --out out/all --scheduler tcp://head:8786",
    "check": "autograder check notebooks/01_conv1d/01_conv1d.ipynb",
    "list": "autograder list",
    "demo": "autograder demo --out out/demo",
    "gradescope": "autograder gradescope --root /autograder",
}
# The demo grades the example class with a fixed, public seed: it is not an
# official grading and must give the same numbers on every machine.
DEMO_SEED = 2024
DEMO_OUT = Path("out") / "demo"
# The class has an infinite loop: a shorter limit per submission keeps the demo brisk.
DEMO_TIMEOUT = 30.0

log = logging.getLogger("autograder")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder", description="Sandboxed autograder for the convolution course.",
        epilog="examples:\n" + "\n".join(f"  {e}" for e in EXAMPLES.values()) + "\n\n"
        + EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="show the version (package + hash of the grader's code) and exit")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str, epilog: str = "") -> argparse.ArgumentParser:
        text = f"example:\n  {EXAMPLES[name]}\n\n{epilog}{EXIT_CODES}"
        return sub.add_parser(name, help=help, description=help, epilog=text,
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    g = command("grade", "grade a batch of notebooks into an output folder")
    g.add_argument("paths", nargs="+", metavar="PATH",
                   help="notebooks, folders (e.g. nbgrader's submitted/) or LMS .zip files")
    g.add_argument("--out", required=True, type=Path, help="output folder")
    g.add_argument("--assignment", choices=catalog.ASSIGNMENTS,
                   help="grade every notebook as this assignment")
    g.add_argument("--workers", type=_positive_int,
                   help="parallel sandboxes (default: one per core)")
    g.add_argument("--seed", type=int,
                   help="grading seed (default: $AUTOGRADER_SEED, else autograder.toml)")
    g.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto")
    g.add_argument("--timeout", type=float, help="seconds per submission")
    g.add_argument("--roster", type=Path, metavar="CSV",
                   help="the gradebook CSV exported from Canvas: canvas.csv gets its names, "
                        "ids, sections and assignment headers")
    g.add_argument("--canvas-assignment", action="append", default=[], metavar="A=ID",
                   type=_canvas_assignment,
                   help="the Canvas id of an assignment (repeatable), e.g. 01_conv1d=4321: "
                        "canvas.csv's header becomes '01_conv1d (4321)'")
    dask = g.add_mutually_exclusive_group()  # autograder.dispatch: grading on a Dask cluster
    dask.add_argument("--scheduler", metavar="ADDRESS",
                      help="run the submissions on the Dask cluster of this scheduler "
                           "(tcp://host:8786); everything is written here")
    dask.add_argument("--cluster", metavar="local[:N]", type=_cluster_spec,
                      help="run them on a new local Dask cluster of N workers (a try-out)")
    c = command("check", "run a notebook's public cases as the grader would")
    c.add_argument("notebook", type=Path)
    c.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto")
    c.add_argument("--timeout", type=float, help="seconds for the notebook")
    command("list", "assignments, functions and points", f"{LIST_LEGEND}\n\n")
    d = command("demo", "build the example class, grade it, show the gradebook")
    d.add_argument("--out", type=Path, default=DEMO_OUT, help="default: %(default)s")
    d.add_argument("--workers", type=_positive_int)
    gs = command("gradescope", "grade /autograder/submission for Gradescope")
    gs.add_argument("--root", type=Path, default=Path("/autograder"), help="default: %(default)s")
    gs.add_argument("--seed", type=int, help="default: $AUTOGRADER_SEED, else autograder.toml")
    return parser


class _Version(argparse.Action):
    """``--version``: the grader's version, computed only when asked (it hashes the sources)."""

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"autograder {grader_version()}")
        parser.exit(0)


def _canvas_assignment(text: str) -> tuple[str, str]:
    assignment, _, canvas_id = text.partition("=")
    if assignment not in catalog.ASSIGNMENTS or not canvas_id.strip().isdigit():
        raise argparse.ArgumentTypeError(
            f"expects ASSIGNMENT=CANVAS_ID with one of {', '.join(catalog.ASSIGNMENTS)} and a "
            f"number, got {text!r}")
    return assignment, canvas_id.strip()


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expects an integer >= 1, got {value}")
    return value


def _cluster_spec(text: str) -> str:
    from autograder.dispatch.address import parse_cluster

    try:
        parse_cluster(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    err = Console(stderr=True)
    _setup_logging(err)
    try:
        return _COMMANDS[args.command](args, Console(), err)
    except (ValueError, OSError) as exc:
        err.print(f"[bold red]autograder {args.command}: error:[/] {exc}", highlight=False)
        return EXIT_GRADER_ERROR
    except SandboxError as exc:
        err.print(f"[bold red]autograder {args.command}: student code cannot be run here:[/] "
                  f"{exc}\nResults finished so far are saved; no submission was scored for this.",
                  highlight=False)
        return EXIT_SANDBOX_ERROR
    except KeyboardInterrupt:
        kept = f" in {args.out / 'results'}" if getattr(args, "out", None) else ""
        err.print(f"interrupted: every finished result is saved{kept}; run the same command "
                  "to resume (finished notebooks are not graded again)", highlight=False)
        return EXIT_INTERRUPTED


def _setup_logging(err: Console) -> None:
    if err.is_terminal:
        handler = RichHandler(console=err, show_path=False)
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False


def _grade_with_progress(err: Console, **kwargs) -> list[SubmissionResult]:
    """`grade` with a progress bar and ETA on a terminal, one log line per notebook otherwise.

    On a cluster both also show the runs each Dask worker has finished.
    """
    by_worker = getattr(kwargs.get("executor"), "done_by_worker", None)
    if not err.is_terminal:
        started = time.monotonic()

        def line(done: int, total: int, r: SubmissionResult) -> None:
            eta = (time.monotonic() - started) / done * (total - done)
            log.info("[%d/%d] %s / %s: %s%s", done, total, r.student, r.assignment, _verdict(r),
                     f" (ETA {eta:.0f} s; {_per_worker(by_worker)})" if by_worker else "")

        return grade(progress=line, **kwargs)
    columns = (TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TextColumn("ETA"),
               TimeRemainingColumn(), TextColumn("{task.fields[workers]}"))
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("grading", total=None, workers="")

        def advance(done: int, total: int, _r: SubmissionResult) -> None:
            bar.update(task, completed=done, total=total,
                       workers=_per_worker(by_worker) if by_worker else "")

        return grade(progress=advance, **kwargs)


def _per_worker(by_worker) -> str:
    """Runs finished per Dask worker: ``per worker: 10.0.0.5:40331 12, 10.0.0.6:39127 11``."""
    return "per worker: " + ", ".join(f"{address.split('://')[-1]} {n}"
                                      for address, n in sorted(by_worker.items()))


def _verdict(r: SubmissionResult) -> str:
    text = r.error or f"{points(r.score)}/{points(r.max_score)}"
    return text + (f" [{', '.join(r.flags)}]" if r.flags else "")


def _cmd_grade(args, out: Console, err: Console) -> int:
    from autograder.outputs.platforms.canvas import CanvasOptions

    canvas = CanvasOptions(roster=args.roster, assignment_ids=dict(args.canvas_assignment))
    canvas.check()  # a bad roster stops here, before any grading
    kwargs = dict(paths=args.paths, out=args.out, assignment=args.assignment,
                  workers=args.workers, seed=args.seed, sandbox=args.sandbox, timeout=args.timeout,
                  canvas=canvas)
    if args.scheduler is None and args.cluster is None:
        results = _grade_with_progress(err, **kwargs)
    else:
        if args.workers is not None:
            raise ValueError("--workers counts sandboxes on this machine; on a cluster each "
                             "Dask worker runs one per thread (dask worker --nthreads N)")
        from autograder.dispatch.executor import DaskExecutor  # Dask: imported when used

        with DaskExecutor.connect(args.scheduler, args.cluster) as executor:
            log.info("grading on %s", executor.where)
            results = _grade_with_progress(err, executor=executor, **kwargs)
    _print_outputs(out, results, args.out)
    return _batch_status(err, results)


def _batch_status(err: Console, results: list[SubmissionResult]) -> int:
    """`EXIT_ALL_FAILED` when no submission was graded because of the grader, else 0."""
    if results and all(GRADER_ERROR in r.flags for r in results):
        err.print(f"[bold red]every submission ({len(results)}) failed on the grader's side[/]: "
                  f"the first reason was: {results[0].error}", highlight=False)
        return EXIT_ALL_FAILED
    return 0


def _print_outputs(out: Console, results: list[SubmissionResult], folder: Path) -> None:
    flagged = sum(1 for r in results if r.flags or r.error)
    out.print(f"graded {len(results)} submissions ({flagged} need a look) into {folder}/:")
    out.print(f"  gradebook  {folder / 'grades.csv'}")
    out.print(f"  summary    {folder / 'summary.html'}")
    out.print(f"  feedback   {folder / 'feedback'}/<student>/<assignment>.html (and .md)")
    out.print(f"  results    {folder / 'results'}/<student>/<assignment>.json")


def _cmd_check(args, out: Console, err: Console) -> int:
    r = check_notebook(args.notebook, sandbox=args.sandbox, timeout=args.timeout)
    if r.error:
        out.print(f"[bold red]{args.notebook} could not be checked:[/] {r.error}")
        return 1
    table = Table(title=f"{r.assignment}: public cases", title_justify="left")
    for column in ("function", "points", "cases passed", "first problem"):
        table.add_column(column)
    for name, p in r.problems.items():
        failing = next((c for c in p.cases if not c.passed), None)
        first = f"{failing.name}: {failing.message}" if failing else ""
        mark = "[green]ok[/]" if p.passed else "[red]fix[/]"
        passed = sum(c.passed for c in p.cases)
        table.add_row(f"{mark} {name}", f"{points(p.score)}/{points(p.max_score)}",
                      f"{passed}/{len(p.cases)}", first)
    out.print(table)
    for note in r.notes:
        out.print(f"note: {note}", highlight=False)
    ok = all(p.passed for p in r.problems.values())
    out.print("[bold green]all public cases pass[/]" if ok else
              "[bold red]some public cases fail[/]: see the table above")
    return 0 if ok else 1


def _cmd_list(args, out: Console, err: Console) -> int:
    table = Table(title="graded functions", caption=LIST_LEGEND)
    for column in ("assignment", "function", "points"):
        table.add_column(column, justify="right" if column == "points" else "left")
    for a in catalog.ASSIGNMENTS:
        for i, p in enumerate(catalog.problems_for(a)):
            table.add_row(a if i == 0 else "", p.signature + ("  (E)" if p.checks_errors else ""),
                          str(p.points))
        table.add_row("", f"[bold]total {a}[/]", f"[bold]{catalog.max_score(a)}[/]",
                      end_section=True)
    out.print(table)
    return 0


def _cmd_demo(args, out: Console, err: Console) -> int:
    submitted = _example_class().build_class()
    out.print(f"example class: {submitted}")
    results = _grade_with_progress(err, paths=[submitted], out=args.out, workers=args.workers,
                                   seed=DEMO_SEED, timeout=DEMO_TIMEOUT)
    out.print(gradebook_table(results))
    _print_outputs(out, results, args.out)
    return _batch_status(err, results)


def _example_class():
    """``examples/make_class.py``, which lives beside the package, not inside it."""
    path = COURSE_ROOT / "examples" / "make_class.py"
    spec = importlib.util.spec_from_file_location("examples_make_class", path)
    if spec is None or not path.is_file():
        raise OSError(f"demo: the example-class generator {path} is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gradebook_table(results: list[SubmissionResult]) -> Table:
    """The gradebook as a rich table: a row per submission."""
    table = Table(title="gradebook")
    for column in ("student", "assignment", "score", "flags / error"):
        table.add_column(column, justify="right" if column == "score" else "left")
    for r in results:
        style = "red" if r.error or r.flags else ""
        table.add_row(r.student, r.assignment, f"{points(r.score)}/{points(r.max_score)}",
                      r.error or ", ".join(r.flags), style=style)
    return table


def _cmd_gradescope(args, out: Console, err: Console) -> int:
    from autograder.outputs.platforms import gradescope  # only Gradescope's image needs it

    return gradescope.run(args.root, seed=args.seed)


_COMMANDS = {
    "grade": _cmd_grade, "check": _cmd_check, "list": _cmd_list, "demo": _cmd_demo,
    "gradescope": _cmd_gradescope,
}


if __name__ == "__main__":
    sys.exit(main())
