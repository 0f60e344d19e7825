"""The bundled dataset is reproducible: regenerating it gives the committed data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio

from odse_tutorial.simulation import file_digests, generate_dataset
from odse_tutorial.simulation.landcover import parcels
from odse_tutorial.simulation.terrain import smooth_field

COMMITTED = Path(__file__).resolve().parents[1] / "data" / "simulated"


def _manifest(folder):
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    return dict(reversed(line.split("  ", 1)) for line in lines)


def test_committed_files_match_their_checksums():
    manifest = _manifest(COMMITTED)
    assert manifest == file_digests(COMMITTED)
    assert sum(p.stat().st_size for p in COMMITTED.rglob("*") if p.is_file()) < 20e6


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    return generate_dataset(tmp_path_factory.mktemp("regen") / "simulated")


@pytest.mark.slow
def test_regeneration_reproduces_the_committed_content(regenerated):
    """Same pixels, georeferencing and samples; the bytes too, with the same GDAL build."""
    committed, fresh = _manifest(COMMITTED), _manifest(regenerated)
    assert committed.keys() == fresh.keys()
    for name in sorted(committed):
        if name.endswith(".tif"):
            with rasterio.open(COMMITTED / name) as a, rasterio.open(regenerated / name) as b:
                assert a.profile == b.profile, name
                np.testing.assert_array_equal(a.read(), b.read(), err_msg=name)
                assert a.tags() == b.tags(), name
        elif name.endswith(".gpkg"):
            pd.testing.assert_frame_equal(
                gpd.read_file(COMMITTED / name), gpd.read_file(regenerated / name)
            )
        else:
            assert (COMMITTED / name).read_bytes() == (regenerated / name).read_bytes(), name
    same_bytes = sum(committed[n] == fresh[n] for n in committed)
    # Compressed bytes depend on the zlib/libdeflate build; the content may not.
    if same_bytes < len(committed):
        pytest.skip(
            f"content identical; bytes differ for {len(committed) - same_bytes} files "
            f"(GDAL {rasterio.__gdal_version__} compresses differently)"
        )


def test_generation_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        generate_dataset(tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_smooth_fields_are_autocorrelated_and_seeded():
    a = smooth_field(np.random.default_rng(1), (64, 64), 6)
    b = smooth_field(np.random.default_rng(1), (64, 64), 6)
    np.testing.assert_array_equal(a, b)
    neighbour_corr = np.corrcoef(a[:, :-1].ravel(), a[:, 1:].ravel())[0, 1]
    assert neighbour_corr > 0.9  # patches, not salt-and-pepper


def test_parcels_cover_the_grid_in_patches():
    p = parcels(np.random.default_rng(0), (90, 90), 9)
    sizes = np.bincount(p.ravel())
    sizes = sizes[sizes > 0]
    assert 50 < len(sizes) < 200 and sizes.mean() == pytest.approx(81, rel=0.3)


def test_digest_helper_skips_manifest_and_readme(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"x")
    (tmp_path / "README.md").write_text("doc")
    (tmp_path / "SHA256SUMS").write_text("")
    assert file_digests(tmp_path) == {"a.bin": hashlib.sha256(b"x").hexdigest()}


def test_the_clustered_design_stays_near_towns_and_leaves_the_mountains_unsampled():
    clustered = gpd.read_file(COMMITTED / "samples_clustered.gpkg")
    systematic = gpd.read_file(COMMITTED / "samples.gpkg")
    assert list(clustered.columns) == list(systematic.columns)
    assert set(clustered["source"]) == {"campaign"}
    assert not set(clustered["location_id"]) & set(systematic["location_id"])
    # Clustered: most points have a neighbour (another location) within 300 m, and the
    # sampled area is a fraction of the landscape's.
    locations = clustered.drop_duplicates("location_id")
    xy = np.c_[locations.geometry.x, locations.geometry.y]
    distance = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    np.fill_diagonal(distance, np.inf)
    assert np.median(distance.min(axis=1)) < 100
    # Preferential: towns are over-represented, the high classes under-represented.
    share = clustered["lc_code"].value_counts(normalize=True)
    reference = systematic["lc_code"].value_counts(normalize=True)
    assert share[112] > 3 * reference[112]
    assert share.reindex([321, 322, 332]).fillna(0).sum() < 0.5 * reference[[321, 322, 332]].sum()
