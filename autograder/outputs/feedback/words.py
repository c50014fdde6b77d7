"""Plain words for the feedback: verdicts, flags, mistakes and what to try next.

Every sentence a student reads about a status, a flag or a comparison stage
lives here, so the Markdown, HTML and Gradescope outputs say the same thing.
"""

from __future__ import annotations

# One short verdict per case status (see autograder.results.STATUSES).
VERDICTS = {
    "ok": "returned a value",
    "raised": "raised an exception",
    "not_implemented": "not implemented yet (still raises NotImplementedError)",
    "missing": "function not found in the notebook",
    "timeout": "did not finish in time",
    "crashed": "crashed the Python process",
    "forbidden": "called a function that is not allowed",
    "invalid_output": "returned something that is not an array or a number",
    "not_run": "not run, the notebook had already stopped",
}

# A failing case that returned a value is named by the first stage that failed.
STAGE_VERDICTS = {
    "type": "wrong type",
    "shape": "wrong shape",
    "values": "wrong values",
}

# What to look at next when the grader recognised no particular mistake.
NEXT_STEPS = {
    # train_digits: the grader ran (or could not run) the network on the returned parameters.
    "network_type": (
        "Return the dict of trained parameters (`w1, b1, w2, b2, w3, b3`), not predictions: "
        "the check and the grader run the network on their own held-out images."
    ),
    "network_shape": (
        "Compare each parameter with the table in the exercise: `w3` is `(128, 10)` because "
        "the scores are `features @ w3 + b3` (PyTorch's `nn.Linear` stores the transpose). "
        "NaN weights usually mean the training diverged: lower the step size."
    ),
    "network_accuracy": (
        "Check that the training loss falls over the epochs (the solution's ends near 0.05), "
        "that you return the parameters after training, and test each gradient of the "
        "network with `numeric_gradient` on a few images."
    ),
    "type": (
        "Return the same kind of value as the reference (shown under 'expected'): "
        "for arrays, wrap your result in `np.asarray(...)` and check its dtype."
    ),
    "shape": (
        "Work out the output size by hand with "
        "`floor((n + 2*padding - dilation*(k-1) - 1) / stride) + 1` for each spatial axis, "
        "and check that batch and channel axes are where PyTorch puts them."
    ),
    "returned_none": (
        "Your function returned `None`: end it with `return` and your result (a function "
        "that only computes, or only prints, returns `None`)."
    ),
    "values": (
        "Recompute the first differing entry by hand from the inputs above, then follow "
        "your loop indices for that one position."
    ),
    "raised": (
        "Read the last line of the traceback first: it names your line and the error. "
        "Then run the same inputs in your notebook."
    ),
    "not_implemented": "Replace `raise NotImplementedError()` with your implementation.",
    "missing": (
        "Define the function with exactly this name in its solution cell, and check that "
        "the cell runs without errors after 'Restart Kernel and Run All'."
    ),
    "timeout": (
        "Look for a loop that never ends, or a Python loop over every entry of a large "
        "array: vectorise the inner loops with NumPy."
    ),
    "crashed": (
        "The process running your code died: remove `sys.exit`/`os._exit`/`quit()` calls and "
        "avoid building very large arrays."
    ),
    "crashed_memory": (
        "Your code ran out of memory: look for a list or array that grows inside a loop that "
        "does not end, or an array far larger than the inputs (a dense matrix where a loop "
        "over windows would do)."
    ),
    "crashed_exit": (
        "Remove `sys.exit()`, `os._exit()`, `exit()` and `quit()` from your notebook: they "
        "stop the grader's process too, and every case after them scores 0."
    ),
    "forbidden": (
        "Write the computation with NumPy yourself: library convolutions (torch conv, unfold "
        "and pool functions, `scipy.signal`, `scipy.ndimage`, `np.convolve`, `np.correlate`, "
        "`conv_ref`) are not allowed inside graded functions."
    ),
    "invalid_output": (
        "Return a NumPy array or a plain number, not a custom object, a generator or an "
        "enormous array."
    ),
    "not_run": (
        "This case never ran, so there is nothing to fix in it yet: fix what stopped the "
        "notebook (the time limit or the crash named above), and it will be graded."
    ),
}

