"""The shipped models, in words: the README's model section and the landing page's model-strength note,
generated from the benchmark results and the weights' sidecars (read by
:mod:`~causalmix.report.benchmark_results`), so that no number in them is typed by hand. Each paragraph is
one function; :func:`model_section` joins them, and :mod:`causalmix.report.readme` writes them into the README:

    python -m causalmix.report.readme README.md           # rewrite its model section between the markers
    python -m causalmix.report.readme README.md --check   # exit 1 if the README is stale

Differences between recipe variants are taken as ``benchmarks/recipes.py`` takes them (of the unrounded
medians and means); gaps between the model and the baselines as the zero-shot table shows them (of the
medians rounded to 3 decimals), so a reader can check them against the table.

>>> table = pd.DataFrame({"m (zero-shot)": [0.775], "logistic regression": [0.767], "random forest": [0.810],
...                       "gradient boosting": [0.743], "datasets": [17], "seeds": [5]}, index=[64])
>>> print(zero_shot_markdown(table))
| n_train | m | logistic regression | random forest | gradient boosting |
|---|---|---|---|---|
| 64 | 0.775 | 0.767 | 0.810 | 0.743 |
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pandas as pd
import yaml

from causalmix.model import DEFAULT_MODEL
from causalmix.provenance import REPO_ROOT
from causalmix.report.benchmark_results import (
    RESULTS,
    WEIGHTS,
    checkpoint_medians,
    first_not_rising,
    first_reaching,
    in_prior_scores,
    per_dataset_scores,
    recipe_runs,
    score_summary,
    sidecar,
    training_minutes,
)
from causalmix.report.tables import BASELINE_LABELS, zero_shot_table

#: The shipped models' target: at this n_train, at least these baselines' median zero-shot ROC-AUC.
TARGET_N_TRAIN = 256
TARGET_BASELINES = ("random_forest", "hist_gb")
#: The standard study's tables whose label is a sharp rule over categorical columns.
RULE_DATASETS = ("splice", "kr-vs-kp")
#: The recipe of the faster, unshipped runs of ``pretrain_efficiency.csv`` and ``model_quality_shallow.csv``.
SHALLOW_CONFIG = "causalmix/configs/pretrain-shallow.yaml"
#: Issue 29's long run, scored along the way (``pretrain_xl.csv``, ``pretrain_xl_rules.csv``).
LONG_RUN_CONFIG = "causalmix/configs/pretrain-xl.yaml"
STOP_RULE_EVERY = 4000  # the long run's stop rule compares its medians at these steps (its config's header)
#: Each shipped model's role; ``{config}``: its recipe, from its sidecar.
ROLES = {"causalmix-wide": "the default; {config}, `make pretrain` reruns it",
         "causalmix-tiny": "its predecessor, kept for speed in some tests; {config}"}
#: Where the held-out tables come from (``benchmarks/heldout_data.py``).
HELDOUT_SOURCES = {"scikit-learn's": ("iris", "wine", "digits"), "statsmodels'": ("affairs", "anes96")}
OPTIMIZERS = {"muon": "Muon for the weight matrices and AdamW for the rest", "adamw": "AdamW"}
WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}
FIGURE = ("![Median zero-shot ROC-AUC of pretraining checkpoints against CPU minutes]"
          "(benchmarks/results/pretrain_efficiency.png)")
ACCEPTANCE_COMMAND = ("python benchmarks/tiny_model.py --acceptance --model runs/pretrain-xl/causalmix-xl.ckpt "
                      "causalmix-wide --name acceptance")
QUALITY_COMMAND = ("python benchmarks/tiny_model.py --model causalmix-wide --reuse-baselines "
                   "benchmarks/results/tiny_model.csv --compare causalmix-tiny --name model_quality")


def _and(items: list[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _percent(share: float) -> str:
    return f"{share * 100:.0f} %"


def _signed(value: float) -> str:
    text = f"{value:+.3f}"
    return "0.000" if text in ("+0.000", "-0.000") else text


def _moved(median: float, mean: float) -> str:
    """A change of the median and the mean across datasets, in words."""
    if median < 0 and mean < 0:
        return f"lost {-median:.3f} / {-mean:.3f}"
    return f"moved the median {_signed(median)} and the mean {_signed(mean)}"


def _wrap(text: str, width: int = 110, indent: str = "") -> str:
    """Markdown prose wrapped at ``width``, no line starting with what markdown would read as a block."""
    text = text.replace(" %", "\u00a0%")  # "30 %" stays on one line
    for w in range(width, width - 20, -1):
        lines = textwrap.wrap(text, w, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)
        if not any(re.match(r"\s*([-+*>#|]\s|\d+[.)]\s)", line) for line in lines[1:]):
            return "\n".join(lines).replace("\u00a0", " ")
    raise ValueError(f"cannot wrap {text[:40]!r}...")


def _models(runs: pd.DataFrame) -> list[str]:
    """The models of a benchmark CSV that are not baselines, in order of appearance."""
    return [m for m in dict.fromkeys(runs["model"]) if m not in BASELINE_LABELS]


def model_line(card: dict, *, like: dict | None = None) -> str:
    """A shipped model as a README bullet, from its sidecar; ``like``: a sidecar whose equal parts it omits."""
    def differs(*keys: str) -> bool:
        return like is None or any(_get(like, k) != _get(card, k) for k in keys)

    arch, prior, recipe, hardware = card["architecture"], card["prior"], card["recipe"], card["hardware"]
    config = re.search(r"--config (\S+)", card["reproduce"]).group(1)
    config = config if config.startswith("causalmix/") else f"causalmix/{config}"
    shape = [f"emsize {arch['emsize']}" * differs("architecture.emsize"),
             f"{arch['nlayers']} layers" * differs("architecture.nlayers"),
             f"{arch['nhead']} heads" * differs("architecture.nhead"), f"{card['size_bytes'] / 1e6:.1f} MB"]
    parts = [f"{round(card['n_parameters'] / 1000)}k parameters ({', '.join(filter(None, shape))})",
             OPTIMIZERS[recipe.get("optimizer", "adamw")],
             ("tables" if like else "the SCM prior with tables") + f" of up to {prior['max_features']} features "
             f"({prior.get('feature_distribution', 'uniform').replace('_', '-')})",
             f"up to {recipe['inference_max_features']} columns per ensemble member at inference"]
    where = (f" on {WORDS.get(hardware['torch_threads'], hardware['torch_threads'])} thread of a "
             f"{hardware['cpu_count']}-core {hardware['device'].upper()}"
             if differs("hardware.torch_threads", "hardware.cpu_count", "hardware.device") else "")
    role = ROLES.get(card["name"], "{config}").format(config=f"`{config}`")
    return (f"- **`{card['name']}`** ({role}): {', '.join(parts)}; {card['steps']:,} steps, "
            f"{training_minutes(card):.0f} minutes{where}.")


def _get(card: dict, dotted: str):
    for key in dotted.split("."):
        card = card.get(key) if isinstance(card, dict) else None
    return card


def models_text(weights: Path = WEIGHTS) -> str:
    """The section's opening: where the shipped checkpoints come from, and one bullet per sidecar."""
    default = sidecar(DEFAULT_MODEL, weights)
    others = [sidecar(p.stem, weights) for p in sorted(Path(weights).glob("*.json")) if p.stem != DEFAULT_MODEL]
    intro = ("TabPFN's real weights come from a model hub at run time. So that everything runs offline, the "
             "package ships its own prior-fitted TabPFN-v2-architecture checkpoints, trained from scratch by "
             "`causalmix/prior.py` and `causalmix/pretraining.py`. They load through tabpfn's normal "
             "`TabPFNClassifier(model_path=...)` route, so inference, fine-tuning and saving run the real code "
             "paths; each sidecar `causalmix/weights/<name>.json` holds the recipe, hardware, minutes, sha256, "
             "commit and the recommended fine-tuning learning rate.")
    bullets = [model_line(default), *(model_line(card, like=default) for card in others)]
    return _wrap(intro) + "\n\n" + "\n".join(_wrap(b, indent="  ") for b in bullets)


