"""CausalMix steps 0, 4 and 5 (the table the SCM models, SCM fitting, drawing rows); steps 1-3
(discovery, DAGs) are in :mod:`causalmix.discovery`. Every step is a seeded public function, all
importable from :mod:`causalmix.scm`; :class:`~causalmix.scm.CausalMixGenerator` is their
composition, so this sequence gives exactly the generator's rows (``tests/test_scm.py`` checks it
bit for bit)::

    codec = TableCodec().fit(X, y)                                          # causalmix.generators
    Xe, ye = codec.encode(X, y)                                             # imputed, encoded
    rng = np.random.default_rng(random_state)                               # the fit's one stream
    table = scm_table(Xe, ye, codec.columns_, label=str(y.name), max_features=20, max_categories=30,
                      random_state=rng)                                     # 0. roles, frames
    P = edge_probabilities(table.discovery_data, n_bootstrap=5, random_state=rng,
                           nominal=table.categorical, nominal_coding="onehot")  # 1-2. discovery
    dags = sample_dags(P, 3, rng, label=table.label)                        # 3. DAGs
    subset, cache = subsample_rows(table.frame, 256, rng), {}               # 4a. selection rows
    scms = [fit_scm(dag, table.frame, categorical=table.categorical, selection_data=subset,
                    random_state=int(rng.integers(2**31 - 1)), cache=cache) for dag in dags]  # 4. SCMs
    draw = np.random.default_rng(seed)                                      # the sample's stream
    Xe_syn, ye_syn = table.decode(draw_rows(scms, n, draw), draw)           # 5. rows, side columns
    X_syn, y_syn = codec.decode(Xe_syn, ye_syn, draw)                       # dtypes, missing values

which equals ``CausalMixGenerator(n_bootstrap=5, n_dags=3, random_state=random_state).fit(X, y)
.sample(n, random_state=seed)``. The method behind each step is described in :mod:`causalmix.scm`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import warnings
from typing import Callable, Literal, Sequence

import networkx as nx
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from causalmix.data import allocate
from causalmix.generator_base import ColumnSpec, GeneratorFallbackWarning

__all__ = [
    "CausalMixFallbackWarning", "Quality", "SCMTable", "draw_rows", "fit_scm", "scm_table", "subsample_rows",
]

Quality = Literal["good", "better"]
OnFallback = Callable[[str], None]


class CausalMixFallbackWarning(GeneratorFallbackWarning):
    """A CausalMix fit used a documented fallback (also recorded in ``fallbacks_``)."""


def _warn(message: str) -> None:
    """The steps' default ``on_fallback``: a :class:`CausalMixFallbackWarning`."""
    warnings.warn(message, CausalMixFallbackWarning, stacklevel=3)


@contextlib.contextmanager
def _quiet():
    """Silence dowhy/causal-learn progress bars, prints, warnings and logging; run dowhy's model
    selection in this process (its default, one worker process per core, only adds overhead here)."""
    from dowhy.gcm import config

    old_bars, old_jobs = config.show_progress_bars, config.default_n_jobs
    config.show_progress_bars = False
    config.default_n_jobs = 1
    loggers = [logging.getLogger(n) for n in ("dowhy", "causallearn")]
    old_levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        # one BLAS/OpenMP thread: on a shared 2-core machine, scikit-learn's OpenMP models slow
        # down by 10x or more when they oversubscribe (measured on dowhy's model selection)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), threadpool_limits(1):
            warnings.simplefilter("ignore")
            yield
    finally:
        config.show_progress_bars, config.default_n_jobs = old_bars, old_jobs
        for lg, lvl in zip(loggers, old_levels):
            lg.setLevel(lvl)


