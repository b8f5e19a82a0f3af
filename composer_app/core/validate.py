"""Argument checks shared by the core's value types, with mido-style exact messages."""

from __future__ import annotations


def check_int(name: str, value: object, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` if it is an int within ``low..high`` (inclusive), else raise.

    ``bool`` is rejected although it subclasses ``int``: ``Note(pitch=True)`` is a bug.
    Raises ``TypeError('NAME must be an int')`` or ``ValueError('NAME must be in range LOW..HIGH')``
    (or ``'NAME must be >= LOW'`` when there is no upper bound).
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int")
    if high is None:
        if low is not None and value < low:
            raise ValueError(f"{name} must be >= {low}")
    elif (low is not None and value < low) or value > high:
        raise ValueError(f"{name} must be in range {low}..{high}")
    return value


def check_real(name: str, value: object, low: float, high: float) -> float:
    """Return ``value`` as a float if it is a real number within ``low..high``, else raise (mido style).

    Compared before ``float()``: an int of 400 digits (a project file may hold one) has no float and
    is refused as out of range, not as an ``OverflowError``; NaN fails the comparison too.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in range {low:g}..{high:g}")
    return float(value)
