"""Tests of odse_tutorial.raster_io: CRS comparison, grid checks and atomic COG writing."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import ColorInterp
from rasterio.windows import Window

from odse_tutorial.raster_io import (
    CogWriter,
    RasterGrid,
    check_same_grid,
    read_grid,
    read_legend,
    same_crs,
    write_cog,
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


# -- same_crs -------------------------------------------------------------------------
def test_same_crs_epsg_and_equivalent_proj4_string():
    assert same_crs("EPSG:3035", LAEA_PROJ4)
    assert same_crs(CRS.from_epsg(3035), CRS.from_string(LAEA_PROJ4))
    assert same_crs(3035, CRS.from_epsg(3035).to_wkt())
    assert same_crs(3035, LAEA_PROJ4 + " +towgs84=0,0,0,0,0,0,0")


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
    assert not same_crs("EPSG:3035", other)


def test_same_crs_none_only_equals_none():
    assert same_crs(None, None)
    assert not same_crs(None, "EPSG:3035")
    assert not same_crs("EPSG:3035", None)


def test_same_crs_invalid_definition_is_a_clear_error():
    with pytest.raises(ValueError, match="Cannot compare CRS"):
        same_crs("EPSG:3035", "not a crs")


# -- grids ----------------------------------------------------------------------------
def test_check_same_grid_accepts_equivalent_crs_spellings(tmp_path):
    layers = {
        "red": _write(tmp_path / "red.tif"),
        "nir": _write(tmp_path / "nir.tif", crs=LAEA_PROJ4),
        "slope": _write(tmp_path / "slope.tif", transform=TRANSFORM @ Affine.translation(1e-6, 0)),
    }
    grid = check_same_grid(layers)
    assert grid.shape == (20, 30)
    assert grid == read_grid(layers["red"])


@pytest.mark.parametrize(
    ("kwargs", "how"),
    [
        ({"crs": "EPSG:32632"}, "its CRS is EPSG:32632 instead of EPSG:3035"),
        ({"transform": TRANSFORM @ Affine.translation(0.5, 0)}, "its transform is"),
        ({"transform": Affine(60.0, 0, 4e6, 0, -60.0, 3e6)}, "its transform is"),
        ({"shape": (20, 31)}, "20 rows x 31 columns instead of 20 x 30"),
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


# -- writing --------------------------------------------------------------------------
GRID = RasterGrid("EPSG:3035", TRANSFORM, 40, 24)


def test_write_cog_is_a_cloud_optimized_geotiff_with_metadata(tmp_path):
    path = tmp_path / "classes.tif"
    legend = [{"value": 1, "code": "a", "name": "Arable", "colour": "#ffffa8"}]
    data = np.arange(24 * 40, dtype="uint16").reshape(24, 40) % 3
    with write_cog(
        path,
        GRID,
        dtype="uint16",
        nodata=0,
        colormap={0: (0, 0, 0, 0), 1: (255, 255, 168, 255)},
        tags={"classes": legend, "product": "dominant_class"},
        band_tags=[{"class_code": 1}],
        descriptions=["Dominant class"],
        units=["class"],
        window_size=16,
    ) as dst:
        for row in range(0, 24, 16):
            for col in range(0, 40, 16):
                window = Window(col, row, min(16, 40 - col), min(16, 24 - row))
                dst.write(data[row : row + 16, col : col + 16], window)
    with rasterio.open(path) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.profile["tiled"]
        assert src.profile["compress"] == "deflate"
        assert src.nodata == 0
        assert src.dtypes[0] == "uint16"
        assert same_crs(src.crs, "EPSG:3035")
        assert src.transform == TRANSFORM
        np.testing.assert_array_equal(src.read(1), data)
        assert src.colormap(1)[1] == (255, 255, 168, 255)
        assert src.colorinterp[0] == ColorInterp.palette
        assert json.loads(src.tags()["classes"]) == legend
        assert src.tags(1)["class_code"] == "1"
        assert src.descriptions == ("Dominant class",)
        assert src.units == ("class",)
    assert read_legend(path)["code"].tolist() == ["a"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classes.tif"]  # no leftovers


def test_write_cog_builds_overviews_for_rasters_larger_than_a_tile(tmp_path):
    grid = RasterGrid("EPSG:3035", TRANSFORM, 1100, 600)
    path = tmp_path / "big.tif"
    with write_cog(path, grid, dtype="uint8", nodata=255, overview_resampling="average") as dst:
        for row in range(0, 600, 512):
            h = min(512, 600 - row)
            dst.write(np.full((h, 1100), 7, dtype="uint8"), Window(0, row, 1100, h))
    with rasterio.open(path) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.block_shapes[0] == (512, 512)
        assert src.overviews(1) == [2, 4]  # until the overview fits in one tile


def test_write_cog_takes_the_grid_from_a_reference_profile(tmp_path):
    reference = _write(tmp_path / "reference.tif", shape=(20, 30))
    with rasterio.open(reference) as src:
        profile = src.profile
    with write_cog(tmp_path / "out.tif", profile, dtype="uint8", nodata=255) as dst:
        dst.write(np.ones((20, 30), "uint8"), Window(0, 0, 30, 20))
    assert read_grid(tmp_path / "out.tif") == read_grid(reference)
    with pytest.raises(KeyError, match="lacks \\['transform'\\]"):
        RasterGrid.from_profile({"crs": "EPSG:3035", "width": 1, "height": 1})


def test_write_cog_failure_leaves_old_file_untouched_and_no_partial_file(tmp_path):
    path = tmp_path / "map.tif"
    path.write_bytes(b"old map")
    with pytest.raises(RuntimeError, match="disk on fire"):
        with write_cog(path, GRID, dtype="uint8", nodata=255) as dst:
            dst.write(np.zeros((16, 16), "uint8"), Window(0, 0, 16, 16))
            raise RuntimeError("disk on fire")
    assert path.read_bytes() == b"old map"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.tif"]


def test_cog_writer_validates_its_options(tmp_path):
    with pytest.raises(ValueError, match="colour table needs a uint8 or uint16"):
        CogWriter(tmp_path / "a.tif", GRID, dtype="float32", colormap={1: (0, 0, 0, 255)})
    with pytest.raises(ValueError, match="descriptions has 2 entries"):
        CogWriter(tmp_path / "a.tif", GRID, dtype="uint8", descriptions=["a", "b"])
    with pytest.raises(RuntimeError, match="inside a `with` block"):
        CogWriter(tmp_path / "a.tif", GRID, dtype="uint8").write(
            np.zeros((2, 2)), Window(0, 0, 2, 2)
        )


def test_read_legend_without_classes_tag_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no 'classes' tag"):
        read_legend(_write(tmp_path / "plain.tif"))
