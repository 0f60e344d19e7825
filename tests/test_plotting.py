"""Figures: what they show (legends, masks, labels, numbers), not how they look."""

from __future__ import annotations

import json
from types import SimpleNamespace

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from matplotlib.colors import to_hex
from sklearn.tree import DecisionTreeClassifier

from odse_tutorial import plotting
from odse_tutorial.classes import ClassTable
from odse_tutorial.evaluation import accuracy_report, error_rate_by_uncertainty
from odse_tutorial.model_selection import block_cv, random_cv
from odse_tutorial.plotting.maps import _plot_class_map, _plot_percent_map
from odse_tutorial.prediction import predict_map

plt.switch_backend("Agg")  # figures are drawn without a display

ORIGIN = Affine(30, 0, 4_300_800, 0, -30, 2_810_880)
CLASSES = ClassTable([211, 231, 311], ["Arable land", "Pastures", "Forest"])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def write_raster(path, array, *, nodata=0, tags=None, transform=ORIGIN, crs="EPSG:3035"):
    """A single-band GeoTIFF with optional tags (``classes`` as JSON)."""
    array = np.asarray(array)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=array.shape[1],
        height=array.shape[0],
        count=1,
        dtype=array.dtype.name,
        nodata=nodata,
        crs=crs,
        transform=transform,
    ) as dst:
        dst.write(array, 1)
        if tags:
            dst.update_tags(
                **{k: v if isinstance(v, str) else json.dumps(v) for k, v in tags.items()}
            )
    return path


def legend_texts(legend):
    return [t.get_text() for t in legend.get_texts()]


def labels(table, codes):
    return [f"{c} {table.name_of(c)}" for c in codes]


@pytest.fixture(scope="module")
def predicted(tmp_path_factory, simulated):
    """Maps of a small tree for tile 9530 in 2018 (border and cloud nodata) and 2000."""
    folder = tmp_path_factory.mktemp("maps")
    names = ["nir_summer", "swir1_summer"]
    products = {}
    for year in (2000, 2018):
        layers = {n: simulated.layers("9530", year)[n] for n in names}
        if year == 2000:
            with (
                rasterio.open(layers["nir_summer"]) as a,
                rasterio.open(layers["swir1_summer"]) as b,
                rasterio.open(simulated.truth("9530", year)) as t,
            ):
                X = np.column_stack([a.read(1).ravel(), b.read(1).ravel()])[::7]
                y = t.read(1).ravel()[::7]
            keep = (X != 255).all(axis=1) & (y != 0)
            model = DecisionTreeClassifier(max_depth=4, random_state=0)
            model.fit(pd.DataFrame(X[keep], columns=names), y[keep])
        products[year] = predict_map(
            model,
            layers,
            folder / str(year),
            classes=simulated.classes,
            progress=False,
            tags={"tile": "9530", "year": year},
        )
    return products


# -- style -----------------------------------------------------------------------------------
def test_use_style_sets_the_tutorial_look():
    with mpl.rc_context():
        plotting.use_style()
        assert mpl.rcParams["figure.dpi"] == 100
        assert mpl.rcParams["image.interpolation"] == "nearest"
        assert to_hex(mpl.rcParams["axes.prop_cycle"].by_key()["color"][0]) == "#0072b2"


# -- class maps ------------------------------------------------------------------------------
def test_class_map_legend_lists_the_classes_present_and_masks_nodata(simulated):
    path = simulated.truth("9530", 2018)
    with rasterio.open(path) as src:
        values = src.read(1)
    ax = _plot_class_map(path, simulated.classes)
    present = sorted(set(np.unique(values).tolist()) - {0})
    assert legend_texts(ax.get_legend()) == [*labels(simulated.classes, present), "no data"]
    image = ax.images[0].get_array()
    assert np.array_equal(np.ma.getmaskarray(image), values == 0)
    assert ax.get_title() == "Reference land cover, tile 9530, 2018"
    assert ax.get_xlabel() == "Easting (km, EPSG:3035)"
    assert ax.get_ylabel() == "Northing (km, EPSG:3035)"
    assert ax.images[0].get_extent() == pytest.approx([4308.48, 4316.16, 2803.2, 2810.88])


