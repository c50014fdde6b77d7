"""Feedback as Markdown: the ``.md`` file and the text Gradescope shows per function.

Markdown renderers pass raw HTML through, so text that may come from the
student (names, exception messages, tracebacks, source lines) goes through
`text`, `code` (an inline code span) or `block` (a fenced block); code spans
and fences are chosen longer than any backtick run inside, so nothing can close
them early. `text` escapes only what could start markup, so that the ``.md``
file still reads as plain text: ``|x| <= 1`` stays as it is, ``<b>`` does not.
"""

from __future__ import annotations

import re

import numpy as np

from autograder.outputs.feedback.arrays import Grid
from autograder.outputs.feedback.view import CaseView, FeedbackView, ProblemView, build_view
from autograder.results import SubmissionResult

# Backslash-escaped wherever they stand: code spans, emphasis, table cells, strikethrough.
_PUNCTUATION = re.compile(r"([`*|~])")
# `_` emphasises only when it does not stand between two letters or digits (`L_out` is safe).
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# With no `](` or `][` there is no link or image; a `[` that starts a line is escaped too
# (no link definition, no task-list box), so a lone `[label]` has nothing to resolve to.
_LINK_BRACKET = re.compile(r"\](?=[(\[])")
# An entity (`&amp;`, `&#60;`) or an HTML tag, comment or autolink (`<b>`, `</`, `<!`, `<?`).
_ENTITY = re.compile(r"&(?=[#A-Za-z])")
_TAG = re.compile(r"<(?=[A-Za-z/!?])")
# At the start of a line: headings, block quotes, list items, setext underlines, link
# definitions.
_LINE_MARK = re.compile(r"^[#>+=\[-]|^\d{1,9}(?=[.)])")
_INDENT = re.compile(r"^[ \t]+")  # four spaces would start a code block
_SHADES = " .:-=+*#%@"
_SPAN = re.compile(r"(`[^`\n]+`)")


def text(s: str, line_start: bool = True) -> str:
    r"""Student text safe for Markdown: no HTML, no formatting, and still readable as text.

    `line_start` says whether `s` begins a line of the document (a heading or a
    list marker could start there).

    >>> text("<b>x_1</b> & *y* <= 2")
    '&lt;b>x_1&lt;/b> & \\*y\\* <= 2'
    >>> text("# [a](http://x)")
    '\\# [a\\](http://x)'
    """
    lines = s.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "  \n".join(
        _line_start(_inline(line)) if i or line_start else _inline(line)
        for i, line in enumerate(lines)
    )


def _inline(line: str) -> str:
    line = line.replace("\\", "\\\\")
    line = _ENTITY.sub("&amp;", line)
    line = _TAG.sub("&lt;", line)
    line = _PUNCTUATION.sub(r"\\\1", line)
    line = _UNDERSCORE.sub(r"\\_", line)
    return _LINK_BRACKET.sub(r"\\]", line)


def _line_start(line: str) -> str:
    line = _INDENT.sub("", line)
    mark = _LINE_MARK.match(line)
    if mark is None:
        return line
    if mark.group().isdigit():  # `1.` starts a list, `1\.` does not
        return f"{mark.group()}\\{line[mark.end():]}"
    return f"\\{line}"


def prose(s: str) -> str:
    r"""Like `text`, but paired backticks stay code spans (the engine writes `corr1d`).

    Code spans are literal in Markdown, so they are safe as they are.

    >>> prose("`conv_output_length` <is> missing_here")
    '`conv_output_length` &lt;is> missing_here'
    """
    parts = _SPAN.split(s)
    return "".join(
        p if i % 2 else text(p, line_start=i == 0) for i, p in enumerate(parts)
    )


