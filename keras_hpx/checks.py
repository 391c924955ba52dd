"""Argument validation with one wording and one error policy (pure Python).

Every public constructor of keras-hpx validates its arguments here, before any
state exists. Messages follow Keras: they name the argument, say what is
allowed, and end with `Received: name=value`.

Policy: a value of the wrong *type* raises `TypeError`; a value of the right
type outside what is allowed (a range, a set of names) raises `ValueError`.
`bool` is never accepted where a number is expected.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any, Literal, overload

import numpy as np

__all__ = [
    "check_bool",
    "check_choice",
    "check_int",
    "check_number",
    "invalid",
    "is_number",
]


def invalid(name: str, value: Any, allowed: str, error: type[Exception] = ValueError) -> Exception:
    """The error for argument `name`: `Invalid name: expected <allowed>. Received: name=value`.

    Args:
        name: The argument's name (e.g. `"max_trials"` or `"float_points['lr']"`).
        value: The value received.
        allowed: What is allowed, as a phrase (`"an integer >= 1 or None"`).
        error: The exception class. Defaults to `ValueError`.

    Returns:
        The exception, for the caller to raise.
    """
    return error(f"Invalid argument `{name}`: expected {allowed}. Received: {name}={value!r}")


def is_number(value: Any) -> bool:
    """Whether `value` is a real number (int, float or numpy scalar), not a bool."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(
        value, (int, float, np.integer, np.floating)
    )


@overload
def check_int(
    name: str, value: Any, minimum: int | None = ..., *, allow_none: Literal[False] = ...
) -> int: ...
@overload
def check_int(
    name: str, value: Any, minimum: int | None = ..., *, allow_none: bool
) -> int | None: ...
def check_int(
    name: str, value: Any, minimum: int | None = None, *, allow_none: bool = False
) -> int | None:
    """Checks an integer argument; returns it as a Python int (or `None`).

    Raises:
        TypeError: not an integer (floats and bools are refused).
        ValueError: below `minimum`.
    """
    if value is None and allow_none:
        return None
    allowed = "an integer" + ("" if minimum is None else f" >= {minimum}")
    allowed += " or None" if allow_none else ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise invalid(name, value, allowed, TypeError)
    if minimum is not None and value < minimum:
        raise invalid(name, value, allowed)
    return int(value)


@overload
def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = ...,
    positive: bool = ...,
    allow_none: Literal[False] = ...,
    what: str = ...,
) -> float: ...
@overload
def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = ...,
    positive: bool = ...,
    allow_none: bool,
    what: str = ...,
) -> float | None: ...
def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    positive: bool = False,
    allow_none: bool = False,
    what: str = "number",
) -> float | None:
    """Checks a finite real argument; returns it as a float (or `None`).

    Args:
        name: The argument's name.
        value: The value received.
        minimum: Smallest allowed value (inclusive). Defaults to `None`.
        positive: Require `value > 0`. Defaults to `False`.
        allow_none: Accept `None`. Defaults to `False`.
        what: The noun in the message (`"number of seconds"`). Defaults to `"number"`.

    Raises:
        TypeError: not a real number.
        ValueError: not finite, not positive, or below `minimum`.
    """
    if value is None and allow_none:
        return None
    if positive:
        allowed = f"a positive {what}"
    elif minimum is not None:
        allowed = f"a finite {what} >= {minimum:g}"
    else:
        allowed = f"a finite {what}"
    allowed += " or None" if allow_none else ""
    if not is_number(value):
        raise invalid(name, value, allowed, TypeError)
    v = float(value)
    if not math.isfinite(v) or (positive and v <= 0) or (minimum is not None and v < minimum):
        raise invalid(name, value, allowed)
    return v


def check_bool(name: str, value: Any) -> bool:
    """Checks a boolean argument.

    Raises:
        TypeError: not `True` or `False`.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise invalid(name, value, "True or False", TypeError)
    return bool(value)


def check_choice(name: str, value: Any, choices: Collection[str], *, extra: str = "") -> str:
    """Checks a name among `choices` (case-sensitive); returns it.

    Args:
        name: The argument's name.
        value: The value received.
        choices: The allowed names.
        extra: What else is allowed, appended to the message (`"or a Kernel"`).
            Defaults to `""`.

    Raises:
        TypeError: not a string.
        ValueError: not one of `choices`.
    """
    allowed = f"one of {sorted(choices)}" + (f" {extra}" if extra else "")
    if not isinstance(value, str):
        raise invalid(name, value, allowed, TypeError)
    if value not in choices:
        raise invalid(name, value, allowed)
    return value
