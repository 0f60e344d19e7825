"""A learner's own data on the first try: the minimal folder works, and ``check`` (the
same checks that run when a dataset is opened) lists every problem at once."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from conftest import make_real_style_folder, write_raster

from odse_tutorial.__main__ import _main
from odse_tutorial.datasets import check_dataset, load_dataset
from odse_tutorial.model_selection import block_cv
from odse_tutorial.overlay import overlay_samples, training_data


def test_the_minimal_folder_loads_and_overlays(real_style, caplog):
    caplog.set_level("INFO", logger="odse_tutorial")
    report = check_dataset(real_style)
    assert report.ok, str(report)
    assert [s.split(" (")[0].split(":")[0] for s in report.skipped] == [
        "no truth maps", "one year", "one tile", "no weight column", "no location column",
        "no tile column",
    ]  # fmt: skip
    ds = load_dataset(real_style)
    assert ds.feature_names == ("blue", "green", "nir", "red", "swir1", "swir2")
    assert ds.classes.codes == ("crop", "forest", "water")
    assert (ds.columns.weight, ds.columns.location, ds.columns.tile) == (None, None, None)
    notes = [r.message for r in caplog.records if "Not available" in r.message]
    assert len(notes) == 2  # logged once per open (check, then load)
    data = training_data(ds)
    assert data.weights is None and len(data.X) == 60 and data.overlay_report.reprojected_from
    # Each class lies in its own third of the tile: the overlay read the right pixels.
    assert (data.X.groupby(data.y)["blue"].mean().round(-2) == [300, 100, 200]).all()
    cv = block_cv(
        data.table.to_crs("EPSG:32631"), 240, n_splits=2, location_column=ds.columns.location
    )
    assert cv.get_n_splits() == 2


def break_folder(folder, kind):
    """One broken variant of the minimal folder, as a learner might make it."""
    year = folder / "tiles" / "T1" / "2021"
    samples = gpd.read_file(folder / "points.gpkg")
    meta = json.loads((folder / "dataset.json").read_text())
    if kind == "misspelt class column":
        meta["columns"]["class_code"] = "land_cover"
    elif kind == "unknown dataset.json key":
        meta["columns"]["klass"] = "landcover"
    elif kind == "stack band named like a layer":
        write_raster(year / "extra.tif", np.ones((2, 24, 24), "uint16"))
        with rasterio.open(year / "extra.tif", "r+") as dst:
            dst.descriptions = ("red", "ndwi")
    elif kind == "layer off the grid":
        write_raster(year / "nir.tif", np.ones((24, 24), "uint16"), origin=(500_030, 5_800_000))
    elif kind == "missing layer in a year":
        make_real_style_folder(folder, years=(2021, 2022))
        (folder / "tiles" / "T1" / "2022" / "swir2.tif").unlink()
    elif kind == "tile missing a year":
        make_real_style_folder(folder, tiles={"T1": "EPSG:32631", "T2": "EPSG:32631"},
                               years=(2021, 2022))  # fmt: skip
        shutil.rmtree(folder / "tiles" / "T2" / "2022")
    elif kind == "tile missing a static layer":
        make_real_style_folder(folder, tiles={"T1": "EPSG:32631", "T2": "EPSG:32631"})
        write_raster(
            folder / "tiles" / "T1" / "static" / "elevation.tif", np.ones((24, 24), "int16")
        )
    elif kind == "layer both static and yearly":
        write_raster(folder / "tiles" / "T1" / "static" / "nir.tif", np.ones((24, 24), "uint16"))
    elif kind == "unreadable header":
        (year / "green.tif").write_bytes(b"GIF89a, not a GeoTIFF")
    elif kind == "raster without CRS":
        write_raster(year / "blue.tif", np.ones((24, 24), "uint16"), crs=None)
    elif kind == "samples without CRS":
        samples.set_crs(None, allow_override=True).to_file(folder / "points.gpkg")
    elif kind == "bad dates":
        samples.loc[[3, 7], "observed"] = ["last summer", "2021-13-45"]
    elif kind == "no samples":
        samples.iloc[:0].to_file(folder / "points.gpkg")
    elif kind == "samples without geometry":
        samples.loc[[2, 5], "geometry"] = None
    elif kind == "negative weights":
        meta["columns"]["weight"] = "conf"
        samples["conf"] = 1.0
        samples.loc[4, "conf"] = -0.5
    elif kind == "two samples files":
        samples.to_file(folder / "copy.geojson")
    elif kind == "class missing from classes.csv":
        (folder / "classes.csv").write_text("code,name\nforest,Forest\ncrop,Cropland\n")
    if kind in ("bad dates", "samples without geometry", "negative weights"):
        samples.to_file(folder / "points.gpkg")
    (folder / "dataset.json").write_text(json.dumps(meta))
    return folder


BROKEN = {  # kind -> what the one message must say (the problem, where, and the fix)
    "misspelt class column": r'No class code column \'land_cover\'.*"columns": \{"class_code": "landcover"\}',
    "unknown dataset.json key": r'dataset.json: unknown keys in "columns": \[\'klass\'\]; use',
    "stack band named like a layer": r"{year}: layer name 'red' is given by both {year}/extra.tif \(band 1\) and {year}/red.tif; rename",
    "layer off the grid": r"{year}/nir.tif is not on the grid of .*its transform.*rio warp",
    "missing layer in a year": r"{root}/T1/2022 lacks layer\(s\) that the other folders have: swir2.tif; add them",
    "tile missing a year": r"different years \(\{'T1': \[2021, 2022\], 'T2': \[2021\]\}\); every tile",
    "tile missing a static layer": r"{root}/T2/static lacks layer\(s\) .*: elevation.tif",
    "layer both static and yearly": r"Layer\(s\) \['nir'\] are both static and yearly .*rename or remove",
    "unreadable header": r"Could not read raster {year}/green.tif: .*valid GeoTIFF",
    "raster without CRS": r"{year}/blue.tif has no CRS; set it \(`rio edit-info --crs",
    "samples without CRS": r"The samples have no CRS.*set_crs",
    "bad dates": r"Column 'observed' has 2 value\(s\) that are not dates or years: rows 3, 7 hold",
    "no samples": r"There are no samples \(0 rows\)",
    "samples without geometry": r"2 sample\(s\) are neither a point nor a polygon \(2 missing or empty\): rows 2, 5",
    "negative weights": r"The weight column 'conf' has 1 negative weight\(s\)",
    "two samples files": r"Expected one samples file .*'copy.geojson', 'points.gpkg'.*\"samples\"",
    "class missing from classes.csv": r"class code\(s\) \['water'\] that the class table lacks; add them to classes.csv",
}  # fmt: skip


@pytest.mark.parametrize("kind", BROKEN)
def test_check_reports_each_broken_variant_in_one_message(real_style, kind):
    folder = break_folder(real_style, kind)
    report = check_dataset(folder)
    year, root = folder / "tiles" / "T1" / "2021", folder / "tiles"
    pattern = BROKEN[kind].replace("{year}", str(year)).replace("{root}", str(root))
    assert not report.ok and len(report.problems) == 1, str(report)
    assert report.problems[0].count("\n") == 0
    with pytest.raises(ValueError, match=pattern) as opened:  # opening runs the same check
        load_dataset(folder)
    assert str(opened.value) == str(report)


def test_every_problem_is_listed_at_once(real_style, capsys):
    for kind in ("misspelt class column", "stack band named like a layer", "bad dates",
                 "unreadable header"):  # fmt: skip
        break_folder(real_style, kind)
    report = check_dataset(real_style)
    assert len(report.problems) == 4, str(report)
    assert _main(["check", str(real_style)]) == 1
    out = capsys.readouterr().out
    assert (
        out.startswith(f"{real_style}: 4 problem(s) to fix\n- ")
        and "The notebooks will skip:" in out
    )


def test_command_line_check(real_style):
    command = [sys.executable, "-m", "odse_tutorial", "check", str(real_style)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "no problems found" in done.stdout, done.stderr
    break_folder(real_style, "no samples")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "There are no samples" in done.stdout


def test_tiles_in_two_utm_zones_are_each_read_in_their_own_crs(tmp_path):
    folder = make_real_style_folder(
        tmp_path / "zones", tiles={"A": "EPSG:32631", "B": "EPSG:32632"}
    )
    ds = load_dataset(folder)
    table, report = overlay_samples(ds)
    assert len(report.outside) == 0 and len(table) == 120
    assert (table.groupby("landcover")["blue"].mean().round(-2) == [300, 100, 200]).all()


def test_opening_the_bundled_dataset_reads_each_raster_header_once(monkeypatch):
    """The door checks every raster's header, and reads each file once (its speed is
    measured by benchmarks, not by a timed test)."""
    opened = []
    real_open = rasterio.open
    monkeypatch.setattr(
        rasterio, "open", lambda path, *a, **k: opened.append(path) or real_open(path, *a, **k)
    )
    ds = load_dataset()
    files = {str(p) for p in (ds.samples_path.parent / "tiles").rglob("*.tif")}
    assert {str(p) for p in opened} == files
    assert len(opened) == len(files)
