"""Map production and the overlay on a dask.distributed cluster: the same results as the
serial run; and notebook 6's optional Dask section, run."""

from __future__ import annotations

import json
import re
import time

import pandas as pd
import pytest
from shapely.affinity import translate

from odse_tutorial.datasets import load_dataset
from odse_tutorial.overlay import overlay_samples
from odse_tutorial.prediction import predict_maps
from odse_tutorial.tutorial import find_notebooks, run_notebook

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        yield client


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


@pytest.mark.slow
def test_overlay_on_two_workers_equals_the_serial_overlay(client, simulated):
    samples = simulated.samples.to_crs("EPSG:4326")  # reprojected, as in the report
    samples.loc[samples.index[:3], "geometry"] = samples.geometry[:3].map(
        lambda p: translate(p, 5, 0)
    )  # outside every tile
    before = samples.copy()
    serial, serial_report = overlay_samples(simulated, samples)
    table, report = overlay_samples(simulated, samples, client=client, progress=False)
    pd.testing.assert_frame_equal(table, serial, check_exact=True)
    for name in ("outside", "nodata"):
        expected = getattr(serial_report, name)
        assert len(expected)  # the report has something to compare
        pd.testing.assert_frame_equal(getattr(report, name), expected, check_exact=True)
    for name in ("n_input", "n_output", "reprojected_from"):
        assert getattr(report, name) == getattr(serial_report, name)
    pd.testing.assert_frame_equal(samples, before, check_exact=True)  # never modified


@pytest.mark.slow
def test_a_broken_layer_in_one_tile_year_is_named_by_the_overlay(client, small_copy):
    ds = load_dataset(small_copy)  # the headers are checked here; break one afterwards
    path = small_copy / "tiles" / "9529" / "2018" / "red_summer.tif"
    path.write_bytes(b"not a tiff")
    samples = ds.samples
    before = samples.copy()
    message = (
        r"1 of 2 tile-year\(s\) failed: tile 9529, year 2018: "
        rf"OSError\(.Could not read raster {re.escape(str(path))}"
    )
    with pytest.raises(RuntimeError, match=message):
        overlay_samples(ds, samples, client=client, progress=False)
    pd.testing.assert_frame_equal(samples, before, check_exact=True)


def _printed(notebook):
    """Everything an executed notebook printed, after checking that no cell failed."""
    texts = []
    for cell in json.loads(notebook.read_text())["cells"]:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", "".join(output.get("traceback", []))
            texts.append("".join(output.get("text", "")))
    return "\n".join(texts)


@pytest.mark.slow
@pytest.mark.notebooks
def test_notebook_6_makes_the_same_maps_on_dask(tmp_path):
    notebook = next(nb for nb in find_notebooks() if nb.stem == "06_area_of_applicability")
    start = time.perf_counter()
    folder = run_notebook(notebook, tmp_path, {"use_dask": True})
    printed = _printed(folder / notebook.name)
    assert "identical to the serial maps: True" in printed  # (the overlay is not on Dask there)
    assert time.perf_counter() - start < 90  # the notebooks' budget
