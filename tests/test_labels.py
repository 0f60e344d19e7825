"""Tests of odse_tutorial.labels: dropping rare classes, and the package's sample-weight check."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from odse_tutorial._checks import check_sample_weight
from odse_tutorial.labels import _as_codes, drop_rare_classes

# 10 samples of 231, 6 of 211, 3 of 512, 1 of 112 (20 in all), in mixed order.
CODES = [231] * 10 + [211] * 6 + [512] * 3 + [112]
ORDER = np.random.default_rng(0).permutation(len(CODES))
Y_INT = np.array(CODES)[ORDER]


def test_min_count_drops_classes_below_it_and_keeps_order_of_y():
    keep, report = drop_rare_classes(Y_INT, min_count=3)

    assert keep.dtype == bool and keep.shape == Y_INT.shape
    assert set(Y_INT[keep]) == {211, 231, 512}
    assert (Y_INT[~keep] == 112).all()
    assert report["code"].tolist() == [112, 211, 231, 512]
    assert report["count"].tolist() == [1, 6, 10, 3]
    assert report["share"].tolist() == pytest.approx([0.05, 0.30, 0.50, 0.15])
    assert report["kept"].tolist() == [False, True, True, True]


def test_min_share_and_min_count_together_drop_a_class_failing_either():
    _, report = drop_rare_classes(Y_INT, min_count=2, min_share=0.2)
    assert report.set_index("code")["kept"].to_dict() == {
        112: False,  # fails both
        211: True,
        231: True,
        512: False,  # 3 samples (enough) but a share of 0.15 < 0.2
    }


def test_share_exactly_at_threshold_is_kept():
    _, report = drop_rare_classes(Y_INT, min_share=0.15)
    assert report.set_index("code").loc[512, "kept"]


def test_string_codes_in_a_series_with_an_arbitrary_index():
    y = pd.Series(
        ["forest", "water", "forest", "urban", "forest", "water"], index=[9, 3, 7, 1, 5, 0]
    )
    keep, report = drop_rare_classes(y, min_count=2)
    # the mask is positional, so it works with boolean indexing of the samples table
    assert keep.tolist() == [True, True, True, False, True, True]
    assert report["code"].tolist() == ["forest", "urban", "water"]
    assert report["kept"].tolist() == [True, False, True]
    assert y.tolist()[3] == "urban"  # caller's data unchanged


def test_codes_in_the_report_are_plain_python_values():
    _, report = drop_rare_classes(np.array([1, 1, 2], dtype=np.uint16), min_count=1)
    assert all(type(c) is int for c in report["code"])


def test_a_warning_is_logged_naming_the_dropped_classes(caplog):
    with caplog.at_level(logging.WARNING, logger="odse_tutorial.labels"):
        drop_rare_classes(Y_INT, min_count=5)
    assert "112 (1)" in caplog.text and "512 (3)" in caplog.text
    assert "231" not in caplog.text


def test_nothing_logged_when_nothing_is_dropped(caplog):
    with caplog.at_level(logging.WARNING, logger="odse_tutorial.labels"):
        keep, _ = drop_rare_classes(Y_INT, min_count=1)
    assert keep.all() and caplog.text == ""


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "min_count .*and/or min_share"),
        ({"min_count": 0}, "at least 1"),
        ({"min_count": 2.5}, "whole number"),
        ({"min_share": 1.5}, "between 0 and 1"),
        ({"min_share": 0.0}, "between 0 and 1"),
    ],
)
def test_threshold_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        drop_rare_classes(Y_INT, **kwargs)


def test_missing_codes_are_an_error():
    with pytest.raises(ValueError, match="missing class code.*dropna"):
        drop_rare_classes(pd.Series([1.0, np.nan, 2.0]), min_count=1)


def test_as_codes_gives_a_fresh_index_and_names_the_argument():
    codes = _as_codes(pd.Series([231, 211], index=[7, 3]), "y_true")
    assert codes.index.tolist() == [0, 1] and codes.tolist() == [231, 211]
    with pytest.raises(ValueError, match="y_pred holds 1 missing"):
        _as_codes([231, None], "y_pred")


# -- check_sample_weight (odse_tutorial._checks) -------------------------------------------
def test_check_sample_weight_returns_a_float_copy_or_none():
    weights = np.array([1, 2, 3])
    checked = check_sample_weight(weights, 3)
    assert checked.dtype == np.float64 and checked.tolist() == [1.0, 2.0, 3.0]
    checked[0] = 99
    assert weights[0] == 1  # the caller's array is untouched
    assert check_sample_weight(None, 3) is None
    assert check_sample_weight(pd.Series([0.0, 1.0]), 2).tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    "weights, match",
    [
        ([1.0, 2.0], r"confidence must hold one weight per sample \(3\), got shape \(2,\)"),
        ([1.0, np.inf, np.nan], "confidence has 2 NaN or infinite"),
        ([1.0, -0.5, -2.0], r"confidence has 2 negative weight\(s\) \(smallest -2\)"),
        ([0.0, 0.0, 0.0], "confidence is zero for all 3 samples.*confidence=None"),
        (["a", "b", "c"], "confidence must hold numbers"),
    ],
)
def test_check_sample_weight_names_the_argument_the_count_and_the_fix(weights, match):
    with pytest.raises(ValueError, match=match):
        check_sample_weight(weights, 3, name="confidence")
