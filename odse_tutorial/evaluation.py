"""Accuracy reports in the words of land-cover mapping.

The confusion (error) matrix here has the **reference** classes in rows and the
**map** (predicted) classes in columns. From it:

- *overall accuracy*: the share of samples whose map class is their reference class;
- *users' accuracy* of a class: of the samples mapped as that class, the share that
  really are (precision; one minus the commission error);
- *producer's accuracy* of a class: of the reference samples of that class, the share
  mapped as it (recall; one minus the omission error);
- *F1*: the harmonic mean of users' and producer's accuracy; *kappa*: Cohen's kappa.

With class probabilities also the log loss (overall and per class) and the Brier score.
These numbers come from :mod:`sklearn.metrics` (and
:func:`sklearn.calibration.calibration_curve`); this module names them in the field's words
and keeps the class order fixed (``labels=``). Computed here by hand: the per-class log loss
(sklearn's log loss on each class's samples), the expected calibration error (a weighted mean of
the reliability table's gaps), the pixel counts of class maps, and
:func:`area_adjusted_accuracy`, which turns the counts of a probability sample into
area-adjusted accuracies and error-adjusted class areas with confidence intervals
(Olofsson et al. 2014).

Maps: :func:`map_accuracy` (class maps against reference maps) and
:func:`error_rate_by_uncertainty` read class maps in strips, so memory stays bounded; the legend that a class map carries (its
``classes`` tag, :meth:`ClassTable.from_tags`) says which class each pixel value is.
Calibration: :func:`reliability_table` and :func:`expected_calibration_error`.
"""

from __future__ import annotations

import contextlib
import html
import itertools
import json
import logging
import math
import os
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rasterio
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_fscore_support,
)

from odse_tutorial._atomic import atomic_output
from odse_tutorial._checks import check_sample_weight
from odse_tutorial._dataset import Dataset, survey_year
from odse_tutorial.classes import ClassTable, _normalise_code
from odse_tutorial.labels import _as_codes
from odse_tutorial.raster_io import _same_crs, _windows, check_same_grid, read_at_points
from odse_tutorial.uncertainty import normalized_entropy

__all__ = [
    "AccuracyReport",
    "accuracy_report",
    "area_adjusted_accuracy",
    "beside_truth",
    "change_against_truth",
    "compare_models",
    "compare_on_folds",
    "error_rate_by_uncertainty",
    "expected_calibration_error",
    "label_agreement",
    "map_accuracy",
    "reliability_table",
    "true_map_accuracy",
    "truth_at",
    "uncertainty_against_error",
    "write_metrics",
]

logger = logging.getLogger(__name__)
_FLOAT_FORMAT = "{:.3f}".format


# -- the report ----------------------------------------------------------------------------
@dataclass
class AccuracyReport:
    """Accuracy of a classification, overall and per class.

    Attributes
    ----------
    summary : dict
        ``n_samples``, ``overall_accuracy``, ``kappa``, ``f1_weighted``, ``f1_macro`` and,
        with probabilities, ``log_loss`` and ``brier_score``.
    per_class : pandas.DataFrame
        One row per class: ``code``, ``name``, ``support`` (reference samples),
        ``users_accuracy``, ``producers_accuracy``, ``f1`` and, with probabilities,
        ``log_loss``. Undefined values (no sample mapped as a
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
    order = [c for c in classes.codes if c in present]
    return order, classes.subset(order)


def _positions(codes: pd.Series, lookup: Mapping[Hashable, int]) -> NDArray[np.intp]:
    """Position of each code in the report's class order."""
    inverse, uniques = pd.factorize(codes)
    return np.array([lookup[_normalise_code(c)] for c in uniques], dtype=np.intp)[inverse]


def _unique_codes(codes: pd.Series) -> list[int | str]:
    return [_normalise_code(c) for c in pd.unique(codes)]


def _proba_matrix(y_proba: ArrayLike, codes: list[int | str]) -> NDArray[np.float64]:
    """``y_proba`` checked: one column per class of ``codes``, rows of probabilities."""
    proba = np.asarray(y_proba, dtype=float)
    if proba.ndim != 2 or proba.shape[1] != len(codes):
        raise ValueError(
            f"y_proba has shape {proba.shape} but there are {len(codes)} classes "
            f"{codes}; pass proba_classes=model.classes_ (the class of each column)."
        )
    if len(set(codes)) != len(codes):
        raise ValueError(f"proba_classes has repeated codes: {codes}; pass model.classes_.")
    deviation = np.abs(proba.sum(axis=1) - 1.0).max(initial=0.0)
    if deviation > 1e-4 or (proba < 0).any():
        raise ValueError(
            "Each row of y_proba must hold probabilities that sum to 1 (largest deviation "
            f"{deviation:.3g}). Pass predict_proba output; divide percentages by 100."
        )
    return proba


# -- the report ---------------------------------------------------------------------------
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
      class (:func:`sklearn.metrics.log_loss`); per class, the same mean over that class's
      reference samples;
    - ``brier_score``: the multi-class Brier score, the mean over samples of the sum over
      classes of the squared difference between the probability and the one-hot reference
      (0 is perfect, 2 the worst).

    (Average precision per class: :func:`odse_tutorial.plotting.plot_precision_recall`.)

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
    w = check_sample_weight(sample_weight, n_samples)
    observed = list(dict.fromkeys(_unique_codes(truth_codes) + _unique_codes(pred_codes)))
    extra = [] if proba_classes is None else [_normalise_code(c) for c in proba_classes]
    order, table = _report_classes(list(dict.fromkeys(observed + extra)), classes)
    lookup = {code: i for i, code in enumerate(order)}
    truth, pred = _positions(truth_codes, lookup), _positions(pred_codes, lookup)
    # Metrics on positions 0..K-1 in the report's order: labels= fixes that order and keeps
    # classes without samples; zero_division=nan marks undefined accuracies.
    everything, in_data = np.arange(len(order)), np.array([lookup[c] for c in observed])
    matrix = confusion_matrix(truth, pred, labels=everything, sample_weight=w)
    if np.array_equal(matrix, np.round(matrix)):  # counts (whole weights) stay integers
        matrix = matrix.astype(np.int64)
    users, producers, f1, _ = precision_recall_fscore_support(
        truth, pred, labels=everything, sample_weight=w, zero_division=np.nan
    )
    per_class = pd.DataFrame(
        {
            "support": matrix.sum(axis=1),
            "users_accuracy": users,
            "producers_accuracy": producers,
            "f1": f1,
        }
    )
    summary: dict[str, float] = {
        "n_samples": n_samples,
        "overall_accuracy": float(accuracy_score(truth, pred, sample_weight=w)),
        "kappa": float(cohen_kappa_score(truth, pred, labels=everything, sample_weight=w)),
        **{
            f"f1_{average}": float(
                f1_score(truth, pred, labels=in_data, average=average, sample_weight=w)
            )
            for average in ("weighted", "macro")
        },
    }
    if y_proba is not None:
        columns = sorted(observed) if proba_classes is None else extra
        proba = _proba_matrix(y_proba, columns)
        reordered = np.zeros((n_samples, len(order)))
        reordered[:, [lookup[c] for c in columns]] = proba / proba.sum(axis=1, keepdims=True)
        scores, class_scores = _probability_scores(reordered, truth, w)
        summary.update(scores)
        per_class = pd.concat([per_class, class_scores], axis=1)

    per_class.insert(0, "name", list(table.names))
    per_class.insert(0, "code", order)
    labels = table.labels() if classes is not None else [str(c) for c in order]
    confusion = _reference_by_map(matrix, labels)
    return AccuracyReport(summary=summary, per_class=per_class, confusion=confusion, classes=table)


