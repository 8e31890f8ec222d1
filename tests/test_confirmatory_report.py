"""The landing page's confirmatory section, on fake records only: five datasets of the published standard
study renamed and treated as a "confirmatory" study (no run, load or computation on the reserved datasets)."""

from __future__ import annotations

import functools

import pandas as pd

from causalmix import costs, report, runs
from causalmix.provenance import file_sha256
from causalmix.report import confirmatory as confirmatory_mod
from causalmix.report.registration import PREREGISTRATION
from causalmix.study import load_study

FAKE = {"credit-g": "fake-one", "diabetes": "fake-two", "wdbc": "fake-three", "phoneme": "fake-four",
        "churn": "fake-five"}


@functools.cache
def _fake_studies() -> tuple[tuple[pd.DataFrame, pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]]:
    records, curves = report.load_published("standard")
    moved = records["dataset"].isin(FAKE)
    explo = (records[~moved].reset_index(drop=True), curves[~curves["run_id"].isin(records.loc[moved, "run_id"])])
    fake = records[moved & (records["part"] == "main")].assign(dataset=lambda f: f["dataset"].map(FAKE))
    fake_curves = curves[curves["run_id"].isin(fake["run_id"])].assign(dataset=lambda f: f["dataset"].map(FAKE))
    return explo, (fake.reset_index(drop=True), fake_curves.reset_index(drop=True))


def _fake_ctgan(frames):
    """CTGAN records made from SMOTE's (relabelled, new run ids): the CTGAN study's record format."""
    records, curves = frames
    smote = records[records["method"] == "smote"]
    ids = {r: r.replace("-smote-", "-ctgan-") for r in smote["run_id"]}
    return (smote.assign(method="ctgan", run_id=smote["run_id"].map(ids)),
            curves[curves["run_id"].isin(ids)].assign(method="ctgan", run_id=lambda f: f["run_id"].map(ids)))


@functools.cache
def _boards():
    explo, fake = _fake_studies()
    board = report.scoreboard(*explo, config="standard", name="standard")
    ctgan = _fake_ctgan(fake)
    return report.scoreboards(explo, fake, config="standard", board=board, ctgan=ctgan, withhold_incomplete=False)


def test_three_labelled_scoreboards_and_pooled_is_the_union():
    boards = {s.key: s for s in _boards()}
    assert list(boards) == ["exploratory", "confirmatory", "pooled"]
    assert [boards[k].label for k in boards] == ["Exploratory", "Confirmatory (pre-registered)", "Pooled, not confirmatory"]
    assert "not confirmatory" in boards["pooled"].label.lower() and "not replace" in boards["pooled"].note
    assert set(boards["confirmatory"].datasets) == set(FAKE.values())
    assert set(boards["pooled"].datasets) == set(boards["exploratory"].datasets) | set(FAKE.values())
    assert len(boards["pooled"].datasets) == len(report.settings("standard")["datasets"])
    # TabEBM's generator settings differ between the studies (checked after the first): its exploratory runs never
    # pool; its confirmatory ones do, with the exploratory runs recomputed with the confirmatory settings where this
    # checkout has all of them (standard-tabebm, published)
    assert report.unpooled_methods("standard") == ["tabebm"] and "TabEBM" in boards["pooled"].note
    pooled_tabebm = boards["pooled"].records.query("method == 'tabebm'")
    again = report.recomputed_runs("standard", "tabebm")
    recomputed = set() if again is None else set(again[0]["run_id"])
    assert ("recomputed with the confirmatory settings" in boards["pooled"].note) == bool(recomputed)
    on_explo = pooled_tabebm[~pooled_tabebm["dataset"].isin(FAKE.values())]
    assert len(pooled_tabebm) and set(on_explo["run_id"]) <= recomputed
    assert not set(pooled_tabebm["run_id"]) & set(_fake_studies()[0][0].query("method == 'tabebm'")["run_id"])
    for scored in boards.values():
        labels = [r.claim.label for r in scored.board]
        assert {"C1", "C2", "C3", "C5", "C9"} <= set(labels)
        table = report.scoreboard_table(scored.board, html=False)
        assert len(table) == len(scored.board) and table["configuration · model"].str.startswith(scored.name).all()
    # the confirmatory datasets have no Adult: no research-question rows there; the pooled one keeps the extension's
    assert not any(r.claim.kind == "research question" for r in boards["confirmatory"].board)
    assert any(r.claim.kind == "research question" for r in boards["pooled"].board)