def prior_text(results: Path = RESULTS) -> str:
    """The prior paragraph: ours against TabICL's priors (``prior_choice``), a mixture with TabICL's tree SCM
    (``prior_mixture``) and the rule-table prior (``prior_rules``)."""
    results = Path(results)
    runs = recipe_runs(results / "prior_choice.md")
    scores = pd.read_csv(results / "prior_choice.csv")
    medians = score_summary(scores)["median"]
    ours = runs.index[0]
    theirs = medians.drop(ours).sort_values(ascending=False)
    names = [v.removeprefix("tabicl-").replace("mlp", "MLP") for v in theirs.index]
    names[0] = f"TabICL's {names[0]} SCM"
    how = "chosen by measurement over" if medians[ours] >= medians.max() else "compared by measurement with"
    choice = (f"The prior is the package's own (`causalmix/prior.py`), {how} TabICL's maintained priors: at equal "
              f"{runs.attrs['equal']}, the same architecture and the same batch shapes (one feature count per batch, "
              f"no zero padding), ours scores a median zero-shot ROC-AUC of {medians[ours]:.3f} at n_train "
              f"{_and([str(n) for n in scores['n_train'].unique()])} against "
              + _and([f"{medians[v]:.3f} ({name})" for v, name in zip(theirs.index, names)])
              + " (`benchmarks/results/prior_choice.md`; `pip install -e .[tabicl-prior]` and "
              "`--prior-source tabicl_graph_scm` rerun them).")
    runs = recipe_runs(results / "prior_mixture.md")
    cells = per_dataset_scores(pd.read_csv(results / "prior_mixture.csv"))
    base, mixed = runs.index[:2]
    mix = runs.at[mixed, "settings"]["prior"]
    delta = cells[mixed] - cells[base]
    source = re.sub(r"tabicl_(\w+)_scm", r"TabICL's \1 SCM", mix["mix_source"])
    mixture = (f"A mixture ({_percent(mix['mix_share'])} of the batches from {source}, `mix_source`/`mix_share` in "
               f"the prior settings) {_moved(cells[mixed].median() - cells[base].median(), delta.mean())}, "
               f"{(delta > 0).sum()} datasets up and {(delta < 0).sum()} down (`benchmarks/results/prior_mixture.md`).")
    return " ".join([choice, mixture, rules_text(results)])


