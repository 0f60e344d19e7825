"""The package's layout tells its architecture: layers that only import downward, no
cycles, each public name defined in one module, and a small code base.

The layers (docs/architecture.md): data and I/O at the bottom, machine learning above
them, figures, widgets and the notebook runner on top. A module may import modules of its
own layer or of the layers below it, never above.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "odse_tutorial"
CODELINES = PACKAGE.parents[1] / "shared" / "tools" / "codelines.py"

#: Layer of each top-level module or subpackage (0 = bottom).
LAYERS = {
    "_atomic": 0,
    "_checks": 0,
    "_fetch": 0,
    "_tasks": 0,
    "classes": 0,
    "raster_io": 0,
    "_dataset": 1,
    "labels": 1,
    "netherlands": 2,
    "overlay": 2,
    "simulation": 2,
    "datasets": 3,
    "model_selection": 4,
    "uncertainty": 4,
    "ensemble": 5,
    "evaluation": 5,
    "persistence": 5,
    "applicability": 5,
    "areas": 5,
    "prediction": 6,
    "plotting": 7,
    "widgets": 8,
    "tutorial": 8,
    "__main__": 9,
}


def _modules() -> dict[str, Path]:
    """Dotted module name (without the package prefix) -> file."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = set(_modules())


def _imports(path: Path) -> set[str]:
    """The package modules that ``path`` imports (at any depth in the file)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module != "odse_tutorial" and not node.module.startswith("odse_tutorial."):
                continue
            base = node.module.removeprefix("odse_tutorial").removeprefix(".")
            for alias in node.names:
                # ``from package import module`` imports the module, not the package.
                module = f"{base}.{alias.name}".lstrip(".")
                names.add(module if module in MODULES else base)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("odse_tutorial."):
                    names.add(alias.name.removeprefix("odse_tutorial."))
    return names - {""}


def _top(module: str) -> str:
    return module.split(".")[0]


def test_every_module_has_a_layer():
    tops = {_top(m) for m in _modules() if m}
    assert tops <= set(LAYERS), f"give these modules a layer here: {sorted(tops - set(LAYERS))}"


@pytest.mark.parametrize("module", sorted(m for m in _modules() if m))
def test_no_module_imports_upward(module):
    path = _modules()[module]
    upward = sorted(
        name
        for name in _imports(path)
        if _top(name) in LAYERS and LAYERS[_top(name)] > LAYERS[_top(module)]
    )
    assert not upward, f"{module} (layer {LAYERS[_top(module)]}) imports {upward} from above"


def test_no_import_cycle():
    modules = _modules()
    graph = {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}
    # Depth-first search for a back edge.
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt) :] + [nxt] if nxt in trail else [node, nxt]
                pytest.fail(f"import cycle: {' -> '.join(cycle)}")
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_each_public_name_is_defined_in_one_module():
    defined: dict[str, list[str]] = {}
    for module, path in _modules().items():
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                defined.setdefault(node.name, []).append(module)
    repeated = {name: where for name, where in defined.items() if len(where) > 1}
    assert not repeated, f"public names defined in several modules: {repeated}"


@pytest.mark.skipif(not CODELINES.exists(), reason=f"{CODELINES} is absent (no ../shared)")
def test_the_helper_stays_small():
    out = subprocess.run(
        [sys.executable, str(CODELINES), str(PACKAGE)], capture_output=True, text=True, check=True
    )
    code_lines, public_names, _ = map(int, out.stdout.split())
    # Issue 17's budget, measured with ruff's layout (no statements packed to save lines).
    assert code_lines <= 5600, f"{code_lines} code lines (budget 5,600, issue 17)"
    assert public_names <= 80, f"{public_names} public names (budget 80, issue 17)"


def test_dead_helpers_stay_removed():
    from odse_tutorial import uncertainty, widgets
    from odse_tutorial.classes import ClassTable

    gone = [(ClassTable, "sorted"), (ClassTable, "to_frame"), (uncertainty, "_as_proba"),
            (widgets._MapExplorer, "_per_class")]  # fmt: skip
    assert [name for owner, name in gone if hasattr(owner, name)] == []


def test_corine_colours_have_one_source():
    from odse_tutorial import netherlands
    from odse_tutorial.classes import _CORINE_COLOURS, CORINE_CLASSES

    assert netherlands._CORINE_COLOURS is _CORINE_COLOURS
    assert CORINE_CLASSES.colours == tuple(_CORINE_COLOURS[str(c)] for c in CORINE_CLASSES.codes)


def test_one_row_counter_and_no_private_sklearn_sample_counter():
    sources = {m: p.read_text() for m, p in _modules().items()}
    assert [
        m for m, text in sources.items() if "_num_samples" in text or "def _n_rows" in text
    ] == []


def test_plotting_decodes_legends_without_evaluation_helpers():
    for path in (PACKAGE / "plotting").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "odse_tutorial.evaluation":
                assert not [a.name for a in node.names if a.name.startswith("_")], path


def test_each_public_name_is_in_one_all():
    found: dict[str, list[str]] = {}
    for module, path in _modules().items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) == "__all__" for t in node.targets
            ):
                for name in ast.literal_eval(node.value):
                    found.setdefault(name, []).append(module)
    repeated = {n: m for n, m in found.items() if len(m) > 1}
    assert not repeated, f"names in several __all__: {repeated}"
