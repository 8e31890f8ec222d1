"""One contract, run over every registered generator (CausalMix and TabEBM included, with cheap
settings): scikit-learn's estimator checks that apply to a row generator (``clone``,
``get_params(deep)``/``set_params``, ``__init__`` only stores), ``fit`` returns ``self`` with fitted
attributes ending in ``_``, seeded sampling, ``fit_resample`` (real rows then synthetic ones, the same
in every process whatever its string-hash seed), bad parameters named in a ``ValueError``, and an
imbalanced-learn ``Pipeline`` on a shared dataset.

A generator added to the registry without cheap settings here fails ``test_every_generator_is_covered``.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from _hash_seeds import stdout_per_hash_seed
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks
from sklearn.utils.validation import check_is_fitted

from causalmix.data import load_dataset, low_data_split
from causalmix.generators import GENERATORS, Generator, make_generator

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: the cheapest settings that still exercise each generator's code
CHEAP = {
    "none": {},
    "smote": {},
    "mixup": {},
    "tableaugment": {},
    "gaussian_copula": {},
    "causalmix": {"algorithms": ("pc",), "n_bootstrap": 1, "n_dags": 1, "max_features": 3},
    "tabebm": {"n_steps": 2, "pool_size": 40},
    "ctgan": {"epochs": 1},
}
NAMES = list(GENERATORS)
HAS_CTGAN = importlib.util.find_spec("ctgan") is not None


def needs_fit(name: str) -> None:
    if name == "ctgan" and not HAS_CTGAN:
        pytest.skip("the optional ctgan extra is not installed")


@pytest.fixture(scope="module")
def data(data_dir):
    """64 training rows of a shared dataset (numeric, so a plain LogisticRegression can follow)."""
    split = low_data_split(load_dataset("blood-transfusion"), n_train=64, seed=0, test_cap=200)
    return split.X_train, split.y_train, split.X_test, split.y_test


@pytest.fixture(scope="module")
def fitted(data):
    X, y, *_ = data
    cache: dict[str, Generator] = {}

    def get(name: str) -> Generator:
        needs_fit(name)
        if name not in cache:
            cache[name] = make_generator(name, **CHEAP[name]).fit(X, y)
        return cache[name]

    return get


def test_every_generator_is_covered():
    assert set(CHEAP) == set(GENERATORS)


@pytest.mark.parametrize("name", NAMES)
def test_sklearn_estimator_checks(name):
    gen = make_generator(name, **CHEAP[name])
    estimator_checks.check_no_attributes_set_in_init(name, gen)
    estimator_checks.check_parameters_default_constructible(name, gen)
    estimator_checks.check_get_params_invariance(name, gen)
    estimator_checks.check_set_params(name, gen)


@pytest.mark.parametrize("name", NAMES)
def test_clone_and_params_round_trip(name):
    gen = make_generator(name, **CHEAP[name])
    twin = clone(gen)
    assert type(twin) is type(gen) and twin is not gen
    assert twin.get_params(deep=True).keys() == gen.get_params(deep=True).keys()
    assert repr(twin) == repr(gen)
    params = gen.get_params(deep=False)
    assert all(params[k] == v for k, v in CHEAP[name].items())
    assert type(gen)(**params).get_params(deep=False).keys() == params.keys()
    if "random_state" in params:
        assert twin.set_params(random_state=7) is twin and twin.random_state == 7 and gen.random_state != 7
    with pytest.raises(ValueError, match="nonsense"):
        twin.set_params(nonsense=1)


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self_with_fitted_attributes(name, data):
    needs_fit(name)
    X, y, *_ = data
    gen = make_generator(name, **CHEAP[name])
    with pytest.raises(NotFittedError):
        check_is_fitted(gen)
    before = set(vars(gen))
    assert gen.fit(X, y) is gen
    check_is_fitted(gen)
    new = {a for a in set(vars(gen)) - before if not a.startswith("_")}
    assert new and all(a.endswith("_") for a in new), new
    assert list(gen.feature_names_in_) == list(X.columns) and gen.n_features_in_ == X.shape[1]
    assert set(gen.classes_) == set(y)
    assert gen.get_params(deep=False) == make_generator(name, **CHEAP[name]).get_params(deep=False)  # fit
    # changed no parameter


@pytest.mark.parametrize("name", NAMES)
def test_sample_is_reproducible_with_the_schema(name, fitted, data):
    X, y, *_ = data
    gen = fitted(name)
    Xa, ya = gen.sample(30, random_state=4)
    Xb, yb = gen.sample(30, random_state=4)
    pd.testing.assert_frame_equal(Xa, Xb)
    pd.testing.assert_series_equal(ya, yb)
    assert len(Xa) == len(ya) == (0 if name == "none" else 30)
    assert list(Xa.columns) == list(X.columns) and (Xa.dtypes == X.dtypes).all()
    assert ya.dtype == y.dtype and set(ya) <= set(y)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("as_array", [False, True], ids=["series", "array"])
def test_fit_resample_returns_real_then_synthetic_rows(name, data, as_array):
    needs_fit(name)
    X, y, *_ = data
    y_in = y.to_numpy() if as_array else y
    gen = make_generator(name, **CHEAP[name])
    X_res, y_res = gen.fit_resample(X, y_in)
    n_syn = 0 if name == "none" else round(gen.get_params().get("resample_ratio", 1.0) * len(X))
    assert len(X_res) == len(y_res) == len(X) + n_syn
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X.reset_index(drop=True))
    assert (X_res.dtypes == X.dtypes).all()
    assert isinstance(y_res, np.ndarray if as_array else pd.Series)
    assert list(np.asarray(y_res)[: len(X)]) == list(np.asarray(y))
    assert set(np.asarray(y_res)) <= set(y)
    X_again, y_again = clone(gen).fit_resample(X, y_in)  # the draw is seeded from random_state
    pd.testing.assert_frame_equal(X_res, X_again)
    if name != "none":
        half = clone(gen).set_params(resample_ratio=0.5).fit_resample(X, y_in)[0]
        assert len(half) == len(X) + round(0.5 * len(X))


_ROWS_OF_EACH_GENERATOR = """
import hashlib
import torch
from causalmix.data import load_dataset, low_data_split
from causalmix.generators import make_generator
torch.set_num_threads(1)
split = low_data_split(load_dataset("credit-g"), n_train=64, seed=0, test_cap=200)  # 13 categorical columns
for name, params in {settings!r}.items():
    X, y = make_generator(name, **params).fit_resample(split.X_train, split.y_train)
    print(name, len(X) - 64, hashlib.sha256(X.to_csv().encode() + y.to_csv().encode()).hexdigest())
