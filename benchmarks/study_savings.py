"""What a study saves by running each run once: the runs two of its parts share (the same run id),
which :func:`causalmix.study.run_study` copies instead of recomputing, and their share of the
study's compute, from a published study's own records (their recorded wall and CPU seconds).

    python benchmarks/study_savings.py standard [--out benchmarks/results/study_savings.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from causalmix.publish import load_published
from causalmix.study import load_study


def savings(name: str) -> str:
    study = load_study(name)
    records, _ = load_published(name, ("main", "extra", "ablation"))
    ids = {part: {s.run_id for s in study.specs(part)} for part in study.parts}
    lines = [f"# Runs a study's parts share: `{name}`", "",
             "| part | runs | of them another part's run | their recorded compute (h) | share of the study's compute |",
             "|---|---:|---:|---:|---:|"]
    total = float(records.drop_duplicates(["run_id", "part"])["wall_time_s"].sum())
    earlier: set[str] = set()
    for part, mine in ids.items():
        shared = mine & earlier
        published_part = {"grid": "main", "extension": "extra", "ablation": "ablation"}[part]
        rows = records[(records["part"] == published_part) & records["run_id"].isin(shared)]
        seconds = float(rows["wall_time_s"].sum())
        lines.append(f"| {part} | {len(mine)} | {len(shared)} | {seconds / 3600:.2f} | {seconds / total:.2%} |")
        earlier |= mine
    lines += ["", f"The study's recorded compute: {total / 3600:.1f} h over {len(records)} published records. The "
              "extension's shared runs were never recomputed (they live in the grid's folder); the ablation's were, in "
              "`<results>/ablation`, before `run_study` copied them."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", nargs="?", default="standard")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    text = savings(args.study)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
