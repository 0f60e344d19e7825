"""The real Netherlands dataset: fetching, checksums, cache, seasons, classes, CRS, overlay.

Every test reads the local mirror of the upstream files (``../shared/data/nl-landsat``),
through ``ODSE_NETHERLANDS_SOURCE``, into a temporary ``ODSE_DATA_CACHE``. The network
is never used: pooch's HTTP and FTP downloaders are replaced by stubs that fail.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pooch
import pytest
import rasterio

from odse_tutorial._fetch import REGISTRIES, read_sha256sums
from odse_tutorial.classes import CORINE_CLASSES
from odse_tutorial.datasets import Dataset, load_dataset, survey_year
from odse_tutorial.labels import drop_rare_classes
from odse_tutorial.model_selection import block_cv
from odse_tutorial.netherlands import UPSTREAM_URL, load_netherlands
from odse_tutorial.overlay import overlay_samples
from odse_tutorial.raster_io import _same_crs, check_same_grid

CACHE_ENV = "ODSE_DATA_CACHE"
SOURCE_ENV = "ODSE_NETHERLANDS_SOURCE"
TILE = "wageningen"
REGISTRY = read_sha256sums(REGISTRIES / "netherlands.sha256")
MIRROR = Path(__file__).parents[1].parent / "shared" / "data" / "nl-landsat"
pytestmark = pytest.mark.skipif(
    not MIRROR.is_dir(), reason=f"the local mirror of the Netherlands data is absent ({MIRROR})"
)

YEARS = [2015, 2016, 2017, 2018, 2019, 2020]
SEASON_ORDER = ["winter", "spring", "summer", "autumn"]
# Expected (start, end) of each season's quarter, written out independently of the module.
QUARTERS = {
    "winter": lambda y: (f"{y - 1}1202", f"{y}0320"),
    "spring": lambda y: (f"{y}0321", f"{y}0624"),
    "summer": lambda y: (f"{y}0625", f"{y}0912"),
    "autumn": lambda y: (f"{y}0913", f"{y}1201"),
}
SAMPLES = "samples/samples.gpkg"
ONE_QUARTER = "swir1/swir1_landsat.ard1_p50_30m_s_20170625_20170912_nl_epsg.3035_v20230720.tif"
N_FILES_FILLED = 1 + 2 + 24 + 24  # samples, terrain, NDVI (filled), SWIR1


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _corrupt(path: Path, how: str = "flip") -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":  # an interrupted copy or download
        path.write_bytes(bytes(data[: len(data) // 2]))
    else:  # one changed byte in the middle
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))


def _blocked(*args, **kwargs):
    raise AssertionError("the tests must not use the network")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """No test may download; and no test may see the caller's environment variables."""
    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", _blocked)
    monkeypatch.setattr(pooch.FTPDownloader, "__call__", _blocked)
    monkeypatch.delenv(SOURCE_ENV, raising=False)
    monkeypatch.delenv(CACHE_ENV, raising=False)


@pytest.fixture
def env(monkeypatch, tmp_path):
    """Mirror as the source, an empty temporary cache; returns the cache folder."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(SOURCE_ENV, str(MIRROR))
    return tmp_path / "cache"


@pytest.fixture
def source_copy(tmp_path, monkeypatch):
    """A writable copy of the mirror, set as the source (tests break it)."""
    copy = tmp_path / "source"
    shutil.copytree(MIRROR, copy)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(SOURCE_ENV, str(copy))
    return copy


@pytest.fixture(scope="module")
def nl(tmp_path_factory) -> Dataset:
    """The dataset, fetched once from the mirror for the read-only tests."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("nl-cache")))
        mp.setenv(SOURCE_ENV, str(MIRROR))
        return load_netherlands()


# -- fetching and the cache ----------------------------------------------------------------
def test_pinned_registry_and_url_match_the_mirror():
    assert (REGISTRIES / "netherlands.sha256").read_bytes() == (MIRROR / "SHA256SUMS").read_bytes()
    assert len(REGISTRY) == 1 + 2 + 3 * 24
    assert all((MIRROR / name).is_file() for name in REGISTRY)
    readme = (MIRROR / "README.md").read_text()
    pinned = re.search(r"(https://\S+)<relative path>", readme).group(1)
    assert pinned == UPSTREAM_URL


def test_fetch_from_the_mirror_verifies_every_file(env):
    ds = load_netherlands()
    fetched = sorted(p for p in env.rglob("*") if p.is_file())
    assert len(fetched) == N_FILES_FILLED
    for path in fetched:
        name = path.relative_to(env).as_posix()
        assert _sha256(path) == REGISTRY[name], name
    assert not (env / "ndvi" / "gappy").exists()  # only what the dataset uses
    used = [ds.samples_path, *(p for y in ds.years for p in ds.layers(TILE, y).values())]
    assert all(env in Path(p).parents for p in used)