def rules_text(results: Path = RESULTS) -> str:
    """The rule-table prior: its mixtures against the base recipe, the rule-like datasets, the in-prior check."""
    results = Path(results)
    runs = recipe_runs(results / "prior_rules.md")
    cells = per_dataset_scores(pd.read_csv(results / "prior_rules.csv"))
    base = runs.index[0]
    shares = sorted(((runs.at[v, "settings"]["prior"]["mix_share"], v) for v in runs.index[1:]), reverse=True)
    moves = [_percent(share) + (" of the batches " if i == 0 else " ")
             + _moved(cells[v].median() - cells[base].median(), (cells[v] - cells[base]).mean())
             for i, (share, v) in enumerate(shares)]
    better = [d for d in RULE_DATASETS if any(cells.at[d, v] > cells.at[d, base] for _, v in shares)]
    targets = (f"{_and(RULE_DATASETS)} did not improve" if not better
               else f"of {_and(RULE_DATASETS)} only {_and(better)} improved")
    columns, check = in_prior_scores(results / "prior_rules.md")
    recipe = runs.at[base, "recipe"]
    return (f"A prior of rule tables (`causalmix/rule_prior.py`, `source`/`mix_source: rules`: random decision "
            f"trees, parity, lookup tables and AND/OR rules over numeric and categorical columns): at "
            f"{_and([f'{s:,}' for s in runs['steps'].unique()])} steps of the {recipe['emsize']}/{recipe['nlayers']} "
            f"recipe, {', '.join(moves)}, and {targets}; the model does not learn fresh rule tables of {columns} "
            f"categorical columns even in-prior (ROC-AUC {check[base]:.2f} against a random forest's "
            f"{check['random forest']:.2f}; `benchmarks/results/prior_rules.md`).")


def recipe_text(results: Path = RESULTS) -> str:
    """How the recipe was chosen: the network's shape (``depth_width``), the learning rate
    (``learning_rate_pretrain``) and the batch (``batch_shape``), then both re-measured with the rule-table
    prior (``recipe_rules``). That Muon beat AdamW has no results file here; the sentence holds no number."""
    results = Path(results)
    rules = recipe_runs(results / "recipe_rules.md").iloc[0]["settings"]["prior"]
    return ("How the recipe was chosen, by short runs scored on the same splits (`benchmarks/recipes.py`): "
            f"Muon beat AdamW at equal time; {_shape_clause(results)}, {_rate_clause(results)}; "
            f"{_batch_clause(results)} (`batch_shape.md`). Re-measured with {_percent(rules['mix_share'])} of the "
            f"batches from the rule-table prior: {_rate_clause(results, 'recipe_rules').removeprefix('with ')}; "
            f"{_batch_clause(results, 'recipe_rules')}.")


