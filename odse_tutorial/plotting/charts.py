"""Charts: confusion matrix, accuracy per class, calibration, errors by uncertainty,
feature importance, precision-recall curves and nearest-neighbour distances.

Charts draw results computed by :mod:`odse_tutorial.evaluation` (or call it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import ConfusionMatrixDisplay, average_precision_score, precision_recall_curve

from odse_tutorial import evaluation
from odse_tutorial.plotting._base import ERROR_COLOUR, _axes, _plain_log


# -- accuracy ------------------------------------------------------------------------------
def _normalised(counts: NDArray[np.float64], normalize: str | None) -> tuple[NDArray, str]:
    if normalize is None:
        return counts, "Samples"
    axis = {"true": 1, "pred": 0}.get(normalize)
    if axis is None:
        raise ValueError(f"normalize must be None, 'true' or 'pred', got {normalize!r}.")
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = 100 * counts / counts.sum(axis=axis, keepdims=True)
    label = "reference samples (row)" if normalize == "true" else "mapped samples (column)"
    return shares, f"Share of {label} (%)"


def _cell_text(value: float, normalize: str | None, integers: bool) -> str:
    if np.isnan(value):
        return "–"
    if normalize is None:
        return f"{value:.0f}" if integers else f"{value:.1f}"
    return "<1" if 0 < value < 0.5 else f"{value:.0f}"


def plot_confusion_matrix(
    report_or_confusion: Any,
    *,
    normalize: str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str = "Blues",
) -> Axes:
    """Draw an annotated confusion (error) matrix: reference in rows, map in columns.

    Parameters
    ----------
    report_or_confusion : AccuracyReport or pandas.DataFrame
        A report (its ``confusion``), or its ``confusion_table()`` (the ``total`` row
        and column are dropped).
    normalize : {None, "true", "pred"}, default None
        ``None``: counts. ``"true"``: percent of each row (the diagonal is the
        producer's accuracy). ``"pred"``: percent of each column (the diagonal is the
        users' accuracy).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure sized for the number of classes by default.
    title : str, optional
        Defaults to what the cells show.
    cmap : str, default "Blues"
        Colour map of the cells.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from odse_tutorial.evaluation import accuracy_report
    >>> report = accuracy_report([1, 1, 2, 2], [1, 2, 2, 2])
    >>> ax = plot_confusion_matrix(report)
    >>> [t.get_text() for t in ax.texts]
    ['1', '1', '0', '2']
    """
    confusion = getattr(report_or_confusion, "confusion", report_or_confusion)
    confusion = confusion.drop(index="total", columns="total", errors="ignore")
    counts = confusion.to_numpy(dtype=np.float64)
    values, label = _normalised(counts, normalize)
    n = len(confusion)
    ax = _axes(ax, (3.0 + 0.6 * n, 2.2 + 0.55 * n))
    display = ConfusionMatrixDisplay(values, display_labels=[str(c) for c in confusion.columns])
    display.plot(ax=ax, cmap=cmap, colorbar=False, im_kw={"vmin": 0},
                 text_kw={"fontsize": 9 if n <= 8 else 8})  # fmt: skip
    integers = bool(np.all(np.equal(np.mod(counts, 1), 0)))
    top = np.nanmax(values) if np.isfinite(values).any() else 1.0
    for (i, j), value in np.ndenumerate(values):
        colour = "white" if value > 0.55 * top else ("#999999" if value == 0 else "#222222")
        display.text_[i, j].set(text=_cell_text(value, normalize, integers), color=colour)
    plt.setp(ax.get_xticklabels(), rotation=40, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(n), [str(r) for r in confusion.index])
    ax.set(xlabel="Map (predicted) class", ylabel="Reference class")
    ax.tick_params(length=0)
    ax.figure.colorbar(display.im_, ax=ax, shrink=0.8, pad=0.02).set_label(label)
    if title is None:
        title = {
            None: "Confusion matrix (sample counts)",
            "true": "Confusion matrix, % of each reference class\n(diagonal: producer's accuracy)",
            "pred": "Confusion matrix, % of each map class\n(diagonal: users' accuracy)",
        }[normalize]
    ax.set_title(title)
    return ax


def plot_per_class_accuracy(
    report: Any, *, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Users' and producer's accuracy of each class, as grouped horizontal bars.

    Users' accuracy is the precision of a class (1 - commission error: of the pixels
    mapped as the class, the share that are); producer's accuracy is its recall
    (1 - omission error: of the reference samples of the class, the share mapped as
    it). A dashed line marks the overall accuracy.

    Parameters
    ----------
    report : AccuracyReport
        From :func:`odse_tutorial.evaluation.accuracy_report`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to "Accuracy per class".

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from odse_tutorial.evaluation import accuracy_report
    >>> ax = plot_per_class_accuracy(accuracy_report([1, 1, 2, 2], [1, 2, 2, 2]))
    >>> [round(p.get_width()) for p in ax.patches]
    [100, 67, 50, 100]
    """
    table = report.per_class
    n = len(table)
    ax = _axes(ax, (8.0, 1.6 + 0.45 * n))
    y, height = np.arange(n), 0.4
    series = [
        ("users_accuracy", "Users' accuracy = precision (1 − commission error)", "#0072b2"),
        ("producers_accuracy", "Producer's accuracy = recall (1 − omission error)", "#e69f00"),
    ]
    for offset, (column, label, colour) in zip((-height / 2, height / 2), series, strict=True):
        values = table[column].to_numpy(dtype=np.float64) * 100
        ax.barh(y + offset, np.nan_to_num(values), height, label=label, color=colour)
        for yi in y[np.isnan(values)]:
            ax.text(1, yi + offset, "n/a", va="center", fontsize=8, color="#666666")
    overall = report.summary.get("overall_accuracy")
    if overall is not None:
        ax.axvline(100 * overall, color="#333333", linestyle="--", linewidth=1,
                   label=f"Overall accuracy ({100 * overall:.0f} %)")  # fmt: skip
    labels = [f"{r.code} {r.name} (n = {r.support:g})" for r in table.itertuples()]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set(xlim=(0, 100), xlabel="Accuracy (%)")
    ax.grid(axis="x")
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=handles[1:] + handles[:1] if overall is not None else handles,
              loc="upper center", bbox_to_anchor=(0.5, -0.1 - 0.3 / max(n, 1)))  # fmt: skip
    ax.set_title("Accuracy per class" if title is None else title)
    return ax


