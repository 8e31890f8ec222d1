"""Parameter constraints declared as data, and the one validator that reads them.

An estimator lists, per constructor parameter, the constraints one of which the value must meet
(``parameter_constraints``, a class attribute); :func:`validate_params` checks every parameter
against its list and raises a ``ValueError`` naming the parameter, the accepted values and the
value given. Nothing here draws random numbers or changes the estimator: validating never moves a
result. Constraints: an :class:`Interval` of ints or reals, a set of :class:`Options` (with hints
for values that are known but not offered), a :class:`SubsetOf` options (a non-empty sequence of
them, or one of them as a string), a type (``isinstance``), ``None`` (the value ``None``), or a
:class:`Check` (a predicate with its description).

>>> constraints = {"alpha": [Interval("real", 0, 1, closed="neither")], "kind": [Options("a", "b"), None]}
>>> validate_params(constraints, {"alpha": 0.5, "kind": None}, "Demo")
>>> validate_params(constraints, {"alpha": 1.5, "kind": "a"}, "Demo")
Traceback (most recent call last):
...
ValueError: Demo: parameter 'alpha' must be a real number in (0, 1), got 1.5.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any, Callable, Literal

__all__ = ["Check", "Interval", "Options", "SubsetOf", "describe", "validate_params"]


@dataclasses.dataclass(frozen=True)
class Interval:
    """Ints (``kind="int"``; bools are not ints here) or finite real numbers (``"real"``, ints
    included; NaN and infinities never) between ``low`` and ``high`` (``None``: unbounded); ``closed``
    says which ends are in."""

    kind: Literal["int", "real"]
    low: float | None = None
    high: float | None = None
    closed: Literal["both", "left", "right", "neither"] = "both"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if not isinstance(value, numbers.Integral if self.kind == "int" else numbers.Real):
            return False
        if not math.isfinite(float(value)):
            return False
        if self.low is not None and (value < self.low or value == self.low and self.closed in ("right", "neither")):
            return False
        return not (self.high is not None
                    and (value > self.high or value == self.high and self.closed in ("left", "neither")))

    def __str__(self) -> str:
        noun = "an int" if self.kind == "int" else "a real number"
        if self.low is None and self.high is None:
            return noun
        if self.high is None:
            return f"{noun} {'>=' if self.closed in ('both', 'left') else '>'} {self.low}"
        if self.low is None:
            return f"{noun} {'<=' if self.closed in ('both', 'right') else '<'} {self.high}"
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        return f"{noun} in {left}{self.low}, {self.high}{right}"


@dataclasses.dataclass(frozen=True, init=False)
class Options:
    """One of the given values; ``hints`` maps known-but-refused values to why they are refused."""

    values: tuple
    hints: tuple = ()

    def __init__(self, *values: Any, hints: dict[Any, str] | None = None):
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "hints", tuple((hints or {}).items()))

    def accepts(self, value: Any) -> bool:
        try:  # True == 1, but a bool is not an int option (nor an int a bool one)
            return any(bool(value == v) and isinstance(value, bool) == isinstance(v, bool) for v in self.values)
        except (TypeError, ValueError):  # an array-like value compares elementwise: not an option
            return False

    def hint(self, value: Any) -> str:
        return next((f" ({value!r} {why})" for known, why in self.hints if known == value), "")

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclasses.dataclass(frozen=True, init=False)
class SubsetOf:
    """A non-empty list or tuple of distinct ``values``, or one of them as a string."""

    values: tuple

    def __init__(self, *values: Any):
        object.__setattr__(self, "values", values)

    def accepts(self, value: Any) -> bool:
        items = (value,) if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not items:
            return False
        return all(isinstance(v, str) and v in self.values for v in items) and len(set(items)) == len(items)

    def __str__(self) -> str:
        return "a non-empty subset of (" + ", ".join(repr(v) for v in self.values) + ")"


@dataclasses.dataclass(frozen=True)
class Check:
    """A value for which ``predicate(value)`` is true, described by ``description``."""

    predicate: Callable[[Any], bool]
    description: str

    def accepts(self, value: Any) -> bool:
        try:
            return bool(self.predicate(value))
        except Exception:  # noqa: BLE001 - a predicate that cannot judge the value refuses it
            return False

    def __str__(self) -> str:
        return self.description


def _accepts(constraint: Any, value: Any) -> bool:
    if constraint is None:
        return value is None
    if isinstance(constraint, type):
        return isinstance(value, constraint)
    return constraint.accepts(value)


def describe(constraints: list) -> str:
    """The accepted values of one parameter, in words.

    >>> describe([Interval("int", 1), None])
    'an int >= 1 or None'
    """
    words = ["None" if c is None else f"a {c.__name__}" if isinstance(c, type) else str(c) for c in constraints]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def validate_params(constraints: dict[str, list], params: dict[str, Any], owner: str) -> None:
    """Raise a ``ValueError`` naming the first parameter of ``params`` that meets none of its
    ``constraints`` (parameters without constraints are not checked)."""
    for name, value in params.items():
        allowed = constraints.get(name)
        if allowed is None or any(_accepts(c, value) for c in allowed):
            continue
        hint = "".join(c.hint(value) for c in allowed if isinstance(c, Options))
        raise ValueError(f"{owner}: parameter {name!r} must be {describe(allowed)}, got {value!r}{hint}.")
