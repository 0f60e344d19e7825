"""Save and load a trained model together with what it needs to make a map.

A model alone is not enough to make a map: prediction also needs the feature names
(which raster is which column), the class table (codes, names, colours for the legend)
and the package versions it was trained with. :func:`save_model` writes all of them
into one joblib file, atomically; :func:`load_model` reads them back into a
:class:`_TrainedModel` and warns when the installed versions differ.

A notebook's out-of-fold predictions go to ``cv_predictions.csv`` with
:func:`save_cv_predictions`; :func:`read_cv_results` reads them back in a later notebook
(with the true map accuracy from the notebook's ``metrics.json``), checking that they were
made on the same samples and folds.

.. warning::
   joblib files are pickles: loading one can run arbitrary code. Only load model files
   from sources you trust.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import logging
import os
import platform
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
from numpy.typing import ArrayLike, NDArray
from sklearn.utils.validation import check_is_fitted

from odse_tutorial._atomic import atomic_output
from odse_tutorial.classes import ClassTable

__all__ = ["load_model", "read_cv_results", "save_cv_predictions", "save_model"]

logger = logging.getLogger(__name__)

_FORMAT = "odse_tutorial.model"
_RESERVED_KEYS = ("versions", "saved_at")
# Packages whose version must match for a pickled model to be trusted to behave the same.
_CHECKED_PACKAGES = ("scikit-learn", "numpy", "odse_tutorial")


class _ModelVersionWarning(UserWarning):
    """A model file was saved with other package versions than the installed ones."""


@dataclass(frozen=True)
class _TrainedModel:
    """A trained model with its class table, feature names and metadata.

    Parameters
    ----------
    model : estimator
        The fitted model (e.g. a :class:`~odse_tutorial.ensemble.StackingEnsemble`).
    classes : ClassTable
        Codes, names and colours of the classes the model predicts.
    feature_names : tuple of str
        The model's input columns, in order (the layer names used in prediction).
    metadata : mapping
        Read-only: the metadata given to :func:`save_model`, plus ``"versions"``
        (python, numpy, scikit-learn, joblib, odse_tutorial at save time) and
        ``"saved_at"`` (UTC time, ISO 8601).

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> trained = _TrainedModel(DecisionTreeClassifier(), ClassTable([1, 2]), ("red",), {})
    >>> trained.feature_names
    ('red',)
    """

    model: Any
    classes: ClassTable
    feature_names: tuple[str, ...]
    metadata: Mapping[str, Any]


def save_model(
    path: str | os.PathLike,
    model: Any,
    *,
    classes: ClassTable,
    feature_names: Sequence[str],
    metadata: Mapping[str, Any] | None = None,
    compress: int = 3,
) -> Path:
    """Save a fitted model, its class table, feature names and metadata to one file.

    The file is written atomically: it appears complete under ``path`` or not at all,
    and an older file at ``path`` stays intact if saving fails.

    Parameters
    ----------
    path : path-like
        The file to write; ``.joblib`` is the customary suffix. Parent folders are created.
    model : estimator
        A fitted model.
    classes : ClassTable
        The class table; it must contain every class of ``model.classes_``.
    feature_names : sequence of str
        The model's input columns, in order; must equal ``model.feature_names_in_``
        when the model has it.
    metadata : mapping, optional
        Anything else worth keeping (training data, CV scores, author...). The keys
        ``"versions"`` and ``"saved_at"`` are reserved: they are recorded automatically.
    compress : int, default=3
        joblib (zlib) compression level, 0 (none) to 9 (smallest, slowest).

    Returns
    -------
    Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X = pd.DataFrame({"red_summer": [0.1, 0.2, 0.8, 0.9], "elevation": [5, 9, 300, 310]})
    >>> model = DecisionTreeClassifier(random_state=0).fit(X, [231, 231, 311, 311])
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.joblib"
    >>> _ = save_model(path, model, classes=ClassTable([231, 311], ["Pastures", "Forest"]),
    ...                feature_names=["red_summer", "elevation"], metadata={"tile": "T1"})
    >>> trained = load_model(path)
    >>> trained.classes.name_of(311), trained.feature_names, trained.metadata["tile"]
    ('Forest', ('red_summer', 'elevation'), 'T1')
    """
    if not isinstance(classes, ClassTable):
        raise TypeError(
            f"classes must be a ClassTable, got {type(classes).__name__}; build one with "
            "ClassTable(codes, names, colours)."
        )
    check_is_fitted(model)
    names = _check_feature_names(model, feature_names)
    _check_classes(model, classes)
    metadata = dict(metadata or {})
    clash = [key for key in _RESERVED_KEYS if key in metadata]
    if clash:
        raise ValueError(
            f"metadata keys {clash} are reserved (save_model records them); rename them."
        )
    payload = {
        "format": _FORMAT,
        "model": model,
        "classes": classes.to_records(),
        "feature_names": list(names),
        "metadata": metadata,
        "versions": _installed_versions(),
        "saved_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    final = Path(path)
    with atomic_output(final) as tmp:
        joblib.dump(payload, tmp, compress=compress)
    logger.info("Saved model %s to %s", type(model).__name__, final)
    return final


def load_model(path: str | os.PathLike) -> _TrainedModel:
    """Load a model file written by :func:`save_model`.

    Only load files from sources you trust: joblib files are pickles, and loading a
    pickle can run arbitrary code.

    Parameters
    ----------
    path : path-like
        A file written by :func:`save_model`.

    Returns
    -------
    _TrainedModel
        The model, its class table, feature names and metadata.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is not a model file of this package, or is truncated or corrupted.

    Warns
    -----
    UserWarning
        If scikit-learn, numpy or odse_tutorial differ from the versions recorded at
        save time: predictions may differ or fail.

    Examples
    --------
    >>> load_model("no/such/model.joblib")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: No model file at no/such/model.joblib; check the path ...
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No model file at {path}; check the path (current folder: {Path.cwd()})."
        )
    try:
        payload = joblib.load(path)
    except Exception as exc:
        raise ValueError(
            f"Cannot read the model file {path} ({type(exc).__name__}: {exc}). It is truncated, "
            "corrupted, not a model file, or needs packages that are not installed; save "
            "the model again with save_model()."
        ) from exc
    if not (isinstance(payload, dict) and payload.get("format") == _FORMAT):
        raise ValueError(
            f"{path} is not a model file written by odse_tutorial.save_model(); "
            "save the model with save_model() and load that file."
        )
    versions = dict(payload.get("versions", {}))
    _warn_on_version_mismatch(path, versions)
    metadata = {
        **payload["metadata"],
        "versions": MappingProxyType(versions),
        "saved_at": payload.get("saved_at"),
    }
    return _TrainedModel(
        model=payload["model"],
        classes=ClassTable.from_records(payload["classes"]),
        feature_names=tuple(payload["feature_names"]),
        metadata=MappingProxyType(metadata),
    )


