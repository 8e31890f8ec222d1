"""The paper's reference numbers and the reader-facing method names.

Every number here is the paper's (shown beside ours, always labelled as the paper's); SPEC.md of the
repository reads them as percent, an assumption the book states.
"""

from __future__ import annotations

from typing import Any

PAPER_CITATION = (
    "M. Bühler, L. Purucker, F. Hutter: Causal Data Augmentation for Robust Fine-Tuning of Tabular "
    "Foundation Models. AI for Tabular Data workshop @ EurIPS 2025, arXiv 2601.04110"
)


PAPER_RESULTS: dict[str, Any] = {
    "citation": PAPER_CITATION,
    # method -> (median normalized ROC-AUC improvement over the pre-trained model, variability or None)
    "median_improvement": {
        "causalmix": (0.12, 0.63),
        "finetune": (0.10, 0.98),
        "ctgan": (-0.01, None),
        "tabebm": (-0.04, None),
        "tableaugment": (-0.09, None),
    },
    # best average rank first
    "rank_order": ("causalmix", "finetune"),
    # method -> median validation-test correlation gap (1 - Spearman correlation)
    "correlation_gap": {"finetune": 0.67, "causalmix": 0.30},
    "n_datasets": 33,
    "n_runs": "> 2,300",
}


#: What the paper states of its protocol (None: the paper does not say; the book's deviations table
#: shows "not stated" and this study's choice beside it). The book types no other number of the paper.
PAPER_PROTOCOL: dict[str, str | None] = {
    "model": "TabPFN v2 (the real classifier weights)",
    "datasets": "33 TabArena classification datasets",
    "runs": f"{PAPER_RESULTS['n_runs']} fine-tuning runs",
    "training sizes (n_train)": "low-data regime; sizes not stated",
    "validation rows": None,
    "split seeds": None,
    "fine-tuning steps": None,
    "test rows per split": None,
    "synthetic rows per real row": None,
    "CausalMixFT: DAGs, bootstraps, feature cap": None,
    "baselines": "default fine-tuning, CTGAN, TabEBM, TableAugment (and the pre-trained model)",
    "hardware": None,
}

#: The paper's own numbers as they may appear in the book's prose (the test of typed numbers allows them).
PAPER_NUMBERS: tuple[str, ...] = ("2025", "2601.04110", "33", "2,300", "0.12", "0.63", "0.10", "0.98", "0.01", "0.04",
                                  "0.09", "0.67", "0.30", "0.02")

#: SPEC's fixed protocol constants as the book's prose may name them (SPEC.md: the default grid, the test cap,
#: the full study's seeds, the context/query split, the significance level, the interval level, power, percent).
SPEC_NUMBERS: tuple[str, ...] = ("64", "128", "256", "512", "5,000", "10", "80", "20", "0.05", "95", "100")


#: SPEC's margin of the "does not improve" claims (C5–C7), in percentage points of median normalized ROC-AUC
#: improvement: the paper's own default fine-tuning effect, so a smaller gain is "no improvement" at the
#: paper's resolution.
EQUIVALENCE_MARGIN: float = PAPER_RESULTS["median_improvement"]["finetune"][0]


def paper_difference(a: float, b: float) -> float:
    """A paired claim's paper value from two of the paper's numbers (rounded to their 2 decimals).

    >>> paper_difference(0.12, 0.10)
    0.02
    """
    return round(a - b, 2)


PAPER_LABEL = "paper (Bühler et al., 2025)"


METHOD_LABELS: dict[str, str] = {
    "pretrained": "pre-trained (no fine-tuning)",
    "finetune": "default fine-tuning",
    "causalmix": "CausalMixFT",
    "smote": "SMOTE-augmented FT",
    "mixup": "Mixup-augmented FT",
    "tableaugment": "TableAugment-augmented FT",
    "gaussian_copula": "Gaussian-copula-augmented FT",
    "ctgan": "CTGAN-augmented FT",
    "tabebm": "TabEBM-augmented FT",
}


METHOD_ORDER = tuple(METHOD_LABELS)

#: Short names where space is tight (the critical-difference diagram).
SHORT_LABELS: dict[str, str] = {
    "pretrained": "pre-trained", "finetune": "default FT", "causalmix": "CausalMixFT", "smote": "SMOTE",
    "mixup": "Mixup", "tableaugment": "TableAugment", "gaussian_copula": "Gaussian copula", "ctgan": "CTGAN",
    "tabebm": "TabEBM",
}


def method_label(method: str) -> str:
    """The reader-facing name of a method (``"causalmix"`` -> ``"CausalMixFT"``)."""
    return METHOD_LABELS.get(method, method)


def _method_sort_key(method: str) -> tuple[int, str]:
    return (METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER), method)
