"""Space-time overlay: values, the survey-year rule, and every bad input."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from shapely.geometry import LineString, Point

from odse_tutorial._dataset import check_folder
from odse_tutorial.datasets import load_dataset, survey_year
from odse_tutorial.overlay import overlay_samples, training_data


def test_values_equal_direct_rasterio_reads(simulated, overlay_table):
    rng = np.random.default_rng(0)
    rows = overlay_table.iloc[rng.choice(len(overlay_table), 60, replace=False)]
    for _, row in rows.iterrows():
        layers = simulated.layers(row.tile_id, row.year)
        for name in ("red_summer", "swir1_winter", "elevation"):
            with rasterio.open(layers[name]) as src:
                value = next(src.sample([(row.geometry.x, row.geometry.y)]))[0]
            assert row[name] == pytest.approx(float(value)), (name, row.location_id)


def test_each_sample_reads_its_own_survey_year(simulated, overlay_table):
    """A location surveyed in two years gets different composites in each."""
    lucas = overlay_table[overlay_table.source == "LUCAS"]
    revisited = lucas.groupby("location_id").filter(lambda g: len(g) > 1)
    first = revisited.groupby("location_id").head(1).set_index("location_id")
    for location, row in first.head(10).iterrows():
        other = revisited[(revisited.location_id == location) & (revisited.year != row.year)].iloc[
            0
        ]
        assert row.elevation == other.elevation  # static layer: same value
        with rasterio.open(simulated.layers(other.tile_id, other.year)["nir_summer"]) as src:
            expected = next(src.sample([(other.geometry.x, other.geometry.y)]))[0]
        assert other.nir_summer == expected


def test_table_layout_and_determinism(simulated, overlay_table):
    names = list(simulated.feature_names)
    assert list(overlay_table.columns[-len(names) :]) == names
    assert (overlay_table[names].dtypes == np.float32).all()
    assert overlay_table["year"].tolist() == survey_year(overlay_table, "survey_date").tolist()
    assert overlay_table.index.isin(simulated.samples.index).all()
    again, _ = overlay_samples(simulated)
    pd.testing.assert_frame_equal(again, overlay_table)


def test_nodata_samples_are_reported_and_dropped(simulated, overlay_table):
    samples = simulated.samples
    _, report = overlay_samples(simulated, samples)
    assert report.n_input == len(samples)
    assert report.n_output == len(overlay_table) == len(samples) - len(report.nodata)
    assert len(report.nodata) > 0
    assert not overlay_table[list(simulated.feature_names)].isna().any().any()
    assert "nodata" in str(report)


def test_callers_frame_is_untouched(simulated):
    samples = simulated.samples
    before = samples.copy()
    overlay_samples(simulated, samples.to_crs("EPSG:4326"))
    overlay_samples(simulated, samples)
    pd.testing.assert_frame_equal(samples, before)


def test_other_crs_is_reprojected_and_reported(simulated, overlay_table):
    samples = simulated.samples.to_crs("EPSG:4326")
    table, report = overlay_samples(simulated, samples)
    assert report.reprojected_from == "EPSG:4326"
    assert "reprojected" in str(report)
    # The same as reprojecting the points by hand first.
    by_hand, _ = overlay_samples(simulated, samples.to_crs(simulated.samples.crs))
    pd.testing.assert_frame_equal(table.drop(columns="geometry"), by_hand.drop(columns="geometry"))
    assert len(table) > 0.99 * len(overlay_table)


def test_points_outside_are_reported(simulated):
    samples = simulated.samples.head(20).copy()
    samples.loc[samples.index[:3], "geometry"] = [
        Point(0, 0),
        Point(1e6, 1e6),
        Point(4_200_000, 2_800_000),
    ]
    table, report = overlay_samples(simulated, samples)
    assert list(report.outside.index) == list(samples.index[:3])
    assert "outside every tile" in str(report)
    assert not table.index.isin(samples.index[:3]).any()


@pytest.mark.parametrize(
    ("kwargs", "drop", "message"),
    [
        (
            {},
            "lc_code",
            r"No class code column 'lc_code'.*did you mean 'lc_cod'.*"
            r'dataset.json: "columns": \{"class_code": "lc_cod"\}',
        ),
        (
            {"date_column": "survey_dat"},
            None,
            r"No date column 'survey_dat'.*did you mean 'survey_date'",
        ),
    ],
)
def test_missing_or_misspelled_columns(simulated, kwargs, drop, message):
    samples = simulated.samples.head(10)
    if drop:
        samples = samples.rename(columns={drop: drop[:-1]})
    with pytest.raises(ValueError, match=message):
        overlay_samples(simulated, samples, **kwargs)


def test_samples_without_crs(simulated):
    samples = simulated.samples.head(5).set_crs(None, allow_override=True)
    with pytest.raises(ValueError, match=r"no CRS.*set_crs"):
        overlay_samples(simulated, samples)


def test_year_without_layers_names_year_and_files(small_copy):
    ds = load_dataset(small_copy)
    samples = ds.samples
    samples.loc[samples.index[0], "survey_date"] = pd.Timestamp("2015-07-01")
    with pytest.raises(KeyError, match=r"year 2015 .*9529/2015/blue_winter\.tif"):
        overlay_samples(ds, samples)


def test_unreadable_raster_header_is_refused_at_open_naming_the_full_path(small_copy):
    path = small_copy / "tiles" / "9529" / "2018" / "red_summer.tif"
    path.write_bytes(b"not a tiff")
    with pytest.raises(ValueError, match=rf"Could not read raster {path}: "):
        load_dataset(small_copy)


def corrupt_pixels(path):
    """Keep the header, overwrite the compressed blocks: it opens, but reading fails."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2 :] = b"A" * (len(data) - len(data) // 2)
    path.write_bytes(bytes(data))


