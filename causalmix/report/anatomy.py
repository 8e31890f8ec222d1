"""The SCM anatomy page (notebook 01): a fitted CausalMixFT generator, its edge probabilities, DAGs and
synthetic rows against real ones."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causalmix import fidelity
from causalmix.data import load_dataset, low_data_split
from causalmix.generators import make_generator
from causalmix.io import atomic_write
from causalmix.provenance import file_sha256, git_commit, machine
from causalmix.publish import published_dir, published_table
from causalmix.report.paper import method_label
from causalmix.runs import METHODS


def held_out(split, n: int, *, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Up to ``n`` random test rows of a split: the real rows synthetic ones are compared with."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.permutation(len(split.X_test))[:n])
    return split.X_test.iloc[rows].reset_index(drop=True), split.y_test.iloc[rows].reset_index(drop=True)


def fit_causalmix(split, params: dict[str, Any] | None = None):
    """A :class:`causalmix.scm.CausalMixGenerator` fitted on a split's training rows."""
    return make_generator("causalmix", **(params or {})).fit(split.X_train, split.y_train)


def plot_edge_probabilities(gen):
    """Heatmap of the fitted generator's edge probabilities (row = source, column = target)."""
    import matplotlib.pyplot as plt

    P = gen.edge_probabilities_
    k = len(P)
    side = min(7.0, 2.8 + 0.34 * k)
    fig, ax = plt.subplots(figsize=(side, side - 0.6))
    im = ax.imshow(P.to_numpy(), vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(k), P.columns, rotation=60, ha="right")
    ax.set_yticks(range(k), P.index)
    ax.set_xlabel("target (effect)")
    ax.set_ylabel("source (cause)")
    if k <= 10:  # the probabilities as text only while they fit at 9 points
        for i in range(k):
            for j in range(k):
                if P.iat[i, j] > 0:
                    ax.text(j, i, f"{P.iat[i, j]:.2f}", ha="center", va="center", fontsize=9,
                            color="white" if P.iat[i, j] < 0.6 else "black")
    fig.colorbar(im, ax=ax, label="edge probability P[source → target]", shrink=0.8)
    ax.set_title(f"{sum(gen.n_discovery_runs_.values())} discovery runs "
                 f"({', '.join(f'{a.upper()} × {n}' for a, n in gen.n_discovery_runs_.items())})")
    fig.tight_layout()
    return fig


def plot_dags(gen, n: int = 2):
    """The first ``n`` sampled DAGs, two a row on a shared circular layout; label node in red, edge
    width proportional to the edge probability."""
    import matplotlib.pyplot as plt
    import networkx as nx

    dags = gen.dags_[:n]
    nodes = list(gen.edge_probabilities_.index)
    pos = nx.circular_layout(nodes)
    P = gen.edge_probabilities_
    ncols = min(2, len(dags))
    nrows = math.ceil(len(dags) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(7.0, 3.6 * nrows), squeeze=False)
    for ax in axes.flat[len(dags):]:
        ax.axis("off")
    for i, (ax, dag) in enumerate(zip(axes.flat, dags)):
        colors = ["tab:red" if v == gen.label_node_ else "tab:blue" for v in dag.nodes]
        widths = [0.5 + 2.5 * float(P.at[u, v]) for u, v in dag.edges]
        nx.draw_networkx_nodes(dag, pos, ax=ax, node_color=colors, node_size=120, alpha=0.6)
        nx.draw_networkx_edges(dag, pos, ax=ax, width=widths, arrowsize=10, alpha=0.7, node_size=120)
        labels = {v: str(v)[:14] for v in dag.nodes}
        nx.draw_networkx_labels(dag, {v: (x * 1.0, y * 1.0 + 0.09) for v, (x, y) in pos.items()}, labels=labels,
                                ax=ax, font_size=9)
        ax.set_title(f"DAG {i + 1}: {dag.number_of_edges()} edges")
        ax.margins(0.18)
        ax.axis("off")
    fig.tight_layout()
    return fig


