"""The dataset API: the bundled dataset, user folders, and their errors."""

from __future__ import annotations

import ast
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pooch
import pytest
import rasterio

from odse_tutorial import datasets
from odse_tutorial.classes import CORINE_CLASSES
from odse_tutorial.datasets import check_dataset, load_dataset, survey_year


def test_bundled_dataset_catalogue(simulated):
    assert simulated.tiles == ("9529", "9530")
    assert simulated.years == (2000, 2006, 2009, 2012, 2015, 2018)
    assert len(simulated.feature_names) == 26
    assert simulated.feature_names[-2:] == ("elevation", "slope")
    assert simulated.feature_names[0] == "blue_winter"
    assert simulated.classes == CORINE_CLASSES
    assert simulated.has_truth
    for tile in simulated.tiles:
        for year in simulated.years:
            layers = simulated.layers(tile, year)
            assert list(layers) == list(simulated.feature_names)
            assert all(p.exists() for p in layers.values())
            assert f"/{year}/" in layers["nir_summer"].as_posix()
            assert simulated.truth(tile, year).exists()


def test_bundled_dataset_meets_its_design(simulated):
    """The properties the lessons depend on (issue: realism of the bundled data)."""
    samples = simulated.samples
    year = survey_year(samples, "survey_date")
    assert 2000 < len(samples) < 6000
    assert set(samples.source) == {"LUCAS", "CORINE"}
    assert set(year[samples.source == "LUCAS"]) == {2009, 2012, 2015, 2018}
    assert set(year[samples.source == "CORINE"]) == {2000, 2006, 2012, 2018}
    # Many LUCAS locations are revisited; CORINE points are lower confidence.
    visits = samples[samples.source == "LUCAS"].groupby("location_id").size()
    assert (visits > 1).mean() > 0.5
    lucas_conf = samples.loc[samples.source == "LUCAS", "confidence"].mean()
    assert samples.loc[samples.source == "CORINE", "confidence"].mean() < lucas_conf
    # 8-10 classes, all with samples; the classes are not equally common.
    counts = samples.lc_code.value_counts()
    assert 8 <= len(counts) <= 10 and set(counts.index) <= set(CORINE_CLASSES.codes)
    assert counts.max() > 10 * counts.min()
    # Real land-cover change between years, in the truth maps.
    with (
        rasterio.open(simulated.truth("9529", 2000)) as a,
        rasterio.open(simulated.truth("9529", 2018)) as b,
    ):
        first, last = a.read(1), b.read(1)
        assert a.colormap(1)[231][:3] == tuple(
            int(CORINE_CLASSES.colour_of(231)[i : i + 2], 16) for i in (1, 3, 5)
        )
    changed = (first != last) & (first > 0)
    assert 0.03 < changed.mean() < 0.4
    # Cloud gaps in some composites; a nodata border in tile 9530.
    with rasterio.open(simulated.layers("9530", 2018)["blue_winter"]) as src:
        assert src.nodata == 255 and src.profile["compress"].lower() == "deflate"
        assert src.profile["tiled"]
        assert (src.read(1) == 255).mean() > 0.005


def test_user_folder_without_metadata(small_copy):
    (small_copy / "dataset.json").unlink()
    ds = load_dataset(small_copy)
    assert ds.name == "small"
    assert ds.years == (2012, 2018)
    # Without dataset.json, layers are ordered by name and classes come from the samples.
    assert list(ds.feature_names) == sorted(ds.year_layers["9529"][2012]) + ["elevation", "slope"]
    assert set(ds.classes.codes) == set(ds.samples.lc_code)
    assert ds.classes.name_of(231) == "Pastures"


def test_samples_are_a_copy(simulated):
    samples = simulated.samples
    samples["lc_code"] = -1
    assert (simulated.samples.lc_code > 0).all()


def test_summary_counts_every_sample(simulated):
    table = simulated.summary()
    assert table.to_numpy().sum() == len(simulated.samples)
    assert ("9529", 2018) in table.index


