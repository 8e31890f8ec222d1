"""TabEBM follows its energy: zero steps return the starting points, the chains' energy goes down,
samples of two well-separated classes land in their class's region; seeds and schema as every
generator; it runs through a sweep with the shipped model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalmix.generators import make_generator
from causalmix.tabebm import TabEBMGenerator

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def two_gaussians():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(np.concatenate([rng.normal(-3, 0.5, (40, 3)), rng.normal(3, 0.5, (40, 3))]), columns=list("abc"))
    return X, pd.Series(["neg"] * 40 + ["pos"] * 40, name="label")


def test_zero_steps_return_the_starting_points(two_gaussians):
    X, y = two_gaussians
    gen = TabEBMGenerator(n_steps=0, start_noise_std=0.0, pool_size=None).fit(X, y)
    X_syn, y_syn = gen.sample(30, random_state=1)
    for row, label in zip(X_syn.to_numpy(), y_syn):
        own = X[y == label].to_numpy()
        assert np.abs(own - row).max(axis=1).min() < 1e-5  # a real row of its class (float32 round trip)


def test_the_energy_of_the_chains_goes_down(two_gaussians):
    X, y = two_gaussians
    gen = TabEBMGenerator(n_steps=30, start_noise_std=1.0, pool_size=None).fit(X, y)  # start off the data
    for c in (0, 1):
        _, energies = gen.langevin(c, 40, np.random.default_rng(c), record=True)
        assert len(energies) == 31 and energies[-1] < energies[0]


def test_samples_land_in_their_class_region(two_gaussians):
    X, y = two_gaussians
    X_syn, y_syn = TabEBMGenerator(n_steps=30, pool_size=60).fit(X, y).sample(60, random_state=0)
    assert set(y_syn) == {"neg", "pos"}
    means = X_syn.groupby(y_syn.to_numpy()).mean()
    assert (means.loc["neg"] < -1).all() and (means.loc["pos"] > 1).all()


def test_seeds_schema_and_categoricals_on_real_data(data_dir):
    from causalmix.data import load_dataset, low_data_split

    split = low_data_split(load_dataset("credit-g"), n_train=64, seed=0, test_cap=10)
    gen = make_generator("tabebm", n_steps=5, pool_size=100).fit(split.X_train, split.y_train)
    a, b = gen.sample(40, random_state=3), gen.sample(40, random_state=3)
    assert a[0].equals(b[0]) and a[1].equals(b[1])
    assert list(a[0].columns) == list(split.X_train.columns) and (a[0].dtypes == split.X_train.dtypes).all()
    for col in split.X_train.select_dtypes("category"):
        assert set(a[0][col].dropna()) <= set(split.X_train[col].cat.categories)


def test_a_tabebm_run_with_the_shipped_model(data_dir, tmp_path):
    from causalmix.runs import RunSpec, execute_run

    spec = RunSpec(dataset="diabetes", n_train=32, seed=0, method="tabebm", device="cpu", test_cap=50,
                   finetune={"max_steps": 2, "eval_every": 1, "n_estimators": 1},
                   generator={"n_steps": 5, "pool_size": 64})
    record = execute_run(spec, out_dir=tmp_path)
    assert record.status == "ok", record.error
    assert record.n_steps == 2 and record.spec["generator"] == {"n_steps": 5, "pool_size": 64}


def test_the_pool_is_drawn_once_per_fit_and_sampled_from(two_gaussians):
    X, y = two_gaussians
    gen = TabEBMGenerator(n_steps=3, pool_size=50).fit(X, y)
    Z, labels = gen.pool_
    assert Z.shape == (50, 3)
    X_syn, _ = gen.sample(20, random_state=0)
    pool_rows = Z * gen.scale_ + gen.mean_
    for row in X_syn.to_numpy():  # every sampled row is a row of the pool
        assert np.abs(pool_rows - row).max(axis=1).min() < 1e-9


def test_the_context_cache_gives_the_same_rows(two_gaussians):
    """Each SGLD step runs the network on the chains alone against the class context's cached keys
    and values: the rows equal those of the full forward (context and chains) bit for bit."""
    X, y = two_gaussians
    gen = TabEBMGenerator(n_steps=4, start_noise_std=0.5, pool_size=None).fit(X, y)
    for c in (0, 1):
        cached = gen.langevin(c, 25, np.random.default_rng(c), cache=True)
        full = gen.langevin(c, 25, np.random.default_rng(c), cache=False)
        assert np.array_equal(cached, full)
    assert gen.context_cache(0) is not None


def test_the_network_weights_stay_frozen(two_gaussians):
    """SGLD differentiates the energy in the chains' rows only: the network's weights require no
    gradient and get none. Weights requiring gradients change the backward's kernels, and with them
    the rows' bits on 2 of 3 splits measured (benchmarks/results/tabebm_speed.md)."""
    X, y = two_gaussians
    gen = TabEBMGenerator(n_steps=2, pool_size=10).fit(X, y)
    params = list(gen.network().parameters())
    assert params and not any(p.requires_grad for p in params)
    assert all(p.grad is None for p in params)


