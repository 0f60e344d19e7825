"""Tests of odse_tutorial.model_selection: spatial splitters, alone and inside scikit-learn."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import fold_overlap
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import (
    GridSearchCV,
    cross_val_predict,
    cross_val_score,
    cross_validate,
)
from sklearn.tree import DecisionTreeClassifier

from odse_tutorial.model_selection import (
    SpatialKFold,
    block_cv,
    cross_val_predict_years,
    cv_candidates,
    fold_ids,
    location_cv,
    nn_distances,
    out_of_fold_proba,
    random_cv,
    tile_cv,
)

BLOCK = 5_000.0
X0, Y0 = 4_000_000.0, 3_000_000.0  # EPSG:3035 metres, multiples of BLOCK
CODES = np.array([211, 231, 311, 512])
FEATURES = ["ndvi", "red", "elevation"]


def make_samples(n_locations: int = 150, seed: int = 0) -> gpd.GeoDataFrame:
    """Locations in a 20 km square, surveyed in 1 to 3 years each, with GPS jitter.

    The first six locations sit 1 m from a block edge and their surveys alternate
    5 m either side of it, so that one location falls into two blocks.
    """
    rng = np.random.default_rng(seed)
    east = rng.uniform(0, 20_000, n_locations)
    north = rng.uniform(0, 20_000, n_locations)
    east[:6] = [5_001, 10_001, 15_001, 5_001, 10_001, 15_001]
    n_years = rng.integers(1, 4, n_locations)
    n_years[:6] = 3
    location = np.repeat(np.arange(n_locations), n_years)
    year = np.concatenate([2000 + 5 * np.arange(k) for k in n_years])
    jitter = rng.normal(0, 10, (len(location), 2))
    edge = location < 6
    jitter[edge, 0] = np.where(year[edge] == 2005, 5.0, -6.0)
    x = X0 + east[location] + jitter[:, 0]
    y = Y0 + north[location] + jitter[:, 1]
    tile = [f"T{int(e // 10_000)}{int(n // 10_000)}" for e, n in zip(east, north, strict=True)]
    class_of_location = rng.choice(CODES, n_locations)
    code = class_of_location[location]
    signal = {211: 0.3, 231: 0.5, 311: 0.8, 512: -0.2}
    fingerprint = rng.normal(0, 0.3, (n_locations, len(FEATURES)))  # what leaks between years
    values = fingerprint[location] + rng.normal(0, 0.02, (len(location), len(FEATURES)))
    values[:, 0] += np.vectorize(signal.get)(code)
    frame = pd.DataFrame(values, columns=FEATURES)
    frame["location_id"] = location + 100
    frame["year"] = year
    frame["tile_id"] = np.asarray(tile)[location]
    frame["class"] = code
    frame.index = pd.RangeIndex(1000, 1000 + 3 * len(frame), 3)  # labels are not positions
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs="EPSG:3035")


@pytest.fixture(scope="module")
def samples() -> gpd.GeoDataFrame:
    return make_samples()


@pytest.fixture(scope="module")
def X(samples) -> pd.DataFrame:
    return pd.DataFrame(samples[FEATURES])


@pytest.fixture(scope="module")
def y(samples) -> pd.Series:
    return samples["class"]


def spatial_blocks(samples, block_size, **kwargs):
    """Block ids without merging by location: the groups of block_cv(location_column=None)."""
    return block_cv(samples, block_size, location_column=None, **kwargs).groups


def spatial_splitters(samples):
    return {
        "block": block_cv(samples, BLOCK, n_splits=5),
        "tile": tile_cv(samples),
        "location": location_cv(samples, n_splits=5),
    }


# -- spatial_blocks ------------------------------------------------------------------------
def test_spatial_blocks_ids_and_index():
    points = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([10, 999, 1000, -1, 2500], [10, 10, 2999, -1, 3000]),
        index=["a", "b", "c", "d", "e"],
        crs="EPSG:3035",
    )
    blocks = spatial_blocks(points, 1000)
    assert blocks.index.tolist() == ["a", "b", "c", "d", "e"]
    assert blocks.tolist() == ["E0000N0000", "E0000N0000", "E0001N0002", "E-001N-001", "E0002N0003"]


def test_blocks_of_samples_in_degrees_are_drawn_in_their_utm_zone(samples):
    degrees = samples.to_crs("EPSG:4326")
    utm = degrees.to_crs(degrees.estimate_utm_crs())
    pd.testing.assert_series_equal(spatial_blocks(degrees, BLOCK), spatial_blocks(utm, BLOCK))


def test_spatial_blocks_needs_a_geodataframe(samples):
    with pytest.raises(TypeError, match="GeoDataFrame"):
        spatial_blocks(pd.DataFrame(samples.drop(columns="geometry")), BLOCK)
    with pytest.raises(ValueError, match="positive"):
        spatial_blocks(samples, 0)


# -- no leakage ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["block", "tile", "location"])
def test_no_location_on_both_sides_of_any_split(samples, X, name):
    cv = spatial_splitters(samples)[name]
    locations = samples["location_id"].to_numpy()
    n_tested = np.zeros(len(X), dtype=int)
    splits = list(cv.split(X))
    assert len(splits) == cv.get_n_splits(X)
    for train, test in splits:
        assert set(locations[train]).isdisjoint(locations[test])
        assert len(train) + len(test) == len(X)
        n_tested[test] += 1
    assert (n_tested == 1).all()  # every sample tested exactly once
    assert fold_overlap(cv, X, samples["location_id"]) == 0


def test_every_block_is_in_exactly_one_test_fold(samples, X):
    blocks = spatial_blocks(samples, BLOCK).to_numpy()
    folds_of_block: dict[str, set[int]] = {}
    for k, (_, test) in enumerate(block_cv(samples, BLOCK).split(X)):
        for block in blocks[test]:
            folds_of_block.setdefault(block, set()).add(k)
    assert set(folds_of_block) == set(blocks)
    assert all(len(folds) == 1 for folds in folds_of_block.values())


def test_blocks_sharing_a_jittered_location_are_merged(samples, X):
    blocks = spatial_blocks(samples, BLOCK)
    first = samples["location_id"] == 100
    assert blocks[first].nunique() == 2  # the fixture's edge location straddles two blocks
    merged = block_cv(samples, BLOCK)
    assert merged.groups[first].nunique() == 1
    assert "+" in merged.groups[first].iloc[0]
    # without merging, the straddling locations leak
    unmerged = block_cv(samples, BLOCK, location_column=None)
    assert fold_overlap(unmerged, X, samples["location_id"]) > 0
    assert fold_overlap(merged, X, samples["location_id"]) == 0


def test_tile_cv_has_one_fold_per_tile_and_merges_tiles_sharing_a_location(samples, X):
    cv = tile_cv(samples)
    assert cv.get_n_splits(X) == samples["tile_id"].nunique() == 4
    for _, test in cv.split(X):
        assert samples["tile_id"].iloc[test].nunique() == 1
    edited = samples.copy()
    edited.loc[edited.index[0], "tile_id"] = "T11"  # a survey of a T0x location filed in T11
    merged = tile_cv(edited)
    assert merged.get_n_splits(X) == 3
    assert fold_overlap(merged, X, edited["location_id"]) == 0
    assert samples.loc[samples.index[0], "tile_id"] != "T11"  # caller's frame untouched


def test_random_cv_leaks_locations_between_folds(samples, X, y):
    assert fold_overlap(random_cv(), X, samples["location_id"], y=y) > 20


def test_random_cv_is_shuffled_stratified_k_fold():
    cv = random_cv(4, random_state=3)
    assert (cv.n_splits, cv.shuffle, cv.random_state) == (4, True, 3)


# -- determinism and balance ---------------------------------------------------------------
def _tests(cv, X):
    return [test.tolist() for _, test in cv.split(X)]


def test_same_random_state_same_folds_different_state_different_folds(samples, X):
    first = _tests(location_cv(samples, random_state=7), X)
    assert first == _tests(location_cv(samples, random_state=7), X)
    assert first != _tests(location_cv(samples, random_state=8), X)
    assert _tests(block_cv(samples, BLOCK), X) == _tests(block_cv(samples, BLOCK), X)


def test_folds_do_not_depend_on_row_order(samples, X):
    cv = location_cv(samples)
    shuffled = X.sample(frac=1.0, random_state=0)
    as_labels = {frozenset(X.index[t]) for _, t in cv.split(X)}
    with pytest.raises(ValueError, match="another order.*groups="):
        list(cv.split(shuffled))  # by position it would be wrong: refuse
    groups = samples["location_id"].loc[shuffled.index]
    as_labels_shuffled = {
        frozenset(shuffled.index[t]) for _, t in cv.split(shuffled, groups=groups)
    }
    assert as_labels == as_labels_shuffled
    subset = shuffled.iloc[:-3]  # a shuffled subset is aligned by its index
    for train, test in cv.split(subset):
        locations = samples["location_id"].loc[subset.index].to_numpy()
        assert set(locations[train]).isdisjoint(locations[test])


def test_reset_index_and_numpy_arrays_give_the_same_folds(samples, X):
    cv = block_cv(samples, BLOCK)
    folds = _tests(cv, X)
    assert _tests(cv, X.reset_index(drop=True)) == folds
    assert _tests(cv, X.to_numpy()) == folds
    assert _tests(block_cv(samples.reset_index(drop=True), BLOCK), X) == folds


def test_location_folds_are_balanced(samples, X):
    sizes = [len(test) for _, test in location_cv(samples).split(X)]
    largest_location = samples["location_id"].value_counts().max()
    assert max(sizes) - min(sizes) <= largest_location


# -- scikit-learn integration --------------------------------------------------------------
def test_works_in_cross_val_score_and_cross_val_predict(samples, X, y):
    cv = block_cv(samples, BLOCK)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    scores = cross_val_score(tree, X, y, cv=cv)
    assert len(scores) == 5
    predicted = cross_val_predict(tree, X, y, cv=cv)
    assert predicted.shape == y.shape
    # an array X with all rows is aligned by position and gives the same scores
    assert cross_val_score(tree, X.to_numpy(), y.to_numpy(), cv=cv) == pytest.approx(scores)


def test_random_cv_is_more_optimistic_than_location_cv(samples, X, y):
    tree = DecisionTreeClassifier(random_state=0)
    optimistic = cross_val_score(tree, X, y, cv=random_cv()).mean()
    honest = cross_val_score(tree, X, y, cv=location_cv(samples)).mean()
    assert optimistic > honest + 0.1


def test_a_subset_is_split_by_its_own_groups(samples, X):
    cv = location_cv(samples, n_splits=3)
    subset = X.iloc[::2]
    locations = samples["location_id"].loc[subset.index].to_numpy()
    for train, test in cv.split(subset):
        assert set(locations[train]).isdisjoint(locations[test])
        assert max(train.max(), test.max()) < len(subset)


def test_explicit_groups_replace_the_stored_ones(samples, X):
    cv = location_cv(samples, n_splits=2)
    halves = np.where(np.arange(len(X)) < len(X) // 2, "north", "south")
    tests = [set(test) for _, test in cv.split(X, groups=halves)]
    assert sorted(map(len, tests)) == sorted([len(X) // 2, len(X) - len(X) // 2])


def test_leave_one_group_out_counts_groups_in_x(samples, X):
    cv = tile_cv(samples)
    assert cv.get_n_splits() == 4
    only_two_tiles = X[samples["tile_id"].isin(["T00", "T11"])]
    assert cv.get_n_splits(only_two_tiles) == 2
    assert len(list(cv.split(only_two_tiles))) == 2


def test_repr_is_short_and_nothing_looks_fitted(samples, X):
    cv = location_cv(samples)
    text = repr(cv)
    assert text.startswith("SpatialKFold(n_splits=5, n_groups=150") and len(text) < 120
    list(cv.split(X))
    assert sorted(vars(cv)) == ["groups", "n_splits", "random_state"]


# -- clear errors --------------------------------------------------------------------------
def test_missing_column_lists_the_columns_and_suggests_a_close_match(samples):
    with pytest.raises(
        KeyError,
        match=r"'locaton_id'.*did you mean 'location_id'.*Pass location_column='location_id'",
    ):
        location_cv(samples, location_column="locaton_id")
    with pytest.raises(KeyError, match=r"'tile'.*Columns found: \[.*'tile_id'"):
        tile_cv(samples, tile_column="tile")
    renamed = samples.rename(columns={"location_id": "point_id"})
    with pytest.raises(KeyError, match="location_column"):
        block_cv(renamed, BLOCK)


def test_too_few_groups_for_n_splits(samples, X):
    with pytest.raises(ValueError, match=r"Only 4 groups.*n_splits=5.*smaller n_splits"):
        list(block_cv(samples, 10_000, n_splits=5, location_column=None).split(X))
    with pytest.raises(ValueError, match=r"Only 3 groups"):  # merged across a block edge
        list(block_cv(samples, 10_000, n_splits=5).split(X))
    with pytest.raises(ValueError, match="at least 2"):
        list(SpatialKFold(pd.Series([1, 2, 3]), n_splits=1).split(np.zeros((3, 1))))


def test_a_subset_that_cannot_be_matched_asks_for_groups(samples, X):
    cv = location_cv(samples)
    with pytest.raises(ValueError, match=r"50 rows.*groups for 300.*Pass groups="):
        list(cv.split(X.to_numpy()[:50]))
    with pytest.raises(ValueError, match="Pass groups="):
        list(cv.split(X.reset_index(drop=True).iloc[5:]))  # labels that mean other rows
    with pytest.raises(ValueError, match="groups has 3 values"):
        list(cv.split(X, groups=[1, 2, 3]))
    subset = X.to_numpy()[:50]
    groups = samples["location_id"].to_numpy()[:50]
    assert len(list(cv.split(subset, groups=groups))) == 5


def test_an_ambiguous_index_or_missing_groups_are_errors():
    repeated = SpatialKFold(pd.Series([1, 2, 3, 4], index=[0, 0, 1, 2]), n_splits=2)
    assert len(list(repeated.split(np.zeros((4, 1))))) == 2  # all rows: by position
    with pytest.raises(ValueError, match="duplicated index.*pass groups="):
        list(repeated.split(pd.DataFrame({"a": [1, 2]}, index=[0, 1])))
    with pytest.raises(ValueError, match="duplicated index"):
        list(repeated.split(pd.DataFrame({"a": [1, 2, 3, 4]}, index=[0, 0, 1, 2])))
    with pytest.raises(ValueError, match="no group id"):
        list(SpatialKFold(pd.Series([1.0, np.nan, 2.0]), n_splits=2).split(np.zeros((3, 1))))


# -- nested cross-validation with scikit-learn ---------------------------------------------------------------
FIT_LOG: list[dict] = []


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the weighted majority class and records every fit in FIT_LOG."""

    def __init__(self, bias: float = 0.0):
        self.bias = bias

    def fit(self, X, y, sample_weight=None):
        FIT_LOG.append(
            {
                "index": frozenset(X.index),
                "sample_weight": None if sample_weight is None else np.asarray(sample_weight),
                "bias": self.bias,
            }
        )
        self.classes_, counts = np.unique(y, return_counts=True)
        self.proba_ = counts / counts.sum()
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[np.argmax(self.proba_)])

    def predict_proba(self, X):
        return np.tile(self.proba_, (len(X), 1))


