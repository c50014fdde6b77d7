"""Feedback as one self-contained HTML page per submission.

Templates live in ``autograder/outputs/templates`` and are rendered with autoescape on:
every string that may come from a student is escaped by Jinja; the one filter
that returns markup, `code_spans`, escapes its input first. Pages carry their
CSS inline, their images as data URIs, and a Content-Security-Policy that
forbids any other request, so a page opened from disk (or from an LMS
attachment) never reaches the network.
"""

from __future__ import annotations

import re
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from autograder.outputs.feedback.plots import difference_heatmap
from autograder.outputs.feedback.view import FeedbackView, build_view
from autograder.results import SubmissionResult

_SPAN = re.compile(r"`([^`\n]+)`")


def code_spans(s: str) -> Markup:
    """Escape `s`, then show its backtick spans (the engine writes `corr1d`) as code.

    Every part is escaped before it is wrapped, so no text can become markup.

    >>> str(code_spans("`f(<x>)` is <b>"))
    '<code>f(&lt;x&gt;)</code> is &lt;b&gt;'
    """
    parts = _SPAN.split(str(s))
    return Markup("").join(
        Markup("<code>{}</code>").format(p) if i % 2 else escape(p) for i, p in enumerate(parts)
    )


@cache
def environment() -> Environment:
    """The Jinja environment of the course's HTML templates (autoescape on)."""
    env = Environment(
        loader=PackageLoader("autograder.outputs", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["spans"] = code_spans
    return env


def render_html(result: SubmissionResult) -> str:
    """The whole feedback for one submission, as an HTML page."""
    return render_view(build_view(result))


def render_view(view: FeedbackView) -> str:
    """HTML for an already built view."""
    heatmaps = {
        p.name: difference_heatmap(p.first_failure.diff_map, p.first_failure.output_shape)
        for p in view.problems
        if p.first_failure is not None and p.first_failure.diff_map is not None
    }
    return environment().get_template("feedback.html.j2").render(v=view, heatmaps=heatmaps)
