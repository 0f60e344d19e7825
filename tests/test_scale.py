"""Map production on a dask.distributed cluster: the same bytes as the serial run."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

from odse_tutorial.applicability import AreaOfApplicability
from odse_tutorial.datasets import load_dataset
from odse_tutorial.prediction import predict_maps

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        yield client


@pytest.fixture(scope="module")
def fitted(overlay_table, simulated):
    features = list(simulated.feature_names)
    table = overlay_table.iloc[::4]
    X, y = table[features], table[simulated.columns.class_code]
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    return model, AreaOfApplicability(cv=3).fit(X)


class Broken:
    """A dataset whose layers of one year are not rasters."""

    def __init__(self, dataset, folder, year):
        self.dataset, self.folder, self.year = dataset, folder, year
        self.tiles, self.years, self.classes = dataset.tiles, dataset.years, dataset.classes

    def layers(self, tile, year):
        layers = dict(self.dataset.layers(tile, year))
        if year == self.year:
            bad = self.folder / "not_a_raster.tif"
            bad.write_text("no")
            layers["elevation"] = bad
        return layers


def _files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*.tif"))}


@pytest.mark.slow
def test_maps_on_two_workers_equal_the_serial_maps(client, small_copy, fitted, tmp_path):
    ds = load_dataset(small_copy)
    model, aoa = fitted
    serial = predict_maps(model, ds, tmp_path / "serial", applicability=aoa, window_size=64,
                          progress=False)  # fmt: skip
    on_dask = predict_maps(model, ds, tmp_path / "dask", applicability=aoa, window_size=64,
                           progress=False, client=client)  # fmt: skip
    assert (
        serial.to_frame()["path"]
        .map(lambda p: p.relative_to(tmp_path / "serial"))
        .equals(on_dask.to_frame()["path"].map(lambda p: p.relative_to(tmp_path / "dask")))
    )
    expected = _files(tmp_path / "serial")
    assert len(expected) == len(serial.paths()) == 2 * (len(model.classes_) + 5)
    assert _files(tmp_path / "dask") == expected  # byte for byte


@pytest.mark.slow
def test_a_failed_tile_year_is_named_and_can_be_completed(client, small_copy, fitted, tmp_path):
    ds = load_dataset(small_copy)
    model, _ = fitted
    out = tmp_path / "maps"
    with pytest.raises(RuntimeError, match=r"1 of 2 tile-year\(s\) failed.*tile 9529, year 2012"):
        predict_maps(model, Broken(ds, tmp_path, 2012), out, progress=False, client=client)
    assert not (out / "9529" / "2012").exists() or not list((out / "9529" / "2012").iterdir())
    done = out / "9529" / "2018" / "dominant_class.tif"
    stamp = done.stat().st_mtime_ns
    maps = predict_maps(model, ds, out, progress=False, client="current", skip_existing=True)
    assert all(p.exists() for p in maps.paths())
    assert done.stat().st_mtime_ns == stamp  # the complete tile-year was not made again


def test_skip_existing_also_works_without_a_cluster(small_copy, fitted, tmp_path):
    ds = load_dataset(small_copy)
    model, _ = fitted
    maps = predict_maps(model, ds, tmp_path, progress=False)
    first = maps.path("9529", 2012, "dominant_class")
    stamps = {p: p.stat().st_mtime_ns for p in maps.paths()}
    first.unlink()
    predict_maps(model, ds, tmp_path, progress=False, skip_existing=True)
    changed = [p for p in maps.paths() if p.stat().st_mtime_ns != stamps[p]]
    assert first.exists() and changed and all(p.parent == first.parent for p in changed)
    assert pd.Series(changed).map(lambda p: p.parent.name).eq("2012").all()
