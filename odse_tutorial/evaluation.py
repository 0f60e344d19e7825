"""Accuracy reports in the words of land-cover mapping.

The confusion (error) matrix here has the **reference** classes in rows and the
**map** (predicted) classes in columns. From it:

- *overall accuracy*: the share of samples whose map class is their reference class;
- *users' accuracy* of a class: of the samples mapped as that class, the share that
  really are (precision; one minus the commission error);
- *producer's accuracy* of a class: of the reference samples of that class, the share
  mapped as it (recall; one minus the omission error);
- *F1*: the harmonic mean of users' and producer's accuracy; *kappa*: Cohen's kappa.

With class probabilities also the log loss, the Brier score and the average precision
(area under the precision-recall curve) per class. :func:`area_adjusted_accuracy` turns
the counts of a probability sample into area-adjusted accuracies and error-adjusted class
areas with confidence intervals (Olofsson et al. 2014).
"""

from __future__ import annotations

import html
import os
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import rasterio
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import average_precision_score

from odse_tutorial.classes import ClassTable, _normalise_code
from odse_tutorial.labels import _as_codes

__all__ = [
    "AccuracyReport",
    "AreaAdjustedAccuracy",
    "accuracy_report",
    "area_adjusted_accuracy",
    "compare_models",
    "map_accuracy",
]

#: Probabilities are clipped to this before taking logarithms (a log loss stays finite).
PROBABILITY_FLOOR = 1e-15

_FLOAT_FORMAT = "{:.3f}".format


# -- the report ----------------------------------------------------------------------------
@dataclass
class AccuracyReport:
    """Accuracy of a classification, overall and per class.

    Attributes
    ----------
    summary : dict
        ``n_samples``, ``overall_accuracy``, ``kappa``, ``f1_weighted``, ``f1_macro`` and,
        with probabilities, ``log_loss``, ``brier_score`` and ``mean_average_precision``.
    per_class : pandas.DataFrame
        One row per class: ``code``, ``name``, ``support`` (reference samples),
        ``users_accuracy``, ``producers_accuracy``, ``f1`` and, with probabilities,
        ``average_precision`` and ``log_loss``. Undefined values (no sample mapped as a
        class, say) are NaN.
    confusion : pandas.DataFrame
        Sample counts (sums of weights with ``sample_weight``); rows are the reference
        classes, columns the map classes, labelled ``"code name"``.
    classes : ClassTable
        The classes of the report, in its order.
    """

    summary: dict[str, float]
    per_class: pd.DataFrame
    confusion: pd.DataFrame
    classes: ClassTable

    def confusion_table(self, *, totals: bool = True) -> pd.DataFrame:
        """The confusion matrix, with a ``total`` row and column when ``totals``."""
        table = self.confusion.copy()
        if totals:
            table["total"] = table.sum(axis=1)
            table.loc["total"] = table.sum(axis=0)
        return table

    def _summary_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"value": pd.Series(self.summary, dtype=object)})

    def __str__(self) -> str:
        width = max(len(k) for k in self.summary)
        lines = [f"{key:<{width}}  {_format_value(value)}" for key, value in self.summary.items()]
        return "\n".join(
            [
                "Accuracy report",
                *lines,
                "",
                "Per class (users' accuracy = precision, producer's accuracy = recall):",
                self.per_class.to_string(index=False, float_format=_FLOAT_FORMAT),
                "",
                "Confusion matrix (rows: reference, columns: map):",
                self.confusion_table().to_string(float_format=_FLOAT_FORMAT),
            ]
        )

    def _repr_html_(self) -> str:
        parts = [
            "<h4>Accuracy report</h4>",
            self._summary_frame().to_html(header=False, formatters={"value": _format_value}),
            "<h4>Per class</h4>",
            "<p>users' accuracy = precision, producer's accuracy = recall</p>",
            self.per_class.to_html(index=False, float_format=_FLOAT_FORMAT, na_rep="-"),
            "<h4>Confusion matrix</h4>",
            f"<p>{html.escape('rows: reference, columns: map')}</p>",
            self.confusion_table().to_html(float_format=_FLOAT_FORMAT),
        ]
        return "\n".join(parts)


def _format_value(value: Any) -> str:
    if isinstance(value, int | np.integer):
        return str(value)
    return f"{value:.4f}"


