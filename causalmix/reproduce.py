"""Build the report for one study: its records first, then the notebooks with papermill, which only read.

First the records (:func:`prepare_records`): a published study is checked (every record against its
curve, a sample recomputed), and so is each published study the book reads beside it
(:func:`~causalmix.report.confirmatory.companion_studies`: the confirmatory study, CTGAN's, in the CTGAN
environment, and recomputed exploratory runs); any other study, or a published one with ``--fresh``, is run
(:func:`causalmix.study.run_study`, resumable). Then every ``notebooks/0*.ipynb`` runs, in order,
with the parameters ``config`` (the configuration's name or path), ``jobs``, ``out_dir`` when given,
and those its YAML decides (:mod:`causalmix.book_params`; each notebook's ``parameters`` cell holds
the quick defaults). The executed copies land in ``book/results/``, where ``_toc.yml`` takes them.
The first failing notebook stops the run with its name, the failing cell's error and the path of
the executed copy that shows it.

    python -m causalmix.reproduce --config quick
    python -m causalmix.reproduce --config standard            # re-verify a sample, then the published records
    python -m causalmix.reproduce --config standard --fresh    # recompute the whole standard study
    python -m causalmix.reproduce --config smoke --output-dir /tmp/book/results --out-dir /tmp/runs
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from causalmix.book_params import configuration_parameters, declared_parameters
from causalmix.provenance import REPO_ROOT
from causalmix.publish import published_dir, uses_published
from causalmix.report.confirmatory import companion_studies
from causalmix.report.page import relative_to_repo
from causalmix.report.verification import current_check
from causalmix.study import load_study, results_dir, run_study, settings
from causalmix.verify import verification_path, verify

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
#: The Python of the environment with CTGAN (which needs pandas < 3): ``make setup-ctgan`` builds it.
CTGAN_PYTHON = Path(os.environ.get("CAUSALMIX_CTGAN_PYTHON") or REPO_ROOT / ".venv-ctgan" / "bin" / "python")
OUTPUT_DIR = REPO_ROOT / "book" / "results"


class NotebookFailed(RuntimeError):
    """A notebook raised while executing; the message names it and where its output is."""


def notebooks(directory: Path = NOTEBOOK_DIR, only: Sequence[str] | None = None) -> list[Path]:
    """The numbered notebooks ``0*.ipynb`` in order; ``only`` picks some by stem or prefix."""
    found = sorted(directory.glob("0*.ipynb"))
    if not found:
        raise FileNotFoundError(f"No notebooks 0*.ipynb in {directory}.")
    if not only:
        return found
    picked = [p for p in found if any(p.stem == o or p.stem.startswith(o) for o in only)]
    missing = [o for o in only if not any(p.stem == o or p.stem.startswith(o) for p in found)]
    if missing:
        raise FileNotFoundError(f"No notebook matches {missing}; notebooks: {[p.stem for p in found]}.")
    return picked


def parameters_for(notebook: Path, config: str | Path, out_dir: str | Path | None = None, jobs: int = 1,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The papermill parameters of one notebook under one configuration.

    >>> parameters_for(Path("01_scm_anatomy.ipynb"), "smoke")
    {'config': 'smoke', 'jobs': 1, 'dataset': 'diabetes', 'n_train': 64, 'n_synthetic': 300}
    """
    params: dict[str, Any] = {"config": str(config), "jobs": jobs}
    if out_dir is not None:
        params["out_dir"] = str(Path(out_dir).resolve())
    params.update(configuration_parameters(settings(config)).get(notebook.stem, {}))
    params.update(extra or {})
    if notebook.is_file():  # only what the notebook declares (papermill warns about the rest)
        declared = declared_parameters(notebook)
        params = {k: v for k, v in params.items() if k in declared}
    return params