# -- helpers ----------------------------------------------------------------------------
def _installed_versions() -> dict[str, str]:
    try:
        version = importlib.metadata.version("odse-tutorial")
    except importlib.metadata.PackageNotFoundError:  # a clone on PYTHONPATH, not installed
        version = "unknown"
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "joblib": joblib.__version__,
        "odse_tutorial": version,
    }


def _warn_on_version_mismatch(path: Path, recorded: Mapping[str, str]) -> None:
    installed = _installed_versions()
    differ = [
        (name, recorded[name], installed[name])
        for name in _CHECKED_PACKAGES
        if name in recorded and recorded[name] != installed[name]
    ]
    if not differ:
        return
    listing = ", ".join(f"{name} {saved} (installed: {now})" for name, saved, now in differ)
    pins = " ".join(f"{name.replace('_', '-')}=={saved}" for name, saved, _ in differ)
    warnings.warn(
        f"The model in {path} was saved with {listing}; its predictions may differ or fail. "
        f"Retrain the model with the installed versions, or install the recorded ones "
        f"(pip install {pins}).",
        _ModelVersionWarning,
        stacklevel=3,
    )


def _check_feature_names(model: Any, feature_names: Sequence[str]) -> tuple[str, ...]:
    names = (feature_names,) if isinstance(feature_names, str) else tuple(map(str, feature_names))
    repeated = sorted({name for name in names if names.count(name) > 1})
    if not names or repeated:
        raise ValueError(
            f"feature_names must be non-empty and unique; repeated: {repeated}. Pass the "
            "model's input columns in order, one name each."
        )
    fitted = tuple(map(str, getattr(model, "feature_names_in_", names)))
    n_features = getattr(model, "n_features_in_", len(names))
    if fitted == names and len(names) == n_features:
        return names
    missing, extra = sorted(set(fitted) - set(names)), sorted(set(names) - set(fitted))
    if len(names) != n_features:
        problem = f"the model was fitted on {n_features} features but {len(names)} names were given"
    elif missing or extra:
        problem = f"missing {missing}, unexpected {extra}"
    else:
        problem = "the same names in another order"
    raise ValueError(
        f"feature_names {list(names)} are not the model's input columns ({problem}): "
        "pass list(model.feature_names_in_), one name per column, in order."
    )


def _check_classes(model: Any, classes: ClassTable) -> None:
    model_classes = np.asarray(getattr(model, "classes_", classes.codes)).tolist()
    missing = [code for code in model_classes if code not in classes]
    if missing:
        raise ValueError(
            f"The class table lacks classes the model predicts: {missing} (table codes: "
            f"{list(classes.codes)}). Check that the codes have the same type (231 vs "
            "'231') and add the missing classes to the table."
        )
    extra = len(classes) - len(model_classes)
    if extra > 0:
        logger.info("The class table has %d classes the model does not predict", extra)


