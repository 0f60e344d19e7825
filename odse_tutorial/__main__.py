"""Command line: ``odse-tutorial check <folder>`` (or ``python -m odse_tutorial check <folder>``).

Checks a dataset folder before any notebook runs and lists every problem at once, each
with the file or ``dataset.json`` line to fix, and what the notebooks will skip.
"""

from __future__ import annotations

import argparse
import sys

from odse_tutorial.datasets import check_dataset


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="odse-tutorial", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check a dataset folder before the notebooks")
    check.add_argument("folder", help="the dataset folder (tiles/<tile>/<year>/*.tif + samples)")
    report = check_dataset(parser.parse_args(argv).folder)
    sys.stdout.write(f"{report}\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(_main())
