"""Who submitted what: students and assignments from paths, LMS names or the notebook.

Inputs are notebook files, folders of them (nbgrader's
``submitted/<student>/<assignment>/<notebook>.ipynb`` tree or any layout), and
``.zip`` archives as an LMS hands them out. Canvas names its files
``<login>_<userid>_<submissionid>_<name>.ipynb``, with ``_late`` after the
login for late submissions; Moodle's assignment download names them
``<Full Name>_<participant id>_assignsubmission_file_<name>.ipynb``, or puts
them in a folder ``<Full Name>_<participant id>_assignsubmission_file/``.
An LMS submission is keyed by the LMS's own number (Canvas's user id,
Moodle's participant id): two students both called ``smithjohn`` stay two,
and the name is kept beside the key for display (`Submission.name`, with
`Submission.origin` saying which LMS). Archive members are read into memory,
with size caps, and their names are only parsed, never used as paths.

The assignment comes from, in order: the ``assignment`` argument, a folder
named after an assignment, the file name, then the notebook's cells (their
nbgrader grade_ids and ``def`` lines name an assignment's functions). Whatever
cannot be worked out is said in a note on the submission, which the TA sees as
a warning and in the gradebook row.

Student ids are injective: letters and digits of any script stay as they are,
every other character is escaped (``alice smith`` -> ``alice%20smith``, next
to ``alice_smith``), and an id too long for a file name is cut and ends with a
hash of the whole name. Two files of one student for one assignment: the
newest is graded (an explicit time: in the LMS file name or nbgrader's
``timestamp.txt``; else the LMS submission id; else the modification time) and
the batch's notes say which was ignored. Symbolic links inside a submitted
tree are refused, never followed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from autograder.catalog import ASSIGNMENTS, PROBLEMS

MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024  # far above any honest notebook without outputs
# Total uncompressed notebooks read from all the archives of one batch: a folder
# of zip bombs stops here, not at one cap per archive.
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 20_000
# A student id is one folder name: at most this many characters.
MAX_ID_CHARS = 64
_HASH_CHARS = 10

UNKNOWN_ASSIGNMENT = "unknown"
_CANVAS = re.compile(r"(?P<login>.+?)(?P<late>_late)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<name>.+)")
# Moodle: "<Full Name>_<participant id>_assignsubmission_file_<file>", or the folder without <file>.
_MOODLE = re.compile(r"(?P<fullname>.+?)_(?P<pid>\d+)_assignsubmission_[a-z]+(?:_(?P<name>.*))?",
                     re.S)
CANVAS, MOODLE = "canvas", "moodle"
_ASSIGNMENT_IN_NAME = re.compile("|".join(re.escape(a) for a in ASSIGNMENTS))
# A time in an LMS file name (Moodle, Blackboard): 2024-03-01-14-05-09, 2024-03-01T14:05:09...
_STAMP_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[-_ T](\d{2})[-:_](\d{2})[-:_](\d{2})")
_KEPT_CHAR = re.compile(r"[\w@+-]")
_ID = re.compile(r"(?!\.)(?:[\w@+.-]|%[0-9A-F]{2})+(?:~[0-9a-f]{" + str(_HASH_CHARS) + "})?")


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
        LMS submission id (later is larger).
    name : str
        The student as the path or LMS name spells it, before it became an id.
    stamp : float or None
        An explicit submission time (POSIX seconds): from the LMS name or
        nbgrader's ``timestamp.txt``.
    mtime : float
        The file's (or archive member's) modification time.
    origin : str
        ``"canvas"`` or ``"moodle"`` when `student` is that LMS's number for
        the student (`name` is then the LMS's name for them); else empty.
    """

    student: str
    assignment: str
    data: bytes
    source: str
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    order: int = 0
    name: str = ""
    stamp: float | None = None
    mtime: float = 0.0
    origin: str = ""