def test_class_map_colours_come_from_the_class_table(simulated):
    ax = _plot_class_map(simulated.truth("9529", 2000), simulated.classes)
    image = ax.images[0]
    position = simulated.classes.index_of(312)
    assert to_hex(image.cmap(image.norm(position))) == simulated.classes.colour_of(312)
    patches = ax.get_legend().get_patches()
    texts = legend_texts(ax.get_legend())
    assert to_hex(patches[texts.index("312 Coniferous forest")].get_facecolor()) == "#00a600"


def test_class_map_with_masked_nodata(tmp_path):
    codes = write_raster(tmp_path / "toy.tif", np.array([[211, 211, 0], [311, 311, 0]], np.int16))
    ax = _plot_class_map(codes, CLASSES, title="Toy")
    assert legend_texts(ax.get_legend()) == ["211 Arable land", "311 Forest", "no data"]
    assert np.ma.getmaskarray(ax.images[0].get_array())[:, 2].all()
    assert ax.get_title() == "Toy"
    with pytest.raises(ValueError, match="512"):
        _plot_class_map(
            write_raster(tmp_path / "bad.tif", np.array([[211, 512]], np.int16)), CLASSES
        )


def test_class_map_reads_string_codes_from_the_raster_legend(tmp_path):
    legend = [
        {"value": 1, "code": "crop", "name": "Cropland", "colour": "#ffff00"},
        {"value": 2, "code": "wood", "name": "Woodland", "colour": "#008000"},
    ]
    path = write_raster(
        tmp_path / "c.tif", np.array([[1, 2], [2, 0]], "uint16"), tags={"classes": legend}
    )
    ax = _plot_class_map(path, legend=True)
    assert legend_texts(ax.get_legend()) == ["crop Cropland", "wood Woodland", "no data"]
    with pytest.raises(ValueError, match="pixel value"):
        bad = write_raster(
            tmp_path / "bad.tif", np.array([[3]], "uint16"), tags={"classes": legend}
        )
        _plot_class_map(bad)


def test_class_map_of_a_prediction(predicted, simulated):
    path = predicted[2018]["dominant_class"]
    ax = _plot_class_map(path)
    with rasterio.open(path) as src:
        present = sorted(set(np.unique(src.read(1)).tolist()) - {0})
    assert legend_texts(ax.get_legend())[:-1] == labels(simulated.classes, present)
    assert ax.get_title() == "Dominant class, tile 9530, 2018"


# -- percent maps and composites -------------------------------------------------------------
def test_probability_map_has_a_percent_colour_bar_and_masks_nodata(predicted):
    path = predicted[2018]["probability_312"]
    ax = _plot_percent_map(path)
    image = ax.images[0]
    assert image.colorbar.ax.get_ylabel() == "Probability (%)"
    assert image.get_clim() == (0, 100)
    with rasterio.open(path) as src:
        raw = src.read(1)
    assert np.array_equal(np.ma.getmaskarray(image.get_array()), raw == 255)
    assert (raw == 255).any()
    assert ax.get_title() == "Probability of 312 Coniferous forest, tile 9530, 2018"


def test_uncertainty_map_has_its_own_colour_map_and_unit(predicted):
    ax = _plot_percent_map(predicted[2018]["uncertainty"], "Uncertainty", None)
    assert ax.images[0].get_cmap().name.startswith("magma")
    assert ax.images[0].colorbar.ax.get_ylabel() == "Uncertainty (%)"
    assert ax.get_title() == "Uncertainty, tile 9530, 2018"


