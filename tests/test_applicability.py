"""AreaOfApplicability against a brute-force reference (CAST's trainDI / aoa, written out)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rasterio
from scipy.spatial.distance import cdist, pdist
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, KFold

from odse_tutorial import applicability
from odse_tutorial.applicability import AreaOfApplicability
from odse_tutorial.prediction import predict_maps


def reference(X, new, weights=None, folds=None):
    """CAST's definitions with dense matrices: (DI of ``new``, training DI, threshold)."""
    X, new = np.asarray(X, float), np.asarray(new, float)
    w = np.ones(X.shape[1]) if weights is None else np.clip(np.asarray(weights, float), 0, None)
    mean, sd = X.mean(axis=0), X.std(axis=0, ddof=1)  # R's scale(): the DI does not mind
    Z, Znew = (X - mean) / sd * w, (new - mean) / sd * w
    D = cdist(Z, Z)
    n = len(Z)
    mean_distance = D[~np.eye(n, dtype=bool)].mean()
    train_min = np.full(n, np.nan)
    for i in range(n):
        if folds is None:
            others = np.arange(n) != i
        else:
            held = [k for k, (_, test) in enumerate(folds) if i in test]
            if not held:
                continue
            others = np.isin(np.arange(n), folds[held[0]][0])
        train_min[i] = D[i, others].min()
    train_di = train_min / mean_distance
    tested = train_di[~np.isnan(train_di)]
    q1, q3 = np.quantile(tested, [0.25, 0.75])
    threshold = min(q3 + 1.5 * (q3 - q1), tested.max())
    return cdist(Znew, Z).min(axis=1) / mean_distance, train_di, threshold