def test_ctgan_records_fill_the_ctgan_rows():
    boards = {s.key: {r.claim.key: r for r in s.board} for s in _boards()}
    assert boards["exploratory"]["improvement_ctgan"].verdict == "not run"
    assert boards["confirmatory"]["improvement_ctgan"].verdict != "not run"
    assert boards["pooled"]["improvement_ctgan"].verdict != "not run"
    # merged only where the study has no CTGAN runs of its own, and only on its datasets
    explo, fake = _fake_studies()
    ctgan = _fake_ctgan(fake)
    merged = report.with_ctgan(fake, ctgan)
    assert (merged[0]["method"] == "ctgan").sum() == len(ctgan[0])
    assert report.with_ctgan(merged, ctgan)[0].shape == merged[0].shape
    assert report.with_ctgan(explo, ctgan)[0].shape == explo[0].shape  # no CTGAN run on the exploratory datasets
    assert report.with_ctgan(fake, None) is fake


def test_the_configured_study_reads_the_ctgan_studys_runs_on_its_datasets(monkeypatch):
    explo, fake = _fake_studies()
    ctgan = _fake_ctgan((pd.concat([explo[0], fake[0]]), pd.concat([explo[1], fake[1]])))  # on both studies' datasets
    monkeypatch.setattr(confirmatory_mod, "load_results", lambda config, out_dir=None: explo)
    monkeypatch.setattr(confirmatory_mod, "ctgan_records", lambda: ctgan)
    records, curves = report.study_results("standard")
    own = ctgan[0][ctgan[0]["dataset"].isin(set(explo[0]["dataset"]))]
    assert len(own) and len(records) == len(explo[0]) + len(own)
    assert set(records.loc[records["method"] == "ctgan", "run_id"]) == set(own["run_id"])  # none of the other study's
    assert set(curves["run_id"]) == set(explo[1]["run_id"]) | set(ctgan[1]["run_id"][ctgan[1]["run_id"].isin(own["run_id"])])
    exploratory = report.scoreboards((records, curves), None, config="standard")[0]
    assert {r.claim.key: r for r in exploratory.board}["improvement_ctgan"].verdict != "not run"
    assert "`confirmatory-ctgan`" in exploratory.note
    # other settings (other splits) or a configuration that runs CTGAN itself: its own records only
    assert report.study_results("quick")[0] is explo[0]
    monkeypatch.setattr(confirmatory_mod, "settings", lambda config: {**report.settings("standard"), "methods": ["ctgan"]})
    assert report.study_results("standard")[0] is explo[0]


def test_no_confirmatory_records_only_the_exploratory_board():
    explo, _ = _fake_studies()
    boards = report.scoreboards(explo, None, config="standard", board=[])
    assert [s.key for s in boards] == ["exploratory"]


