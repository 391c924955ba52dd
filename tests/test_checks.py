"""`keras_hpx.checks`: one wording ("... Received: name=value"), TypeError for a wrong type,
ValueError for a wrong value, never a bool for a number."""

from __future__ import annotations

import numpy as np
import pytest

from keras_hpx.checks import check_bool, check_choice, check_int, check_number, invalid


def test_invalid_wording():
    err = invalid("max_trials", -5, "an integer >= 1")
    assert isinstance(err, ValueError)
    assert (
        str(err)
        == "Invalid argument `max_trials`: expected an integer >= 1. Received: max_trials=-5"
    )
    assert isinstance(invalid("x", "a", "a number", TypeError), TypeError)


def test_check_int():
    assert check_int("n", np.int64(3), 1) == 3 and type(check_int("n", np.int64(3))) is int
    assert check_int("n", None, 1, allow_none=True) is None
    with pytest.raises(TypeError, match=r"expected an integer >= 1\. Received: n=True$"):
        check_int("n", True, 1)
    with pytest.raises(TypeError, match=r"Received: n=2\.0$"):
        check_int("n", 2.0)
    with pytest.raises(ValueError, match=r"expected an integer >= 1 or None\. Received: n=0$"):
        check_int("n", 0, 1, allow_none=True)
    with pytest.raises(TypeError, match="Received: n=None"):
        check_int("n", None, 1)


def test_check_number():
    assert check_number("t", 2) == 2.0
    assert check_number("t", None, allow_none=True) is None
    with pytest.raises(ValueError, match=r"expected a positive number of seconds\. Received: t=0$"):
        check_number("t", 0, positive=True, what="number of seconds")
    with pytest.raises(ValueError, match=r"a finite number\. Received: t=inf$"):
        check_number("t", float("inf"))
    with pytest.raises(ValueError, match=r"a finite number >= 0\.5\. Received: t=0\.1$"):
        check_number("t", 0.1, minimum=0.5)
    with pytest.raises(TypeError, match=r"Received: t=False$"):
        check_number("t", False)
    with pytest.raises(TypeError, match=r"Received: t='1'$"):
        check_number("t", "1")


def test_check_bool_and_choice():
    assert check_bool("b", np.bool_(True)) is True
    with pytest.raises(TypeError, match=r"expected True or False\. Received: b=1$"):
        check_bool("b", 1)
    assert check_choice("mode", "min", ("min", "max")) == "min"
    with pytest.raises(ValueError, match=r"one of \['max', 'min'\]\. Received: mode='up'$"):
        check_choice("mode", "up", ("min", "max"))
    with pytest.raises(TypeError, match=r"one of \['a'\] or a Kernel\. Received: k=3$"):
        check_choice("k", 3, ("a",), extra="or a Kernel")
