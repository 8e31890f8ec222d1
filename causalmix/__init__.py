"""causalmix: causal data augmentation for fine-tuning tabular foundation models (CausalMixFT).

A flat public API; heavy modules (tabpfn, dowhy, causal-learn) load on first use.

>>> import causalmix as cm
>>> ds = cm.load_dataset("credit-g")                                   # doctest: +SKIP
>>> split = cm.low_data_split(ds, n_train=256, seed=0)                 # doctest: +SKIP
>>> gen = cm.CausalMixGenerator().fit(split.X_train, split.y_train)    # doctest: +SKIP
>>> X_syn, y_syn = gen.sample(512, random_state=0)                     # doctest: +SKIP
"""

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "causalmix.data": (
        "Dataset", "DatasetError", "Split", "REGISTRY", "TABARENA_33",
        "list_datasets", "load_dataset", "add_dataset", "low_data_split", "domain_shift_split",
    ),
    "causalmix.model": (
        "DEFAULT_MODEL", "ModelNotAvailableError", "load_classifier", "resolve_device",
        "resolve_model_path", "shipped_models", "build_architecture", "save_checkpoint", "recommended_learning_rate",
    ),
    "causalmix.metrics": (
        "roc_auc", "accuracy", "log_loss", "classification_metrics", "normalized_improvement",
        "validation_test_correlation", "early_stopping_regret",
    ),
    "causalmix.report.aggregation": ("aggregate", "average_ranks", "rank_table"),
    "causalmix.generators": (
        "Generator", "GENERATORS", "make_generator", "NoneGenerator", "SMOTEGenerator",
        "MixupGenerator", "TableAugmentGenerator", "GaussianCopulaGenerator", "CTGANGenerator", "TableCodec",
    ),
    "causalmix.scm": ("CausalMixGenerator", "CausalMixFallbackWarning", "DiscoveryTimeoutError",
                      "edge_probabilities", "sample_dags", "fit_scm", "draw_rows", "scm_table", "subsample_rows",
                      "SCMTable"),
    "causalmix.evaluation": ("ContextEvaluator", "ensemble_size"),
    "causalmix.tabebm": ("TabEBMGenerator",),
    "causalmix.fidelity": ("FidelityReport", "fidelity_report"),
    "causalmix.finetune_config": ("FinetuneConfig", "FinetuneResult"),
    "causalmix.finetuning": ("finetune",),
    "causalmix.classifier": ("CausalMixFinetunedClassifier",),
    "causalmix.runs": ("RunSpec", "RunRecord", "execute_run"),
    "causalmix.sweep_config": ("SweepConfig", "expand_config"),
    "causalmix.experiment": ("SweepSummary", "run_sweep"),
    "causalmix.records": ("load_records", "load_curves"),
    "causalmix.prior": ("PriorConfig", "PriorBatch", "sample_batch"),
    "causalmix.pretrain_config": ("PretrainConfig",),
    "causalmix.pretraining": ("pretrain", "export_run"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'causalmix' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
