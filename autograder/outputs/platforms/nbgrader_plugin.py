"""The sandboxed grader inside nbgrader's autograde step.

nbgrader's ``Autograde`` converter sanitizes a submission (locked cells
restored, outputs cleared), then runs ``autograde_preprocessors`` on the copy
in ``autograded/``: ``Execute`` runs every cell in a plain kernel, and
``SaveAutoGrades`` reads each grade cell's output as its score. `SandboxedGrades`
takes ``Execute``'s place: it grades the student's *submitted* notebook in this
grader's sandbox (expected values computed outside it) and writes each check
cell's outputs from the result, the score as the cell's partial credit. Nothing
of the submission runs in nbgrader's process or in a kernel of its own.

A course turns it on in its ``nbgrader_config.py``::

    from autograder.outputs.platforms.nbgrader_plugin import use_sandboxed_grader
    use_sandboxed_grader(c)

after which ``nbgrader autograde`` and formgrader's autograde button grade
with the sandbox, and ``SaveAutoGrades``, ``AssignLatePenalties``,
``generate_feedback`` and manual grading work on its scores as nbgrader's own.
"""

from __future__ import annotations

from pathlib import Path

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

PLUGIN = "autograder.outputs.platforms.nbgrader_plugin.SandboxedGrades"


def autograde_preprocessors() -> list:
    """nbgrader's default autograde preprocessors with ``Execute`` replaced by this grader."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    defaults = Autograde.class_traits()["autograde_preprocessors"].default()
    return [PLUGIN if pp is Execute else pp for pp in defaults]


def use_sandboxed_grader(c) -> None:
    """Configure `c` (an nbgrader config) so that autograding uses the sandboxed grader."""
    c.Autograde.autograde_preprocessors = autograde_preprocessors()


class SandboxedGrades(NbGraderPreprocessor):
    """Grade cells' outputs from the sandboxed grader instead of a kernel."""

    out_directory = Unicode(
        "graded",
        help="Where the grader keeps its results (relative to the course root), as "
             "`autograder grade --out`: results there for the same file, seed and grader "
             "are reused, not run again.",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode,
                   resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        from autograder.outputs.platforms import nbgrader_host

        info = resources["nbgrader"]
        coursedir = self._coursedir()
        submitted = Path(coursedir.format_path(
            coursedir.submitted_directory, info["student"], info["assignment"]))
        notebook = submitted / f"{info['notebook']}.ipynb"
        out = Path(coursedir.root) / self.out_directory
        result = nbgrader_host.result_for(notebook, info["student"], info["assignment"], out)
        nbgrader_host.fill_grade_cells(nb, result, self.log)
        return nb, resources

    def _coursedir(self):
        """The converter's course directory (the converter is the exporter's parent)."""
        owner = self.parent
        while owner is not None and getattr(owner, "coursedir", None) is None:
            owner = owner.parent
        if owner is None:
            raise RuntimeError("SandboxedGrades runs only inside nbgrader's Autograde converter")
        return owner.coursedir