def test_unknown_dataset_name_suggests():
    with pytest.raises(FileNotFoundError, match="Did you mean 'simulated'"):
        load_dataset("simulatd")


def test_missing_year_names_year_and_files(small_copy):
    ds = load_dataset(small_copy)
    with pytest.raises(
        KeyError, match=r"No layers for year 2015 in tile '9529'.*9529/2015/blue_winter\.tif"
    ):
        ds.layers("9529", 2015)


def test_year_with_missing_layer_is_an_error(small_copy):
    (small_copy / "tiles" / "9529" / "2018" / "nir_summer.tif").unlink()
    folder = small_copy / "tiles" / "9529" / "2018"
    with pytest.raises(ValueError, match=rf"{folder} lacks layer\(s\) listed in dataset.json: "
                       r"nir_summer\.tif; add them"):  # fmt: skip
        load_dataset(small_copy)


def test_inconsistent_years_without_metadata(small_copy):
    (small_copy / "dataset.json").unlink()
    (small_copy / "tiles" / "9529" / "2018" / "nir_summer.tif").unlink()
    with pytest.raises(ValueError, match=r"9529/2018 lacks layer\(s\) that the other folders "
                       r"have: nir_summer\.tif"):  # fmt: skip
        load_dataset(small_copy)


def test_unreadable_samples_file(small_copy):
    (small_copy / "samples.gpkg").write_bytes(b"this is not a geopackage")
    with pytest.raises(ValueError, match="Could not read the samples file .*samples.gpkg"):
        load_dataset(small_copy)


def test_invalid_json_is_reported(small_copy):
    (small_copy / "dataset.json").write_text("{not json")
    with pytest.raises(ValueError, match="dataset.json is not valid JSON"):
        load_dataset(small_copy)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pd.Series([2015, 2018]), [2015, 2018]),
        (pd.Series(pd.to_datetime(["2015-06-01", "2018-01-01"])), [2015, 2018]),
        (pd.Series(["2015-06-01", "2018-01-01"]), [2015, 2018]),
        (pd.Series([2015.0, 2018.0]), [2015, 2018]),  # a year column that once held NaN
        (pd.Series([2015, 2018], dtype="Int64"), [2015, 2018]),
        (pd.Series(["2015", "2018-07-01T10:00:00+02:00"]), [2015, 2018]),
        (pd.Series(["2015-01-01T00:30+02:00", "2018-12-31T23:30-05:00"]), [2015, 2018]),
        (pd.Series(pd.to_datetime(["2015-06-01", "2018-01-01"]).date), [2015, 2018]),
        (pd.Series(pd.to_datetime(["2015-06-01"]).tz_localize("UTC")), [2015]),
    ],
)
def test_survey_year_accepts_years_dates_and_text(values, expected):
    assert survey_year(pd.DataFrame({"d": values}), "d").tolist() == expected


@pytest.mark.parametrize(
    "values",
    [
        ["2015-06-01", "soon"],
        pd.array([2015, None], dtype="Int64"),  # a gap in a nullable year column
        [2015.0, 2018.5],
        [2015, 18],
        [2015, True],
        ["2015-06-01", None],
    ],
)
def test_survey_year_names_the_column_and_the_rows(values):
    frame = pd.DataFrame({"when": values}, index=[10, 11])
    with pytest.raises(ValueError, match=r"Column 'when' has 1 value\(s\) that are not dates or "
                       r"years: rows 11 hold .*dropna\(subset=\['when'\]\)"):  # fmt: skip
        survey_year(frame, "when")


def test_dataset_json_round_trips_classes():
    meta = json.loads((load_dataset().samples_path.parent / "dataset.json").read_text())
    assert [c["code"] for c in meta["classes"]] == list(CORINE_CLASSES.codes)
    assert np.isclose(meta["cv_block_size"], 1920)