def test_uncertainty_colour_scale_is_fitted_to_the_values_or_given(tmp_path):
    values = np.full((20, 20), 3, "uint8")
    values[0, :5] = 11  # 99th percentile 11 -> the scale tops at 15 %
    values[1, 0] = 40  # an outlier above the scale: the colour bar gets an arrow
    path = write_raster(tmp_path / "uncertainty.tif", values, nodata=255)
    image = _plot_percent_map(path, "Uncertainty", None).images[0]
    assert image.get_clim() == (0, 15)
    assert image.colorbar.extend == "max"
    assert _plot_percent_map(path, "Uncertainty", 50).images[0].get_clim() == (0, 50)
    assert _plot_percent_map(path).images[0].get_clim() == (0, 100)


def test_percent_map_refuses_a_class_map(simulated):
    with pytest.raises(ValueError, match="plot_class_map"):
        _plot_percent_map(simulated.truth("9529", 2000))


def test_large_rasters_are_shown_decimated(tmp_path, monkeypatch):
    monkeypatch.setattr(plotting._base, "MAX_DISPLAY_SIZE", 50)
    path = write_raster(tmp_path / "p.tif", np.full((60, 200), 40, "uint8"), nodata=255)
    ax = _plot_percent_map(path)
    assert ax.images[0].get_array().shape == (15, 50)
    assert ax.images[0].get_extent() == pytest.approx([4300.8, 4306.8, 2809.08, 2810.88])


def test_composite_is_false_colour_with_transparent_nodata(simulated):
    layers = simulated.layers("9530", 2018)
    ax = plotting.plot_composite(layers)
    rgba = ax.images[0].get_array()
    assert rgba.shape == (256, 256, 4)
    nodata = np.zeros((256, 256), bool)
    for band in ("swir1", "nir", "red"):
        with rasterio.open(layers[f"{band}_summer"]) as src:
            nodata |= src.read(1) == 255
    assert nodata.any()
    assert np.array_equal(rgba[..., 3] == 0, nodata)
    assert rgba[..., :3].min() >= 0 and rgba[..., :3].max() <= 1
    assert ax.get_title() == "False colour (R = swir1, G = nir, B = red), summer 2018"


def test_composite_falls_back_to_greyscale(simulated):
    full = simulated.layers("9529", 2012)
    layers = {"ndvi_summer": full["nir_summer"], "swir1_summer": full["swir1_summer"]}
    ax = plotting.plot_composite(layers)
    rgba = ax.images[0].get_array()
    assert np.array_equal(rgba[..., 0], rgba[..., 1])
    assert ax.get_title().startswith("ndvi_summer (greyscale)")


# -- samples and folds -----------------------------------------------------------------------
def test_samples_are_coloured_by_class_without_touching_the_frame(simulated):
    samples = simulated.samples
    samples = samples[samples.tile_id == "9529"]
    before = samples.copy()
    ax = plotting.plot_samples(samples, simulated.classes, background=simulated.truth("9529", 2018))
    pd.testing.assert_frame_equal(samples, before)
    points = ax.collections[0]
    first = samples["lc_code"].iloc[0]
    assert to_hex(points.get_facecolors()[0]) == simulated.classes.colour_of(first)
    texts = legend_texts(ax.get_legend())
    assert set(labels(simulated.classes, samples["lc_code"].unique())) <= set(texts)
    assert ax.get_title() == f"{len(samples):,} samples"
    with pytest.raises(KeyError, match="lc_kode"):
        plotting.plot_samples(samples, column="lc_kode")


def test_cv_folds_show_each_samples_test_fold(simulated):
    samples = simulated.samples
    ax = plotting.plot_cv_folds(samples, block_cv(samples, 1920, n_splits=4))
    texts = legend_texts(ax.get_legend())
    assert [t.split(" (")[0] for t in texts] == ["fold 0", "fold 1", "fold 2", "fold 3"]
    counts = [int(t.split("(")[1].split()[0].replace(",", "")) for t in texts]
    assert sum(counts) == len(samples)
    assert ax.get_title() == "Test folds of SpatialKFold (4 folds)"
    with pytest.raises(ValueError, match="y="):
        plotting.plot_cv_folds(samples, random_cv(3))
    ax = plotting.plot_cv_folds(samples, random_cv(3), y=samples["lc_code"])
    assert len(ax.get_legend().get_texts()) == 3


