"""CausalMix steps 1-3: causal discovery on bootstrap resamples, the edge-probability matrix, and
DAGs drawn from it (or a researcher's graph instead). The method is described in
:mod:`causalmix.scm`; the whole sequence of steps in :mod:`causalmix.scm_steps`.
"""

from __future__ import annotations

import contextlib
import time
import zlib
from typing import Literal, Sequence

import networkx as nx
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from causalmix.scm_steps import OnFallback, _quiet, _warn

__all__ = [
    "Algorithm", "DiscoveryTimeoutError", "IndepTest", "NominalCoding", "edge_probabilities", "edge_support",
    "given_edge_probabilities", "sample_dag", "sample_dags",
]

Algorithm = Literal["pc", "fci"]
IndepTest = Literal["fisherz", "kci", "rcit", "fastkci", "chisq", "gsq"]
NominalCoding = Literal["ordinal", "onehot"]

_TAIL, _ARROW, _CIRCLE = -1, 1, 2


@contextlib.contextmanager
def _fixed_node_hashes():
    """causal-learn's nodes and edges hash as their names (``hash(str)``, salted per process unless
    PYTHONHASHSEED is set), and FCI walks sets of them (possible-d-sep paths, orientation rules), so
    the order of its tests, hence its graph, could differ from one process to the next with the same
    data. While this is active they hash as a CRC-32 of the same text: the same order in every
    process. Graph objects built inside must not be used after it (their dicts hold the other hash)."""
    from causallearn.graph.Edge import Edge
    from causallearn.graph.GraphNode import GraphNode

    before = GraphNode.__dict__["__hash__"], Edge.__dict__["__hash__"]
    GraphNode.__hash__ = lambda self: zlib.crc32(self.name.encode())
    Edge.__hash__ = lambda self: zlib.crc32(str(self).encode())
    try:
        yield
    finally:
        GraphNode.__hash__, Edge.__hash__ = before


class DiscoveryTimeoutError(RuntimeError):
    """Causal discovery ran past its ``time_budget``."""


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
                    with _quiet(), _fixed_node_hashes():  # the matrix is taken inside
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


def sample_dags(edge_probabilities: pd.DataFrame, n: int, random_state: int | np.random.Generator | None = 0,
                *, label: str | None = None, on_fallback: OnFallback | None = _warn) -> list[nx.DiGraph]:
    """Step 3: ``n`` DAGs drawn from the edge probabilities (:func:`sample_dag` each).

    With ``label`` (the label node), a DAG that leaves the label isolated gets ``label -> f`` for
    every root feature ``f`` (with no edges at all, the naive-Bayes graph), so synthetic labels
    always depend on the features; ``on_fallback(message)`` is told when the probabilities had
    edges (default: a :class:`CausalMixFallbackWarning`; ``None``: silent).

    >>> P = pd.DataFrame(0.0, index=["a", "b", "y"], columns=["a", "b", "y"])
    >>> sorted(sample_dags(P, 1, 0, label="y")[0].edges)
    [('y', 'a'), ('y', 'b')]
    """
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    names = list(edge_probabilities.index)
    dags = []
    for _ in range(n):
        dag = sample_dag(edge_probabilities, rng)
        if label is not None and len(names) > 1 and dag.degree(label) == 0:
            roots = [v for v in names if v != label and dag.in_degree(v) == 0]
            dag.add_edges_from((label, v) for v in roots)  # label has no parents: stays acyclic
            if on_fallback is not None and edge_probabilities.to_numpy().any():
                on_fallback(f"A sampled DAG left the label isolated: added label -> {len(roots)} root feature(s).")
        dags.append(dag)
    return dags


def given_edge_probabilities(*, dag: nx.DiGraph | None = None, edge_probabilities: pd.DataFrame | None = None,
                             nodes: Sequence[str], label: str, aliases: Sequence[str] = ("label",)) -> pd.DataFrame:
    """Step 1-2 without discovery: a researcher's ``dag`` (as 0/1 probabilities) or
    ``edge_probabilities`` matrix, over the SCM's ``nodes`` (a node the graph does not name gets no
    edges). The graph may name the label node by any of ``aliases``.

    >>> g = nx.DiGraph([("a", "label")])
    >>> given_edge_probabilities(dag=g, nodes=["a", "b", "y"], label="y").loc["a", "y"]
    np.float64(1.0)
    """
    if (dag is None) == (edge_probabilities is None):
        raise ValueError("Give dag or edge_probabilities, not both (nor neither).")
    names = list(nodes)
    if dag is not None:
        dag = nx.DiGraph(dag)
        if not nx.is_directed_acyclic_graph(dag):
            raise ValueError("dag must be acyclic (a networkx.DiGraph without directed cycles).")
        given = pd.DataFrame(0.0, index=list(dag.nodes), columns=list(dag.nodes))
        for a, b in dag.edges:
            given.loc[a, b] = 1.0
    else:
        given = pd.DataFrame(edge_probabilities).astype(float)
    label_aliases = {*aliases, label}
    rename = {n: label for n in given.index if n in label_aliases and n not in names[:-1]}
    given = given.rename(index=rename, columns=rename)
    unknown = sorted(set(given.index) - set(names))
    if unknown:
        raise ValueError(f"The given graph names {unknown}, which are not SCM nodes {names} (the label node is "
                         f"{label!r}; side and constant columns are not nodes: see column_roles_).")
    P = given.reindex(index=names, columns=names, fill_value=0.0)
    if ((P < 0) | (P > 1)).to_numpy().any():
        raise ValueError("edge probabilities must lie in [0, 1].")
    P.index.name, P.columns.name = "source", "target"
    return P