def _shape_clause(results: Path) -> str:
    runs = recipe_runs(results / "depth_width.md")
    medians = score_summary(pd.read_csv(results / "depth_width.csv"))["median"]
    shape = {v: (r["emsize"], r["nlayers"]) for v, r in runs["recipe"].items()}
    base, best = runs.index[0], medians.idxmax()
    (w, d), (w0, d0) = shape[best], shape[base]
    others = medians.drop([best, base])
    spread = f" and {others.min():.3f} to {others.max():.3f}" if len(others) else ""
    budget = (f"at about {runs['CPU min'].median():.0f} trainer-minutes each" if runs.attrs["equal"] == "time"
              else f"at {_and([f'{s:,}' for s in runs['steps'].unique()])} steps each")
    if best == base:
        return (f"{budget}, the {w0}/{d0} base beat every other shape tried (median {medians[best]:.3f} against "
                f"{spread.removeprefix(' and ')}, `depth_width.md`)")
    words = ["wider" if w > w0 else "narrower" if w < w0 else "", "shallower" if d < d0 else "deeper" if d > d0 else ""]
    return (f"{budget}, a {', '.join(filter(None, words))} network ({w}-wide embeddings, {d} layers) beat {w0}/{d0} "
            f"and every other shape tried (median {medians[best]:.3f} against {medians[base]:.3f}{spread}, "
            "`depth_width.md`)")


def _varied(runs: pd.DataFrame, setting: str) -> pd.DataFrame:
    """The base (first row) and the variants that vary only ``setting`` among the learning rate and the batch."""
    base = runs["recipe"].iloc[0]
    fixed = [k for k in ("lr", "batch_size") if k != setting]
    return runs[[all(r[k] == base[k] for k in fixed) for r in runs["recipe"]]]


def _rate_clause(results: Path, name: str = "learning_rate_pretrain") -> str:
    runs = _varied(recipe_runs(results / f"{name}.md"), "lr")
    medians = score_summary(pd.read_csv(results / f"{name}.csv"))["median"][runs.index]
    rate = {v: float(r["lr"]) for v, r in runs["recipe"].items()}
    order = sorted(rate, key=rate.get)
    return (f"with learning rate {_rate(rate[medians.idxmax()])} best among {_and([_rate(rate[v]) for v in order])} "
            f"(medians {_and([f'{medians[v]:.3f}' for v in order])}, `{name}.md`)")


def _rate(value: float) -> str:
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _batch_clause(results: Path, name: str = "batch_shape") -> str:
    runs = _varied(recipe_runs(results / f"{name}.md"), "batch_size")
    cells = per_dataset_scores(pd.read_csv(results / f"{name}.csv"))
    base = runs.index[0]
    size = {v: r["batch_size"] for v, r in runs["recipe"].items()}
    changes = []
    for i, v in enumerate(sorted(runs.index[1:], key=size.get)):
        ratio = size[v] / size[base]
        how = {0.5: "halving", 2.0: "doubling"}.get(ratio, f"scaling by {ratio:g}")
        changes.append(f"{how} {'the batch' if i == 0 else 'it'} "
                       + _moved(cells[v].median() - cells[base].median(), (cells[v] - cells[base]).mean()))
    return _and(changes)