# -- accuracy --------------------------------------------------------------------------------
@pytest.fixture
def report():
    y_true = [211] * 5 + [231] * 4 + [311] * 3
    y_pred = [211, 211, 211, 231, 311, 231, 231, 211, 231, 311, 311, 311]
    return accuracy_report(y_true, y_pred, classes=CLASSES)


def test_confusion_matrix_annotations_are_the_counts(report):
    ax = plotting.plot_confusion_matrix(report)
    counts = report.confusion.to_numpy()
    assert [t.get_text() for t in ax.texts] == [str(int(v)) for v in counts.ravel()]
    assert [t.get_text() for t in ax.get_yticklabels()] == CLASSES.labels()
    assert [t.get_text() for t in ax.get_xticklabels()] == CLASSES.labels()
    assert ax.get_ylabel() == "Reference class"
    assert "Map" in ax.get_xlabel()
    assert ax.images[0].colorbar.ax.get_ylabel() == "Samples"


def test_confusion_matrix_normalised_by_row(report):
    ax = plotting.plot_confusion_matrix(report.confusion_table(), normalize="true")
    shares = ax.images[0].get_array()
    np.testing.assert_allclose(shares.sum(axis=1), 100)
    assert ax.texts[0].get_text() == "60"  # 3 of 5 arable samples
    assert "%" in ax.images[0].colorbar.ax.get_ylabel()
    with pytest.raises(ValueError, match="normalize"):
        plotting.plot_confusion_matrix(report, normalize="all")


def test_per_class_accuracy_bars_are_users_and_producers(report):
    ax = plotting.plot_per_class_accuracy(report)
    widths = [p.get_width() for p in ax.patches]
    expected = report.per_class[["users_accuracy", "producers_accuracy"]].to_numpy().T.ravel()
    np.testing.assert_allclose(widths, 100 * expected)
    texts = " ".join(legend_texts(ax.get_legend()))
    assert "Users' accuracy = precision" in texts and "Producer's accuracy = recall" in texts
    assert ax.get_xlabel() == "Accuracy (%)"


def test_reliability_diagram_draws_the_bins_and_names_the_calibration_error():
    proba = [[0.92, 0.08], [0.85, 0.15], [0.28, 0.72], [0.45, 0.55]]
    y_true = [1, 2, 2, 1]  # right, wrong, right, wrong
    ax = plotting.plot_reliability_diagram(y_true, proba, [1, 2], n_bins=2)
    assert ax.get_title() == "Reliability diagram: expected calibration error 26.0 %"
    x, y = ax.lines[1].get_data()
    np.testing.assert_allclose(x, [76.0])
    np.testing.assert_allclose(y, [50.0])


def test_feature_importance_shows_the_top_features_in_order():
    names = ["red_summer", "nir_spring", "elevation", "swir1_winter"]
    ax = plotting.plot_feature_importance(pd.Series([0.1, 0.4, 0.3, 0.2], index=names), top=3)
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "nir_spring",
        "elevation",
        "swir1_winter",
    ]
    assert ax.get_title() == "Feature importance (top 3 of 4)"
    assert "static (terrain)" in legend_texts(ax.get_legend())
    result = SimpleNamespace(importances_mean=np.array([0.2, 0.1]), importances_std=[0.01, 0.02])
    ax = plotting.plot_feature_importance(result, ["a", "b"])
    assert "shuffled" in ax.get_xlabel()
    with pytest.raises(ValueError, match="feature names"):
        plotting.plot_feature_importance([0.1, 0.2], ["a"])


