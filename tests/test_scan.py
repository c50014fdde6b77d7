"""Step 4: the static scan resolves aliases and reports cell, line and function."""

from __future__ import annotations

import pytest

from autograder.intake.extract import SourceCell
from autograder.intake.scan import assignment_number, scan_cells


def scan(*sources, assignment="01_conv1d"):
    found = scan_cells([SourceCell(i, s) for i, s in enumerate(sources)], assignment)
    return [(f.cell, f.line, f.name, f.function) for f in found]


def test_aliased_torch_imports_are_resolved_across_cells():
    found = scan(
        "import numpy as np\nimport torch.nn.functional as F",
        "def conv1d(x, w):\n    y = np.zeros(3)\n    return F.conv1d(x, w)",
    )
    assert found == [(1, 3, "torch.nn.functional.conv1d", "conv1d")]


def test_from_imports_reassignment_and_getattr():
    found = scan(
        "from torch.nn import functional as G\nfrom numpy import convolve as cv\nH = G\n"
        "def corr1d(x, h):\n    a = cv(x, h)\n    b = getattr(H, 'conv2d')\n"
        "    return H.avg_pool1d(x)",
    )
    assert found == [
        (0, 2, "numpy.convolve", None),  # the import, and each use
        (0, 5, "numpy.convolve", "corr1d"),
        (0, 6, "torch.nn.functional.conv2d", "corr1d"),
        (0, 7, "torch.nn.functional.avg_pool1d", "corr1d"),
    ]


def test_modules_and_layers_and_tensor_unfold():
    found = scan(
        "import scipy.signal\nfrom scipy import ndimage\nimport torch\nfrom torch import nn\n"
        "layer = nn.Conv2d(1, 1, 3)\nw = torch.tensor([1.0]).unfold(0, 1, 1)\ny = torch.conv1d\n"
        "import ctypes, subprocess\nimport os\nos.system('ls')\nimport conv_ref.basics as ref\n"
        "__import__('torch')",
    )
    assert [name for _, _, name, _ in found] == [
        "scipy.signal", "scipy.ndimage", "torch.nn.Conv2d", "<expression>.unfold",
        "torch.conv1d", "ctypes", "subprocess", "os.system", "conv_ref.basics", "__import__",
    ]
    assert [line for _, line, _, _ in found] == [1, 2, 5, 6, 7, 8, 8, 10, 11, 12]


def test_library_internals_that_reach_a_convolution_are_flagged():
    # The same kernels as torch.conv1d and np.correlate, under names the tripwires cannot replace.
    found = scan(
        "import torch\nimport numpy as np\n"
        "a = torch._C._VariableFunctions.conv1d\nb = torch.ops.aten.conv2d\n"
        "c = np._core.multiarray.correlate2\nfrom numpy.core.multiarray import correlate\n"
        "d = np._core.multiarray.einsum\n",
    )
    assert [(line, name) for _, line, name, _ in found] == [
        (3, "torch._C._VariableFunctions.conv1d"), (4, "torch.ops.aten.conv2d"),
        (5, "numpy._core.multiarray.correlate2"), (6, "numpy.core.multiarray.correlate"),
    ]


def test_stride_tricks_is_forbidden_before_04_only():
    src = "import numpy as np\nv = np.lib.stride_tricks.sliding_window_view(np.arange(5), 3)"
    assert scan(src, assignment="02_conv2d") == [
        (0, 2, "numpy.lib.stride_tricks.sliding_window_view", None)
    ]
    assert scan(src, assignment="04_toeplitz") == []
    assert scan("from numpy.lib.stride_tricks import as_strided", assignment="01_conv1d") == [
        (0, 1, "numpy.lib.stride_tricks", None)
    ]


def test_patching_numpy_is_a_patch_finding():
    cells = [SourceCell(3, "import numpy as np\nnp.allclose = lambda *a, **k: True")]
    (finding,) = scan_cells(cells, "01_conv1d")
    assert (finding.kind, finding.name, finding.line) == ("patch", "numpy.allclose", 2)
    assert finding.describe() == (
        "cell 4, line 2: assigns to `numpy.allclose` (do not replace library functions)"
    )