def efficiency_text(results: Path = RESULTS, weights: Path = WEIGHTS) -> str:
    """Quality against CPU minutes (``pretrain_efficiency``): where the shipped recipe levels off, how soon each
    recipe reaches the old model's median, and the faster recipe's model against the shipped one
    (``model_quality_shallow``)."""
    results = Path(results)
    runs = dict(list(checkpoint_medians(pd.read_csv(results / "pretrain_efficiency.csv")).groupby("run", sort=False)))
    shipped = runs.pop(DEFAULT_MODEL)
    faster = sorted(runs, key=lambda r: -runs[r]["step"].max())
    quality = pd.read_csv(results / "model_quality.csv")
    old = next(m for m in _models(quality) if m != DEFAULT_MODEL)
    target = round(zero_shot_table(results / "model_quality.csv").at[TARGET_N_TRAIN, f"{old} (zero-shot)"], 3)

    def reached(group: pd.DataFrame) -> str:
        hit = first_reaching(group, target)
        return f"{hit['cpu_minutes']:.0f}" if hit is not None else f"more than {group['cpu_minutes'].max():.0f}"

    peak = shipped.loc[shipped["median"].idxmax()]
    threads = sidecar(DEFAULT_MODEL, weights)["hardware"]["torch_threads"]
    level = (f"Longer training stops paying at about {peak['median']:.2f} median on {WORDS.get(threads, threads)} CPU "
             f"thread: the shipped run peaks at {peak['median']:.3f} after {peak['step']:,} steps and ends at "
             f"{shipped['median'].iloc[-1]:.3f}" if peak["step"] < shipped["step"].max() else
             f"Longer training still paid at the end of the shipped run ({peak['median']:.3f} after {peak['step']:,} "
             "steps)")
    shallow = yaml.safe_load((REPO_ROOT / SHALLOW_CONFIG).read_text())
    recipe = f"{shallow['emsize']}/{shallow['nlayers']}"
    schedules = _and([reached(runs[r]) + (" minutes" if i == 0 else "") + f" on a {runs[r]['step'].max():,}-step "
                      + ("schedule" if i == 0 else "one") for i, r in enumerate(faster)])
    mine = pd.read_csv(results / "model_quality_shallow.csv")
    new = next(m for m in _models(mine) if m not in set(quality["model"]))
    table = zero_shot_table(results / "model_quality_shallow.csv").round(3)
    ours, theirs = table[f"{new} (zero-shot)"], table[f"{DEFAULT_MODEL} (zero-shot)"]
    compare = (f"{' / '.join(f'{v:.3f}' for v in ours)} at n_train {' / '.join(str(n) for n in table.index)} vs "
               f"{' / '.join(f'{v:.3f}' for v in theirs)}, `model_quality_shallow.md`")
    trained = f"the {recipe} model trained for {runs[faster[0]]['cpu_minutes'].max():.0f} minutes"
    verdict = (f"{trained} beats the shipped one at every n_train ({compare})" if (ours > theirs).all() else
               f"yet {trained} is no better overall than the shipped one ({compare}), so `{DEFAULT_MODEL}` stays "
               "the default")
    return (f"{level} (the figure, `benchmarks/results/pretrain_efficiency.md`). The old model's {target:.3f} "
            f"takes the shipped wide recipe {reached(shipped)} CPU-minutes, the {recipe} recipe (`{SHALLOW_CONFIG}`) "
            f"{schedules}, against {training_minutes(sidecar(old, weights)):.0f} for the old recipe; {verdict}.")


