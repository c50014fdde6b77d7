"""nbgrader configuration: solutions/ is the instructor source, notebooks/ the student release."""

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "conv-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# The gradebook database is local state, kept out of git (see .gitignore).
c.CourseDirectory.db_url = "sqlite:///.nbgrader/gradebook.db"
# Student notebooks carry no outputs and no solution text.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearOutput.enabled = True
# `nbgrader autograde` and formgrader's autograde button grade in the sandboxed
# grader, never by running student code in a kernel (README, "nbgrader").
from autograder.outputs.platforms.nbgrader_plugin import use_sandboxed_grader  # noqa: E402

use_sandboxed_grader(c)
