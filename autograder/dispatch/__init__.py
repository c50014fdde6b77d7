"""Grading on a Dask cluster: the coordinator's executor, the Dask workers' warm pools.

Only the grader's processes import Dask; the sandbox never does
(`autograder.execution.staging` refuses to stage this folder).
"""
