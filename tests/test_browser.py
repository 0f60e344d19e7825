"""Notebooks 1, 4 and 6 in JupyterLab 4, in a real (headless) Chromium driven by Playwright.

What a learner does on mybinder.org or a laptop: open the notebook, Run All, look at the
figures, play with the map explorer, save, close, and reopen it later. The test checks:

- Run All finishes with no error output and no "Error displaying widget";
- every control of the map explorer (tile, year, product, class) redraws the map;
- after save, close and reopen, the explorer is still there (JupyterLab saves widget
  state only when the ``saveState`` setting is on: ``binder/overrides.json`` turns it on,
  and ``make lab`` and Binder install it);
- notebook 4 (the ensemble's explorer) likewise;
- notebook 6's Dask section as a learner follows it: after Run All, ``use_dask = True`` set
  by editing and re-running the parameters cell, then the section's cells one at a time:
  the printed dashboard link (through jupyter-server-proxy, as ``make lab`` and Binder set
  it) answers while the cluster is up, and no longer once its last cell closed it;
- every notebook, opened and left untouched, is not marked modified once its kernel has
  started (``make notebooks`` writes the kernelspec and ``language_info`` that JupyterLab
  would write), so closing it asks nothing and the tracked file stays clean.

JupyterLab runs on a free loopback port with a token, in a temporary folder holding a
copy of the notebook, with the settings of ``binder/overrides.json``. The test is skipped
with the reason when Chromium, JupyterLab or Playwright is missing (``.ci/run`` installs
Debian's ``chromium``, so CI always runs it). Playwright cannot download its own browser
here, so it drives the system Chromium.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01_random_forest.ipynb"
OVERRIDES = ROOT / "binder" / "overrides.json"
CHROMIUM = (
    os.environ.get("ODSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)
# Chromium flags for a closed network and a root user (as on CI machines).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RUN_ALL_TIMEOUT = 240  # seconds: notebook 1 runs in about a minute on one free CPU


def _missing() -> str | None:
    if CHROMIUM is None:
        return "no Chromium found (apt-get install chromium, or set ODSE_CHROMIUM)"
    for module in ("playwright", "jupyterlab"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install -e '.[test]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on loopback; yields (base URL, token, its folder)."""
    reason = _missing()
    if reason and os.environ.get("CI"):
        pytest.fail(f"CI must run the browser test, but {reason}")
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("lab")
    for notebook in NOTEBOOK.parent.glob("[0-9][0-9]_*.ipynb"):
        shutil.copy(notebook, root / notebook.name)
    settings = root / ".lab-settings"
    settings.mkdir()
    overrides = json.loads(OVERRIDES.read_text())
    # Render every cell (JupyterLab 4 draws only the visible ones by default), so that the
    # test can read every prompt and output.
    overrides["@jupyterlab/notebook-extension:tracker"] = {"windowingMode": "none"}
    (settings / "overrides.json").write_text(json.dumps(overrides))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "JUPYTER_CONFIG_DIR": str(root / ".jupyter"),
           "JUPYTERLAB_SETTINGS_DIR": str(root / ".user-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces"),
           "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
           # as `make lab` and Binder: the Dask dashboard through jupyter-server-proxy
           "DASK_DISTRIBUTED__DASHBOARD__LINK": "/proxy/{port}/status"}  # fmt: skip
    log = (root / "lab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         f"--LabApp.app_settings_dir={settings}",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(root / 'lab.log').read_text()}")
                time.sleep(0.5)
        yield base, token, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _open(page, base: str, token: str, name: str = NOTEBOOK.name, workspace: str = "") -> None:
    """Open a notebook; in a workspace of its own when named, so that no tab of an earlier
    test is restored beside it (each test sees only its notebook)."""
    where = f"workspaces/{workspace}/" if workspace else ""
    page.goto(f"{base}/lab/{where}tree/{name}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    # The kernel is ready when the status bar says Idle.
    page.wait_for_selector("text=/Python 3.*\\| Idle/", timeout=60_000)


def _wait_idle(page, steady: float = 3.0, timeout: float = 120) -> None:
    """Wait until the kernel has been idle for ``steady`` seconds in a row."""
    deadline, since = time.monotonic() + timeout, None
    idle = page.locator("text=/Python 3.*\\| Idle/")
    while time.monotonic() < deadline:
        if idle.count():
            since = since or time.monotonic()
            if time.monotonic() - since >= steady:
                return
        else:
            since = None
        time.sleep(0.25)
    pytest.fail(f"the kernel did not become idle within {timeout} s")


def _run_all(page) -> float:
    """Run All, then wait until no cell is queued or running; the seconds it took."""
    page.get_by_role("menuitem", name="Run").click()
    page.get_by_role("menuitem", name=re.compile("^Run All Cells")).click()
    start = time.monotonic()
    while True:  # every code cell has run once it shows an execution count
        # (Solutions are hidden cells: their prompt is not shown. They come last, so once
        # the shown cells have run, the kernel going idle for good means all have run.)
        prompts = page.locator(".jp-CodeCell .jp-InputArea .jp-InputPrompt").all_inner_texts()
        if prompts and all(re.fullmatch(r"\[\d+\]:", p.strip()) for p in prompts):
            _wait_idle(page)
            break
        if time.monotonic() - start > RUN_ALL_TIMEOUT:
            pytest.fail(f"Run All did not finish in {RUN_ALL_TIMEOUT} s: prompts {prompts}")
        if page.locator('[data-mime-type="application/vnd.jupyter.error"]').count():
            break  # a cell failed: _assert_no_errors shows its error
        time.sleep(1)
    return time.monotonic() - start


def _assert_no_errors(page) -> None:
    errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')
    assert errors.count() == 0, errors.all_inner_texts()
    tracebacks = page.locator(".jp-OutputArea-output:has-text('Traceback')")
    assert tracebacks.count() == 0, tracebacks.all_inner_texts()
    assert page.locator("text=Error displaying widget").count() == 0


def _explorer(page):
    """The map explorer's widget view (the output that holds dropdowns and a slider)."""
    return page.locator(".jp-OutputArea-output:has(.widget-dropdown):has(.widget-slider)").last


def _image(explorer) -> str:
    return explorer.locator("img").last.get_attribute("src") or ""


def _wait_redraw(explorer, before: str, what: str) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now = _image(explorer)
        if now and now != before:
            return now
        time.sleep(0.2)
    pytest.fail(f"the map did not redraw after changing the {what}")


@pytest.mark.parametrize("name", [NOTEBOOK.name, "04_ensemble.ipynb"])
def test_notebook_runs_in_jupyterlab_and_keeps_its_explorer(lab, browser, name):
    base, token, root = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    _open(page, base, token, name, workspace=Path(name).stem)

    run_seconds = _run_all(page)
    _assert_no_errors(page)

    assert page.locator(".jp-OutputArea-output img").count() >= 5  # the figures rendered

    # Every control of the explorer redraws the map.
    explorer = _explorer(page)
    explorer.scroll_into_view_if_needed()
    image = _image(explorer)
    assert image.startswith("data:image/png") or image.startswith("blob:"), image[:40]
    dropdowns = explorer.locator(".widget-dropdown select")
    changed = []
    for i in range(dropdowns.count()):
        select = dropdowns.nth(i)
        if select.is_disabled():
            continue
        options = [o for o in select.locator("option").all_inner_texts() if o.strip()]
        current = select.evaluate("s => s.options[s.selectedIndex]?.text")
        others = [o for o in options if o != current]
        if not others:
            continue
        select.select_option(label=others[0])
        image = _wait_redraw(explorer, image, f"dropdown {i} ({others[0]})")
        changed.append(others[0])
    slider = explorer.locator(".widget-slider .noUi-handle, .widget-slider input").first
    slider.focus()
    page.keyboard.press("Home")
    image = _wait_redraw(explorer, image, "year slider")
    changed.append("year")
    assert len(changed) >= 3, changed  # tile or product, class, year at least

    # Save, close, reopen: the explorer is still there, not "model not found".
    page.keyboard.press("Control+s")
    page.wait_for_timeout(1500)
    saved = json.loads((root / name).read_text())
    assert "widgets" in saved["metadata"], "widget state was not saved with the notebook"
    page.close()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _open(page, base, token, name, workspace=Path(name).stem)
    page.wait_for_timeout(3000)
    assert page.locator("text=Error displaying widget").count() == 0
    explorer = _explorer(page)
    explorer.scroll_into_view_if_needed()
    assert explorer.locator(".widget-dropdown select").count() >= 2
    assert _image(explorer)
    page.close()
    print(f"Run All took {run_seconds:.0f} s; changed {changed}")
    assert not [e for e in console_errors if "model not found" in e.lower()], console_errors


def test_untouched_notebooks_open_clean(lab, browser):
    base, token, root = lab
    (root / "untouched").mkdir()  # the committed notebooks, not the ones other tests ran
    for notebook in sorted(NOTEBOOK.parent.glob("[0-9][0-9]_*.ipynb")):
        copy = root / "untouched" / notebook.name
        shutil.copy(notebook, copy)
        # A page of its own: leaving a JupyterLab page with a running kernel asks first;
        # a workspace of its own: no tab of an earlier test is restored beside it.
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _open(page, base, token, f"untouched/{notebook.name}", workspace=f"clean-{notebook.stem}")
        _wait_idle(page, steady=2.0)
        dirty = page.locator(".lm-TabBar-tab.jp-mod-dirty", has_text=notebook.name).count()
        assert dirty == 0, f"{notebook.name} is marked modified right after opening"
        assert copy.read_bytes() == notebook.read_bytes(), notebook.name
        page.close()


def _run_cell(page, text: str, until: str, timeout: float = 120) -> str:
    """Click the code cell whose source holds ``text``, run it (Shift+Enter) and wait until
    its output holds ``until``; returns the output's text."""
    cell = page.locator(".jp-CodeCell", has=page.locator(".jp-InputArea", has_text=text)).first
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    output = cell.locator(".jp-OutputArea")
    deadline = time.monotonic() + timeout
    while until not in (shown := output.inner_text()):
        if time.monotonic() > deadline:
            pytest.fail(f"the cell with {text!r} did not print {until!r}: {shown[-500:]}")
        time.sleep(0.5)
    _assert_no_errors(page)
    return shown


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def test_notebook_6_dask_cluster_stays_up_with_a_working_dashboard(lab, browser):
    """The learner's way through notebook 6's Dask section: Run All (Dask off), set
    ``use_dask = True`` by editing and re-running the parameters cell, then the section's
    cells one at a time: the dashboard link works while the cluster is up, and the last cell
    closes it."""
    base, token, _ = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _open(page, base, token, "06_area_of_applicability.ipynb", workspace="dask")
    _run_all(page)
    _assert_no_errors(page)

    parameters = page.locator(
        ".jp-CodeCell", has=page.locator(".jp-InputArea", has_text="use_dask = False")
    )
    parameters.first.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nuse_dask = True")
    page.keyboard.press("Shift+Enter")
    _wait_idle(page, steady=1.0)

    shown = _run_cell(page, "LocalCluster(", "/proxy/")
    link = re.search(r"/proxy/\d+/status", shown).group(0)
    assert _status(f"{base}{link}?token={token}") == 200, f"dashboard {link} does not answer"
    _run_cell(page, "client=client", "identical to the serial maps: True", timeout=240)
    assert _status(f"{base}{link}?token={token}") == 200, "the cluster closed too early"
    _run_cell(page, "client.close()", "closed")
    assert _status(f"{base}{link}?token={token}") != 200, "the cluster is still up"
    page.close()