def long_run_text(results: Path = RESULTS) -> str:
    """Issue 29's long run as far as it is scored: its checkpoints on the efficiency figure (``pretrain_xl``)
    beside the shipped run's at the same steps, and in-prior on fresh rule tables (``pretrain_xl_rules``)."""
    results = Path(results)
    config = yaml.safe_load((REPO_ROOT / LONG_RUN_CONFIG).read_text())
    curve = checkpoint_medians(pd.read_csv(results / "pretrain_xl.csv")).sort_values("step")
    shipped = checkpoint_medians(pd.read_csv(results / "pretrain_efficiency.csv")).query("run == @DEFAULT_MODEL")
    shipped = shipped.set_index("step")["median"]
    both = [s for s in curve["step"] if s in shipped.index]
    target = score_summary(pd.read_csv(results / "tiny_model.csv"), TARGET_N_TRAIN).at["hist_gb", "median"]
    reached = first_reaching(curve, round(target, 3))
    rule_points = curve[curve["step"] % STOP_RULE_EVERY == 0]  # not the checkpoints scored at a session's end
    stop = first_not_rising(rule_points)
    if stop is not None:
        before = rule_points[rule_points["step"] < stop["step"]].iloc[-1]
        status = (f"stopped at step {stop['step']:,} by the stop rule in its configuration's header (train on "
                  f"while the median rises at every {STOP_RULE_EVERY:,}-step point; "
                  f"{before['median']:.3f} at step {before['step']:,}, {stop['median']:.3f} at {stop['step']:,}). "
                  "Its checkpoints scored")
    else:
        status = "is scored along the way:"
    others = curve[curve["step"] % STOP_RULE_EVERY != 0]
    extra = "".join(f"; {m:.3f} at a session-end checkpoint, step {step:,}"
                    for step, m in zip(others["step"], others["median"]))
    rules = pd.read_csv(results / "pretrain_xl_rules.csv")
    medians = rules.groupby(["shape", "model"], sort=False)["roc_auc"].median()
    splice = next(shape for shape in medians.index.levels[0] if shape.startswith("splice"))
    last = max((m for m in rules["model"].unique() if m.startswith("xl-")), key=lambda m: int(m.removeprefix("xl-")))
    return (f"A long run (`{LONG_RUN_CONFIG}`: {config['emsize']}-wide embeddings, {config['nlayers']} layers, "
            f"{_percent(config['prior']['mix_share'])} of the batches from the rule-table prior, a "
            f"{config['steps']:,}-step schedule, resumable across sessions) {status} median "
            f"zero-shot ROC-AUC {_and([f'{m:.3f}' for m in rule_points['median']])} at steps "
            f"{_and([f'{s:,}' for s in rule_points['step']])} "
            f"({_and([f'{m:.0f}' for m in rule_points['cpu_minutes']])} trainer-minutes{extra}), "
            f"where `{DEFAULT_MODEL}`'s run scored {_and([f'{shipped[s]:.3f}' for s in both])} at "
            f"steps {_and([f'{s:,}' for s in both])}; the gradient-boosting target is {target:.3f}, "
            + (f"first reached at step {reached['step']:,}" if reached is not None else "not reached yet")
            + " (`benchmarks/results/pretrain_xl.md` and `.png`). In-prior, on fresh splice-like rule tables, its "
            f"step-{int(last.removeprefix('xl-')):,} checkpoint's median ROC-AUC is {medians[splice, last]:.3f} "
            f"against `{DEFAULT_MODEL}`'s {medians[splice, DEFAULT_MODEL]:.3f} and a random forest's "
            f"{medians[splice, 'random_forest']:.3f} (`benchmarks/results/pretrain_xl_rules.md`).")


def successor_text(results: Path = RESULTS) -> str:
    """What may replace the default: the long run as far as it is scored, then its acceptance run once it has one."""
    parts = [_wrap(long_run_text(results))]
    if (Path(results) / "acceptance.csv").is_file():
        parts.append(acceptance_text(results))
    return "\n\n".join(parts)


def acceptance_text(results: Path = RESULTS) -> str:
    """Issue 29's acceptance run (``acceptance``: the final candidate and the shipped model on the reserved
    datasets, scored once): its table, whether the candidate ships (its median at :data:`TARGET_N_TRAIN` above
    the shipped model's, as the table shows them) and both against the baselines."""
    path = Path(results) / "acceptance.csv"
    runs, table = pd.read_csv(path), zero_shot_table(path)
    candidate = next(m for m in _models(runs) if m != DEFAULT_MODEL)
    shown = table.round(3)
    ours, theirs = (shown.at[TARGET_N_TRAIN, f"{m} (zero-shot)"] for m in (candidate, DEFAULT_MODEL))
    ships = ours > theirs
    intro = (f"Acceptance, scored once, on the {runs['dataset'].nunique()} datasets kept from every recipe "
             f"decision (the confirmatory study's; {runs['seed'].nunique()} seeds, the same splits for every model; "
             f"`{ACCEPTANCE_COMMAND}`, per-dataset rows in `benchmarks/results/acceptance.md`):")
    verdict = (f"The long run's final checkpoint (`{candidate}`) scores {ours:.3f} at n_train {TARGET_N_TRAIN} "
               f"against `{DEFAULT_MODEL}`'s {theirs:.3f}, so it "
               + ("ships as the default for new work (the published studies stay pinned to the model they were "
                  "computed with)." if ships else f"does not ship: `{DEFAULT_MODEL}` stays the default.")
               + " " + comparison_text(table, candidate, subject="the candidate")
               + " " + comparison_text(table, DEFAULT_MODEL, subject=f"`{DEFAULT_MODEL}`").replace("The target", "For "
                                       f"`{DEFAULT_MODEL}` the target", 1))
    return "\n\n".join([_wrap(intro), zero_shot_markdown(table, [candidate, DEFAULT_MODEL]), _wrap(verdict)])