@dataclass
class Collected:
    """Every submission of a batch, and what the TA should know about the batch.

    Attributes
    ----------
    submissions : list of Submission
    notes : list of str
        Files ignored for a newer one, ids that collided, links refused,
        archives that could not be read.
    """

    submissions: list[Submission] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def student_id(name: str) -> str:
    """The id of a student name: injective, and usable as one folder name.

    Letters and digits of any script, ``_ @ + -`` and inner dots are kept;
    every other character (separators, spaces, a leading dot, ``%``, ``~``) is
    written as ``%XX`` per UTF-8 byte, so distinct names stay distinct. An id
    longer than `MAX_ID_CHARS` is cut and ends with ``~`` and a hash of the name.

    >>> student_id("alice smith"), student_id("alice_smith"), student_id("张伟")
    ('alice%20smith', 'alice_smith', '张伟')
    >>> student_id("../etc"), student_id(".hidden")
    ('%2E.%2Fetc', '%2Ehidden')
    """
    name = unicodedata.normalize("NFC", name)
    out = []
    for i, ch in enumerate(name):
        if _KEPT_CHAR.fullmatch(ch) or (ch == "." and i > 0):
            out.append(ch)
        else:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
    text = "".join(out) or "unknown"
    if len(text) > MAX_ID_CHARS or len(text.encode("utf-8")) > 4 * MAX_ID_CHARS:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
        head = text[: MAX_ID_CHARS - _HASH_CHARS - 1]
        while head and (head[-1] == "%" or head[-2:-1] == "%"):  # never cut an escape in two
            head = head[:-1]
        text = f"{head}~{digest[:_HASH_CHARS]}"
    return text


def is_student_id(text: str) -> bool:
    """Whether `text` is already an id `student_id` could have made."""
    return (bool(_ID.fullmatch(text)) and len(text) <= MAX_ID_CHARS
            and unicodedata.is_normalized("NFC", text))


def safe_name(name: str) -> str:
    """A name usable as one folder name: an id as it is, anything else through `student_id`."""
    return name if is_student_id(name) else student_id(name)


def collect(paths: Iterable[str | Path], assignment: str | None = None) -> list[Submission]:
    """Every submission under `paths`, identified, one per (student, assignment).

    See `collect_batch`, which also returns the batch's notes.
    """
    return collect_batch(paths, assignment).submissions


def collect_batch(paths: Iterable[str | Path], assignment: str | None = None) -> Collected:
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
    batch = Collected()
    budget = _Budget()
    found: list[Submission] = []
    for path in map(Path, paths):
        for item in _files(path, budget, batch.notes):
            found.append(_identify_safely(item, assignment))
    batch.submissions = _dedupe(found, batch.notes)
    return batch


@dataclass
class _Found:
    """A notebook file as found: name parts for identification, bytes, times."""

    parts: tuple[str, ...]
    data: bytes
    error: str | None
    source: str
    mtime: float = 0.0
    stamp: float | None = None


class _Budget:
    """What the batch's archives may still yield, shared by all of them."""

    def __init__(self) -> None:
        self.bytes = MAX_ARCHIVE_BYTES
        self.members = MAX_ARCHIVE_MEMBERS


def _is_notebook(name: str) -> bool:
    return name.lower().endswith(".ipynb")


def _is_zip(name: str) -> bool:
    return name.lower().endswith(".zip")


def _files(path: Path, budget: _Budget, notes: list[str]) -> Iterator[_Found]:
    """Every notebook under `path` (a folder, an archive or one notebook)."""
    if path.is_dir():
        yield from _walk(path, budget, notes)
    elif _is_zip(path.name) and path.is_file():
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ValueError(
                f"collect: {str(path)!r} is not a readable zip archive ({exc})") from exc
        yield from _read_zip(path, archive, budget, notes)
    elif _is_notebook(path.name) and path.is_file():
        yield _read_file(path, path.resolve().parts[-4:], path.resolve().parent)
    elif not path.exists():
        raise ValueError(f"collect: {str(path)!r} does not exist")
    else:
        raise ValueError(f"collect: {str(path)!r} is not a notebook (.ipynb), folder or .zip")


