"""`keras-hpx` console command (also `python -m keras_hpx`)."""

from __future__ import annotations

import argparse
import sys

from keras_hpx.demo import add_demo_parser
from keras_hpx.export import add_export_parser
from keras_hpx.plot import add_plot_parser

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keras-hpx", description="Oracles and callbacks for Keras Tuner."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    add_demo_parser(sub)
    add_export_parser(sub)
    add_plot_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "max_trials", 1) is not None and getattr(args, "max_trials", 1) < 1:
        print(f"keras-hpx: --max-trials must be at least 1, got {args.max_trials}", file=sys.stderr)
        return 2
    code = args.func(args)
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
