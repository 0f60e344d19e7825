"""Tests of odse_tutorial.evaluation against hand-computed values and scikit-learn."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from sklearn.metrics import (
    cohen_kappa_score,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
)

from odse_tutorial.classes import ClassTable
from odse_tutorial.evaluation import (
    AccuracyReport,
    accuracy_report,
    area_adjusted_accuracy,
    compare_models,
    error_rate_by_uncertainty,
    expected_calibration_error,
    map_accuracy,
    reliability_table,
    write_metrics,
)

# A 3-class example whose users' and producer's accuracies differ, so that swapping
# them (the 2021 bug) is caught. Confusion matrix, rows reference, columns map:
#            map 1  map 2  map 3 | support
#   ref 1      3      1      1   |   5
#   ref 2      1      2      0   |   3
#   ref 3      0      1      1   |   2
#   mapped     4      4      2
Y_TRUE = [1, 1, 1, 1, 1, 2, 2, 2, 3, 3]
Y_PRED = [1, 1, 1, 2, 3, 2, 2, 1, 3, 2]
TABLE = ClassTable([1, 2, 3], ["forest", "water", "urban"])


@pytest.fixture
def report() -> AccuracyReport:
    return accuracy_report(Y_TRUE, Y_PRED, classes=TABLE)


def test_confusion_matrix_rows_are_reference_columns_are_map(report):
    assert report.confusion.to_numpy().tolist() == [[3, 1, 1], [1, 2, 0], [0, 1, 1]]
    assert report.confusion.index.name == "reference"
    assert report.confusion.columns.name == "map"
    assert report.confusion.index.tolist() == ["1 forest", "2 water", "3 urban"]


def test_users_and_producers_accuracy_by_hand(report):
    per_class = report.per_class.set_index("code")
    # users' accuracy: correct / mapped as the class (column)
    assert per_class["users_accuracy"].tolist() == pytest.approx([3 / 4, 2 / 4, 1 / 2])
    # producer's accuracy: correct / reference samples of the class (row)
    assert per_class["producers_accuracy"].tolist() == pytest.approx([3 / 5, 2 / 3, 1 / 2])
    assert per_class["f1"].tolist() == pytest.approx([6 / 9, 4 / 7, 2 / 4])
    assert per_class["support"].tolist() == [5, 3, 2]
    assert per_class["name"].tolist() == ["forest", "water", "urban"]


def test_users_accuracy_is_precision_and_producers_accuracy_is_recall(report):
    per_class = report.per_class
    assert per_class["users_accuracy"].tolist() == pytest.approx(
        precision_score(Y_TRUE, Y_PRED, average=None).tolist()
    )
    assert per_class["producers_accuracy"].tolist() == pytest.approx(
        recall_score(Y_TRUE, Y_PRED, average=None).tolist()
    )


def test_summary_by_hand(report):
    summary = report.summary
    assert summary["n_samples"] == 10
    assert summary["overall_accuracy"] == pytest.approx(0.6)
    # p_o = 0.6, p_e = (5*4 + 3*4 + 2*2) / 100 = 0.36
    assert summary["kappa"] == pytest.approx((0.6 - 0.36) / (1 - 0.36))
    assert summary["f1_macro"] == pytest.approx((6 / 9 + 4 / 7 + 1 / 2) / 3)
    assert summary["f1_weighted"] == pytest.approx((5 * 6 / 9 + 3 * 4 / 7 + 2 * 1 / 2) / 10)
    assert "log_loss" not in summary


def _random_case(seed: int = 1, n: int = 300):
    rng = np.random.default_rng(seed)
    codes = np.array([112, 231, 311, 512])
    y_true = rng.choice(codes, n, p=[0.1, 0.4, 0.3, 0.2])
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.choice(codes[:3], n))  # 512 rarely mapped
    proba = rng.dirichlet(np.ones(4), n)
    weights = rng.uniform(0.5, 2.0, n)
    return y_true, y_pred, proba, weights


@pytest.mark.parametrize("weighted", [False, True])
def test_kappa_and_f1_agree_with_scikit_learn(weighted):
    y_true, y_pred, _, weights = _random_case()
    w = weights if weighted else None
    summary = accuracy_report(y_true, y_pred, sample_weight=w).summary
    assert summary["kappa"] == pytest.approx(cohen_kappa_score(y_true, y_pred, sample_weight=w))
    assert summary["f1_weighted"] == pytest.approx(
        f1_score(y_true, y_pred, average="weighted", sample_weight=w)
    )
    assert summary["f1_macro"] == pytest.approx(
        f1_score(y_true, y_pred, average="macro", sample_weight=w)
    )


def test_integer_weights_equal_repeated_samples():
    weights = [2, 1, 1, 3, 1, 1, 1, 2, 1, 1]
    weighted = accuracy_report(Y_TRUE, Y_PRED, sample_weight=weights)
    repeated = accuracy_report(np.repeat(Y_TRUE, weights), np.repeat(Y_PRED, weights))
    for key in ("overall_accuracy", "kappa", "f1_weighted", "f1_macro"):
        assert weighted.summary[key] == pytest.approx(repeated.summary[key])
    pd.testing.assert_frame_equal(
        weighted.per_class, repeated.per_class, check_dtype=False, check_exact=False
    )
    assert weighted.summary["n_samples"] == 10


PROBA = np.array([[0.7, 0.2, 0.1], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6]])


def test_log_loss_and_brier_score_by_hand():
    result = accuracy_report(["a", "b", "c"], ["a", "a", "c"], PROBA)
    summary = result.summary
    assert summary["log_loss"] == pytest.approx(-(np.log(0.7) + np.log(0.4) + np.log(0.6)) / 3)
    # squared distances to the one-hot truth: 0.14, 0.62, 0.24
    assert summary["brier_score"] == pytest.approx((0.14 + 0.62 + 0.24) / 3)
    per_class = result.per_class.set_index("code")
    assert per_class["log_loss"].tolist() == pytest.approx(
        [-np.log(0.7), -np.log(0.4), -np.log(0.6)]
    )


def test_probability_columns_follow_proba_classes():
    shuffled = PROBA[:, [2, 0, 1]]
    plain = accuracy_report(["a", "b", "c"], ["a", "a", "c"], PROBA)
    reordered = accuracy_report(
        ["a", "b", "c"], ["a", "a", "c"], shuffled, proba_classes=["c", "a", "b"]
    )
    assert reordered.summary == pytest.approx(plain.summary)
    with pytest.raises(ValueError, match="repeated codes"):
        accuracy_report(["a", "b", "c"], ["a", "a", "c"], PROBA, proba_classes=["a", "a", "c"])


def test_probability_scores_agree_with_scikit_learn():
    y_true, y_pred, proba, weights = _random_case(seed=2)
    result = accuracy_report(y_true, y_pred, proba, sample_weight=weights)
    classes = [112, 231, 311, 512]
    assert result.summary["log_loss"] == pytest.approx(
        log_loss(y_true, proba, labels=classes, sample_weight=weights)
    )
    own = [y_true == c for c in classes]  # per class: the log loss of its own samples
    expected = [
        log_loss(y_true[o], proba[o], labels=classes, sample_weight=weights[o]) for o in own
    ]
    assert result.per_class["log_loss"].tolist() == pytest.approx(expected)


def test_model_class_absent_from_the_data_adds_a_row_with_undefined_accuracy():
    proba = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])
    result = accuracy_report([1, 2], [1, 2], proba, proba_classes=[1, 2, 3])
    row = result.per_class.set_index("code").loc[3]
    assert row["support"] == 0
    assert np.isnan(row["users_accuracy"]) and np.isnan(row["producers_accuracy"])
    assert np.isnan(row["log_loss"])
    assert result.summary["f1_macro"] == pytest.approx(1.0)  # class 3 not averaged in
    assert result.summary["log_loss"] == pytest.approx(-(np.log(0.6) + np.log(0.7)) / 2)


def test_string_codes_sorted_and_named_by_code_without_a_table():
    result = accuracy_report(["water", "forest", "forest"], ["water", "water", "forest"])
    assert result.per_class["code"].tolist() == ["forest", "water"]
    assert result.per_class["name"].tolist() == ["forest", "water"]
    assert result.confusion.columns.tolist() == ["forest", "water"]
    assert result.confusion.to_numpy().tolist() == [[1, 1], [0, 1]]


def test_class_table_gives_names_and_order():
    table = ClassTable(["water", "forest"], ["Open water", "Forest"])
    result = accuracy_report(
        ["water", "forest", "forest"], ["water", "water", "forest"], classes=table
    )
    assert result.per_class["name"].tolist() == ["Open water", "Forest"]
    assert result.confusion.index.tolist() == ["water Open water", "forest Forest"]
    assert result.confusion.to_numpy().tolist() == [[1, 0], [1, 1]]


def test_codes_missing_from_the_table_are_listed():
    with pytest.raises(ValueError, match=r"\[4\].*known codes: \[1, 2, 3\]"):
        accuracy_report([1, 4], [1, 1], classes=TABLE)


def test_integer_and_string_codes_do_not_mix():
    with pytest.raises(ValueError, match="mix integers and strings"):
        accuracy_report([1, 2], ["1", "2"])


def test_probability_shape_errors_name_the_fix():
    with pytest.raises(ValueError, match="proba_classes=model.classes_"):
        accuracy_report(["a", "b", "c"], ["a", "a", "c"], PROBA[:, :2])
    with pytest.raises(ValueError, match="sum to 1"):
        accuracy_report(["a", "b", "c"], ["a", "a", "c"], PROBA * 100)
    with pytest.raises(ValueError, match="y_pred has 2"):
        accuracy_report([1, 2, 3], [1, 2])


def test_inputs_are_not_modified():
    y_true = pd.Series(Y_TRUE, index=range(10, 20))
    proba = PROBA.copy()
    accuracy_report(y_true, Y_PRED, classes=TABLE)
    accuracy_report(["a", "b", "c"], ["a", "a", "c"], proba)
    assert y_true.index[0] == 10 and y_true.tolist() == Y_TRUE
    assert (proba == PROBA).all()


def test_confusion_table_totals(report):
    table = report.confusion_table()
    assert table.loc["total"].tolist() == [4, 4, 2, 10]
    assert table["total"].tolist() == [5, 3, 2, 10]
    assert report.confusion_table(totals=False).shape == (3, 3)


def test_text_and_html_use_the_fields_words(report):
    text, page = str(report), report._repr_html_()
    for words in ("overall_accuracy", "users_accuracy", "producers_accuracy", "2 water"):
        assert words in text and words in page
    assert "users' accuracy = precision" in text


def test_compare_models_one_row_per_model():
    y_true, y_pred, proba, _ = _random_case()
    reports = {
        "forest": accuracy_report(y_true, y_pred, proba),
        "tree": accuracy_report(y_true, y_true),
    }
    table = compare_models(reports)
    assert table.index.tolist() == ["forest", "tree"]
    assert table.loc["tree", "overall_accuracy"] == 1.0
    assert table.loc["forest", "log_loss"] == pytest.approx(reports["forest"].summary["log_loss"])
    assert np.isnan(table.loc["tree", "log_loss"])


# Olofsson et al. (2014), RSE 148:42-57, worked example (section 5): stratified random
# sample with the map classes as strata; mapped areas in 30 m pixels (0.09 ha).
OLOFSSON_MAP_ROWS = np.array([[66, 0, 5, 4], [0, 55, 8, 12], [1, 0, 153, 11], [2, 1, 9, 313]])
OLOFSSON_AREAS = np.array([200_000, 150_000, 3_200_000, 6_450_000])


def test_area_adjusted_accuracy_reproduces_olofsson_2014():
    result = area_adjusted_accuracy(OLOFSSON_MAP_ROWS.T, OLOFSSON_AREAS)  # rows reference
    per_class = result.per_class
    # hand-computed: deforestation proportion 0.02*66/75 + 0.32*1/165 + 0.645*2/325
    assert result.error_matrix.to_numpy().sum(axis=1)[0] == pytest.approx(0.0235086, abs=1e-7)
    # published values (areas in ha, plus or minus the 95 % half-width)
    hectares = per_class["adjusted_area"] * 0.09
    half_width = 1.96 * per_class["adjusted_area_se"] * 0.09
    assert hectares.round().tolist() == [21158, 11686, 285770, 581386]
    assert half_width.round().tolist() == [6158, 3756, 15510, 16282]
    assert per_class["users_accuracy"].round(2).tolist() == [0.88, 0.73, 0.93, 0.96]
    assert per_class["producers_accuracy"].round(2).tolist() == [0.75, 0.85, 0.93, 0.96]
    assert (1.96 * per_class["users_accuracy_se"]).round(2).tolist() == [0.07, 0.10, 0.04, 0.02]
    assert (1.96 * per_class["producers_accuracy_se"]).round(2).tolist() == [
        0.21,
        0.25,
        0.03,
        0.02,
    ]
    assert result.overall_accuracy == pytest.approx(0.947, abs=5e-4)
    assert 1.96 * result.overall_accuracy_se == pytest.approx(0.018, abs=5e-4)
    assert result.error_matrix.to_numpy().sum() == pytest.approx(1.0)
    assert per_class["adjusted_area"].sum() == pytest.approx(OLOFSSON_AREAS.sum())


def test_area_adjusted_accuracy_from_a_report_with_areas_by_label():
    codes = [1, 2, 3, 4]
    y_true = np.concatenate(
        [np.full(n, codes[j]) for i in range(4) for j, n in enumerate(OLOFSSON_MAP_ROWS[i])]
    )
    y_pred = np.concatenate([np.full(OLOFSSON_MAP_ROWS[i].sum(), codes[i]) for i in range(4)])
    report = accuracy_report(y_true, y_pred)
    areas = dict(zip(report.confusion.columns, OLOFSSON_AREAS, strict=True))
    from_report = area_adjusted_accuracy(report, areas)
    from_array = area_adjusted_accuracy(OLOFSSON_MAP_ROWS.T, OLOFSSON_AREAS)
    assert from_report.per_class.to_numpy() == pytest.approx(from_array.per_class.to_numpy())


def test_area_adjusted_accuracy_errors():
    with pytest.raises(KeyError, match="no area for map classes"):
        area_adjusted_accuracy(
            pd.DataFrame([[3, 1], [1, 3]], index=["a", "b"], columns=["a", "b"]), {"a": 1}
        )
    with pytest.raises(ValueError, match="at least 2 samples"):
        area_adjusted_accuracy(np.array([[3, 0], [1, 1]]), [10, 10])
    with pytest.raises(ValueError, match="square"):
        area_adjusted_accuracy(np.ones((2, 3)), [1, 1, 1])


# -- true map accuracy ---------------------------------------------------------------------
def test_map_accuracy_counts_pixels_against_the_truth(tmp_path):
    from odse_tutorial.datasets import load_dataset

    ds = load_dataset()
    truth = ds.truth("9530", 2018)
    with rasterio.open(truth) as src:
        profile, data, tags = src.profile, src.read(1), src.tags()
        colormap = src.colormap(1)
    valid = data != 0
    wrong = np.zeros_like(valid)
    wrong[:50, :] = True  # the first 50 rows: predict water everywhere
    predicted = np.where(wrong & valid, 512, data).astype(data.dtype)
    path = tmp_path / "dominant_class.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(predicted, 1)
        dst.update_tags(**tags)
        dst.write_colormap(1, colormap)
    expected = 1 - ((wrong & valid) & (data != 512)).sum() / valid.sum()
    report = map_accuracy([path], [truth], classes=ds.classes)
    assert report.summary["overall_accuracy"] == pytest.approx(expected)
    assert report.summary["n_samples"] == valid.sum()  # pixels, not (truth, map) pairs
    assert map_accuracy([truth], [truth]).summary["overall_accuracy"] == 1.0
    # pixel counts are counts: integers, shown without decimals
    assert all(np.issubdtype(t, np.integer) for t in report.confusion.dtypes)
    assert ".000<" not in report._repr_html_().split("Confusion matrix")[1]
    with pytest.raises(ValueError, match="not on the grid"):
        map_accuracy([path], [ds.truth("9529", 2018)]).summary  # noqa: B018


# -- class maps: change, errors by uncertainty, legends -------------------------------------
ORIGIN = Affine(30, 0, 4_300_800, 0, -30, 2_810_880)
CLASSES = ClassTable([211, 231, 311], ["Arable land", "Pastures", "Forest"])


def write_raster(path, array, *, nodata=0, tags=None):
    array = np.asarray(array)
    profile = {"driver": "GTiff", "width": array.shape[1], "height": array.shape[0], "count": 1}
    with rasterio.open(
        path, "w", **profile, dtype=array.dtype.name, nodata=nodata, crs="EPSG:3035",
        transform=ORIGIN,
    ) as dst:  # fmt: skip
        dst.write(array, 1)
        dst.update_tags(**(tags or {}))
    return path


def write_two_years(folder, table=CLASSES):
    """Two 2 x 3 class maps; the second row's last pixel is nodata in the first year."""
    before = np.array([[0, 0, 1], [2, 2, -1]])  # positions in the table, -1 nodata
    after = np.array([[0, 1, 1], [0, 2, 2]])
    values = np.array([*table.raster_values, 0], "uint16")
    return (
        write_raster(folder / "landcover_2000.tif", values[before], tags=table.to_tags()),
        write_raster(folder / "landcover_2018.tif", values[after], tags=table.to_tags()),
    )