# -- change and errors -----------------------------------------------------------------------
@pytest.fixture
def two_years(tmp_path):
    return write_two_years(tmp_path)


def write_two_years(folder, table=CLASSES):
    """Two tiny class maps of ``table``'s classes with legends (``ClassTable.to_tags``)."""
    before = np.array([[0, 0, 1], [2, 2, -1]])
    after = np.array([[0, 1, 1], [0, 2, 2]])
    # Pixel values: the codes, or positions + 1 for string codes (as prediction writes).
    values = np.array([*table.raster_values, 0], "uint16")
    return (
        write_raster(folder / "landcover_2000.tif", values[before], tags=table.to_tags()),
        write_raster(folder / "landcover_2018.tif", values[after], tags=table.to_tags()),
    )


def test_uncertainty_vs_error_and_error_map(tmp_path, two_years):
    before, after = two_years
    uncertainty = np.array([[5, 95, 15], [100, 12, 50]], "uint8")
    path = write_raster(tmp_path / "uncertainty.tif", uncertainty, nodata=255)
    ax = plotting.plot_uncertainty_vs_error(
        error_rate_by_uncertainty(path, after, before, n_bins=2)
    )
    assert ax.get_xlabel() == "Uncertainty (%)"
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0, 100])
    ax = plotting.plot_error_map(after, before)
    assert ax.get_title().startswith("Map errors (40.0 % of pixels), tile ")


def test_uncertainty_vs_error_axes_fit_low_uncertainties(tmp_path, two_years):
    before, after = two_years
    low = np.array([[1, 9, 3], [12, 2, 5]], "uint8")  # an ensemble's spread: a few percent
    path = write_raster(tmp_path / "uncertainty.tif", low, nodata=255)
    ax = plotting.plot_uncertainty_vs_error(
        error_rate_by_uncertainty([path, path], [after, after], [before, before])
    )
    assert ax.get_xlim() == (0, 12)  # not 0-100: the bins are fitted to the values
    assert len(ax.lines[1].get_ydata()) >= 3


def test_maps_draw_on_a_given_axes(simulated):
    fig, axes = plt.subplots(1, 2)
    truth = simulated.truth("9529", 2018)
    assert _plot_class_map(truth, ax=axes[0]) is axes[0]
    assert plotting.plot_error_map(truth, truth, ax=axes[1]) is axes[1]
    assert axes[1].get_title() == "Map errors (0.0 % of pixels), tile 9529, 2018"


def test_nn_distances_figure_draws_one_ecdf_per_kind_with_plain_log_labels():
    d = pd.DataFrame(
        {
            "what": ["CV: test to training"] * 4 + ["prediction to training"] * 2,
            "distance_m": [0.5, 200.0, 300.0, 400.0, 250.0, 350.0],
        }
    )
    ax = plotting.plot_nn_distances(d)
    cv, prediction = ax.lines
    np.testing.assert_allclose(cv.get_xdata(), [0.001, 0.2, 0.3, 0.4])  # km, 1 m floor
    np.testing.assert_allclose(cv.get_ydata(), [0.25, 0.5, 0.75, 1.0])
    assert prediction.get_color() == "black" and prediction.get_linewidth() > cv.get_linewidth()
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() + ax.xaxis.get_minorticklabels()]
    assert "0.01" in labels and not any("times" in t for t in labels)
    ax.set_xlim(0.15, 0.5)  # less than a decade: the minor ticks are labelled, as decimals
    ax.figure.canvas.draw()
    minor = [t.get_text() for t in ax.xaxis.get_minorticklabels()]
    assert {"0.2", "0.3"} <= set(minor) and not any("times" in t for t in minor)


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory, simulated, fitted):
    from odse_tutorial.prediction import predict_maps

    model, aoa = fitted
    folder = tmp_path_factory.mktemp("catalogue")
    return predict_maps(
        model,
        simulated,
        folder,
        tiles="9529",
        years=[2012, 2018],
        applicability=aoa,
        progress=False,
    )


