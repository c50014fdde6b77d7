"""What grading leaves behind: the gradebook, the feedback and reports, the platforms' files.

`gradebook` writes the results and ``grades.csv`` (and keeps the resume
cache), `feedback` the per-student pages, `report` the TA's ``summary.html``
(both from `templates`), and `platforms` the exports for Gradescope, Canvas
and nbgrader.
"""
