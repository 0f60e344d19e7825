"""The map explorer builds, redraws on every change and runs without a front end."""

from __future__ import annotations

import base64
import dataclasses
import shutil
from types import SimpleNamespace

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import rasterio
from sklearn.tree import DecisionTreeClassifier

from odse_tutorial.plotting import maps as plotting_module
from odse_tutorial.prediction import predict_maps
from odse_tutorial.widgets import _MapExplorer, map_explorer

plt.switch_backend("Agg")  # figures are drawn without a display

PNG_MAGIC = b"\x89PNG"


@pytest.fixture(scope="module")
def maps(tmp_path_factory, simulated):
    """The maps of tile 9529, years 2012 and 2018, from a small tree."""
    folder = tmp_path_factory.mktemp("maps")
    names = ["nir_summer", "swir1_summer"]
    layers = {year: {n: simulated.layers("9529", year)[n] for n in names} for year in (2012, 2018)}
    with (
        rasterio.open(layers[2012]["nir_summer"]) as a,
        rasterio.open(layers[2012]["swir1_summer"]) as b,
        rasterio.open(simulated.truth("9529", 2012)) as t,
    ):
        X = np.column_stack([a.read(1).ravel(), b.read(1).ravel()])[::11]
        y = t.read(1).ravel()[::11]
    keep = (X != 255).all(axis=1) & (y != 0)
    model = DecisionTreeClassifier(max_depth=3, random_state=0)
    model.fit(pd.DataFrame(X[keep], columns=names), y[keep])
    two_layers = SimpleNamespace(
        tiles=("9529",), years=(2012, 2018), classes=simulated.classes,
        layers=lambda tile, year: layers[year],
    )  # fmt: skip
    return predict_maps(model, two_layers, folder, progress=False)


def png_of(explorer):
    (output,) = explorer.output.outputs
    assert output["output_type"] == "display_data"
    return base64.b64decode(output["data"]["image/png"])


def test_explorer_builds_and_renders_once(maps, simulated):
    explorer = map_explorer(maps, simulated.classes)
    assert isinstance(explorer, _MapExplorer)
    assert explorer.redraws == 1
    assert png_of(explorer).startswith(PNG_MAGIC)
    assert explorer.year.value == 2018 and explorer.tile.value == "9529"
    assert explorer.class_code.disabled  # the dominant class is not per class
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]).startswith(PNG_MAGIC)
    assert plt.get_fignums() == []  # no figure left behind in pyplot


def test_changing_a_control_redraws(maps, simulated):
    explorer = map_explorer(maps, simulated.classes)
    first = png_of(explorer)
    explorer.year.value = 2012
    assert explorer.redraws == 2
    assert png_of(explorer) != first
    explorer.class_code.value = 312  # not shown by the dominant class: no redraw
    assert explorer.redraws == 2
    explorer.product.value = "probability"
    assert not explorer.class_code.disabled
    probability_312 = png_of(explorer)
    explorer.class_code.value = 231
    assert explorer.redraws == 4
    assert png_of(explorer) != probability_312


def test_class_menu_lists_codes_and_names(maps, simulated):
    explorer = map_explorer(maps, product="probability")  # names from the maps' classes
    label, code = explorer.class_code.options[0]
    assert (label, code) == (f"{code} {simulated.classes.name_of(code)}", code)
    assert isinstance(code, int)


def test_truth_adds_reference_and_error_products(maps, simulated):
    explorer = map_explorer(maps, simulated.classes, truth=simulated, product="errors")
    assert [key for _, key in explorer.product.options] == [
        "dominant_class",
        "probability",
        "dominant_probability",
        "uncertainty",
        "truth",
        "errors",
    ]
    assert png_of(explorer).startswith(PNG_MAGIC)
    explorer.product.value = "truth"
    assert png_of(explorer).startswith(PNG_MAGIC)


def test_missing_map_shows_a_message_not_an_error(maps, simulated, tmp_path):
    shutil.copytree(maps.root, tmp_path / "maps")
    some = dataclasses.replace(maps, root=tmp_path / "maps")
    some.path("9529", 2012, "uncertainty").unlink()
    explorer = map_explorer(some, simulated.classes, product="uncertainty")
    explorer.year.value = 2012
    (output,) = explorer.output.outputs
    assert output["output_type"] == "stream"
    assert "No uncertainty map for tile 9529, 2012" in output["text"]
    assert "image/png" not in explorer._repr_mimebundle_()


def test_invalid_inputs_give_clear_errors(maps, simulated):
    with pytest.raises(ValueError, match="empty"):
        map_explorer(dataclasses.replace(maps, years=()), simulated.classes)
    with pytest.raises(TypeError, match="MapCatalogue returned by predict_maps"):
        map_explorer(maps.to_frame(), simulated.classes)
    with pytest.raises(ValueError, match="Unknown product 'landcover'"):
        map_explorer(maps, simulated.classes, product="landcover")
    with pytest.raises(ValueError, match="truth="):
        map_explorer(maps, simulated.classes, product="errors")
    with pytest.raises(ValueError, match="Unknown year 1999"):
        map_explorer(maps, simulated.classes, year=1999)
    with pytest.raises(TypeError, match="truth"):
        map_explorer(maps, simulated.classes, truth="truth.tif")


def test_the_image_keeps_its_size_and_titles_name_tile_and_year(maps, simulated, monkeypatch):
    import io

    from PIL import Image

    titles = []
    real = plotting_module.plot_error_map

    def spy(*args, **kwargs):
        ax = real(*args, **kwargs)
        titles.append(ax.get_title())
        return ax

    monkeypatch.setattr(plotting_module, "plot_error_map", spy)
    explorer = map_explorer(maps, simulated.classes, truth=simulated)
    sizes = set()
    for product in ("dominant_class", "probability", "uncertainty", "truth", "errors"):
        explorer.product.value = product
        sizes.add(Image.open(io.BytesIO(png_of(explorer))).size)
    assert sizes == {(900, 550)}  # the figure size, whatever the title and legend
    assert titles and titles[-1].endswith(f"tile {explorer.tile.value}, {explorer.year.value}")


def test_a_saved_explorer_says_to_rerun_and_a_dataset_without_truth_counts_as_none(maps, simulated):
    explorer = map_explorer(maps, simulated.classes)
    captions = [c.value for c in explorer.children if isinstance(c, widgets.HTML)]
    assert len(captions) == 1 and "run the notebook's cells again" in captions[0]
    no_truth = SimpleNamespace(has_truth=False, truth=simulated.truth)
    explorer = map_explorer(maps, simulated.classes, truth=no_truth)
    assert "truth" not in [key for _, key in explorer.product.options]
