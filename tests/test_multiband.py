"""Multi-band stacks (issue 18): a GeoTIFF with several bands is several layers, named by
its band descriptions or ``<file stem>_<band>``; checked, overlaid and mapped band by band."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from conftest import make_stack_folder, write_raster
from sklearn.tree import DecisionTreeClassifier

from odse_tutorial.datasets import check_dataset, load_dataset
from odse_tutorial.overlay import overlay_samples
from odse_tutorial.prediction import predict_maps

NAMES = ("landsat_1", "landsat_2", "landsat_3")


def _stack(path):
    with rasterio.open(path) as src:
        return src.read(masked=True)


def test_a_stack_without_descriptions_gives_one_layer_per_band(tmp_path):
    folder = make_stack_folder(tmp_path / "stack", years=(2020, 2021))
    report = check_dataset(folder)
    assert report.ok, str(report)
    assert "landsat.tif: 3 bands -> layers landsat_1, landsat_2, landsat_3" in str(report)
    ds = load_dataset(folder)
    assert ds.feature_names == (*NAMES, "elevation")
    with rasterio.open(ds.layers("T1", 2021)["landsat_2"]) as src:  # opens as one band
        assert src.count == 1 and src.nodata == -99999
        band_2 = src.read(1)
    assert np.array_equal(band_2, _stack(folder / "tiles/T1/2021/landsat.tif")[1].data)


def test_overlay_and_maps_read_the_right_bands(tmp_path):
    folder = make_stack_folder(tmp_path / "stack", years=(2020, 2021), n=60)
    stacks = {y: _stack(folder / f"tiles/T1/{y}/landsat.tif") for y in (2020, 2021)}
    stacks[2021][1, 0, :5] = np.ma.masked  # nodata in band 2 only
    with rasterio.open(folder / "tiles/T1/2021/landsat.tif", "r+") as dst:
        dst.write(stacks[2021].filled(-99999))
    samples = gpd.read_file(folder / "samples.gpkg").to_crs("EPSG:32631")
    samples.loc[0, "geometry"] = gpd.points_from_xy([500_015], [5_799_985])[0]  # row 0, col 0
    samples.loc[0, "survey_date"] = "2021-07-01"
    samples.to_file(folder / "samples.gpkg")
    ds = load_dataset(folder)
    table, report = overlay_samples(ds)
    assert list(report.nodata.index) == [0] and report.nodata["layers"].iloc[0] == "landsat_2"
    # brute force: each kept sample's pixel in the whole stack of its year
    x, y = table.to_crs("EPSG:32631").geometry.x, table.to_crs("EPSG:32631").geometry.y
    rows, cols = ((5_800_000 - y) // 30).astype(int), ((x - 500_000) // 30).astype(int)
    expected = np.stack(
        [stacks[year].data[:, r, c] for year, r, c in zip(table.year, rows, cols, strict=True)]
    )
    assert np.array_equal(table[list(NAMES)].to_numpy(), expected.astype("float32"))

    model = DecisionTreeClassifier(random_state=0).fit(table[list(ds.feature_names)], table.label)
    maps = predict_maps(model, ds, tmp_path / "maps", progress=False, window_size=16)
    with rasterio.open(folder / "tiles/T1/static/elevation.tif") as src:
        elevation = src.read(1)
    pixels = pd.DataFrame(np.column_stack([*stacks[2021].data.reshape(3, -1), elevation.ravel()]),
                          columns=ds.feature_names)  # fmt: skip
    brute = model.predict(pixels).reshape(elevation.shape)
    with rasterio.open(maps.path("T1", 2021, "dominant_class")) as src:
        mapped = src.read(1)
    assert (mapped[0, :5] == 0).all()  # nodata in one band: nodata in the map
    assert np.array_equal(mapped[1:], brute[1:]) and np.array_equal(mapped[0, 5:], brute[0, 5:])


def test_band_descriptions_name_the_layers(tmp_path):
    folder = make_stack_folder(tmp_path / "described", descriptions=("red", "nir", "swir1"))
    report = check_dataset(folder)
    assert report.ok and "3 bands -> layers red, nir, swir1 (from the band descriptions)" in str(
        report
    )
    ds = load_dataset(folder)
    assert ds.feature_names == ("nir", "red", "swir1", "elevation")  # sorted, as file names
    table, _ = overlay_samples(ds)
    model = DecisionTreeClassifier(random_state=0).fit(table[["nir"]], table.label)
    maps = predict_maps(model, ds, tmp_path / "maps", progress=False, extra_layers="ignore")
    assert maps.path("T1", 2021, "dominant_class").exists()


@pytest.mark.parametrize("change", ["fewer bands", "described"])
def test_every_year_needs_the_same_stack(tmp_path, change):
    folder = make_stack_folder(tmp_path / "stack", years=(2020, 2021, 2022))
    path = folder / "tiles/T1/2022/landsat.tif"
    if change == "fewer bands":
        write_raster(path, _stack(path)[:2].filled(-99999), nodata=-99999)
    else:
        with rasterio.open(path, "r+") as dst:
            dst.descriptions = ("red", "nir", "swir1")
    problems = check_dataset(folder).problems
    assert f"{path.parent} lacks layer(s) that the other folders have: " in problems[0]
    assert "landsat.tif band 3 (landsat_3)" in problems[0]
    if change == "described":
        assert "has layer(s) the other folders lack: landsat.tif band 2 (nir)" in problems[1]


def test_one_year_folder_needs_no_date_column(tmp_path):
    folder = make_stack_folder(tmp_path / "undated", date=False)
    report = check_dataset(folder)
    said = "no date column 'survey_date' in the samples: every sample is taken as surveyed in 2021"
    assert report.ok and str(report).count(said) == 1, str(report)
    ds = load_dataset(folder)
    table, overlay_report = overlay_samples(ds)
    assert (table.year == 2021).all() and len(table) == 40
    assert str(overlay_report).count("every sample taken as surveyed in 2021") == 1
    assert "survey_date" not in gpd.read_file(ds.samples_path)  # the file is not changed


def test_several_years_without_dates_name_the_line_to_add(tmp_path):
    folder = make_stack_folder(tmp_path / "undated", years=(2020, 2021), date=False)
    (problem,) = check_dataset(folder).problems
    assert "The layers have 2 years (2020, 2021): each sample needs its survey date" in problem
    assert problem.endswith('Name yours in dataset.json: "columns": {"date": "<column>"}.')


def test_dataset_json_may_use_some_bands_of_a_stack(tmp_path):
    import json

    folder = make_stack_folder(tmp_path / "some")
    meta_path = folder / "dataset.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    meta_path.write_text(json.dumps({**meta, "year_layers": ["landsat_2", "landsat_3"]}))
    report = check_dataset(folder)  # raised KeyError on the absent band 1
    assert report.ok, str(report)
    assert "landsat.tif: 2 bands -> layers landsat_2, landsat_3 (no band descriptions" in str(
        report
    )
    assert load_dataset(folder).feature_names == ("landsat_2", "landsat_3", "elevation")
