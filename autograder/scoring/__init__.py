"""Scoring: each received value judged against the expected one, outside the student's process.

`compare` checks one value in stages (type, shape, values), `judge` turns a
case's `CallOutcome` into a verdict and splits a function's points over its
cases, `rules` reads from the code the stated rules that cost a function its
points, and `diagnose` names the known mistake a wrong answer matches.
"""
