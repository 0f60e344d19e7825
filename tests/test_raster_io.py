"""Tests of odse_tutorial.raster_io: CRS comparison, grid checks, points, COG writing."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import ColorInterp
from rasterio.windows import Window

from odse_tutorial.raster_io import (
    _open_work_file,
    _same_crs,
    _write_cog,
    check_same_grid,
    read_at_points,
)

LAEA_PROJ4 = (
    "+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80 +units=m +no_defs"
)
TRANSFORM = Affine(30.0, 0.0, 4_000_000.0, 0.0, -30.0, 3_000_000.0)


def _write(path, *, crs="EPSG:3035", transform=TRANSFORM, shape=(20, 30), dtype="int16"):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=shape[1],
        height=shape[0],
        count=1,
        dtype=dtype,
        nodata=-1,
        crs=crs,
        transform=transform,
    ) as dst:
        dst.write(np.zeros((1, *shape), dtype=dtype))
    return path


# -- _same_crs -------------------------------------------------------------------------
def test_same_crs_epsg_and_equivalent_proj4_string():
    assert _same_crs("EPSG:3035", LAEA_PROJ4)
    assert _same_crs(CRS.from_epsg(3035), CRS.from_string(LAEA_PROJ4))
    assert _same_crs(3035, CRS.from_epsg(3035).to_wkt())


@pytest.mark.parametrize(
    "other",
    [
        "EPSG:32632",
        "EPSG:4258",
        LAEA_PROJ4.replace("+lat_0=52", "+lat_0=51"),
        LAEA_PROJ4.replace("+x_0=4321000", "+x_0=0"),
        LAEA_PROJ4.replace("GRS80", "intl"),
        LAEA_PROJ4.replace("+units=m", "+units=km"),
    ],
)
def test_same_crs_different_definitions(other):
    assert not _same_crs("EPSG:3035", other)


def test_same_crs_without_a_proj_form_is_not_equal_to_another():
    site = 'LOCAL_CS["site A",LOCAL_DATUM["A",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]'
    other = site.replace("site A", "site B").replace('UNIT["metre",1]', 'UNIT["foot",0.3048]')
    assert not _same_crs(site, other) and _same_crs(site, site)


def test_same_crs_none_only_equals_none():
    assert _same_crs(None, None)
    assert not _same_crs(None, "EPSG:3035")
    assert not _same_crs("EPSG:3035", None)


def test_same_crs_invalid_definition_is_a_clear_error():
    with pytest.raises(ValueError, match="Cannot compare CRS"):
        _same_crs("EPSG:3035", "not a crs")


# -- grids ----------------------------------------------------------------------------
def test_check_same_grid_accepts_equivalent_crs_spellings(tmp_path):
    layers = {
        "red": _write(tmp_path / "red.tif"),
        "nir": _write(tmp_path / "nir.tif", crs=LAEA_PROJ4),
        "slope": _write(tmp_path / "slope.tif", transform=TRANSFORM @ Affine.translation(1e-6, 0)),
    }
    grid = check_same_grid(layers)
    assert (grid["height"], grid["width"]) == (20, 30)
    with rasterio.open(layers["red"]) as src:
        assert grid == {"crs": src.crs, "transform": src.transform, "width": 30, "height": 20}


@pytest.mark.parametrize(
    ("kwargs", "how"),
    [
        ({"crs": "EPSG:32632"}, "its CRS is EPSG:32632 instead of EPSG:3035"),
        ({"transform": TRANSFORM @ Affine.translation(0.5, 0)}, "its transform is"),
        ({"transform": Affine(60.0, 0, 4e6, 0, -60.0, 3e6)}, "its transform is"),
        ({"shape": (20, 31)}, "its shape is 20 x 31 instead of 20 x 30"),
    ],
)
def test_check_same_grid_names_the_layer_that_differs(tmp_path, kwargs, how):
    layers = {
        "red": _write(tmp_path / "red.tif"),
        "elevation": _write(tmp_path / "elevation.tif", **kwargs),
    }
    with pytest.raises(ValueError, match="Layer 'elevation'") as info:
        check_same_grid(layers)
    message = str(info.value)
    assert how in message
    assert "grid of layer 'red'" in message
    assert "rio warp" in message


def test_check_same_grid_needs_layers():
    with pytest.raises(ValueError, match="No layers"):
        check_same_grid({})


# -- read_at_points ----------------------------------------------------------------------
def _values_raster(path, shape=(1500, 1300), dtype="int16", nodata=-1):
    rng = np.random.default_rng(0)
    values = rng.integers(0, 1000, shape).astype(dtype)
    values[::97, ::89] = nodata
    with rasterio.open(
        path, "w", driver="GTiff", width=shape[1], height=shape[0], count=1, dtype=dtype,
        nodata=nodata, crs="EPSG:3035", transform=TRANSFORM, tiled=True,
    ) as dst:  # fmt: skip
        dst.write(values, 1)
    return path, values


def test_read_at_points_equals_direct_reads_across_windows(tmp_path):
    path, values = _values_raster(tmp_path / "v.tif")  # larger than one 1024-pixel window
    rng = np.random.default_rng(1)
    rows, cols = rng.integers(0, 1500, 500), rng.integers(0, 1300, 500)
    rows[:3], cols[:3] = 0, 0  # nodata pixels: (0, 0) is one
    xs, ys = rasterio.transform.xy(TRANSFORM, rows, cols)
    read = read_at_points(path, xs, ys)
    assert read.dtype == np.int16 and read.shape == (500,)
    direct = values[rows, cols]
    np.testing.assert_array_equal(read.mask, direct == -1)
    np.testing.assert_array_equal(read.compressed(), direct[direct != -1])
    with rasterio.open(path) as src:  # also on an open dataset
        np.testing.assert_array_equal(read_at_points(src, xs, ys), read)


def test_read_at_points_masks_points_outside_and_nan(tmp_path):
    path, values = _values_raster(tmp_path / "v.tif", shape=(20, 30))
    x0, y0 = rasterio.transform.xy(TRANSFORM, 5, 7)
    east = TRANSFORM.c + 30 * 30 + 1  # just beyond the last column
    read = read_at_points(path, [x0, east, x0, np.nan], [y0, y0, TRANSFORM.f + 1, y0])
    assert read.mask.tolist() == [False, True, True, True]
    assert read[0] == values[5, 7]


def test_read_at_points_masks_nan_in_float_rasters_and_refuses_bad_input(tmp_path):
    path = tmp_path / "f.tif"
    with rasterio.open(path, "w", driver="GTiff", width=2, height=1, count=2, dtype="float32",
                       transform=TRANSFORM) as dst:  # fmt: skip
        dst.write(np.array([[[1.5, np.nan]], [[0, 0]]], dtype="float32"))
    with pytest.raises(ValueError, match="2 bands"):
        read_at_points(path, [4_000_001], [2_999_999])
    with pytest.raises(ValueError, match="equal length"):
        read_at_points(path, [1, 2], [1])
    with pytest.raises(OSError, match=r"Could not read raster .*missing\.tif"):
        read_at_points(tmp_path / "missing.tif", [1], [1])
    single = _write(tmp_path / "s.tif", dtype="float32")
    with rasterio.open(single, "r+") as dst:
        dst.nodata = None
        dst.write(np.full((1, 20, 30), np.nan, dtype="float32"))
    assert read_at_points(single, [4_000_001], [2_999_999]).mask.all()
    with rasterio.open(single, "r+") as dst:  # inf is nodata too, as in predict_map
        dst.write(np.full((1, 20, 30), np.inf, dtype="float32"))
    assert read_at_points(single, [4_000_001], [2_999_999]).mask.all()


def test_read_at_points_honours_nodata_recorded_in_a_side_car_file(tmp_path):
    path = tmp_path / "u.tif"  # no nodata in the file itself
    with rasterio.open(path, "w", driver="GTiff", width=30, height=20, count=1, dtype="uint8",
                       crs="EPSG:3035", transform=TRANSFORM) as dst:  # fmt: skip
        dst.write(np.full((1, 20, 30), 200, dtype="uint8"))
    path.with_name("u.tif.aux.xml").write_text(
        '<PAMDataset><PAMRasterBand band="1"><NoDataValue>200</NoDataValue></PAMRasterBand>'
        "</PAMDataset>"
    )
    with rasterio.Env():  # as the overlay reads: side-car files count
        assert read_at_points(path, [4_000_001], [2_999_999]).mask.all()


# -- writing COGs --------------------------------------------------------------------------
GRID = {"crs": "EPSG:3035", "transform": TRANSFORM, "width": 1100, "height": 600}


def test_work_file_becomes_a_cloud_optimized_geotiff_with_metadata(tmp_path):
    path = tmp_path / "classes.tif"
    with contextlib.ExitStack() as stack:
        work = _open_work_file(
            stack, path, GRID, dtype="uint16", nodata=0, block=256,
            tags={"classes": "[]", "tile": "T1"}, description="Dominant class",
            colormap={0: (0, 0, 0, 0), 7: (255, 0, 0, 255)}, units="class",
        )  # fmt: skip
        work.write(np.full((600, 1100), 7, dtype="uint16"), 1)
        _write_cog(work, path, "mode")
    assert [p.name for p in tmp_path.iterdir()] == ["classes.tif"]  # the work file is gone
    with rasterio.open(path) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.profile["compress"] == "deflate" and src.profile["blockxsize"] == 512
        assert src.overviews(1)[0] == 2  # larger than one tile: overviews
        assert src.tags()["tile"] == "T1" and src.descriptions == ("Dominant class",)
        assert src.colorinterp[0] == ColorInterp.palette and src.colormap(1)[7] == (255, 0, 0, 255)
        assert src.units == ("class",) and src.nodata == 0
        assert (src.read(1, window=Window(0, 0, 8, 8)) == 7).all()


def test_work_file_is_removed_when_writing_fails(tmp_path):
    path = tmp_path / "p.tif"
    with pytest.raises(RuntimeError), contextlib.ExitStack() as stack:
        _open_work_file(stack, path, GRID, dtype="uint8", nodata=255, block=512, tags={},
                        description="x")  # fmt: skip
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []


def test_one_window_tiler_covers_a_raster_exactly():
    from odse_tutorial.raster_io import _windows

    tiles = _windows(5, 3, 2, 2)
    assert [(w.col_off, w.row_off, w.width, w.height) for w in tiles] == [
        (0, 0, 2, 2), (2, 0, 2, 2), (4, 0, 1, 2), (0, 2, 2, 1), (2, 2, 2, 1), (4, 2, 1, 1),
    ]  # fmt: skip
    assert [(w.width, w.height) for w in _windows(5, 3, 2)] == [(5, 2), (5, 1)]
