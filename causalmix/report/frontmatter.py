"""A reader's front matter, generated: the plain-language summary (from the verdicts), the
deviations from the paper (from the configuration and :data:`~causalmix.report.paper.PAPER_PROTOCOL`),
how to cite (from ``CITATION.cff``), the changelog of a published study (from its provenance),
licences and contact."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from causalmix.finetune_config import FinetuneConfig
from causalmix.generators import make_generator
from causalmix.provenance import REPO_ROOT
from causalmix.publish import read_provenance
from causalmix.report.paper import PAPER_PROTOCOL, method_label
from causalmix.study import settings

CITATION_FILE = REPO_ROOT / "CITATION.cff"

_PLAIN = {
    "supported": "held up, at about the size the paper reports",
    "direction only": "went the paper's way, but the size differs from the paper's",
    "contradicted": "went against the paper",
    "inconclusive": "could not be settled with this many datasets",
    "not run": "could not be checked (the method or data was not run)",
}


def plain_language_summary(results: Sequence[Any], *, n_datasets: int, model: str) -> str:
    """A few sentences for a reader outside the field, written from the scoreboard's verdicts."""
    claims = [r for r in results if r.claim.kind != "research question"]
    lines = []
    for verdict, words in _PLAIN.items():
        picked = [r for r in claims if r.verdict == verdict]
        if picked:
            what = "; ".join(f"“{r.claim.claim.removesuffix(' (the headline claim)')}”" for r in picked)
            lines.append(f"- {len(picked)} of {len(claims)} {words}: {what}.")
    return ("**In plain language.** The paper proposes to fine-tune a tabular foundation model on a small table "
            "together with synthetic rows drawn from causal models fitted to that table, and reports that this helps "
            f"more than fine-tuning alone or other ways of adding synthetic rows. We re-ran its experiments on "
            f"{n_datasets} public datasets with a small model of the same architecture ({model}) instead of the "
            "paper's, then checked each of the paper's claims with rules fixed in advance:\n\n" + "\n".join(lines))


def deviations_table(cfg: dict[str, Any], counts: Any | None = None, *,
                     computed_apart: dict[str, str] | None = None) -> pd.DataFrame:
    """What this study does differently from the paper, and what the paper does not say: one row per
    aspect, the paper's protocol (or "not stated") beside this configuration's choice; ``computed_apart``:
    the methods whose runs on these datasets another study computed (method → study, e.g. CTGAN's)."""
    ft = cfg.get("finetune", {}) or {}
    gen = (cfg.get("generators", {}) or {}).get("causalmix", {}) or {}
    by_method = cfg.get("seeds_by_method", {}) or {}
    ours = {
        "model": f"{cfg.get('model')} (this project's small prior-fitted model of the TabPFN v2 architecture)",
        "datasets": f"{len(cfg['datasets'])} datasets of the shared offline folder (raw originals)",
        "runs": (f"{counts.grid_runs:,} grid runs, {counts.extension:,} extension, {counts.ablations:,} ablations"
                 if counts is not None else "see the benchmark page"),
        "training sizes (n_train)": ", ".join(str(int(n)) for n in cfg["n_train"]),
        "validation rows": "n_train / 4, at least 2 per class" if cfg.get("n_val") is None else str(cfg["n_val"]),
        "split seeds": f"{len(cfg['seeds'])}" + "".join(f"; {method_label(m)} on {len(s)}" for m, s in by_method.items()),
        "fine-tuning steps": f"at most {ft.get('max_steps')}, evaluated every {ft.get('eval_every')}, patience "
                             f"{ft.get('patience')}",
        "test rows per split": f"at most {cfg.get('test_cap')} (stratified)" if cfg.get("test_cap") else "the rest of the data",
        "synthetic rows per real row": str(ft.get("synthetic_ratio", "default")),
        "CausalMixFT: DAGs, bootstraps, feature cap": (f"{gen.get('n_dags', 'default')} DAGs, "
                                                        f"{gen.get('n_bootstrap', 'default')} bootstraps, "
                                                        f"{gen.get('max_features', 'default')} features"),
        "baselines": ", ".join([*(method_label(m) for m in cfg["methods"]),
                                *(f"{method_label(m)} (its runs from study {other})" for m, other in
                                  sorted((computed_apart or {}).items()))]),
        "hardware": f"{cfg.get('device', 'cpu')}",
    }
    rows = [{"aspect": k, "paper": v if v is not None else "not stated", f"this study ({cfg['name']})": ours.get(k, "–")}
            for k, v in PAPER_PROTOCOL.items()]
    return pd.DataFrame(rows).set_index("aspect")


def citation() -> dict[str, Any]:
    """CITATION.cff of the repository."""
    import yaml

    return yaml.safe_load(CITATION_FILE.read_text())


def bibtex() -> str:
    """BibTeX entries for this artifact (from CITATION.cff) and for the paper it reproduces."""
    cff = citation()
    authors = " and ".join(a.get("name") or f"{a.get('family-names')}, {a.get('given-names')}" for a in cff["authors"])
    year = str(cff.get("date-released", ""))[:4]
    ref = cff.get("preferred-citation") or {}
    ref_authors = " and ".join(f"{a['family-names']}, {a['given-names']}" for a in ref.get("authors", []))
    artifact = (f"@software{{causalmix,\n  title = {{{cff['title']}}},\n  author = {{{authors}}},\n"
                f"  version = {{{cff.get('version', '')}}},\n  year = {{{year}}},\n  url = {{{cff.get('repository-code', '')}}},\n"
                f"  license = {{{cff.get('license', '')}}}\n}}")
    if not ref:
        return artifact
    paper = (f"@inproceedings{{buhler2025causalmixft,\n  title = {{{ref['title']}}},\n  author = {{{ref_authors}}},\n"
             f"  booktitle = {{{ref.get('conference', {}).get('name', '')}}},\n  year = {{{ref.get('year', '')}}},\n"
             f"  eprint = {{{ref.get('identifiers', [{}])[0].get('value', '').removeprefix('arXiv:')}}},\n"
             f"  archivePrefix = {{arXiv}}\n}}")
    return artifact + "\n\n" + paper


