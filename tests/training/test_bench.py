"""The benchmark runner on the tiny fixture: identical splits for every model, a complete results document,
a report whose numbers come from it, plots, and the content-hash cache reused on a second run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from convrec.core.catalogue import Catalogue
from convrec.core.errors import UserError
from convrec.training.bench import BenchConfig, run_bench
from convrec.training.bench_report import render_markdown, render_plots


def test_bench_document_report_and_cache(tiny_catalogue: Catalogue, tmp_path) -> None:  # noqa: ANN001
    frame = tiny_catalogue.interactions.sort_values("file_order", kind="stable")
    users = np.array(sorted(tiny_catalogue.users))
    config = BenchConfig(dataset="tiny", protocol="loo", models=["pop", "itemknn"], seeds=2)
    results = run_bench(config, frame, users, tiny_catalogue.item_ids, cache_dir=tmp_path, show_progress=False)
    assert len(results["runs"]) == 4 and {r["seed"] for r in results["runs"]} == {0, 1}
    run = results["runs"][1]
    for key in ("recall@10", "ndcg@10", "hit@1", "mrr@20", "precision@5", "coverage@10", "avg_pop@10"):
        assert key in run["metrics"]
    assert run["users_per_second"] > 0 and "cold_start_users" in run["slices"] and "sampled" in run
    assert results["splits"][0]["test"] == 20  # one test item per fixture user
    # known by construction: item-kNN follows each taste group, popularity cannot
    summary = results["summary"]
    assert summary["itemknn"]["ndcg@10"]["mean"] > summary["pop"]["ndcg@10"]["mean"]
    report = render_markdown(results, "convrec bench --test")
    assert f"{summary['itemknn']['ndcg@10']['mean']:.4f}" in report and "convrec bench --test" in report
    assert "Not comparable with full ranking" in report
    # user by user: both seeds' gaps pair the same test users, so the mean gap is the gap of the means
    gap = results["comparisons"]["itemknn"]["pop"]["ndcg@10"]
    assert gap["diff"] == pytest.approx(summary["itemknn"]["ndcg@10"]["mean"] - summary["pop"]["ndcg@10"]["mean"],
                                        abs=1e-6)
    assert gap["low"] <= gap["diff"] <= gap["high"] and gap["users"] == 40
    assert "## Paired with the baselines" in report and f"| itemknn | pop | {gap['diff']:+.4f} [" in report
    paths = render_plots(results, tmp_path)
    assert all(p.stat().st_size > 5000 for p in paths)
    again = run_bench(config, frame, users, tiny_catalogue.item_ids, cache_dir=tmp_path, show_progress=False)
    assert all(r["cached"] for r in again["runs"])
    assert again["summary"]["itemknn"]["ndcg@10"] == summary["itemknn"]["ndcg@10"]


def test_bench_rejects_unknown_names() -> None:
    with pytest.raises(UserError, match="choose from: .*itemknn"):
        BenchConfig(dataset="x", protocol="loo", models=["nope"]).validate()
    with pytest.raises(UserError, match="choose one of: loo"):
        BenchConfig(dataset="x", protocol="leave-two-out", models=["pop"]).validate()


def test_split_does_not_depend_on_row_order(tiny_catalogue: Catalogue) -> None:
    from convrec.training.splits import make_split

    users = np.array(sorted(tiny_catalogue.users))
    by_time = tiny_catalogue.interactions
    by_file = by_time.sort_values("file_order", kind="stable")
    for protocol in ("loo", "random", "chrono", "temporal"):
        a = make_split(by_time, users, tiny_catalogue.item_ids, dataset="t", protocol=protocol, seed=4)
        b = make_split(by_file, users, tiny_catalogue.item_ids, dataset="t", protocol=protocol, seed=4)
        for part in ("train", "valid", "test"):
            assert getattr(a, part).equals(getattr(b, part)), (protocol, part)


def test_temporal_negatives_see_only_the_training_rows(tiny_catalogue: Catalogue) -> None:
    """Negatives drawn with knowledge of held-out rows would tell a model which films are not held out."""
    from convrec.training.splits import make_split

    users = np.array(sorted(tiny_catalogue.users))
    frame = tiny_catalogue.interactions
    split = make_split(frame, users, tiny_catalogue.item_ids, dataset="t", protocol="temporal", seed=3)
    trained = split.train.groupby("user_id")["item_id"].agg(set).to_dict()
    for (user, _), row in zip(split.train[["user_id", "item_id"]].itertuples(index=False), split.train_negatives,
                              strict=True):
        assert not trained[user] & set(row.tolist()) and len(set(row.tolist())) == 5
    # Held-out films may be negatives (nothing about them reaches training), and moving every validation and
    # test row to other films leaves the negatives exactly as they were.
    held = pd.concat([split.valid, split.test])
    assert any(set(row.tolist()) & set(held[held.user_id == user].item_id)
               for user, row in zip(split.train.user_id, split.train_negatives, strict=True))
    moved = frame.copy()
    later = moved.set_index(["user_id", "item_id"]).index.isin(held.set_index(["user_id", "item_id"]).index)
    spare = np.setdiff1d(tiny_catalogue.item_ids, frame.item_id.unique())
    assert spare.size, "the fixture needs films nobody rated"
    moved.loc[later, "item_id"] = spare[0]
    again = make_split(moved, users, tiny_catalogue.item_ids, dataset="t", protocol="temporal", seed=3)
    assert again.train.equals(split.train) and np.array_equal(again.train_negatives, split.train_negatives)


def test_chrono_report_shows_hit_and_ndcg_at_1_and_torch_costs(tiny_catalogue: Catalogue, tmp_path) -> None:  # noqa: ANN001
    """DUIP's protocol reports HR@1 and NDCG@1; a torch ranker's parameters and seconds per epoch are recorded."""
    frame = tiny_catalogue.interactions.sort_values("file_order", kind="stable")
    users = np.array(sorted(tiny_catalogue.users))
    config = BenchConfig(dataset="tiny", protocol="chrono", models=["pop", "gru4rec"], seeds=1, sampled=False,
                         overrides={"gru4rec": {"epochs": 2}})
    results = run_bench(config, frame, users, tiny_catalogue.item_ids, cache_dir=tmp_path, show_progress=False)
    report = render_markdown(results, "convrec bench --protocol chrono")
    assert "| model | recall@10 | ndcg@10 | hit@10 | mrr@10 | precision@10 | recall@20 | ndcg@20 | hit@1 | ndcg@1 |" \
        in report
    run = next(r for r in results["runs"] if r["model"] == "gru4rec")
    assert run["epochs"] == 2 and run["parameters"] == run["trainable_parameters"] > 0
    assert f"| gru4rec | {run['parameters']:,} | {run['trainable_parameters']:,} | 2 | " in report
