"""Shared fixtures: the bundled dataset, and small copies of it that tests may break."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

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
