"""BLAS threading for the small matrices of one optimisation step."""

from __future__ import annotations

import contextlib
from typing import Any

try:  # optional: a pure-Python helper that ships with scikit-learn
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

__all__ = ["single_threaded_blas"]


def single_threaded_blas() -> contextlib.AbstractContextManager[Any]:
    """A context with BLAS on one thread (a no-op without `threadpoolctl`).

    The matrices here are small, and threaded OpenBLAS on small triangular
    solves was 30x slower on a busy 2-core machine.
    """
    if threadpool_limits is None:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