def test_corrupt_raster_pixels_name_the_full_path_in_the_overlay(small_copy):
    dataset = load_dataset(small_copy)  # headers are fine
    path = small_copy / "tiles" / "9529" / "2018" / "red_summer.tif"
    corrupt_pixels(path)
    with pytest.raises(OSError, match=rf"Could not read raster {path}: "):
        overlay_samples(dataset)


def test_mismatched_grid_names_the_layer(small_copy):
    path = small_copy / "tiles" / "9529" / "2018" / "red_summer.tif"
    with rasterio.open(path) as src:
        profile, data = src.profile, src.read()
    profile["transform"] = profile["transform"] @ profile["transform"].translation(3, 0)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    with pytest.raises(ValueError, match=rf"{path} is not on the grid of .*rio warp"):
        load_dataset(small_copy)
    unchecked = check_folder(small_copy).dataset  # the overlay checks grids too
    with pytest.raises(ValueError, match=rf"Layer 'red_summer' \({path}\) is not on the grid"):
        overlay_samples(unchecked)


def test_duplicate_index_is_refused(simulated):
    samples = simulated.samples.head(4)
    samples.index = [0, 0, 1, 1]
    with pytest.raises(ValueError, match="reset_index"):
        overlay_samples(simulated, samples)


def test_sample_columns_that_the_overlay_would_overwrite_are_refused(simulated):
    samples = simulated.samples.head(4).assign(year=1999, elevation=0.0)
    with pytest.raises(
        ValueError, match=r"\['year', 'elevation'\] that the overlay writes.*rename"
    ):
        overlay_samples(simulated, samples)
    as_date = simulated.samples.head(4).assign(year=lambda d: d.survey_date.dt.year)
    by_year = overlay_samples(simulated, as_date, date_column="year")[0]
    assert by_year.index.equals(overlay_samples(simulated, as_date.drop(columns="year"))[0].index)


@pytest.mark.parametrize(
    "as_type",
    [
        lambda d: d,  # datetimes
        lambda d: d.dt.year,  # integer years
        lambda d: d.dt.year.astype(float),  # 2018.0: a year column that once held NaN
        lambda d: d.dt.year.astype("Int64"),  # nullable integers
        lambda d: d.dt.strftime("%Y-%m-%d"),  # ISO text
        lambda d: d.dt.date,  # python dates
    ],
)
def test_survey_dates_of_any_type_read_the_same_years(small_copy, as_type):
    ds = load_dataset(small_copy)
    samples = ds.samples.head(40)
    expected, _ = overlay_samples(ds, samples)
    samples["survey_date"] = as_type(samples["survey_date"])
    table, _ = overlay_samples(ds, samples)
    assert table["year"].tolist() == expected["year"].tolist()
    pd.testing.assert_frame_equal(table[list(ds.feature_names)], expected[list(ds.feature_names)])


