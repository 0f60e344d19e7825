"""Shared fixtures: the bundled dataset, and small copies of it that tests may break."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from odse_tutorial.datasets import load_dataset


@pytest.fixture(scope="session")
def simulated():
    """The bundled dataset (read-only: never write into it)."""
    return load_dataset("simulated")


@pytest.fixture(scope="session")
def overlay_table(simulated):
    """The overlay of all bundled samples (computed once per session)."""
    from odse_tutorial.overlay import overlay_samples

    table, _ = overlay_samples(simulated)
    return table


@pytest.fixture(scope="session")
def fitted(simulated, overlay_table):
    """A small forest on a third of the overlay, and its area of applicability."""
    from sklearn.ensemble import RandomForestClassifier

    from odse_tutorial.applicability import AreaOfApplicability

    features = list(simulated.feature_names)
    table = overlay_table.iloc[::3]
    X, y = table[features], table[simulated.columns.class_code]
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    aoa = AreaOfApplicability(weights=model.feature_importances_, cv=3).fit(X)
    return model, aoa


def notebook_metrics(folder):
    """The ``metrics.json`` an executed notebook wrote in ``folder``."""
    return json.loads((folder / "metrics.json").read_text())


def notebook_text(folder, name):
    """Everything the executed notebook printed or displayed as text."""
    cells = json.loads((folder / f"{name}.ipynb").read_text())["cells"]
    texts = []
    for cell in cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", "".join(output.get("traceback", []))
            texts.append("".join(output.get("text", "")))
            texts.append("".join(output.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


def fold_overlap(cv, X, locations, *, y=None) -> int:
    """Distinct locations on both the training and the test side of some split of ``cv``."""
    import numpy as np

    locations = np.asarray(locations, dtype=object)
    leaked = set()
    for train, test in cv.split(X, y):
        leaked.update(set(locations[test]) & set(locations[train]))
    return len(leaked)


def copy_dataset(target: Path, tiles=("9529",), years=(2012, 2018)) -> Path:
    """Copy a slice of the bundled dataset (some tiles and years) to ``target``."""
    source = load_dataset("simulated").samples_path.parent
    target.mkdir(parents=True, exist_ok=True)
    meta = json.loads((source / "dataset.json").read_text())
    meta["years"] = list(years)
    meta["tiles"] = {t: b for t, b in meta["tiles"].items() if t in tiles}
    (target / "dataset.json").write_text(json.dumps(meta))
    shutil.copy(source / "samples.gpkg", target / "samples.gpkg")
    for tile in tiles:
        for sub in ["static", *map(str, years)]:
            shutil.copytree(source / "tiles" / tile / sub, target / "tiles" / tile / sub)
    return target


BANDS = ("blue", "green", "red", "nir", "swir1", "swir2")


def write_raster(path: Path, data, *, crs="EPSG:32631", origin=(500_000, 5_800_000), nodata=0):
    """A small GeoTIFF of 30 m pixels; ``data`` is (rows, cols) or (bands, rows, cols)."""
    import numpy as np
    import rasterio
    from rasterio.transform import Affine

    data = np.asarray(data)
    data = data[None] if data.ndim == 2 else data
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", driver="GTiff", count=len(data), dtype=data.dtype.name,
                       width=data.shape[2], height=data.shape[1], crs=crs, nodata=nodata,
                       transform=Affine(30, 0, origin[0], 0, -30, origin[1])) as dst:  # fmt: skip
        dst.write(data)
    return path


def make_real_style_folder(
    folder: Path, tiles=None, years=(2021,), n=60, seed=0, size=24, rare=0, noise=5
) -> Path:
    """A learner's own data in the minimal documented shape: ``tiles/<tile>/<year>/`` with
    plain band names (``blue.tif`` ... ``swir2.tif``), one samples file in EPSG:4326 with
    its own column names (``landcover`` with string classes, ``observed`` ISO dates) and
    no weight, location or tile column, and a ``dataset.json`` naming only those two.
    Rasters are ``size`` x ``size`` pixels (three vertical stripes of classes); the
    first ``rare`` samples are labelled ``wetland``, a class too rare to keep; ``noise``
    (a uniform random integer below it, added to every band) above 100 makes the
    classes overlap."""
    import geopandas as gpd
    import numpy as np

    rng = np.random.default_rng(seed)
    tiles = tiles or {"T1": "EPSG:32631"}
    frames = []
    for tile, crs in tiles.items():
        stripes = np.arange(size) * 3 // size  # three vertical stripes of classes
        cls = stripes[None, :].repeat(size, axis=0)
        for year in years:
            for i, band in enumerate(BANDS):
                values = (cls + 1) * 100 + i * 10 + rng.integers(0, noise, cls.shape)
                write_raster(folder / "tiles" / tile / str(year) / f"{band}.tif",
                             values.astype("uint16"), crs=crs)  # fmt: skip
        rows, cols = rng.integers(0, size, n), rng.integers(0, size, n)
        points = gpd.points_from_xy(500_000 + 30 * cols + 15, 5_800_000 - 30 * rows - 15, crs=crs)
        frames.append(gpd.GeoDataFrame({
            "landcover": np.array(["forest", "water", "crop"])[cls[rows, cols]],
            "observed": [f"{years[k % len(years)]}-06-{1 + k % 28:02d}" for k in range(n)],
        }, geometry=points).to_crs("EPSG:4326"))  # fmt: skip
    samples = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    samples.loc[samples.index < rare, "landcover"] = "wetland"
    samples.to_file(folder / "points.gpkg", driver="GPKG")
    meta = {"columns": {"class_code": "landcover", "date": "observed"}}
    (folder / "dataset.json").write_text(json.dumps(meta))
    return folder


@pytest.fixture
def real_style(tmp_path):
    """A minimal real-style dataset folder: one tile, one year, plain band names."""
    return make_real_style_folder(tmp_path / "mine")


@pytest.fixture
def small_copy(tmp_path):
    """A writable copy of tile 9529, years 2012 and 2018, with only their samples."""
    import geopandas as gpd

    folder = copy_dataset(tmp_path / "small")
    samples = gpd.read_file(folder / "samples.gpkg")
    keep = (samples.tile_id == "9529") & samples.survey_date.dt.year.isin([2012, 2018])
    samples[keep].to_file(folder / "samples.gpkg", driver="GPKG")
    return folder


@pytest.fixture(scope="session")
def executed(tmp_path_factory):
    """Run every tutorial notebook once on the bundled data: notebook name -> output folder."""
    from odse_tutorial.tutorial import find_notebooks, run_notebook

    root = tmp_path_factory.mktemp("tutorial")
    return {nb.stem: run_notebook(nb, root) for nb in find_notebooks()}


STRIPES = (11, 21, 31)  # class codes of the three vertical stripes of make_stack_folder


def make_stack_folder(
    folder: Path,
    *,
    years=(2021,),
    size=40,
    descriptions=None,
    samples="points",
    n=40,
    rare=0,
    crs="EPSG:32631",
    samples_crs="EPSG:3035",
    seed=0,
    date=True,
) -> Path:
    """A folder as many learners hold their data: one 3-band float32 stack per year
    (``landsat.tif``, nodata -99999, band ``descriptions`` or none) and a single-band
    static ``elevation.tif``; classes in three vertical stripes (codes ``STRIPES``).

    ``samples``: ``"points"`` (``n`` pixel centres), ``"polygons"`` (``n`` squares of 2-4
    pixels a side, each inside one stripe, inset 1 m so their pixel centres are clear) or
    ``"mixed"`` (both, half each); in ``samples_crs``, with a class column ``label`` and an
    ``id`` column, a ``survey_date`` only with ``date=True``. The last ``rare`` samples are
    labelled 41, a class too rare for the CV. ``dataset.json`` names the class column only.
    """
    import geopandas as gpd
    import numpy as np
    import rasterio
    from shapely.geometry import box

    rng = np.random.default_rng(seed)
    stripe = np.arange(size) * 3 // size
    cls = stripe[None, :].repeat(size, axis=0)
    for year in years:
        data = np.stack([(cls + 1) * 100 + 10 * b + rng.normal(0, 30, cls.shape) for b in range(3)])
        path = write_raster(folder / "tiles" / "T1" / str(year) / "landsat.tif",
                            data.astype("float32"), crs=crs, nodata=-99999)  # fmt: skip
        if descriptions:
            with rasterio.open(path, "r+") as dst:
                dst.descriptions = tuple(descriptions)
    write_raster(folder / "tiles" / "T1" / "static" / "elevation.tif",
                 (cls * 7 + 1 + rng.integers(0, 50, cls.shape)).astype("int16"), crs=crs)  # fmt: skip
    x0, y0 = 500_000, 5_800_000
    shapes, codes = [], []
    kinds = {"points": ["point"] * n, "polygons": ["polygon"] * n,
             "mixed": ["point", "polygon"] * (n // 2)}[samples]  # fmt: skip
    for kind in kinds:
        k = 1 if kind == "point" else int(rng.integers(2, 5))
        band = int(rng.integers(0, 3))
        cols = np.flatnonzero(stripe == band)
        col = int(rng.integers(cols[0], cols[-1] - k + 2))
        row = int(rng.integers(0, size - k + 1))
        left, top = x0 + 30 * col, y0 - 30 * row
        if kind == "point":
            shapes.append(gpd.points_from_xy([left + 15], [top - 15])[0])
        else:
            shapes.append(box(left + 1, top - 30 * k + 1, left + 30 * k - 1, top - 1))
        codes.append(STRIPES[band])
    frame = gpd.GeoDataFrame({"label": codes, "id": np.arange(len(codes)) + 100},
                             geometry=shapes, crs=crs).to_crs(samples_crs)  # fmt: skip
    if rare:
        frame.loc[frame.index[-rare:], "label"] = 41
    if date:
        frame["survey_date"] = [f"{years[i % len(years)]}-07-01" for i in range(len(frame))]
    frame.to_file(folder / "samples.gpkg", driver="GPKG")
    (folder / "dataset.json").write_text(json.dumps({"columns": {"class": "label"}}))
    return folder