def code(s: str) -> str:
    """An inline code span that no backtick inside `s` can close.

    >>> code("a`b")
    '``a`b``'
    """
    s = " ".join(s.split())
    runs = [len(r) for r in re.findall(r"`+", s)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def block(s: str, info: str = "text") -> str:
    """A fenced code block that no line of `s` can close."""
    runs = [len(r) for r in re.findall(r"`{3,}", s)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}{info}\n{s.rstrip()}\n{fence}"


def render_markdown(result: SubmissionResult) -> str:
    """The whole feedback for one submission, as Markdown."""
    return render_view(build_view(result))


def render_view(view: FeedbackView) -> str:
    """Markdown for an already built view."""
    out = [
        f"# Feedback on {code(view.assignment)} for {code(view.student)}",
        "",
        f"**Score: {view.score} / {view.max_score}**",
        "",
    ]
    if view.error:
        out += [
            "## Your notebook could not be graded",
            "",
            prose(view.error),
            "",
            "Open it in JupyterLab, run *Kernel > Restart Kernel and Run All Cells*, fix the "
            "first error, save, and submit again.",
            "",
        ]
    for line in view.flags + [prose(n) for n in view.notes]:
        out.append(f"- {line}")
    if view.flags or view.notes:
        out.append("")
    if view.problems:
        out += ["| function | score | cases passed |", "|---|---|---|"]
        for p in view.problems:
            mark = "passed" if p.passed else "**to fix**"
            out.append(
                f"| {code(p.name)} | {p.score} / {p.max_score} | "
                f"{p.n_passed} of {p.n_cases} ({mark}) |"
            )
        out.append("")
        measured = [(p.name, m) for p in view.problems if p.passed for m in p.measured]
        out += [f"- {code(name)}: {text(m)}" for name, m in measured]
        out += [""] if measured else []
    for p in view.problems:
        if not p.passed:
            out += [render_problem(p), ""]
    return "\n".join(out).rstrip() + "\n"


def render_problem(p: ProblemView, level: int = 2) -> str:
    """One function: its score, the first failing case in full, the others by name."""
    h = "#" * level
    out = [f"{h} {code(p.name)}: {p.score} / {p.max_score}", ""]
    out += [f"- {flag}" for flag in p.flags] + ([""] if p.flags else [])
    if p.n_cases == 0:
        out.append("No case could be run for this function.")
    elif p.summary:
        out.append(f"**{text(p.summary)}.** {prose(p.summary_next_step)}".rstrip())
    elif p.first_failure is None:
        out.append(f"All {p.n_cases} cases passed.")
    else:
        out += [_case(p.first_failure, level + 1)]
    if p.other_failures:
        out += ["", f"Other failing cases ({p.n_other_failures}), in short:", ""]
        out += [f"- {text(c.name)}: {c.verdict}" for c in p.other_failures]
    return "\n".join(out)


def _case(c: CaseView, level: int) -> str:
    h = "#" * level
    out = [f"{h} First failing case: {text(c.name)} ({c.verdict})", ""]
    if c.mistake:
        out += [f"**Likely mistake: {text(c.mistake)}.** {prose(c.mistake_detail)}".rstrip(), ""]
    if c.inputs:
        out += ["Inputs:", ""]
        out += [f"- {code(i.name)}: {code(i.text)}" for i in c.inputs]
        out.append("")
    if c.item:
        out += [f"The first output that differs: {code(c.item)}.", ""]
    for n, check in enumerate(c.checks, 1):
        out.append(f"{n}. {_check_line(check)}")
    if c.checks:
        out.append("")
    if c.message:
        out += [prose(c.message), ""]
    out += [f"- {prose(n)}" for n in c.notes] + ([""] if c.notes else [])
    if c.differences:
        out += [text(c.differences), ""]
    if c.grid is not None:
        out += [block(grid_text(c.grid)), ""]
        out += ["Entries marked `*` differ. " + prose(c.tolerance), ""]
    elif c.diff_map is not None:
        out += [
            "Where the output differs (each character is a block of entries; darker means "
            "a larger difference, blank means equal):",
            "",
            block(shade_map(c.diff_map)),
            "",
        ]
    if c.where:
        out += [f"Where: {prose(c.where)}" + (f": {code(c.code)}" if c.code else ""), ""]
    if c.traceback:
        out += ["Traceback (your code only):", "", block(c.traceback), ""]
    out.append(f"**What to look at next:** {prose(c.next_step)}")
    return "\n".join(out)


def _check_line(check) -> str:
    label = check.stage.capitalize()
    if check.state == "skipped":
        return f"{label}: not compared (fix the step above first)."
    if check.state == "ok":
        return f"{label}: {code(check.expected)} as expected."
    if not (check.expected or check.received):
        return f"{label}: differ (details below)."
    return f"{label}: expected {code(check.expected)}, received {code(check.received)}."


def grid_text(grid: Grid) -> str:
    """Expected and received side by side as aligned text, ``*`` after differing entries."""
    cells = [v for row in grid.expected + grid.received for v in row] + grid.col_labels
    width = max(len(v) for v in cells) + 1
    label_w = max(len(r) for r in grid.row_labels)

    def line(label: str, values: list[str], marks: list[bool]) -> str:
        body = "".join(
            f"{v:>{width}}{'*' if m else ' '}" for v, m in zip(values, marks, strict=True)
        )
        return f"{label:>{label_w}} {body}"

    header = line("", grid.col_labels, [False] * len(grid.col_labels))
    sides = []
    for title, rows in (("expected", grid.expected), ("received", grid.received)):
        lines = [
            line(lab, row, d)
            for lab, row, d in zip(grid.row_labels, rows, grid.differs, strict=True)
        ]
        sides.append([title, header] + lines)
    span = max(len(s) for s in sides[0])
    return "\n".join(
        f"{a:<{span}}   {b}".rstrip() for a, b in zip(sides[0], sides[1], strict=True)
    )


def shade_map(diff_map: list) -> str:
    """A block-max difference map as characters, from blank (equal) to ``@`` (largest)."""
    diff = np.atleast_2d(np.asarray(diff_map, dtype=float))
    finite = np.isfinite(diff)
    top = float(diff[finite].max()) if finite.any() else 0.0
    levels = np.full(diff.shape, len(_SHADES) - 1)  # NaN or inf: as different as it gets
    if top > 0:
        levels[finite] = np.ceil(diff[finite] / top * (len(_SHADES) - 1))
    else:
        levels[finite] = 0
    return "\n".join("".join(_SHADES[v] for v in row) for row in levels)
