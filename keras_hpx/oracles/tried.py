"""The index of tried configurations: which active values have run or are running.

Pure Python over `keras_hpx.space.Space.key`: a configuration is keyed by its
*active* values only, so two trials that differ only in an inactive
conditional hyperparameter are the same configuration. The index is fed trial
by trial, in start order, and rebuilt from scratch when the space changes
(keys depend on which hyperparameters exist).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

__all__ = ["TriedIndex"]


class TriedIndex:
    """Counts configurations by key; a trial re-keyed (new hyperparameters) moves its count.

    Args:
        key: The function from values to a hashable key (`Space.key`).
    """

    def __init__(self, key: Callable[[Mapping[str, Any]], Hashable]):
        self._key = key
        self._by_trial: dict[str, Hashable] = {}
        self._counts: Counter = Counter()

    def __len__(self) -> int:
        return len(self._by_trial)

    def add(self, trial_id: str, values: Mapping[str, Any]) -> None:
        """Records (or re-records) trial `trial_id` with `values`."""
        key = self._key(values)
        old = self._by_trial.get(trial_id)
        if old is not None:
            self._counts[old] -= 1
        self._by_trial[trial_id] = key
        self._counts[key] += 1

    def extend(self, trials: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """`add` for each `(trial_id, values)`."""
        for trial_id, values in trials:
            self.add(trial_id, values)

    def __contains__(self, values: Mapping[str, Any]) -> bool:
        return self._counts[self._key(values)] > 0

    def keys(self) -> set:
        """The keys of every indexed configuration."""
        return {k for k, n in self._counts.items() if n > 0}