def _parse_param(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` with VALUE read as YAML (``n_train=128`` -> int, ``dataset=wdbc`` -> str)."""
    import yaml

    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, yaml.safe_load(value)


def _kernel_env() -> None:
    # Figures must render inline in the executed notebooks; a headless MPLBACKEND=Agg inherited
    # from make or CI would stop ipykernel from installing its inline backend.
    if os.environ.get("MPLBACKEND", "").lower() == "agg":
        del os.environ["MPLBACKEND"]
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def _log_study_status(config: str | Path, out_dir: str | Path | None, log) -> None:
    """One line before the notebooks start: which records they read."""
    if uses_published(config, out_dir):
        log(f"{Path(str(config)).stem}: the notebooks read the published records in "
            f"{relative_to_repo(published_dir(config))} (nothing is recomputed).", flush=True)
    else:
        log(f"{Path(str(config)).stem}: the notebooks read the records under {results_dir(config, out_dir)}.", flush=True)


def _tidy(executed: Path) -> list[int]:
    """Show the parameters this build ran with, not the notebook's defaults: papermill's
    injected-parameters cell becomes the page's (collapsed) parameters cell and the defaults cell is
    removed from the page (a standard build does not show ``config = "quick"``); return the numbers of
    cells whose stderr the page would show."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    noisy = []
    for i, cell in enumerate(nb.cells):
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags:
            tags[:] = [t for t in tags if t != "remove-cell"] + ([] if "hide-input" in tags else ["hide-input"])
            cell.source = "# The parameters of this build (the notebook's defaults are in notebooks/)\n" + \
                "\n".join(line for line in cell.source.splitlines() if not line.startswith("# Parameters"))
        elif "parameters" in tags and "remove-cell" not in tags:
            tags[:] = [t for t in tags if t != "hide-input"] + ["remove-cell"]
        if "remove-stderr" not in tags and any(o.get("name") == "stderr" for o in cell.get("outputs", [])):
            noisy.append(i)  # (a progress bar on stderr, as the sweep's, is tagged remove-stderr: console only)
    nbformat.write(nb, executed)
    return noisy


def run_notebooks(
    config: str | Path = "quick",
    *,
    output_dir: str | Path = OUTPUT_DIR,
    out_dir: str | Path | None = None,
    only: Sequence[str] | None = None,
    jobs: int = 1,
    kernel: str = "python3",
    timeout: int | None = None,
    notebook_dir: Path = NOTEBOOK_DIR,
    extra: dict[str, Any] | None = None,
    log=print,
) -> dict[str, float]:
    """Execute the notebooks; return ``{stem: seconds}``. Raises :class:`NotebookFailed`.

    ``extra`` parameters go to every notebook (a notebook that does not declare one ignores it).
    """
    import papermill as pm

    settings(config)  # fail before starting kernels when the configuration is missing or invalid
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    todo = notebooks(notebook_dir, only)
    _log_study_status(config, out_dir, log)
    _kernel_env()
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    for i, nb in enumerate(todo, 1):
        params = parameters_for(nb, config, out_dir, jobs, extra)
        target = output_dir / nb.name
        log(f"[{i}/{len(todo)}] {nb.stem}: running with {params} ...", flush=True)
        t0 = time.perf_counter()
        try:
            pm.execute_notebook(
                str(nb), str(target), parameters=params, kernel_name=kernel, cwd=str(REPO_ROOT),
                progress_bar=False, execution_timeout=timeout,
                stderr_file=sys.stderr,  # a cell's progress bars show while the notebook computes
                # the kernel's own start-up notices (e.g. "running over TCP") are not the study's output
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
        except Exception as err:  # papermill raises PapermillExecutionError, nbclient timeouts, kernel deaths
            detail = getattr(err, "ename", type(err).__name__) + ": " + str(getattr(err, "evalue", err)).splitlines()[0]
            raise NotebookFailed(
                f"Notebook {nb.stem} failed after {time.perf_counter() - t0:.0f} s ({detail}). "
                f"The executed copy with the error marked: {target}"
            ) from err
        seconds[nb.stem] = time.perf_counter() - t0
        noisy = _tidy(target)
        if noisy:
            log(f"[{i}/{len(todo)}] {nb.stem}: WARNING: cells {noisy} wrote to stderr; the book shows it", flush=True)
        log(f"[{i}/{len(todo)}] {nb.stem}: done in {seconds[nb.stem]:.1f} s", flush=True)
    log(f"All {len(todo)} notebooks executed in {time.perf_counter() - start:.1f} s into {output_dir}", flush=True)
    return seconds


class VerificationFailed(RuntimeError):
    """Recomputed runs of a published study differ from their records; the message names them."""


#: Exit status of a notebook build whose notebooks all ran but whose check of the published records
#: failed: ``make reproduce`` goes on to build the book (which shows the failure), then exits 1.
EXIT_CHECK_FAILED = 3


def failed_check(config: str | Path, companions: Sequence[str | Path] | None = None) -> str | None:
    """The summary of this build's failed checks of the published records — of ``config`` and of its
    ``companions`` (default :func:`companion_studies`), each named — or None: passed or not run."""
    if not uses_published(config):
        return None
    failures = []
    for study in [config, *(companion_studies(config) if companions is None else companions)]:
        check = current_check(study)
        if check is not None and not check["ok"]:
            failures.append(check["summary"] if study == config else f"{settings(study)['name']}: {check['summary']}")
    return "; ".join(failures) or None


def _needs_ctgan_environment(config: str | Path) -> bool:
    return "ctgan" in settings(config)["methods"] and importlib.util.find_spec("ctgan") is None


def _verify_published(config: str | Path, *, n_runs: int, jobs: int, log) -> None:
    """Check one published study (:func:`causalmix.verify.verify`), writing the result the book reads; a
    study of CTGAN runs is checked in the CTGAN environment (:data:`CTGAN_PYTHON`) when this one lacks it."""
    if not _needs_ctgan_environment(config):
        log(verify(config, n_runs=n_runs, jobs=jobs).summary(), flush=True)
        return
    name = settings(config)["name"]
    if not CTGAN_PYTHON.is_file():
        raise ValueError(f"The published study {name!r} holds CTGAN runs, which need the ctgan package; this environment "
                         f"lacks it and there is no CTGAN environment at {CTGAN_PYTHON}. Build it with `make setup-ctgan` "
                         "(or set CAUSALMIX_CTGAN_PYTHON to a Python that has causalmix[ctgan]), then rerun.")
    log(f"{name}: checked in the CTGAN environment ({relative_to_repo(CTGAN_PYTHON)}).", flush=True)
    verification_path(config).unlink(missing_ok=True)  # an earlier build's result is not this one's
    done = subprocess.run([str(CTGAN_PYTHON), "-m", "causalmix.cli", "verify", str(config), "--runs", str(n_runs),
                           "--jobs", str(jobs)], cwd=REPO_ROOT, check=False)
    if current_check(config) is None:
        raise ValueError(f"The check of {name!r} in the CTGAN environment stopped (exit status {done.returncode}) before "
                         f"writing its result; its output above says why.")


def prepare_records(config: str | Path, *, out_dir: str | Path | None, fresh: bool, jobs: int,
                    verify_runs: int, log=print,
                    companions: Sequence[str | Path] | None = None) -> tuple[str | Path | None, str | None]:
    """Before the notebooks, which only read: for a published configuration, check its records
    (every record against its curve, and ``verify_runs`` runs recomputed), and those of every published
    study the book reads beside it (``companions``, default :func:`companion_studies`), each with its own
    sample of ``verify_runs``; otherwise, or with ``fresh``, run the whole study
    (:func:`causalmix.study.run_study`: grid, extension, ablations; resumable, with a progress bar) into
    its results folder, which the notebooks then read. Returns ``(records folder for the notebooks,
    failure message or None)``: a failed check still gets its book, which shows the failure."""
    if fresh or not uses_published(config, out_dir):
        folder = out_dir if out_dir is not None else results_dir(config) if fresh else None
        study = load_study(config, out_dir=folder)
        log(f"{study.name}: running the study ({', '.join(study.parts)}) into {study.grid['out_dir']} (resumable: "
            "recorded runs are reused).", flush=True)
        for part, summary in run_study(study, jobs=jobs).items():
            log(f"{study.name} {part}: {summary}", flush=True)
        return folder, None
    studies = [config, *(companion_studies(config) if companions is None else companions)]
    for study in studies:
        if not verify_runs:  # the book says this build did not re-verify, not what an earlier build's check found
            verification_path(study).unlink(missing_ok=True)
        else:
            _verify_published(study, n_runs=verify_runs, jobs=jobs, log=log)
    return None, failed_check(config, studies[1:])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m causalmix.reproduce", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="quick",
                        help="configuration name in causalmix/configs/ or a YAML path (default quick)")
    parser.add_argument("--output-dir", default=str(OUTPUT_DIR), help="where the executed notebooks go (default book/results)")
    parser.add_argument("--out-dir", default=None, help="run records folder (default: the configuration's out_dir)")
    parser.add_argument("--only", nargs="*", help="run only these notebooks (stem or prefix, e.g. 01 03_median)")
    parser.add_argument("--jobs", type=int, default=1, help="parallel runs in the sweep (default 1)")
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: none)")
    parser.add_argument("-p", "--param", action="append", type=_parse_param, default=[], metavar="NAME=VALUE",
                        help="a notebook parameter for every notebook, e.g. -p dataset=wdbc (repeatable)")
    parser.add_argument("--fresh", action="store_true", help="a published configuration: recompute its whole study "
                        "(resumable, into its out_dir) instead of re-verifying a sample and reading its published records")
    parser.add_argument("--verify-runs", type=int, default=32, help="published runs to recompute before the build "
                        "(default %(default)s; 0 skips the check, as on GitHub Pages where there are no shared datasets)")
    parser.add_argument("--check-only", action="store_true", help="only report this build's check of the published "
                        "records: exit 1, naming the runs, if it failed (make reproduce runs it after the book)")
    args = parser.parse_args(argv)
    try:
        if args.check_only:
            failure = failed_check(args.config)  # and its companion studies
        else:
            args.out_dir, failure = prepare_records(args.config, out_dir=args.out_dir, fresh=args.fresh,
                                                    jobs=args.jobs, verify_runs=args.verify_runs)
            run_notebooks(args.config, output_dir=args.output_dir, out_dir=args.out_dir, only=args.only,
                          jobs=args.jobs, timeout=args.timeout, extra=dict(args.param))
        if failure:
            raise VerificationFailed(failure)
    except (NotebookFailed, FileNotFoundError, ValueError) as err:
        print(f"ERROR: {err}", file=sys.stderr, flush=True)
        return 1
    except VerificationFailed as err:
        print(f"ERROR: the published records failed this build's check (the book shows it): {err}", file=sys.stderr,
              flush=True)
        return 1 if args.check_only else EXIT_CHECK_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
