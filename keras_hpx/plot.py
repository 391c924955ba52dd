"""`keras-hpx plot PROJECT_DIR --pareto out.png`: a picture of a search's trade-offs.

Every completed trial as a point, objective against objective, the Pareto front
highlighted (and joined, with two objectives). The objectives come from the
project's `oracle.json` (a keras-hpx oracle saves them) or from `--objectives
name:max,name:min` (any Keras Tuner project). Needs matplotlib:
`pip install "keras-hpx[plot]"`.
"""

from __future__ import annotations

import argparse
import glob
import os
from typing import Any

import numpy as np

from keras_hpx import pareto
from keras_hpx.checks import invalid
from keras_hpx.export import find_project
from keras_hpx.files import read_json

__all__ = ["add_plot_parser", "pareto_points", "plot_pareto"]


def _parse_objectives(text: str) -> list[tuple[str, str]]:
    out = []
    for part in text.split(","):
        name, _, direction = part.strip().rpartition(":")
        if not name or direction not in ("min", "max"):
            raise invalid(
                "objectives",
                text,
                "comma-separated name:min or name:max, e.g. val_accuracy:max,params:min",
            )
        out.append((name, direction))
    return out


def _value_at(metrics: dict, name: str, step: Any) -> float | None:
    entry = metrics.get(name)
    if not entry:
        return None
    observations = entry.get("observations", [])
    at = [o for o in observations if step is None or o.get("step") == step] or observations
    if not at:
        return None
    value = float(np.mean(at[-1]["value"]))
    return value if np.isfinite(value) else None


def pareto_points(
    project_dir: str | os.PathLike, objectives: list[tuple[str, str]] | None = None
) -> tuple[list[tuple[str, str]], list[str], np.ndarray, np.ndarray]:
    """The completed trials of a project as points, and which are on the front.

    Args:
        project_dir: The tuner's `directory/project_name`.
        objectives: `[(name, "min" | "max"), ...]`; `None` reads them from `oracle.json`.

    Returns:
        `(objectives, trial_ids, values (n, m), on_front (n,))`.

    Raises:
        ValueError: no objectives known, fewer than two, or no completed trial with all.
    """
    project = find_project(project_dir)
    if objectives is None:
        state = read_json(os.path.join(project, "oracle.json"))
        saved = state.get("hpx", {}).get("objectives", [])
        objectives = [(o["name"], o["direction"]) for o in saved]
    if len(objectives) < 2:
        raise invalid(
            "objectives",
            objectives,
            "two or more objectives (this project saved fewer; pass them as "
            "--objectives name:max,name:min)",
        )
    ids, rows = [], []
    for path in sorted(glob.glob(os.path.join(project, "trial_*", "trial.json"))):
        trial = read_json(path)
        if trial.get("status") != "COMPLETED":
            continue
        metrics = trial.get("metrics", {}).get("metrics", {})
        row = [_value_at(metrics, name, trial.get("best_step")) for name, _ in objectives]
        if all(v is not None for v in row):
            ids.append(str(trial["trial_id"]))
            rows.append(row)
    if not rows:
        raise ValueError(f"{project}: no completed trial reports all of {objectives}.")
    values = np.array(rows, dtype=float)
    front = pareto.non_dominated(pareto.to_minimise(values, [d for _, d in objectives]))
    return objectives, ids, values, front


def plot_pareto(
    project_dir: str | os.PathLike,
    out: str | os.PathLike,
    objectives: list[tuple[str, str]] | None = None,
) -> str:
    """Writes a PNG of the trials and their Pareto front; returns its path.

    Args:
        project_dir: The tuner's `directory/project_name`.
        out: The PNG to write.
        objectives: `[(name, direction), ...]`; `None` reads them from `oracle.json`.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError('keras-hpx plot needs matplotlib: pip install "keras-hpx[plot]"') from e
    objectives, ids, values, front = pareto_points(project_dir, objectives)
    m = len(objectives)
    pairs = [(i, j) for i in range(m) for j in range(i + 1, m)]
    fig, axes = plt.subplots(1, len(pairs), figsize=(5.2 * len(pairs), 4.4), squeeze=False)
    for ax, (i, j) in zip(axes[0], pairs):
        ax.scatter(values[~front, i], values[~front, j], s=22, c="#9aa0a6", label="trials")
        ax.scatter(values[front, i], values[front, j], s=40, c="#d93025", label="Pareto front")
        if m == 2:
            order = np.argsort(values[front, i])
            ax.step(
                values[front, i][order], values[front, j][order], where="post", c="#d93025", lw=1
            )
        for k in np.flatnonzero(front):
            ax.annotate(
                ids[k],
                (values[k, i], values[k, j]),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
        ax.set_xlabel(
            f"{objectives[i][0]} ({'higher' if objectives[i][1] == 'max' else 'lower'} is better)"
        )
        ax.set_ylabel(
            f"{objectives[j][0]} ({'higher' if objectives[j][1] == 'max' else 'lower'} is better)"
        )
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    fig.suptitle(
        f"{os.path.basename(os.path.normpath(str(project_dir)))}: {int(front.sum())} of {len(ids)} trials on the front"
    )
    fig.tight_layout()
    out = os.fspath(out)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def add_plot_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("plot", help="a PNG of a search's Pareto front")
    p.add_argument("project_dir", help="the tuner's directory/project_name")
    p.add_argument("--pareto", required=True, metavar="OUT.png", help="PNG to write")
    p.add_argument(
        "--objectives",
        default=None,
        help="name:min|max,... (default: the objectives the keras-hpx oracle saved)",
    )
    p.set_defaults(func=run_plot)
    return p


def run_plot(args: argparse.Namespace) -> int:
    objectives = _parse_objectives(args.objectives) if args.objectives else None
    path = plot_pareto(args.project_dir, args.pareto, objectives)
    print(f"wrote {path}")
    return 0
