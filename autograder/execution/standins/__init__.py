"""Harmless stand-ins for the notebooks' setup imports, staged into the sandbox.

Graded code runs every non-``demo`` cell, including the setup cell
(``from autograder import check``, ``from convplot import ...``, ``import
matplotlib.pyplot as plt``). The sandbox has neither the case generators nor
Matplotlib, so these packages take their names there: every name they are
asked for exists, accepts any arguments and draws nothing. `autograder.execution.staging`
copies them; nothing imports this package in the grader.
"""