@pytest.fixture
def fit_log():
    FIT_LOG.clear()
    yield FIT_LOG
    FIT_LOG.clear()


def test_nested_tuning_never_sees_the_outer_test_rows(samples, X, y, fit_log):
    outer = location_cv(samples, n_splits=4)
    inner = block_cv(samples, BLOCK, n_splits=3)
    grid = {"bias": [0.0, 1.0]}
    search = GridSearchCV(RecordingClassifier(), grid, cv=inner)
    result = cross_validate(search, X, y, cv=outer, return_estimator=True)

    fits_per_fold = len(grid["bias"]) * 3 + 1  # inner fits, then the refit
    assert len(fit_log) == 4 * fits_per_fold
    block_of = block_cv(samples, BLOCK).groups
    for k, (train, test) in enumerate(outer.split(X)):
        train_rows, test_rows = set(X.index[train]), set(X.index[test])
        fits = fit_log[k * fits_per_fold : (k + 1) * fits_per_fold]
        for fit in fits:
            assert fit["index"] <= train_rows and fit["index"].isdisjoint(test_rows)
        assert fits[-1]["index"] == train_rows  # refit on the whole outer training part
        for fit in fits[:-1]:  # inner folds keep blocks (and so locations) together
            validation = train_rows - fit["index"]
            assert set(block_of[list(fit["index"])]).isdisjoint(block_of[list(validation)])
    assert [s.best_params_ for s in result["estimator"]] == [{"bias": 0.0}] * 4