def _reference_by_map(matrix: ArrayLike, labels: Sequence[Hashable]) -> pd.DataFrame:
    """A class-by-class matrix with the reference classes in rows, the map classes in columns."""
    index = pd.Index(labels, name="reference")
    return pd.DataFrame(matrix, index=index, columns=index.rename("map"))


def _probability_scores(
    proba: NDArray[np.float64], truth: NDArray[np.intp], w: NDArray | None
) -> tuple[dict[str, float], pd.DataFrame]:
    """Log loss and Brier score, overall and (log loss) per class; ``proba`` in the report's
    class order."""
    labels = np.arange(proba.shape[1])
    w = np.ones(len(truth)) if w is None else w
    loss = np.full(len(labels), np.nan)
    for k in labels:
        own = (truth == k) & (w > 0)
        if own.any():
            loss[k] = log_loss(truth[own], proba[own], labels=labels, sample_weight=w[own])
    brier = brier_score_loss(truth, proba, labels=labels, sample_weight=w, scale_by_half=False)
    summary = {
        "log_loss": float(log_loss(truth, proba, labels=labels, sample_weight=w)),
        "brier_score": float(brier),
    }
    return summary, pd.DataFrame({"log_loss": loss})


def compare_models(reports: Mapping[str, AccuracyReport]) -> pd.DataFrame:
    """Side-by-side summary of several models, one row per model.

    Compare only reports computed on the same samples (the same folds).

    Parameters
    ----------
    reports : mapping of str to AccuracyReport
        Model name -> its report.

    Returns
    -------
    pandas.DataFrame
        Index ``model``; the summary statistics (missing ones are NaN).

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
    rows = {name: report.summary for name, report in reports.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def _paired_difference(
    a: ArrayLike,
    b: ArrayLike,
    *,
    confidence: float = 0.95,
    test_train_ratio: float | None = None,
) -> dict:
    """The mean of paired differences ``a - b`` (two models on the same folds, or two
    settings on the same tile-years) with its noise: the standard error of that mean and
    the half-width of its Student-t confidence interval (n - 1 degrees of freedom).

    A difference is beyond the noise when ``abs(mean) > half_width``. The folds of a
    cross-validation share most of their training data, so their scores are correlated and
    the plain standard error ``std / sqrt(n)`` is too small. Pass ``test_train_ratio``
    (test samples / training samples of a fold) for the corrected resampled t-test of
    Nadeau & Bengio (2003): ``se = std * sqrt(1 / n + test_train_ratio)``.
    Missing pairs are dropped.

    Parameters
    ----------
    a, b : array-like of shape (n,)
        Paired scores (one per fold).
    confidence : float, default 0.95
        Coverage of the interval ``mean +- half_width``.
    test_train_ratio : float, optional
        ``n_test / n_train`` of the folds; None for independent pairs (no correction).

    Returns
    -------
    dict
        ``mean``, ``se``, ``t`` (the critical value), ``half_width`` (= t x se) and ``n``;
        the last three are NaN when fewer than two pairs remain.

    Examples
    --------
    >>> d = _paired_difference([0.81, 0.84, 0.80, 0.83, 0.82], [0.79, 0.80, 0.80, 0.80, 0.79])
    >>> round(d["mean"], 3), round(d["se"], 4), round(d["t"], 2), d["n"]
    (0.024, 0.0068, 2.78, 5)
    >>> round(_paired_difference([0.81, 0.84, 0.80, 0.83, 0.82], [0.79, 0.80, 0.80, 0.80, 0.79],
    ...                         test_train_ratio=0.25)["se"], 4)
    0.0102
    """
    diff = pd.Series(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)).dropna()
    n = len(diff)
    se = diff.std(ddof=1) * np.sqrt(1 / max(n, 1) + (test_train_ratio or 0.0))  # NaN if n < 2
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 1))  # NaN if n < 2
    return {"mean": float(diff.mean()), "se": float(se), "t": t, "half_width": t * se, "n": n}


# -- models compared on the same folds ------------------------------------------------------
_LOWER_IS_BETTER = frozenset({"log_loss", "brier_score", "ece"})


@dataclass
class _FoldComparison:
    """Models scored on the same cross-validation folds, and their paired differences.

    Attributes
    ----------
    per_fold : pandas.DataFrame
        One row per model and fold: ``model``, ``fold``, ``n_test`` and each metric.
    table : pandas.DataFrame
        Index ``model``: the mean over the folds of each metric.
    differences : pandas.DataFrame
        One row per compared model and metric: ``model``, ``baseline``, ``metric``,
        ``difference`` (mean over the folds of model minus baseline), ``se`` (corrected
        standard error), ``ci_low``, ``ci_high``, ``wins`` (folds where the model is the
        better) and ``beyond_noise`` (the interval excludes 0).
    sentence : str
        One verdict line per row of ``differences``, printed from its numbers, and a line
        naming the test.
    test_train_ratio : float
        The mean ``n_test / n_train`` of the folds used in the correction.
    """

    per_fold: pd.DataFrame
    table: pd.DataFrame
    differences: pd.DataFrame
    sentence: str
    test_train_ratio: float

    def to_dict(self) -> dict:
        """Plain, JSON-ready values (for ``metrics.json``)."""
        return _plain(
            {
                "table": self.table.to_dict(orient="index"),
                "sentence": self.sentence,
                "differences": self.differences.to_dict(orient="records"),
                "test_train_ratio": self.test_train_ratio,
            }
        )

    def __str__(self) -> str:
        return f"{self.table.to_string(float_format=_FLOAT_FORMAT)}\n\n{self.sentence}"

    def _repr_html_(self) -> str:
        lines = "<br>".join(html.escape(line) for line in self.sentence.splitlines())
        return f"{self.table.to_html(float_format=_FLOAT_FORMAT)}<p>{lines}</p>"


def compare_on_folds(
    probas: Mapping[str, ArrayLike],
    y: ArrayLike | None,
    folds: ArrayLike,
    *,
    classes: Sequence[Hashable] | None = None,
    metrics: Sequence[str] = ("overall_accuracy", "f1_weighted", "log_loss", "brier_score"),
    confidence: float = 0.95,
) -> _FoldComparison | None:
    """Compare models fold by fold: means, paired differences and a verdict for each.

    Each model's out-of-fold probabilities are scored on each fold (any summary metric of
    :func:`accuracy_report`). Every model is compared with the first (the baseline) on the paired fold
    scores, with the corrected resampled t-test of Nadeau & Bengio (2003): the folds share
    most of their training data, so the variance of the fold differences is multiplied by
    ``1 / k + n_test / n_train`` (not ``1 / k``), with ``k - 1`` degrees of freedom
    (``_paired_difference``). A difference is beyond the noise when its interval
    excludes 0.

    Parameters
    ----------
    probas : mapping of str to array-like of shape (n_samples, n_classes)
        Model name -> out-of-fold probabilities, all from the same folds.
    y : array-like of shape (n_samples,) or None
        Reference class codes (labels, or the true classes of :func:`truth_at`); samples
        with a missing code are left out. None: returns None silently (whoever made
        ``y`` None said why).
    folds : array-like of int, shape (n_samples,)
        Test fold of each sample (:func:`odse_tutorial.model_selection.fold_ids`); -1 for
        samples that no fold tests (left out).
    classes : sequence, optional
        Class code of each probability column (the model's ``classes_``); by default the
        sorted codes of ``y``.
    metrics : sequence of str
        Keys of :attr:`AccuracyReport.summary`, or ``"ece"``
        (:func:`expected_calibration_error`, unweighted); ``log_loss``, ``brier_score``
        and ``ece`` are better when lower, the others when higher.
    confidence : float, default 0.95
        Coverage of the intervals.

    Returns
    -------
    object or None
        ``per_fold``, ``table``, ``differences``, ``sentence``, ``test_train_ratio`` and
        ``to_dict()`` (see the attributes of ``_FoldComparison``); shown as table and sentence.
        None (and a logged sentence) with fewer than two folds or two models.

    Raises
    ------
    ValueError
        If shapes disagree or a metric is unknown.

    Examples
    --------
    >>> y = np.array([1, 2] * 10)
    >>> folds = np.repeat(np.arange(5), 4)
    >>> sure = np.where(y[:, None] == [1, 2], 0.9, 0.1)
    >>> coin = np.full((20, 2), 0.5)
    >>> result = compare_on_folds({"coin": coin, "model": sure}, y, folds, metrics=["log_loss"])
    >>> print(result.sentence)
    model vs coin: log loss (lower is better) -0.588 (95 % CI -0.588 to -0.588; model better in 5 of 5 folds): model is better, beyond the noise of the folds.
    (95 % CI: corrected resampled t-test, Nadeau & Bengio 2003; 5 folds, 4 degrees of freedom, \
n_test / n_train = 0.250.)
    """
    if y is None:
        return None
    y_codes, folds = np.asarray(y, dtype=object), np.asarray(folds)
    folds = np.where(pd.isna(y_codes), -1, folds)  # samples without a code: left out
    fold_list = np.unique(folds[folds >= 0])
    if len(fold_list) < 2 or len(probas) < 2:
        logger.warning(
            "Comparing models on folds needs two folds and two models (here %d and "
            "%d): no comparison.",
            len(fold_list),
            len(probas),
        )
        return None
    codes = sorted(_unique_codes(pd.Series(y_codes[folds >= 0]))) if classes is None else classes
    codes = np.array(np.asarray(codes).tolist(), dtype=object)  # Python codes, no numpy scalars
    rows = []
    for name, proba in probas.items():
        proba = np.asarray(proba, dtype=float)
        if proba.shape != (len(y_codes), len(codes)):
            raise ValueError(
                f"probas[{name!r}] has shape {proba.shape}, expected ({len(y_codes)}, "
                f"{len(codes)}): one row per sample, one column per class of classes={list(codes)}."
            )
        for k in fold_list:
            test = folds == k
            truth, p = y_codes[test], proba[test]
            summary = accuracy_report(
                truth, codes[p.argmax(axis=1)], p, proba_classes=codes
            ).summary
            if "ece" in metrics:
                summary["ece"] = expected_calibration_error(truth, p, codes)
            unknown = [m for m in metrics if m not in summary]
            if unknown:
                raise ValueError(f"Unknown metrics {unknown}; choose from {list(summary)}.")
            rows.append(
                {
                    "model": name,
                    "fold": k,
                    "n_test": int(test.sum()),
                    **{m: summary[m] for m in metrics},
                }
            )
    per_fold = pd.DataFrame(rows)
    n_test = per_fold.groupby("fold")["n_test"].first().to_numpy()
    ratio = float(np.mean(n_test / (n_test.sum() - n_test)))
    baseline, k = next(iter(probas)), len(fold_list)
    scores = per_fold.set_index(["model", "fold"])
    differences, lines = [], []
    for name in probas:
        for metric in metrics if name != baseline else ():
            a, b = scores.loc[name, metric].to_numpy(), scores.loc[baseline, metric].to_numpy()
            d = _paired_difference(a, b, confidence=confidence, test_train_ratio=ratio)
            sign = -1 if metric in _LOWER_IS_BETTER else 1
            low, high = d["mean"] - d["half_width"], d["mean"] + d["half_width"]
            wins, beyond = int((sign * (a - b) > 0).sum()), bool(abs(d["mean"]) > d["half_width"])
            differences.append(
                {
                    "model": name,
                    "baseline": baseline,
                    "metric": metric,
                    "difference": d["mean"],
                    "se": d["se"],
                    "ci_low": low,
                    "ci_high": high,
                    "wins": wins,
                    "beyond_noise": beyond,
                }
            )
            better = name if sign * d["mean"] > 0 else baseline
            verdict = f"{better} is better, beyond" if beyond else "within"
            lines.append(
                f"{name} vs {baseline}: {metric.replace('_', ' ')}"
                f"{' (lower is better)' if sign < 0 else ''} {d['mean']:+.3f} ({100 * confidence:g} "
                f"% CI {low:+.3f} to {high:+.3f}; {name} better in {wins} of {k} folds): {verdict} "
                "the noise of the folds."
            )
    lines.append(
        f"({100 * confidence:g} % CI: corrected resampled t-test, Nadeau & Bengio 2003; "
        f"{k} folds, {k - 1} degrees of freedom, n_test / n_train = {ratio:.3f}.)"
    )
    table = per_fold.groupby("model", sort=False)[list(metrics)].mean()
    return _FoldComparison(per_fold, table, pd.DataFrame(differences), "\n".join(lines), ratio)


def beside_truth(
    estimates: Mapping[str, float],
    truth: float | Mapping[str, float | None] | None,
    *,
    metric: str = "overall accuracy",
) -> pd.DataFrame | None:
    """Estimates of a map's accuracy (CV, ``best_score_``, nested CV...) beside its truth.

    Parameters
    ----------
    estimates : mapping of str to float
        What each estimate is called -> its value.
    truth : float, mapping of str to float, or None
        The true value (e.g. :func:`true_map_accuracy`), or one per estimate (each model
        its own map; a name missing or None: no truth for that row); None without truth.
    metric : str, default "overall accuracy"
        The metric's name, for the sentence.

    Returns
    -------
    pandas.DataFrame or None
        One row per estimate: ``estimate``, ``truth`` and ``error`` (estimate - truth,
        positive = optimistic); ``attrs["sentence"]`` says whether the estimates are above
        or below the truth and names the closest and the farthest. None (and a logged
        sentence) when no row has a truth.

    Examples
    --------
    >>> table = beside_truth({"best_score_": 0.80, "nested CV": 0.74}, 0.75)
    >>> table.round(3)
                 estimate  truth  error
    best_score_      0.80   0.75   0.05
    nested CV        0.74   0.75  -0.01
    >>> print(table.attrs["sentence"])
    True overall accuracy 0.750: some estimates are above it, some below; closest nested CV \
(-0.010), farthest best_score_ (+0.050).
    >>> beside_truth({"nested CV": 0.74}, None) is None
    True
    >>> beside_truth({"forest": 0.74, "ensemble": 0.78}, {"forest": 0.75, "ensemble": 0.76}
    ...              ).attrs["sentence"]
    'Each estimate against its own true overall accuracy: some estimates are above it, some below; closest forest (-0.010), farthest ensemble (+0.020).'

    """
    truths = truth if isinstance(truth, Mapping) else dict.fromkeys(estimates, truth)
    table = pd.DataFrame({"estimate": pd.Series(estimates, dtype=float)})
    table["truth"] = pd.Series({name: truths.get(name) for name in estimates}, dtype=float)
    if table["truth"].isna().all():
        logger.warning(
            "No truth for these data: the %s estimates (%s) cannot be checked against it.",
            metric,
            ", ".join(estimates),
        )
        return None
    table["error"] = table["estimate"] - table["truth"]
    error = table["error"].map("{:+.3f}".format)
    closest, farthest = table["error"].abs().idxmin(), table["error"].abs().idxmax()
    true = f"True {metric} {table['truth'][closest]:.3f}"
    if table["truth"].nunique() > 1:
        true = f"Each estimate against its own true {metric}"
    side, signs = "some estimates are above it, some below", set(np.sign(table["error"].dropna()))
    if signs in ({-1}, {1}):
        word = "below it (pessimistic)" if -1 in signs else "above it (optimistic)"
        side = f"every estimate is {word}"
    table.attrs["sentence"] = (
        f"{true}: {side}; "
        f"closest {closest} ({error[closest]}), farthest {farthest} ({error[farthest]})."
        if table["error"].count() > 1
        else f"{true}: {closest} is off by {error[closest]}."
    )
    return table


# -- area-adjusted accuracy (Olofsson et al. 2014) -----------------------------------------
@dataclass
class _AreaAdjustedAccuracy:
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


def _ratio(numerator: NDArray, denominator: NDArray) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


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
    too_few = labels[(counts.sum(axis=0) < 2) & (areas > 0)]
    if len(too_few):
        raise ValueError(
            "Every mapped class needs at least 2 samples for a standard error; classes with "
            f"fewer: {list(too_few)}."
        )
    return counts, areas, labels


def area_adjusted_accuracy(
    confusion_counts: pd.DataFrame | AccuracyReport | ArrayLike,
    map_class_areas: pd.Series | Mapping[Hashable, float] | ArrayLike,
) -> _AreaAdjustedAccuracy:
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
    object
        ``error_matrix``, ``per_class``, ``overall_accuracy`` and ``overall_accuracy_se``
        (the attributes of ``_AreaAdjustedAccuracy``). Areas come in the unit of
        ``map_class_areas``; the 95 % confidence interval is the estimate plus or minus
        1.96 standard errors.

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
    shares = counts / mapped_samples.clip(min=1)[None, :]  # 0 in a class without samples
    proportions = shares * weights[None, :]  # p_ji, rows reference, columns map
    dof = np.where(mapped_samples > 1, mapped_samples - 1, np.nan)
    # variance terms W_i^2 q(1-q)/(n_i. - 1), per reference class j and map class i
    terms = np.nan_to_num(weights[None, :] ** 2 * shares * (1 - shares) / dof[None, :])

    hits = np.diag(proportions)
    reference_share = proportions.sum(axis=1)  # p_.j (area proportion of reference class j)
    users = _ratio(np.diag(counts), mapped_samples)
    producers = _ratio(hits, reference_share)
    users_se = np.sqrt(users * (1 - users) / dof)
    overall = float(hits.sum())
    overall_se = float(np.sqrt(np.nansum(weights**2 * users * (1 - users) / dof)))

    # producer's accuracy variance, Olofsson et al. 2014 eq. 7, with N_i. = mapped area
    mapped_total = areas / mapped_samples.clip(min=1)  # N_i. / n_i.
    reference_total = (counts * mapped_total[None, :]).sum(axis=1)  # N_.j
    off_diagonal = total_area**2 * (terms.sum(axis=1) - np.diag(terms))  # the sum over i != j
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
    error_matrix = _reference_by_map(proportions, labels)
    return _AreaAdjustedAccuracy(error_matrix, per_class, overall, overall_se)


# -- class maps ----------------------------------------------------------------------------
def _legend_table(paths: Sequence[str | os.PathLike], classes: ClassTable | None) -> ClassTable:
    """``classes``, else the classes of the maps' legends (the first map's first)."""
    if classes is not None:
        return classes
    records: dict[Hashable, dict] = {}
    for path in paths:
        with rasterio.open(path) as src:
            for record in ClassTable.from_tags(src.tags(), path).to_records():
                records.setdefault(record["code"], record)
    return ClassTable.from_records(records.values())


def _class_ids(
    values: NDArray, legend: ClassTable, ids: dict[Hashable, int], source: Any
) -> NDArray[np.int64]:
    """An integer id per pixel for its class code; ``ids`` (code -> id) grows as needed."""
    codes, inverse = legend.decode(values, source)
    return np.asarray([ids.setdefault(c, len(ids)) for c in codes], dtype=np.int64)[inverse]


def _strips(src: Any, pixels: int = 1 << 20) -> list[rasterio.windows.Window]:
    """Full-width windows of about ``pixels`` pixels: bounded memory for whole rasters."""
    return _windows(src.width, src.height, max(1, pixels // max(1, src.width)))


def _read_classes(
    paths: Sequence[str | os.PathLike], ids: dict[Hashable, int], classes: ClassTable | None
) -> Iterable[list[NDArray]]:
    """Strips of maps on one grid, the pixels valid in every map: the first two maps are
    class maps, as class ids (``ids``: code -> id, grown as codes appear), the others values."""
    check_same_grid({str(p): p for p in paths})
    with contextlib.ExitStack() as stack:
        sources = [stack.enter_context(rasterio.open(p)) for p in paths]
        legends = [ClassTable.of_map(sources[i].tags(), paths[i], classes) for i in (0, 1)]
        for window in _strips(sources[0]):
            data = [s.read(1, window=window, masked=True) for s in sources]
            valid = ~np.logical_or.reduce([np.ma.getmaskarray(d) for d in data])
            data = [np.asarray(d)[valid] for d in data]
            yield [_class_ids(data[i], legends[i], ids, paths[i]) for i in (0, 1)] + data[2:]


def _pair_counts(
    first: str | os.PathLike, second: str | os.PathLike, classes: ClassTable | None = None
) -> Counter:
    """Pixels per (class of ``first``, class of ``second``), over pixels valid in both."""
    counts: Counter = Counter()
    ids: dict[Hashable, int] = {}
    for a, b in _read_classes([first, second], ids, classes):
        k = len(ids)  # the ids of this strip are < k
        n = np.bincount(a * k + b)
        found = np.flatnonzero(n)
        rows, cols = divmod(found, k)
        pairs = zip(rows.tolist(), cols.tolist(), strict=True)
        counts.update(dict(zip(pairs, n[found].tolist(), strict=True)))
    codes = list(ids)
    return Counter({(codes[a], codes[b]): n for (a, b), n in counts.items()})


def _path_lists(*maps: Any) -> list[list]:
    """Each argument as a list of paths (one path, or an iterable of paths), as many each."""
    lists = [[m] if isinstance(m, str | os.PathLike) else list(m) for m in maps]
    if len({len(paths) for paths in lists}) > 1:
        raise ValueError(f"Give as many maps of each kind; got {[len(p) for p in lists]}.")
    return lists


def map_accuracy(
    predicted: str | os.PathLike | Iterable[str | os.PathLike],
    truth: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    classes: ClassTable | None = None,
) -> AccuracyReport:
    """The true accuracy of class maps, pixel by pixel against reference maps.

    Real data never allow this: only simulated data have a reference map for every
    pixel. Pixels that are nodata in either map are left out; the maps are read in
    strips, so memory stays bounded.

    Parameters
    ----------
    predicted, truth : path-like or iterables of path-like
        One class map and its truth map, or lists of pairs of class maps (``dominant_class.tif`` and the matching truth map), on the
        same grids. Their legends (:meth:`ClassTable.from_tags`) map pixel values to
        class codes.
    classes : ClassTable, optional
        Names and colours for the report.

    Returns
    -------
    AccuracyReport
        Over all pixels of all pairs (each pixel weighs one); ``summary["n_samples"]``
        is the number of pixels compared.

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> ds = load_dataset()
    >>> truth = [ds.truth("9529", 2018)]
    >>> map_accuracy(truth, truth).summary["overall_accuracy"]
    1.0
    >>> map_accuracy(truth[0], truth[0]).summary["overall_accuracy"]  # one pair
    1.0
    """
    pairs: Counter = Counter()
    for pred_path, truth_path in zip(*_path_lists(predicted, truth), strict=True):
        pairs.update(_pair_counts(truth_path, pred_path, classes))
    if not pairs:
        raise ValueError("No valid pixels to compare; are the maps all nodata?")
    truth_codes, map_codes = zip(*pairs, strict=True)
    weights = list(pairs.values())
    report = accuracy_report(truth_codes, map_codes, classes=classes, sample_weight=weights)
    report.summary["n_samples"] = sum(pairs.values())  # pixels, not (truth, map) pairs
    return report


# -- against the truth maps ----------------------------------------------------------------
def truth_at(dataset: Dataset, points: pd.DataFrame) -> pd.Series | None:
    """The true class at each point, from the truth map of its survey year.

    Each point is projected to the truth maps' CRS and read in the first tile that holds
    it (as :func:`odse_tutorial.overlay.overlay_samples` does).

    Parameters
    ----------
    dataset : Dataset
        A dataset with truth maps (:attr:`Dataset.has_truth`).
    points : GeoDataFrame
        Points with a ``year`` column (as the overlay returns) or the dataset's date column.

    Returns
    -------
    pandas.Series or None
        Index of ``points``, name ``truth``: the true class code, missing (NA) where no
        truth map holds the point or the truth is nodata. None (and a logged sentence)
        without truth maps.

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> ds = load_dataset()
    >>> points = ds.samples.head(3).assign(year=2018)
    >>> bool(truth_at(ds, points).notna().all())
    True
    """
    if not dataset.has_truth:
        logger.warning("No truth maps for this dataset: the true class at the points is unknown.")
        return None
    years = points["year"] if "year" in points else survey_year(points, dataset.columns.date)
    truth = pd.Series(pd.NA, index=points.index, dtype=object, name="truth")
    for tile, year in itertools.product(dataset.tiles, np.unique(years)):
        todo = (years == year).to_numpy() & truth.isna().to_numpy()
        if not todo.any() or int(year) not in dataset.truth_maps[str(tile)]:
            continue
        path = dataset.truth(tile, year)
        with rasterio.open(path) as src:
            where = points.geometry[todo]
            where = where if _same_crs(where.crs, src.crs) else where.to_crs(src.crs.to_wkt())
            values = read_at_points(src, where.x, where.y)
            codes, inverse = ClassTable.from_tags(src.tags(), path).decode(values.compressed())
        found = np.flatnonzero(todo)[~np.ma.getmaskarray(values)]
        truth.iloc[found] = np.asarray(codes, dtype=object)[inverse]
    return truth.convert_dtypes()


def label_agreement(dataset: Dataset, samples: pd.DataFrame) -> pd.DataFrame | None:
    """How often the samples' labels agree with the true class (label noise), per class.

    Parameters
    ----------
    dataset : Dataset
        A dataset with truth maps; its class column names the labels.
    samples : GeoDataFrame
        Labelled points with a ``year`` (or date) column, e.g. the overlay's table.

    Returns
    -------
    pandas.DataFrame or None
        One row per label class and a last row ``all``: ``samples`` (with a true class)
        and ``agree`` (share whose label is the true class). None (and a logged sentence)
        without truth maps.

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> ds = load_dataset()
    >>> table = label_agreement(ds, ds.samples)
    >>> bool(0.5 < table.loc["all", "agree"] <= 1)
    True
    """
    truth = truth_at(dataset, samples)
    if truth is None:
        return None
    labels = samples[dataset.columns.class_code][truth.notna()]
    agree = (labels == truth[truth.notna()]).astype(float)
    table = agree.groupby(labels).agg(["size", "mean"])
    table.loc["all"] = [len(agree), agree.mean()]
    return table.set_axis(["samples", "agree"], axis=1).astype({"samples": int})


def true_map_accuracy(maps: Any, dataset: Dataset) -> float | None:
    """Overall accuracy of every dominant-class map of ``maps`` against the truth maps.

    Parameters
    ----------
    maps : MapCatalogue
        The maps of :func:`odse_tutorial.prediction.predict_maps` (``.tiles``, ``.years``,
        ``.path``).
    dataset : Dataset
        The dataset the maps were made of.

    Returns
    -------
    float or None
        Pixels pooled over all tiles and years (:func:`map_accuracy`); None (and a logged
        sentence) without truth maps.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from odse_tutorial.datasets import load_dataset
    >>> ds = load_dataset()
    >>> maps = SimpleNamespace(tiles=["9529"], years=[2018], path=lambda t, y, p: ds.truth(t, y))
    >>> true_map_accuracy(maps, ds)  # the truth against itself
    1.0
    """
    if not dataset.has_truth:
        logger.warning("No truth maps for this dataset: the true accuracy of its maps is unknown.")
        return None
    pairs = list(itertools.product(maps.tiles, maps.years))
    report = map_accuracy(
        [maps.path(t, y, "dominant_class") for t, y in pairs], [dataset.truth(*p) for p in pairs]
    )
    return report.summary["overall_accuracy"]


def error_rate_by_uncertainty(
    uncertainty_path: str | os.PathLike | Sequence[str | os.PathLike],
    predicted_path: str | os.PathLike | Sequence[str | os.PathLike],
    truth_path: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    n_bins: int = 10,
    bins: ArrayLike | None = None,
) -> pd.DataFrame:
    """Share of wrongly mapped pixels per bin of uncertainty (maps with a known truth).

    Reads the maps in full-resolution strips; pixels that are nodata in any of them are
    left out. The bins are fitted to the values: equal widths of whole percents from 0
    to the largest uncertainty present (which falls in the last bin), at most
    ``n_bins`` of them, so that maps whose uncertainty stays low still get several bins.

    Parameters
    ----------
    uncertainty_path : path-like or sequence of path-like
        ``uncertainty.tif`` (or ``uncertainty_{code}.tif``), percent; a sequence pools
        several tiles or years.
    predicted_path : path-like or sequence of path-like
        ``dominant_class.tif`` of the same tile(s) and year(s).
    truth_path : path-like or sequence of path-like
        The reference map(s) of those tiles and years.
    n_bins : int, default 10
        The largest number of bins.
    bins : array-like of float, optional
        Explicit increasing bin edges for any value map (e.g. the dissimilarity index,
        ``[0, threshold, np.inf]``): bin i is ``[edge_i, edge_i+1)``, the last closed;
        values outside the edges are left out, and ``n_bins`` and the 0-100 check do not
        apply.

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``lower``, ``upper`` (percent), ``n_pixels``, ``n_errors``,
        ``error_rate`` (0-1, NaN in empty bins) and ``share_of_pixels`` (0-1).

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()
    >>> uncertainty = data.layers("9529", 2018)["blue_summer"]  # stands in for a 0-100 % map
    >>> predicted, truth = data.truth("9529", 2015), data.truth("9529", 2018)
    >>> table = error_rate_by_uncertainty(uncertainty, predicted, truth, n_bins=5)
    >>> table[["lower", "upper", "n_pixels"]].astype(int).values.tolist()
    [[0, 7, 22425], [7, 14, 34012], [14, 21, 5766], [21, 28, 3252], [28, 31, 81]]
    >>> error_rate_by_uncertainty(uncertainty, predicted, truth, bins=[0, 7, 100]).n_pixels.tolist()
    [22425, 43111]
    """
    if bins is not None:
        edges = np.asarray(bins, dtype=float)
        n, errors, _ = _errors_by_value(uncertainty_path, predicted_path, truth_path, edges)
        return _bin_table(edges, n, errors)
    _check_bins(n_bins)
    n, errors, (low, high) = _errors_by_value(uncertainty_path, predicted_path, truth_path, _FINE)
    if low < 0 or high > 100:
        raise ValueError(
            "The uncertainty maps have values outside 0-100; pass maps in percent "
            "(uncertainty.tif or uncertainty_{code}.tif), or bins= for other values."
        )
    return _percent_bins(n, errors, n_bins)


def _percent_bins(n: NDArray, errors: NDArray, n_bins: int) -> pd.DataFrame:
    """The table of :func:`error_rate_by_uncertainty` from a histogram of 0.1 % bins."""
    n, errors = n.reshape(-1, 10).sum(axis=1), errors.reshape(-1, 10).sum(axis=1)  # whole %
    top = int(np.flatnonzero(n)[-1]) if n.any() else 0
    width = max(1, math.ceil(top / n_bins))  # whole percents; the last bin holds ``top``
    count = max(1, math.ceil(top / width))
    group = np.minimum(np.arange(101) // width, count - 1)
    n, errors = np.bincount(group, n).astype(np.int64), np.bincount(group, errors).astype(np.int64)
    edges = np.minimum(np.arange(count + 1) * width, max(top, 1)).astype(float)
    return _bin_table(edges, n, errors)


_FINE = np.arange(1011) / 10  # bins of 0.1 % from 0 to 101 %: a value v falls in floor(10 v)


def _bin_table(edges: NDArray, n: NDArray, errors: NDArray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lower": edges[:-1],
            "upper": edges[1:],
            "n_pixels": n,
            "n_errors": errors,
            "error_rate": _ratio(errors, n),
            "share_of_pixels": n / max(int(n.sum()), 1),
        }
    )


def _errors_by_value(
    value_paths: Any, predicted: Any, truth: Any, edges: NDArray
) -> tuple[NDArray[np.int64], NDArray[np.int64], tuple[float, float]]:
    """Pixels and wrongly mapped pixels per bin of a value map (bins ``[edge_i,
    edge_i+1)``, the last closed), over pixels valid in every map, read in strips, and
    the values' range. A value "map" given as a list of ``probability_{code}.tif`` paths is
    their normalized entropy in percent."""
    n, errors = np.zeros(len(edges) - 1, np.int64), np.zeros(len(edges) - 1, np.int64)
    low, high = np.inf, -np.inf
    for v_paths, pred_path, true_path in zip(
        *_path_lists(value_paths, predicted, truth), strict=True
    ):
        v_paths = list(v_paths) if isinstance(v_paths, list | tuple) else [v_paths]
        strips = _read_classes([pred_path, true_path, *v_paths], {}, None)
        with contextlib.closing(strips):  # the maps are closed on errors too
            for pred, true, *data in strips:
                values = np.stack(data, axis=1).astype(float)
                values = values[:, 0] if len(data) == 1 else 100 * normalized_entropy(values / 100)
                low, high = values.min(initial=low), values.max(initial=high)
                inside = (values >= edges[0]) & (values <= edges[-1])
                where = np.minimum(np.searchsorted(edges, values[inside], "right") - 1, len(n) - 1)
                n += np.bincount(where, minlength=len(n))
                errors += np.bincount(where, (pred != true)[inside], len(n)).astype(np.int64)
    return n, errors, (low, high)


@dataclass
class _Check:
    """A map checked against the truth: a table, its headline numbers (``summary``, also
    readable as attributes, and ``to_dict()`` for ``metrics.json``) and a sentence."""

    table: pd.DataFrame
    summary: dict
    sentence: str
    by_bin: pd.DataFrame | None = None

    def __getattr__(self, name: str) -> Any:
        summary = self.__dict__.get("summary", {})  # not yet set while unpickling
        if name.startswith("__") or name not in summary:
            raise AttributeError(name)
        return summary[name]

    def to_dict(self) -> dict:
        """The headline numbers, JSON-ready."""
        return _plain(self.summary)

    def __str__(self) -> str:
        return self.sentence

    def _repr_html_(self) -> str:
        table = self.table.to_html(float_format=_FLOAT_FORMAT)
        return f"<p>{html.escape(self.sentence)}</p>{table}"


def uncertainty_against_error(
    maps: Any,
    dataset: Dataset,
    *,
    measures: Sequence[str] | Mapping[str, str] = ("uncertainty",),
    n_bins: int = 10,
) -> _Check | None:
    """How well a map's uncertainty points at its errors, where the truth is known.

    Pools every tile and year of ``maps`` against the truth maps (pixels valid in every
    map, read in strips). Per measure: the ROC AUC of the measure as a predictor of a
    wrongly mapped pixel (0.5 = no better than chance; from a histogram of 0.1 % bins),
    the share of the errors in the most uncertain tenth of the pixels, and whether the
    error rate rises from bin to bin (bins of :func:`error_rate_by_uncertainty` with at
    least 100 pixels).

    Parameters
    ----------
    maps : MapCatalogue
        The maps of :func:`odse_tutorial.prediction.predict_maps`.
    dataset : Dataset
        The dataset the maps were made of.
    measures : sequence of str or mapping of str to str
        ``"uncertainty"`` (``uncertainty.tif``) and / or ``"entropy"`` (the normalized
        entropy of the ``probability_{code}.tif`` maps); a mapping gives each a name
        (``{"learners' spread": "uncertainty"}``).
    n_bins : int, default 10
        The largest number of bins of ``attrs["by_bin"]``.

    Returns
    -------
    object or None
        ``table`` (index measure: ``roc_auc``, ``top_decile_error_share``,
        ``error_rate_rises``, ``n_pixels``), ``summary`` (``map_accuracy``, the share of
        the pixels mapped right, and the first measure's row; also attributes, and
        ``to_dict()``), ``by_bin`` (the first measure's error rate per bin) and
        ``sentence``. None (and a logged sentence) without truth maps.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from odse_tutorial.datasets import load_dataset
    >>> ds = load_dataset()
    >>> blue = ds.layers("9529", 2018)["blue_summer"]  # stands in for a 0-100 % map
    >>> maps = SimpleNamespace(tiles=["9529"], years=[2018], classes=ds.classes,
    ...     path=lambda t, y, p: ds.truth(t, 2015) if p == "dominant_class" else blue)
    >>> check = uncertainty_against_error(maps, ds)
    >>> round(check.map_accuracy, 3), bool(check.table.loc["uncertainty", "roc_auc"] < 1)
    (0.954, True)
    """
    if not dataset.has_truth:
        logger.warning(
            "This dataset has no truth maps: the uncertainty cannot be checked pixel by pixel."
        )
        return None
    _check_bins(n_bins)
    measures = measures if isinstance(measures, Mapping) else {m: m for m in measures}
    pairs = list(itertools.product(maps.tiles, maps.years))
    predicted = [maps.path(*p, "dominant_class") for p in pairs]
    truth = [dataset.truth(*p) for p in pairs]
    rows, by_bin = {}, None
    for name, kind in measures.items():
        if kind not in ("uncertainty", "entropy"):
            raise ValueError(f"A measure is 'uncertainty' or 'entropy', got {kind!r}.")
        values = [
            maps.path(*p, "uncertainty")
            if kind == "uncertainty"
            else [maps.path(*p, "probability", c) for c in maps.classes.codes]
            for p in pairs
        ]
        n, errors, _ = _errors_by_value(values, predicted, truth, _FINE)
        right = n - errors
        below = np.cumsum(right) - right  # right pixels with a lower value
        auc = float((errors * (below + right / 2)).sum() / max(errors.sum() * right.sum(), 1))
        top = int(np.searchsorted(np.cumsum(n), 0.9 * n.sum()))  # bin of the 90th percentile
        binned = _percent_bins(n, errors, n_bins)
        by_bin = binned if by_bin is None else by_bin  # the first measure's
        rates = binned.error_rate[binned.n_pixels >= 100]
        rows[name] = {
            "roc_auc": auc,
            "top_decile_error_share": errors[top:].sum() / max(errors.sum(), 1),
            "error_rate_rises": bool(np.all(np.diff(rates) > 0)),
            "n_pixels": int(n.sum()),
        }
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("measure")
    first, accuracy = table.iloc[0], 1 - by_bin.n_errors.sum() / max(by_bin.n_pixels.sum(), 1)
    sentence = (
        f"True accuracy of all {len(pairs)} maps: {accuracy:.3f}. ROC AUC of the {table.index[0]} "
        f"as a predictor of error: {first.roc_auc:.2f}; its most uncertain tenth of the pixels "
        f"holds {first.top_decile_error_share:.0%} of the errors; the error rate "
        + ("rises in every bin." if first.error_rate_rises else "does not rise in every bin.")
    )
    if len(table) > 1:
        second, gap = table.index[1], first.roc_auc - table.roc_auc.iloc[1]
        verdict = "about as good a" if abs(gap) < 0.02 else ("a better" if gap > 0 else "a worse")
        sentence += (
            f" On the same errors, the {table.index[0]} (AUC {first.roc_auc:.2f}) is {verdict} "
            f"predictor of the map's errors than the {second} (AUC {table.roc_auc.iloc[1]:.2f})."
        )
    summary = {"map_accuracy": float(accuracy), **table.iloc[0].drop("n_pixels").to_dict()}
    return _Check(table, summary, sentence, by_bin)


def _class_map(path: str | os.PathLike, ids: dict[Hashable, int]) -> NDArray[np.int64]:
    """A whole class map as class ids (``ids``: code -> id, grown as codes appear), -1 nodata."""
    with rasterio.open(path) as src:
        data, legend = src.read(1, masked=True), ClassTable.from_tags(src.tags(), path)
    out = np.full(data.shape, -1, dtype=np.int64)
    valid = ~np.ma.getmaskarray(data)
    out[valid] = _class_ids(np.asarray(data)[valid], legend, ids, path)
    return out


def change_against_truth(
    maps: Any, dataset: Dataset, *, rule: Callable[[NDArray], NDArray] | None = None
) -> _Check | None:
    """Mapped against true land-cover change between consecutive years, every tile.

    A pixel changed when its class differs from the year before. Per tile and pair of
    years: ``mapped_share`` and ``true_share`` (of the pixels valid in the four maps),
    ``spurious_share`` (of the mapped change, the share that did not truly change) and
    ``missed_share`` (of the true change, the share the maps missed). Whole maps are read.

    Parameters
    ----------
    maps : MapCatalogue
        The maps of :func:`odse_tutorial.prediction.predict_maps`, two years or more.
    dataset : Dataset
        The dataset the maps were made of, with truth maps.
    rule : callable, optional
        A rule that maps instead of ``dominant_class``: it gets one tile's probabilities in
        percent, int16 array (year, class, row, col) in ``maps.classes`` order (nodata 0),
        and returns class positions in that order, (year, row, col).

    Returns
    -------
    object or None
        ``table`` (index tile, from, to: the four shares), ``summary`` (the first tile's
        last pair: ``tile``, ``year_from``, ``year_to`` and its shares, and ``all_pairs``,
        the mean shares and ``map_accuracy`` of the (rule's) maps against the truth; also
        ``to_dict()``) and ``sentence``. None (and a logged sentence) without truth maps or
        with one year.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from odse_tutorial.datasets import load_dataset
    >>> ds = load_dataset()
    >>> maps = SimpleNamespace(tiles=["9529"], years=[2015, 2018], classes=ds.classes,
    ...                        path=lambda t, y, p: ds.truth(t, y))  # the truth as the map
    >>> change_against_truth(maps, ds).summary["all_pairs"]["spurious_share"]
    0.0
    """
    years, why = list(maps.years), []
    why += [] if dataset.has_truth else ["no truth maps"]
    why += [f"one year ({years[0]})"] if len(years) < 2 else []
    if why:
        logger.warning(
            "Change against the truth needs truth maps and at least two years, and this "
            "dataset has %s: the change tables and the remedy are skipped.",
            " and ".join(why),
        )
        return None
    codes = list(maps.classes.codes)
    ids, rows, hits, n_valid = {c: i for i, c in enumerate(codes)}, [], 0, 0
    for tile in maps.tiles:
        mapped = np.stack([_class_map(maps.path(tile, y, "dominant_class"), ids) for y in years])
        true = np.stack([_class_map(dataset.truth(tile, y), ids) for y in years])
        if rule is not None:
            proba = [[maps.path(tile, y, "probability", c) for c in codes] for y in years]
            proba = np.array([[_read_percent(p) for p in year] for year in proba], np.int16)
            mapped = np.where(mapped >= 0, rule(proba), -1)
        ok = (mapped >= 0) & (true >= 0)
        hits, n_valid = hits + (mapped == true)[ok].sum(), n_valid + ok.sum()
        for a, (before, after) in enumerate(itertools.pairwise(years)):
            valid = ok[a] & ok[a + 1]
            m, t = (mapped[a] != mapped[a + 1])[valid], (true[a] != true[a + 1])[valid]
            rows.append(
                {
                    "tile": tile,
                    "from": before,
                    "to": after,
                    "mapped_share": m.mean(),
                    "true_share": t.mean(),
                    "spurious_share": (m & ~t).sum() / max(m.sum(), 1),
                    "missed_share": (t & ~m).sum() / max(t.sum(), 1),
                }
            )
    table = pd.DataFrame(rows).set_index(["tile", "from", "to"])
    mean = {**table.mean().to_dict(), "map_accuracy": hits / max(n_valid, 1)}
    summary = {
        "tile": maps.tiles[0],
        "year_from": years[-2],
        "year_to": years[-1],
        **table.loc[maps.tiles[0]].iloc[-1].to_dict(),
        "all_pairs": mean,
    }
    sentence = (
        f"Over all tiles and pairs of years, the maps show {mean['mapped_share']:.1%} of the "
        f"pixels as changed where {mean['true_share']:.1%} truly changed; "
        f"{mean['spurious_share']:.0%} of the mapped change is spurious and "
        f"{mean['missed_share']:.0%} of the true change is missed. True accuracy of these "
        f"{len(maps.tiles) * len(years)} maps: {mean['map_accuracy']:.3f}."
    )
    return _Check(table, summary, sentence)


def _read_percent(path: str | os.PathLike) -> NDArray:
    with rasterio.open(path) as src:
        return src.read(1, masked=True).filled(0)


# -- calibration ---------------------------------------------------------------------------
def _check_bins(n_bins: Any) -> None:
    if not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}.")


def reliability_table(
    y_true: ArrayLike, y_proba: ArrayLike, labels: ArrayLike, *, n_bins: int = 10
) -> pd.DataFrame:
    """Calibration of the predicted class's probability, in equal-width bins.

    For each sample the *confidence* is the probability of its predicted (most
    probable) class; it is *correct* when that class is the reference class. Bins are
    ``(lower, upper]`` (the first also holds 0), as in
    :func:`sklearn.calibration.calibration_curve`, which computes the mean confidence
    and the accuracy of each bin (top-label calibration). A calibrated model is right in
    80 % of the cases where it says 80 %.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Reference class codes.
    y_proba : array-like of shape (n_samples, n_classes)
        Class probabilities, columns in the order of ``labels``.
    labels : array-like of shape (n_classes,)
        The class of each column (the model's ``classes_``).
    n_bins : int, default 10
        Number of bins between 0 and 1.

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``lower``, ``upper``, ``n_samples``, ``mean_confidence`` and
        ``accuracy`` (NaN in empty bins).

    Examples
    --------
    >>> table = reliability_table([1, 2], [[0.9, 0.1], [0.65, 0.35]], [1, 2], n_bins=2)
    >>> table[["n_samples", "mean_confidence", "accuracy"]].values.tolist()
    [[0.0, nan, nan], [2.0, 0.775, 0.5]]
    """
    _check_bins(n_bins)
    proba, truth, labels = np.asarray(y_proba, float), np.asarray(y_true), np.asarray(labels)
    if proba.ndim != 2 or proba.shape[1] != len(labels):
        raise ValueError(
            f"y_proba must have one column per class of labels ({len(labels)}), got shape "
            f"{proba.shape}."
        )
    confidence = proba.max(axis=1)
    correct = labels[proba.argmax(axis=1)] == truth
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    n = np.bincount(np.searchsorted(edges[1:-1], confidence), minlength=n_bins)
    accuracy, mean_confidence = np.full(n_bins, np.nan), np.full(n_bins, np.nan)
    accuracy[n > 0], mean_confidence[n > 0] = calibration_curve(correct, confidence, n_bins=n_bins)
    return pd.DataFrame(
        {
            "lower": edges[:-1],
            "upper": edges[1:],
            "n_samples": n.astype(float),
            "mean_confidence": mean_confidence,
            "accuracy": accuracy,
        }
    )


def expected_calibration_error(
    y_true: ArrayLike, y_proba: ArrayLike, labels: ArrayLike, *, n_bins: int = 10
) -> float:
    """Expected calibration error of the predicted class's probability.

    The mean over bins of ``|accuracy - mean confidence|``, weighted by the share of
    samples in the bin (see :func:`reliability_table`): 0 for a calibrated model.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Reference class codes.
    y_proba : array-like of shape (n_samples, n_classes)
        Class probabilities, columns in the order of ``labels``.
    labels : array-like of shape (n_classes,)
        The class of each column.
    n_bins : int, default 10
        Number of equal-width bins.

    Returns
    -------
    float

    Examples
    --------
    >>> round(expected_calibration_error([1, 2], [[0.9, 0.1], [0.65, 0.35]], [1, 2], n_bins=2), 6)
    0.275
    """
    table = reliability_table(y_true, y_proba, labels, n_bins=n_bins).dropna()
    gap = (table.accuracy - table.mean_confidence).abs()
    return float(np.average(gap, weights=table.n_samples))


# -- metrics.json --------------------------------------------------------------------------
def write_metrics(
    output_dir: str | os.PathLike,
    *,
    notebook: str,
    dataset: str,
    cv: str,
    report: AccuracyReport,
    maps: Any = None,
    **extra: Any,
) -> Path:
    """Write a notebook's headline results to ``output_dir/metrics.json`` (atomically).

    The file is strict JSON (NaN becomes ``null``) and appears complete or not at all.

    Parameters
    ----------
    output_dir : path-like
        The notebook's output folder; map paths are written relative to it.
    notebook, dataset, cv : str
        The notebook's name, the dataset's name and a description of the folds.
    report : AccuracyReport
        The cross-validated accuracy report (:func:`accuracy_report`).
    maps : MapCatalogue, optional
        The maps of :func:`odse_tutorial.prediction.predict_maps` (anything with
        ``.paths()``).
    **extra
        More JSON-serialisable entries (timings, true map accuracy...); entries that are
        None are left out (a helper that had no truth returned None).

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> report = accuracy_report([1, 1, 2], [1, 2, 2])
    >>> path = write_metrics(folder, notebook="demo", dataset="simulated", cv="none",
    ...                      report=report, seconds=float("nan"))
    >>> json.loads(path.read_text())["seconds"] is None
    True
    """
    output_dir = Path(output_dir)
    paths = [] if maps is None else [Path(p) for p in maps.paths()]
    summary = report.summary
    metrics = {
        "notebook": notebook,
        "dataset": dataset,
        "cv": cv,
        "n_samples": int(summary["n_samples"]),
        "n_classes": len(report.classes),
        "overall_accuracy": float(summary["overall_accuracy"]),
        "f1_weighted": float(summary["f1_weighted"]),
        "log_loss": float(summary["log_loss"]) if "log_loss" in summary else None,
        "maps": [p.resolve().relative_to(output_dir.resolve()).as_posix() for p in paths],
        **{key: value for key, value in extra.items() if value is not None},
    }
    path = output_dir / "metrics.json"
    text = json.dumps(_plain(metrics), indent=2, allow_nan=False)
    with atomic_output(path) as tmp:
        tmp.write_text(text + "\n")
    return path


def _plain(value: Any) -> Any:
    """JSON-ready values: numpy scalars to Python, NaN to None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
