"""Running student code: the sandbox, its warm workers and what comes back from them.

The grader's side (`pool`, `run`, `sandbox`, `seccomp`, `staging`) starts and
confines the workers; the worker's side (`worker`, `tripwires`,
`import_policy`, `functions`, the `standins`) runs inside the sandbox and is
staged there by following imports, which is why this file imports nothing.
`wire` and `outcome` are shared by both sides.
"""
