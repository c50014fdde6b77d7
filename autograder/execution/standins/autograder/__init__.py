"""The grading sandbox's ``autograder``: the worker's modules, and a ``check`` that checks nothing.

The notebook's check cells are not run under grading (the grader has its own
cases), so ``check`` only has to exist for the setup cell's import.
"""


def check(*args, **kwargs):
    """Do nothing: under grading, the grader runs the cases itself."""
    return None


__all__ = ["check"]