# -- out-of-fold predictions ---------------------------------------------------------------
def save_cv_predictions(
    output_dir: str | os.PathLike,
    proba: ArrayLike,
    y: pd.Series,
    folds: ArrayLike,
    *,
    classes: Sequence[Any] | None = None,
) -> Path:
    """Write out-of-fold predictions to ``output_dir/cv_predictions.csv``, atomically.

    Parameters
    ----------
    output_dir : str or path-like
        The notebook's output folder (created if missing).
    proba : array-like of shape (n_samples, n_classes)
        Out-of-fold probabilities.
    y : pandas.Series
        The class codes; its index becomes the file's index.
    folds : array-like of int
        The test fold of each sample (:func:`odse_tutorial.model_selection.fold_ids`).
    classes : sequence, optional
        The codes of ``proba``'s columns (default: sorted unique ``y``).

    Returns
    -------
    Path
        The file: index, ``fold``, ``y_true``, ``y_pred`` (most probable class) and
        ``proba_<code>`` per class.

    Examples
    --------
    >>> import tempfile
    >>> y = pd.Series([231, 311, 311], index=[10, 11, 12])
    >>> path = save_cv_predictions(tempfile.mkdtemp(), [[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]],
    ...                            y, [0, 1, 1])
    >>> pd.read_csv(path, index_col=0)["y_pred"].tolist()
    [231, 311, 231]
    """
    proba = np.asarray(proba, dtype=float)
    codes = np.asarray(sorted(pd.unique(y)) if classes is None else list(classes))
    if proba.shape != (len(y), len(codes)):
        raise ValueError(
            f"proba has shape {proba.shape}, but there are {len(y)} samples and "
            f"{len(codes)} classes; pass classes= (the codes of proba's columns)."
        )
    frame = pd.DataFrame(
        {"fold": np.asarray(folds), "y_true": y.to_numpy(), "y_pred": codes[proba.argmax(axis=1)]},
        index=y.index,
    )
    frame = frame.join(pd.DataFrame(proba, index=y.index, columns=[f"proba_{c}" for c in codes]))
    path = Path(output_dir) / "cv_predictions.csv"
    with atomic_output(path) as tmp:  # creates output_dir
        frame.to_csv(tmp)
    return path


@dataclass(frozen=True)
class _CVResults:
    """What :func:`read_cv_results` read: see there."""

    proba: NDArray[np.float64]
    codes: NDArray
    map_accuracy: float | None
    maps: Path
    metrics: Mapping[str, Any]


def read_cv_results(
    folder: str | os.PathLike, *, dataset: str, index: pd.Index, folds: ArrayLike | None = None
) -> _CVResults | None:
    """Read another notebook's out-of-fold probabilities and the true accuracy of its maps.

    Parameters
    ----------
    folder : str or path-like
        That notebook's output folder, e.g. ``Path(output_dir).parent / "01_random_forest"``.
    dataset : str
        The dataset this notebook runs on (``metrics.json`` must name the same).
    index : pandas.Index
        This notebook's samples (the file must hold exactly these, in this order).
    folds : array-like of int, optional
        This notebook's test folds; the file's must be equal.

    Returns
    -------
    results or None
        ``proba`` (n_samples x n_classes), ``codes`` (its columns' classes), ``map_accuracy``
        (``metrics.json``'s ``truth.map_accuracy``, or None), ``maps`` (``folder/maps``) and
        ``metrics`` (``metrics.json``). None, with one logged sentence, when that notebook
        has not run here or ran on other data.

    Raises
    ------
    ValueError
        If the notebook used other folds.

    Examples
    --------
    >>> import tempfile, json, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> y = pd.Series([231, 311], index=[10, 11])
    >>> _ = save_cv_predictions(folder, [[0.8, 0.2], [0.1, 0.9]], y, [0, 1])
    >>> _ = (folder / "metrics.json").write_text(json.dumps({"dataset": "simulated"}))
    >>> results = read_cv_results(folder, dataset="simulated", index=y.index, folds=[0, 1])
    >>> results.proba.tolist(), results.codes.tolist(), results.map_accuracy
    ([[0.8, 0.2], [0.1, 0.9]], [231, 311], None)
    """
    folder = Path(folder)
    csv, metrics_path = folder / "cv_predictions.csv", folder / "metrics.json"
    if not (csv.exists() and metrics_path.exists()):
        logger.warning("%s has not run here (no %s or metrics.json): left out.", folder.name, csv)
        return None
    frame = pd.read_csv(csv, index_col=0)
    metrics = json.loads(metrics_path.read_text())
    if metrics.get("dataset") != dataset or not frame.index.equals(pd.Index(index)):
        logger.warning("%s ran on other data (%s, %d samples): left out.", folder.name,
                       metrics.get("dataset"), len(frame))  # fmt: skip
        return None
    if folds is not None and not np.array_equal(frame["fold"].to_numpy(), np.asarray(folds)):
        raise ValueError(f"{folder.name} used other folds; re-run it with the same parameters.")
    columns = [c for c in frame.columns if c.startswith("proba_")]
    codes = pd.Index([c.removeprefix("proba_") for c in columns])
    if frame["y_true"].dtype.kind in "iuf":
        codes = codes.astype(frame["y_true"].dtype)
    truth = metrics.get("truth") or {}
    proba, maps = frame[columns].to_numpy(dtype=float), folder / "maps"
    return _CVResults(proba, codes.to_numpy(), truth.get("map_accuracy"), maps, metrics)
