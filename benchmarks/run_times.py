"""Measured seconds per run, for `causalmix sweep CONFIG --plan`: the median wall time of a finished
sweep's successful runs by method and n_train, with the device and hardware they ran on. Rows for
other devices already in the file are kept (a GPU machine appends its own).

    python benchmarks/run_times.py results/quick [--out causalmix/run_times.csv]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from causalmix.plan import RUN_TIMES
from causalmix.records import load_records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a results folder (holds records/)")
    parser.add_argument("--out", type=Path, default=RUN_TIMES)
    args = parser.parse_args(argv)
    ok = load_records(args.results)
    ok = ok[ok["status"] == "ok"]
    if ok.empty:
        raise SystemExit(f"no successful records under {args.results}")
    ok = ok.assign(device=ok["device"].str.replace(r":\d+$", "", regex=True))
    table = ok.groupby(["device", "method", "n_train"]).agg(
        seconds=("wall_time_s", "median"), runs=("run_id", "size"), hardware=("hardware", "first")).reset_index()
    table["source"] = f"{Path(args.results).name} ({ok['code_hash'].iloc[0]})"
    if args.out.is_file():
        old = pd.read_csv(args.out)
        table = pd.concat([old[~old["device"].isin(table["device"])], table], ignore_index=True)
    table.to_csv(args.out, index=False, float_format="%.2f")
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