def zero_shot_markdown(table: pd.DataFrame, models: list[str] | None = None) -> str:
    """A :func:`~causalmix.report.tables.zero_shot_table` in markdown: ``models`` (default: all, the default
    model first), then the baselines; an n_train with fewer datasets than the others says how many."""
    names = models or sorted((c.removesuffix(" (zero-shot)") for c in table if c.endswith(" (zero-shot)")),
                             key=lambda m: (m != DEFAULT_MODEL, m))
    baselines = [c for c in BASELINE_LABELS.values() if c in table]
    columns = [f"{m} (zero-shot)" for m in names] + baselines
    lines = ["| n_train | " + " | ".join([*names, *baselines]) + " |", "|---" * (len(columns) + 1) + "|"]
    for n, row in table.iterrows():
        label = f"{n} ({row['datasets']:.0f} datasets)" if row["datasets"] < table["datasets"].max() else f"{n}"
        lines.append(f"| {label} | " + " | ".join(f"{row[c]:.3f}" for c in columns) + " |")
    return "\n".join(lines)


def _against(row: pd.Series, column: str) -> str:
    """``row[column]`` against each baseline of ``row``: "above A and B, 0.035 below C" (equal gaps share one)."""
    gaps = {label: round(row[label] - row[column], 3) for label in BASELINE_LABELS.values() if label in row}
    above = [label for label, gap in gaps.items() if gap < 0]
    level = [label for label, gap in gaps.items() if gap == 0]
    below = [f"{gap:.3f} below {_and([label for label, g in gaps.items() if g == gap])}"
             for gap in sorted({gap for gap in gaps.values() if gap > 0})]
    return ", ".join(filter(None, [above and f"above {_and(above)}", level and f"level with {_and(level)}",
                                   below and _and(below)]))


def comparison_text(table: pd.DataFrame, model: str, *, subject: str = "the default", score: bool = False) -> str:
    """``model`` against the baselines of a :func:`~causalmix.report.tables.zero_shot_table`: whether the target
    (at :data:`TARGET_N_TRAIN` at least the :data:`TARGET_BASELINES`) is met, and its gap to each baseline per
    n_train, between the medians as the table shows them (3 decimals); ``score``: its median first.

    >>> table = pd.DataFrame({"m (zero-shot)": [0.80], "logistic regression": [0.81], "random forest": [0.79],
    ...                       "gradient boosting": [0.85], "datasets": [3], "seeds": [2]}, index=[256])
    >>> comparison_text(table, "m", subject="m")  # doctest: +NORMALIZE_WHITESPACE
    'The target (at n_train 256 at least random forest and gradient boosting) is **not met**: m is above random
    forest, 0.010 below logistic regression and 0.050 below gradient boosting at 256.'
    """
    column, shown = f"{model} (zero-shot)", table.round(3)
    goal = f"The target (at n_train {TARGET_N_TRAIN} at least {_and([BASELINE_LABELS[b] for b in TARGET_BASELINES])})"
    if TARGET_N_TRAIN in table.index:
        met = all(shown.at[TARGET_N_TRAIN, column] >= shown.at[TARGET_N_TRAIN, BASELINE_LABELS[b]]
                  for b in TARGET_BASELINES)
        first, goal = TARGET_N_TRAIN, f"{goal} is **{'met' if met else 'not met'}**"
    else:
        first, goal = table.index.min(), f"{goal} is not measured here"
    clauses = [f"{subject} is {_against(shown.loc[first], column)} at {first}"]
    clauses += [f"at {n} it is {_against(shown.loc[n], column)}" for n in table.index if n != first]
    lead = f"Zero-shot at n_train {first} {subject} scores a median ROC-AUC of {shown.at[first, column]:.3f}. "
    return (lead if score else "") + f"{goal}: " + "; ".join(clauses) + "."