def test_missing_records_say_not_computed_yet_with_the_planned_runs(tmp_path, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("planning must not open a dataset file")

    monkeypatch.setattr(costs, "load_dataset", forbidden)  # the rows
    from causalmix.report import confirmatory

    monkeypatch.setattr(confirmatory, "results_dir", lambda config, out_dir=None: tmp_path)  # no record files
    monkeypatch.setattr(runs, "file_sha256", forbidden)  # run ids hash the data file
    assert report.confirmatory_records(out_dir=tmp_path, ctgan=None) is None
    n_runs = len(load_study("confirmatory").specs("grid"))
    n_ctgan = len(load_study("confirmatory-ctgan").specs("grid"))
    text = report.state_text(None)
    assert "not computed yet" in text and f"{n_runs:,} runs" in text and f"{n_ctgan:,} runs" in text
    assert "`causalmix study run confirmatory --jobs 2`" in text  # a code span: the typographer keeps its "--"
    plan = report.planned("confirmatory")
    assert plan["runs"] == n_runs and len(plan["datasets"]) == len(report.settings("confirmatory")["datasets"])


def test_the_registration_section_carries_the_real_sha256_and_the_deviation_log():
    text = report.registration_text()
    assert file_sha256(PREREGISTRATION) in text and "studies/confirmatory/PREREGISTRATION.md" in text
    assert report.source_url("studies/confirmatory/PREREGISTRATION.md") in text
    log = report.deviations_log()
    lines = [line for line in report.DEVIATIONS.read_text().splitlines() if line.startswith("|")]
    assert list(log.columns) == [c.strip() for c in lines[0].strip("|").split("|")]
    assert len(log) == len(lines) - 2 and len(log) >= 1
    assert log.iloc[0]["date"] in lines[2] and log.iloc[0]["change"] in lines[2]


def test_deviations_log_reads_pipes_and_a_missing_file(tmp_path):
    path = tmp_path / "DEVIATIONS.md"
    path.write_text("# Changes\n\ntext\n\n| date | change |\n|---|---|\n| 2026-01-01 | a \\| b |\n| 2026-01-02 | c |\n\nafter\n")
    log = report.deviations_log(path)
    assert log.to_dict("records") == [{"date": "2026-01-01", "change": "a | b"}, {"date": "2026-01-02", "change": "c"}]
    assert report.deviations_log(tmp_path / "none.md").empty


def test_what_the_confirmatory_sizes_can_settle():
    board = next(s.board for s in _boards() if s.key == "exploratory")
    sizes = report.confirmatory_sizes("standard")
    assert sizes == {"confirmatory": len(report.settings("confirmatory")["datasets"]),
                     "pooled": len(set(report.settings("standard")["datasets"]) | set(report.settings("confirmatory")["datasets"]))}
    assert report.confirmatory_sizes("smoke").keys() == {"confirmatory"}  # other settings: no pooled view
    table = report.settle_table(board, sizes)
    power = report.power_table(board)
    assert list(table.index) == list(power.index)
    for label, n in sizes.items():
        col = table[f"{label}: {n} datasets"]
        for claim, need in power["datasets needed: paper's effect"].items():
            assert ("paper's effect" in col[claim]) == (need <= n)
    text = report.settle_text(board, sizes)
    assert all(f"With {n} datasets ({label})" in text for label, n in sizes.items())


def test_pooling_needs_the_same_settings():
    assert report.poolable("standard") and not report.poolable("smoke")
    explo, fake = _fake_studies()
    records, _ = report.pooled(explo, fake)
    assert records["run_id"].is_unique and set(records["part"]) <= {"main", "extra"}
    assert len(records) == len(explo[0]) + len(fake[0])


def _registered_records(specs, status="ok"):
    """Records of ``specs`` as a study writes them (metadata only: nothing is run or read)."""
    return pd.DataFrame([{"run_id": f"r{i}", "dataset": s.name, "method": s.method, "variant": s.variant,
                          "n_train": s.n_train, "seed": s.seed, "status": status, "part": "main"}
                         for i, s in enumerate(specs)])


def test_progress_counts_the_registered_runs_per_method_without_reading_data(monkeypatch):
    monkeypatch.setattr(runs, "file_sha256", lambda *a, **k: (_ for _ in ()).throw(AssertionError("hashed data")))
    specs = report.registered_runs()
    grid, ctgan = load_study("confirmatory").specs("grid"), load_study("confirmatory-ctgan").specs("grid")
    ours = set(report.settings("confirmatory")["datasets"])
    assert len(specs) == len(grid) + sum(s.name in ours for s in ctgan)
    half = [s for s in specs if s.seed <= 1]
    records = pd.concat([_registered_records(half), _registered_records(half[:3], "failed")], ignore_index=True)
    table = report.progress(records, specs).set_index("method")
    assert table["registered"].sum() == len(specs)
    assert table["ok"].sum() == len(half) and table["failed"].sum() == 0  # a later ok record wins over a failure
    assert table.loc["tabebm", "registered"] == 14 * 4 * 3 and table.loc["ctgan", "registered"] == 14 * 4 * 5
    assert (table["registered"] == table["ok"] + table["failed"] + table["to run"]).all()
    failed = report.progress(_registered_records(specs[:2], "failed"), specs)
    assert failed["failed"].sum() == 2 and failed["ok"].sum() == 0


def test_interim_records_withhold_the_confirmatory_and_pooled_verdicts():
    explo, _ = _fake_studies()
    specs = report.registered_runs()
    partial = _registered_records([s for s in specs if s.method != "tabebm"])
    boards = report.scoreboards(explo, (partial, pd.DataFrame()), config="standard", board=[])
    assert [s.key for s in boards] == ["exploratory"]
    text = report.state_text((partial, pd.DataFrame()))
    assert "being computed" in text and f"{len(partial):,} of its {len(specs):,} registered runs" in text
    assert "withheld" in text and "complete" not in text.split("withheld")[0]
    done = report.state_text((_registered_records(specs), pd.DataFrame()))
    assert done.startswith("**The confirmatory study is complete**") and f"{len(specs):,} registered runs" in done


def test_a_complete_registered_grid_releases_the_boards(monkeypatch):
    from causalmix.report import confirmatory
    from causalmix.runs import RunSpec

    explo, fake = _fake_studies()
    ctgan = _fake_ctgan(fake)
    as_specs = lambda records: [RunSpec(dataset=r.dataset, n_train=int(r.n_train), seed=int(r.seed), method=r.method)
                                for r in records.itertuples()]
    registered = {"confirmatory": as_specs(pd.concat([fake[0], ctgan[0]])), None: as_specs(ctgan[0])}  # None: CTGAN's all
    other = confirmatory.registered_runs  # e.g. standard-tabebm's, whose records a checkout may hold part of
    monkeypatch.setattr(confirmatory, "registered_runs",
                        lambda config, *a, **k: registered[config] if config in registered else other(config, *a, **k))
    board = report.scoreboard(*explo, config="standard", name="standard")
    keys = lambda frames: [s.key for s in report.scoreboards(explo, frames, config="standard", board=board, ctgan=ctgan)]
    assert keys(fake) == ["exploratory", "confirmatory", "pooled"]
    assert keys((fake[0].iloc[1:], fake[1])) == ["exploratory"]  # one registered run without a record


def test_record_files_that_cannot_be_checked_here_are_not_called_missing(tmp_path, monkeypatch):
    from causalmix.report import confirmatory

    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "x.json").write_text("{}")
    monkeypatch.setattr(confirmatory, "results_dir", lambda config, out_dir=None: tmp_path)
    text = report.state_text(None)
    assert "being computed" in text and "holds 1 record file of its" in text and "not computed yet" not in text