def test_second_load_uses_the_cache(env, monkeypatch, tmp_path):
    first = load_netherlands()
    stamps = {p: p.stat().st_mtime_ns for p in env.rglob("*") if p.is_file()}
    monkeypatch.setenv(SOURCE_ENV, str(tmp_path / "no-such-source"))  # nothing to fetch from
    second = load_netherlands()
    assert second == first
    assert {p: p.stat().st_mtime_ns for p in env.rglob("*") if p.is_file()} == stamps


@pytest.mark.parametrize("how", ["flip", "truncate"])
def test_corrupted_source_file_is_rejected_and_never_used(source_copy, tmp_path, how):
    _corrupt(source_copy / ONE_QUARTER, how)
    with pytest.raises(OSError, match=re.escape(ONE_QUARTER)) as info:
        load_netherlands()
    message = str(info.value)
    assert "SHA-256" in message and REGISTRY[ONE_QUARTER] in message
    assert "Fix:" in message and str(source_copy / ONE_QUARTER) in message
    cache = tmp_path / "cache"
    assert not (cache / ONE_QUARTER).exists()  # discarded, not kept under its name
    assert not [p for p in (cache / "swir1").iterdir() if not p.name.endswith(".tif")]


def test_corrupted_cached_file_is_fetched_again(env, caplog):
    load_netherlands()
    _corrupt(env / ONE_QUARTER)
    with caplog.at_level(logging.WARNING, logger="odse_tutorial"):
        ds = load_netherlands()
    assert _sha256(env / ONE_QUARTER) == REGISTRY[ONE_QUARTER]
    assert ds.layers(TILE, 2017)["swir1_summer"] == env / ONE_QUARTER
    assert any(ONE_QUARTER.split("/")[-1] in r.getMessage() for r in caplog.records)


def test_corrupted_cached_file_without_source_is_reported(env, monkeypatch, tmp_path):
    load_netherlands()
    _corrupt(env / SAMPLES, "truncate")
    monkeypatch.setenv(SOURCE_ENV, str(tmp_path / "no-such-source"))
    with pytest.raises(OSError) as info:
        load_netherlands()
    message = str(info.value)
    assert str(env / SAMPLES) in message and "corrupted" in message
    assert "does not exist" in message and SOURCE_ENV in message and "Fix:" in message


def test_missing_source_file_is_reported(source_copy):
    (source_copy / ONE_QUARTER).unlink()
    with pytest.raises(OSError, match="missing") as info:
        load_netherlands()
    message = str(info.value)
    assert ONE_QUARTER in message and str(source_copy) in message
    assert SOURCE_ENV in message and UPSTREAM_URL in message


def test_without_a_source_the_pinned_url_is_used_and_failures_say_what_to_do(monkeypatch, tmp_path):
    import requests

    def offline(self, url, output_file, pup):
        raise requests.exceptions.ConnectionError(f"no route to host for {url} (test stub)")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", offline)
    monkeypatch.setattr("pooch.core.time.sleep", lambda seconds: None)  # pooch's retry pauses
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    with pytest.raises(OSError) as info:
        load_netherlands()
    message = str(info.value)
    fname = re.search(r"Could not fetch '([^']+)'", message).group(1)
    assert fname in REGISTRY and UPSTREAM_URL + fname in message
    assert SOURCE_ENV in message and "internet" in message