"""


def test_every_generator_gives_the_same_rows_in_every_process(data_dir):
    """The same seed, the same synthetic rows in a process with another string-hash seed (PYTHONHASHSEED):
    no generator's output may follow the order of a set of strings. CausalMix runs FCI too, as by default."""
    settings = {n: CHEAP[n] for n in NAMES if n not in ("none", "ctgan")}  # ctgan: tests/test_ctgan.py
    settings["causalmix"] = {**settings["causalmix"], "algorithms": ("pc", "fci")}
    outputs = stdout_per_hash_seed(_ROWS_OF_EACH_GENERATOR.format(settings=settings), seeds=("0", "123"))
    assert [line.split()[:2] for line in outputs["0"].splitlines()] == [[n, "64"] for n in settings]
    assert outputs["0"] == outputs["123"]


@pytest.mark.parametrize("name", [n for n in NAMES if n != "none"])
def test_a_bad_parameter_is_named_at_check_and_at_fit(name, data):
    X, y, *_ = data
    gen = make_generator(name, **CHEAP[name])
    assert gen.check_params() is gen
    assert gen.parameter_constraints.keys() <= gen.get_params(deep=False).keys()
    for param in gen.parameter_constraints:
        bad = clone(gen).set_params(**{param: object()})  # no constraint accepts an arbitrary object
        with pytest.raises(ValueError, match=f"parameter '{param}'"):
            bad.check_params()
    with pytest.raises(ValueError, match="parameter 'resample_ratio' must be a real number >= 0"):
        clone(gen).set_params(resample_ratio=-1).fit(X, y)


@pytest.mark.parametrize("name", NAMES)
def test_a_generator_is_a_step_of_an_imblearn_pipeline(name, data):
    needs_fit(name)
    from imblearn.pipeline import Pipeline
    from sklearn.linear_model import LogisticRegression

    X, y, X_test, y_test = data
    pipe = Pipeline([("aug", make_generator(name, **CHEAP[name])), ("clf", LogisticRegression(max_iter=500))])
    assert pipe.fit(X, y) is pipe
    assert 0.0 <= pipe.score(X_test, y_test) <= 1.0
    assert len(pipe.predict(X_test)) == len(X_test)  # the generator only acts at fit