def test_nested_predictions_equal_a_search_tuned_on_each_outer_training_part(samples, X, y):
    outer = location_cv(samples, n_splits=3)
    search = GridSearchCV(
        DecisionTreeClassifier(random_state=0),
        {"max_depth": [1, 2, 3, 8], "min_samples_leaf": [1, 10]},
        cv=block_cv(samples, BLOCK, n_splits=3),
    )
    proba = cross_val_predict(search, X, y, cv=outer, method="predict_proba")
    for train, test in outer.split(X):
        alone = GridSearchCV(search.estimator, search.param_grid, cv=search.cv)
        alone.fit(X.iloc[train], y.iloc[train])
        np.testing.assert_allclose(proba[test], alone.predict_proba(X.iloc[test]))


def test_sample_weight_reaches_fit_directly_and_through_a_search(samples, X, y, fit_log):
    weights = pd.Series(np.linspace(0.5, 2.0, len(X)), index=X.index)
    outer = location_cv(samples, n_splits=3)
    cross_val_predict(RecordingClassifier(), X, y, cv=outer, params={"sample_weight": weights})
    search = GridSearchCV(
        RecordingClassifier(), {"bias": [0.0]}, cv=location_cv(samples, n_splits=2)
    )
    cross_val_predict(search, X, y, cv=outer, params={"sample_weight": weights})
    assert len(fit_log) == 3 + 3 * (2 + 1)
    for fit in fit_log:
        expected = weights[[i for i in X.index if i in fit["index"]]]
        assert fit["sample_weight"] is not None
        assert fit["sample_weight"].tolist() == pytest.approx(expected.tolist())