# -- inputs --------------------------------------------------------------------------------
def _report_classes(
    present: Sequence[int | str], classes: ClassTable | None
) -> tuple[list[int | str], ClassTable]:
    """The report's classes: the table's order (and names), or sorted codes."""
    kinds = {type(c) for c in present}
    if len(kinds) > 1:
        raise ValueError(
            "The class codes mix integers and strings (e.g. 231 and '231'); convert them to "
            f"one type first, e.g. y_pred.astype(int). Codes found: {sorted(map(str, present))}."
        )
    if classes is None:
        order = sorted(present)
        return order, ClassTable(order)
    unknown = [c for c in present if c not in classes]
    if unknown:
        raise ValueError(
            f"Class codes {sorted(unknown, key=str)} are not in the class table "
            f"(known codes: {list(classes.codes)}). Pass the table the model was trained with, "
            "or classes=None to name classes by their code."
        )
    wanted = set(present)
    order = [c for c in classes.codes if c in wanted]
    return order, classes.subset(order)


def _positions(codes: pd.Series, lookup: Mapping[Hashable, int]) -> NDArray[np.intp]:
    """Position of each code in the report's class order."""
    inverse, uniques = pd.factorize(codes)
    return np.array([lookup[_normalise_code(c)] for c in uniques], dtype=np.intp)[inverse]


def _unique_codes(codes: pd.Series) -> list[int | str]:
    return [_normalise_code(c) for c in pd.unique(codes)]


def _weights(sample_weight: ArrayLike | None, n_samples: int) -> NDArray[np.float64] | None:
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=float)
    if weights.shape != (n_samples,) or not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError(
            f"sample_weight must hold one finite, non-negative weight per sample ({n_samples}); "
            f"got shape {weights.shape}."
        )
    return weights


def _proba_matrix(
    y_proba: ArrayLike,
    proba_classes: Sequence[Hashable] | None,
    default_classes: Sequence[int | str],
    n_samples: int,
) -> tuple[NDArray[np.float64], list[int | str]]:
    proba = np.asarray(y_proba, dtype=float)
    codes = (
        sorted(default_classes)
        if proba_classes is None
        else [_normalise_code(c) for c in proba_classes]
    )
    if proba.ndim != 2 or proba.shape[0] != n_samples:
        raise ValueError(
            f"y_proba must have shape (n_samples, n_classes) = ({n_samples}, ...), "
            f"got {proba.shape}."
        )
    if proba.shape[1] != len(codes):
        raise ValueError(
            f"y_proba has {proba.shape[1]} columns but there are {len(codes)} classes "
            f"{codes}; pass proba_classes=model.classes_ (the class of each column)."
        )
    if len(set(codes)) != len(codes):
        raise ValueError(f"proba_classes has repeated codes: {codes}.")
    deviation = np.abs(proba.sum(axis=1) - 1.0).max(initial=0.0)
    if deviation > 1e-4 or (proba < 0).any():
        raise ValueError(
            "Each row of y_proba must hold probabilities that sum to 1 (largest deviation "
            f"{deviation:.3g}). Pass predict_proba output; divide percentages by 100."
        )
    return proba, codes


# -- metrics -------------------------------------------------------------------------------
def _confusion(
    truth: NDArray[np.intp], pred: NDArray[np.intp], weights: NDArray | None, n_classes: int
) -> NDArray:
    counts = np.bincount(truth * n_classes + pred, weights=weights, minlength=n_classes**2)
    return counts.reshape(n_classes, n_classes)


def _ratio(numerator: NDArray, denominator: NDArray) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def _kappa(matrix: NDArray) -> float:
    total = matrix.sum()
    observed = np.trace(matrix) / total
    expected = float((matrix.sum(axis=1) * matrix.sum(axis=0)).sum()) / total**2
    return float((observed - expected) / (1 - expected)) if expected < 1 else float("nan")


def _class_scores(matrix: NDArray) -> pd.DataFrame:
    hits = np.diag(matrix).astype(float)
    reference, mapped = matrix.sum(axis=1), matrix.sum(axis=0)
    return pd.DataFrame(
        {
            "support": reference,
            "users_accuracy": _ratio(hits, mapped),
            "producers_accuracy": _ratio(hits, reference),
            "f1": _ratio(2 * hits, reference + mapped),
        }
    )