def test_source_forms_file_url_and_base_url(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "a"))
    monkeypatch.setenv(SOURCE_ENV, MIRROR.resolve().as_uri())  # file:// URL
    assert load_netherlands().samples_path.is_file()

    urls = []

    def serve_mirror(self, url, output_file, pup):  # an HTTP server holding the mirror
        urls.append(url)
        shutil.copyfile(MIRROR / url.removeprefix("https://example.org/nl/"), output_file)

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", serve_mirror)
    monkeypatch.setenv(SOURCE_ENV, "https://example.org/nl")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "b"))
    load_netherlands()
    assert len(urls) == N_FILES_FILLED and "https://example.org/nl/" + SAMPLES in urls


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CACHE_HOME moves the cache on Linux")
def test_default_cache_folder_is_pooch_s(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # pooch.os_cache follows it on Linux
    monkeypatch.setenv(SOURCE_ENV, str(MIRROR))
    default = Path(pooch.os_cache("odse-tutorial")) / "nl-landsat"
    assert default.is_relative_to(tmp_path)
    assert load_netherlands().samples_path == default / SAMPLES


def test_load_dataset_by_name_is_the_same(env):
    assert load_dataset("netherlands") == load_netherlands()


# -- the dataset ---------------------------------------------------------------------------
def test_each_year_reads_the_four_quarters_ending_in_it(nl):
    assert nl.tiles == (TILE,) and list(nl.years) == YEARS
    names = [f"{band}_{s}" for s in SEASON_ORDER for band in ("ndvi", "swir1")]
    assert list(nl.feature_names) == [*names, "elevation", "slope"]
    used = []
    for year in YEARS:
        layers = nl.layers(TILE, year)
        for band, folder in (("ndvi", "ndvi/filled"), ("swir1", "swir1")):
            periods = []
            for season in SEASON_ORDER:
                path = layers[f"{band}_{season}"]
                assert path.parent.as_posix().endswith(folder)
                periods.append(re.search(r"_s_(\d{8})_(\d{8})_", path.name).groups())
                used.append(path)
            assert periods == [QUARTERS[s](year) for s in SEASON_ORDER], (year, band)
            assert all(end.startswith(str(year)) for _, end in periods)
    quarterly = [n for n in REGISTRY if n.startswith(("ndvi/filled/", "swir1/"))]
    assert len(used) == len(set(used)) == len(quarterly) == 48


def test_static_layers_serve_every_year(nl):
    for year in YEARS:
        layers = nl.layers(TILE, year)
        assert layers["elevation"].name.startswith("elev.") and "20000101_20181231" in str(
            layers["elevation"]
        )
        assert layers["slope"].name.startswith("slope.")
    assert any("2000-2018" in note for note in nl.notes)


def test_samples_have_survey_years_and_string_codes(nl):
    samples = nl.samples
    assert len(samples) == 256
    assert {"code", "label", "date", "target"} <= set(samples.columns)
    years = survey_year(samples, nl.columns.date)
    assert sorted(years.unique()) == YEARS
    assert (samples[nl.columns.date].dt.strftime("%m-%d") == "01-01").all()
    assert all(isinstance(c, str) for c in samples["code"])
    assert samples["code"].value_counts()["231"] == 115
    assert nl.columns.weight is None and nl.columns.location is None and nl.columns.tile is None
    assert nl.summary().loc[2019].sum() == (years == 2019).sum()


def test_class_table_names_and_colours(nl):
    samples = nl.samples
    classes = nl.classes
    assert set(classes.codes) == set(samples["code"]) and len(classes) == 14
    assert all(isinstance(c, str) for c in classes.codes)
    for code in classes.codes:
        assert classes.name_of(code) == samples.loc[samples.code == code, "label"].iloc[0]
    assert len(set(classes.colours)) == len(classes)
    for code in CORINE_CLASSES.codes:  # the official CORINE colours, as the package uses
        if str(code) in classes:
            assert classes.colour_of(str(code)) == CORINE_CLASSES.colour_of(code)


def test_rare_classes_still_load_and_the_notes_say_so(nl):
    keep, report = drop_rare_classes(nl.samples["code"], min_count=5)
    dropped = sorted(report.loc[~report.kept, "code"])
    assert dropped == ["243", "312", "313", "512"] and keep.sum() == 244
    rare_note = next(note for note in nl.notes if "Rare classes" in note)
    assert all(code in rare_note for code in dropped) and "drop_rare_classes" in rare_note


def test_notes_and_description_state_the_caveats(nl):
    text = " ".join(nl.notes)
    assert "not observed in the field" in text and "another map" in text.lower()
    assert "published land-cover map" in nl.description
    assert nl.name == "netherlands" and nl.cv_block_size == 1500
    cv = block_cv(nl.samples, nl.cv_block_size, location_column=nl.columns.location)
    assert len(list(cv.split(nl.samples))) == 5


def test_crs_spelled_three_ways_is_one_crs(nl):
    layers = nl.layers(TILE, 2018)
    with rasterio.open(layers["elevation"]) as a, rasterio.open(layers["ndvi_summer"]) as b:
        static_crs, quarterly_crs = a.crs, b.crs
    samples_crs = nl.samples.crs
    assert static_crs.to_string() == "EPSG:3035"
    assert quarterly_crs.to_string() != static_crs.to_string()
    assert samples_crs.to_epsg() is None  # the unnamed LAEA definition
    assert _same_crs(samples_crs, static_crs) and _same_crs(samples_crs, quarterly_crs)
    assert _same_crs(static_crs, quarterly_crs)
    for year in YEARS:
        check_same_grid(nl.layers(TILE, year))


def test_overlay_keeps_points_in_place_and_reads_the_right_values(nl):
    samples = nl.samples
    table, report = overlay_samples(nl)
    assert report.reprojected_from is None
    assert report.n_output == len(samples) == 256
    assert table.geometry.equals(samples.geometry.loc[table.index])
    assert table["year"].tolist() == survey_year(samples, "date").loc[table.index].tolist()
    for year, group in table.groupby("year"):
        xy = list(zip(group.geometry.x, group.geometry.y, strict=True))
        for name, path in nl.layers(TILE, year).items():
            with rasterio.open(path) as src:
                direct = np.array([v[0] for v in src.sample(xy)], dtype=np.float32)
            np.testing.assert_array_equal(group[name].to_numpy(), direct, err_msg=f"{year} {name}")
