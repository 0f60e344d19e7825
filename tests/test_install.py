"""A non-editable install, away from the clone, loads the simulated dataset through a mirror."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import venv
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "simulated"

# Runs in the fresh environment, from a folder outside the repository.
LOAD = """
import json, sys
import rasterio
import odse_tutorial
from odse_tutorial.datasets import load_dataset

ds = load_dataset("simulated")
with rasterio.open(ds.layers("9530", 2018)["nir_summer"]) as src:
    shape = src.read(1).shape
print(json.dumps({"package": odse_tutorial.__file__, "samples_path": str(ds.samples_path),
                  "n_samples": len(ds.samples), "tiles": ds.tiles, "years": ds.years,
                  "shape": shape}))
"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, format, *args):  # count the requests instead of printing them
        type(self).requests.append(self.path)


def _load(python: Path, cwd: Path, env: dict[str, str]) -> dict:
    """Run LOAD in the fresh environment; its result, or its error output as the failure."""
    proc = subprocess.run([python, "-c", LOAD], capture_output=True, text=True, cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _serve(folder: Path) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.slow
@pytest.mark.skipif(
    Version(version("setuptools")) < Version("77"),
    reason="building offline needs setuptools>=77 in the test environment (pip install -e .[test])",
)
def test_non_editable_install_loads_the_simulated_dataset_from_a_mirror(tmp_path):
    """``pip install <repo>`` (not editable) into a fresh venv; no network beyond loopback.

    The repository's build inputs (``pyproject.toml``, ``README.md``, ``LICENSE``,
    ``odse_tutorial/``, not ``data/``) are copied first, so the build writes nothing into
    the clone and the installed package cannot lean on the clone's ``data/`` folder.

    Design, to stay fast and offline: the fresh venv (``venv`` module, without pip) sees
    the dependencies already installed for the tests through a ``.pth`` file naming the
    test interpreter's ``site-packages`` folders (a ``.pth`` line adds a folder to
    ``sys.path`` but does not run the ``.pth`` files inside it, so an editable install of
    the package there stays inactive; the venv's own ``site-packages`` comes first). The
    package itself is installed with the test interpreter's pip (``--python`` points it
    at the venv) with ``--no-deps --no-index --no-build-isolation``: no package index is
    contacted, and the wheel is built with the setuptools of the test environment (the
    ``test`` extra requires one new enough). The mirror is ``data/simulated`` served by a
    loopback ``http.server``, so the code path is the real one: pooch's HTTP download,
    SHA-256 checks against the registry shipped as package data, pooch's cache.
    """
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    site_dirs = [p for p in sys.path if p.endswith("site-packages")]
    (Path(purelib) / "test-dependencies.pth").write_text("\n".join(site_dirs) + "\n")
    # What the package is built from, copied so that the build writes nothing into the clone.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "odse_tutorial", source / "odse_tutorial",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    clean = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", "--no-build-isolation", str(source)],
        check=True, cwd=tmp_path, env=clean,
    )  # fmt: skip

    server = _serve(DATA)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run_env = {
        **clean,
        "ODSE_SIMULATED_SOURCE": f"http://127.0.0.1:{server.server_address[1]}/",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),  # pooch.os_cache on Linux
        "NO_PROXY": "127.0.0.1,localhost",
    }
    try:
        result = _load(python, elsewhere, run_env)
    finally:
        server.shutdown()
    assert Path(result["package"]).is_relative_to(env_dir)  # the installed copy, not the clone
    assert Path(result["samples_path"]).is_relative_to(tmp_path / "cache")
    assert result["n_samples"] == 3318
    assert result["tiles"] == ["9529", "9530"]
    assert result["years"] == [2000, 2006, 2009, 2012, 2015, 2018]
    assert result["shape"] == [256, 256]
    n_files = len((DATA / "SHA256SUMS").read_text().splitlines())
    assert len(_Handler.requests) == n_files

    # Later calls use pooch's cache: the mirror is gone, the dataset still loads.
    run_env["ODSE_SIMULATED_SOURCE"] = "http://127.0.0.1:9/"  # nothing listens there
    assert _load(python, elsewhere, run_env)["n_samples"] == 3318