def test_plot_maps_draws_products_by_year_and_leaves_out_truth_panels_without_truth(
    catalogue, simulated, caplog
):
    fig = plotting.plot_maps(catalogue, truth=simulated)
    assert [ax.get_title() for ax in fig.axes][:1] == ["Dominant class, tile 9529, 2018"]
    assert fig.axes[1].get_title().startswith("Map errors (")
    assert fig.get_figwidth() == 9.5  # JupyterLab's width
    alone = plotting.plot_maps(catalogue, truth=SimpleNamespace(has_truth=False))
    assert len(alone.axes) == 1 and "panels that need them are left out" in caplog.text
    assert plotting.plot_maps(catalogue, ["truth"]) is None
    grid = plotting.plot_maps(
        catalogue, ["probability", "uncertainty"], years=[2012, 2018], code=231
    )
    maps_only = [ax for ax in grid.axes if ax.images]
    assert [ax.get_title() for ax in maps_only] == ["2012", "2018", "2012", "2018"]
    assert maps_only[0].get_ylabel().startswith("Probability of 231 Pastures\n")
    assert maps_only[2].images[0].get_clim() == maps_only[3].images[0].get_clim()  # one scale
    errors = plotting.plot_maps(catalogue, ["errors"], years=[2012, 2018], truth=simulated)
    assert errors.axes[1].get_title().startswith("2018 (") and errors.axes[1].get_title().endswith(
        "% of pixels)"
    )
    legend = errors.axes[0].get_legend()  # below its map in a grid: the columns stay wide
    assert legend.get_window_extent().y1 < errors.axes[0].get_window_extent().y0


def test_applicability_maps_have_a_fitting_colour_bar_and_a_no_data_entry(catalogue):
    fig = plotting.plot_maps(catalogue, ["dissimilarity", "aoa"])
    di, aoa = (ax for ax in fig.axes if ax.images)
    bar = di.images[0].colorbar
    fig.canvas.draw()
    box = bar.ax.get_window_extent()
    assert box.width > box.height  # horizontal: its label cannot be taller than the bar
    assert bar.ax.get_xlabel().startswith("DI")
    assert legend_texts(di.get_legend()) == ["no data"]
    assert legend_texts(aoa.get_legend()) == ["inside", "outside", "no data"]
    assert aoa.get_title().startswith("Area of applicability (DI <= ")


def test_difference_map_names_each_kind_in_words_with_its_share(tmp_path, two_years):
    truth, a = two_years  # truth [[0, 0, 1], [2, 2, nodata]], a [[0, 1, 1], [0, 2, 2]]
    values = np.array(CLASSES.raster_values, "uint16")
    b = write_raster(tmp_path / "b.tif", values[[[0, 0, 2], [0, 1, 2]]], tags=CLASSES.to_tags())
    ax = plotting.plot_error_map(a, truth, other=b, names=("ensemble", "forest"))
    assert legend_texts(ax.get_legend()) == [
        "agree, both right (20.0 %)",
        "agree, both wrong (20.0 %)",
        "differ, ensemble right (40.0 %)",
        "differ, forest right (20.0 %)",
        "differ, both wrong (0.0 %)",
        "no data",
    ]
    kinds = ax.images[0].get_array()
    assert kinds.tolist() == [[0, 3, 2], [1, 2, None]]
    colours = [to_hex(p.get_facecolor()) for p in ax.get_legend().legend_handles[:5]]
    assert len(set(colours)) == 5  # every kind its own colour
    assert ax.get_title().startswith("ensemble vs forest")
    without = plotting.plot_error_map(a, None, other=b)
    assert legend_texts(without.get_legend()) == ["agree (50.0 %)", "differ (50.0 %)"]
    assert plotting.plot_error_map(a, None) is None


