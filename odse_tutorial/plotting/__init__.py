"""Figures of the tutorial: maps with class legends, accuracy, calibration and errors.

Plots only draw: every number they show comes from :mod:`odse_tutorial.evaluation`.
Every function draws on ``ax`` (a new figure when ``ax`` is ``None``) and returns the
Axes, or the Figure for figures with several panels. Conventions shared by all maps:

- map axes show easting and northing in km, in the raster's CRS (EPSG:3035 for the
  bundled data);
- nodata pixels are transparent over a light grey hatch, never drawn in a class colour;
- categorical maps take names and colours from a :class:`~odse_tutorial.classes.ClassTable`
  (or from the legend a class map carries, :meth:`ClassTable.from_tags`); their legends
  list the classes *present in what is shown*, as ``"code name"``, plus "no data" when
  there are nodata pixels;
- probabilities run from 0 to 100 %; uncertainties from 0 to a top fitted to their values
  (or given, to compare maps); both with a labelled colour bar;
- rasters larger than ``_base.MAX_DISPLAY_SIZE`` (1024) pixels on their long side are
  read as a decimated overview, so a figure never needs much memory.

Call :func:`use_style` once at the top of a notebook for the tutorial's look.

Submodules (every name below is also available here, as ``plotting.<name>``):

- :mod:`~odse_tutorial.plotting.maps`: class maps, probability and uncertainty maps,
  false-colour composites, error and difference maps, and :func:`plot_maps` (several
  products and years of a catalogue, including the area of applicability);
- :mod:`~odse_tutorial.plotting.points`: sample points and cross-validation folds;
- :mod:`~odse_tutorial.plotting.charts`: confusion matrix, accuracy per class,
  reliability diagram, errors by uncertainty, feature importance, precision-recall
  curves, nearest-neighbour distances;
- ``_base`` (private): axes, legends, rasters read for display, class layers.
"""

from __future__ import annotations

from importlib import resources

import matplotlib.pyplot as plt

from odse_tutorial.plotting.charts import (
    plot_confusion_matrix,
    plot_feature_importance,
    plot_nn_distances,
    plot_per_class_accuracy,
    plot_precision_recall,
    plot_reliability_diagram,
    plot_uncertainty_vs_error,
)
from odse_tutorial.plotting.maps import (
    plot_composite,
    plot_error_map,
    plot_maps,
)
from odse_tutorial.plotting.points import plot_cv_folds, plot_samples

__all__ = [
    "plot_composite",
    "plot_confusion_matrix",
    "plot_cv_folds",
    "plot_error_map",
    "plot_feature_importance",
    "plot_maps",
    "plot_nn_distances",
    "plot_per_class_accuracy",
    "plot_precision_recall",
    "plot_reliability_diagram",
    "plot_samples",
    "plot_uncertainty_vs_error",
    "use_style",
]


def use_style() -> None:
    """Apply the tutorial's matplotlib style (``odse_tutorial/odse.mplstyle``).

    Clean axes, readable fonts, a colour-blind friendly colour cycle (Okabe-Ito),
    nearest-neighbour image interpolation and 100 dpi figures, so that executed
    notebooks stay small.

    Examples
    --------
    >>> use_style()
    >>> import matplotlib as mpl
    >>> mpl.rcParams["figure.dpi"]
    100.0
    """
    with resources.as_file(resources.files("odse_tutorial") / "odse.mplstyle") as path:
        plt.style.use(path)