def _walk(root: Path, budget: _Budget, notes: list[str]) -> Iterator[_Found]:
    """Notebooks and archives in a folder tree, in name order, never through a link."""
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        for d in list(dirs):
            if (here / d).is_symlink():
                dirs.remove(d)
                notes.append(f"{str(here / d)!r} is a symbolic link to a folder: not followed, "
                             "its notebooks were not graded")
            elif d == ".ipynb_checkpoints" or d == "__MACOSX":
                dirs.remove(d)
        dirs.sort()
        for name in sorted(files):
            file = here / name
            if not (_is_notebook(name) or _is_zip(name)):
                continue
            parts = (root.name, *file.relative_to(root).parts)
            if file.is_symlink():
                notes.append(f"{str(file)!r} is a symbolic link: not followed")
                if _is_notebook(name):
                    yield _Found(parts, b"", "the file is a symbolic link; the grader reads "
                                 "only regular files: submit the notebook itself", str(file))
            elif _is_notebook(name):
                yield _read_file(file, parts, root)
            else:
                try:
                    archive = zipfile.ZipFile(file)
                except (zipfile.BadZipFile, OSError, ValueError) as exc:
                    notes.append(f"{str(file)!r} is not a readable zip archive ({exc}): skipped")
                    continue
                yield from _read_zip(file, archive, budget, notes)


def _read_file(file: Path, parts: tuple[str, ...], root: Path) -> _Found:
    found = _Found(parts, b"", None, str(file), stamp=_stamp_in_name(file.name))
    try:
        size, found.mtime = file.stat().st_size, file.stat().st_mtime
        if size > MAX_NOTEBOOK_BYTES:
            found.error = _too_large(size)
        else:
            found.data = file.read_bytes()
    except OSError as exc:
        found.error = f"the file could not be read: {exc.strerror}"
    if found.stamp is None:
        found.stamp = _nbgrader_timestamp(file.parent, root)
    return found


def _read_zip(path: Path, archive: zipfile.ZipFile, budget: _Budget,
              notes: list[str]) -> Iterator[_Found]:
    with archive:
        members = [
            info for info in archive.infolist()
            if not info.is_dir() and _is_notebook(info.filename)
            and not info.filename.startswith("__MACOSX/")
            and ".ipynb_checkpoints" not in info.filename
        ]
        if len(members) > budget.members:
            notes.append(f"{str(path)!r} holds {len(members)} notebooks, more than the "
                         f"{budget.members} the batch may still read from archives: skipped")
            return
        budget.members -= len(members)
        for info in members:
            # Names are parsed for identification only; nothing is written from them.
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts or ("unnamed.ipynb",)
            found = _Found(parts, b"", None, f"{path}:{info.filename}",
                           mtime=_zip_time(info), stamp=_stamp_in_name(parts[-1]))
            if info.file_size > MAX_NOTEBOOK_BYTES:
                found.error = _too_large(info.file_size)
            elif budget.bytes <= 0:
                found.error = (f"not read: the batch's archives already gave "
                               f"{_size(MAX_ARCHIVE_BYTES)} of notebooks; grade them in parts")
            else:
                try:
                    with archive.open(info) as fh:
                        # The header's size can lie: read at most one byte past the cap.
                        data = fh.read(min(MAX_NOTEBOOK_BYTES, budget.bytes) + 1)
                except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError,
                        NotImplementedError) as exc:
                    found.error = f"the archive member could not be read ({exc})"
                else:
                    budget.bytes -= len(data)
                    if len(data) > MAX_NOTEBOOK_BYTES:
                        found.error = _too_large(len(data))
                    elif budget.bytes < 0:
                        found.error = (f"not read: the batch's archives hold more than "
                                       f"{_size(MAX_ARCHIVE_BYTES)} of notebooks; grade them "
                                       "in parts")
                    else:
                        found.data = data
            yield found


def _zip_time(info: zipfile.ZipInfo) -> float:
    try:
        return datetime(*info.date_time, tzinfo=UTC).timestamp()
    except (TypeError, ValueError, OverflowError):
        return 0.0