def test_class_maps_are_read_through_their_legends_string_codes_too(tmp_path):
    strings = ClassTable(["arable", "pasture", "forest"], CLASSES.names, CLASSES.colours)
    before, after = write_two_years(tmp_path, strings)
    confusion = map_accuracy(after, before).confusion  # rows: 2000, columns: 2018
    # arable -> arable, arable -> pasture, pasture -> pasture, forest -> arable, forest -> forest
    expected = {
        ("arable", "arable"): 1,
        ("arable", "pasture"): 1,
        ("pasture", "pasture"): 1,
        ("forest", "arable"): 1,
        ("forest", "forest"): 1,
    }
    assert confusion.stack()[confusion.stack() > 0].to_dict() == expected


def test_class_maps_need_a_legend_or_a_class_table(tmp_path):
    plain = write_raster(tmp_path / "a.tif", np.array([[211, 231]], "uint16"))
    with pytest.raises(ValueError, match="no 'classes' tag.*Pass the class table"):
        map_accuracy(plain, plain)
    # without a legend, the pixel values follow the table's rule (ClassTable.raster_values)
    assert map_accuracy(plain, plain, classes=CLASSES).confusion.to_numpy().trace() == 2
    stray = write_raster(tmp_path / "b.tif", np.array([[211, 7]], "uint16"), tags=CLASSES.to_tags())
    with pytest.raises(ValueError, match=r"pixel value\(s\) \[7\]"):
        map_accuracy([stray], [plain], classes=CLASSES)