# Submission flags, as the student reads them.
FLAG_WORDS = {
    "forbidden_call": "A call to a forbidden library function was found in your code.",
    "tampered_cells": (
        "Cells that must not be edited (checks or instructions) were changed; they were "
        "graded from the original notebook, and your TA has been told."
    ),
    "crashed": "Your code crashed the Python process at least once.",
    "timeout": "Part of your notebook did not finish within the time limit.",
    "shell_escape": "Shell commands (lines starting with ! or %%bash) were not run.",
    "late": "This submission arrived after the deadline.",
    "monkeypatch": (
        "Your notebook replaces a library function (such as `np.allclose`); the grader "
        "compares with its own copy, and your TA has been told."
    ),
    "invalid_output": "A graded function returned something that is not plain array data.",
}

# The same flags as the TA reads them in summary.html.
FLAG_LABELS = {
    "forbidden_call": "forbidden call",
    "tampered_cells": "tampered cells",
    "crashed": "crash",
    "timeout": "timeout",
    "shell_escape": "shell escape",
    "late": "late",
    "monkeypatch": "library patched",
    "invalid_output": "invalid output",
    "error": "could not be graded",
}


def verdict(status: str, stage: str | None, passed: bool) -> str:
    """One-phrase verdict for a case: 'passed', 'wrong shape', 'did not finish in time'..."""
    if passed:
        return "passed"
    if status == "ok":
        return STAGE_VERDICTS.get(stage or "", "wrong answer")
    return VERDICTS.get(status, status.replace("_", " "))


# Words of `autograder.scoring.network`'s messages, per stage: the verdict is on a network.
_NETWORK = {"type": "the network's trained parameters", "shape": "do not fit the network",
            "values": "held-out digits"}


def next_step(status: str, stage: str | None, message: str = "") -> str:
    """A generic 'what to look at next' for a failing case without a diagnosis.

    A crash is told apart by the sandbox's reason, quoted in the case's `message`;
    so is the crash that kept a case from running at all.

    >>> next_step("crashed", "status", "died: exceeded the memory limit of 2.0 GiB")[:30]
    'Your code ran out of memory: l'
    >>> next_step("not_run", "status", "the process died (called os._exit(0)) in cell 9")[-31:]
    'every case after them scores 0.'
    """
    key = stage if status == "ok" else status
    if key == "type" and "got None" in message:
        key = "returned_none"
    elif status == "ok" and key in _NETWORK and _NETWORK[key] in message:
        key = f"network_{'accuracy' if key == 'values' else key}"
    if status == "not_run":
        crash = next_step("crashed", stage, message)
        # The crash's own advice when the reason names one; a time limit has no more to say.
        return NEXT_STEPS["not_run"] + ("" if crash == NEXT_STEPS["crashed"] else " " + crash)
    if status == "crashed":
        if "memory" in message:
            key = "crashed_memory"
        elif "exit(" in message:
            key = "crashed_exit"
    return NEXT_STEPS.get(key or "", NEXT_STEPS["values"])


def flag_sentence(flag: str) -> str:
    """A flag as a sentence for the student; unknown flags are spelled out."""
    return FLAG_WORDS.get(flag, f"Flagged for your TA: {flag.replace('_', ' ')}.")


def flag_label(flag: str) -> str:
    """A flag as a short label for the TA's summary."""
    return FLAG_LABELS.get(flag, flag.replace("_", " "))


def mistake_title(diagnosis: str) -> str:
    """The name of a recognised mistake in plain words.

    The engine names mistakes with identifiers such as ``"flipped_kernel"``;
    the student reads ``"flipped kernel"``.

    >>> mistake_title("flipped_kernel")
    'flipped kernel'
    >>> mistake_title("missing-plus-one")
    'missing plus one'
    """
    return " ".join(diagnosis.replace("-", "_").split("_")).strip()
