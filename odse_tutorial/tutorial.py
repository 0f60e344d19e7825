"""Run the tutorial: execute every notebook with papermill, writing into one output folder.

``python -m odse_tutorial.tutorial --output-dir outputs`` executes ``notebooks/*.ipynb``
in order. Each notebook gets its own folder ``outputs/<notebook name>/`` holding the
executed notebook, its maps and its ``metrics.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "find_notebooks",
    "run_notebook",
]

logger = logging.getLogger(__name__)

_NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"  # in a clone


def find_notebooks(folder: str | Path = _NOTEBOOKS) -> list[Path]:
    """The tutorial notebooks in ``folder`` (default: the clone's), in learning order.

    Examples
    --------
    >>> [p.name for p in find_notebooks()][:1]
    ['01_random_forest.ipynb']
    """
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


def run_notebook(
    notebook: str | Path,
    output_dir: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    cell_timeout: int = 600,
    progress: bool = False,
) -> Path:
    """Execute one notebook with papermill into ``output_dir/<notebook stem>/``.

    The notebook's ``output_dir`` parameter is set to that folder; other
    ``parameters`` override the notebook's defaults. A failing cell raises
    :class:`papermill.PapermillExecutionError`, naming the cell and its error.

    Returns
    -------
    Path
        The folder with the executed notebook and everything it wrote.
    """
    import papermill

    notebook = Path(notebook)
    folder = Path(output_dir) / notebook.stem
    folder.mkdir(parents=True, exist_ok=True)
    params = {"output_dir": str(folder.resolve()), **(parameters or {})}
    papermill.execute_notebook(
        str(notebook),
        str(folder / notebook.name),
        parameters=params,
        cwd=str(notebook.parent),
        kernel_name="python3",
        execution_timeout=cell_timeout,
        progress_bar=progress,
    )
    return folder


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default="outputs", help="where results go")
    parser.add_argument(
        "--dataset", default=None, help="'simulated' (default), 'netherlands' or a folder"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parameters = {"dataset": args.dataset} if args.dataset else None
    notebooks = find_notebooks()
    if not notebooks:
        logger.error("No notebooks in %s: run the tutorial from a clone.", _NOTEBOOKS)
        return 1
    seconds = {}
    for notebook in notebooks:
        start = time.perf_counter()
        logger.info("Executing %s", notebook.name)
        run_notebook(notebook, args.output_dir, parameters, progress=True)
        seconds[notebook.stem] = round(time.perf_counter() - start, 1)
    logger.info("Executed notebooks and their outputs are in %s/", args.output_dir)
    logger.info("Seconds per notebook: %s", json.dumps(seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
