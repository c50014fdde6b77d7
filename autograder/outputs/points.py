"""The one rounding rule for every score a person reads or a platform imports.

Results JSON keeps the full float; ``grades.csv``, ``canvas.csv``, the
feedback, the summary and the terminal all show `points` of it: two decimals,
a half rounded away from zero, on the score as Python prints it (so 2.675
shows 2.68, not the 2.67 of its binary value), trailing zeros dropped.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

DECIMALS = 2
_QUANTUM = Decimal(1).scaleb(-DECIMALS)


def points(x: float) -> str:
    """A score as displayed and exported everywhere.

    >>> points(2.0), points(2.6666666), points(0.5), points(9.058823529411764), points(2.675)
    ('2', '2.67', '0.5', '9.06', '2.68')
    >>> points(-0.001), points(1e-12)
    ('0', '0')
    """
    if not math.isfinite(x):
        return str(x)
    text = f"{Decimal(repr(float(x))).quantize(_QUANTUM, rounding=ROUND_HALF_UP):f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text