def test_names_resolve_through_the_sources_registry():
    assert list(datasets.SOURCES) == ["simulated", "netherlands"]


def test_data_layers_import_nothing_above_them():
    """_dataset (bottom) <- netherlands <- datasets: no cycle, nothing imports upward."""
    package = Path(datasets.__file__).parent

    def imports(module):
        tree = ast.parse((package / f"{module}.py").read_text())
        return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}

    assert not {"odse_tutorial.datasets", "odse_tutorial.netherlands"} & imports("_dataset")
    assert "odse_tutorial.datasets" not in imports("netherlands")
    assert "odse_tutorial.netherlands" in imports("datasets")


DATA = Path(__file__).resolve().parents[1] / "data" / "simulated"


def _no_network(*args, **kwargs):
    raise AssertionError("the tests must not use the network")


@pytest.fixture
def without_clone_data(monkeypatch, tmp_path):
    """As in an installed package: no data/simulated beside it, an empty pooch cache."""
    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", _no_network)
    monkeypatch.setattr(datasets, "_CLONE_DATA", tmp_path / "not-a-clone")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # pooch.os_cache on Linux
    return tmp_path / "cache"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CACHE_HOME moves the cache on Linux")
def test_simulated_without_a_clone_is_fetched_from_the_mirror(without_clone_data, monkeypatch):
    monkeypatch.setenv("ODSE_SIMULATED_SOURCE", str(DATA))  # a local folder as mirror
    ds = load_dataset("simulated")
    assert ds.samples_path.is_relative_to(without_clone_data)
    assert ds.samples_path.parent.name == "v0.1.0"  # pooch's cache: one folder per release
    assert ds.tiles == ("9529", "9530") and len(ds.samples) == 3318


@pytest.mark.parametrize(("version", "tag"), [("0.2.0", "v0.2.0"), ("0.2.1.dev3+gabc", "main")])
def test_the_release_url_names_the_tag_or_main(without_clone_data, monkeypatch, version, tag):
    urls = []

    def offline(self, url, output_file, pup):
        urls.append(url)
        raise OSError("offline")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", offline)
    monkeypatch.setattr(datasets, "__version__", version)
    monkeypatch.delenv("ODSE_SIMULATED_SOURCE", raising=False)
    with pytest.raises(OSError, match="offline"):
        load_dataset("simulated")
    assert urls[0].startswith(f"https://github.com/odse-tutorial/odse-tutorial/raw/{tag}/data/")


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CACHE_HOME moves the cache on Linux")
def test_simulated_from_a_corrupt_mirror_names_the_file(without_clone_data, monkeypatch, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(DATA, mirror)
    (mirror / "samples.gpkg").write_bytes(b"not the samples")
    monkeypatch.setenv("ODSE_SIMULATED_SOURCE", str(mirror))
    with pytest.raises(OSError, match=r"'samples.gpkg' from .*mirror.*failed its SHA-256") as info:
        load_dataset("simulated")
    assert "Fix:" in str(info.value) and "ODSE_SIMULATED_SOURCE" in str(info.value)


def test_check_dataset_of_a_source_reports_problems_and_reads_headers_once(monkeypatch, tmp_path):
    from odse_tutorial import _dataset

    broken = tmp_path / "simulated"
    shutil.copytree(DATA, broken)
    (broken / "tiles" / "9529" / "2018" / "nir_summer.tif").write_bytes(b"not a raster")
    monkeypatch.setattr(datasets, "_CLONE_DATA", broken)
    calls = []
    raster_problems = _dataset._raster_problems
    monkeypatch.setattr(
        _dataset, "_raster_problems", lambda d, h: calls.append(1) or raster_problems(d, h)
    )
    report = check_dataset("simulated")
    assert not report.ok and "nir_summer.tif" in report.problems[0] and len(calls) == 1
    with pytest.raises(ValueError, match="nir_summer.tif"):
        load_dataset("simulated")
    assert len(calls) == 2