def _stamp_in_name(name: str) -> float | None:
    match = _STAMP_IN_NAME.search(name)
    if match is None:
        return None
    try:
        return datetime(*map(int, match.groups()), tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _nbgrader_timestamp(folder: Path, root: Path) -> float | None:
    """The time in nbgrader's ``timestamp.txt`` next to a notebook or above it, up to `root`."""
    for parent in (folder, *folder.parents):
        stamp = parent / "timestamp.txt"
        try:
            if stamp.is_file() and not stamp.is_symlink() and stamp.stat().st_size < 200:
                text = stamp.read_text(encoding="utf-8", errors="replace")
                match = re.search(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})", text)
                if match:
                    return datetime(*map(int, match.groups()), tzinfo=UTC).timestamp()
        except (OSError, ValueError):
            pass
        if parent == root or root not in parent.parents:
            break
    return None


def _size(n: int | float) -> str:
    """A size in MiB with one decimal, or in bytes below 1 MiB."""
    return f"{n:,.0f} bytes" if n < 2**20 else f"{n / 2**20:.1f} MiB"


def _too_large(size: int) -> str:
    given, limit = _size(size), _size(MAX_NOTEBOOK_BYTES)
    if given == limit:  # rounded alike: the exact numbers say which is larger
        given, limit = f"{size:,} bytes", f"{MAX_NOTEBOOK_BYTES:,} bytes"
    return (f"the notebook is {given}, more than the limit of {limit}; "
            "clear its outputs and submit it again")


def _identify_safely(found: _Found, forced: str | None) -> Submission:
    """`_identify`, and a row with the reason if the file trips it up."""
    try:
        return _identify(found, forced)
    except Exception as exc:  # one odd file never stops the batch
        name = f"unknown-{hashlib.sha256(found.source.encode('utf-8', 'replace')).hexdigest()[:8]}"
        return Submission(
            student=name, assignment=forced or UNKNOWN_ASSIGNMENT, data=b"", source=found.source,
            error=f"the grader could not identify this file ({type(exc).__name__}: "
                  f"{str(exc):.200})", name=name, mtime=found.mtime)


def _identify(found: _Found, forced: str | None) -> Submission:
    parts, data, source = found.parts, found.data, found.source
    name = PurePosixPath(parts[-1]).name
    if _is_notebook(name) and len(name) > len(".ipynb"):
        name = name[: -len(".ipynb")]
    dirs = parts[:-1]
    sub = Submission(student="", assignment="", data=data, source=source, error=found.error,
                     stamp=found.stamp, mtime=found.mtime)
    moodle = _MOODLE.fullmatch(name) or (_MOODLE.fullmatch(dirs[-1]) if dirs else None)
    canvas = _CANVAS.fullmatch(name)
    # <student>/<assignment>/...: the folder names the student, whatever lies below it.
    folder = next((i for i, d in enumerate(dirs) if i >= 1 and d in ASSIGNMENTS), None)
    if folder is not None:
        sub.name, from_path = dirs[folder - 1], dirs[folder]
    elif moodle:
        sub.name, sub.origin = unicodedata.normalize("NFC", moodle["fullname"]), MOODLE
        from_path = _assignment_in(name) or _assignment_in("/".join(dirs))
    elif canvas:
        sub.name, sub.origin = canvas["login"], CANVAS
        from_path = _assignment_in(canvas["name"])
        sub.order = int(canvas["sid"])
        if canvas["late"]:
            sub.flags.append("late")
    else:
        from_path = _assignment_in(name)
        rest = _ASSIGNMENT_IN_NAME.sub("", name)
        rest = re.sub(r"(^|[_ -])attempt(?=$|[_ -])", "", _STAMP_IN_NAME.sub("", rest))
        rest = re.sub(r"__+", "_", rest).strip("_- ")
        if rest:  # "alice.ipynb", "alice_01_conv1d.ipynb", "alice_01_conv1d_attempt_<time>"
            sub.name = rest
        elif dirs:  # "alice/01_conv1d.ipynb"
            sub.name = dirs[-1]
        else:
            sub.name = f"unknown-{hashlib.sha256(data).hexdigest()[:8]}"
            sub.notes.append(
                f"could not tell the student from {source!r}; recorded as {sub.name!r}"
            )
    # An LMS's number is the key (names repeat; numbers do not), the name is for display.
    uid = moodle["pid"] if sub.origin == MOODLE else canvas["uid"] if sub.origin == CANVAS else None
    sub.student = student_id(str(int(uid)) if uid else sub.name)
    from_content = assignment_from_content(data)
    sub.assignment = forced or from_path or from_content or UNKNOWN_ASSIGNMENT
    if sub.assignment == UNKNOWN_ASSIGNMENT and sub.error is None:
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


