"""Tests of odse_tutorial.labels: dropping rare classes and encoding class codes."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from odse_tutorial.classes import ClassTable
from odse_tutorial.labels import decode_labels, drop_rare_classes, encode_labels

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


TABLE = ClassTable([211, 231, 512], ["Arable land", "Pastures", "Water bodies"])


def test_encode_labels_gives_positions_in_the_table_order():
    y = pd.Series([512, 211, 231, 512], index=[4, 3, 2, 1])
    assert encode_labels(y, TABLE).tolist() == [2, 0, 1, 2]
    # table order, not sorted order, defines the encoding
    reordered = ClassTable([512, 211, 231])
    assert encode_labels(y, reordered).tolist() == [0, 1, 2, 0]


def test_encode_then_decode_round_trips_string_codes():
    table = ClassTable(["water", "forest", "urban"])
    y = np.array(["forest", "urban", "water", "forest"])
    encoded = encode_labels(y, table)
    assert encoded.tolist() == [1, 2, 0, 1]
    assert decode_labels(encoded, table).tolist() == y.tolist()


def test_encode_labels_lists_all_unknown_codes():
    with pytest.raises(ValueError, match=r"\[112, 999\].*known codes: \[211, 231, 512\]"):
        encode_labels([231, 999, 112, 999], TABLE)


def test_encode_labels_does_not_confuse_string_and_integer_codes():
    with pytest.raises(ValueError, match="not in the class table"):
        encode_labels(["231"], TABLE)


def test_decode_labels_rejects_positions_outside_the_table():
    with pytest.raises(ValueError, match="from 0 to 2"):
        decode_labels([0, 3], TABLE)
    with pytest.raises(ValueError, match="from 0 to 2"):
        decode_labels([0.0, 1.0], TABLE)