def test_a_reset_index_table_in_nested_cv_gives_the_clear_error(samples, X, y):
    search = GridSearchCV(DecisionTreeClassifier(), {"max_depth": [1, 2]}, cv=location_cv(samples))
    flat_X, flat_y = X.reset_index(drop=True), y.reset_index(drop=True)
    with pytest.raises(ValueError, match="Pass groups="):
        cross_val_predict(search, flat_X, flat_y, cv=location_cv(samples))


def test_a_reset_subset_of_a_range_indexed_table_is_refused_not_misaligned(samples, X):
    flat = samples.reset_index(drop=True)
    cv = location_cv(flat, n_splits=3)
    subset = pd.DataFrame(flat[FEATURES]).iloc[100:].reset_index(drop=True)  # labels 0..m-1
    with pytest.raises(ValueError, match=r"reset_index\(drop=True\).*Pass groups="):
        list(cv.split(subset))
    groups = flat["location_id"].iloc[100:].to_numpy()
    assert len(list(cv.split(subset, groups=groups))) == 3


@pytest.mark.parametrize("seed", [None, np.random.RandomState(0)])
def test_a_non_integer_random_state_is_refused_so_folds_never_change(samples, X, seed):
    cv = location_cv(samples, random_state=seed)
    with pytest.raises(ValueError, match="random_state must be a whole number"):
        list(cv.split(X))