def assignment_from_content(data: bytes) -> str | None:
    """The assignment most of the notebook's graded functions belong to, if any.

    Read from the nbgrader ``grade_id`` of its cells, whatever the file is called.
    """
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    cells = raw.get("cells", []) if isinstance(raw, dict) else []
    hits = dict.fromkeys(ASSIGNMENTS, 0)
    names = {p.name: p.assignment for p in PROBLEMS}
    for cell in cells if isinstance(cells, list) else []:
        metadata = cell.get("metadata") if isinstance(cell, dict) else None
        nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
        gid = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
        if isinstance(gid, str) and gid.removeprefix("check_") in names:
            hits[names[gid.removeprefix("check_")]] += 1
    best = max(hits, key=hits.get)
    return best if hits[best] else None


def _newest_key(sub: Submission) -> tuple:
    # An explicit time first, then the LMS submission id, then the file's time.
    return (sub.stamp if sub.stamp is not None else -math.inf, sub.order, sub.mtime)


def _by_what(kept: Submission, others: list[Submission]) -> str:
    if kept.stamp is not None and any(o.stamp != kept.stamp for o in others):
        return "its submission time"
    if any(o.order != kept.order for o in others):
        return "its LMS submission id"
    return "its modification time"


def _dedupe(found: list[Submission], notes: list[str]) -> list[Submission]:
    """One submission per (student, assignment): the newest; distinct names never merge."""
    groups: dict[tuple[str, str], dict[str, list[Submission]]] = {}
    for sub in found:
        # An LMS number is one student whatever name came with it (a renamed account).
        spelling = f"\0{sub.origin}" if sub.origin else sub.name
        groups.setdefault((sub.student, sub.assignment), {}).setdefault(spelling, []).append(sub)
    kept: list[Submission] = []
    for (student, assignment), by_name in groups.items():
        if len(by_name) > 1:  # two spellings gave one id: keep both, under distinct ids
            first = by_name[sorted(by_name)[0]][0].name  # an LMS key sorts first: it keeps the id
            for spelling in sorted(by_name)[1:]:
                name = by_name[spelling][0].name
                digest = hashlib.sha256(spelling.encode("utf-8", "surrogatepass")).hexdigest()
                new_id = f"{student[: MAX_ID_CHARS - _HASH_CHARS - 1]}~{digest[:_HASH_CHARS]}"
                for sub in by_name[spelling]:
                    sub.student = new_id
                    sub.notes.append(f"recorded as {new_id!r}: the id {student!r} is already "
                                     f"another student's ({first!r})")
                notes.append(f"id collision: {name!r} and {first!r} both give "
                             f"{student!r}; {name!r} is recorded as {new_id!r}")
        for subs in by_name.values():
            # Stable: among equal keys the last found (in path order) wins.
            ranked = sorted(enumerate(subs), key=lambda e: (_newest_key(e[1]), e[0]))
            new = ranked[-1][1]
            ignored = [s for _, s in ranked[:-1]]
            if ignored:
                how = _by_what(new, ignored)
                sources = ", ".join(repr(s.source) for s in ignored)
                new.notes.append(f"graded {new.source!r}, the newest by {how}; ignored "
                                 f"{sources} (another file for {new.student} / {assignment})")
                notes.append(f"{new.student} / {assignment}: graded {new.source!r} (the newest "
                             f"by {how}); ignored {sources}")
            kept.append(new)
    return kept