def _probability_scores(
    proba: NDArray[np.float64], truth: NDArray[np.intp], weights: NDArray | None
) -> tuple[dict[str, float], pd.DataFrame]:
    """Log loss, Brier score and average precision; ``proba`` in the report's class order."""
    n_samples, n_classes = proba.shape
    w = np.ones(n_samples) if weights is None else weights
    one_hot = np.eye(n_classes)[truth]
    surprise = -np.log(np.clip(proba[np.arange(n_samples), truth], PROBABILITY_FLOOR, 1.0))
    squared = ((proba - one_hot) ** 2).sum(axis=1)
    per_class_loss = _ratio(
        np.bincount(truth, weights=w * surprise, minlength=n_classes),
        np.bincount(truth, weights=w, minlength=n_classes),
    )
    precision = np.full(n_classes, np.nan)
    for k in range(n_classes):
        positive = truth == k
        if w[positive].sum() > 0:
            precision[k] = average_precision_score(positive, proba[:, k], sample_weight=w)
    summary = {
        "log_loss": float(np.average(surprise, weights=w)),
        "brier_score": float(np.average(squared, weights=w)),
        "mean_average_precision": float(np.nanmean(precision))
        if np.isfinite(precision).any()
        else float("nan"),
    }
    return summary, pd.DataFrame({"average_precision": precision, "log_loss": per_class_loss})


def accuracy_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    y_proba: ArrayLike | None = None,
    *,
    classes: ClassTable | None = None,
    sample_weight: ArrayLike | None = None,
    proba_classes: Sequence[Hashable] | None = None,
) -> AccuracyReport:
    """Overall and per-class accuracy of a land-cover classification.

    Users' accuracy is the precision of a class, producer's accuracy its recall.
    With ``y_proba`` the report adds:

    - ``log_loss``: the mean of ``-log p``, ``p`` the probability given to the reference
      class (clipped at ``1e-15``); per class, the same mean over that class's reference
      samples;
    - ``brier_score``: the multi-class Brier score, the mean over samples of the sum over
      classes of the squared difference between the probability and the one-hot reference
      (0 is perfect, 2 the worst);
    - ``average_precision`` per class (area under the precision-recall curve, one class
      against the rest) and its mean over the classes with reference samples.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Reference class codes (integers or strings).
    y_pred : array-like of shape (n_samples,)
        Map (predicted) class codes.
    y_proba : array-like of shape (n_samples, n_classes), optional
        Class probabilities; columns in the order of ``proba_classes``.
    classes : ClassTable, optional
        Names and order of the classes; by default codes sorted, named by their code.
    sample_weight : array-like of shape (n_samples,), optional
        Weight of each sample in every statistic.
    proba_classes : sequence, optional
        Class code of each column of ``y_proba`` (the model's ``classes_``); by default the
        sorted codes of ``y_true`` and ``y_pred``.

    Returns
    -------
    AccuracyReport

    Raises
    ------
    ValueError
        If lengths disagree, codes mix integers and strings, codes are missing from
        ``classes``, or ``y_proba`` does not match ``proba_classes``.

    Examples
    --------
    >>> report = accuracy_report([1, 1, 2, 2], [1, 2, 2, 2],
    ...                          classes=ClassTable([1, 2], ["forest", "water"]))
    >>> report.summary["overall_accuracy"]
    0.75
    >>> report.per_class[["name", "users_accuracy", "producers_accuracy"]]
         name  users_accuracy  producers_accuracy
    0  forest        1.000000                 0.5
    1   water        0.666667                 1.0
    >>> report.confusion  # doctest: +NORMALIZE_WHITESPACE
    map        1 forest  2 water
    reference
    1 forest          1        1
    2 water           0        2
    """
    truth_codes, pred_codes = _as_codes(y_true, "y_true"), _as_codes(y_pred, "y_pred")
    n_samples = len(truth_codes)
    if len(pred_codes) != n_samples:
        raise ValueError(
            f"y_true has {n_samples} samples but y_pred has {len(pred_codes)}; pass one "
            "predicted class per reference sample."
        )
    weights = _weights(sample_weight, n_samples)
    observed = list(dict.fromkeys(_unique_codes(truth_codes) + _unique_codes(pred_codes)))
    extra = [] if proba_classes is None else [_normalise_code(c) for c in proba_classes]
    order, table = _report_classes(list(dict.fromkeys(observed + extra)), classes)
    lookup = {code: i for i, code in enumerate(order)}
    truth, pred = _positions(truth_codes, lookup), _positions(pred_codes, lookup)

    matrix = _confusion(truth, pred, weights, len(order))
    per_class = _class_scores(matrix)
    in_data = (per_class["support"] + matrix.sum(axis=0) > 0).to_numpy()
    support = per_class["support"].to_numpy(dtype=float)
    summary: dict[str, float] = {
        "n_samples": n_samples,
        "overall_accuracy": float(np.trace(matrix) / matrix.sum()),
        "kappa": _kappa(matrix),
        "f1_weighted": float(np.nansum(per_class["f1"] * support) / support.sum()),
        "f1_macro": float(per_class["f1"][in_data].fillna(0.0).mean()),
    }
    if y_proba is not None:
        proba, columns = _proba_matrix(y_proba, proba_classes, observed, n_samples)
        reordered = np.zeros((n_samples, len(order)))
        reordered[:, [lookup[c] for c in columns]] = proba
        scores, class_scores = _probability_scores(reordered, truth, weights)
        summary.update(scores)
        per_class = pd.concat([per_class, class_scores], axis=1)

    per_class.insert(0, "name", list(table.names))
    per_class.insert(0, "code", order)
    labels = table.labels() if classes is not None else [str(c) for c in order]
    confusion = pd.DataFrame(
        matrix,
        index=pd.Index(labels, name="reference"),
        columns=pd.Index(labels, name="map"),
    )
    return AccuracyReport(summary=summary, per_class=per_class, confusion=confusion, classes=table)