@contextlib.contextmanager
def _global_numpy_seed(seed: int):
    """dowhy draws from numpy's global state: seed it, and give the caller's state back after."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _selection_rows(subset: pd.DataFrame, node: str) -> pd.DataFrame:
    """Rows of the classes with at least 5 members, for selecting a classifier mechanism.

    dowhy scores each of its 5 stratified folds with the classes present in that fold and fails
    when a rare class is absent from one; the mechanism itself is fitted on all rows, rare classes
    included, afterwards.
    """
    counts = subset[node].value_counts()
    keep = subset[node].isin(counts.index[counts >= 5])
    return subset[keep] if not keep.all() and subset.loc[keep, node].nunique() >= 2 else subset


def fit_scm(
    dag: nx.DiGraph,
    data: pd.DataFrame,
    *,
    quality: Quality = "good",
    categorical: Sequence[str] = (),
    selection_data: pd.DataFrame | None = None,
    random_state: int = 0,
    cache: dict | None = None,
    on_fallback=None,
):
    """Step 4: an additive-noise SCM fitted on a copy of ``dag`` with ``dowhy.gcm``, node by node.

    Roots get empirical distributions; every other node gets the mechanism that dowhy's automatic
    assignment selects at ``quality`` *for its parents in this DAG* (regressors for numeric nodes,
    classifiers for ``categorical`` ones, whose values must be strings), selected on
    ``selection_data`` (default ``data``) and fitted on ``data``. ``cache`` (shared across the DAGs
    of one fit) reuses a mechanism already fitted for the same node and parent set. When selection
    fails, a linear (or logistic) mechanism is used and ``on_fallback(message)`` is told.

    >>> scm = fit_scm(dag, frame, categorical=["label"], random_state=0)   # doctest: +SKIP
    """
    from dowhy import gcm
    from dowhy.gcm.causal_mechanisms import AdditiveNoiseModel, ClassifierFCM
    from dowhy.gcm.causal_models import PARENTS_DURING_FIT
    from dowhy.gcm.ml import create_linear_regressor, create_logistic_regression_classifier

    cache = {} if cache is None else cache
    selection_data = data if selection_data is None else selection_data
    level = {"good": gcm.auto.AssignmentQuality.GOOD, "better": gcm.auto.AssignmentQuality.BETTER}[quality]
    scm = gcm.StructuralCausalModel(nx.DiGraph(dag))  # the model stores mechanisms on its graph: copy
    with _quiet(), _global_numpy_seed(random_state):
        for node in nx.topological_sort(scm.graph):
            parents = tuple(sorted(scm.graph.predecessors(node)))
            if (node, parents) in cache:
                scm.set_causal_mechanism(node, cache[node, parents])
                scm.graph.nodes[node][PARENTS_DURING_FIT] = list(parents)
                continue
            is_categorical = node in categorical
            if not parents:
                gcm.auto.assign_causal_mechanism_node(scm, node, selection_data, level)  # empirical
            else:
                try:
                    rows = _selection_rows(selection_data, node) if is_categorical else selection_data
                    gcm.auto.assign_causal_mechanism_node(scm, node, rows, level)
                except ValueError as err:
                    scm.set_causal_mechanism(
                        node,
                        ClassifierFCM(create_logistic_regression_classifier(max_iter=1000))
                        if is_categorical else AdditiveNoiseModel(create_linear_regressor()),
                    )
                    if on_fallback is not None:
                        on_fallback(f"Mechanism selection failed for {node!r} given {list(parents)} ({err}); used "
                                    + ("logistic regression." if is_categorical else "a linear additive-noise model."))
            gcm.fitting_sampling.fit_causal_model_of_target(scm, node, data)
            cache[node, parents] = scm.causal_mechanism(node)
    return scm


def draw_rows(scms: Sequence, n: int, random_state: int | np.random.Generator | None = 0) -> pd.DataFrame:
    """Step 5: ``n`` rows spread evenly over fitted SCMs: exogenous noise propagated through each,
    numpy's global state seeded right before each draw (and restored), the rows shuffled."""
    from dowhy import gcm

    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    counts = allocate(n, np.ones(len(scms)))
    seeds = rng.integers(2**31 - 1, size=len(scms))
    parts = []
    for scm, k, seed in zip(scms, counts, seeds):
        if k == 0:
            continue
        with _quiet(), _global_numpy_seed(int(seed)):
            parts.append(gcm.draw_samples(scm, num_samples=int(k)))
    draws = pd.concat(parts, ignore_index=True)
    return draws.iloc[rng.permutation(len(draws))].reset_index(drop=True)




# -- step 0: the table the SCM models ----------------------------------------------------------
@dataclasses.dataclass
class SCMTable:
    """Which columns the SCM models, and the tables the later steps take (from :func:`scm_table`).

    ``label``: the label node's name; ``roles``: column -> ``"scm"`` / ``"side"`` / ``"constant"``;
    ``nodes``: the SCM columns then the label; ``categorical``: the SCM's categorical nodes (the
    label last); ``discovery_data``: the SCM columns and the label codes as floats (for
    :func:`edge_probabilities`); ``frame``: what :func:`fit_scm` fits (numeric columns as
    z-scores, categorical ones and the label as strings ``"k{code}"``, which make dowhy pick
    classifier mechanisms); ``center``/``scale``: the z-scoring; ``low``/``high``: the observed
    range of each numeric column; ``side``/``labels``: the encoded side and constant columns and the
    label codes of the real rows, the donors of :meth:`decode`; ``feature_names``: all columns.
    """

    label: str
    roles: dict[str, str]
    nodes: list[str]
    categorical: list[str]
    discovery_data: pd.DataFrame
    frame: pd.DataFrame
    center: dict[str, float]
    scale: dict[str, float]
    low: dict[str, float]
    high: dict[str, float]
    side: pd.DataFrame
    labels: np.ndarray
    feature_names: list[str]

    def decode(self, draws: pd.DataFrame, random_state: int | np.random.Generator | None = 0, *,
               clip_to_range: bool = True) -> tuple[pd.DataFrame, np.ndarray]:
        """Step 5b: rows drawn from the SCMs (:func:`draw_rows`) -> ``(Xe, ye)`` in the encoded space
        of :class:`~causalmix.generator_base.TableCodec`: codes back from ``"k{code}"``, numeric
        values back from z-scores (clipped to the observed range with ``clip_to_range``), and
        the side and constant columns copied, as a block, from a random real row of the same
        synthetic label (drawn from ``random_state``)."""
        rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
        ye = np.array([int(str(v)[1:]) for v in draws[self.label]], dtype=np.int64)
        out = {}
        for c in self.nodes[:-1]:
            if c in self.categorical:
                out[c] = np.array([float(str(v)[1:]) for v in draws[c]])
            else:
                v = draws[c].to_numpy(dtype=float) * self.scale[c] + self.center[c]
                if clip_to_range:
                    v = np.clip(v, self.low[c], self.high[c])
                out[c] = v
        if len(self.side.columns):
            n = len(draws)
            donors = np.empty(n, dtype=np.int64)
            for k in np.unique(ye):
                rows = np.flatnonzero(self.labels == k)
                sel = ye == k
                donors[sel] = rows[rng.integers(len(rows), size=int(sel.sum()))]
            side = self.side.to_numpy(dtype=float)
            for idx, c in enumerate(self.side.columns):
                out[c] = side[donors, idx]
        return pd.DataFrame(out)[self.feature_names], ye


