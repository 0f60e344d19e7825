"""Packaging: one dependency list everywhere; the README's commands are what CI runs."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$")


def _normalise(requirement: str) -> tuple[str, str]:
    name, spec = _REQUIREMENT.match(requirement).groups()
    return name.lower().replace("_", "-"), ",".join(
        sorted(s.strip() for s in spec.split(",") if s.strip())
    )


def _pyproject_dependencies() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = dict(_normalise(r) for r in project["dependencies"])
    deps["python"] = _normalise("python" + project["requires-python"])[1]
    return deps


def _conda_dependencies(path: Path) -> dict[str, str]:
    deps, in_list = {}, False
    for line in path.read_text().splitlines():
        if line.startswith("dependencies:"):
            in_list = True
            continue
        match = re.match(r"^  - ([^:]+)$", line)
        if in_list and match and match.group(1).strip() != "pip":
            name, spec = _normalise(match.group(1))
            deps[name] = spec
    return deps


def _lab_extra() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return dict(_normalise(r) for r in project["optional-dependencies"]["lab"])


@pytest.mark.parametrize("env_file", ["environment.yml", "binder/environment.yml"])
def test_environment_files_match_pyproject(env_file):
    """The package's dependencies, plus JupyterLab, the Dask dashboard and its proxy
    (the `lab` extra: the user interface, not dependencies of the package)."""
    assert _conda_dependencies(ROOT / env_file) == {**_pyproject_dependencies(), **_lab_extra()}


def test_every_dependency_is_bounded():
    for name, spec in _pyproject_dependencies().items():
        assert ">=" in spec and "<" in spec.replace("<=", ""), (
            f"{name} needs lower and upper bounds"
        )


def test_environment_installs_the_package():
    assert "-e ." in (ROOT / "environment.yml").read_text()
    assert "pip install" in (ROOT / "binder" / "postBuild").read_text()
    assert "OMP_NUM_THREADS=1" in (ROOT / "binder" / "start").read_text()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```(?:bash|sh)\n(.*?)```", readme, flags=re.S)
    quick_start = [
        line for block in commands for line in block.splitlines() if line.startswith("make ")
    ]
    assert quick_start[:2] == ["make tutorial", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_package_is_imported_from_an_install_not_a_path_hack():
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        assert "sys.path" not in notebook.read_text(), notebook.name


def test_notebooks_match_their_sources():
    """notebooks/src/*.py are the sources; the .ipynb must be rebuilt (make notebooks)."""
    import json

    import jupytext

    sources = sorted((ROOT / "notebooks" / "src").glob("*.py"))
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [p.stem for p in sources] == [p.stem for p in notebooks]
    for source, notebook in zip(sources, notebooks, strict=True):
        expected = jupytext.read(source)
        committed = json.loads(notebook.read_text())

        def cells(cells_):
            return [(c["cell_type"], "".join(c["source"]), c.get("metadata", {}).get("tags", []))
                    for c in cells_]  # fmt: skip

        assert cells(committed["cells"]) == cells(expected.cells), (
            f"run `make notebooks` ({notebook.name})"
        )


def test_notebooks_are_committed_without_outputs_and_with_parameters():
    import json

    for notebook in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"):
        cells = json.loads(notebook.read_text())["cells"]
        assert not any(c.get("outputs") for c in cells if c["cell_type"] == "code"), notebook.name
        tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, notebook.name
        source = "".join(tagged[0]["source"])
        for name in ("dataset", "output_dir", "n_jobs"):
            assert f"{name} = " in source, (notebook.name, name)
        # The fixed skeleton of every notebook.
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        for heading in (
            "## Learning objectives",
            "## Prerequisites",
            "## Imports",
            "## Exercises",
            "## Key points",
            "## What's next",
            "## References",
        ):
            assert heading in text, (notebook.name, heading)
        solutions = [c for c in cells if "solution" in c.get("metadata", {}).get("tags", [])]
        assert len(solutions) >= 2, notebook.name


def test_papermill_reads_every_parameter():
    """``papermill --help-notebook`` lists each name the parameters cell assigns (papermill
    skips a line with a second ``=``, e.g. in its comment)."""
    import ast

    import nbformat
    import papermill

    for notebook in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"):
        cell = next(
            c
            for c in nbformat.read(notebook, 4).cells
            if "parameters" in c.metadata.get("tags", [])
        )
        assigned = {
            t.id for node in ast.parse(cell.source).body for t in getattr(node, "targets", [])
        }
        assert set(papermill.inspect_notebook(str(notebook))) == assigned, notebook.name


def test_registries_are_the_datasets_checksums():
    """The package ships the SHA-256 of the bundled data: the same file as data/'s."""
    registries = ROOT / "odse_tutorial" / "registries"
    simulated = (ROOT / "data" / "simulated" / "SHA256SUMS").read_bytes()
    assert (registries / "simulated.sha256").read_bytes() == simulated, "run `make data`"
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "registries/*.sha256" in package_data["package-data"]["odse_tutorial"]
    assert sorted(p.name for p in registries.iterdir()) == [
        "netherlands.sha256",
        "simulated.sha256",
    ]


def test_make_test_runs_the_lint_on_existing_folders():
    makefile = (ROOT / "Makefile").read_text()
    assert "lint" in re.search(r"^test:(.*)$", makefile, flags=re.M).group(1).split()
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, flags=re.M).group(1)
    commands = [line.split() for line in recipe.strip().splitlines()]
    assert [c[:3] for c in commands] == [["$(BIN)/ruff", "check", "odse_tutorial"],
                                         ["$(BIN)/ruff", "format", "--check"]]  # fmt: skip
    folders = {word for c in commands for word in c[2:] if not word.startswith("-")}
    assert {"odse_tutorial", "tests", "benchmarks", "notebooks/src"} <= folders
    assert all((ROOT / folder).is_dir() for folder in folders)


def test_importing_the_simulation_command_runs_nothing(monkeypatch):
    import importlib

    monkeypatch.setattr(sys, "argv", ["python"])  # no OUT_DIR: running it would exit
    module = importlib.import_module("odse_tutorial.simulation.__main__")
    assert callable(module._main)
