"""TabEBM (Margeloiu et al., NeurIPS 2024, arXiv 2409.16118), implemented from the paper on the
project's own model loading, so it runs with the shipped offline model and with ``tabpfn-v2``.

One energy-based model per class, with no training: the class's real rows (label 0) and a few
*surrogate negative* rows far from the data (label 1: corners of the hypercube ``[-d, d]^p`` of
the standardized feature space, in opposite pairs) form the context of a TabPFN network; its
logits ``f(x)`` for a query row give the class-specific energy ``E(x) = -logsumexp(f(x))`` —
low near the class's rows, high far away. Rows are drawn by stochastic gradient Langevin dynamics
(SGLD): chains start at randomly chosen real rows of the class plus a little Gaussian noise and
take ``n_steps`` steps ``x <- x - step_size * dE/dx + noise_std * N(0, I)``.

Where the dynamics run: in the *standardized encoded* space — every column of the generator
encoding (numeric values; categorical columns as their integer level codes) minus its training
mean, divided by its training standard deviation. The network sees these values directly (no
tabpfn preprocessing: the energy must be differentiable in the input). Afterwards the rows are
mapped back; categorical codes are rounded to the nearest level and clipped to the observed
levels, whole-number columns rounded, and missing values re-inserted at the observed rate (the
shared :class:`~causalmix.generators.Generator` decoding).

Checked against the paper and its public code (issue 32; the table is in ``book/method.md``). Three
settings differ from the reference code and are parameters, the defaults keeping the rows of the
published standard study:

- ``energy_reduction``: the reference differentiates the chains' *mean* energy, so every chain moves
  by ``step_size / n_chains`` times its own gradient (1/500 of it for 500 chains): in effect a chain
  stays at its real starting row plus the SGLD noise (about N(0, 0.14²) per coordinate after 200 steps). ``"sum"`` (default, as published) gives every
  chain its whole gradient and lets it travel far from the data; ``"mean"`` is the reference's.
- ``categorical_space``: the reference one-hot encodes categorical columns (0/1 indicators, not
  standardized) and standardizes the numeric ones; ``"codes"`` (default) standardizes the level codes
  instead; ``"onehot"`` is the reference's, decoded to the largest indicator.
- ``logit_temperature``: the reference's TabPFN v2 code takes the classifier's temperature-scaled
  logits (``softmax_temperature`` 0.9); default 1 (raw logits, as published).

:data:`PAPER_SETTINGS` holds the reference's values: ``TabEBMGenerator(**PAPER_SETTINGS)``, or the same
keys under ``generators: tabebm:`` in a configuration.

Each SGLD step runs the network on the chains' rows alone, attending to the class context's cached
keys and values (:meth:`TabEBMGenerator.context_cache`): the same energies and gradients, bit for
bit, as running the context with them.

When rows are drawn: as the paper uses TabEBM — one synthetic set per fit. ``fit`` runs the chains
for a pool of ``pool_size`` rows (seeded by ``random_state``); every :meth:`sample` call draws its
rows from that pool (without replacement while the pool lasts), so fine-tuning steps see different
subsets of one TabEBM sample. ``pool_size=None`` runs fresh chains at every :meth:`sample` call
instead (SGLD through the network is the costly part: about 3 CPU-minutes per 1,000 rows with the
shipped model at 256 training rows, see ``benchmarks/results/generators.md``).

>>> gen = TabEBMGenerator(n_steps=50).fit(X_train, y_train)     # doctest: +SKIP
>>> X_syn, y_syn = gen.sample(200, random_state=0)              # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from causalmix.data import allocate
from causalmix.generators import Generator
from causalmix.model import DEFAULT_MODEL, load_classifier, resolve_device
from causalmix.params import Check, Interval, Options

__all__ = ["PAPER_SETTINGS", "TabEBMGenerator"]

#: The settings of the TabEBM reference code (github.com/andreimargeloiu/TabEBM, ``TabEBM.generate``
#: and its tutorial's preprocessing) where they differ from the defaults; the step size, noise, steps,
#: starting points and surrogate negatives already equal the reference's.
PAPER_SETTINGS: dict[str, Any] = {"energy_reduction": "mean", "categorical_space": "onehot", "logit_temperature": 0.9}


class TabEBMGenerator(Generator):
    """Class-specific energy-based models from a TabPFN network, sampled with SGLD.

    Args:
        model: the TabPFN network, a model spec of :func:`causalmix.model.load_classifier`
            (default ``"causalmix-wide"``, the shipped offline model; ``"tabpfn-v2"`` for the
            real weights).
        n_steps: SGLD steps (200, as the paper).
        step_size: SGLD step size on the energy gradient (0.1, as the paper).
        noise_std: SGLD noise standard deviation (0.01, as the paper).
        start_noise_std: Gaussian noise added to the real rows the chains start from (0.01).
        negative_distance: the surrogate negatives' distance from the origin per coordinate of
            the standardized space (5, as the paper).
        n_negatives: surrogate negative rows per class (4: two opposite pairs of corners).
        class_balance: ``"proportional"`` (default) splits ``n`` in proportion to the real class
            counts, ``"balanced"`` evenly.
        pool_size: rows drawn once at fit and then sampled from (1024); ``None``: fresh chains at
            every sample call.
        device: ``"cpu"`` or ``"cuda"`` (``"auto"``: CUDA when visible).
        energy_reduction: what the SGLD gradient differentiates: ``"sum"`` of the chains' energies
            (each chain follows its own gradient; default, the published study's) or their
            ``"mean"`` (the reference code's: each chain's gradient divided by the class's number
            of chains).
        categorical_space: a categorical column in the chains' space: its standardized level
            ``"codes"`` (default) or ``"onehot"`` 0/1 indicator columns (the reference's; decoded
            to the level of the largest indicator).
        logit_temperature: the energy is ``-logsumexp(f(x) / logit_temperature)`` (1: raw logits,
            default; 0.9: the temperature-scaled logits of the reference's TabPFN v2 code).
        resample_ratio: synthetic rows per real row that :meth:`fit_resample` adds (1.0: SPEC's
            1 synthetic : 1 real mix).
        random_state: seeds the choice of the surrogate corners and the pool's chains, and
            :meth:`fit_resample`'s draw (default 0).

    Fitted attributes: ``mean_``, ``scale_`` (the standardization), ``negatives_`` (class ->
    the standardized surrogate negatives), plus those of every generator.
    """

    name = "tabebm"
    parameter_constraints = {
        **Generator.parameter_constraints,
        "model": [str],
        "n_steps": [Interval("int", 0, None)],
        "step_size": [Interval("real", 0, None)],
        "noise_std": [Interval("real", 0, None)],
        "start_noise_std": [Interval("real", 0, None)],
        "negative_distance": [Interval("real", 0, None, closed="neither")],
        "n_negatives": [Check(lambda v: not isinstance(v, bool) and isinstance(v, (int, np.integer))
                              and v >= 2 and v % 2 == 0, "an even int >= 2 (opposite pairs)")],
        "class_balance": [Options("proportional", "balanced")],
        "pool_size": [Interval("int", 1, None), None],
        "device": [str],
        "energy_reduction": [Options("sum", "mean")],
        "categorical_space": [Options("codes", "onehot")],
        "logit_temperature": [Interval("real", 0, None, closed="neither")],
    }

    def __init__(self, *, model: str = DEFAULT_MODEL, n_steps: int = 200, step_size: float = 0.1,
                 noise_std: float = 0.01, start_noise_std: float = 0.01, negative_distance: float = 5.0,
                 n_negatives: int = 4, class_balance: Literal["proportional", "balanced"] = "proportional",
                 pool_size: int | None = 1024, device: str = "cpu",
                 energy_reduction: Literal["sum", "mean"] = "sum",
                 categorical_space: Literal["codes", "onehot"] = "codes", logit_temperature: float = 1.0,
                 resample_ratio: float = 1.0, random_state: int | None = 0):
        self.model = model
        self.n_steps = n_steps
        self.step_size = step_size
        self.noise_std = noise_std
        self.start_noise_std = start_noise_std
        self.negative_distance = negative_distance
        self.n_negatives = n_negatives
        self.class_balance = class_balance
        self.pool_size = pool_size
        self.device = device
        self.energy_reduction = energy_reduction
        self.categorical_space = categorical_space
        self.logit_temperature = logit_temperature
        self.resample_ratio = resample_ratio
        self.random_state = random_state

    # -- fitting -------------------------------------------------------------------------------
    def _fit(self, Xe: pd.DataFrame, ye: np.ndarray) -> None:
        X = self._to_space(Xe)
        self.mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        if self.categorical_space == "onehot":  # indicator columns stay 0/1 (the reference scales numerics only)
            onehot = np.concatenate([np.full(stop - start, kind == "onehot") for _, kind, start, stop in self.blocks_])
            self.mean_[onehot], self.scale_[onehot] = 0.0, 1.0
        self._Z = (X - self.mean_) / self.scale_
        self._ye = ye
        rng = np.random.default_rng(self.random_state)
        self.negatives_ = {c: self._corners(rng) for c in range(len(self.classes_))}
        self._network = None  # loaded on first use; not pickled
        self.pool_ = None
        if self.pool_size is not None:
            self.pool_ = self._chains(int(self.pool_size), rng)

    def _to_space(self, Xe: pd.DataFrame) -> np.ndarray:
        """The encoded rows in the space the chains move in (before standardization), and
        ``blocks_``: ``(column, kind, start, stop)`` of every column there. ``"codes"``: the
        encoding as it is (a categorical column is its level code); ``"onehot"``: a categorical
        column with L levels becomes L indicator columns."""
        if self.categorical_space == "codes":
            self.blocks_ = [(name, "value", i, i + 1) for i, name in enumerate(self.feature_names_in_)]
            return Xe.to_numpy(dtype=np.float64)
        blocks, parts, at = [], [], 0
        for spec in self.columns_:
            v = Xe[spec.name].to_numpy(dtype=np.float64)
            if spec.kind == "categorical" and spec.levels:
                width = len(spec.levels)
                parts.append((np.round(v)[:, None] == np.arange(width)[None, :]).astype(np.float64))
                blocks.append((spec.name, "onehot", at, at + width))
            else:
                width = 1
                parts.append(v[:, None])
                blocks.append((spec.name, "value", at, at + 1))
            at += width
        self.blocks_ = blocks
        return np.concatenate(parts, axis=1)

    def _from_space(self, X: np.ndarray) -> pd.DataFrame:
        """Rows of the chain space (unstandardized) -> the encoding: an indicator block becomes the
        code of its largest entry."""
        cols = {name: (X[:, start] if kind == "value" else np.argmax(X[:, start:stop], axis=1).astype(np.float64))
                for name, kind, start, stop in self.blocks_}
        return pd.DataFrame(cols, columns=list(self.feature_names_in_))

    def _corners(self, rng: np.random.Generator) -> np.ndarray:
        """``n_negatives`` distinct hypercube corners in opposite pairs (fewer if the space is tiny)."""
        p = self._Z.shape[1]
        pairs: list[np.ndarray] = []
        for _ in range(100 * self.n_negatives):
            if 2 * len(pairs) >= self.n_negatives:
                break
            corner = rng.choice([-1.0, 1.0], size=p)
            if not any(np.array_equal(corner, q) or np.array_equal(corner, -q) for q in pairs):
                pairs.append(corner)
        return self.negative_distance * np.concatenate([np.stack(pairs), -np.stack(pairs)])

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_network"] = None  # the weights are reloaded from the model spec, not pickled
        return state

    def network(self) -> torch.nn.Module:
        """The TabPFN network that defines the energies (frozen; loaded once)."""
        if getattr(self, "_network", None) is None:
            clf = load_classifier(self.model, device=resolve_device(self.device), n_estimators=1)
            clf._initialize_model_variables()
            net = clf.models_[0].eval()
            for p in net.parameters():
                p.requires_grad_(False)
            self._network = net
        return self._network

    # -- the energy and the dynamics ----------------------------------------------------------------
    def _context(self, c: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Class ``c``'s context on the network's device: its real rows (label 0), then its negatives (1)."""
        device = next(self.network().parameters()).device
        real = self._Z[self._ye == c]
        X = np.concatenate([real, self.negatives_[c]])
        y = np.concatenate([np.zeros(len(real)), np.ones(len(self.negatives_[c]))])
        return torch.as_tensor(X, dtype=torch.float32, device=device), torch.as_tensor(y, dtype=torch.float32, device=device)

    def context_cache(self, c: int, context: tuple[torch.Tensor, torch.Tensor] | None = None):
        """The network's encoding of class ``c``'s context (its keys and values at every layer and
        its fitted input statistics): fixed over a chain, so an SGLD step runs the network on the
        chains' rows alone. Gives the energies and gradients of the full forward bit for bit
        (``tests/test_tabebm.py``); ``None`` for a network without a context cache."""
        X_ctx, y_ctx = context or self._context(c)
        net = self.network()
        if "kv_cache" not in inspect.signature(net.forward).parameters:
            return None
        with torch.no_grad():
            _, cache = net(X_ctx[:, None, :], y_ctx[:, None], only_return_standard_out=True, return_kv_cache=True)
        return cache

    def energy(self, c: int, Z: torch.Tensor, context: tuple[torch.Tensor, torch.Tensor] | None = None,
               cache: Any = None) -> torch.Tensor:
        """The class-``c`` energy ``-logsumexp(f(z) / logit_temperature)`` of standardized rows ``Z``
        (differentiable); ``context``: :meth:`_context` of ``c``, when the caller evaluates many
        times; ``cache``: its :meth:`context_cache`, to run the network on ``Z`` alone."""
        if cache is not None:
            logits_QBC = self.network()(Z[:, None, :], None, only_return_standard_out=True, kv_cache=cache,
                                        x_is_test_only=True)
        else:
            X_ctx, y_ctx = context or self._context(c)
            x_RBF = torch.cat([X_ctx, Z.to(X_ctx.device)])[:, None, :]
            logits_QBC = self.network()(x_RBF, y_ctx[:, None], only_return_standard_out=True)
        logits = logits_QBC[:, 0, :2]
        if self.logit_temperature != 1.0:
            logits = logits / self.logit_temperature
        return -torch.logsumexp(logits, dim=-1)

    def langevin(self, c: int, n: int, rng: np.random.Generator, *, record: bool = False, cache: bool = True):
        """``n`` SGLD chains for class ``c``; returns the final standardized rows (and, with
        ``record``, the mean energy of the chains before every step and after the last).
        ``cache=False`` runs the full network (context and chains) at every step: the same rows,
        slower."""
        real = self._Z[self._ye == c]
        start = real[rng.integers(len(real), size=n)] + self.start_noise_std * rng.standard_normal((n, real.shape[1]))
        g = torch.Generator().manual_seed(int(rng.integers(2**31 - 1)))
        z = torch.as_tensor(start, dtype=torch.float32)
        context = self._context(c)  # fixed over the chain: built once, not at every step
        kv = self.context_cache(c, context) if cache and self.n_steps else None
        energies = []
        for _ in range(self.n_steps):
            z = z.detach().requires_grad_(True)
            e = self.energy(c, z, context, kv)
            # "mean": the reference code's total energy (the chains' mean), so a chain's gradient is 1/n of its own
            total = e.sum() if self.energy_reduction == "sum" else e.sum() / n
            (grad,) = torch.autograd.grad(total, z)
            if record:
                energies.append(float(e.detach().mean()))
            z = z.detach() - self.step_size * grad + self.noise_std * torch.randn(z.shape, generator=g)
        if record:
            with torch.no_grad():
                energies.append(float(self.energy(c, z, context, kv).mean()))
        out = z.detach().numpy().astype(np.float64)
        return (out, energies) if record else out

    def _chains(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` rows over the classes (``class_balance``), each class's from its own chains."""
        weights = self.class_counts_ if self.class_balance == "proportional" else np.ones(len(self.classes_))
        parts_Z, parts_y = [], []
        for c, k in enumerate(allocate(n, weights)):
            if k:
                parts_Z.append(self.langevin(c, int(k), rng))
                parts_y.append(np.full(int(k), c))
        return np.concatenate(parts_Z), np.concatenate(parts_y)

    def _sample(self, n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
        if self.pool_ is None:
            Z, y = self._chains(n, rng)
            perm = rng.permutation(len(y))
        else:
            Z, y = self.pool_
            perm = rng.choice(len(y), size=n, replace=n > len(y))
        X = Z[perm] * self.scale_ + self.mean_
        if self.categorical_space == "codes":
            return pd.DataFrame(X, columns=list(self.feature_names_in_)), y[perm]
        return self._from_space(X), y[perm]