def dag_summary(gen) -> pd.DataFrame:
    """One row per sampled DAG: edges, the label's parents and children, whether it is acyclic."""
    import networkx as nx

    rows = []
    for i, dag in enumerate(gen.dags_, 1):
        label = gen.label_node_
        rows.append({
            "DAG": i,
            "edges": dag.number_of_edges(),
            "acyclic": nx.is_directed_acyclic_graph(dag),
            "label parents": ", ".join(map(str, dag.predecessors(label))) or "–",
            "label children": ", ".join(map(str, dag.successors(label))) or "–",
        })
    return pd.DataFrame(rows).set_index("DAG")


def _encoded(X: pd.DataFrame, y: pd.Series, classes: Sequence) -> pd.DataFrame:
    """Numbers for correlations: numeric as is, categorical as level codes, the label as its class index."""
    out = {}
    for c in X.columns:
        s = X[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[c] = s.cat.codes.where(s.notna()).astype(float)
        elif pd.api.types.is_numeric_dtype(s.dtype):
            out[c] = s.astype(float)
        else:
            out[c] = s.astype("category").cat.codes.astype(float)
    index = {c: i for i, c in enumerate(classes)}
    out[y.name or "label"] = y.map(index).astype(float)
    return pd.DataFrame(out)


def plot_marginals(real: tuple[pd.DataFrame, pd.Series], synthetic: tuple[pd.DataFrame, pd.Series], *, label: str = "label", max_columns: int = 8):
    """Real vs synthetic marginals: histograms (numeric) or level shares (categorical), label last."""
    import matplotlib.pyplot as plt

    Xr, yr = real
    Xs, ys = synthetic
    cols = list(Xr.columns[:max_columns])
    n_panels = len(cols) + 1
    ncols = min(2, n_panels)
    nrows = math.ceil(n_panels / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(7.0, 2.5 * nrows + 0.5), squeeze=False)
    panels = [(c, Xr[c], Xs[c]) for c in cols] + [(f"{label} (label)", yr.astype(str), ys.astype(str))]
    for ax, (name, r, s) in zip(axes.flat, panels):
        if pd.api.types.is_numeric_dtype(r.dtype) and not isinstance(r.dtype, pd.CategoricalDtype):
            both = pd.concat([r, s]).dropna().astype(float)
            bins = np.histogram_bin_edges(both, bins=20) if both.nunique() > 1 else 5
            ax.hist(r.dropna().astype(float), bins=bins, alpha=0.55, density=True, label="real (held out)")
            ax.hist(s.dropna().astype(float), bins=bins, alpha=0.55, density=True, label="CausalMix")
        else:
            shares = pd.DataFrame({"real (held out)": r.astype(str).value_counts(normalize=True),
                                   "CausalMix": s.astype(str).value_counts(normalize=True)}).fillna(0)
            shares = shares.sort_values("real (held out)", ascending=False).head(8)
            x = np.arange(len(shares))
            ax.bar(x - 0.2, shares["real (held out)"], width=0.4, label="real (held out)")
            ax.bar(x + 0.2, shares["CausalMix"], width=0.4, label="CausalMix")
            # whole level names, wrapped (truncated names made two levels look alike)
            ax.set_xticks(x, [textwrap.fill(str(v), 14) for v in shares.index], rotation=30, ha="right")
            ax.set_ylabel("share of rows")
        ax.set_title(name)
        if not ax.get_ylabel():
            ax.set_ylabel("density")
    for ax in list(axes.flat)[n_panels:]:
        ax.axis("off")
    handles, names = axes.flat[0].get_legend_handles_labels()
    # the legend on top, where the reader starts, not after the last panel
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / fig.get_figheight()))
    fig.legend(handles, names, loc="upper center", ncol=2, frameon=False)
    return fig