def compare_models(
    reports: Mapping[str, AccuracyReport],
    extra: Mapping[str, Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """Side-by-side summary of several models, one row per model.

    Compare only reports computed on the same samples (the same folds).

    Parameters
    ----------
    reports : mapping of str to AccuracyReport
        Model name -> its report.
    extra : mapping of str to mapping, optional
        Model name -> more columns for its row (``{"fit_seconds": 12.3}``).

    Returns
    -------
    pandas.DataFrame
        Index ``model``; the summary statistics (missing ones are NaN), then the extra
        columns.

    Raises
    ------
    KeyError
        If ``extra`` names a model that has no report.

    Examples
    --------
    >>> a = accuracy_report([1, 1, 2, 2], [1, 2, 2, 2])
    >>> b = accuracy_report([1, 1, 2, 2], [1, 1, 2, 2])
    >>> compare_models({"tree": a, "forest": b})[["overall_accuracy", "f1_macro"]]
    ... # doctest: +NORMALIZE_WHITESPACE
            overall_accuracy  f1_macro
    model
    tree                0.75  0.733333
    forest              1.00  1.000000
    """
    extra = extra or {}
    unknown = sorted(set(extra) - set(reports))
    if unknown:
        raise KeyError(
            f"extra has models {unknown} without a report; models with reports: {list(reports)}."
        )
    rows = {name: {**report.summary, **extra.get(name, {})} for name, report in reports.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "model"
    return frame


# -- area-adjusted accuracy (Olofsson et al. 2014) -----------------------------------------
@dataclass
class AreaAdjustedAccuracy:
    """Accuracy and class areas estimated from a probability sample (Olofsson et al. 2014).

    Attributes
    ----------
    error_matrix : pandas.DataFrame
        Estimated area proportions; rows reference, columns map (as ``confusion``).
    per_class : pandas.DataFrame
        Per class: ``users_accuracy`` and ``producers_accuracy`` with their standard errors
        (``*_se``), ``mapped_area``, ``adjusted_area``, ``adjusted_area_se`` and the 95 %
        confidence interval ``adjusted_area_low`` .. ``adjusted_area_high``.
    overall_accuracy : float
        Area-weighted overall accuracy.
    overall_accuracy_se : float
        Its standard error.
    """

    error_matrix: pd.DataFrame
    per_class: pd.DataFrame
    overall_accuracy: float
    overall_accuracy_se: float


def _area_inputs(
    confusion_counts: pd.DataFrame | ArrayLike,
    map_class_areas: pd.Series | Mapping[Hashable, float] | ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64], pd.Index]:
    if isinstance(confusion_counts, AccuracyReport):
        confusion_counts = confusion_counts.confusion
    frame = pd.DataFrame(confusion_counts)
    counts = frame.to_numpy(dtype=float)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"confusion_counts must be a square matrix, got shape {counts.shape}.")
    if isinstance(confusion_counts, pd.DataFrame) and list(frame.index) != list(frame.columns):
        raise ValueError(
            "confusion_counts must list the same classes, in the same order, in its rows "
            "(reference) and columns (map)."
        )
    labels = frame.columns
    if isinstance(map_class_areas, Mapping | pd.Series):
        areas = pd.Series(map_class_areas)
        missing = [c for c in labels if c not in areas.index]
        if missing:
            raise KeyError(
                f"map_class_areas has no area for map classes {missing}; its keys must be the "
                f"column labels of confusion_counts ({list(labels)})."
            )
        areas = areas.loc[labels].to_numpy(dtype=float)
    else:
        areas = np.asarray(map_class_areas, dtype=float)
    if areas.shape != (len(labels),) or (areas < 0).any():
        raise ValueError(
            f"map_class_areas must give one non-negative mapped area per class ({len(labels)}), "
            f"got {areas.tolist()}."
        )
    mapped_samples = counts.sum(axis=0)
    if ((mapped_samples < 2) & (areas > 0)).any():
        raise ValueError(
            "Every mapped class needs at least 2 samples for a standard error; classes with "
            f"fewer: {list(labels[(mapped_samples < 2) & (areas > 0)])}."
        )
    return counts, areas, labels


def area_adjusted_accuracy(
    confusion_counts: pd.DataFrame | AccuracyReport | ArrayLike,
    map_class_areas: pd.Series | Mapping[Hashable, float] | ArrayLike,
) -> AreaAdjustedAccuracy:
    """Area-weighted accuracy and error-adjusted class areas (Olofsson et al. 2014).

    Valid for samples drawn at random within the mapped classes (stratified random
    sampling with the map classes as strata, or simple random sampling) -- not for
    training samples collected at will, nor for cross-validation of them.

    Parameters
    ----------
    confusion_counts : pandas.DataFrame, AccuracyReport or array-like of shape (K, K)
        Sample counts with the **reference** classes in rows and the **map** classes in
        columns, as in :attr:`AccuracyReport.confusion` (Olofsson et al. print the
        transpose: map classes in rows).
    map_class_areas : pandas.Series, mapping or array-like of shape (K,)
        Mapped area of each class (any unit, e.g. pixels or hectares), keyed by the column
        labels of ``confusion_counts`` or in its column order.

    Returns
    -------
    AreaAdjustedAccuracy
        Areas come in the unit of ``map_class_areas``; the 95 % confidence interval is
        the estimate plus or minus 1.96 standard errors.

    Raises
    ------
    ValueError
        If the matrix is not square, areas do not match, or a mapped class has fewer
        than two samples.

    Examples
    --------
    The worked example of Olofsson et al. (2014, Table 8), areas in pixels:

    >>> counts = np.array([[66, 0, 1, 2], [0, 55, 0, 1], [5, 8, 153, 9], [4, 12, 11, 313]])
    >>> result = area_adjusted_accuracy(counts, [200_000, 150_000, 3_200_000, 6_450_000])
    >>> round(result.overall_accuracy, 3)
    0.947
    >>> result.per_class["adjusted_area"].round().astype(int).tolist()
    [235086, 129846, 3175221, 6459846]
    """
    counts, areas, labels = _area_inputs(confusion_counts, map_class_areas)
    total_area = areas.sum()
    weights = areas / total_area  # W_i of each map class
    mapped_samples = counts.sum(axis=0)  # n_i.
    # share of the samples of map class i (column) found in reference class j (row)
    shares = _ratio(counts, mapped_samples[None, :])
    shares = np.nan_to_num(shares)
    proportions = shares * weights[None, :]  # p_ji, rows reference, columns map
    dof = np.where(mapped_samples > 1, mapped_samples - 1, np.nan)
    # variance terms W_i^2 q(1-q)/(n_i. - 1), per reference class j and map class i
    terms = np.nan_to_num(weights[None, :] ** 2 * shares * (1 - shares) / dof[None, :])

    hits = np.diag(proportions)
    reference_share = proportions.sum(axis=1)  # p_.j (area proportion of reference class j)
    users = np.diag(shares).copy()
    users[mapped_samples == 0] = np.nan
    producers = _ratio(hits, reference_share)
    users_se = np.sqrt(users * (1 - users) / dof)
    overall = float(hits.sum())
    overall_se = float(np.sqrt(np.nansum(weights**2 * users * (1 - users) / dof)))

    # producer's accuracy variance, Olofsson et al. 2014 eq. 7, with N_i. = mapped area
    mapped_total = areas / mapped_samples.clip(min=1)  # N_i. / n_i.
    reference_total = (counts * mapped_total[None, :]).sum(axis=1)  # N_.j
    off_diagonal = np.zeros(len(labels))
    for j in range(len(labels)):
        others = np.arange(len(labels)) != j
        off_diagonal[j] = np.nansum(
            areas[others] ** 2 * shares[j, others] * (1 - shares[j, others]) / dof[others]
        )
    own = areas**2 * (1 - producers) ** 2 * users * (1 - users) / dof
    producers_se = np.sqrt(_ratio(own + producers**2 * off_diagonal, reference_total**2))

    area_se = total_area * np.sqrt(terms.sum(axis=1))
    adjusted = total_area * reference_share
    per_class = pd.DataFrame(
        {
            "users_accuracy": users,
            "users_accuracy_se": users_se,
            "producers_accuracy": producers,
            "producers_accuracy_se": producers_se,
            "mapped_area": areas,
            "adjusted_area": adjusted,
            "adjusted_area_se": area_se,
            "adjusted_area_low": adjusted - 1.96 * area_se,
            "adjusted_area_high": adjusted + 1.96 * area_se,
        },
        index=pd.Index(labels, name="class"),
    )
    error_matrix = pd.DataFrame(
        proportions,
        index=pd.Index(labels, name="reference"),
        columns=pd.Index(labels, name="map"),
    )
    return AreaAdjustedAccuracy(error_matrix, per_class, overall, overall_se)


def map_accuracy(
    predicted: Iterable[str | os.PathLike],
    truth: Iterable[str | os.PathLike],
    *,
    classes: ClassTable | None = None,
) -> AccuracyReport:
    """The true accuracy of class maps, pixel by pixel against reference maps.

    Real data never allow this: only simulated data have a reference map for every
    pixel. Pixels that are nodata in either map are left out.

    Parameters
    ----------
    predicted, truth : iterables of path-like
        Pairs of class maps (``dominant_class.tif`` and the matching truth map), on the
        same grids. Both carry a legend (``ClassTable.from_tags``) mapping pixel values
        to class codes.
    classes : ClassTable, optional
        Names and colours for the report.

    Returns
    -------
    AccuracyReport
        Over all pixels of all pairs (each pixel weighs one).

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> ds = load_dataset()
    >>> truth = [ds.truth("9529", 2018)]
    >>> map_accuracy(truth, truth).summary["overall_accuracy"]
    1.0
    """
    pairs: dict[tuple, int] = {}
    for pred_path, truth_path in zip(predicted, truth, strict=True):
        pred_codes, true_codes = _codes_of(pred_path), _codes_of(truth_path)
        with rasterio.open(pred_path) as pred_src, rasterio.open(truth_path) as true_src:
            if (pred_src.shape, pred_src.transform) != (true_src.shape, true_src.transform):
                raise ValueError(
                    f"{pred_path} and {truth_path} are not on the same grid; compare maps "
                    "of the same tile."
                )
            for _, window in pred_src.block_windows(1):
                p = pred_src.read(1, window=window, masked=True)
                t = true_src.read(1, window=window, masked=True)
                valid = ~(np.ma.getmaskarray(p) | np.ma.getmaskarray(t))
                values, counts = np.unique(
                    np.stack([t.data[valid], p.data[valid]]), axis=1, return_counts=True
                )
                for (tv, pv), n in zip(values.T.tolist(), counts.tolist(), strict=True):
                    key = (true_codes[tv], pred_codes[pv])
                    pairs[key] = pairs.get(key, 0) + n
    if not pairs:
        raise ValueError("No valid pixels to compare; are the maps all nodata?")
    keys = list(pairs)
    return accuracy_report(
        [k[0] for k in keys],
        [k[1] for k in keys],
        classes=classes,
        sample_weight=[pairs[k] for k in keys],
    )


def _codes_of(path: str | os.PathLike) -> dict[int, Hashable]:
    """Pixel value -> class code, from the map's legend."""
    with rasterio.open(path) as src:
        legend = ClassTable.from_tags(src.tags(), path)
    return dict(zip(legend.raster_values, legend.codes, strict=True))