def test_error_rate_by_uncertainty_by_hand(tmp_path):
    before, after = write_two_years(tmp_path)
    uncertainty = np.array([[5, 95, 15], [100, 12, 50]], "uint8")
    path = write_raster(tmp_path / "uncertainty.tif", uncertainty, nodata=255)
    table = error_rate_by_uncertainty(path, after, before, n_bins=2)
    # Valid pixels: all but the nodata one of `before`; wrong: (0, 1) at 95 % and (1, 0) at 100 %.
    assert table[["lower", "upper"]].values.tolist() == [[0, 50], [50, 100]]
    assert table.n_pixels.tolist() == [3, 2]
    assert table.n_errors.tolist() == [0, 2]
    assert table.error_rate.tolist() == [0.0, 1.0]
    assert table.share_of_pixels.tolist() == [0.6, 0.4]
    with pytest.raises(ValueError, match="n_bins"):
        error_rate_by_uncertainty(path, after, before, n_bins=0)


def test_error_rate_by_uncertainty_fits_bins_to_low_values_and_pools_maps(tmp_path):
    before, after = write_two_years(tmp_path)
    low = np.array([[1, 9, 3], [12, 2, 5]], "uint8")  # wrong at 9 % and 12 %
    path = write_raster(tmp_path / "uncertainty.tif", low, nodata=255)
    table = error_rate_by_uncertainty(path, after, before, n_bins=4)
    assert table[["lower", "upper"]].values.tolist() == [[0, 3], [3, 6], [6, 9], [9, 12]]
    assert table.n_pixels.tolist() == [2, 1, 0, 2]  # 12 % falls in the last bin
    assert table.n_errors.tolist() == [0, 0, 0, 2]
    pooled = error_rate_by_uncertainty([path, path], [after, after], [before, before], n_bins=4)
    assert pooled.n_pixels.tolist() == [4, 2, 0, 4]
    with pytest.raises(ValueError, match="as many maps"):
        error_rate_by_uncertainty([path, path], [after], [before])


