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

from odse_tutorial._atomic import atomic_output

__all__ = [
    "NOTEBOOKS_DIR",
    "find_notebooks",
    "run_notebook",
    "run_tutorial",
    "write_metrics",
]

logger = logging.getLogger(__name__)

#: The notebooks of the repository.
NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"


def find_notebooks(folder: str | Path = NOTEBOOKS_DIR) -> list[Path]:
    """The tutorial notebooks in ``folder``, in learning order (by file name)."""
    return sorted(p for p in Path(folder).glob("[0-9][0-9]_*.ipynb"))


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


def run_tutorial(
    output_dir: str | Path = "outputs",
    parameters: Mapping[str, Any] | None = None,
    notebooks: list[Path] | None = None,
) -> dict[str, float]:
    """Execute every tutorial notebook in order; return the seconds each took."""
    notebooks = find_notebooks() if notebooks is None else notebooks
    if not notebooks:
        logger.warning("No notebooks found in %s", NOTEBOOKS_DIR)
    seconds = {}
    for notebook in notebooks:
        start = time.perf_counter()
        logger.info("Executing %s", notebook.name)
        run_notebook(notebook, output_dir, parameters, progress=True)
        seconds[notebook.stem] = round(time.perf_counter() - start, 1)
        logger.info("  done in %.1f s", seconds[notebook.stem])
    return seconds


def write_metrics(
    output_dir: str | Path,
    *,
    notebook: str,
    dataset: str,
    cv: str,
    report: Any,
    maps: Any = None,
    **extra: Any,
) -> Path:
    """Write a notebook's headline results to ``output_dir/metrics.json`` (atomically).

    Parameters
    ----------
    output_dir : path-like
        The notebook's output folder; map paths are written relative to it.
    notebook, dataset, cv : str
        The notebook's name, the dataset's name and a description of the folds.
    report : AccuracyReport
        The cross-validated accuracy report (:func:`odse_tutorial.evaluation.accuracy_report`).
    maps : MapCatalogue, optional
        The maps returned by :func:`odse_tutorial.prediction.predict_maps`.
    **extra
        More JSON-serialisable entries (timings, true map accuracy...).

    Returns
    -------
    Path
        The written file.
    """

    output_dir = Path(output_dir)
    summary = report.summary
    paths = [] if maps is None else maps.paths()
    metrics = {
        "notebook": notebook,
        "dataset": dataset,
        "cv": cv,
        "n_samples": int(summary["n_samples"]),
        "n_classes": len(report.classes),
        "overall_accuracy": float(summary["overall_accuracy"]),
        "f1_weighted": float(summary["f1_weighted"]),
        "log_loss": float(summary["log_loss"]) if "log_loss" in summary else None,
        "maps": [p.resolve().relative_to(output_dir.resolve()).as_posix() for p in paths],
        **extra,
    }
    path = output_dir / "metrics.json"
    text = json.dumps(_plain(metrics), indent=2, allow_nan=False)
    with atomic_output(path) as tmp:
        tmp.write_text(text + "\n")
    return path


def _plain(value: Any) -> Any:
    """JSON-ready values: numpy scalars to Python, NaN to None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


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
    seconds = run_tutorial(args.output_dir, parameters)
    logger.info("Executed notebooks and their outputs are in %s/", args.output_dir)
    logger.info(json.dumps(seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
