"""IEEE arithmetic on Python floats for `minigrad.value.Value`: where Python raises
(``1 / 0``, ``math.log(0)``, an overflowing ``exp`` or power), these return what NumPy and
PyTorch return (``inf``, ``-inf``, ``nan``), so that ``Value(0).log()`` is ``-inf`` and
`minigrad.detect_anomaly()` can report it.
"""

from __future__ import annotations

import math

_INF = math.inf
_NAN = math.nan


def divide(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:  # IEEE: x/0 is +-inf, 0/0 is nan
        if a == 0 or a != a:
            return _NAN
        return math.copysign(_INF, a) * math.copysign(1.0, b)


def power(a: float, b: float) -> float:
    try:
        result = a**b
    except ZeroDivisionError:  # 0 ** negative: inf, -inf for -0.0 to an odd power (IEEE)
        odd_power = b == int(b) and int(b) % 2 == 1
        return -_INF if odd_power and math.copysign(1.0, a) < 0 else _INF
    except OverflowError:
        if a < 0 and b != int(b):  # a negative base to a fractional power: not real, even
            return _NAN            # where Python overflows first ((-1e300) ** 2.5)
        odd_power = a < 0 and int(b) % 2 == 1  # keeps the sign: (-10) ** 401 is -inf
        return -_INF if odd_power else _INF
    if isinstance(result, complex):  # negative base, fractional exponent
        return _NAN
    return result


def log(x: float) -> float:
    if x > 0:
        return math.log(x)
    return -_INF if x == 0 else _NAN


def exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _INF