def test_block_ids_pad_to_four_digits_and_keep_the_sign():
    from odse_tutorial.model_selection import _block_ids

    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([-2500, 12_345_000], [500, 500]), crs="EPSG:3035"
    )
    assert _block_ids(pts, 1000).tolist() == ["E-003N0000", "E12345N0000"]


def test_a_duplicated_index_never_gives_rows_other_rows_groups():
    """Issue 18 item 4: pd.concat without ignore_index, then the same rows in another order."""
    halves = [make_samples(40, seed) for seed in (1, 2)]
    samples = pd.concat(halves)  # index 0.. twice
    samples["location_id"] += np.repeat([0, 10_000], [len(h) for h in halves])
    X = pd.DataFrame(samples[FEATURES])
    shuffled = X.sample(frac=1.0, random_state=0)
    fix = r"duplicated index \(label\(s\) \d+, .* appear more than once.*reset_index\(drop=True\)"
    for build in (
        lambda t: block_cv(t, BLOCK),
        lambda t: tile_cv(t),
        lambda t: location_cv(t),
    ):
        with pytest.raises(ValueError, match=fix):
            build(samples)
        fixed = samples.reset_index(drop=True)
        cv = build(fixed)
        assert fold_overlap(cv, fixed, fixed["location_id"]) == 0
    carried = SpatialKFold(pd.Series(samples["location_id"].to_numpy(), index=samples.index))
    for rows in (shuffled, X, X.iloc[:30], shuffled.reset_index(drop=True).iloc[:30]):
        with pytest.raises(ValueError, match="duplicated index"):
            list(carried.split(rows))
    assert len(list(carried.split(X.to_numpy()))) == 5  # no index: by position, as documented
    unique = SpatialKFold(pd.Series(samples["location_id"].to_numpy()))
    with pytest.raises(ValueError, match="X has a duplicated index"):
        list(unique.split(shuffled))