def strength_text(results: Path = RESULTS) -> str:
    """The zero-shot table (``model_quality``) with its paragraphs: against the baselines, on Adult at n_train 128
    (``adult_n128``), on the held-out tables (``heldout``) and on the rule-like tables."""
    results = Path(results)
    runs = pd.read_csv(results / "model_quality.csv")
    table = zero_shot_table(results / "model_quality.csv")
    intro = (f"Zero-shot (in-context, no fine-tuning) median ROC-AUC over the {runs['dataset'].nunique()} shared "
             f"datasets, {runs['seed'].nunique()} seeds, the same splits for every model (`{QUALITY_COMMAND}`, "
             "per-dataset rows in `benchmarks/results/model_quality.md`):")
    adult = pd.read_csv(results / "adult_n128.csv")
    medians = score_summary(adult)["median"]
    best = medians.drop(DEFAULT_MODEL).idxmax()
    adult_text = (f"On {_and([d.capitalize() for d in adult['dataset'].unique()])} at n_train "
                  f"{_and([str(n) for n in adult['n_train'].unique()])} ({adult['seed'].nunique()} seeds) it scores "
                  f"{medians[DEFAULT_MODEL]:.3f} against {BASELINE_LABELS[best]}'s {medians[best]:.3f} "
                  "(`benchmarks/results/adult_n128.md`).")
    text = " ".join([comparison_text(table, DEFAULT_MODEL), adult_text, heldout_text(results), losses_text(results)])
    return "\n\n".join([_wrap(intro), zero_shot_markdown(table), _wrap(text)])


def heldout_text(results: Path = RESULTS) -> str:
    """The default model on the held-out tables (``heldout``) at :data:`TARGET_N_TRAIN`."""
    runs = pd.read_csv(Path(results) / "heldout.csv")
    medians = per_dataset_scores(runs, TARGET_N_TRAIN).median().round(3)
    ours, baselines = medians[DEFAULT_MODEL], medians.drop(DEFAULT_MODEL)
    names = set(runs["dataset"])
    used = runs.loc[runs["n_train"] == TARGET_N_TRAIN, "dataset"].nunique()
    known = {d for tables in HELDOUT_SOURCES.values() for d in tables}
    sources = [f"{source} {_and([d for d in tables if d in names])}" for source, tables in HELDOUT_SOURCES.items()
               if names & set(tables)] + sorted(names - known)
    return (f"On {WORDS.get(len(names), len(names))} tables that no choice here was made on ({', '.join(sources)}; "
            "`python benchmarks/heldout_data.py runs/heldout-data`, then `tiny_model.py` on that folder, "
            "`benchmarks/results/heldout.md`) it is "
            + ("below the baselines too" if (baselines > ours).all() else "not below every baseline")
            + f" (median {ours:.3f} at n_train {TARGET_N_TRAIN}"
            + (f" over the {used} tables large enough for it" if used < len(names) else "") + " vs "
            + ", ".join(f"{v:.3f} for {_and([BASELINE_LABELS[b] for b in baselines.index if baselines[b] == v])}"
                        for v in sorted(set(baselines), reverse=True)) + ").")


def losses_text(results: Path = RESULTS) -> str:
    """The rule-like tables against the strongest baseline at :data:`TARGET_N_TRAIN`, and what the gap needs."""
    cells = per_dataset_scores(pd.read_csv(Path(results) / "model_quality.csv"), TARGET_N_TRAIN)
    strongest = cells[list(BASELINE_LABELS)].median().idxmax()
    gaps = (cells[strongest] - cells[DEFAULT_MODEL]).sort_values(ascending=False)
    largest = set(gaps.index[:len(RULE_DATASETS)]) == set(RULE_DATASETS)
    scores = ", ".join(f"{d} {cells.at[d, DEFAULT_MODEL]:.2f} vs "
                       + (f"{BASELINE_LABELS[strongest]} " if i == 0 else "") + f"{cells.at[d, strongest]:.2f}"
                       for i, d in enumerate(RULE_DATASETS))
    return (("The losses are largest" if largest else "Large losses remain") + " on tables whose label is a sharp "
            f"rule over categorical columns ({scores}): no prior, shape or budget tried here moves them much, and the "
            "quality curve has flattened. Closing the gap most likely needs what these CPU sessions could not test: a "
            "larger model trained for GPU-hours, as TabPFN itself was. These are stand-ins that make the pipeline "
            "runnable offline, not TabPFN: the paper's claims are about the real TabPFN v2 weights (full "
            "configuration below).")


def model_section(results: Path = RESULTS, weights: Path = WEIGHTS) -> str:
    """The README's model section (what lies between its markers), from ``results`` and ``weights``."""
    return "\n\n".join([models_text(weights), _wrap(prior_text(results)),
                        _wrap(recipe_text(results) + " " + efficiency_text(results, weights)), FIGURE,
                        successor_text(results),
                        strength_text(results)])
