"""The warm-start queue: configurations a user enqueued, run before any proposed one."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

from keras_hpx.checks import invalid
from keras_hpx.space import Space

__all__ = ["WarmStartQueue"]


class WarmStartQueue:
    """A FIFO of hyperparameter dicts, validated when added and when taken.

    Args:
        items: Saved entries (a resume). Defaults to `None`.
    """

    def __init__(self, items: list[dict] | None = None):
        self.items: list[dict] = [dict(v) for v in items or []]

    def __len__(self) -> int:
        return len(self.items)

    def add(self, values: Any, space: Space, allow_new_entries: bool) -> None:
        """Validates `values` against the known `space` and appends them.

        Missing active hyperparameters take their defaults later. Names not in
        the space are allowed only with `allow_new_entries` (they may be
        declared while the model is built).

        Raises:
            TypeError: `values` is not a dict.
            ValueError: empty, an unknown name, or a value the space does not allow.
        """
        if not isinstance(values, Mapping):
            raise invalid("values", values, "a non-empty dict of hyperparameter values", TypeError)
        if not values:
            raise invalid("values", values, "a non-empty dict of hyperparameter values")
        if len(space):
            known = set(space.names)
            unknown = [k for k in values if k not in known]
            if unknown and not allow_new_entries:
                raise invalid(
                    "values",
                    dict(values),
                    f"names in the search space {sorted(known)} (unknown: {unknown})",
                )
            for p in space.params:
                if p.name in values and not p.is_valid(values[p.name]):
                    raise invalid(f"values[{p.name!r}]", values[p.name], p.describe())
        self.items.append(dict(values))

    def pop(self, space: Space, is_tried: Callable[[Mapping[str, Any]], bool]) -> dict | None:
        """The first entry that is valid in `space` and untried (active values), or `None`."""
        while self.items:
            values = space.active_values(self.items.pop(0))
            if not space.is_valid(values):
                warnings.warn(
                    f"Enqueued trial {values!r} is not valid in the search space; skipped.",
                    stacklevel=3,
                )
                continue
            if is_tried(values):
                continue
            return values
        return None