# -- calibration -----------------------------------------------------------------------------
def test_reliability_bins_and_calibration_error_by_hand():
    proba = [[0.92, 0.08], [0.85, 0.15], [0.28, 0.72], [0.45, 0.55]]
    y_true = [1, 2, 2, 1]  # right, wrong, right, wrong
    table = reliability_table(y_true, proba, [1, 2], n_bins=10)
    full = table[table.n_samples > 0]
    assert full.index.tolist() == [5, 7, 8, 9]
    np.testing.assert_allclose(full.mean_confidence, [0.55, 0.72, 0.85, 0.92])
    np.testing.assert_allclose(full.accuracy, [0, 1, 0, 1])
    ece = expected_calibration_error(y_true, proba, [1, 2], n_bins=10)
    assert ece == pytest.approx((0.08 + 0.85 + 0.28 + 0.55) / 4)
    # two bins: all four in (0.5, 1], mean confidence 0.76, half right
    assert expected_calibration_error(y_true, proba, [1, 2], n_bins=2) == pytest.approx(0.26)
    assert reliability_table(y_true, proba, [1, 2], n_bins=2).n_samples.tolist() == [0, 4]
    assert reliability_table([1], [[0.5, 0.5]], [1, 2], n_bins=2).n_samples[0] == 1
    with pytest.raises(ValueError, match="one column per class"):
        reliability_table(y_true, proba, [1, 2, 3])


def test_a_calibrated_model_has_a_small_calibration_error():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.5, 1.0, 20_000)
    right = rng.random(20_000) < confidence  # right exactly as often as it says
    proba = np.column_stack([confidence, 1 - confidence])
    y_true = np.where(right, 1, 2)
    assert expected_calibration_error(y_true, proba, [1, 2]) < 0.02


# -- metrics.json ----------------------------------------------------------------------------
def test_write_metrics_writes_strict_json_with_relative_map_paths(tmp_path):
    maps = [tmp_path / "9529" / "2018" / "dominant_class.tif"]
    catalogue = SimpleNamespace(paths=lambda: maps)
    report = accuracy_report(Y_TRUE, Y_PRED, classes=TABLE)
    path = write_metrics(
        tmp_path, notebook="nb", dataset="simulated", cv="5 folds", report=report,
        maps=catalogue, seconds=np.float64("nan"), n_tiles=np.int64(2),
    )  # fmt: skip
    metrics = json.loads(path.read_text())
    assert metrics["overall_accuracy"] == 0.6 and metrics["n_classes"] == 3
    assert metrics["maps"] == ["9529/2018/dominant_class.tif"]
    assert metrics["seconds"] is None and metrics["n_tiles"] == 2 and metrics["log_loss"] is None
    with pytest.raises(AttributeError, match="paths"):  # a MapCatalogue, not a frame
        write_metrics(tmp_path, notebook="nb", dataset="d", cv="c", report=report,
                      maps=pd.DataFrame({"path": maps}))  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temporary left


def test_accuracy_report_checks_weights_with_the_package_check():
    with pytest.raises(ValueError, match="sample_weight is zero for all 3 samples"):
        accuracy_report([1, 2, 2], [1, 2, 1], sample_weight=[0, 0, 0])