def test_fold_ids_match_the_splits_and_mark_untested_rows():
    from sklearn.model_selection import PredefinedSplit, RepeatedKFold

    samples = make_samples()
    cv = block_cv(samples, BLOCK)
    folds = fold_ids(cv, samples)
    for k, (_, test) in enumerate(cv.split(samples)):
        assert set(np.flatnonzero(folds == k)) == set(test)
    assert folds.min() == 0 and folds.max() == 4
    assert fold_ids(PredefinedSplit([-1, 0, 0, 1]), np.zeros((4, 1))).tolist() == [-1, 0, 0, 1]
    stratified = fold_ids(random_cv(3), samples, samples["class"])
    assert (stratified >= 0).all() and np.bincount(stratified).tolist() == [
        len(test) for _, test in random_cv(3).split(samples, samples["class"])
    ]
    with pytest.raises(ValueError, match="exactly one test fold"):
        fold_ids(RepeatedKFold(n_splits=2, n_repeats=2), np.zeros((6, 1)))


def test_nn_distances_match_a_brute_force_computation():
    from scipy.spatial.distance import cdist

    samples = make_samples(60)
    rng = np.random.default_rng(1)
    where = gpd.GeoSeries(
        gpd.points_from_xy(X0 + rng.uniform(0, 30_000, 50), Y0 + rng.uniform(0, 30_000, 50)),
        crs="EPSG:3035",
    )
    cv = block_cv(samples, BLOCK)
    found = nn_distances({"blocks": cv}, samples, where.to_crs("EPSG:4326"))
    xy = samples.get_coordinates().to_numpy()
    expected_cv = np.concatenate(
        [cdist(xy[test], xy[train]).min(axis=1) for train, test in cv.split(samples)]
    )
    by_what = found.groupby("what")["distance_m"]
    np.testing.assert_allclose(by_what.get_group("CV blocks: test to training"), expected_cv)
    expected = cdist(where.get_coordinates().to_numpy(), xy).min(axis=1)
    np.testing.assert_allclose(by_what.get_group("prediction to training"), expected, rtol=1e-6)
    assert found.attrs["closest"] == "blocks"
    assert f"median {np.median(expected_cv):,.0f} m" in found.attrs["summary"]
    # samples in degrees are projected to UTM: distances stay metres (within 0.5 %)
    geographic = nn_distances(cv, samples.to_crs("EPSG:4326"), where)
    assert geographic.attrs["median_m"]["prediction to training"] == pytest.approx(
        np.median(expected), rel=5e-3
    )
    random = nn_distances(
        {"random": random_cv(), "blocks": cv}, samples, where, y=samples["class"], n_prediction=20
    )
    assert (random["what"] == "prediction to training").sum() == 20
    w = random.attrs["wasserstein_m"]
    assert random.attrs["closest"] == min(w, key=w.get)
    medians = random.attrs["median_m"]  # random folds test beside a survey of the same place
    assert medians["CV random: test to training"] < medians["CV blocks: test to training"]


