"""Reading a submission, before any of its code runs: who sent it, its notebook, its code.

`identify` names the student and the assignment, `notebook` loads and
validates the file, `integrity` compares its locked cells with the release,
`extract` takes out the student's code and `scan` looks over that code for
forbidden calls and imports.
"""