def clustered(n_clusters=6, per_cluster=20, n_features=4, seed=0):
    """Training samples in tight clusters (one group each) and new points everywhere."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-5, 5, (n_clusters, n_features))
    X = np.repeat(centres, per_cluster, axis=0) + rng.normal(
        0, 0.3, (n_clusters * per_cluster, n_features)
    )
    groups = np.repeat(np.arange(n_clusters), per_cluster)
    new = rng.uniform(-7, 7, (300, n_features))
    return X, groups, new


def test_di_and_fold_aware_threshold_match_the_reference():
    X, groups, new = clustered()
    folds = list(GroupKFold(3).split(X, groups=groups))
    aoa = AreaOfApplicability(cv=folds).fit(X)
    di, train_di, threshold = reference(X, new, folds=folds)
    np.testing.assert_allclose(aoa.transform(new)[:, 0], di, rtol=1e-9)
    np.testing.assert_allclose(aoa.training_di_, train_di, rtol=1e-9)
    assert aoa.threshold_ == pytest.approx(threshold, rel=1e-9)
    np.testing.assert_array_equal(aoa.predict(new), aoa.transform(new)[:, 0] <= aoa.threshold_)
    # Held-out clusters are far from the rest: the fold-aware threshold is far larger
    # than the one of each sample against all others (its own cluster mates).
    no_folds = AreaOfApplicability().fit(X)
    assert no_folds.threshold_ == pytest.approx(reference(X, new)[2], rel=1e-9)
    assert aoa.threshold_ > 3 * no_folds.threshold_


def test_weights_scale_the_feature_space():
    X, groups, new = clustered(seed=1)
    weights = [2.0, 0.5, 0.0, -1.0]  # negative counts as 0
    folds = list(KFold(4, shuffle=True, random_state=0).split(X))
    aoa = AreaOfApplicability(weights=weights, cv=folds).fit(X)
    di, train_di, threshold = reference(X, new, weights, folds)
    np.testing.assert_allclose(aoa.transform(new)[:, 0], di, rtol=1e-9)
    np.testing.assert_allclose(aoa.training_di_, train_di, rtol=1e-9)
    assert aoa.threshold_ == pytest.approx(threshold, rel=1e-9)
    np.testing.assert_array_equal(aoa.weights_, [2.0, 0.5, 0.0, 0.0])


def test_samples_no_fold_tests_are_left_out_of_the_threshold():
    X, groups, new = clustered(seed=2)
    folds = [(np.flatnonzero(groups >= 2), np.flatnonzero(groups == 0))]  # tests one cluster
    aoa = AreaOfApplicability(cv=folds).fit(X)
    assert np.isnan(aoa.training_di_[groups != 0]).all()
    assert aoa.threshold_ == pytest.approx(reference(X, new, folds=folds)[2], rel=1e-9)


def test_the_grouped_search_is_exact_on_larger_data():
    rng = np.random.default_rng(3)
    X = np.concatenate([rng.normal(c, 1.0, (400, 8)) for c in (-4, 0, 4, 8)])
    X[:5] = X[5]  # duplicates: distance 0
    new = np.concatenate([rng.normal(0, 6, (3000, 8)), X[:50]])
    aoa = AreaOfApplicability().fit(X)
    assert len(aoa._index[3]) > 1  # the k-means groups are in use
    np.testing.assert_allclose(
        aoa.transform(new)[:, 0], reference(X, new)[0], rtol=1e-9, atol=1e-12
    )
    assert (aoa.transform(X[:50])[:, 0] == 0).all()


@pytest.mark.parametrize("cells", [1, 4, 16, 64])
def test_the_search_is_exact_with_any_number_of_cells_and_near_ties(cells, monkeypatch):
    # Integer features: many points at equal distance from several samples (exact ties).
    # Pairs of samples 0.01 apart, far from the origin, and points between the two of a
    # pair, 1e-6 nearer to one: float32 cannot tell which; the exact re-check must.
    monkeypatch.setattr(applicability, "_CELLS", (cells,))
    rng = np.random.default_rng(4)
    grid = rng.integers(-6, 7, (1000, 5)).astype(float)
    centres = rng.uniform(40, 60, (100, 5))
    step = np.zeros(5)
    step[0] = 0.005
    X = np.concatenate([grid, centres - step, centres + step])
    side = rng.choice([-1e-6, 1e-6], (100, 1))
    new = np.concatenate([rng.integers(-9, 10, (20000, 5)), centres + side * step / 0.005])
    aoa = AreaOfApplicability().fit(X)
    assert len(aoa._index[3]) == cells
    np.testing.assert_allclose(
        aoa.transform(new)[:, 0], reference(X, new)[0], rtol=1e-12, atol=1e-15
    )


def test_local_point_density_counts_the_samples_within_the_threshold():
    X, groups, new = clustered(seed=5)
    folds = list(GroupKFold(3).split(X, groups=groups))
    weights = [1.0, 2.0, 0.5, 0.0]
    aoa = AreaOfApplicability(weights=weights, cv=folds).fit(X)
    _, _, threshold = reference(X, new, weights, folds)
    w = np.asarray(weights)
    mean, sd = X.mean(axis=0), X.std(axis=0, ddof=1)
    D = cdist((new - mean) / sd * w, (X - mean) / sd * w)
    mean_distance = pdist((X - mean) / sd * w).mean()
    expected = (D / mean_distance <= threshold).sum(axis=1)
    lpd = aoa.local_point_density(new)
    np.testing.assert_array_equal(lpd, expected)
    assert 0 < lpd.max() and (lpd == 0).any()  # both kinds of point are in the test
    np.testing.assert_array_equal(lpd > 0, aoa.predict(new))  # 0 exactly outside the AOA
    assert aoa.local_point_density(new[:0]).shape == aoa.transform(new[:0]).shape[:1] == (0,)


def test_mean_distance_is_exact_and_deterministic():
    rng = np.random.default_rng(1)  # near-duplicates: dot-product distances lose digits
    X = np.repeat(rng.normal(0, 1, (30, 3)), 100, axis=0) + rng.normal(0, 1e-9, (3000, 3))
    aoa = AreaOfApplicability().fit(X)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    assert aoa.mean_distance_ == pytest.approx(pdist(Z).mean(), rel=1e-12)
    assert AreaOfApplicability().fit(X).mean_distance_ == aoa.mean_distance_
    # a frame (column-major inside) gives the same numbers as its array, to the last bit
    frame = AreaOfApplicability().fit(pd.DataFrame(X.astype(np.float32)))
    array = AreaOfApplicability().fit(X.astype(np.float32))
    assert (frame.mean_distance_, frame.threshold_) == (array.mean_distance_, array.threshold_)


def test_is_a_scikit_learn_estimator():
    X, _, new = clustered()
    aoa = clone(AreaOfApplicability(cv=3, weights=[1, 1, 1, 2])).fit(X)
    assert aoa.get_params()["cv"] == 3
    assert aoa.transform(new).shape == (len(new), 1)


@pytest.mark.parametrize(
    ("kwargs", "X", "message"),
    [
        ({"weights": [1, 2]}, None, "weights must be 4 finite numbers"),
        ({"weights": [0, 0, 0, -1]}, None, "at least one > 0"),
        ({"weights": [1, np.nan, 1, 1]}, None, "finite numbers, at least one > 0"),
        ({}, np.ones((10, 4)), "same value in every training sample"),
        ({"cv": [(np.arange(5, 120), np.arange(5)), (np.arange(3, 120), np.arange(3))]},
         None, "test part of several folds"),
    ],
)  # fmt: skip
def test_bad_input_is_named(kwargs, X, message):
    data = clustered()[0] if X is None else X
    with pytest.raises(ValueError, match=message):
        AreaOfApplicability(**kwargs).fit(data)


def test_other_features_are_refused():
    X = pd.DataFrame(clustered()[0], columns=list("abcd"))
    aoa = AreaOfApplicability().fit(X)
    with pytest.raises(ValueError, match="feature names"):
        aoa.transform(X[list("abdc")])


# -- map products ------------------------------------------------------------------------
# (the model and its applicability: the `fitted` fixture of conftest.py)
def test_predict_maps_writes_dissimilarity_and_aoa(simulated, fitted, tmp_path):
    model, aoa = fitted
    maps = predict_maps(model, simulated, tmp_path, tiles="9529", years=2018, window_size=64,
                        n_jobs=2, applicability=aoa, progress=False)  # fmt: skip
    path = maps.path("9529", 2018, "dissimilarity")
    assert path.name == "dissimilarity.tif" and maps.path("9529", 2018, "aoa").exists()
    assert {p.name for p in maps.paths()} >= {"dissimilarity.tif", "aoa.tif"}
    layers = simulated.layers("9529", 2018)
    stack = []
    for name in aoa.feature_names_in_:
        with rasterio.open(layers[name]) as src:
            stack.append(src.read(1, masked=True))
    with rasterio.open(path) as src:
        di = src.read(1)
        assert src.dtypes[0] == "float32" and np.isnan(src.nodata)
        assert float(src.tags()["aoa_threshold"]) == aoa.threshold_
    with rasterio.open(maps.path("9529", 2018, "aoa")) as src:
        inside = src.read(1)
        assert src.nodata == 255
    with rasterio.open(maps.path("9529", 2018, "dominant_class")) as src:
        valid = src.read(1) != src.nodata
    assert (~valid).any()  # the tile has nodata pixels: they stay nodata
    np.testing.assert_array_equal(np.isnan(di), ~valid)
    np.testing.assert_array_equal(inside == 255, ~valid)
    X = pd.DataFrame(
        {n: np.asarray(b)[valid] for n, b in zip(aoa.feature_names_in_, stack, strict=True)}
    )
    expected = aoa.transform(X.astype(np.float32))[:, 0]
    np.testing.assert_array_equal(di[valid], expected.astype(np.float32))
    np.testing.assert_array_equal(inside[valid], expected <= aoa.threshold_)
    assert 0 < inside[valid].mean() < 1


def test_the_applicability_needs_the_model_features(simulated, fitted, tmp_path):
    model, _ = fitted
    other = AreaOfApplicability().fit(pd.DataFrame({"elevation": [1.0, 2, 3], "rain": [3.0, 1, 2]}))
    with pytest.raises(KeyError, match="rain"):
        predict_maps(model, simulated, tmp_path, tiles="9529", years=2018,
                     applicability=other, progress=False)  # fmt: skip
    array_fitted = AreaOfApplicability().fit(np.eye(3))  # 3 features, no names
    with pytest.raises(KeyError, match="fitted on 3 feature"):
        predict_maps(model, simulated, tmp_path, tiles="9529", years=2018,
                     applicability=array_fitted, progress=False)  # fmt: skip
    with pytest.raises(ValueError, match="applicability is not fitted"):
        predict_maps(model, simulated, tmp_path, tiles="9529", years=2018,
                     applicability=AreaOfApplicability(), progress=False)  # fmt: skip
    assert not list(tmp_path.rglob("*.tif"))
