"""The lessons follow the numbers: what every notebook states, checked on its outputs.

The notebooks print their comparisons from the computed values. Where a *markdown* cell
states a finding (a relation between numbers that a data or seed change could flip), the
notebook's own claims module (``tests/test_claims_nb<N>.py``) asserts it on the notebook's
``metrics.json`` and printed outputs after the papermill run of the bundled, simulated
data. When one fails, the text of the notebook named in the test must change, not the
test's threshold. This module holds what all notebooks share.
"""

from __future__ import annotations

import pytest
from conftest import notebook_metrics

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]


@pytest.mark.parametrize(
    "name",
    [
        "01_random_forest",
        "02_tuned_random_forest",
        "03_probabilistic_random_forest",
        "04_ensemble",
        "05_validation_against_truth",
        "06_area_of_applicability",
    ],
)
def test_every_notebook_puts_its_maps_beside_the_truth(executed, name):
    metrics = notebook_metrics(executed[name])
    assert 0.5 < metrics["truth"]["map_accuracy"] <= 1