def test_exploratory_runs_recomputed_with_the_confirmatory_settings_pool_like_with_like(monkeypatch):
    from causalmix.report import confirmatory
    from causalmix.runs import RunSpec

    explo, fake = _fake_studies()
    tabebm = explo[0][explo[0]["method"] == "tabebm"]
    ids = {r: f"{r}-again" for r in tabebm["run_id"]}
    again = (tabebm.assign(run_id=tabebm["run_id"].map(ids)),
             explo[1][explo[1]["run_id"].isin(ids)].assign(run_id=lambda f: f["run_id"].map(ids)))
    kept = report.pooled(explo, fake, leave_out=["tabebm"], recomputed=[again])[0].query("method == 'tabebm'")
    on_explo = kept[~kept["dataset"].isin(FAKE.values())]
    assert set(on_explo["run_id"]) == set(ids.values()) and set(on_explo["dataset"]) == set(tabebm["dataset"])
    left_out = report.pooled(explo, fake, leave_out=["tabebm"])[0].query("method == 'tabebm'")
    assert set(left_out["dataset"]) <= set(FAKE.values())
    # standard-tabebm is declared with the confirmatory TabEBM settings; its records count once all are there
    assert report.settings("standard-tabebm")["generators"]["tabebm"] == report.settings("confirmatory")["generators"]["tabebm"]
    specs = [RunSpec(dataset=r.dataset, n_train=int(r.n_train), seed=int(r.seed), method="tabebm") for r in tabebm.itertuples()]
    monkeypatch.setattr(confirmatory, "registered_runs", lambda *a, **k: specs)
    monkeypatch.setattr(confirmatory, "_load", lambda name, out_dir: again if name == "standard-tabebm" else None)
    assert report.recomputed_runs("standard", "tabebm") is again
    monkeypatch.setattr(confirmatory, "_load", lambda name, out_dir: (again[0].iloc[1:], again[1]))
    assert report.recomputed_runs("standard", "tabebm") is None  # one run not recorded yet
    assert report.recomputed_runs("standard", "mixup") is None  # no such study