def test_error_rate_by_uncertainty_closes_every_map_on_error(tmp_path, monkeypatch):
    from odse_tutorial import evaluation

    before, after = write_two_years(tmp_path)
    path = write_raster(tmp_path / "u.tif", np.array([[5, 95, 15], [200, 1, 2]], "uint8"))
    opened, open_ = [], rasterio.open
    monkeypatch.setattr(
        evaluation.rasterio, "open", lambda *a, **k: opened.append(open_(*a, **k)) or opened[-1]
    )
    with pytest.raises(ValueError, match="outside 0-100") as info:
        error_rate_by_uncertainty(path, after, before)
    assert info.value is not None and len(opened) >= 3
    assert all(src.closed for src in opened)


def test_calibration_takes_the_column_classes_as_labels_and_does_not_round():
    proba = [[0.9, 0.1], [0.65, 0.35], [0.2, 0.8]]
    table = reliability_table([1, 2, 2], proba, labels=[1, 2], n_bins=3)
    ece = expected_calibration_error([1, 2, 2], proba, labels=[1, 2], n_bins=3)
    gap = (table.accuracy - table.mean_confidence).abs().dropna()
    assert ece == float(np.average(gap, weights=table.n_samples[gap.index]))


def test_paired_difference_is_the_t_interval_of_the_mean_difference():
    from scipy import stats

    from odse_tutorial.evaluation import _paired_difference as paired_difference

    a, b = np.array([0.81, 0.84, 0.80, np.nan, 0.83]), np.array([0.79, 0.80, 0.80, 0.7, 0.79])
    d = (a - b)[:3].tolist() + [(a - b)[4]]  # the missing pair is dropped
    result = paired_difference(a, b)
    se = np.std(d, ddof=1) / 2
    assert result["n"] == 4 and result["mean"] == pytest.approx(np.mean(d))
    assert result["se"] == pytest.approx(se) and result["t"] == pytest.approx(stats.t.ppf(0.975, 3))
    assert result["half_width"] == pytest.approx(stats.t.ppf(0.975, 3) * se)
    assert np.isnan(paired_difference([1.0], [0.5])["half_width"])


def test_paired_difference_corrects_the_variance_as_nadeau_and_bengio():
    from odse_tutorial.evaluation import _paired_difference as paired_difference

    # Worked by hand: d = 0.02, 0.04, 0.00, 0.03, 0.03; mean 0.024; sum of squared
    # deviations 0.00092, variance 0.00092 / 4 = 0.00023; n_test / n_train = 0.25, so
    # se = sqrt(0.00023 x (1/5 + 0.25)) and t(0.975, 4 df) = 2.7764451.
    result = paired_difference(
        [0.81, 0.84, 0.80, 0.83, 0.82], [0.79, 0.80, 0.80, 0.80, 0.79], test_train_ratio=0.25
    )
    assert result["mean"] == pytest.approx(0.024)
    assert result["se"] == pytest.approx(np.sqrt(0.00023 * 0.45))
    assert result["half_width"] == pytest.approx(2.7764451 * np.sqrt(0.00023 * 0.45))