def test_the_paper_settings_draw_rows_near_the_data(data_dir):
    """PAPER_SETTINGS (the reference code's mean energy, one-hot categoricals, temperature 0.9) run,
    keep the schema and decode one-hot blocks to observed levels; the mean energy leaves the rows
    nearer the real ones than the published sum does."""
    from causalmix.data import load_dataset, low_data_split
    from causalmix.tabebm import PAPER_SETTINGS

    split = low_data_split(load_dataset("credit-g"), n_train=64, seed=0, test_cap=10)
    paper = TabEBMGenerator(n_steps=10, pool_size=60, **PAPER_SETTINGS).fit(split.X_train, split.y_train)
    n_cat = sum(len(s.levels) for s in paper.columns_ if s.kind == "categorical")
    n_num = sum(s.kind == "numeric" for s in paper.columns_)
    assert paper._Z.shape[1] == n_cat + n_num  # one indicator column per level
    X_syn, y_syn = paper.sample(40, random_state=0)
    assert list(X_syn.columns) == list(split.X_train.columns) and (X_syn.dtypes == split.X_train.dtypes).all()
    for col in split.X_train.select_dtypes("category"):
        assert set(X_syn[col].dropna()) <= set(split.X_train[col].cat.categories)
    # the reference's mean energy leaves the chains nearer the real rows than the published sum
    kw = dict(n_steps=10, pool_size=60, categorical_space="onehot")
    mean = TabEBMGenerator(energy_reduction="mean", **kw).fit(split.X_train, split.y_train)
    summed = TabEBMGenerator(energy_reduction="sum", **kw).fit(split.X_train, split.y_train)

    def moved(gen):  # mean distance of the pool from its nearest real row of the class (standardized)
        Z, labels = gen.pool_
        return np.mean([np.abs(gen._Z[gen._ye == c] - z).sum(axis=1).min() for z, c in zip(Z, labels)])

    assert moved(mean) < moved(summed)


@pytest.mark.parametrize("bad", [{"energy_reduction": "max"}, {"categorical_space": "ordinal"},
                                 {"logit_temperature": 0.0}, {"logit_temperature": -1.0}])
def test_the_new_parameters_are_validated(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        TabEBMGenerator(**bad).check_params()


def test_the_mean_energy_divides_each_chains_gradient_by_the_number_of_chains(two_gaussians):
    """energy_reduction="mean" is "sum" with step_size / n_chains (the reference's total energy)."""
    X, y = two_gaussians
    kw = dict(n_steps=3, start_noise_std=1.0, noise_std=0.0, pool_size=None)
    mean = TabEBMGenerator(energy_reduction="mean", step_size=0.1, **kw).fit(X, y)
    summed = TabEBMGenerator(energy_reduction="sum", step_size=0.1 / 20, **kw).fit(X, y)
    a = mean.langevin(0, 20, np.random.default_rng(0))
    b = summed.langevin(0, 20, np.random.default_rng(0))
    assert np.allclose(a, b, atol=1e-5)
