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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from odse_tutorial.labels import drop_rare_classes
from odse_tutorial.overlay import overlay_samples

__all__ = [
    "TrainingData",
    "find_notebooks",
    "run_notebook",
    "training_data",
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


@dataclass(frozen=True)
class TrainingData:
    """What the notebooks train on, prepared as in notebook 1.

    Attributes
    ----------
    table : GeoDataFrame
        The overlaid samples that are kept (index = the samples' index).
    X : DataFrame
        The features, one column per layer, in the dataset's feature order.
    y : Series
        The class codes.
    weights : Series or None
        Sample weights (the samples' confidence), when the dataset has them.
    classes : ClassTable
        The classes kept, with names and colours.
    overlay_report : OverlayReport
        Samples dropped by the overlay, and why.
    class_counts : DataFrame
        Samples per class, and which classes were dropped as too rare.
    """

    table: Any
    X: pd.DataFrame
    y: pd.Series
    weights: pd.Series | None
    classes: Any
    overlay_report: Any
    class_counts: pd.DataFrame


def training_data(dataset: Any, *, min_class_samples: int = 10) -> TrainingData:
    """Overlay a dataset's samples and drop classes too rare to cross-validate.

    The steps of notebook 1 in one call: :func:`odse_tutorial.overlay.overlay_samples`,
    then :func:`odse_tutorial.labels.drop_rare_classes`.

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = training_data(load_dataset())
    >>> data.X.shape[1], len(data.classes)
    (26, 10)
    """

    columns = dataset.columns
    table, overlay_report = overlay_samples(dataset)
    keep, class_counts = drop_rare_classes(table[columns.class_code], min_count=min_class_samples)
    table = table[keep]
    return TrainingData(
        table=table,
        X=table[list(dataset.feature_names)],
        y=table[columns.class_code],
        weights=table[columns.weight] if columns.weight else None,
        classes=dataset.classes.subset(sorted(table[columns.class_code].unique())),
        overlay_report=overlay_report,
        class_counts=class_counts,
    )


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