def plot_pairwise(real: tuple[pd.DataFrame, pd.Series], synthetic: tuple[pd.DataFrame, pd.Series], *, max_columns: int = 12):
    """Spearman correlation matrices of the real and synthetic rows (first row) and their difference
    (second row)."""
    import matplotlib.pyplot as plt

    Xr, yr = real
    Xs, ys = synthetic
    classes = sorted(set(yr.astype(str)) | set(ys.astype(str)))
    cols = list(Xr.columns[:max_columns])
    cr = _encoded(Xr[cols], yr.astype(str), classes).corr(method="spearman")
    cs = _encoded(Xs[cols], ys.astype(str), classes).corr(method="spearman")
    k = len(cr)
    # One row of three panels (the difference no longer alone on a row), one colorbar per scale, each beside
    # its panels so that no colorbar overlaps a title.
    fig, axes = plt.subplots(1, 3, figsize=(7.0, 3.9), layout="constrained")
    diff = cs - cr
    mean_diff = np.nanmean(np.abs(diff.to_numpy()))
    images = []
    for i, (ax, (title, m, cmap)) in enumerate(zip(axes, (("real (held out)", cr, "RdBu_r"), ("CausalMix", cs, "RdBu_r"),
                                                          (f"CausalMix − real\nmean |diff| {mean_diff:.3f}", diff, "PuOr_r")))):
        images.append(ax.imshow(m.to_numpy(), vmin=-1, vmax=1, cmap=cmap))
        ax.set_xticks(range(k), [str(c)[:14] for c in m.columns], rotation=90)
        ax.set_yticks(range(k), [str(c)[:14] for c in m.index] if i == 0 else [])
        ax.set_title(title)
    fig.colorbar(images[1], ax=list(axes[:2]), shrink=0.6, location="bottom", label="Spearman correlation")
    fig.colorbar(images[2], ax=axes[2], shrink=0.9, location="bottom", label="difference")
    return fig


#: Reader-facing headers of :meth:`causalmix.fidelity.FidelityReport.summary`'s keys.
FIDELITY_COLUMNS = {"marginal_mean": "marginal distance, mean", "marginal_max": "marginal distance, max",
                    "association_diff": "association difference", "c2st_auc": "C2ST ROC-AUC",
                    "tstr_auc": "TSTR ROC-AUC", "trtr_auc": "TRTR ROC-AUC", "n_real": "real rows",
                    "n_synthetic": "synthetic rows"}


def fidelity_table(split, real: tuple[pd.DataFrame, pd.Series], cfg: dict[str, Any], *, n: int, seed: int,
                   causalmix=None, generators: Sequence[str] | None = None) -> tuple[pd.DataFrame, str]:
    """Every generator of the configuration's methods (or ``generators``) fitted on the split's
    training rows, ``n`` rows drawn, scored against the held-out ``real`` rows with
    :func:`causalmix.fidelity.fidelity_report`.

    Returns the table (one row per generator) and a markdown note naming the generators that
    could not run, with the reason. ``causalmix`` reuses an already fitted CausalMix generator.
    """
    import time

    names = list(generators) if generators else list(dict.fromkeys(
        METHODS[m] for m in cfg.get("methods", METHODS) if METHODS.get(m)))
    params = cfg.get("generators") or {}
    rows, notes = {}, []
    # Reference: the real training rows scored like a generator's output (what "as close as real
    # data" looks like on these measures).
    reference = fidelity.fidelity_report(real, (split.X_train, split.y_train), random_state=seed)
    rows["real training rows (reference)"] = {**reference.summary(), "fit (s)": np.nan, "sample (s)": np.nan}
    for name in names:
        try:
            t0 = time.perf_counter()
            if name == "causalmix" and causalmix is not None:
                gen = causalmix
                fit_s = float(sum(gen.fit_seconds_.values()))  # the fit above, stage by stage
            else:
                gen = make_generator(name, **params.get(name, {})).fit(split.X_train, split.y_train)
                fit_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            synthetic = gen.sample(n, random_state=seed)
            sample_s = time.perf_counter() - t0
        except ImportError as err:
            notes.append(f"- **{method_label(name)}** not run: {err}")
            continue
        scores = fidelity.fidelity_report(real, synthetic, random_state=seed)
        rows[method_label(name)] = {**scores.summary(), "fit (s)": fit_s, "sample (s)": sample_s}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("generator").rename(columns=FIDELITY_COLUMNS)
    note = "\n".join(notes) if notes else "Every generator of the configuration ran."
    legend = (
        "Columns: *marginal distance* — mean and max over columns of the Kolmogorov–Smirnov "
        "statistic (numeric) or total-variation distance (categorical) between real and synthetic "
        "marginals (0 = identical); *association difference* — mean absolute difference of the pairwise "
        "association matrices (Spearman, Cramér's V, correlation ratio); *C2ST ROC-AUC* — ROC-AUC of a "
        "classifier telling real from synthetic rows (0.5 = indistinguishable); *TSTR ROC-AUC* — ROC-AUC on "
        "the held-out real rows of a logistic regression trained on the synthetic rows (*TRTR*: trained on "
        "the real training rows); *fit (s)*, *sample (s)* — seconds to fit and to draw the rows (TabEBM's "
        "SGLD chains run when it samples)."
    )
    return table, f"{note}\n\n{legend}"