def changelog_table(config: str | Path) -> pd.DataFrame:
    """The published study's changes (``provenance.json``: ``changes``), oldest first, with its publication."""
    prov = read_provenance(config)
    rows = [{"when": prov.get("published_at", "–"), "result version": "–",
             "commit": str(prov.get("published_from_commit", ""))[:12], "what": "published"}]
    for change in prov.get("changes", []) or []:
        rows.append({"when": change.get("at", "–"), "result version": change.get("result_version", "–"),
                     "commit": str(change.get("commit", ""))[:12], "what": change.get("what", "")})
    return pd.DataFrame(rows)


LICENCES = (
    "**Licences.** The `causalmix` code and the shipped `causalmix-wide` checkpoint (trained from scratch by this "
    "project's `causalmix/pretraining.py`) are under the Apache License 2.0 (`LICENSE`; notices in `NOTICE`). The "
    "`tabpfn` package and the real TabPFN v2 classifier weights (used only by the GPU `full` configuration) are Prior "
    "Labs', released under the Apache License 2.0 with an attribution requirement: “Built with TabPFN” "
    "(<https://github.com/PriorLabs/TabPFN>). CTGAN (the optional `ctgan` extra, from SDV) is under the Business "
    "Source License 1.1, which restricts some commercial uses: check its terms before using it. The datasets are "
    "not distributed with the code; they are public UCI/OpenML tables under their own terms (see the README)."
)


def contact_text() -> str:
    """Maintainers and where to write (CITATION.cff's contact or the repository's issue tracker)."""
    cff = citation()
    people = cff.get("contact") or cff.get("authors") or []
    names = ", ".join(p.get("name") or f"{p.get('given-names', '')} {p.get('family-names', '')}".strip() for p in people)
    url = str(cff.get("repository-code", "")).rstrip("/")
    return (f"**Maintainers and contact.** {names}; questions, errors and reproductions go to the issue tracker, "
            f"<{url}/issues>.")


__all__ = ["CITATION_FILE", "LICENCES", "METHOD_SETTINGS", "bibtex", "changelog_table", "citation", "configurations_table",
           "contact_text", "deviations_table", "method_settings_table",
           "plain_language_summary"]


#: The settings the method page names: (section, key, what it is).
METHOD_SETTINGS = (
    ("generator", "algorithms", "causal-discovery algorithms"),
    ("generator", "n_bootstrap", "bootstrap resamples per algorithm"),
    ("generator", "indep_test", "conditional-independence test"),
    ("generator", "alpha", "significance level of the test"),
    ("generator", "nominal_coding", "how nominal variables enter discovery"),
    ("generator", "n_dags", "DAGs sampled from the edge probabilities"),
    ("generator", "max_features", "features modelled by the SCM (the rest: side columns)"),
    ("generator", "quality", "mechanism quality (DoWhy)"),
    ("finetune", "synthetic_ratio", "synthetic context rows per real context row"),
    ("finetune", "query_fraction", "share of real rows in a step's query"),
    ("finetune", "max_steps", "optimizer steps at most"),
    ("finetune", "eval_every", "evaluate every this many steps"),
    ("finetune", "patience", "evaluations without improvement before stopping"),
)


def method_settings_table(cfg: dict[str, Any]) -> pd.DataFrame:
    """The method's settings: the package default beside this configuration's value, flagged where
    they differ (the method page quotes no default by hand)."""
    defaults = {"generator": make_generator("causalmix").get_params(), "finetune": FinetuneConfig().to_dict()}
    used = {"generator": make_generator("causalmix", **((cfg.get("generators") or {}).get("causalmix") or {})).get_params(),
            "finetune": FinetuneConfig.from_dict(cfg.get("finetune") or {}).to_dict()}

    def show(v: Any) -> str:
        return ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)

    rows = []
    for section, key, what in METHOD_SETTINGS:
        default, value = defaults[section].get(key), used[section].get(key)
        rows.append({"setting": f"{key}", "what": what, "package default": show(default),
                     f"{cfg['name']} configuration": show(value), "differs": "yes" if show(default) != show(value) else ""})
    return pd.DataFrame(rows).set_index("setting")


def configurations_table(names: Sequence[str] = ("smoke", "quick", "standard", "full")) -> pd.DataFrame:
    """The shipped configurations, read from causalmix/configs/: model, datasets, training sizes, seeds, methods,
    fine-tuning steps, domain shifts."""
    rows = {}
    for name in names:
        try:
            cfg = settings(name)
        except Exception:  # noqa: BLE001 — a configuration missing from the checkout is left out
            continue
        by_method = cfg.get("seeds_by_method") or {}
        rows[f"{name}"] = {
            "model": cfg.get("model"), "device": cfg.get("device", "cpu"), "datasets": len(cfg["datasets"]),
            "n_train": ", ".join(str(int(n)) for n in cfg["n_train"]),
            "seeds": str(len(cfg["seeds"])) + "".join(f" ({method_label(m)}: {len(s)})" for m, s in by_method.items()),
            "methods": len(cfg["methods"]), "steps": (cfg.get("finetune") or {}).get("max_steps", "default"),
            "domain shifts": len(cfg.get("domain_shift") or []),
        }
    return pd.DataFrame(rows).T.rename_axis("configuration")
