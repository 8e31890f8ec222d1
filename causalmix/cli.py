"""Command line: ``causalmix run | sweep | compare | sample | results | pretrain`` (also ``python -m causalmix``).

    causalmix run --dataset adult --method causalmix --n-train 256 --seed 0
    causalmix sweep causalmix/configs/quick.yaml --jobs 2
    causalmix results results/quick
    causalmix compare my.csv --target label
    causalmix pretrain --config causalmix/configs/pretrain.yaml --out-dir runs/pretrain
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causalmix import pretraining, report
from causalmix.claims import STALE_AFTER_S
from causalmix.clidoc import check_finetune, finetune_keys_help, generator_keys_help, settings_line
from causalmix.compare import answers_json, compare
from causalmix.data import DEFAULT_TEST_CAP, add_dataset
from causalmix.experiment import load_config, plan_sweep, run_sweep
from causalmix.io import CHECKSUMS_ENV
from causalmix.model import DEFAULT_MODEL, check_checkpoint, resolve_device
from causalmix.publish import PUBLISHED_DIR, is_published, publish, read_provenance
from causalmix.records import load_curves, load_records, warning_summary
from causalmix.runs import METHODS, METRIC_NAMES, RecordNotWritten, RunSpec, execute_run
from causalmix.sampling import sample_rows, write_rows
from causalmix.study import PARTS, load_study, plan_study, run_study
from causalmix.sweep_config import check_generator_params
from causalmix.verify import DEFAULT_BUDGET_S, verification_path, verify


def _parse_value(text: str) -> Any:
    """``--set key=value`` values: YAML scalars (``1e-4``, ``true``, ``null``, ``[1, 2]``)."""
    import yaml

    return yaml.safe_load(text)


def _key_values(items: list[str] | None, what: str) -> dict[str, Any]:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"error: {what} takes key=value, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip().replace("-", "_")] = _parse_value(v)
    return out


def _cmd_run(args: argparse.Namespace) -> int:
    domain = None
    if args.domain_column:
        if (args.domain_values is None) == (args.domain_between is None):
            raise SystemExit("error: --domain-column needs exactly one of --domain-values or --domain-between")
        domain = {"column": args.domain_column}
        if args.domain_values is not None:
            domain["values"] = args.domain_values
        else:
            domain["between"] = args.domain_between
    finetune = _key_values(args.set, "--set")
    for name in ("max_steps", "learning_rate", "eval_every", "patience"):
        if getattr(args, name) is not None:
            finetune[name] = getattr(args, name)
    optional = {"test_cap": args.test_cap} if args.test_cap is not None else {}

    check_finetune(finetune)  # the key named, before any data is read
    check_generator_params(args.method, _key_values(args.gen, "--gen"), "--gen")
    spec = RunSpec(
        dataset=args.dataset, n_train=args.n_train, n_val=args.n_val, seed=args.seed, method=args.method,
        model=args.model, device=args.device, finetune=finetune, generator=_key_values(args.gen, "--gen"),
        domain=domain, target=args.target, **optional,
    )

    if args.test_cap is not None and args.test_cap < 1:
        raise ValueError(f"--test-cap must be >= 1 (a run is scored on its test rows), got {args.test_cap}.")
    check_checkpoint(spec.model)  # before any work: a file that is not a checkpoint, a missing GPU
    resolve_device(spec.device)
    try:
        record = execute_run(spec, out_dir=args.out, progress=not args.quiet)
    except RecordNotWritten as err:  # computed, not written (a full disk): show it rather than lose it
        print(json.dumps(err.record.to_dict(), indent=1, default=str))
        print(f"error: {err}", file=sys.stderr)
        return 2
    if record.status != "ok":
        print(f"run {record.run_id} failed: {record.error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(record.to_dict(), indent=1, default=str))
        return 0
    print(f"run {record.run_id}  ({record.wall_time_s:.1f} s on {record.device}, model {record.model})")

    print(settings_line(record))
    print(f"best step {record.best_step} of {record.n_steps}" + (" (early stop)" if record.stopped_early else ""))
    rows = []
    for s in ("val", "test", "test_ood"):
        for suffix, label in (("_step0", "pre-trained"), ("", "best step")):
            values = {m: getattr(record, f"{s}_{m}{suffix}") for m in METRIC_NAMES}
            if not all(np.isnan(list(values.values()))):
                rows.append({"set": s, "model": label, **values})
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"learning rate {record.learning_rate:g}, ensemble {record.n_estimators} (train) / "
          f"{record.n_estimators_eval} (evaluation) members, {record.n_features_used} features")
    for w in record.warnings:
        print(f"warning ({w['count']}x) {w['category']}: {w['message'][:160]}")
    if args.out:
        print(f"record written under {Path(args.out) / 'records'}")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    import dataclasses

    config = load_config(args.config)  # checks every key, generator parameters included, before any run
    if args.model is not None:
        config = dataclasses.replace(config, model=args.model, out_dir=f"{config.out_dir}-{Path(args.model).stem}")
    if args.plan:
        print(plan_sweep(config, out_dir=args.out, jobs=args.jobs, retry_failed=not args.keep_failed))
        return 0
    summary = run_sweep(config, out_dir=args.out, jobs=args.jobs, progress=not args.quiet,
                        retry_failed=not args.keep_failed, claim_timeout_s=args.claim_timeout, backend=args.backend,
                        address=args.address, gpus_per_run=args.gpus_per_run, cpus_per_run=args.cpus_per_run)
    print(summary)
    return 0 if summary.n_failed == 0 or args.allow_failures else 1


def _print_tables(records: pd.DataFrame, curves: pd.DataFrame, metric: str, label: str, test: str = "test") -> None:
    """The book's tables for one group of runs, through the report's own functions."""
    col = f"{test}_{metric}"
    if test != "test":  # out-of-domain: the same tables on the test_ood columns
        records = records.assign(**{f"test_{metric}": records[col], f"test_{metric}_step0": records[f"{col}_step0"]})
    print(f"\n{label}: normalized {col} improvement over the pre-trained model (percent; SPEC aggregation)")
    print(report.median_improvement_table(records, f"test_{metric}", with_paper=False).to_string(float_format=_fmt))
    ranked = report.with_pretrained(records)
    if ranked["method"].nunique() >= 2:
        value, higher = f"test_{metric}", metric != "log_loss"
        test_result = report.rank_test(report.fully_seeded(ranked), value, higher_is_better=higher)
        print(f"\naverage rank by mean {col} (1 = best)")
        print(report.rank_summary_table(test_result).to_string(float_format=_fmt))
        print(test_result.summary())
        shared = report.shared_split_ranking(ranked, value, higher_is_better=higher)  # e.g. TabEBM on seed 0 only
        if shared:
            print(f"\n{shared[0]}\n{report.rank_summary_table(shared[1]).to_string(float_format=_fmt)}\n{shared[1].summary()}")
    if test == "test" and metric != "log_loss" and not curves.empty:
        frame = report.reliability_frame(records, curves, val=f"val_{metric}", test=f"test_{metric}")
        if not frame.empty:
            print("\nvalidation-test correlation, gap and early-stopping regret (medians over runs)")
            print(report.reliability_table(frame).to_string(float_format=_fmt))


def _fmt(v: float) -> str:
    return f"{v:.3f}"


def _cmd_results(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    published = _published_study(args.dir)
    if published is not None:  # `causalmix results standard` or `causalmix results published/standard`
        records, curves = report.load_published(published)
        grid = records if args.all else report.in_sweep(records, published)
        return _results_of(args, grid, curves, config=report.settings(published), name=published,
                           where=f"the published study {published!r}", all_records=records)
    records = load_records(folder)
    if records.empty:
        print(f"error: no records under {folder / 'records'}; run `causalmix sweep CONFIG --out {folder}` first",
              file=sys.stderr)
        return 2
    all_records = records
    config = folder / "config.json"
    if config.is_file() and not args.all:  # the folder's sweep grid, as the book reads it
        inside = report.in_sweep(records, json.loads(config.read_text()))
        if len(inside) < len(records):
            print(f"{len(records) - len(inside)} records outside the grid of {config} (other code, settings or "
                  f"extra runs) left out; --all keeps them")
        records = inside
    curves = load_curves(folder)
    return _results_of(args, records, curves, config=json.loads(config.read_text()) if config.is_file() else None,
                       name=folder.name, where=str(folder), all_records=all_records)


def _published_study(text: str) -> str | None:
    """The published study ``text`` names (``standard``, ``published/standard``), or None when
    ``text`` is a results folder of records."""
    path = Path(text)
    if (path / "records").is_dir():
        return None
    if (path / "runs.csv.gz").is_file() and (path / "provenance.json").is_file():
        text = path.resolve().name
    try:
        return text if (PUBLISHED_DIR / text / "runs.csv.gz").is_file() and is_published(text) else None
    except (FileNotFoundError, ValueError):
        return None


def _results_of(args: argparse.Namespace, records: pd.DataFrame, curves: pd.DataFrame, *, config: dict | None,
                name: str, where: str, all_records: pd.DataFrame | None = None) -> int:
    all_records = records if all_records is None else all_records
    n_fail = int((records["status"] != "ok").sum())
    print(f"{len(records)} runs under {where}: {len(records) - n_fail} ok, {n_fail} failed; "
          f"{records['dataset'].nunique()} datasets, methods {sorted(records['method'].unique())}")
    versions = report.result_version_counts(records)
    print(f"result version: {', '.join(f'{v} ({n} records)' for v, n in versions.items())}")
    if len(versions) > 1:
        print(f"warning: these {len(records)} records come from {len(versions)} result versions; compare them with "
              f"care or rerun the sweep in a fresh folder")
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_colwidth", 70):
        if args.metric == "roc_auc" and not args.all:
            board = report.scoreboard(all_records, curves, config=config, name=name)
            print("\nthe paper's claims (95 % hierarchical bootstrap intervals, Holm-adjusted tests; verdict rule: the book's landing page)")
            print(report.scoreboard_table(board, html=False).drop(columns=["configuration · model"]).to_string(index=False))
        low = report.ok_runs(records, domain=False)
        shifted = report.ok_runs(records, domain=True)
        if not low.empty:
            _print_tables(low, curves, args.metric, "low-data runs")
        if not shifted.empty:
            _print_tables(shifted, curves, args.metric, "domain-shift runs, in-domain test")
            if shifted[f"test_ood_{args.metric}"].notna().any():
                _print_tables(shifted, curves, args.metric, "domain-shift runs, out-of-domain test", test="test_ood")
        warned = warning_summary(records)
        if not warned.empty:
            print("\nwarnings raised in the runs (category, runs, occurrences, message):")
            for w in warned.itertuples(index=False):
                print(f"  {w.category}: {w.runs} runs, {w.count}x: {w.message[:150]}")
    if n_fail:
        print("\nfailures by reason:")
        reasons = records.loc[records["status"] != "ok", "error"].fillna("unknown").str.split("\n").str[0]
        for reason, n in reasons.value_counts().items():
            print(f"  {n} x {reason[:200]}")
    return 0


def _cmd_study_run(args: argparse.Namespace) -> int:
    study = load_study(args.config, out_dir=args.out)
    summaries = run_study(study, parts=args.parts, jobs=args.jobs, progress=not args.quiet)
    for part, summary in summaries.items():
        print(f"{part}: {summary}")
    failed = sum(summary.n_failed for summary in summaries.values())
    return 0 if failed == 0 or args.allow_failures else 1


def _cmd_study_plan(args: argparse.Namespace) -> int:
    study = load_study(args.config, out_dir=args.out)
    plans = plan_study(study, parts=args.parts, jobs=args.jobs)
    for part, plan in plans.items():
        print(f"== {part}\n{plan}\n")
    hours = sum(float(plan.table["est_hours"].sum(min_count=1) or 0.0) for plan in plans.values())
    to_run = sum(int(plan.table["to_run"].sum()) for plan in plans.values())
    print(f"study {study.name!r}: {to_run} runs to do in {', '.join(plans)}; about {hours:.2f} h of compute "
          f"({hours / args.jobs:.2f} h with --jobs {args.jobs})")
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    folder = publish(args.config, out_dir=args.out)
    prov = read_provenance(args.config)
    runs = ", ".join(f"{part} {n['ok']} ok / {n['failed']} failed" for part, n in prov["runs"].items())
    print(f"published {prov['configuration']!r} -> {folder}: {runs}; {prov['compute_seconds'] / 3600:.2f} compute hours; "
          f"result version {', '.join(map(str, prov['result_version']))}; commit it with the book.")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    result = verify(args.config, n_runs=args.runs, seed=args.seed, jobs=args.jobs, all_runs=args.all,
                    budget_s=None if args.budget <= 0 else args.budget, progress=not args.quiet)
    print(result.summary())
    print(f"written to {verification_path(args.config)}")
    return 0 if result.ok else 1


def _cmd_pretrain(argv: list[str]) -> int:
    return int(pretraining.main(argv) or 0)


def _cmd_add_dataset(args: argparse.Namespace) -> int:
    import warnings

    with warnings.catch_warnings(record=True) as caught:  # one "warning:" line each, no source lines
        warnings.simplefilter("always")
        ds = add_dataset(args.file, target=args.target, data_dir=args.data_dir, name=args.name,
                         encoding=args.encoding, dates=args.dates, keep_id_columns=args.keep_id_columns,
                         na_values=args.na_values or (), replace=args.replace)
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    for key in ("dropped_columns", "converted_columns", "date_columns_kept_as_categories", "kept_identifier_columns"):
        if ds.provenance.get(key):
            print(f"{key.replace('_', ' ')}: {', '.join(ds.provenance[key])}")
    print(f"{ds}\nWritten to {args.data_dir}; use it with CAUSALMIX_DATA_DIR={Path(args.data_dir).resolve()}")
    return 0


def _split_gen(items: list[str] | None) -> dict[str, dict[str, Any]]:
    """``--gen key=value`` (CausalMixFT's generator) or ``--gen method.key=value`` -> method -> params."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in _key_values(items, "--gen").items():
        method, _, param = key.rpartition(".")
        out.setdefault(method or "causalmix", {})[param] = value
    return out


def _cmd_compare(args: argparse.Namespace) -> int:
    finetune = _key_values(args.set, "--set")
    if args.max_steps is not None:
        finetune["max_steps"] = args.max_steps
    result = compare(args.data, target=args.target, name=args.name, out_dir=args.out, data_dir=args.data_dir,
                     n_train=args.n_train, methods=args.methods,
                     seeds=None if args.seeds is None else list(range(args.seeds)), finetune=finetune,
                     generators=_split_gen(args.gen), test_cap=args.test_cap, model=args.model, device=args.device,
                     jobs=args.jobs, plan_only=args.plan, progress=not args.quiet, metric=args.metric,
                     echo=(lambda text: print(text, file=sys.stderr)) if args.json else print)
    if args.plan:
        return 0
    if args.json:
        print(answers_json(result))
    else:
        print()
        print(result)
    return 0 if result.summary is None or result.summary.n_failed == 0 else 1


def _cmd_sample(args: argparse.Namespace) -> int:
    rows = sample_rows(args.dataset, method=args.method, n_train=args.n_train, seed=args.seed, n=args.n,
                       generator=_key_values(args.gen, "--gen"), target=args.target, n_val=args.n_val,
                       progress=not args.quiet, with_real=args.with_real)
    path = write_rows(rows, args.out)
    print(f"{len(rows)} rows ({args.method} generator fitted on the {args.n_train} training rows of seed {args.seed}) "
          f"written to {path}")
    return 0


def _with_keys(parser: argparse.ArgumentParser, *, finetune: bool = True, generator: bool = True) -> None:
    """Append the --set/--gen keys (read from the dataclass and the generators' signatures) to
    ``parser``'s --help, computed only when help is asked for (reading them imports the generators)."""
    plain = parser.format_help

    def format_help() -> str:
        extra = [finetune_keys_help()] if finetune else []
        extra += [generator_keys_help()] if generator else []
        return plain() + "\n" + "\n\n".join(extra) + "\n"

    parser.format_help = format_help


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="causalmix", description="CausalMixFT: causal data augmentation for "
                                     "fine-tuning tabular foundation models. Errors print one short message "
                                     "(exit code 2); add --debug anywhere for the traceback. Published tables and "
                                     "dataset files are checked against their recorded sha256; add "
                                     "--no-verify-checksums anywhere (or set CAUSALMIX_VERIFY_CHECKSUMS=0) to read "
                                     "one changed on purpose.", allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="one fine-tuning run; prints its metrics", allow_abbrev=False)
    run.add_argument("--dataset", required=True,
                     help="dataset name (causalmix.data.list_datasets()) or the path of a CSV/parquet file")
    run.add_argument("--target", default=None, help="the label column, when --dataset is a file")
    run.add_argument("--method", default="causalmix", choices=list(METHODS), help="default %(default)s")
    run.add_argument("--n-train", type=int, default=256, help="training rows (default %(default)s)")
    run.add_argument("--n-val", type=int, default=None, help="validation rows (default n_train // 4, >= 2 per class)")
    run.add_argument("--seed", type=int, default=0, help="split seed (default %(default)s)")
    run.add_argument("--model", default=DEFAULT_MODEL, help="shipped checkpoint name, 'tabpfn-v2' or a path (default %(default)s)")
    run.add_argument("--device", default="auto", help="auto, cpu or cuda (default %(default)s)")
    run.add_argument("--max-steps", type=int, default=None, help="fine-tuning steps (FinetuneConfig default 50)")
    run.add_argument("--learning-rate", type=float, default=None,
                     help="peak learning rate (default: the model's recommended rate, from its sidecar)")
    run.add_argument("--eval-every", type=int, default=None, help="evaluate every k steps (default 5)")
    run.add_argument("--patience", type=int, default=None, help="evaluations without improvement (default 4)")
    run.add_argument("--set", action="append", metavar="KEY=VALUE", help="any FinetuneConfig field, repeatable")
    run.add_argument("--gen", action="append", metavar="KEY=VALUE", help="a generator parameter, repeatable")
    run.add_argument("--test-cap", type=int, default=None, help=f"most test rows (default {DEFAULT_TEST_CAP}, as sweeps)")
    run.add_argument("--domain-column", help="domain-shift run: train inside this column's domain")
    run.add_argument("--domain-values", nargs="+", help="categorical domain values")
    run.add_argument("--domain-between", nargs=2, type=float, metavar=("LOW", "HIGH"), help="numeric domain [low, high)")
    run.add_argument("--out", help="also write the record under OUT/records/")
    run.add_argument("--json", action="store_true", help="print the whole record as JSON")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=_cmd_run)
    _with_keys(run)

    sweep = sub.add_parser("sweep", help="run a YAML configuration's grid alone (resumable; `study run` runs all its "
                           "parts)", allow_abbrev=False)
    sweep.add_argument("config", help="YAML configuration, e.g. causalmix/configs/quick.yaml")
    sweep.add_argument("--jobs", type=int, default=1, help="parallel processes (default %(default)s)")
    sweep.add_argument("--out", default=None, help="results folder (default: the config's out_dir)")
    sweep.add_argument("--model", default=None, help="override the config's model (results go to OUT_DIR-<model>)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument("--allow-failures", action="store_true", help="exit 0 even if runs failed")
    sweep.add_argument("--backend", choices=["local", "ray"], default="local",
                       help="local processes (--jobs) or Ray tasks (needs causalmix[ray]; default %(default)s)")
    sweep.add_argument("--address", default=None,
                       help="Ray cluster address ('auto', 'ray://host:port'); default: a local Ray instance")
    sweep.add_argument("--gpus-per-run", type=float, default=0.0,
                       help="Ray: GPUs per run, fractions share a GPU (default %(default)s)")
    sweep.add_argument("--cpus-per-run", type=float, default=1.0,
                       help="Ray: CPUs per run, also its torch threads (default %(default)s)")
    sweep.add_argument("--plan", action="store_true",
                       help="print runs in total, recorded, failed and to run (per method and dataset) and an "
                            "estimate of the hours, without running anything")
    sweep.add_argument("--claim-timeout", type=float, default=STALE_AFTER_S, metavar="SECONDS",
                       help="take over a run claimed by a sweep on another host after this long (default a day)")
    sweep.add_argument("--keep-failed", action="store_true",
                       help="do not retry runs whose record says failed (default: retry them)")
    sweep.set_defaults(func=_cmd_sweep)
    _with_keys(sweep)

    results = sub.add_parser("results", help="summary table of a results folder", allow_abbrev=False)
    results.add_argument("dir", help="results folder (holds records/; relative to the working folder) or a published "
                         "study, by name (standard) or path (published/standard)")
    results.add_argument("--metric", default="roc_auc", choices=["roc_auc", "accuracy", "log_loss"])
    results.add_argument("--all", action="store_true",
                         help="keep records outside the folder's sweep grid (config.json), e.g. of older code")
    results.set_defaults(func=_cmd_results)

    add = sub.add_parser("add-dataset", help="make a CSV/parquet file a named dataset of a data folder",
                         allow_abbrev=False)
    add.add_argument("file", help="CSV or parquet file, one row per example")
    add.add_argument("--target", required=True, help="the label column")
    add.add_argument("--data-dir", required=True, help="folder to write <name>.csv.gz and manifest.json into")
    add.add_argument("--name", default=None, help="dataset name, letters, digits, '.', '_', '-' (default: the "
                     "file's stem)")
    add.add_argument("--encoding", default="utf-8", help="text encoding of a CSV file (default %(default)s)")
    add.add_argument("--dates", default="error", choices=["error", "numeric", "categorical"], help="date/time "
                     "columns: error (default), numeric (days since 1970-01-01) or categorical")
    add.add_argument("--keep-id-columns", action="store_true", help="keep identifier-like columns (a distinct "
                     "value per row; excluded with a warning by default)")
    add.add_argument("--na-values", nargs="+", metavar="TEXT", help="values that mean missing, e.g. '?' (a numeric "
                     "column holding an undeclared marker such as '?' is refused)")
    add.add_argument("--replace", action="store_true", help="replace a dataset of the same name in --data-dir")
    add.set_defaults(func=_cmd_add_dataset)

    cmp_ = sub.add_parser(
        "compare", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        help="does CausalMixFT help on my data? add a CSV, run the methods at several sizes and seeds, "
             "print a per-dataset table with paired intervals and a verdict per method, write an HTML report",
        description="Adds DATA to a data folder, writes the sweep configuration it runs (OUT/<name>-compare.yaml), "
                    "prints the plan and its time estimate, runs it (resumable; finished runs are reused) and prints "
                    "per method and training size the mean test ROC-AUC, accuracy and log-loss and the paired "
                    "differences to the pre-trained model and to default fine-tuning, with 95 % intervals over "
                    "seeds, and one verdict line per method; OUT/report.html holds the same with figures. "
                    "Relative folders are taken from the working folder. Fine-tuning settings here, unless --set: "
                    "max_steps 20, eval_every 2, patience 5, n_estimators 2, n_estimators_eval 4 (the keys below "
                    "list the library's defaults); CausalMixFT's generator: n_bootstrap 3, n_dags 2, max_features 10.",
        epilog="example:\n  causalmix compare passengers.csv --target survived --plan\n"
               "  causalmix compare passengers.csv --target survived --jobs 2\n"
               "  causalmix compare passengers.csv --target survived --n-train 64 128 --seeds 3 --set max_steps=10")
    cmp_.add_argument("data", help="a CSV/parquet file (with --target) or a dataset name of CAUSALMIX_DATA_DIR")
    cmp_.add_argument("--target", default=None, help="the label column of a file")
    cmp_.add_argument("--name", default=None, help="dataset name (default: the file's stem)")
    cmp_.add_argument("--out", default=None, help="results folder (default: compare-<name> in the working folder)")
    cmp_.add_argument("--data-dir", default=None, help="folder the file is added to as a named dataset "
                      "(default: OUT/data)")
    cmp_.add_argument("--n-train", type=int, nargs="+", default=None, help="training sizes (default: of 64, 128, "
                      "256 those leaving half the rows for validation and test)")
    cmp_.add_argument("--seeds", type=int, default=None, help="number of split seeds, 0..N-1 (default 5)")
    cmp_.add_argument("--methods", nargs="+", default=None, choices=list(METHODS),
                      help="methods (default: pretrained finetune causalmix smote mixup)")
    cmp_.add_argument("--max-steps", type=int, default=None, help="fine-tuning steps (default 20)")
    cmp_.add_argument("--set", action="append", metavar="KEY=VALUE",
                      help="a fine-tuning setting (see `causalmix run --help`), repeatable")
    cmp_.add_argument("--gen", action="append", metavar="[METHOD.]KEY=VALUE",
                      help="a generator parameter, CausalMixFT's unless METHOD. is given, repeatable")
    cmp_.add_argument("--test-cap", type=int, default=None, help="most test rows per split (default 1000)")
    cmp_.add_argument("--model", default=None, help=f"model (default {DEFAULT_MODEL})")
    cmp_.add_argument("--device", default="auto", help="auto, cpu or cuda (default %(default)s)")
    cmp_.add_argument("--jobs", type=int, default=1, help="parallel processes (default %(default)s)")
    cmp_.add_argument("--metric", default="roc_auc", choices=["roc_auc", "accuracy", "log_loss"],
                      help="metric of the paired differences and verdicts (default %(default)s)")
    cmp_.add_argument("--plan", action="store_true", help="write the configuration and print the plan, run nothing")
    cmp_.add_argument("--json", action="store_true", help="print the answers as JSON (the rest goes to stderr)")
    cmp_.add_argument("--quiet", action="store_true", help="no progress bar")
    cmp_.set_defaults(func=_cmd_compare)
    _with_keys(cmp_)

    smp = sub.add_parser("sample", help="write a generator's synthetic rows to CSV/parquet (fitted on a run's "
                         "training split)", allow_abbrev=False)
    smp.add_argument("--dataset", required=True, help="dataset name or the path of a CSV/parquet file")
    smp.add_argument("--target", default=None, help="the label column, when --dataset is a file")
    smp.add_argument("--method", default="causalmix", choices=[m for m, g in METHODS.items() if g],
                     help="whose generator (default %(default)s)")
    smp.add_argument("--n-train", type=int, default=256, help="training rows it is fitted on (default %(default)s)")
    smp.add_argument("--n-val", type=int, default=None, help="validation rows of the split (default n_train // 4)")
    smp.add_argument("--seed", type=int, default=0, help="split seed (default %(default)s)")
    smp.add_argument("--n", type=int, default=None, help="synthetic rows to draw (default: n_train)")
    smp.add_argument("--gen", action="append", metavar="KEY=VALUE", help="a generator parameter, repeatable")
    smp.add_argument("--with-real", action="store_true", help="also write the real training rows (column source)")
    smp.add_argument("--out", required=True, help="file to write: .csv, .csv.gz, .parquet or .pq")
    smp.add_argument("--quiet", action="store_true", help="no progress bar during the generator's fit")
    smp.set_defaults(func=_cmd_sample)
    _with_keys(smp, finetune=False)

    study = sub.add_parser("study", help="a study, declared in one YAML (grid, extension, ablations): run, plan, "
                           "publish or verify it", allow_abbrev=False)
    actions = study.add_subparsers(dest="action", required=True)
    for action, what in (("run", "run every part of the study in order (resumable: recorded runs are reused)"),
                         ("plan", "per part: runs in total, recorded, failed and to run, and an estimate of the hours")):
        act = actions.add_parser(action, help=what, allow_abbrev=False)
        act.add_argument("config", help="configuration name or YAML path, e.g. standard")
        act.add_argument("--parts", nargs="+", choices=list(PARTS), default=None, help="only these parts (default: all "
                         "the YAML declares)")
        act.add_argument("--jobs", type=int, default=1, help="parallel processes (default %(default)s)")
        act.add_argument("--out", default=None, help="results folder (default: the configuration's out_dir)")
        if action == "run":
            act.add_argument("--quiet", action="store_true", help="no progress bar")
            act.add_argument("--allow-failures", action="store_true", help="exit 0 even if runs failed")
        act.set_defaults(func=_cmd_study_run if action == "run" else _cmd_study_plan)
    _publish_arguments(actions.add_parser("publish", help=PUBLISH_HELP, allow_abbrev=False))
    _verify_arguments(actions.add_parser("verify", help=VERIFY_HELP, allow_abbrev=False))
    # the commands that came before `study`, kept for users who have them in scripts
    _publish_arguments(sub.add_parser("publish", help=PUBLISH_HELP + " (= study publish)", allow_abbrev=False))
    _verify_arguments(sub.add_parser("verify", help=VERIFY_HELP + " (= study verify)", allow_abbrev=False))

    pre = sub.add_parser("pretrain", help="pretrain a small TabPFN-v2 model on the SCM prior", allow_abbrev=False)
    try:
        pretraining.add_arguments(pre)
    except (ImportError, AttributeError) as err:  # never let pretraining break the other commands
        pre.description = f"(unavailable: {err})"
    return parser


PUBLISH_HELP = "write a finished study's records as the published study (published/<name>/)"
VERIFY_HELP = ("check every published record against its curve, recompute a sample of the runs and compare their "
               "curves (exit 1 if any metric differs by more than 1e-6)")


def _publish_arguments(pub: argparse.ArgumentParser) -> None:
    pub.add_argument("config", help="configuration name or YAML path, e.g. standard")
    pub.add_argument("--out", default=None, help="its results folder (default: the configuration's out_dir)")
    pub.set_defaults(func=_cmd_publish)


def _verify_arguments(ver: argparse.ArgumentParser) -> None:
    ver.add_argument("config", help="configuration name or YAML path, e.g. standard")
    ver.add_argument("--runs", type=int, default=32, help="runs to recompute (default %(default)s; every part, method, "
                     "ablation variant, dataset, training size and domain is in the sample when the budget allows)")
    ver.add_argument("--budget", type=float, default=DEFAULT_BUDGET_S, help="the sample's cost cap in seconds of the "
                     "runs' recorded time (default %(default)s: about 3 minutes at --jobs 2; 0: no cap)")
    ver.add_argument("--all", action="store_true", help="recompute every run (a full audit: hours; resumable, in "
                     "results/<name>-verify-all/)")
    ver.add_argument("--seed", type=int, default=0, help="seed of the sample (default %(default)s)")
    ver.add_argument("--jobs", type=int, default=2, help="parallel processes (default %(default)s)")
    ver.add_argument("--quiet", action="store_true", help="no progress bar")
    ver.set_defaults(func=_cmd_verify)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``causalmix`` / ``python -m causalmix``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    if "--no-verify-checksums" in argv:  # for a published table or dataset file changed on purpose
        import os

        os.environ[CHECKSUMS_ENV] = "0"
        argv = [a for a in argv if a != "--no-verify-checksums"]
    if argv and argv[0] == "pretrain":
        if any(a in ("-h", "--help") for a in argv[1:]):
            build_parser().parse_args(argv)  # prints the mounted pretraining help and exits
        return _guarded(lambda: _cmd_pretrain(argv[1:]), debug)
    args = build_parser().parse_args(argv)
    return _guarded(lambda: args.func(args), debug)


def _guarded(command, debug: bool) -> int:
    """Run a command; every error is one short message and exit code 2 (``--debug``: the traceback)."""
    try:
        return command()
    except KeyboardInterrupt:
        print("interrupted; finished runs are recorded, rerun the same command to continue", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `causalmix sweep --plan | head`: the reader left, nothing to report
        import os

        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at interpreter exit
        except (AttributeError, OSError, ValueError):
            pass
        return 0
    except Exception as err:  # noqa: BLE001 - every error is a few lines; --debug shows the traceback
        if debug:
            raise
        kind = "" if isinstance(err, (ValueError, FileNotFoundError, TypeError)) else f"{type(err).__name__}: "
        print(f"error: {kind}{err}", file=sys.stderr)
        if kind:
            print("(unexpected: rerun with --debug for the traceback, and please report it)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