def test_a_gap_in_the_years_names_the_column_and_row(simulated):
    samples = simulated.samples.head(6)
    samples["survey_date"] = samples["survey_date"].dt.year.astype("Int64")
    samples.loc[samples.index[4], "survey_date"] = pd.NA
    with pytest.raises(
        ValueError, match=r"Column 'survey_date' has 1 value\(s\) .*rows 4 .*dropna"
    ):
        overlay_samples(simulated, samples)


def test_empty_samples_say_there_are_no_samples(simulated):
    samples = simulated.samples
    with pytest.raises(ValueError, match=r"There are no samples \(0 rows\); did a filter"):
        overlay_samples(simulated, samples[samples.lc_code == -1])


def test_samples_without_geometry_are_refused_naming_the_rows(simulated):
    samples = simulated.samples.head(8)
    samples.loc[[2, 6, 7], "geometry"] = [None, Point(), LineString([(0, 0), (1, 1)])]
    message = r"3 sample\(s\) are neither a point nor a polygon \(2 missing or empty, 1 LineString\): rows 2, 6, 7"
    with pytest.raises(ValueError, match=message):
        overlay_samples(simulated, samples)


def test_dropped_samples_are_logged_in_one_line_and_listed_in_the_report(simulated, caplog):
    caplog.set_level("WARNING", logger="odse_tutorial")
    table, report = overlay_samples(simulated)
    warnings = [r.getMessage() for r in caplog.records if r.name == "odse_tutorial.overlay"]
    dropped = report.n_input - report.n_output
    assert dropped == len(report.nodata) + len(report.outside) > 0
    assert warnings == [
        f"Overlay: {dropped} of {report.n_input} samples dropped ({len(report.outside)} outside "
        f"every tile, {len(report.nodata)} with nodata); print the returned report for which."
    ]
    assert str(report.nodata.index[0]) in str(report)


def test_nodata_recorded_in_a_side_car_file_is_nodata_for_the_overlay_too(tmp_path):
    # QGIS or gdal_edit may record nodata in ndvi.tif.aux.xml; the maps honour it, so must
    # the overlay, or models would train on the fill value.
    folder = tmp_path / "tiles" / "T1" / "2018"
    folder.mkdir(parents=True)
    with rasterio.open(folder / "ndvi.tif", "w", driver="GTiff", width=10, height=10, count=1,
                       dtype="uint8", crs="EPSG:3035",
                       transform=rasterio.transform.from_origin(0, 300, 30, 30)) as dst:  # fmt: skip
        dst.write(np.full((1, 10, 10), 200, dtype="uint8"))
    (folder / "ndvi.tif.aux.xml").write_text(
        '<PAMDataset><PAMRasterBand band="1"><NoDataValue>200</NoDataValue></PAMRasterBand>'
        "</PAMDataset>"
    )
    gpd.GeoDataFrame({"lc_code": [1, 2], "survey_date": ["2018-06-01"] * 2},
                     geometry=gpd.points_from_xy([45, 105], [255, 255]),
                     crs="EPSG:3035").to_file(tmp_path / "points.gpkg")  # fmt: skip
    table, report = overlay_samples(load_dataset(tmp_path))
    assert len(table) == 0 and report.nodata.index.tolist() == [0, 1]


def test_weights_are_optional_and_logged_once(small_copy, caplog):
    samples = gpd.read_file(small_copy / "samples.gpkg").drop(columns="confidence")
    samples.to_file(small_copy / "samples.gpkg")
    caplog.set_level("INFO", logger="odse_tutorial")
    data = training_data(load_dataset(small_copy))
    assert data.weights is None and len(data.X) > 0
    notes = [r.message for r in caplog.records if "confidence" in r.message]
    assert notes == ["Not available (no such sample column): weight 'confidence'."]


@pytest.mark.parametrize(("value", "what"), [(-1.0, "negative"), (np.nan, "NaN or infinite")])
def test_bad_weights_are_refused_at_the_door(small_copy, value, what):
    samples = gpd.read_file(small_copy / "samples.gpkg")
    samples.loc[3, "confidence"] = value
    samples.to_file(small_copy / "samples.gpkg")
    message = rf"The weight column 'confidence' has 1 {what} weight\(s\)"
    with pytest.raises(ValueError, match=message):  # at open
        load_dataset(small_copy)
    dataset = check_folder(small_copy).dataset
    with pytest.raises(ValueError, match=message):  # and in the overlay / training_data
        training_data(dataset)
