"""What the book's notebooks and ``causalmix results`` share, one module per concern:

- :mod:`~causalmix.report.paper` — the paper's reference numbers and the methods' names;
- :mod:`~causalmix.report.records` — a study's records as the pages read them, provenance captions
  (which records belong to a study: :mod:`causalmix.study`);
- :mod:`~causalmix.report.verification` — this build's check of a published study, as the pages show it;
- :mod:`~causalmix.report.stats` — per-run frames, paired tests, bootstrap intervals
  (:mod:`~causalmix.report.interval`), ranks (:mod:`~causalmix.report.aggregation`);
- :mod:`~causalmix.report.hierarchical` — SPEC's hierarchical bootstrap (datasets, then seeds);
- :mod:`~causalmix.report.verdicts` — the verdict rules, tests, Holm's correction and power;
- :mod:`~causalmix.report.scoreboard` — the paper's claims with our interval, tests and a verdict;
- :mod:`~causalmix.report.confirmatory` — the pre-registered confirmatory study: registration, state, the three scoreboards;
- :mod:`~causalmix.report.evidence` — per training size, per dataset, sensitivity, power, the landing page's summary;
- :mod:`~causalmix.report.tables` and :mod:`~causalmix.report.figures` — what the pages show, and
  :mod:`~causalmix.report.page` — their numbers, captions, alt text and data links;
- :mod:`~causalmix.report.anatomy` — the SCM anatomy page;
- :mod:`~causalmix.report.models` — the shipped models in words (the README's model section, the landing
  page's model-strength note), from the benchmark results as :mod:`~causalmix.report.benchmark_results` reads them;
  ``python -m causalmix.report.readme README.md`` (:mod:`~causalmix.report.readme`) writes the section.

The notebooks stay thin: each table and figure of the book is one call here, and every one carries a
provenance caption (configuration, model, datasets, number of runs, git commit). Definitions are
SPEC.md's and live in :mod:`causalmix.metrics`; this package only applies them, and only reads records:
the study computes them first (:mod:`causalmix.study`).

>>> from causalmix import report
>>> report.method_label("causalmix")
'CausalMixFT'
"""

from causalmix.publish import is_published, load_published, uses_published  # noqa: F401
from causalmix.report.anatomy import (  # noqa: F401
    dag_summary,
    fidelity_table,
    fit_causalmix,
    held_out,
    plot_dags,
    plot_edge_probabilities,
    plot_marginals,
    plot_pairwise,
    published_fidelity,
    write_published_fidelity,
)
from causalmix.report.benchmark_results import (  # noqa: F401
    in_prior_scores,
    per_dataset_scores,
    recipe_runs,
    score_summary,
)
from causalmix.report.confirmatory import (  # noqa: F401
    CONFIRMATORY,
    CTGAN_CONFIG,
    DEVIATIONS,
    Scored,
    apart_note,
    companion_studies,
    computed_apart,
    confirmatory_records,
    confirmatory_sizes,
    ctgan_records,
    deviations_log,
    planned,
    poolable,
    pooled,
    progress,
    recomputed_runs,
    registered_runs,
    registration_text,
    scoreboards,
    settle_table,
    settle_text,
    state_text,
    study_results,
    unpooled_methods,
    with_ctgan,
)
from causalmix.report.evidence import (  # noqa: F401
    POWER_NOTE,
    by_n_train,
    by_n_train_table,
    forest_frame,
    power_table,
    seed_restricted_table,
    summary_paragraph,
    variability_table,
)
from causalmix.report.figures import (  # noqa: F401
    EXAMPLE_RULE,
    domain_shift_finding,
    example_runs,
    improvement_finding,
    low_resource_finding,
    median_finding,
    plot_cd_diagram,
    plot_correlations,
    plot_domain_shift,
    plot_example_curves,
    plot_forest,
    plot_improvement_strip,
    plot_low_resource,
    plot_regret,
)
from causalmix.report.frontmatter import (  # noqa: F401
    LICENCES,
    bibtex,
    changelog_table,
    configurations_table,
    contact_text,
    deviations_table,
    method_settings_table,
    plain_language_summary,
)
from causalmix.report.hierarchical import (  # noqa: F401
    Grid,
    dataset_values,
    grid,
    hierarchical_bootstrap,
)
from causalmix.report.models import (  # noqa: F401
    comparison_text,
    model_section,
    successor_text,
    zero_shot_markdown,
)
from causalmix.report.page import (  # noqa: F401
    Page,
    open_page,
    relative_to_repo,
    repository_url,
    setup_notebook,
    source_url,
)
from causalmix.report.paper import (  # noqa: F401
    METHOD_LABELS,
    METHOD_ORDER,
    PAPER_CITATION,
    PAPER_LABEL,
    PAPER_NUMBERS,
    PAPER_PROTOCOL,
    PAPER_RESULTS,
    SHORT_LABELS,
    method_label,
)
from causalmix.report.records import (  # noqa: F401
    ABLATION_FACTORS,
    BASELINE_VARIANT,
    CONFIG_DIR,
    DIRTY_NOTE,
    KEY_PACKAGES,
    REPO_ROOT,
    Provenance,
    ablation_config,
    ablation_records,
    caption,
    current_records,
    environment_table,
    failures_table,
    ignored_text,
    in_sweep,
    load_results,
    ok_runs,
    provenance,
    resolve_config,
    result_version_counts,
    results_dir,
    run_commits_table,
    settings,
    sweep_overview,
    sweep_summary_text,
    with_current_settings,
    with_pretrained,
)
from causalmix.report.scoreboard import (  # noqa: F401
    CLAIMS,
    UNITS_NOTE,
    VERDICT_RULE,
    Claim,
    ClaimResult,
    Evidence,
    paired_runs,
    scoreboard,
    scoreboard_table,
    selection_frame,
    verdict_counts,
)
from causalmix.report.stats import (  # noqa: F401
    Interval,
    RankTest,
    cliques,
    cluster_bootstrap,
    domain_shift_frame,
    fewer_seeds,
    fully_seeded,
    holm,
    improvement_cells,
    improvement_frame,
    mean_interval,
    median_improvement_interval,
    median_interval,
    nemenyi_critical_difference,
    on_shared_splits,
    paired_tests,
    per_dataset,
    pooled_median,
    rank_test,
    reliability_frame,
)
from causalmix.report.tables import (  # noqa: F401
    BASELINE_LABELS,
    ablation_conclusion,
    ablation_pairs,
    domain_shift_description,
    domain_shift_table,
    domain_shift_verdict,
    format_number,
    improvement_by_n_train,
    low_resource_table,
    median_improvement_table,
    per_dataset_improvement,
    rank_summary_table,
    reliability_table,
    separated_comparison,
    shared_split_ranking,
    styled,
    zero_shot_table,
)
from causalmix.report.verdicts import (  # noqa: F401
    VERDICTS,
    datasets_needed,
    direction_verdict,
    effect_verdict,
    equivalence_verdict,
    signed_rank,
    tost,
)
from causalmix.report.verification import (  # noqa: F401
    current_check,
    machines_table,
    published_text,
    sample_reach_text,
    verification_notice,
    verification_table,
)
from causalmix.report.vocabulary import (  # noqa: F401
    COUNT_TERMS,
    StudyCounts,
    glue_counts,
    glue_html,
    glue_study_texts,
    study_counts,
)