def test_precision_recall_curves_have_distinct_colours_and_their_average_precision():
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(0)
    y = rng.choice([211, 231, 311], 60)
    proba = rng.dirichlet([1, 1, 1], 60)
    proba[np.arange(60), np.searchsorted([211, 231, 311], y)] += 0.5
    proba /= proba.sum(axis=1, keepdims=True)
    ax = plotting.plot_precision_recall(y, proba, CLASSES)
    ap = average_precision_score(y == 231, proba[:, 1])
    assert ax.lines[1].get_label() == f"Pastures (AP {ap:.2f})"
    assert len({to_hex(line.get_color()) for line in ax.lines}) == 3
    assert ax.get_xlabel() == "Recall (producer's accuracy)"


def test_reliability_against_labels_and_truth():
    proba = [[0.9, 0.1], [0.65, 0.35], [0.2, 0.8]]
    ax = plotting.plot_reliability_diagram(
        [1, 2, 2],
        proba,
        [1, 2],
        n_bins=2,
        truth=[1, 1, None],  # no truth for the third
    )
    truth_line = ax.lines[-1]
    assert truth_line.get_label() == "against the truth"
    np.testing.assert_allclose(truth_line.get_ydata(), [100])  # both known samples right
    # one bin: labels |(0.9 + 0.65 + 0.8) / 3 - 2/3| = 0.117; truth |(0.9 + 0.65) / 2 - 1| = 0.225
    assert ax.get_title() == "Reliability diagram: ECE 11.7 % (labels), 22.5 % (truth)"
    assert max(ax.figure.axes[-1].get_yticks()) <= 100  # the bars' axis: no 160 % tick
    assert legend_texts(ax.get_legend()) == [
        "Perfect calibration",
        "against the labels",
        "Samples in bin (right axis)",
        "against the truth",
    ]


def test_uncertainty_vs_error_draws_a_computed_table_or_nothing(tmp_path, two_years):
    before, after = two_years
    path = write_raster(
        tmp_path / "u.tif", np.array([[5, 95, 15], [100, 12, 50]], "uint8"), nodata=255
    )
    table = error_rate_by_uncertainty(path, after, before, n_bins=2)
    drawn = plotting.plot_uncertainty_vs_error(SimpleNamespace(by_bin=table))
    expected = plotting.plot_uncertainty_vs_error(table)
    np.testing.assert_allclose(drawn.lines[1].get_ydata(), expected.lines[1].get_ydata())
    assert plotting.plot_uncertainty_vs_error(None) is None


def test_composite_falls_back_to_another_season_or_plain_band_names(simulated):
    layers = simulated.layers("9529", 2018)
    winter = {n: p for n, p in layers.items() if n.endswith("_winter")}
    ax = plotting.plot_composite(winter)  # no summer: the winter bands
    assert ax.get_title() == "False colour (R = swir1, G = nir, B = red), winter 2018"
    plain = {n.removesuffix("_spring"): p for n, p in layers.items() if n.endswith("_spring")}
    ax = plotting.plot_composite(plain)  # a learner's swir1.tif, nir.tif, red.tif
    assert ax.get_title().startswith("False colour (R = swir1, G = nir, B = red)")


def test_samples_may_be_training_polygons_beside_points():
    import geopandas as gpd
    from shapely.geometry import Point, box

    samples = gpd.GeoDataFrame(
        {"lc_code": [211, 311, 231]},
        geometry=[box(0, 0, 1000, 1000), box(2000, 0, 3000, 500), Point(1500, 1500)],
        crs="EPSG:3035",
    )
    ax = plotting.plot_samples(samples, CLASSES)
    areas = [c for c in ax.collections if len(c.get_paths()) == 2]
    assert [to_hex(c) for c in areas[0].get_facecolor()] == [
        CLASSES.colour_of(211).lower(),
        CLASSES.colour_of(311).lower(),
    ]
    assert legend_texts(ax.get_legend()) == labels(CLASSES, [211, 231, 311])
    np.testing.assert_allclose(ax.collections[-1].get_offsets(), [[1.5, 1.5]])  # km
