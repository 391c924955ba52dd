"""File and run names from trial ids and worker ids (pure Python: no Keras, no TensorBoard).

`TrialLogger` and `HParamsLogger` name files and directories after trial ids and
Keras Tuner worker ids; `keras_hpx.tensorboard.hparams` names its runs the same way.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["safe_name"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: Any) -> str:
    """A run or file name safe on every file system (e.g. a trial id as a run name).

    Every run of characters other than letters, digits, `.`, `_` and `-` becomes
    one `_`; leading and trailing dots and underscores are dropped.

    Args:
        name: Any value; its `str()` is used.

    Returns:
        The name, or `"run"` when nothing is left.
    """
    return _UNSAFE.sub("_", str(name)).strip("._") or "run"
