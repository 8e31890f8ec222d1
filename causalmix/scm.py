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

The steps are public functions (:mod:`causalmix.discovery`: 1-3; :mod:`causalmix.scm_steps`:
the column roles and frames, 4-5), all importable from here; the generator is their composition.

>>> gen = CausalMixGenerator(random_state=0).fit(X_train, y_train)   # doctest: +SKIP
>>> gen.edge_probabilities_.round(2)                                 # doctest: +SKIP
>>> X_syn, y_syn = gen.sample(256, random_state=1)                   # doctest: +SKIP
"""

from __future__ import annotations

import time
import warnings
from typing import Sequence

import networkx as nx
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from causalmix.discovery import (  # noqa: F401 - the public steps, importable from here as before
    Algorithm,
    DiscoveryTimeoutError,
    IndepTest,
    NominalCoding,
    edge_probabilities,
    edge_support,
    given_edge_probabilities,
    sample_dag,
    sample_dags,
)
from causalmix.generator_base import Generator
from causalmix.params import Interval, Options, SubsetOf
from causalmix.scm_steps import (  # noqa: F401
    CausalMixFallbackWarning,
    Quality,
    SCMTable,
    draw_rows,
    fit_scm,
    scm_table,
    subsample_rows,
)

__all__ = [
    "CausalMixFallbackWarning", "CausalMixGenerator", "DiscoveryTimeoutError", "SCMTable", "draw_rows",
    "edge_probabilities", "edge_support", "fit_scm", "given_edge_probabilities", "sample_dag", "sample_dags",
    "scm_table", "subsample_rows",
]


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

        resample_ratio: synthetic rows per real row that :meth:`fit_resample` adds (1.0: SPEC's
            1 synthetic : 1 real mix); its draw is seeded from ``random_state``.

    The generator is a composition of public steps a researcher can call one by one, with the
    same rows as a result (:mod:`causalmix.scm_steps`): :func:`scm_table` (roles, frames) ->
    :func:`edge_probabilities` (discovery) -> :func:`sample_dags` -> :func:`subsample_rows` ->
    :func:`fit_scm` -> :func:`draw_rows` -> :meth:`SCMTable.decode`.

    Fitted attributes: ``edge_probabilities_`` (DataFrame, source rows x target columns),
    ``dags_`` (tuple of ``networkx.DiGraph``), ``scms_`` (fitted ``gcm.StructuralCausalModel``),
    ``table_`` (the :class:`SCMTable`), ``column_roles_`` (column -> "scm" / "side" /
    "constant"), ``label_node_``,
    ``n_discovery_runs_`` (algorithm -> successful runs), ``discovery_errors_``, ``fallbacks_``,
    ``fit_seconds_`` (stage -> wall seconds).
    """

    name = "causalmix"
    parameter_constraints = {
        **Generator.parameter_constraints,
        "algorithms": [SubsetOf("pc", "fci")],
        "indep_test": [Options("fisherz", "kci", "rcit", "fastkci", "chisq", "gsq")],
        "alpha": [Interval("real", 0, 1, closed="neither")],
        "n_bootstrap": [Interval("int", 1, None)],
        "n_dags": [Interval("int", 1, None)],
        "quality": [Options("good", "better", hints={"best": "needs AutoGluon, which is not a dependency"})],
        "max_features": [Interval("int", 1, None), None],
        "max_categories": [Interval("int", 2, None)],
        "selection_rows": [Interval("int", 20, None), None],
        "time_budget": [Interval("real", 0, None, closed="neither"), None],
        "clip_to_range": [bool, np.bool_],
        "progress": [bool, np.bool_],
        "dag": [nx.DiGraph, None],
        "edge_probabilities": [pd.DataFrame, dict, None],
        "nominal_coding": [Options("ordinal", "onehot")],
    }

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
        resample_ratio: float = 1.0,
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
        self.resample_ratio = resample_ratio

    # ------------------------------------------------------------------------------------
    def _check_params_together(self) -> None:
        if self.dag is not None and self.edge_probabilities is not None:
            raise ValueError("Give dag or edge_probabilities, not both.")

    @property
    def _algos(self) -> tuple[str, ...]:
        return (self.algorithms,) if isinstance(self.algorithms, str) else tuple(self.algorithms)

    def _fallback(self, message: str) -> None:
        self._fallbacks.append(message)
        warnings.warn(message, CausalMixFallbackWarning, stacklevel=4)

    def _fit(self, Xe: pd.DataFrame, ye: np.ndarray) -> None:
        self._fallbacks: list[str] = []
        self.discovery_errors_: list[str] = []
        rng = np.random.default_rng(self.random_state)
        y_name = str(self.codec_.y_name_) if self.codec_.y_name_ is not None else "target"
        t0 = time.perf_counter()
        table = scm_table(Xe, ye, self.columns_, label=y_name, max_features=self.max_features,
                          max_categories=self.max_categories, random_state=rng, on_fallback=self._fallback)
        self.table_, self.label_node_, self.column_roles_ = table, table.label, table.roles
        t1 = time.perf_counter()
        if self.dag is not None or self.edge_probabilities is not None:  # the researcher's graph
            P = given_edge_probabilities(dag=self.dag, edge_probabilities=self.edge_probabilities,
                                         nodes=table.nodes, label=table.label, aliases=(y_name, "label"))
            self.n_discovery_runs_ = {}
        else:
            P = self._discover(table, rng)
        self.edge_probabilities_ = P
        if len(table.nodes) > 1 and not P.to_numpy().any():
            self._fallback(
                "Discovery found no edges in any run: every DAG falls back to the naive-Bayes graph "
                "label -> each feature."
            )
        t2 = time.perf_counter()
        self.dags_ = tuple(sample_dags(P, self.n_dags, rng, label=table.label, on_fallback=self._fallback))
        t3 = time.perf_counter()
        subset, cache = subsample_rows(table.frame, self.selection_rows, rng), {}
        dags = tqdm(self.dags_, desc="CausalMix: fitting SCMs", disable=not self.progress, leave=False)
        self.scms_ = tuple(
            fit_scm(dag, table.frame, quality=self.quality, categorical=table.categorical, selection_data=subset,
                    random_state=int(rng.integers(2**31 - 1)), cache=cache, on_fallback=self._fallback)
            for dag in dags
        )
        t4 = time.perf_counter()
        self.fallbacks_ = tuple(self._fallbacks)
        self.fit_seconds_ = {"roles": t1 - t0, "discovery": t2 - t1, "dags": t3 - t2, "mechanisms": t4 - t3}

    def _discover(self, table: SCMTable, rng: np.random.Generator) -> pd.DataFrame:
        P, runs, errors = edge_probabilities(
            table.discovery_data, algorithms=self._algos, indep_test=self.indep_test, alpha=self.alpha,
            n_bootstrap=self.n_bootstrap, time_budget=self.time_budget, random_state=rng, progress=self.progress,
            return_details=True, nominal=table.categorical, nominal_coding=self.nominal_coding)
        self.n_discovery_runs_, self.discovery_errors_ = runs, errors
        if sum(runs.values()) < len(self._algos) * self.n_bootstrap:
            self._fallback(f"Discovery used {sum(runs.values())} of {len(self._algos) * self.n_bootstrap} bootstrap "
                           f"runs ({len(errors)} failed).")
        return P

    def _sample(self, n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
        return self.table_.decode(draw_rows(self.scms_, n, rng), rng, clip_to_range=self.clip_to_range)
