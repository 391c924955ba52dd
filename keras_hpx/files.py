"""Files written atomically and JSON read back with errors that name the file (pure Python).

Every state file keras-hpx writes goes through `atomic_write_text` (a
temporary file, flushed, then `os.replace`): a process killed mid-write leaves
the old file or the new one, never half of one. Everything is JSON, never
pickle.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import numpy as np

__all__ = ["DamagedFileError", "atomic_write_json", "atomic_write_text", "read_json", "to_json"]


class DamagedFileError(ValueError):
    """A file keras-hpx reads is missing, truncated or not what it should be.

    Attributes:
        path: The file.
    """

    def __init__(self, path: str, problem: str, hint: str = ""):
        self.path = str(path)
        message = f"{self.path}: {problem}"
        super().__init__(message + (f" {hint}" if hint else ""))


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Writes `text` to `path` through a temporary file and `os.replace`.

    Args:
        path: Destination file; its directory must exist.
        text: The content.

    Raises:
        OSError: the write failed (the previous file, if any, is untouched).
    """
    path = os.fspath(path)
    tmp = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def _default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def to_json(obj: Any) -> str:
    """`json.dumps` that also takes numpy scalars, sets and tuples."""
    return json.dumps(obj, default=_default)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """`to_json(obj)` written with `atomic_write_text`."""
    atomic_write_text(path, to_json(obj))


def read_json(path: str | os.PathLike, hint: str = "") -> Any:
    """Reads a JSON file; a damaged one raises `DamagedFileError` naming it.

    Args:
        path: The file.
        hint: How to recover, appended to the message. Defaults to `""`.

    Raises:
        FileNotFoundError: there is no such file.
        DamagedFileError: it is not valid UTF-8 JSON (truncated, overwritten).
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise DamagedFileError(path, f"is not UTF-8 text ({e.reason}).", hint) from e
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        size = len(text)
        problem = (
            "is empty."
            if not text.strip()
            else f"is not valid JSON ({e.msg} at char {e.pos} of {size})."
        )
        raise DamagedFileError(path, problem, hint) from e