# -- calibration and errors -----------------------------------------------------------------
def _binned_chart(ax: Axes, centres, share, x, y, **how: Any) -> Axes:
    """Points ``x, y`` (%) over grey bars of each bin's ``share`` (%, right axis)."""
    hist, right = ax.twinx(), how.get("right", 100.0)
    label = f"{how['what']} (right axis)"
    hist.bar(centres, share, width=0.9 * right / len(share), color="#d9d9d9", label=label)
    hist.set_ylim(0, max(float(share.max()) * 3, 1.0))  # low bars; ticks only up to the tallest
    hist.set_yticks([t for t in hist.get_yticks() if t <= min(100.0, float(share.max()) * 1.2)])
    hist.set_ylabel(f"{how['what']} (%)", color="#777777")
    hist.tick_params(axis="y", colors="#777777")
    hist.spines["right"].set_visible(True)
    ax.set_zorder(hist.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.plot([0, right], how["line"], linestyle="--", color="#555555", label=how["line_label"])
    ax.plot(x, y, marker="o", color=how["colour"], label=how["label"])
    top = how.get("top", 100.0)
    ax.set(xlim=(0, right), ylim=(0, top), xlabel=how["xlabel"], ylabel=how["ylabel"])
    ax.grid(True)
    handles = ax.get_legend_handles_labels()[0] + hist.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left")
    return ax


def plot_reliability_diagram(
    y_true: ArrayLike,
    y_proba: ArrayLike,
    labels: ArrayLike,
    *,
    n_bins: int = 10,
    truth: ArrayLike | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Reliability diagram of the predicted class's probability, with its histogram.

    Points: per bin of predicted probability (of the predicted class: "top-label"
    calibration), the mean predicted probability against the share of samples whose
    predicted class is right. Points below the diagonal: the model is over-confident.
    Grey bars (right axis): the share of samples per bin. The title gives the expected
    calibration error (:func:`odse_tutorial.evaluation.expected_calibration_error`).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Reference class codes (out-of-fold, e.g. from ``cross_val_predict``).
    y_proba : array-like of shape (n_samples, n_classes)
        Class probabilities, columns in the order of ``labels``.
    labels : array-like of shape (n_classes,)
        The class of each column.
    n_bins : int, default 10
        Number of equal-width bins.
    truth : array-like of shape (n_samples,), optional
        The true class at the same samples (simulated data): a second line, "against the
        truth", and its calibration error in the title. Samples with a missing truth
        (NaN, None) are left out of it.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to "Reliability diagram (ECE = ...)".

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_reliability_diagram([1, 2], [[0.9, 0.1], [0.65, 0.35]], [1, 2], n_bins=2)
    >>> ax.get_title()
    'Reliability diagram: expected calibration error 27.5 %'
    """
    table = evaluation.reliability_table(y_true, y_proba, labels, n_bins=n_bins)
    ece = evaluation.expected_calibration_error(y_true, y_proba, labels, n_bins=n_bins)
    full = table[table.n_samples > 0]
    ax = _binned_chart(
        _axes(ax, (6.0, 5.0)),
        50 * (table.lower + table.upper),
        100 * table.n_samples / table.n_samples.sum(),
        100 * full.mean_confidence,
        100 * full.accuracy,
        what="Samples in bin",
        line=[0, 100],
        line_label="Perfect calibration",
        colour="#0072b2",
        label="Model" if truth is None else "against the labels",
        xlabel="Predicted probability of the predicted class (%)",
        ylabel="Predicted class is right (% of samples)",
    )
    what = f"expected calibration error {100 * ece:.1f} %"
    if truth is not None:
        known = pd.notna(np.asarray(truth, dtype=object))
        args = (np.asarray(truth)[known], np.asarray(y_proba)[known], labels)
        t = evaluation.reliability_table(*args, n_bins=n_bins)
        t = t[t.n_samples > 0]
        ax.plot(100 * t.mean_confidence, 100 * t.accuracy, marker="s", color=ERROR_COLOUR,
                label="against the truth")  # fmt: skip
        old = ax.get_legend()
        labels = [t.get_text() for t in old.get_texts()] + ["against the truth"]
        ax.legend([*old.legend_handles, ax.lines[-1]], labels, loc="upper left")
        ece_truth = evaluation.expected_calibration_error(*args, n_bins=n_bins)
        what = f"ECE {100 * ece:.1f} % (labels), {100 * ece_truth:.1f} % (truth)"
    ax.set_title(f"Reliability diagram: {what}" if title is None else title)
    return ax


def plot_uncertainty_vs_error(
    errors: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes | None:
    """Does uncertainty show where the map is wrong? Error rate per uncertainty bin.

    Points: the share of pixels whose mapped class differs from the reference, per bin
    of uncertainty (:func:`odse_tutorial.evaluation.error_rate_by_uncertainty`). A useful uncertainty layer
    gives a line that rises from left to right. Grey bars (right axis): the share of
    pixels per bin (few pixels: a noisy rate). Dashed line: the error rate of the map.
    The axes are fitted to the values (the bins of the error table).

    Parameters
    ----------
    errors : DataFrame, result or None
        The table of :func:`~odse_tutorial.evaluation.error_rate_by_uncertainty`, or
        anything with it as ``by_bin`` (as
        :func:`~odse_tutorial.evaluation.uncertainty_against_error` returns). None: nothing
        is drawn, None is returned (no truth: the helper that made it said why).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to "Map errors by uncertainty".

    Returns
    -------
    matplotlib.axes.Axes or None

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()
    >>> uncertainty = data.layers("9529", 2018)["blue_summer"]  # stands in for a 0-100 % map
    >>> predicted, truth = data.truth("9529", 2015), data.truth("9529", 2018)
    >>> table = evaluation.error_rate_by_uncertainty(uncertainty, predicted, truth, n_bins=5)
    >>> ax = plot_uncertainty_vs_error(table)
    >>> ax.lines[1].get_ydata().round(1).tolist()  # percent wrong per bin
    [3.2, 4.6, 8.3, 6.7, 13.6]
    """
    table = getattr(errors, "by_bin", errors)
    if table is None:
        return None
    overall = 100 * table.n_errors.sum() / max(int(table.n_pixels.sum()), 1)
    centres, full = (table.lower + table.upper) / 2, table.n_pixels > 0
    rate = 100 * table.error_rate[full]
    ax = _binned_chart(
        _axes(ax, (7.0, 4.8)),
        centres,
        100 * table.share_of_pixels,
        centres[full],
        rate,
        what="Pixels in bin",
        right=float(table.upper.iloc[-1]),
        top=min(100.0, 10 * np.ceil(max(float(rate.max()), overall) / 10 + 0.5)),
        line=[overall, overall],
        line_label=f"Error rate of the whole map ({overall:.1f} %)",
        colour=ERROR_COLOUR,
        label="Error rate in bin",
        xlabel="Uncertainty (%)",
        ylabel="Pixels mapped wrongly (%)",
    )
    ax.set_title("Map errors by uncertainty" if title is None else title)
    return ax


# -- models ------------------------------------------------------------------------------
_SEASON_COLOURS = {
    "winter": "#0072b2",
    "spring": "#009e73",
    "summer": "#e69f00",
    "autumn": "#d55e00",
}

_STATIC_COLOUR = "#7f7f7f"


def _importances(importances: Any, feature_names: Sequence[str] | None) -> tuple:
    """Values, error bars, names and axis label from an array, Series or Bunch."""
    errors = None
    label = "Importance"
    if hasattr(importances, "importances_mean"):  # sklearn.inspection.permutation_importance
        errors = np.asarray(importances.importances_std, np.float64)
        importances = importances.importances_mean
        label = "Drop in score when the feature is shuffled"
    elif isinstance(importances, pd.Series) and feature_names is None:
        feature_names = list(importances.index)
    values = np.asarray(importances, dtype=np.float64)
    if feature_names is None:
        raise ValueError("Give feature_names (one per importance value).")
    names = [str(n) for n in feature_names]
    if len(names) != len(values):
        raise ValueError(f"{len(values)} importances but {len(names)} feature names.")
    return values, errors, names, label


def plot_feature_importance(
    importances: Any,
    feature_names: Sequence[str] | None = None,
    *,
    top: int = 15,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Horizontal bars of the most important features, coloured by season.

    Parameters
    ----------
    importances : array-like, pandas.Series or permutation result
        One value per feature (such as a forest's ``feature_importances_``); a Series
        (index = names); or the result of :func:`sklearn.inspection.permutation_importance`
        (drawn with error bars of one standard deviation).
    feature_names : sequence of str, optional
        Names, if not known from ``importances``.
    top : int, default 15
        How many of the most important features to show.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to "Feature importance (top n of m)".

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_feature_importance([0.1, 0.5, 0.4], ["red_summer", "nir_spring", "slope"])
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['nir_spring', 'slope', 'red_summer']
    """
    values, errors, names, label = _importances(importances, feature_names)
    order = np.argsort(-values, kind="stable")[: max(1, int(top))]
    seasons = [names[i].rsplit("_", 1)[-1] for i in order]  # "red_summer": summer
    colours = [_SEASON_COLOURS.get(s, _STATIC_COLOUR) for s in seasons]
    ax = _axes(ax, (7.0, 1.2 + 0.32 * len(order)))
    ax.barh(np.arange(len(order)), values[order], color=colours, error_kw={"elinewidth": 0.8},
            xerr=None if errors is None else errors[order])  # fmt: skip
    ax.set_yticks(np.arange(len(order)), [names[i] for i in order])
    ax.invert_yaxis()
    ax.set(xlabel=label)
    ax.grid(axis="x")
    shown = [s for s in _SEASON_COLOURS if s in seasons]
    if shown:
        handles = [Patch(color=_SEASON_COLOURS[s], label=s) for s in shown]
        if _STATIC_COLOUR in colours:
            handles.append(Patch(color=_STATIC_COLOUR, label="static (terrain)"))
        ax.legend(handles=handles, title="Season", loc="lower right")
    if title is None:
        title = f"Feature importance (top {len(order)} of {len(values)})"
    ax.set_title(title)
    return ax


# -- ranking -------------------------------------------------------------------------------
def plot_precision_recall(
    y: ArrayLike,
    proba: ArrayLike,
    classes: Any = None,
    *,
    proba_classes: Sequence[Any] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Precision-recall curve of each class, in distinct colours, with its average precision.

    For every threshold on a class's probability: the precision (users' accuracy) and
    recall (producer's accuracy) of calling a sample that class.

    Parameters
    ----------
    y : array-like
        True class codes.
    proba : array-like of shape (n_samples, n_classes)
        Probabilities (out-of-fold).
    classes : ClassTable, optional
        Class names for the legend.
    proba_classes : sequence, optional
        The codes of ``proba``'s columns (default: sorted unique ``y``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to "Precision-recall per class".

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_precision_recall([1, 1, 2, 2], [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    >>> [line.get_label() for line in ax.lines]
    ['1 (AP 1.00)', '2 (AP 1.00)']
    """
    y = np.asarray(y)
    proba = np.asarray(proba, dtype=float)
    codes = sorted(pd.unique(y)) if proba_classes is None else list(proba_classes)
    ax = _axes(ax, (9.5, 5.0))  # the legend of the classes on the right
    colours = plt.get_cmap("tab20" if len(codes) > 10 else "tab10").colors
    for j, code in enumerate(codes):
        precision, recall, _ = precision_recall_curve(y == code, proba[:, j])
        ap = average_precision_score(y == code, proba[:, j])
        name = code if classes is None else classes.name_of(code)
        ax.step(recall, precision, where="post", color=colours[j % len(colours)],
                label=f"{name} (AP {ap:.2f})")  # fmt: skip
    ax.set(xlim=(0, 1.02), ylim=(0, 1.02), xlabel="Recall (producer's accuracy)",
           ylabel="Precision (users' accuracy)")  # fmt: skip
    ax.set_title("Precision-recall per class" if title is None else title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return ax


# -- distances -----------------------------------------------------------------------------
def plot_nn_distances(
    distances: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None
) -> Axes:
    """Cumulative distributions of nearest-neighbour distances, one curve per kind.

    The prediction-to-training distances (thick black) beside the test-to-training
    distances of each cross-validation: a CV whose curve lies left of the black one
    tests closer to its training data than the map predicts (optimistic).

    Parameters
    ----------
    distances : pandas.DataFrame
        From :func:`odse_tutorial.model_selection.nn_distances` (columns ``what`` and
        ``distance_m``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to "Nearest-neighbour distances: does the CV test where the map predicts?".

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> d = pd.DataFrame({"what": ["CV: test to training"] * 2 + ["prediction to training"],
    ...                   "distance_m": [100.0, 300.0, 2000.0]})
    >>> ax = plot_nn_distances(d)
    >>> [line.get_label() for line in ax.lines]
    ['CV: test to training (median 0.2 km)', 'prediction to training (median 2 km)']
    """
    ax = _axes(ax, (7.0, 4.5))
    cv_colour = iter(plt.get_cmap("tab10").colors)
    for what, group in distances.groupby("what", sort=False):
        km = np.sort(np.maximum(group["distance_m"].to_numpy(), 1.0)) / 1000  # log axis: >= 1 m
        prediction = what == "prediction to training"
        ax.plot(km, np.arange(1, len(km) + 1) / len(km), lw=3 if prediction else 1.5,
                color="black" if prediction else next(cv_colour), zorder=3 if prediction else 2,
                label=f"{what} (median {np.median(km):.2g} km)")  # fmt: skip
    ax.set_xscale("log")
    _plain_log(ax.xaxis)
    ax.set(xlabel="Distance to the nearest training sample (km)", ylim=(0, 1.02),
           ylabel="Share of points (cumulative)")  # fmt: skip
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.16), borderaxespad=0.0)
    default = "Nearest-neighbour distances: does the CV test where the map predicts?"
    ax.set_title(default if title is None else title)
    return ax
