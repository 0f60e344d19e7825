"""Tests of odse_tutorial.persistence: save_model / load_model."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.metadata
import json
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from odse_tutorial import persistence
from odse_tutorial.classes import CORINE_CLASSES, ClassTable
from odse_tutorial.ensemble import StackingEnsemble
from odse_tutorial.persistence import _ModelVersionWarning, _TrainedModel, load_model, save_model

FEATURES = ["red_summer", "nir_summer", "ndvi_winter", "elevation"]


@pytest.fixture(scope="module")
def fitted() -> tuple[StackingEnsemble, pd.DataFrame, ClassTable]:
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(90, 4)), columns=FEATURES)
    level = (X["ndvi_winter"] > 0).astype(int) + (X["elevation"] > 1).astype(int)
    y = np.array([231, 311, 512])[level.to_numpy()]
    model = StackingEnsemble(
        [("tree", DecisionTreeClassifier(max_depth=3, random_state=0)), ("nb", GaussianNB())],
        cv=3,
    ).fit(X, y)
    return model, X, CORINE_CLASSES.subset([231, 311, 512])


class Unpicklable(LogisticRegression):
    """A fitted model that fails half-way through pickling."""

    def __reduce__(self):
        raise pickle.PicklingError("cannot pickle this model")


def test_round_trip_keeps_model_and_metadata(tmp_path, fitted):
    model, X, classes = fitted
    path = save_model(
        tmp_path / "models" / "ensemble.joblib",
        model,
        classes=classes,
        feature_names=FEATURES,
        metadata={"tiles": ["T1", "T2"], "cv_f1": 0.71},
    )
    assert path == tmp_path / "models" / "ensemble.joblib" and path.is_file()
    with warnings.catch_warnings():
        warnings.simplefilter("error", _ModelVersionWarning)  # same versions: no warning
        trained = load_model(path)

    assert isinstance(trained, _TrainedModel)
    np.testing.assert_array_equal(trained.model.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(
        trained.model.predict_proba_and_uncertainty(X)[1],
        model.predict_proba_and_uncertainty(X)[1],
    )
    assert trained.classes == classes
    assert trained.classes.names == ("Pastures", "Broad-leaved forest", "Water bodies")
    assert trained.classes.colours == classes.colours
    assert trained.feature_names == tuple(FEATURES)
    assert trained.metadata["tiles"] == ["T1", "T2"] and trained.metadata["cv_f1"] == 0.71
    assert trained.metadata["versions"] == {
        "python": trained.metadata["versions"]["python"],
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "joblib": joblib.__version__,
        "odse_tutorial": importlib.metadata.version("odse-tutorial"),
    }
    saved_at = dt.datetime.fromisoformat(trained.metadata["saved_at"])
    assert abs(dt.datetime.now(dt.UTC) - saved_at) < dt.timedelta(minutes=5)
    with pytest.raises(TypeError):
        trained.metadata["tiles"] = []  # read-only
    with pytest.raises(dataclasses.FrozenInstanceError):
        trained.model = None  # type: ignore[misc]


def test_string_class_codes_round_trip(tmp_path):
    X = np.array([[0.0], [0.1], [0.9], [1.0]])
    model = DecisionTreeClassifier(random_state=0).fit(X, ["231", "231", "311", "311"])
    classes = ClassTable(["231", "311"], ["Pastures", "Forest"], ["#e6e64d", "#80ff00"])
    trained = load_model(save_model(tmp_path / "m.joblib", model, classes=classes,
                                    feature_names=["ndvi"]))  # fmt: skip
    assert trained.classes.codes == ("231", "311")
    assert trained.model.predict([[0.95]]).tolist() == ["311"]


def test_version_mismatch_warns(tmp_path, fitted, monkeypatch):
    model, _, classes = fitted
    recorded = {**persistence._installed_versions(), "scikit-learn": "0.24.2", "numpy": "1.19.5"}
    with monkeypatch.context() as patch:
        patch.setattr(persistence, "_installed_versions", lambda: recorded)
        path = save_model(tmp_path / "old.joblib", model, classes=classes, feature_names=FEATURES)
    with pytest.warns(_ModelVersionWarning) as record:
        trained = load_model(path)
    message = str(record[0].message)
    assert "scikit-learn 0.24.2" in message and f"installed: {sklearn.__version__}" in message
    assert "numpy 1.19.5" in message and "Retrain" in message
    assert "scikit-learn==0.24.2" in message
    assert trained.metadata["versions"]["scikit-learn"] == "0.24.2"


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.joblib"):
        load_model(tmp_path / "nothing.joblib")


@pytest.mark.parametrize("kind", ["garbage", "truncated"])
def test_corrupt_file_names_the_path(tmp_path, fitted, kind):
    model, _, classes = fitted
    path = tmp_path / "broken.joblib"
    if kind == "garbage":
        path.write_bytes(b"this is not a model" * 10)
    else:
        save_model(path, model, classes=classes, feature_names=FEATURES, compress=0)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"broken\.joblib.*corrupted"):
        load_model(path)


def test_other_joblib_file_is_not_a_model(tmp_path):
    path = tmp_path / "other.joblib"
    joblib.dump({"weights": [1, 2, 3]}, path)
    with pytest.raises(ValueError, match=r"other\.joblib is not a model file"):
        load_model(path)


def test_failed_save_leaves_no_partial_file(tmp_path):
    model = Unpicklable().fit([[0.0], [1.0]], [0, 1])
    classes = ClassTable([0, 1])
    target = tmp_path / "model.joblib"
    with pytest.raises(pickle.PicklingError):
        save_model(target, model, classes=classes, feature_names=["x"])
    assert list(tmp_path.iterdir()) == []  # neither the model nor a temporary file


def test_failed_save_keeps_the_older_file(tmp_path, fitted):
    model, X, classes = fitted
    target = save_model(tmp_path / "model.joblib", model, classes=classes, feature_names=FEATURES)
    before = target.read_bytes()
    broken = Unpicklable().fit(X, np.arange(len(X)) % 2)
    with pytest.raises(pickle.PicklingError):
        save_model(target, broken, classes=ClassTable([0, 1]), feature_names=FEATURES)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.joblib"]
    np.testing.assert_array_equal(load_model(target).model.predict(X), model.predict(X))


def test_feature_names_must_match_the_model(tmp_path, fitted):
    model, _, classes = fitted
    path = tmp_path / "m.joblib"
    with pytest.raises(ValueError, match=r"missing \['elevation'\], unexpected \['slope'\]"):
        save_model(path, model, classes=classes, feature_names=FEATURES[:3] + ["slope"])
    with pytest.raises(ValueError, match="the same names in another order"):
        save_model(path, model, classes=classes, feature_names=FEATURES[::-1])
    array_model = GaussianNB().fit(np.zeros((4, 2)) + [[0], [0], [1], [1]], [0, 0, 1, 1])
    with pytest.raises(ValueError, match="one name per column"):
        save_model(path, array_model, classes=ClassTable([0, 1]), feature_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="input columns"):
        save_model(path, model, classes=classes, feature_names="red_summer")
    with pytest.raises(ValueError, match=r"unique; repeated: \['a'\]"):  # would read 'a' twice
        save_model(path, array_model, classes=ClassTable([0, 1]), feature_names=["a", "a"])
    assert not path.exists()


def test_classes_must_cover_the_model(tmp_path, fitted):
    model, _, _ = fitted
    wrong_type = ClassTable(["231", "311", "512"])
    with pytest.raises(ValueError, match=r"lacks classes the model predicts: \[231, 311, 512\]"):
        save_model(tmp_path / "m.joblib", model, classes=wrong_type, feature_names=FEATURES)
    with pytest.raises(TypeError, match="ClassTable"):
        save_model(tmp_path / "m.joblib", model, classes=[231, 311, 512], feature_names=FEATURES)


def test_reserved_metadata_and_unfitted_models_are_errors(tmp_path, fitted):
    model, _, classes = fitted
    with pytest.raises(ValueError, match="reserved"):
        save_model(
            tmp_path / "m.joblib",
            model,
            classes=classes,
            feature_names=FEATURES,
            metadata={"versions": "mine"},
        )
    with pytest.raises(NotFittedError):
        save_model(tmp_path / "m.joblib", GaussianNB(), classes=classes, feature_names=FEATURES)


def test_cv_predictions_round_trip_and_refuse_other_samples_or_folds(tmp_path, caplog):
    from odse_tutorial.persistence import read_cv_results, save_cv_predictions

    y = pd.Series([231, 311, 512, 311], index=[7, 3, 9, 1])
    proba = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6], [0.4, 0.35, 0.25]])
    folder = tmp_path / "01_random_forest"
    path = save_cv_predictions(str(folder), proba, y, [0, 1, 1, 0])
    written = pd.read_csv(path, index_col=0)
    assert written.index.tolist() == [7, 3, 9, 1]
    assert written["y_pred"].tolist() == [231, 311, 512, 231]  # argmax of each row
    assert list(written.columns[-3:]) == ["proba_231", "proba_311", "proba_512"]
    assert read_cv_results(folder, dataset="simulated", index=y.index) is None
    assert "01_random_forest has not run here" in caplog.text
    (folder / "metrics.json").write_text(
        json.dumps({"dataset": "simulated", "truth": {"map_accuracy": 0.81}})
    )
    found = read_cv_results(folder, dataset="simulated", index=y.index, folds=[0, 1, 1, 0])
    np.testing.assert_allclose(found.proba, proba)
    assert found.codes.tolist() == [231, 311, 512] and found.map_accuracy == 0.81
    assert found.maps == folder / "maps"
    assert read_cv_results(folder, dataset="netherlands", index=y.index) is None
    assert read_cv_results(folder, dataset="simulated", index=y.index[::-1]) is None
    assert "ran on other data" in caplog.text
    with pytest.raises(ValueError, match="used other folds"):
        read_cv_results(folder, dataset="simulated", index=y.index, folds=[0, 0, 1, 1])
    with pytest.raises(ValueError, match="pass classes="):
        save_cv_predictions(folder, proba[:, :2], y, [0, 1, 1, 0])
