"""Per-student feedback: what was expected, what came back, what to look at next.

``build_view`` (view.py) turns a `SubmissionResult` into printable strings;
markdown.py and html.py render that view; write.py places the files.
"""

from autograder.outputs.feedback.html import render_html
from autograder.outputs.feedback.markdown import render_markdown
from autograder.outputs.feedback.write import feedback_path, write_feedback

__all__ = ["feedback_path", "render_html", "render_markdown", "write_feedback"]