def scm_table(Xe: pd.DataFrame, ye: np.ndarray, columns: Sequence[ColumnSpec], *, label: str = "target",
              max_features: int | None = 20, max_categories: int = 30,
              random_state: int | np.random.Generator | None = 0, on_fallback: OnFallback | None = _warn
              ) -> SCMTable:
    """Step 0: assign each column its role and build the tables the SCM steps take.

    ``Xe``/``ye``: the imputed encoded rows and label codes of
    :meth:`TableCodec.encode <causalmix.generator_base.TableCodec.encode>`; ``columns``: its
    ``columns_``. A column with at most one distinct value is ``"constant"``; a categorical column
    with more than ``max_categories`` levels is ``"side"`` (``on_fallback`` is told); of the rest,
    beyond ``max_features``, those least informative about the label (mutual information, seeded
    from ``random_state``) are ``"side"``. ``label`` names the label node (prefixed with ``_`` while
    it clashes with a column).
    """
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    while label in Xe.columns:
        label = f"_{label}"
    specs = {s.name: s for s in columns}
    roles: dict[str, str] = {}
    for spec in columns:
        if Xe[spec.name].nunique() <= 1:
            roles[spec.name] = "constant"
        elif spec.kind == "categorical" and len(spec.levels) > max_categories:
            roles[spec.name] = "side"
            if on_fallback is not None:
                on_fallback(
                    f"Column {spec.name!r} has {len(spec.levels)} levels (> max_categories={max_categories}): "
                    "modelled as a side column (copied from real rows of the same label)."
                )
        else:
            roles[spec.name] = "scm"
    candidates = [c for c, r in roles.items() if r == "scm"]
    if max_features is not None and len(candidates) > max_features:
        from sklearn.feature_selection import mutual_info_classif

        discrete = [specs[c].kind == "categorical" for c in candidates]
        mi = mutual_info_classif(
            Xe[candidates].to_numpy(dtype=float), ye, discrete_features=np.array(discrete),
            random_state=int(rng.integers(2**31 - 1)),
        )
        keep = {candidates[i] for i in np.argsort(-mi, kind="stable")[:max_features]}
        for c in candidates:
            if c not in keep:
                roles[c] = "side"
    scm_columns = [c for c, r in roles.items() if r == "scm"]
    categorical = [c for c in scm_columns if specs[c].kind == "categorical"]
    data = Xe[scm_columns].copy()
    data[label] = ye.astype(float)
    cols, center, scale = {}, {}, {}
    for c in scm_columns:
        v = Xe[c].to_numpy(dtype=float)
        if c in categorical:
            cols[c] = np.array([f"k{int(k)}" for k in v], dtype=object)
        else:
            # z-scores: the mechanisms are scale-equivariant, and the logistic regressions of
            # dowhy's model selection converge many times faster on standardized parents
            center[c], scale[c] = v.mean(), v.std() or 1.0
            cols[c] = (v - center[c]) / scale[c]
    cols[label] = np.array([f"k{int(k)}" for k in ye], dtype=object)
    side_columns = [c for c, r in roles.items() if r != "scm"]
    return SCMTable(
        label=label, roles=roles, nodes=[*scm_columns, label], categorical=[*categorical, label],
        discovery_data=data, frame=pd.DataFrame(cols), center=center, scale=scale,
        low={c: specs[c].low for c in center}, high={c: specs[c].high for c in center},
        side=Xe[side_columns].copy(), labels=np.asarray(ye), feature_names=list(Xe.columns),
    )


def subsample_rows(frame: pd.DataFrame, n: int | None, random_state: int | np.random.Generator | None = 0
                   ) -> pd.DataFrame:
    """Step 4a: at most ``n`` random rows of ``frame`` (in their order; all when ``n`` is ``None`` or
    not smaller), the rows :func:`fit_scm`'s model selection runs on.

    >>> len(subsample_rows(pd.DataFrame({"a": range(10)}), 4, 0))
    4
    """
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    if n is not None and len(frame) > n:
        return frame.iloc[np.sort(rng.choice(len(frame), n, replace=False))]
    return frame
