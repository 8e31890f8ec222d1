"""Command line: ``causalmix run | study | sweep | compare | sample | results | add-dataset | pretrain`` (also
``python -m causalmix``): the parser and the entry point; :mod:`causalmix.commands` does the work.

    causalmix run --dataset adult --method causalmix --n-train 256 --seed 0
    causalmix study plan quick && causalmix study run quick --jobs 2
    causalmix results results/quick
    causalmix compare my.csv --target label
    causalmix pretrain --config causalmix/configs/pretrain.yaml --out-dir runs/pretrain
"""

from __future__ import annotations

import argparse
import sys

from causalmix import commands, pretraining
from causalmix.claims import STALE_AFTER_S
from causalmix.clidoc import finetune_keys_help, generator_keys_help
from causalmix.data import DEFAULT_TEST_CAP
from causalmix.io import CHECKSUMS_ENV
from causalmix.model import DEFAULT_MODEL
from causalmix.runs import METHODS
from causalmix.study import PARTS
from causalmix.verify import DEFAULT_BUDGET_S


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
    run.set_defaults(func=commands.cmd_run)
    _with_keys(run)

    sweep = sub.add_parser("sweep", help="run a YAML configuration's grid alone (resumable; `study run` runs all its "
                           "parts)", allow_abbrev=False)
    sweep.add_argument("config", help="YAML configuration, e.g. causalmix/configs/quick.yaml")
    sweep.add_argument("--jobs", type=int, default=1, help="parallel processes (default %(default)s)")
    sweep.add_argument("--out", default=None, help="results folder (default: the config's out_dir)")
    sweep.add_argument("--model", default=None, help="override the config's model (results go to OUT_DIR-<model>)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument("--allow-failures", action="store_true", help="exit 0 even if runs failed")
    _backend_arguments(sweep)
    sweep.add_argument("--plan", action="store_true",
                       help="print runs in total, recorded, failed and to run (per method and dataset) and an "
                            "estimate of the hours, without running anything")
    sweep.add_argument("--claim-timeout", type=float, default=STALE_AFTER_S, metavar="SECONDS",
                       help="take over a run claimed by a sweep on another host after this long (default a day)")
    sweep.add_argument("--keep-failed", action="store_true",
                       help="do not retry runs whose record says failed (default: retry them)")
    sweep.set_defaults(func=commands.cmd_sweep)
    _with_keys(sweep)

    results = sub.add_parser("results", help="summary table of a results folder", allow_abbrev=False)
    results.add_argument("dir", help="results folder (holds records/; relative to the working folder) or a published "
                         "study, by name (standard) or path (published/standard)")
    results.add_argument("--metric", default="roc_auc", choices=["roc_auc", "accuracy", "log_loss"])
    results.add_argument("--all", action="store_true",
                         help="keep records outside the folder's sweep grid (config.json), e.g. of older code")
    results.set_defaults(func=commands.cmd_results)

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
    add.set_defaults(func=commands.cmd_add_dataset)

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
    cmp_.set_defaults(func=commands.cmd_compare)
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
    smp.set_defaults(func=commands.cmd_sample)
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
        act.add_argument("--methods", nargs="+", default=None, metavar="METHOD", help="only these methods' runs "
                         "(default: all), e.g. a primary claim's first; the run ids are the whole study's")
        act.add_argument("--jobs", type=int, default=1, help="parallel processes (default %(default)s)")
        act.add_argument("--out", default=None, help="results folder (default: the configuration's out_dir)")
        if action == "run":
            act.add_argument("--quiet", action="store_true", help="no progress bar")
            act.add_argument("--allow-failures", action="store_true", help="exit 0 even if runs failed")
            _backend_arguments(act)
        act.set_defaults(func=commands.cmd_study_run if action == "run" else commands.cmd_study_plan)
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


def _backend_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=["local", "ray"], default="local",
                        help="local processes (--jobs) or Ray tasks (needs causalmix[ray]; default %(default)s)")
    parser.add_argument("--address", default=None,
                        help="Ray cluster address ('auto', 'ray://host:port'); default: a local Ray instance")
    parser.add_argument("--gpus-per-run", type=float, default=0.0,
                        help="Ray: GPUs per run, fractions share a GPU (default %(default)s)")
    parser.add_argument("--cpus-per-run", type=float, default=1.0,
                        help="Ray: CPUs per run, also its torch threads (default %(default)s)")


PUBLISH_HELP = "write a finished study's records as the published study (published/<name>/)"
VERIFY_HELP = ("check every published record against its curve, recompute a sample of the runs and compare their "
               "curves (exit 1 if any metric differs by more than 1e-6)")


def _publish_arguments(pub: argparse.ArgumentParser) -> None:
    pub.add_argument("config", help="configuration name or YAML path, e.g. standard")
    pub.add_argument("--out", default=None, help="its results folder (default: the configuration's out_dir)")
    pub.set_defaults(func=commands.cmd_publish)


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
    ver.set_defaults(func=commands.cmd_verify)


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
        return _guarded(lambda: commands.cmd_pretrain(argv[1:]), debug)
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