def test_nn_distances_draw_valid_pixel_centres_of_a_dataset(tmp_path):
    import rasterio
    from rasterio.transform import from_origin

    path = tmp_path / "red.tif"
    data = np.ones((10, 10), dtype="uint8")
    data[:, :5] = 255  # the western half is nodata
    profile = {"driver": "GTiff", "width": 10, "height": 10, "count": 1, "dtype": "uint8"}
    transform = from_origin(X0, Y0 + 100, 10, 10)
    with rasterio.open(
        path, "w", **profile, nodata=255, crs="EPSG:3035", transform=transform
    ) as dst:
        dst.write(data, 1)

    class Tiles:
        tiles, years = ("t",), (2000,)

        def layers(self, tile, year):
            return {"red": path}

    samples = gpd.GeoSeries(gpd.points_from_xy([X0, X0], [Y0, Y0 + 100]), crs="EPSG:3035")
    cv = SpatialKFold(pd.Series([0, 1]), n_splits=2)
    first = nn_distances(cv, samples, Tiles(), n_prediction=30, random_state=3)
    prediction = first.loc[first["what"] == "prediction to training", "distance_m"]
    assert len(prediction) == 30
    assert prediction.min() >= 55  # centres of the valid eastern half only
    pd.testing.assert_frame_equal(
        first, nn_distances(cv, samples, Tiles(), n_prediction=30, random_state=3)
    )


def test_cv_candidates_build_the_notebooks_splitters(samples, caplog):
    from types import SimpleNamespace

    ds = SimpleNamespace(columns=SimpleNamespace(location="location_id"), cv_block_size=BLOCK)
    cvs = cv_candidates(ds, samples, n_splits=4, random_state=2)
    assert list(cvs) == ["random folds", "location folds", "blocked folds"]
    expected = block_cv(samples, BLOCK, n_splits=4, random_state=2)
    assert fold_ids(cvs["blocked folds"], samples).tolist() == fold_ids(expected, samples).tolist()
    no_location = SimpleNamespace(columns=SimpleNamespace(location=None), cv_block_size=50_000)
    assert list(cv_candidates(no_location, samples)) == ["random folds"]  # one 50 km block
    assert "Blocked folds left out: only 1 blocks" in caplog.text


def test_out_of_fold_proba_equals_cross_val_predict_and_zeroes_missing_classes(samples, X, y):
    cv = block_cv(samples, BLOCK)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    results = cross_validate(tree, X, y, cv=cv, return_estimator=True, return_indices=True)
    codes = np.unique(y)
    expected = cross_val_predict(tree, X, y, cv=cv, method="predict_proba")
    np.testing.assert_allclose(out_of_fold_proba(results, X, classes=codes), expected)
    wider = out_of_fold_proba(results, X.to_numpy(), classes=[*codes, 999])  # 999: never fitted
    np.testing.assert_allclose(wider[:, -1], 0.0)
    untested = {
        "estimator": results["estimator"][:1],
        "indices": {"test": results["indices"]["test"][:1]},
    }
    assert np.isnan(out_of_fold_proba(untested, X, classes=codes)).any(axis=1).sum() == len(
        X
    ) - len(results["indices"]["test"][0])


