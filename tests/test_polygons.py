"""Training polygons (issue 18): the pixels whose centres fall inside a polygon are samples
of its class; each polygon is one location (never on both sides of a fold) and counts
alike; a class is rare by its number of polygons, not of pixels."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
import shapely.affinity
from conftest import STRIPES, fold_overlap, make_stack_folder
from sklearn.tree import DecisionTreeClassifier

from odse_tutorial.datasets import check_dataset, load_dataset
from odse_tutorial.model_selection import block_cv, location_cv, random_cv, tile_cv
from odse_tutorial.overlay import overlay_samples, training_data
from odse_tutorial.prediction import predict_maps

RASTER_CRS = "EPSG:32631"


@pytest.fixture(scope="module")
def polygons(tmp_path_factory):
    """60 polygons in EPSG:3035 (the rasters are in UTM 31N), classes in ``label``, an
    ``id`` column, no date; the last 3 polygons are class 41: more than 10 pixels, but too
    few polygons for the CV. A ``tile_id`` per polygon (west / east half) for tile CV."""
    folder = make_stack_folder(tmp_path_factory.mktemp("poly") / "areas", samples="polygons",
                               date=False, rare=3, n=60)  # fmt: skip
    samples = gpd.read_file(folder / "samples.gpkg")
    x = samples.to_crs(RASTER_CRS).centroid.x
    samples["tile_id"] = np.where(x < 500_000 + 30 * 20, "west", "east")
    samples.to_file(folder / "samples.gpkg")
    return folder


def _pixels_inside(polygon, width=40, height=40):
    """Brute force: (row, col) of every pixel centre inside ``polygon`` (raster CRS)."""
    rows, cols = np.mgrid[0:height, 0:width]
    x, y = 500_000 + 30 * cols + 15, 5_800_000 - 30 * rows - 15
    inside = shapely.contains_xy(polygon, x, y)
    return set(zip(rows[inside].tolist(), cols[inside].tolist(), strict=True))


def test_check_reads_polygons_in_another_crs_without_dates(polygons):
    report = check_dataset(polygons)
    assert report.ok, str(report)
    text = str(report)
    assert "60 polygon(s) (training areas) among 60 samples" in text
    assert "every sample is taken as surveyed in 2021" in text
    assert "no location column" not in text and "no weight column" not in text
    ds = load_dataset(polygons)
    assert (ds.columns.location, ds.columns.weight) == ("location_id", "weight")


def test_overlay_gives_the_pixels_inside_each_polygon_with_equal_weight(polygons):
    ds = load_dataset(polygons)
    table, report = overlay_samples(ds)
    samples = gpd.read_file(polygons / "samples.gpkg").to_crs(RASTER_CRS)
    with rasterio.open(polygons / "tiles/T1/2021/landsat.tif") as src:
        stack = src.read()
    points = table.to_crs(RASTER_CRS)
    rows = ((5_800_000 - points.geometry.y) // 30).astype(int)
    cols = ((points.geometry.x - 500_000) // 30).astype(int)
    for index, polygon in samples.geometry.items():
        mine = table["sample_index"] == index
        assert set(zip(rows[mine], cols[mine], strict=True)) == _pixels_inside(polygon)
        assert table.loc[mine, "location_id"].eq(index).all()
        assert table.loc[mine, "weight"].sum() == pytest.approx(1.0)
    assert np.array_equal(table["landsat_2"].to_numpy(), stack[1, rows, cols])
    assert report.polygons["polygons"] == report.polygons["kept"] == 60
    assert report.polygons["pixels_kept"] == len(table) == report.n_output
    assert "60 of 60 kept, with" in str(report) and "pixel weight = 1 / its pixels" in str(report)


def test_no_polygon_is_on_both_sides_of_a_fold(polygons):
    ds = load_dataset(polygons)
    table, _ = overlay_samples(ds)
    X, y, polygon = table[list(ds.feature_names)], table["label"], table["sample_index"]
    splitters = {
        "blocks": block_cv(table, 60, n_splits=3, location_column="location_id"),
        "locations": location_cv(table, n_splits=3),
        "tiles": tile_cv(table),
    }
    for name, cv in splitters.items():
        assert fold_overlap(cv, X, polygon, y=y) == 0, name
    assert fold_overlap(random_cv(3), X, polygon, y=y) > 30  # the optimistic mistake


def test_a_class_with_too_few_polygons_is_dropped_and_named(polygons, caplog, tmp_path):
    caplog.set_level(logging.WARNING, logger="odse_tutorial")
    data = training_data(load_dataset(polygons))
    counts = data.class_counts.set_index("code")
    assert counts.loc[41, "count"] == 3 and not counts.loc[41, "kept"]  # polygons, not pixels
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "cannot be tested by the CV and are dropped: 41" in warned
    assert "on the maps, their areas get one of the kept classes" in warned
    assert set(data.y) == set(STRIPES) and data.weights.sum() == pytest.approx(57)
    model = DecisionTreeClassifier(random_state=0).fit(data.X, data.y, data.weights)
    maps = predict_maps(model, load_dataset(polygons), tmp_path / "maps", progress=False)
    with rasterio.open(maps.path("T1", 2021, "dominant_class")) as src:
        assert set(np.unique(src.read(1))) <= set(STRIPES)


def test_mixed_points_and_polygons(tmp_path):
    folder = make_stack_folder(tmp_path / "mixed", samples="mixed", n=40)
    assert check_dataset(folder).ok
    ds = load_dataset(folder)
    table, report = overlay_samples(ds)
    per_sample = table.groupby("sample_index")
    is_point = ds.samples.geom_type.eq("Point")
    assert per_sample.size()[is_point].eq(1).all() and per_sample.size()[~is_point].gt(1).all()
    assert per_sample["weight"].sum().to_numpy() == pytest.approx(np.ones(40))
    assert table["location_id"].nunique() == 40 and report.n_input == 40
    cv = block_cv(table, 60, n_splits=3, location_column=ds.columns.location)
    assert fold_overlap(cv, table[list(ds.feature_names)], table["sample_index"]) == 0


def test_large_polygons_give_a_seeded_draw_and_tiny_ones_are_named(polygons):
    ds = load_dataset(polygons)
    samples = ds.samples
    tiny = shapely.geometry.box(500_001, 5_799_971, 500_010, 5_799_980)  # no pixel centre
    samples.loc[99] = samples.loc[0]
    samples.loc[99, "geometry"] = gpd.GeoSeries([tiny], crs=RASTER_CRS).to_crs(samples.crs)[0]
    first, report = overlay_samples(ds, samples, max_pixels=5)
    again, _ = overlay_samples(ds, samples, max_pixels=5)
    other, _ = overlay_samples(ds, samples, max_pixels=5, random_state=1)
    assert first.groupby("sample_index").size().max() == 5
    assert first.geometry.equals(again.geometry) and not first.geometry.equals(other.geometry)
    assert report.polygons["capped"] > 0 and list(report.polygons["empty"]) == [99]
    assert "a seeded draw of 5 each" in str(report) and "smaller than a pixel" in str(report)


def test_a_multipolygon_with_a_sample_weight_weighs_its_weight(polygons):
    ds = load_dataset(polygons)  # its weight column: 'weight' (1 per polygon when read)
    samples = ds.samples.drop(columns=["location_id"]).head(3)
    parts = samples.to_crs(RASTER_CRS).geometry
    samples["weight"] = [0.5, 2.0, 1.0]
    samples.loc[0, "geometry"] = gpd.GeoSeries([shapely.MultiPolygon([parts[0], parts[1]])],
                                               crs=RASTER_CRS).to_crs(samples.crs)[0]  # fmt: skip
    table, _ = overlay_samples(ds, samples)
    per_polygon = table.groupby("sample_index")
    assert per_polygon["weight"].sum().to_numpy() == pytest.approx([0.5, 2.0, 1.0])
    assert per_polygon["location_id"].nunique().eq(1).all() and table.location_id.nunique() == 3
    assert per_polygon.size()[0] == len(_pixels_inside(parts[0]) | _pixels_inside(parts[1]))


def test_the_report_names_polygons_without_a_pixel(polygons):
    ds = load_dataset(polygons)
    samples = ds.samples.head(2)
    samples.loc[1, "geometry"] = shapely.affinity.translate(samples.geometry[1], 1e6)
    table, report = overlay_samples(ds, samples)
    assert "1 cover no pixel centre of any tile" in str(report) and "index 1" in str(report)
    assert set(table["sample_index"]) == {0}


def test_the_overlay_on_a_cluster_equals_the_serial_one(polygons):
    distributed = pytest.importorskip("distributed")
    ds = load_dataset(polygons)
    serial, serial_report = overlay_samples(ds)
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                 dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        table, report = overlay_samples(ds, client=client, progress=False)
    assert table.equals(serial) and str(report) == str(serial_report)
