"""CausalMix: structural causal models fitted to a dataset, as a generator of extra training rows.

The method (SPEC.md, "Causal discovery"):

1. **Discovery.** PC and/or FCI (causal-learn) run on ``n_bootstrap`` bootstrap resamples of the
   real training rows each, with the label as one more node. The conditional-independence test is
   Fisher-z by default; categorical columns and the label enter it as blocks of indicator columns
   (``nominal_coding="onehot"``, collapsed back to one node per variable) or as codes (``"ordinal"``).
2. **Edge probabilities.** ``P[i, j]`` = share of runs whose graph supports ``i -> j``: a directed
   edge counts 1; an undirected (PC) or ``o-o`` (FCI) edge counts 1/2 each way; ``i o-> j`` counts 1
   for ``i -> j`` (the arrowhead rules out ``j -> i``; the circle leaves ``i -> j`` or a latent
   confounder); a bidirected ``i <-> j`` edge (a latent confounder) counts 1/2 each way, because a
   DAG over the observed columns must still carry that dependence. ``P[i, j] + P[j, i]`` is the
   share of runs in which the pair is adjacent.
3. **DAGs.** ``n_dags`` DAGs are drawn from ``P``: each pair is adjacent with probability
   ``P[i, j] + P[j, i]`` and oriented ``i -> j`` with probability ``P[i, j] / (P[i, j] + P[j, i])``;
   the drawn edges are inserted most confident first, and an edge that would close a cycle is
   inserted reversed (which can never close one), so every DAG is acyclic by construction and
   keeps every drawn adjacency.
4. **SCMs.** Each DAG is fitted with ``dowhy.gcm`` on a copy of the graph: roots get empirical
   distributions, numeric non-roots additive-noise models with the regressor that
   ``assign_causal_mechanisms`` selects at ``quality``, categorical non-roots (the label included)
   classifier mechanisms.
5. **Sampling.** ``n`` rows are spread evenly over the fitted SCMs; exogenous noise is propagated
   through each SCM, with numpy's global random state re-seeded (from ``random_state``)
   immediately before every draw, and restored afterwards. The label comes out of the SCM.

Columns outside the SCM (recorded in ``column_roles_``):

- ``"constant"``: at most one distinct value in the training rows; reproduced as is.
- ``"side"``: categorical columns with more than ``max_categories`` levels, and, on wide data,
  the columns beyond the ``max_features`` most informative about the label (mutual information).
  Side columns are copied, as a block, from a random real row *of the same synthetic label*: their
  marginals, their mutual dependence and their dependence on the label are kept, their dependence
  on the SCM features only through the label.

Missing values are imputed (median / most frequent level) for discovery and fitting, and put back
at each column's observed rate after sampling (see :mod:`causalmix.generators`).

Fallbacks are recorded in ``fallbacks_`` (and warned with :class:`CausalMixFallbackWarning`):
a DAG whose label node has no edge gets ``label -> f`` for every root feature ``f`` (with no edges
discovered at all this is a naive-Bayes graph), so synthetic labels always depend on the features.

>>> gen = CausalMixGenerator(random_state=0).fit(X_train, y_train)   # doctest: +SKIP
>>> gen.edge_probabilities_.round(2)                                 # doctest: +SKIP
>>> X_syn, y_syn = gen.sample(256, random_state=1)                   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
import warnings
from typing import Literal, Sequence

import networkx as nx
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from causalmix.generators import Generator, GeneratorFallbackWarning, allocate

__all__ = [
    "CausalMixFallbackWarning", "CausalMixGenerator", "DiscoveryTimeoutError", "draw_rows", "edge_probabilities",
    "edge_support", "fit_scm", "sample_dag", "sample_dags",
]

Algorithm = Literal["pc", "fci"]
IndepTest = Literal["fisherz", "kci", "rcit", "fastkci", "chisq", "gsq"]
Quality = Literal["good", "better"]
NominalCoding = Literal["ordinal", "onehot"]

_TAIL, _ARROW, _CIRCLE = -1, 1, 2


class DiscoveryTimeoutError(RuntimeError):
    """Causal discovery ran past its ``time_budget``."""


class CausalMixFallbackWarning(GeneratorFallbackWarning):
    """A CausalMix fit used a documented fallback (also recorded in ``fallbacks_``)."""


def edge_support(graph_ji: np.ndarray) -> np.ndarray:
    """Turn a causal-learn endpoint matrix into a support matrix ``S[i, j]`` for ``i -> j``.

    ``graph_ji[i, j]`` is the endpoint mark *at i* of the edge between i and j (causal-learn
    convention: -1 tail, 1 arrow, 2 circle, 0 no edge). See the module docstring for the rule.

    >>> g = np.array([[0, -1], [1, 0]])   # 0 -> 1
    >>> edge_support(g)
    array([[0., 1.],
           [0., 0.]])
    """
    g = np.asarray(graph_ji)
    d = g.shape[0]
    S = np.zeros((d, d))
    for i in range(d):
        for j in range(i + 1, d):
            mi, mj = g[i, j], g[j, i]
            if mi == 0 and mj == 0:
                continue
            if mj == _ARROW and mi != _ARROW or mi == _TAIL and mj == _CIRCLE:
                S[i, j] = 1.0
            elif mi == _ARROW and mj != _ARROW or mj == _TAIL and mi == _CIRCLE:
                S[j, i] = 1.0
            else:  # undirected, o-o, bidirected, or a multi-edge mark
                S[i, j] = S[j, i] = 0.5
    return S


def sample_dag(edge_probabilities: pd.DataFrame, random_state: int | np.random.Generator | None = None) -> nx.DiGraph:
    """Draw one DAG from a matrix of edge probabilities ``P[i, j]`` (rows: source, columns: target).

    Each pair is adjacent with probability ``P[i, j] + P[j, i]`` (capped at 1) and oriented
    ``i -> j`` with probability ``P[i, j] / (P[i, j] + P[j, i])``. Edges are inserted most
    confident orientation first; one that would close a cycle is inserted reversed, which cannot
    close one (that would need paths both ways in a DAG). Acyclic by construction, every drawn
    adjacency kept.

    >>> P = pd.DataFrame([[0, 1.0], [0, 0]], index=["a", "b"], columns=["a", "b"])
    >>> list(sample_dag(P, 0).edges)
    [('a', 'b')]
    """
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    names = list(edge_probabilities.index)
    if list(edge_probabilities.columns) != names:
        raise ValueError("edge_probabilities must be square with the same labels on rows and columns.")
    P = edge_probabilities.to_numpy(dtype=float)
    if (P < 0).any() or (P > 1).any():
        raise ValueError("edge probabilities must lie in [0, 1].")
    d = len(names)
    drawn = []  # (confidence, source, target)
    for i in range(d):
        for j in range(i + 1, d):
            adj = P[i, j] + P[j, i]
            if adj <= 0 or rng.random() >= min(adj, 1.0):
                continue
            p_ij = P[i, j] / adj
            src, dst = (i, j) if rng.random() < p_ij else (j, i)
            drawn.append((max(p_ij, 1 - p_ij), src, dst))
    dag = nx.DiGraph()
    dag.add_nodes_from(names)
    for _, src, dst in sorted(drawn, key=lambda t: -t[0]):
        a, b = names[src], names[dst]
        if nx.has_path(dag, b, a):
            a, b = b, a
        dag.add_edge(a, b)
    return dag


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


def edge_probabilities(
    data: pd.DataFrame,
    *,
    algorithms: Sequence[Algorithm] = ("pc", "fci"),
    indep_test: IndepTest = "fisherz",
    alpha: float = 0.05,
    n_bootstrap: int = 5,
    time_budget: float | None = None,
    random_state: int | np.random.Generator | None = 0,
    progress: bool = False,
    return_details: bool = False,
    nominal: Sequence[str] = (),
    nominal_coding: NominalCoding = "ordinal",
):
    """Step 1-2: the edge-probability matrix of ``data`` (all columns numeric: categorical ones as
    codes, the label as one more column) from PC and/or FCI on ``n_bootstrap`` bootstrap resamples
    each. ``P[i, j]`` = share of the runs whose graph supports ``i -> j`` (module docstring).

    ``nominal`` columns (integer codes of unordered categories, e.g. a multiclass label) enter the
    Fisher-z test as their codes (``nominal_coding="ordinal"``) or as blocks of indicator columns
    (``"onehot"``: one indicator per level but the first; a run's edge between two variables is the
    strongest edge between their blocks, directed when the blocks agree on a direction, half each
    way otherwise), so a dependence on a middle code is not missed.

    Returns a labelled DataFrame (rows: source, columns: target); with ``return_details``, also
    ``(runs per algorithm, errors of failed runs)``. A failed resample is skipped and reported;
    running past ``time_budget`` seconds raises :class:`DiscoveryTimeoutError`.

    >>> rng = np.random.default_rng(0); a = rng.normal(size=300)
    >>> P = edge_probabilities(pd.DataFrame({"a": a, "b": a + 0.1 * rng.normal(size=300)}), n_bootstrap=2)
    >>> float(P.loc["a", "b"] + P.loc["b", "a"])   # adjacent in every run
    1.0
    """
    from causallearn.search.ConstraintBased.FCI import fci
    from causallearn.search.ConstraintBased.PC import pc

    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    algorithms = (algorithms,) if isinstance(algorithms, str) else tuple(algorithms)
    if nominal_coding not in ("ordinal", "onehot"):
        raise ValueError(f"nominal_coding must be 'ordinal' or 'onehot', got {nominal_coding!r}.")
    names = list(data.columns)
    X, blocks = _design(data, nominal if nominal_coding == "onehot" else ())
    m, d = X.shape
    runs = {a: 0 for a in algorithms}
    errors: list[str] = []
    total = np.zeros((len(names), len(names)))
    if len(names) >= 2:
        # a tiny jitter keeps Fisher-z's correlation matrix invertible when a resample makes a
        # column constant or two columns identical; it moves correlations by ~1e-12
        scale = X.std(axis=0)
        scale[scale == 0] = 1.0
        start = time.perf_counter()
        for b in tqdm(range(n_bootstrap), desc="CausalMix: discovery", disable=not progress, leave=False):
            for algo in algorithms:
                if time_budget is not None and time.perf_counter() - start > time_budget:
                    raise DiscoveryTimeoutError(
                        f"Causal discovery ran past time_budget={time_budget} s before its "
                        f"{len(algorithms) * n_bootstrap} bootstrap runs were done. Raise time_budget, "
                        f"lower n_bootstrap or max_features, or set time_budget=None."
                    )
                rows = rng.integers(m, size=m)
                sample = X[rows] + 1e-6 * scale * rng.standard_normal((m, d))
                try:
                    with _quiet():
                        if algo == "pc":
                            graph = pc(sample, alpha=alpha, indep_test=indep_test, show_progress=False).G.graph
                        else:
                            graph, _ = fci(sample, independence_test_method=indep_test, alpha=alpha,
                                           show_progress=False, verbose=False)
                            graph = graph.graph
                except Exception as err:  # a failed resample is skipped and reported, not fatal
                    errors.append(f"{algo} bootstrap {b}: {type(err).__name__}: {err}")
                    continue
                total += _collapse(edge_support(graph), blocks)
                runs[algo] += 1
        if sum(runs.values()) == 0:
            raise RuntimeError(
                "Every causal-discovery run failed; first error: " + (errors[0] if errors else "none recorded")
                + ". Check the data for degenerate columns (constant, duplicated) or use fewer features."
            )
    P = pd.DataFrame(total / max(1, sum(runs.values())), index=pd.Index(names, name="source"),
                     columns=pd.Index(names, name="target"))
    return (P, runs, errors) if return_details else P


def _design(data: pd.DataFrame, onehot: Sequence[str]) -> tuple[np.ndarray, list[list[int]]]:
    """The matrix the CI tests see, and each variable's block of its columns: ``onehot`` variables
    with more than two levels become indicator columns (all levels but the first)."""
    parts, blocks, at = [], [], 0
    for name in data.columns:
        v = data[name].to_numpy(dtype=float)
        levels = np.unique(v) if name in onehot else np.array([])
        cols = [(v == lv).astype(float) for lv in levels[1:]] if len(levels) > 2 else [v]
        parts.extend(cols)
        blocks.append(list(range(at, at + len(cols))))
        at += len(cols)
    return np.column_stack(parts), blocks


def _collapse(S: np.ndarray, blocks: list[list[int]]) -> np.ndarray:
    """A support matrix over indicator columns -> over the variables (see :func:`edge_probabilities`)."""
    if all(len(b) == 1 for b in blocks):
        return S
    k = len(blocks)
    out = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            fwd, bwd = S[np.ix_(blocks[i], blocks[j])].max(), S[np.ix_(blocks[j], blocks[i])].max()
            if fwd == 1 and bwd < 1:
                out[i, j] = 1.0
            elif bwd == 1 and fwd < 1:
                out[j, i] = 1.0
            elif fwd > 0 or bwd > 0:
                out[i, j] = out[j, i] = 0.5
    return out


def sample_dags(edge_probabilities: pd.DataFrame, n: int, random_state: int | np.random.Generator | None = 0
                ) -> list[nx.DiGraph]:
    """Step 3: ``n`` DAGs drawn from the edge probabilities (:func:`sample_dag` each)."""
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    return [sample_dag(edge_probabilities, rng) for _ in range(n)]


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


class CausalMixGenerator(Generator):
    """Synthetic rows from SCMs fitted to the data (CausalMixFT). See the module docstring.

    Parameters (keyword-only):
        algorithms: discovery algorithms, any of ``"pc"``, ``"fci"``. Default both, as in the paper.
        indep_test: causal-learn CI test. Default ``"fisherz"`` (fast; 0.2-0.6 s per run at 500 rows).
            ``"kci"``/``"rcit"``/``"fastkci"`` are nonparametric but take minutes at 10-20 columns:
            for small problems only; their kernels also see the duplicated rows of a bootstrap
            resample, which makes edge probabilities noisier than with Fisher-z on small data.
        alpha: significance level of the CI tests. Default 0.05 (SPEC).
        n_bootstrap: bootstrap resamples per algorithm. Default 5: with both algorithms, 10 runs
            give edge probabilities in steps of 0.05 for about 2 s of CPU at 256 rows x 21 nodes
            (PC 0.14 s, FCI 0.21 s per run, measured on credit-g).
        n_dags: DAGs drawn and fitted. Default 3: three DAGs already mix the uncertain
            orientations. Model selection runs for each node of each DAG, on that node's parents
            there (:func:`fit_scm`); a node whose parent set repeats across DAGs reuses its fit.
        quality: dowhy ``AssignmentQuality``, ``"good"`` (default, fast) or ``"better"`` (larger
            model zoo, several times slower). ``"best"`` needs AutoGluon and is not offered.
        max_features: most features kept in the SCM (by mutual information with the label); the
            rest become side columns. Default 20 (credit-g's width; fit time grows with the
            number of nodes, about 0.5 s of CPU per categorical node); ``None`` keeps all.
        max_categories: categorical columns with more levels become side columns. Default 30.
        selection_rows: dowhy's model selection (5-fold cross-validation over the quality's model
            zoo, the bulk of the fit time) runs on at most this many random rows; the selected
            mechanism is then fitted on all rows. Default 256, the largest training size of the
            low-data grid below 512; ``None``: all rows.
        time_budget: seconds allowed for the discovery bootstraps. Default ``None`` (no limit).
            Nothing computed depends on elapsed time: a fit that runs past the budget raises
            :class:`DiscoveryTimeoutError` (a failed, recorded run), it never silently uses fewer
            bootstraps.
        clip_to_range: clip numeric SCM outputs to the observed [min, max]. Default True (an
            additive-noise model can extrapolate, e.g. to negative counts).
        random_state: seed of the bootstraps, DAG draws and mechanism fitting. Default 0.
        progress: show a tqdm bar over the discovery runs and the SCM fits. Default False (the
            generator is fitted once per run inside sweeps that have their own progress bars).
        dag: a researcher's DAG (``networkx.DiGraph`` over the SCM columns and the label, named
            as the label series or ``"label"``) used instead of discovery: every sampled DAG is it
            (the label-isolation fallback aside). Default ``None``: discover.
        edge_probabilities: a researcher's edge-probability matrix (DataFrame, source rows x
            target columns, same node names) used instead of discovery. Default ``None``.
        nominal_coding: how categorical columns and the label enter the CI tests (see
            :func:`edge_probabilities`): ``"onehot"`` indicator blocks (default: on a known SCM with
            a 3-class nominal label they recover the edges through the middle code, adjacency 1.00
            vs 0.03-0.05 with codes, at about twice the fit time; ``benchmarks/nominal_discovery.py``)
            or ``"ordinal"`` codes (the earlier behaviour).

    The steps are public functions a researcher can call one by one: :func:`edge_probabilities`
    (discovery) -> :func:`sample_dags` -> :func:`fit_scm` -> :func:`draw_rows`.

    Fitted attributes: ``edge_probabilities_`` (DataFrame, source rows x target columns),
    ``dags_`` (tuple of ``networkx.DiGraph``), ``scms_`` (fitted ``gcm.StructuralCausalModel``),
    ``column_roles_`` (column -> "scm" / "side" / "constant"), ``label_node_``,
    ``n_discovery_runs_`` (algorithm -> successful runs), ``discovery_errors_``, ``fallbacks_``,
    ``fit_seconds_`` (stage -> wall seconds).
    """

    name = "causalmix"

    def __init__(
        self,
        *,
        algorithms: Sequence[Algorithm] = ("pc", "fci"),
        indep_test: IndepTest = "fisherz",
        alpha: float = 0.05,
        n_bootstrap: int = 5,
        n_dags: int = 3,
        quality: Quality = "good",
        max_features: int | None = 20,
        max_categories: int = 30,
        selection_rows: int | None = 256,
        time_budget: float | None = None,
        clip_to_range: bool = True,
        random_state: int | None = 0,
        progress: bool = False,
        dag: nx.DiGraph | None = None,
        edge_probabilities: pd.DataFrame | None = None,
        nominal_coding: NominalCoding = "onehot",
    ):
        self.algorithms = algorithms
        self.indep_test = indep_test
        self.alpha = alpha
        self.n_bootstrap = n_bootstrap
        self.n_dags = n_dags
        self.quality = quality
        self.max_features = max_features
        self.max_categories = max_categories
        self.selection_rows = selection_rows
        self.time_budget = time_budget
        self.clip_to_range = clip_to_range
        self.random_state = random_state
        self.progress = progress
        self.dag = dag
        self.edge_probabilities = edge_probabilities
        self.nominal_coding = nominal_coding

    # ------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        algos = (self.algorithms,) if isinstance(self.algorithms, str) else tuple(self.algorithms)
        bad = [a for a in algos if a not in ("pc", "fci")]
        if not algos or bad:
            raise ValueError(f"algorithms must be a non-empty subset of ('pc', 'fci'), got {self.algorithms!r}.")
        if self.indep_test not in ("fisherz", "kci", "rcit", "fastkci", "chisq", "gsq"):
            raise ValueError(
                f"indep_test {self.indep_test!r} is not supported; use 'fisherz' (default), 'kci', 'rcit', "
                "'fastkci', 'chisq' or 'gsq'."
            )
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha!r}.")
        for p in ("n_bootstrap", "n_dags"):
            v = getattr(self, p)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{p} must be a positive int, got {v!r}.")
        if self.quality not in ("good", "better"):
            hint = " ('best' needs AutoGluon, which is not a dependency)" if self.quality == "best" else ""
            raise ValueError(f"quality must be 'good' or 'better', got {self.quality!r}{hint}.")
        if self.max_features is not None and (not isinstance(self.max_features, (int, np.integer)) or self.max_features < 1):
            raise ValueError(f"max_features must be a positive int or None, got {self.max_features!r}.")
        if not isinstance(self.max_categories, (int, np.integer)) or self.max_categories < 2:
            raise ValueError(f"max_categories must be an int >= 2, got {self.max_categories!r}.")
        if self.selection_rows is not None and (not isinstance(self.selection_rows, (int, np.integer)) or self.selection_rows < 20):
            raise ValueError(f"selection_rows must be an int >= 20 or None, got {self.selection_rows!r}.")
        if self.time_budget is not None and self.time_budget <= 0:
            raise ValueError(f"time_budget must be positive seconds or None, got {self.time_budget!r}.")
        if self.dag is not None and self.edge_probabilities is not None:
            raise ValueError("Give dag or edge_probabilities, not both.")
        self._algos = algos

    def _fallback(self, message: str) -> None:
        self._fallbacks.append(message)
        warnings.warn(message, CausalMixFallbackWarning, stacklevel=4)

    def _fit(self, Xe: pd.DataFrame, ye: np.ndarray) -> None:
        self._check_params()
        self._fallbacks: list[str] = []
        self.discovery_errors_: list[str] = []
        rng = np.random.default_rng(self.random_state)
        t0 = time.perf_counter()
        self._assign_roles(Xe, ye, rng)
        names = self._scm_columns + [self.label_node_]
        data = Xe[self._scm_columns].copy()
        data[self.label_node_] = ye.astype(float)
        t1 = time.perf_counter()
        if self.dag is not None or self.edge_probabilities is not None:  # the researcher's graph
            P = self._given_edge_probabilities(names)
            self.n_discovery_runs_ = {}
        else:
            P = self._discover(data, rng)
        self.edge_probabilities_ = P
        if len(names) > 1 and not P.to_numpy().any():
            self._fallback(
                "Discovery found no edges in any run: every DAG falls back to the naive-Bayes graph "
                "label -> each feature."
            )
        t2 = time.perf_counter()
        self.dags_ = tuple(self._draw_dag(P.to_numpy(), names, rng) for _ in range(self.n_dags))
        t3 = time.perf_counter()
        frame, cache = self._to_dowhy_frame(Xe, ye), {}
        if self.selection_rows is not None and len(frame) > self.selection_rows:
            subset = frame.iloc[np.sort(rng.choice(len(frame), self.selection_rows, replace=False))]
        else:
            subset = frame
        dags = tqdm(self.dags_, desc="CausalMix: fitting SCMs", disable=not self.progress, leave=False)
        categorical = [*self._categorical, self.label_node_]
        self.scms_ = tuple(
            fit_scm(dag, frame, quality=self.quality, categorical=categorical, selection_data=subset,
                    random_state=int(rng.integers(2**31 - 1)), cache=cache, on_fallback=self._fallback)
            for dag in dags
        )
        t4 = time.perf_counter()
        self._side = Xe[[c for c, r in self.column_roles_.items() if r != "scm"]].to_numpy(dtype=float)
        self._side_cols = [c for c, r in self.column_roles_.items() if r != "scm"]
        self._ye = ye
        self.fallbacks_ = tuple(self._fallbacks)
        self.fit_seconds_ = {"roles": t1 - t0, "discovery": t2 - t1, "dags": t3 - t2, "mechanisms": t4 - t3}

    def _given_edge_probabilities(self, names: list[str]) -> pd.DataFrame:
        """The researcher's ``dag`` (as 0/1 probabilities) or ``edge_probabilities``, over the SCM's nodes."""
        label_aliases = {str(self._y_name) if self._y_name is not None else "target", "label", self.label_node_}
        if self.dag is not None:
            dag = nx.DiGraph(self.dag)
            if not nx.is_directed_acyclic_graph(dag):
                raise ValueError("dag must be acyclic (a networkx.DiGraph without directed cycles).")
            given = pd.DataFrame(0.0, index=list(dag.nodes), columns=list(dag.nodes))
            for a, b in dag.edges:
                given.loc[a, b] = 1.0
        else:
            given = pd.DataFrame(self.edge_probabilities).astype(float)
        rename = {n: self.label_node_ for n in given.index if n in label_aliases and n not in self._scm_columns}
        given = given.rename(index=rename, columns=rename)
        unknown = sorted(set(given.index) - set(names))
        if unknown:
            raise ValueError(f"The given graph names {unknown}, which are not SCM nodes {names} (the label node is "
                             f"{self.label_node_!r}; side and constant columns are not nodes: see column_roles_).")
        P = given.reindex(index=names, columns=names, fill_value=0.0)
        if ((P < 0) | (P > 1)).to_numpy().any():
            raise ValueError("edge probabilities must lie in [0, 1].")
        P.index.name, P.columns.name = "source", "target"
        return P

    # -- 0. column roles ------------------------------------------------------------------
    def _assign_roles(self, Xe: pd.DataFrame, ye: np.ndarray, rng: np.random.Generator) -> None:
        label = str(self._y_name) if self._y_name is not None else "target"
        while label in Xe.columns:
            label = f"_{label}"
        self.label_node_ = label
        roles: dict[str, str] = {}
        for spec in self.columns_:
            if Xe[spec.name].nunique() <= 1:
                roles[spec.name] = "constant"
            elif spec.kind == "categorical" and len(spec.levels) > self.max_categories:
                roles[spec.name] = "side"
                self._fallback(
                    f"Column {spec.name!r} has {len(spec.levels)} levels (> max_categories={self.max_categories}): "
                    "modelled as a side column (copied from real rows of the same label)."
                )
            else:
                roles[spec.name] = "scm"
        candidates = [c for c, r in roles.items() if r == "scm"]
        if self.max_features is not None and len(candidates) > self.max_features:
            from sklearn.feature_selection import mutual_info_classif

            discrete = [self.columns_[list(self.feature_names_in_).index(c)].kind == "categorical" for c in candidates]
            mi = mutual_info_classif(
                Xe[candidates].to_numpy(dtype=float), ye, discrete_features=np.array(discrete),
                random_state=int(rng.integers(2**31 - 1)),
            )
            keep = {candidates[i] for i in np.argsort(-mi, kind="stable")[: self.max_features]}
            for c in candidates:
                if c not in keep:
                    roles[c] = "side"
        self.column_roles_ = roles
        self._scm_columns = [c for c, r in roles.items() if r == "scm"]

    # -- 1-2. discovery and edge probabilities --------------------------------------------
    def _discover(self, data: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        P, runs, errors = edge_probabilities(
            data, algorithms=self._algos, indep_test=self.indep_test, alpha=self.alpha, n_bootstrap=self.n_bootstrap,
            time_budget=self.time_budget, random_state=rng, progress=self.progress, return_details=True,
            nominal=[*self._categorical, self.label_node_], nominal_coding=self.nominal_coding)
        self.n_discovery_runs_, self.discovery_errors_ = runs, errors
        if sum(runs.values()) < len(self._algos) * self.n_bootstrap:
            self._fallback(f"Discovery used {sum(runs.values())} of {len(self._algos) * self.n_bootstrap} bootstrap "
                           f"runs ({len(errors)} failed).")
        return P

    # -- 3. DAG sampling ------------------------------------------------------------------
    def _draw_dag(self, P: np.ndarray, names: list[str], rng: np.random.Generator) -> nx.DiGraph:
        dag = sample_dag(pd.DataFrame(P, index=names, columns=names), rng)
        label = names[-1]
        if len(names) > 1 and dag.degree(label) == 0:
            roots = [v for v in names[:-1] if dag.in_degree(v) == 0]
            dag.add_edges_from((label, v) for v in roots)  # label has no parents: stays acyclic
            if P.any():
                self._fallback(
                    f"A sampled DAG left the label isolated: added label -> {len(roots)} root feature(s)."
                )
        return dag

    # -- 4. SCM fitting -------------------------------------------------------------------
    def _to_dowhy_frame(self, Xe: pd.DataFrame, ye: np.ndarray) -> pd.DataFrame:
        cols = {}
        self._center, self._scale = {}, {}
        for c in self._scm_columns:
            v = Xe[c].to_numpy(dtype=float)
            if c in self._categorical:
                # string values make dowhy pick classifier mechanisms
                cols[c] = np.array([f"k{int(k)}" for k in v], dtype=object)
            else:
                # z-scores: the mechanisms are scale-equivariant, and the logistic regressions of
                # dowhy's model selection converge many times faster on standardized parents
                self._center[c], self._scale[c] = v.mean(), v.std() or 1.0
                cols[c] = (v - self._center[c]) / self._scale[c]
        cols[self.label_node_] = np.array([f"k{int(k)}" for k in ye], dtype=object)
        return pd.DataFrame(cols)

    # -- 5. sampling ----------------------------------------------------------------------
    def _sample(self, n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
        draws = draw_rows(self.scms_, n, rng)
        ye = np.array([int(str(v)[1:]) for v in draws[self.label_node_]], dtype=np.int64)
        out = {}
        specs = {s.name: s for s in self.columns_}
        for c in self._scm_columns:
            if c in self._categorical:
                out[c] = np.array([float(str(v)[1:]) for v in draws[c]])
            else:
                v = draws[c].to_numpy(dtype=float) * self._scale[c] + self._center[c]
                if self.clip_to_range:
                    v = np.clip(v, specs[c].low, specs[c].high)
                out[c] = v
        if self._side_cols:
            donors = np.empty(n, dtype=np.int64)
            for k in np.unique(ye):
                rows = np.flatnonzero(self._ye == k)
                sel = ye == k
                donors[sel] = rows[rng.integers(len(rows), size=int(sel.sum()))]
            for idx, c in enumerate(self._side_cols):
                out[c] = self._side[donors, idx]
        return pd.DataFrame(out)[list(self.feature_names_in_)], ye