def _folds_with_accuracies(accuracies, sizes):
    """y alternating 1/2, fold ids, and probabilities right on the first acc x n of each fold."""
    folds = np.repeat(np.arange(len(sizes)), sizes)
    y = np.tile([1, 2], len(folds) // 2 + 1)[: len(folds)]
    right = np.concatenate(
        [np.arange(n) < round(a * n) for a, n in zip(accuracies, sizes, strict=True)]
    )
    mapped = np.where(right, y, 3 - y)
    return y, folds, np.where(mapped[:, None] == [1, 2], 0.8, 0.2)


@pytest.mark.parametrize(
    ("new", "beyond"),
    [([0.7, 0.8, 0.7, 0.75], True), ([0.6, 0.7, 0.6, 0.55], False)],
)
def test_compare_on_folds_is_the_corrected_t_test_of_the_fold_accuracies(new, beyond):
    from odse_tutorial.evaluation import compare_on_folds

    sizes = [10, 10, 10, 20]
    y, folds, base = _folds_with_accuracies([0.5] * 4, sizes)
    _, _, model = _folds_with_accuracies(new, sizes)
    result = compare_on_folds({"base": base, "new": model}, y, folds, metrics=["overall_accuracy"])
    # by hand: fold differences, their variance x (1/k + mean n_test / n_train), 3 df
    d = np.array(new) - 0.5
    ratio = (10 / 40 + 10 / 40 + 10 / 40 + 20 / 30) / 4
    se = np.sqrt(np.var(d, ddof=1) * (1 / 4 + ratio))
    row = result.differences.iloc[0]
    assert result.test_train_ratio == pytest.approx(ratio)
    assert row["difference"] == pytest.approx(d.mean()) and row["se"] == pytest.approx(se)
    assert row["ci_low"] == pytest.approx(d.mean() - 3.1824463 * se)
    assert row["beyond_noise"] == beyond and row["wins"] == 4
    assert result.table.loc["new", "overall_accuracy"] == pytest.approx(np.mean(new))
    verdict = "new is better, beyond the noise" if beyond else "within the noise of the folds"
    assert verdict in result.sentence
    if not beyond:  # the uncorrected t-test would have called this gain real
        assert d.mean() > 3.1824463 * np.std(d, ddof=1) / 2


def test_compare_on_folds_names_the_better_model_for_lower_is_better_metrics():
    from odse_tutorial.evaluation import compare_on_folds

    sizes = [10, 10, 10, 20]
    y, folds, worse = _folds_with_accuracies([0.5] * 4, sizes)
    _, _, better = _folds_with_accuracies([0.7, 0.8, 0.7, 0.75], sizes)
    result = compare_on_folds({"better": better, "worse": worse}, y, folds, metrics=["log_loss"])
    row = result.differences.iloc[0]
    assert row["model"] == "worse" and row["difference"] > 0 and row["beyond_noise"]
    assert "better is better, beyond the noise" in result.sentence
    assert json.loads(json.dumps(result.to_dict()))["differences"][0]["wins"] == 0
    left_out = compare_on_folds(  # samples no fold tests (-1) change nothing
        {"better": np.vstack([better, [[0.5, 0.5]]]), "worse": np.vstack([worse, [[1, 0]]])},
        np.append(y, 2),
        np.append(folds, -1),
        metrics=["log_loss"],
    )
    pd.testing.assert_frame_equal(left_out.differences, result.differences)


def test_compare_on_folds_says_why_it_cannot_compare(caplog):
    from odse_tutorial.evaluation import compare_on_folds

    y, folds, proba = _folds_with_accuracies([0.5, 0.7], [10, 10])
    with caplog.at_level("WARNING"):
        assert compare_on_folds({"a": proba, "b": proba}, y, np.zeros(20, int)) is None
        assert compare_on_folds({"a": proba}, y, folds) is None
    assert "two folds and two models" in caplog.text
    with pytest.raises(ValueError, match="Unknown metrics"):
        compare_on_folds({"a": proba, "b": proba}, y, folds, metrics=["accuracy"])


def test_beside_truth_puts_each_estimate_beside_the_truth(caplog):
    from odse_tutorial.evaluation import beside_truth

    table = beside_truth({"CV": 0.70, "best_score_": 0.81, "nested": 0.74}, 0.75)
    assert table["error"].round(6).to_dict() == {"CV": -0.05, "best_score_": 0.06, "nested": -0.01}
    assert table.attrs["sentence"] == (
        "True overall accuracy 0.750: some estimates are above it, some below; closest nested "
        "(-0.010), farthest best_score_ (+0.060)."
    )
    below = beside_truth({"random": 0.85, "blocked": 0.79}, 0.918).attrs["sentence"]
    assert "every estimate is below it (pessimistic); closest random (-0.068)" in below
    one = beside_truth({"CV": 0.70}, 0.75, metric="F1")
    assert one.attrs["sentence"] == "True F1 0.750: CV is off by -0.050."
    with caplog.at_level("WARNING"):
        assert beside_truth({"CV": 0.70}, None) is None
        assert beside_truth({"CV": 0.70}, float("nan")) is None
    assert "No truth for these data" in caplog.text


def test_beside_truth_takes_one_truth_per_estimate():
    from odse_tutorial.evaluation import beside_truth

    table = beside_truth({"a": 0.70, "b": 0.80, "c": 0.9}, {"a": 0.75, "b": 0.78})
    assert table["error"].round(6).tolist()[:2] == [-0.05, 0.02]
    assert np.isnan(table.loc["c", "error"])
    assert table.attrs["sentence"].startswith("Each estimate against its own true")
    assert beside_truth({"a": 0.7}, {"a": None}) is None


def test_write_metrics_leaves_out_entries_without_a_value(tmp_path):
    report = accuracy_report([1, 1, 2], [1, 2, 2])
    path = write_metrics(
        tmp_path, notebook="n", dataset="d", cv="c", report=report, truth=None, seconds=1.5
    )
    metrics = json.loads(path.read_text())
    assert "truth" not in metrics and metrics["seconds"] == 1.5


def test_compare_on_folds_leaves_out_samples_without_truth_and_scores_ece():
    from odse_tutorial.evaluation import compare_on_folds, expected_calibration_error

    sizes = [10, 10, 10, 20]
    y, folds, base = _folds_with_accuracies([0.5] * 4, sizes)
    _, _, model = _folds_with_accuracies([0.7, 0.8, 0.7, 0.75], sizes)
    truth = pd.Series(y, dtype="Int64")
    truth[[0, 1]] = pd.NA  # no truth there: as if those samples were in no fold
    result = compare_on_folds({"base": base, "new": model}, truth, folds, metrics=["ece"])
    first = result.per_fold.iloc[0]
    assert first["n_test"] == 8
    assert first["ece"] == pytest.approx(expected_calibration_error(y[2:10], base[2:10], [1, 2]))
    assert "(lower is better)" in result.sentence
    assert compare_on_folds({"base": base, "new": model}, None, folds) is None


@pytest.fixture(scope="module")
def simulated():
    from odse_tutorial.datasets import load_dataset

    return load_dataset()


def test_truth_at_reads_the_pixel_of_each_point_in_any_crs(simulated):
    from odse_tutorial.evaluation import label_agreement, truth_at

    points = simulated.samples.iloc[::300].copy()
    points["year"] = 2018
    by_hand = []  # brute force: the pixel under each point, decoded by the map's legend
    for tile, x, y in zip(points["tile_id"], points.geometry.x, points.geometry.y, strict=True):
        with rasterio.open(simulated.truth(tile, 2018)) as src:
            value = src.read(1)[src.index(x, y)]
            by_hand.append(ClassTable.from_tags(src.tags()).decode([value])[0][0])
    assert truth_at(simulated, points).tolist() == by_hand
    assert truth_at(simulated, points.to_crs(4326)).tolist() == by_hand
    table = label_agreement(simulated, points)
    agree = np.mean(np.array(by_hand) == points["lc_code"].to_numpy())
    assert table.loc["all", "agree"] == pytest.approx(agree)
    assert table.loc["all", "samples"] == len(points) == table["samples"].iloc[:-1].sum()


def test_truth_helpers_say_why_without_truth_maps(caplog):
    from odse_tutorial.evaluation import label_agreement, true_map_accuracy, truth_at

    no_truth = SimpleNamespace(has_truth=False)
    with caplog.at_level("WARNING"):
        assert truth_at(no_truth, None) is None and label_agreement(no_truth, None) is None
        assert true_map_accuracy(None, no_truth) is None
    assert "the true accuracy of its maps is unknown" in caplog.text


def test_true_map_accuracy_pools_every_tile_and_year(simulated):
    from odse_tutorial.evaluation import true_map_accuracy

    tiles, years = simulated.tiles[:2], [2015, 2018]
    # the truth of 2000 stands in for each map: its accuracy is the share unchanged since 2000
    maps = SimpleNamespace(tiles=tiles, years=years, path=lambda t, y, p: simulated.truth(t, 2000))
    pairs = [(t, y) for t in tiles for y in years]
    hits = total = 0
    for t, y in pairs:
        with (
            rasterio.open(simulated.truth(t, 2000)) as a,
            rasterio.open(simulated.truth(t, y)) as b,
        ):
            first, second = a.read(1, masked=True), b.read(1, masked=True)
            valid = ~(np.ma.getmaskarray(first) | np.ma.getmaskarray(second))
            hits, total = hits + (first == second)[valid].sum(), total + valid.sum()
    assert true_map_accuracy(maps, simulated) == pytest.approx(hits / total)


def _map_and_truth(folder, mapped_codes, true_codes):
    """A 10 x 10 map and truth map (30 m pixels) of CLASSES, from codes in reading order."""
    lookup = dict(zip(CLASSES.codes, CLASSES.raster_values, strict=True))
    paths = []
    for name, codes in [("map", mapped_codes), ("truth", true_codes)]:
        values = np.array([lookup[c] for c in codes], "uint16").reshape(10, 10)
        paths.append(write_raster(folder / f"{name}.tif", values, tags=CLASSES.to_tags()))
    return paths


# map: 60 pixels 211, 30 231, 10 311; truth: 211's stratum holds 6 pixels of 231 (omission
# of 231), 311's stratum 5 pixels of 211
MAPPED = [211] * 60 + [231] * 30 + [311] * 10
TRUE = [211] * 54 + [231] * 6 + [231] * 30 + [311] * 5 + [211] * 5


@pytest.mark.parametrize(
    ("allocation", "expected"),
    [
        ("proportional", [12, 6, 4]),  # round(20 x [0.6, 0.3, 0.1]), at least 4
        ("equal", [7, 7, 7]),  # round(20 / 3)
        # N_h S_h = 60 sqrt(2 x 0.9 x 0.1), 0, 10 sqrt(2 x 0.25) -> 20 x [0.78, 0, 0.22]
        ("neyman", [16, 4, 4]),
        ({211: 10, 231: 3}, [10, 3, 0]),
    ],
)
def test_stratified_sample_counts_allocates_as_computed_by_hand(tmp_path, allocation, expected):
    from odse_tutorial.areas import stratified_sample_counts

    mapped, truth = _map_and_truth(tmp_path, MAPPED, TRUE)
    sample = stratified_sample_counts(
        mapped, truth, n_points=20, min_per_stratum=4, allocation=allocation, random_state=1
    )
    assert sample.n_per_stratum.tolist() == expected
    assert sample.counts.sum(axis=0).tolist() == expected  # columns: the map classes
    assert sample.counts.loc[231, 311] == 0 and sample.counts.loc[311, 231] == 0  # none there
    assert sample.mapped_area.tolist() == pytest.approx([5.4, 2.7, 0.9])  # 0.09 ha pixels
    assert sample.true_area.tolist() == pytest.approx([59 * 0.09, 36 * 0.09, 5 * 0.09])


def test_area_ci_coverage_estimates_as_area_adjusted_accuracy(tmp_path):
    from odse_tutorial.areas import area_ci_coverage, stratified_sample_counts

    paths = _map_and_truth(tmp_path, MAPPED, TRUE)
    design = {"n_points": 20, "min_per_stratum": 4, "random_state": 3}
    sample = stratified_sample_counts(*paths, **design)
    one = area_ci_coverage(*paths, **design, n_draws=1)  # the same draw
    expected = area_adjusted_accuracy(sample.counts, sample.mapped_area).per_class
    np.testing.assert_allclose(one["mean_estimate"], expected["adjusted_area"])
    np.testing.assert_allclose(one["mean_se"], expected["adjusted_area_se"])
    held = (expected["adjusted_area_low"] <= sample.true_area) & (
        sample.true_area <= expected["adjusted_area_high"]
    )
    assert one["coverage"].tolist() == held.astype(float).tolist()
    many = area_ci_coverage(*paths, **design | {"n_draws": 4000})  # unbiased
    bias = (many["mean_estimate"] - many["true_area"]).abs()
    assert (bias <= 4 * many["sd_estimate"] / np.sqrt(4000) + 1e-9).all()
    assert many.attrs["mc_margin"] == pytest.approx(1.959964 * np.sqrt(0.95 * 0.05 / 4000))


def test_area_ci_coverage_flags_zero_width_intervals_and_the_remedy_has_none(tmp_path, caplog):
    from odse_tutorial.areas import area_ci_coverage, stratified_sample_counts

    perfect = _map_and_truth(tmp_path, MAPPED, MAPPED)
    standard = area_ci_coverage(*perfect, n_points=20, min_per_stratum=4, n_draws=50)
    assert (standard["zero_width"] == 1).all() and (standard["coverage"] == 1).all()
    assert (
        "Zero-width intervals in 100.0% of them (classes 211, 231, 311)"
        in (standard.attrs["sentence"])
    )
    remedy = area_ci_coverage(*perfect, n_points=20, min_per_stratum=4, interval="jeffreys")
    assert (remedy["zero_width"] == 0).all() and (remedy["coverage"] == 1).all()
    assert remedy.attrs["above"] == [211, 231, 311] and remedy.attrs["below"] == []  # too wide
    with caplog.at_level("WARNING"):
        assert area_ci_coverage(perfect[0], None) is None
        assert stratified_sample_counts(perfect[0], None) is None
    assert "No truth map" in caplog.text


def _probability_maps(folder, seed=0):
    """A 20 x 20 model output of CLASSES (percent probabilities, dominant class, entropy as
    uncertainty.tif) and a truth map that differs more where the model is unsure."""
    from odse_tutorial.uncertainty import normalized_entropy

    rng = np.random.default_rng(seed)
    proba = np.floor(rng.dirichlet([0.6, 0.6, 0.6], 400) * 100)
    proba[:, 0] += 100 - proba.sum(axis=1)  # whole percents summing to 100
    entropy = normalized_entropy(proba / 100)
    dominant = proba.argmax(axis=1)
    wrong = rng.random(400) < entropy * 0.6
    truth = np.where(wrong, (dominant + 1 + rng.integers(0, 2, 400)) % 3, dominant)
    values = np.asarray(CLASSES.raster_values, "uint16")
    paths = {
        "dominant_class": write_raster(
            folder / "dominant.tif", values[dominant].reshape(20, 20), tags=CLASSES.to_tags()
        ),
        "truth": write_raster(
            folder / "truth.tif", values[truth].reshape(20, 20), tags=CLASSES.to_tags()
        ),
        "uncertainty": write_raster(
            folder / "u.tif", np.round(100 * entropy).astype("uint8").reshape(20, 20), nodata=255
        ),
    }
    for j, code in enumerate(CLASSES.codes):
        paths[code] = write_raster(
            folder / f"p{code}.tif", proba[:, j].astype("uint8").reshape(20, 20), nodata=255
        )
    maps = SimpleNamespace(
        tiles=["t"], years=[2000], classes=CLASSES, path=lambda t, y, p, c=None: paths[c or p]
    )
    dataset = SimpleNamespace(has_truth=True, truth=lambda t, y: paths["truth"])
    return maps, dataset, paths, (dominant != truth), np.round(100 * entropy), 100 * entropy


def test_uncertainty_against_error_is_the_roc_auc_and_error_shares_computed_by_hand(tmp_path):
    from sklearn.metrics import roc_auc_score

    from odse_tutorial.evaluation import uncertainty_against_error

    maps, dataset, paths, wrong, u, entropy = _probability_maps(tmp_path)
    check = uncertainty_against_error(
        maps, dataset, measures={"spread": "uncertainty", "entropy": "entropy"}
    )
    assert check.table.loc["spread", "roc_auc"] == pytest.approx(roc_auc_score(wrong, u), abs=1e-12)
    assert check.table.loc["entropy", "roc_auc"] == pytest.approx(
        roc_auc_score(wrong, entropy), abs=0.01
    )
    top = u >= np.quantile(u, 0.9, method="inverted_cdf")
    assert check.table.loc["spread", "top_decile_error_share"] == pytest.approx(
        wrong[top].sum() / wrong.sum()
    )
    assert check.map_accuracy == pytest.approx(1 - wrong.mean())
    expected = error_rate_by_uncertainty(
        paths["uncertainty"], paths["dominant_class"], paths["truth"]
    )
    pd.testing.assert_frame_equal(check.by_bin, expected)
    assert "On the same errors, the spread (AUC" in check.sentence
    with_no_truth = SimpleNamespace(has_truth=False)
    assert uncertainty_against_error(maps, with_no_truth) is None


def test_error_rate_by_uncertainty_takes_explicit_bins_for_any_values(tmp_path):
    maps, dataset, paths, wrong, u, entropy = _probability_maps(tmp_path)
    di = (u / 37).astype("float32").reshape(20, 20)  # a dissimilarity-like map, NaN nodata
    di[0, :5] = np.nan
    path = write_raster(tmp_path / "di.tif", di, nodata=np.nan)
    table = error_rate_by_uncertainty(
        path, paths["dominant_class"], paths["truth"], bins=[0, 1, np.inf]
    )
    value, error = di.ravel()[5:], wrong[5:]  # the first five pixels are nodata
    assert table.n_pixels.tolist() == [(value < 1).sum(), (value >= 1).sum()]
    assert table.n_errors.tolist() == [error[value < 1].sum(), error[value >= 1].sum()]


def test_change_against_truth_counts_mapped_spurious_and_missed_change(tmp_path):
    from odse_tutorial.evaluation import change_against_truth

    values = np.asarray(CLASSES.raster_values, "uint16")
    a, b = 0, 1
    layers = {  # truth: pixel 2 changes; map: pixels 1, 2 and 4 change, 4 wrong in 2000
        ("truth", 2000): [a, a, a, b, b, b],
        ("truth", 2001): [a, a, b, b, b, b],
        ("map", 2000): [a, a, a, b, a, b],
        ("map", 2001): [a, b, b, b, b, b],
    }
    paths = {
        key: write_raster(
            tmp_path / f"{key[0]}{key[1]}.tif", values[v].reshape(2, 3), tags=CLASSES.to_tags()
        )
        for key, v in layers.items()
    }
    zero = write_raster(tmp_path / "p.tif", np.zeros((2, 3), "uint8"), nodata=255)
    maps = SimpleNamespace(
        tiles=["t"],
        years=[2000, 2001],
        classes=CLASSES,
        path=lambda t, y, p, c=None: zero if p == "probability" else paths["map", y],
    )
    dataset = SimpleNamespace(has_truth=True, truth=lambda t, y: paths["truth", y])
    check = change_against_truth(maps, dataset)
    expected = {
        "mapped_share": 3 / 6,
        "true_share": 1 / 6,
        "spurious_share": 2 / 3,
        "missed_share": 0.0,
    }
    assert check.table.iloc[0].to_dict() == pytest.approx(expected)
    assert check.all_pairs["map_accuracy"] == pytest.approx(10 / 12)
    assert check.to_dict()["year_to"] == 2001 and "33% of the true" not in check.sentence
    shapes = []
    ruled = change_against_truth(  # a rule that maps every pixel as the first class
        maps, dataset, rule=lambda p: shapes.append(p.shape) or np.zeros((2, 2, 3), int)
    )
    assert shapes == [(2, 3, 2, 3)] and ruled.summary["missed_share"] == 1.0
    assert ruled.all_pairs["map_accuracy"] == pytest.approx(5 / 12)  # 3 + 2 pixels of a


def test_change_against_truth_says_why_it_is_skipped(caplog):
    from odse_tutorial.evaluation import change_against_truth

    maps = SimpleNamespace(years=[2021])
    with caplog.at_level("WARNING"):
        assert change_against_truth(maps, SimpleNamespace(has_truth=False)) is None
    assert "this dataset has no truth maps and one year (2021): the change" in caplog.text


@pytest.mark.parametrize("classes", [None, np.array(["122", "211", "300"])])
def test_compare_on_folds_takes_string_codes_with_a_class_absent_from_a_fold(classes):
    from odse_tutorial.evaluation import compare_on_folds

    y = pd.Series(["122", "211", "300"] * 10, dtype="string")
    folds = np.repeat(np.arange(5), 6)
    y[folds == 0] = "122"  # fold 0 has no 211 nor 300
    even = np.full((30, 3), 1 / 3)
    result = compare_on_folds({"x": even, "z": even}, y, folds, classes=classes)
    assert result.per_fold["overall_accuracy"].tolist()[:2] == [1.0, pytest.approx(1 / 3)]