def test_honest_code_and_own_functions_are_not_flagged():
    assert scan(
        "import numpy as np\nfrom autograder import check\n"
        "from torch.nn.functional import conv1d\n"
        "def conv1d(x, w):\n    return np.einsum('ck,ck->', x, w)\n",
        "y = conv1d(np.ones((1, 3)), np.ones((1, 3)))\ncheck('conv1d', conv1d)\n"
        "def broken(:\n",
    ) == [(0, 3, "torch.nn.functional.conv1d", None)]  # the import only, not the student's own


def test_assignment_number_needs_a_number():
    assert assignment_number("04_toeplitz") == 4
    with pytest.raises(ValueError, match=r"assignment_number: assignment 'toeplitz' does not"):
        assignment_number("toeplitz")


def test_a_direct_call_by_name_is_a_proof_and_the_rest_are_suspicions():
    found = scan_cells([SourceCell(0, (
        "import numpy as np\nimport scipy.signal\nimport torch.nn.functional as F\n"
        "from numpy import convolve as cv\nimport conv_ref\n"
        "def corr1d(x, h):\n"
        "    def inner(v):\n"
        "        return cv(v, h)\n"                                  # line 8: proof, via alias
        "    a = np.convolve(x, h)\n"                                # 9: proof
        "    b = scipy.signal.correlate2d(x, h)\n"                   # 10: proof
        "    c = F.conv1d(x, h)\n"                                   # 11: proof
        "    d = conv_ref.corr1d(x, h)\n"                            # 12: proof
        "    e = getattr(np, 'con' + 'volve')\n"                     # 13: not even found
        "    f = getattr(F, 'conv2d')\n"                             # 14: suspicion
        "    g = __import__('scipy')\n"                              # 15: suspicion
        "    np.allclose = lambda *a: True\n"                        # 16: suspicion (patch)
        "    k = np.correlate\n"                                     # 17: a reference, no call
        "    return inner(x)\n"))], "01_conv1d")
    proofs = {(f.line, f.name, f.scope) for f in found if f.proof}
    assert proofs == {(8, "numpy.convolve", "corr1d"), (9, "numpy.convolve", "corr1d"),
                      (10, "scipy.signal.correlate2d", "corr1d"),
                      (11, "torch.nn.functional.conv1d", "corr1d"),
                      (12, "conv_ref.corr1d", "corr1d")}
    suspicions = {(f.line, f.name) for f in found if not f.proof}
    assert {(14, "torch.nn.functional.conv2d"), (15, "__import__"), (16, "numpy.allclose"),
            (17, "numpy.correlate")} <= suspicions
    assert not any(f.line == 13 for f in found)


def test_sliding_window_view_is_a_proof_before_04_only():
    source = ("from numpy.lib.stride_tricks import sliding_window_view as swv\n"
              "def corr1d(x, h):\n    return swv(x, len(h)) @ h\n")
    early = [f for f in scan_cells([SourceCell(0, source)], "01_conv1d") if f.proof]
    assert [(f.line, f.scope) for f in early] == [(3, "corr1d")]
    assert not scan_cells([SourceCell(0, source)], "04_toeplitz")
@pytest.mark.parametrize("terms", [600, 2000])
def test_deep_expressions_are_scanned_not_a_crash(terms):
    import sys

    limit = sys.getrecursionlimit()
    source = "import torch\ny = " + " + ".join(["torch.conv1d(x)"] * terms)
    (finding,) = scan_cells([SourceCell(0, source)], "01_conv1d")
    assert (finding.name, finding.line) == ("torch.conv1d", 2)
    assert sys.getrecursionlimit() == limit  # restored


def test_code_python_cannot_parse_is_skipped():
    cells = [SourceCell(0, "v = " + " + ".join(["1"] * 5000)), SourceCell(1, "a\x00b"),
             SourceCell(2, "import scipy.signal")]
    assert [f.name for f in scan_cells(cells, "01_conv1d")] == ["scipy.signal"]