#: Notebook 01's fidelity table of a published study, computed once at publication (it refits every
#: generator, TabEBM's sampler alone costs minutes) and read by the build.
FIDELITY_FILE = "fidelity.json"


def write_published_fidelity(folder: str | Path, cfg: dict[str, Any], *, dataset: str, n_train: int, seed: int,
                             n_synthetic: int) -> Path:
    """Compute notebook 01's fidelity table for these parameters and write it, with them, into the
    published study's ``folder`` (its sha256 goes into ``provenance.json``'s ``files``)."""
    import datetime as dt
    import json

    folder = Path(folder)
    split = low_data_split(load_dataset(dataset), n_train=n_train, seed=seed)
    table, note = fidelity_table(split, held_out(split, n_synthetic, seed=seed), cfg, n=n_synthetic, seed=seed)
    blob = {"parameters": {"dataset": dataset, "n_train": n_train, "seed": seed, "n_synthetic": n_synthetic},
            "computed_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "commit": git_commit(),
            "machine": machine(), "note": note, "table": json.loads(table.to_json(orient="split"))}
    path = folder / FIDELITY_FILE
    atomic_write(path, lambda p: p.write_text(json.dumps(blob, indent=1) + "\n"))
    provenance_path = folder / "provenance.json"
    provenance = json.loads(provenance_path.read_text())
    provenance.setdefault("files", {})[FIDELITY_FILE] = file_sha256(path)
    atomic_write(provenance_path, lambda p: p.write_text(json.dumps(provenance, indent=1) + "\n"))
    return path


def published_fidelity(config: str | Path, *, dataset: str, n_train: int, seed: int,
                       n_synthetic: int) -> tuple[pd.DataFrame, str, dict[str, Any]] | None:
    """``(table, note, meta)`` of a published study's fidelity table when it was computed for exactly
    these parameters (``None`` otherwise: the page then computes it). Like every published file it is
    read only after its sha256 matches the one ``provenance.json`` records."""
    import json

    if not (published_dir(config) / FIDELITY_FILE).is_file():
        return None
    path = published_table(config, FIDELITY_FILE)
    blob = json.loads(path.read_text())
    wanted = {"dataset": dataset, "n_train": n_train, "seed": seed, "n_synthetic": n_synthetic}
    if blob["parameters"] != wanted:
        return None
    split = blob["table"]
    table = pd.DataFrame(split["data"], index=pd.Index(split["index"], name="generator"), columns=split["columns"])
    meta = {k: blob[k] for k in ("computed_at", "commit", "machine")}
    return table, blob["note"], meta
