"""Sandboxed autograder for the convolution course.

``from autograder import check`` gives the notebooks' self-check. It is bound
here (not looked up lazily) because the submodule ``autograder.check`` has the
same name: once imported, Python would set the package attribute to the
module. Importing costs NumPy only; the first ``check`` call loads the case
generators and ``conv_ref``.
"""

from autograder.check import check

__all__ = ["check"]
