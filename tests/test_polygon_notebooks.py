"""The six notebooks on training polygons with a multi-band stack (issue 18, "Done when").

The folder is made here as many learners hold their data: one 3-band float32 stack per
tile and year without band descriptions (``landsat.tif``: layers ``landsat_1`` ...
``landsat_3``) and a static ``elevation.tif``; training polygons in EPSG:3035 (the rasters
are in UTM 31N) with a class column ``label`` and an ``id``, no date column, one year.
It spans 9 km x 9 km, so that 2 km blocks leave every inner CV fold enough groups.
Every notebook must finish and write its metrics and maps.
"""

from __future__ import annotations

import json

import pytest
import rasterio
from conftest import STRIPES, make_stack_folder, notebook_metrics, notebook_text

from odse_tutorial.datasets import check_dataset
from odse_tutorial.tutorial import find_notebooks, run_notebook

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NOTEBOOKS = {nb.stem: nb for nb in find_notebooks()}


@pytest.fixture(scope="module")
def polygon_folder(tmp_path_factory):
    """150 polygons of 2-4 pixels a side over 300 x 300 pixels (9 km), one year (2021)."""
    folder = tmp_path_factory.mktemp("polygons") / "areas"
    return make_stack_folder(folder, size=300, samples="polygons", n=150, date=False)


@pytest.fixture(scope="module")
def executed_polygons(polygon_folder, tmp_path_factory):
    root = tmp_path_factory.mktemp("polygon-tutorial")
    return {
        name: run_notebook(nb, root, {"dataset": str(polygon_folder)})
        for name, nb in NOTEBOOKS.items()
    }


def test_check_takes_the_stack_and_the_polygons(polygon_folder):
    report = check_dataset(polygon_folder)
    assert report.ok, str(report)
    text = str(report)
    assert "150 polygon(s) (training areas) among 150 samples" in text
    assert "layers landsat_1, landsat_2, landsat_3" in text


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_notebooks_run_on_polygons_and_a_stack(executed_polygons, name):
    folder = executed_polygons[name]
    printed = notebook_text(folder, name)
    assert "Traceback" not in printed
    metrics = notebook_metrics(folder)
    assert metrics["dataset"] == "areas"
    assert "truth" not in metrics  # no truth maps: nothing measured against them
    if name == "05_validation_against_truth":
        return  # no truth: no sample is drawn from it, so no maps of its own
    maps = [folder / p for p in metrics.get("maps", []) if p.endswith("dominant_class.tif")]
    assert len(maps) == 1, metrics.get("maps")
    with rasterio.open(maps[0]) as src:
        legend = {int(entry["code"]) for entry in json.loads(src.tags()["classes"])}
        assert src.count == 1 and src.width == 300
    assert legend == set(STRIPES)


def test_notebook_1_compares_pixel_folds_with_polygon_folds(executed_polygons):
    """Each polygon is one location, so notebook 1 offers location folds; its section on
    training polygons scores random pixel folds against polygon folds, and says why it puts
    no estimate beside the truth."""
    folder = executed_polygons["01_random_forest"]
    metrics = notebook_metrics(folder)
    assert "location folds" in metrics["cv_estimates"]
    assert set(metrics["polygon_cv"]) == {"random pixel folds", "polygon folds"}
    printed = notebook_text(folder, "01_random_forest")
    assert "Accuracy on random pixel folds" in printed
    assert "No truth maps for this dataset: the true accuracy of its maps is unknown." in printed