def test_cross_val_predict_years_predicts_each_survey_as_cross_val_predict_does(
    simulated, overlay_table
):
    table = overlay_table.iloc[:400]
    features, code = list(simulated.feature_names), simulated.columns.class_code
    cv = location_cv(table, n_splits=3)
    tree = DecisionTreeClassifier(max_depth=4, random_state=0)
    found = cross_val_predict_years(tree, simulated, table, cv)
    assert found.years == simulated.years and found.proba.shape[0] == len(simulated.years)
    np.testing.assert_allclose(found.proba.sum(axis=1), 1.0)
    expected = cross_val_predict(tree, table[features], table[code], cv=cv, method="predict_proba")
    row = {
        (loc, year): i
        for i, (loc, year) in enumerate(zip(table["location_id"], table["year"], strict=True))
    }
    years = list(simulated.years)
    checked = 0
    for (loc, year), i in row.items():
        if loc in set(found.locations):
            site = list(found.locations).index(loc)
            np.testing.assert_allclose(found.proba[years.index(year), :, site], expected[i])
            assert found.classes[found.labels[years.index(year), site]] == table[code].iloc[i]
            checked += 1
    assert checked > 0.8 * len(table)


def test_nn_distances_with_more_tiles_than_prediction_points(simulated, overlay_table):
    table = overlay_table.iloc[::10]
    found = nn_distances(random_cv(), table, simulated, y=table["lc_code"], n_prediction=1)
    assert (found["what"] == "prediction to training").sum() == 1  # the other tile draws none


def test_cross_val_predict_years_keeps_the_internal_overlay_quiet(simulated, overlay_table, caplog):
    table = overlay_table.iloc[:200]
    tree = DecisionTreeClassifier(max_depth=2, random_state=0)
    with caplog.at_level("WARNING"):
        found = cross_val_predict_years(tree, simulated, table, location_cv(table, n_splits=2))
    assert len(found.locations) < table["location_id"].nunique()  # nodata visits were dropped
    assert "Overlay" not in caplog.text


def test_nn_distances_choose_on_log_distances_where_metres_mislead():
    """Tests at 1 m and at ~200 m are as far from 100 m as all tests at 1 m, in metres;
    on a log scale the mix is clearly closer (review of notebook 1: near-ties flipped)."""
    offsets = np.array([0.0, 1.0, 200.0, 201.0])
    x = np.concatenate([offsets, 100_000 + offsets])
    samples = gpd.GeoSeries(gpd.points_from_xy(x, np.zeros(8)), crs="EPSG:3035")
    where = gpd.GeoSeries(gpd.points_from_xy([100.5, 100_100.5], [0, 0]), crs="EPSG:3035")
    cvs = {
        "all at 1 m": SpatialKFold(pd.Series([0, 1, 0, 1] * 2), n_splits=2),
        "1 m and 200 m": SpatialKFold(pd.Series([0, 1, 0, 0] * 2), n_splits=2),
    }
    found = nn_distances(cvs, samples, where)
    metres, log = found.attrs["wasserstein_m"], found.attrs["wasserstein_log"]
    assert min(metres, key=metres.get) == "all at 1 m"  # the metre statistic misleads
    assert log["1 m and 200 m"] == pytest.approx(
        0.5 * abs(np.log10(11) - np.log10(109.5))
        + 0.25 * abs(np.log10(209) - np.log10(109.5))
        + 0.25 * abs(np.log10(210) - np.log10(109.5))
    )
    assert found.attrs["closest"] == "1 m and 200 m"
    assert (
        "is 1 m and 200 m (Wasserstein distance of the log10 distances 0.64; next: all at 1 m 1.00"
        in found.attrs["summary"]
    )
