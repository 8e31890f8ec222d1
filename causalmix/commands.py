"""What each ``causalmix`` command does, one function per command (:mod:`causalmix.cli` parses the
command line and calls them with the parsed arguments)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causalmix import pretraining, report
from causalmix.clidoc import check_finetune, settings_line
from causalmix.compare import answers_json, compare
from causalmix.data import add_dataset
from causalmix.experiment import load_config, run_sweep
from causalmix.model import check_checkpoint, resolve_device
from causalmix.plan import plan_sweep
from causalmix.publish import PUBLISHED_DIR, is_published, publish, read_provenance
from causalmix.records import METRIC_NAMES, RecordNotWritten, load_curves, load_records, warning_summary
from causalmix.runs import RunSpec, execute_run
from causalmix.sampling import sample_rows, write_rows
from causalmix.study import load_study, plan_study, run_study
from causalmix.sweep_config import check_generator_params
from causalmix.verify import verification_path, verify


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


def cmd_run(args: argparse.Namespace) -> int:
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


def cmd_sweep(args: argparse.Namespace) -> int:
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


def cmd_results(args: argparse.Namespace) -> int:
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


def cmd_study_run(args: argparse.Namespace) -> int:
    study = load_study(args.config, out_dir=args.out)
    summaries = run_study(study, parts=args.parts, methods=args.methods, jobs=args.jobs, progress=not args.quiet,
                          backend=args.backend, address=args.address, gpus_per_run=args.gpus_per_run,
                          cpus_per_run=args.cpus_per_run)
    for part, summary in summaries.items():
        print(f"{part}: {summary}")
    failed = sum(summary.n_failed for summary in summaries.values())
    return 0 if failed == 0 or args.allow_failures else 1


def cmd_study_plan(args: argparse.Namespace) -> int:
    study = load_study(args.config, out_dir=args.out)
    plans = plan_study(study, parts=args.parts, methods=args.methods, jobs=args.jobs)
    for part, plan in plans.items():
        print(f"== {part}\n{plan}\n")
    hours = pd.concat([plan.table["est_hours"] for plan in plans.values()]).sum(min_count=1)  # as SweepPlan sums
    to_run = sum(int(plan.table["to_run"].sum()) for plan in plans.values())
    estimate = ("unknown hours of compute (no timings for these methods on this device)" if pd.isna(hours)
                else f"about {hours:.2f} h of compute ({hours / args.jobs:.2f} h with --jobs {args.jobs})")
    print(f"study {study.name!r}: {to_run} runs to do in {', '.join(plans)}; {estimate}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    folder = publish(args.config, out_dir=args.out)
    prov = read_provenance(args.config)
    runs = ", ".join(f"{part} {n['ok']} ok / {n['failed']} failed" for part, n in prov["runs"].items())
    cpu = "" if prov.get("cpu_seconds") is None else f" ({prov['cpu_seconds'] / 3600:.2f} CPU hours)"
    print(f"published {prov['configuration']!r} -> {folder}: {runs}; {prov['compute_seconds'] / 3600:.2f} compute hours{cpu}; "
          f"result version {', '.join(map(str, prov['result_version']))}; commit it with the book.")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    result = verify(args.config, n_runs=args.runs, seed=args.seed, jobs=args.jobs, all_runs=args.all,
                    budget_s=None if args.budget <= 0 else args.budget, progress=not args.quiet)
    print(result.summary())
    print(f"written to {verification_path(args.config)}")
    return 0 if result.ok else 1


def cmd_pretrain(argv: list[str]) -> int:
    return int(pretraining.main(argv) or 0)


def cmd_add_dataset(args: argparse.Namespace) -> int:
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


def cmd_compare(args: argparse.Namespace) -> int:
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


def cmd_sample(args: argparse.Namespace) -> int:
    rows = sample_rows(args.dataset, method=args.method, n_train=args.n_train, seed=args.seed, n=args.n,
                       generator=_key_values(args.gen, "--gen"), target=args.target, n_val=args.n_val,
                       progress=not args.quiet, with_real=args.with_real)
    path = write_rows(rows, args.out)
    print(f"{len(rows)} rows ({args.method} generator fitted on the {args.n_train} training rows of seed {args.seed}) "
          f"written to {path}")
    return 0
