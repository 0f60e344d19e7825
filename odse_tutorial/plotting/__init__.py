"""Figures of the tutorial: maps with class legends, accuracy, calibration and change.

Every function draws on ``ax`` (a new figure when ``ax`` is ``None``) and returns the
Axes, or the Figure for figures with several panels. Conventions shared by all maps:

- map axes show easting and northing in km, in the raster's CRS (EPSG:3035 for the
  bundled data);
- nodata pixels are transparent over a light grey hatch, never drawn in a class colour;
- categorical maps take names and colours from a :class:`~odse_tutorial.classes.ClassTable`
  (or from the legend a class map carries in its ``classes`` tag); their legends list
  the classes *present in what is shown*, as ``"code name"``, plus "no data" when there
  are nodata pixels;
- probabilities and uncertainties run from 0 to 100 % with a labelled colour bar;
- rasters larger than :data:`MAX_DISPLAY_SIZE` pixels on their long side are read as a
  decimated overview, so a figure never needs much memory. Tables (:func:`change_matrix`,
  :func:`error_rate_by_uncertainty`) read full-resolution strips instead.

Call :func:`use_style` once at the top of a notebook for the tutorial's look.

Submodules (every name below is also available here, as ``plotting.<name>``):

- :mod:`~odse_tutorial.plotting.style`: :func:`use_style`;
- :mod:`~odse_tutorial.plotting.maps`: class maps, probability and uncertainty maps,
  false-colour composites;
- :mod:`~odse_tutorial.plotting.samples`: sample points and cross-validation folds;
- :mod:`~odse_tutorial.plotting.accuracy`: confusion matrix, accuracy per class;
- :mod:`~odse_tutorial.plotting.calibration`: reliability table and diagram, expected
  calibration error;
- :mod:`~odse_tutorial.plotting.models`: feature importance, model comparison;
- :mod:`~odse_tutorial.plotting.change`: change matrix and change map;
- :mod:`~odse_tutorial.plotting.errors`: error map, error rate by uncertainty;
- private helpers: ``_figures`` (axes, legends, palette), ``_rasters`` (reading rasters
  for display, frames in km, nodata hatch) and ``_classes`` (class codes, tables and
  colours of class maps).
"""

from __future__ import annotations

# The colours (NODATA_HATCH, ...) stay importable from here, as before, outside __all__.
from odse_tutorial.plotting._rasters import NODATA_HATCH as NODATA_HATCH
from odse_tutorial.plotting.accuracy import plot_confusion_matrix, plot_per_class_accuracy
from odse_tutorial.plotting.calibration import (
    expected_calibration_error,
    plot_reliability_diagram,
    reliability_table,
)
from odse_tutorial.plotting.change import UNCHANGED_COLOUR as UNCHANGED_COLOUR
from odse_tutorial.plotting.change import change_matrix, plot_change
from odse_tutorial.plotting.errors import CORRECT_COLOUR as CORRECT_COLOUR
from odse_tutorial.plotting.errors import ERROR_COLOUR as ERROR_COLOUR
from odse_tutorial.plotting.errors import (
    error_rate_by_uncertainty,
    plot_error_map,
    plot_uncertainty_vs_error,
)
from odse_tutorial.plotting.maps import (
    plot_class_map,
    plot_class_maps,
    plot_composite,
    plot_probability_map,
    plot_uncertainty_map,
)
from odse_tutorial.plotting.models import plot_feature_importance, plot_model_comparison
from odse_tutorial.plotting.samples import plot_cv_folds, plot_samples
from odse_tutorial.plotting.style import use_style

__all__ = [
    "MAX_DISPLAY_SIZE",
    "change_matrix",
    "error_rate_by_uncertainty",
    "expected_calibration_error",
    "plot_change",
    "plot_class_map",
    "plot_class_maps",
    "plot_composite",
    "plot_confusion_matrix",
    "plot_cv_folds",
    "plot_error_map",
    "plot_feature_importance",
    "plot_model_comparison",
    "plot_per_class_accuracy",
    "plot_probability_map",
    "plot_reliability_diagram",
    "plot_samples",
    "plot_uncertainty_map",
    "plot_uncertainty_vs_error",
    "reliability_table",
    "use_style",
]

#: Rasters are shown at most this many pixels on their long side (decimated overviews).
#: Read when a map is drawn: set ``plotting.MAX_DISPLAY_SIZE`` to change it.
MAX_DISPLAY_SIZE = 1024
