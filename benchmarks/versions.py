"""The installed versions of the packages whose arithmetic decides a benchmark's results.

A Bayesian search's proposals follow floating-point results, so a newer numpy or scipy
can change which configurations it tries; benchmark scripts record these beside their
results.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

PACKAGES = ("numpy", "scipy", "keras", "keras-tuner", "optuna", "torch")


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """`{name: version}` of `packages`, `"not installed"` for a missing one."""
    found = {}
    for name in packages:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found
