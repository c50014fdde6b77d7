"""Who submitted what: students and assignments from paths, LMS names or the notebook.

Inputs are notebook files, folders of them (nbgrader's
``submitted/<student>/<assignment>/<notebook>.ipynb`` tree or any layout), and
``.zip`` archives as an LMS hands them out. Canvas names its files
``<login>_<userid>_<submissionid>_<name>.ipynb``, with ``_late`` after the
login for late submissions. Archive members are read into memory, with size
caps, and their names are only parsed, never used as paths.

The assignment comes from, in order: the ``assignment`` argument, a folder
named after an assignment, the file name, then the notebook's cells (their
nbgrader grade_ids and ``def`` lines name an assignment's functions). Whatever
cannot be worked out is said in a note on the submission, which the TA sees as
a warning and in the gradebook row.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.catalog import ASSIGNMENTS, PROBLEMS

MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024  # far above any honest notebook without outputs
MAX_ARCHIVE_BYTES = 2 * 1024**3  # total uncompressed notebooks read from one archive
MAX_ARCHIVE_MEMBERS = 20_000

UNKNOWN_ASSIGNMENT = "unknown"
_CANVAS = re.compile(r"(?P<login>.+?)(?P<late>_late)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<name>.+)")
_ASSIGNMENT_IN_NAME = re.compile("|".join(re.escape(a) for a in ASSIGNMENTS))


@dataclass
class Submission:
    """One notebook to grade, with who and what it is.

    Attributes
    ----------
    student, assignment : str
        ``assignment`` is `UNKNOWN_ASSIGNMENT` when it could not be worked out.
    data : bytes
        The file's bytes (empty when `error` is set).
    source : str
        Where it came from: a path, or ``archive.zip:member``.
    flags : list of str
        ``"late"`` for a late LMS submission.
    notes : list of str
        Identification warnings for the TA.
    error : str or None
        Why the file could not be read at all.
    order : int
        LMS submission id (later is larger), used to keep the newest of two
        files for the same student and assignment.
    """

    student: str
    assignment: str
    data: bytes
    source: str
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    order: int = 0


def safe_name(name: str) -> str:
    """A student id usable as one folder name: no separators, no dot-only names."""
    cleaned = re.sub(r"[^A-Za-z0-9._@+-]", "_", name).strip(".")
    return cleaned or "unknown"


def collect(paths: Iterable[str | Path], assignment: str | None = None) -> list[Submission]:
    """Every submission under `paths`, identified, one per (student, assignment).

    Parameters
    ----------
    paths : iterable of str or Path
        Notebooks, folders and ``.zip`` archives.
    assignment : str, optional
        Force the assignment of every notebook (e.g. a folder of
        ``<student>.ipynb`` files).

    Raises
    ------
    ValueError
        An unknown `assignment`, a path that does not exist, or a file that
        is neither a notebook nor a zip archive.
    """
    if assignment is not None and assignment not in ASSIGNMENTS:
        raise ValueError(
            f"collect: unknown assignment {assignment!r}; expected one of {', '.join(ASSIGNMENTS)}"
        )
    found: list[Submission] = []
    for path in map(Path, paths):
        for parts, data, error, source in _files(path):
            found.append(_identify(parts, data, error, source, assignment))
    return _dedupe(found)


def _files(path: Path) -> Iterator[tuple[tuple[str, ...], bytes, str | None, str]]:
    """(name parts used for identification, bytes, read error, source) for each notebook."""
    if path.is_dir():
        for file in sorted(path.rglob("*")):
            if ".ipynb_checkpoints" in file.parts or not file.is_file():
                continue
            if file.suffix == ".ipynb":
                yield _read_file(file, (path.name, *file.relative_to(path).parts))
            elif file.suffix == ".zip":
                yield from _read_zip(file)
    elif path.suffix == ".zip" and path.is_file():
        yield from _read_zip(path)
    elif path.suffix == ".ipynb" and path.is_file():
        yield _read_file(path, path.resolve().parts[-4:])
    elif not path.exists():
        raise ValueError(f"collect: {str(path)!r} does not exist")
    else:
        raise ValueError(f"collect: {str(path)!r} is not a notebook (.ipynb), folder or .zip")


def _read_file(file: Path, parts: tuple[str, ...]):
    try:
        if file.stat().st_size > MAX_NOTEBOOK_BYTES:
            return parts, b"", _too_large(file.stat().st_size), str(file)
        return parts, file.read_bytes(), None, str(file)
    except OSError as exc:
        return parts, b"", f"the file could not be read: {exc.strerror}", str(file)


def _read_zip(path: Path) -> Iterator[tuple[tuple[str, ...], bytes, str | None, str]]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"collect: {str(path)!r} is not a readable zip archive ({exc})") from exc
    with archive:
        members = [
            info for info in archive.infolist()
            if not info.is_dir() and info.filename.endswith(".ipynb")
            and not info.filename.startswith("__MACOSX/")
            and ".ipynb_checkpoints" not in info.filename
        ]
        if len(members) > MAX_ARCHIVE_MEMBERS:
            raise ValueError(
                f"collect: {str(path)!r} holds {len(members)} notebooks, "
                f"more than the limit of {MAX_ARCHIVE_MEMBERS}"
            )
        total = 0
        for info in members:
            # Names are parsed for identification only; nothing is written from them.
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            source = f"{path}:{info.filename}"
            if info.file_size > MAX_NOTEBOOK_BYTES or total > MAX_ARCHIVE_BYTES:
                yield parts, b"", _too_large(info.file_size), source
                continue
            try:
                with archive.open(info) as fh:
                    # The header's size can lie: read at most one byte past the cap.
                    data = fh.read(MAX_NOTEBOOK_BYTES + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:
                yield parts, b"", f"the archive member could not be read ({exc})", source
                continue
            total += len(data)
            if len(data) > MAX_NOTEBOOK_BYTES:
                yield parts, b"", _too_large(len(data)), source
            else:
                yield parts, data, None, source


def _too_large(size: int) -> str:
    return (
        f"the notebook is {size / 1e6:.1f} MB, more than the limit of "
        f"{MAX_NOTEBOOK_BYTES / 1e6:.0f} MB; clear its outputs and submit it again"
    )


def _identify(
    parts: tuple[str, ...], data: bytes, error: str | None, source: str, forced: str | None
) -> Submission:
    name = PurePosixPath(parts[-1]).stem
    dirs = parts[:-1]
    sub = Submission(student="", assignment="", data=data, source=source, error=error)
    canvas = _CANVAS.fullmatch(name)
    if len(dirs) >= 2 and dirs[-1] in ASSIGNMENTS:  # <student>/<assignment>/<notebook>
        sub.student, from_path = dirs[-2], dirs[-1]
    elif canvas:
        sub.student, from_path = canvas["login"], _assignment_in(canvas["name"])
        sub.order = int(canvas["sid"])
        if canvas["late"]:
            sub.flags.append("late")
    else:
        from_path = _assignment_in(name)
        rest = _ASSIGNMENT_IN_NAME.sub("", name).strip("_- ")
        if rest:  # "alice.ipynb", "alice_01_conv1d.ipynb"
            sub.student = rest
        elif dirs:  # "alice/01_conv1d.ipynb"
            sub.student = dirs[-1]
        else:
            sub.student = f"unknown-{hashlib.sha256(data).hexdigest()[:8]}"
            sub.notes.append(
                f"could not tell the student from {source!r}; recorded as {sub.student!r}"
            )
    sub.student = safe_name(sub.student)
    from_content = _assignment_from_content(data)
    sub.assignment = forced or from_path or from_content or UNKNOWN_ASSIGNMENT
    if sub.assignment == UNKNOWN_ASSIGNMENT and error is None:
        sub.notes.append(
            f"could not tell which assignment {source!r} is for (no assignment in its path or "
            "name, and its cells match none); pass --assignment"
        )
    elif from_content and from_content != sub.assignment:
        sub.notes.append(
            f"{source!r} is graded as {sub.assignment} but its cells look like {from_content}"
        )
    return sub


def _assignment_in(name: str) -> str | None:
    match = _ASSIGNMENT_IN_NAME.search(name)
    return match.group(0) if match else None


def _assignment_from_content(data: bytes) -> str | None:
    """The assignment most of the notebook's graded functions belong to, if any."""
    try:
        cells = json.loads(data.decode("utf-8")).get("cells", [])
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return None
    hits = dict.fromkeys(ASSIGNMENTS, 0)
    names = {p.name: p.assignment for p in PROBLEMS}
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict):
            continue
        gid = str(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", ""))
        gid = gid.removeprefix("check_")
        if gid in names:
            hits[names[gid]] += 1
    best = max(hits, key=hits.get)
    return best if hits[best] else None


def _dedupe(found: list[Submission]) -> list[Submission]:
    """One submission per (student, assignment): the newest LMS one, else the last found."""
    kept: dict[tuple[str, str], Submission] = {}
    for sub in found:
        key = (sub.student, sub.assignment)
        old = kept.get(key)
        if old is None:
            kept[key] = sub
            continue
        new, dropped = (sub, old) if sub.order >= old.order else (old, sub)
        new.notes.append(
            f"{dropped.source!r} is another file for {sub.student} / {sub.assignment}; "
            f"graded {new.source!r} instead"
        )
        kept[key] = new
    return list(kept.values())
