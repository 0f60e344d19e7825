"""odse-tutorial: spatiotemporal machine learning for land-cover mapping, with scikit-learn.

The helper package of the tutorial notebooks. Its modules follow the workflow:

- :mod:`odse_tutorial.datasets`: the bundled (simulated) and real datasets;
- :mod:`odse_tutorial.overlay`: samples meet rasters of their own survey year;
- :mod:`odse_tutorial.model_selection`: spatial cross-validation and nested tuning;
- :mod:`odse_tutorial.ensemble`: stacking with per-class uncertainty;
- :mod:`odse_tutorial.evaluation`: accuracy reports in the field's words;
- :mod:`odse_tutorial.prediction`: windowed map prediction to Cloud-Optimized GeoTIFFs;
- :mod:`odse_tutorial.plotting` and :mod:`odse_tutorial.widgets`: figures and explorers.
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
