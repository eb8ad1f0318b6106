"""The cold-start protocol in the benchmark: slice metrics computed by hand, and a full run on the fixture."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from convrec.core.catalogue import Catalogue
from convrec.training.bench import BenchConfig, model_params, run_bench, run_one
from convrec.training.bench_report import render_markdown
from convrec.training.splits import Split, make_split

COLUMNS = ["user_id", "item_id", "rating", "timestamp"]


def _part(pairs: list[tuple[int, int]], start: int) -> pd.DataFrame:
    frame = pd.DataFrame([(u, i, 4.0, start + n) for n, (u, i) in enumerate(pairs)], columns=COLUMNS)
    return frame.astype({"user_id": "int64", "item_id": "int64", "rating": "float32", "timestamp": "int64"})


def _hand_split() -> Split:
    """25 items, five users; training counts 5, 4, 2, 1 for items 1-4 and none for the rest; item 9 is new.

    The head is the top 5 items by training count, less those nobody rated in training: items 1-4.

    Popularity ranks, history masked, ties to the lower item:
    user 1 (knows 1-4) gets 5 6 7 8 9 ...: test 9 (new, tail) at rank 5;
    user 2 (knows 1-3) gets 4 ...: test 4 (tail) at rank 1;
    user 3 (knows 1 2) gets 3 4 ...: test 3 (tail) at rank 1;
    user 4 (knows 1) gets 2 3 ...: test 2 (head) at rank 1;
    user 5 (knows 1 2) gets 3 4 5 6 7 8 9 10: test 10 (tail) at rank 8.
    """
    train = _part([(1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (2, 2), (2, 3), (3, 1), (3, 2), (4, 1), (5, 1), (5, 2)],
                  100)
    test = _part([(1, 9), (2, 4), (3, 3), (4, 2), (5, 10)], 900)
    return Split("hand", "coldstart", 0, train, _part([], 0), test, np.arange(1, 6, dtype=np.int64),
                 np.arange(1, 26, dtype=np.int64), cold_users=np.array([1, 5]), new_items=np.array([9]))


def _ndcg(rank: int) -> float:
    return 1.0 / math.log2(rank + 1)


def test_slices_equal_hand_computed_values(tmp_path) -> None:  # noqa: ANN001
    config = BenchConfig(dataset="hand", protocol="coldstart", models=["pop"], seeds=1)
    row, per_user = run_one("pop", config, _hand_split(), tmp_path, show_progress=False)
    ranks = {1: 5, 2: 1, 3: 1, 4: 1, 5: 8}
    assert per_user["ndcg@10"] == pytest.approx([_ndcg(ranks[u]) for u in range(1, 6)])
    assert row["metrics"]["ndcg@10"] == pytest.approx(np.mean([_ndcg(r) for r in ranks.values()]))
    slices = row["slices"]
    assert slices["cold_start_users"]["ndcg@10"] == pytest.approx((_ndcg(5) + _ndcg(8)) / 2)
    assert slices["cold_start_users"]["recall@5"] == pytest.approx(0.5)  # user 1 at rank 5, user 5 at 8
    assert slices["head_items"]["ndcg@10"] == pytest.approx(1.0)  # users 2, 3 and 4
    assert slices["tail_items"]["ndcg@10"] == pytest.approx((_ndcg(5) + _ndcg(8)) / 2)  # users 1 and 5
    assert slices["new_items"]["ndcg@10"] == pytest.approx(_ndcg(5))
    assert slices["new_items"]["mrr@10"] == pytest.approx(0.2)
    assert "recall@100" not in slices["new_items"]  # 25 films: a list of 100 does not exist (ML-100K has 1,682)
    assert row["slice_users"] == {"cold_start_users": 2, "head_items": 3, "tail_items": 2, "new_items": 1}
    assert "sampled" not in row  # the sampled 1+100 table stays leave-one-out's


def test_coldstart_trains_with_the_leave_one_out_settings() -> None:
    """One validation item per warm user, as in loo: the per-protocol overrides chosen there apply."""
    loo = model_params("bpr", BenchConfig(dataset="x", protocol="loo", models=["bpr"]))
    cold = model_params("bpr", BenchConfig(dataset="x", protocol="coldstart", models=["bpr"]))
    assert cold == loo


def test_coldstart_bench_on_the_fixture(tiny_catalogue: Catalogue, tmp_path) -> None:  # noqa: ANN001
    frame = tiny_catalogue.interactions.sort_values("file_order", kind="stable")
    users = np.array(sorted(tiny_catalogue.users))
    config = BenchConfig(dataset="tiny", protocol="coldstart", models=["pop", "itemknn"], seeds=2)
    results = run_bench(config, frame, users, tiny_catalogue.item_ids, cache_dir=tmp_path, show_progress=False)
    assert [s["cold_users"] for s in results["splits"]] == [4, 4]
    for run in results["runs"]:
        split = make_split(frame, users, tiny_catalogue.item_ids, dataset="tiny", protocol="coldstart",
                           seed=run["seed"])
        assert split.cold_users is not None
        tested_cold = int(split.test.user_id.isin(split.cold_users).sum())  # 5 ratings or fewer: nothing to test
        # the fixture's test items are all outside the head (each taste group's later films)
        assert {"cold_start_users", "tail_items"} <= set(run["slices"]) and "head_items" not in run["slices"]
        assert run["slice_users"]["cold_start_users"] == tested_cold > 0
    report = render_markdown(results, "convrec bench --protocol coldstart")
    assert "cold start: leave-one-out by time" in report and "The split depends on the seed" in report
    assert "| model | cold-start ndcg@10 | cold-start recall@10 | tail ndcg@10 | tail recall@10 |" in report
    cold = results["summary"]["itemknn"]["cold_start_users/ndcg@10"]["mean"]
    assert f"{cold:.4f}" in report


def test_report_shows_new_items_beside_head_and_tail() -> None:
    stats = {"mean": 0.5, "std": 0.0, "n": 1}
    summary = {"pop": {f"{s}/{m}": stats for s in ("cold_start_users", "head_items", "tail_items", "new_items")
                       for m in ("ndcg@10", "recall@10")} | {"ndcg@10": stats, "recall@10": stats}}
    results = {"dataset": "ml-100k", "protocol": "coldstart", "seeds": 1, "machine": "m", "summary": summary,
               "runs": [{"model": "pop", "seed": 0, "slice_users": {"cold_start_users": 189, "new_items": 79}}]}
    report = render_markdown(results, "convrec bench")
    assert "| tail ndcg@10 | tail recall@10 | new-item ndcg@10 | new-item recall@10 |" in report
    assert "recall@100" not in report  # only when the results have it
    summary["pop"]["new_items/recall@100"] = {"mean": 0.25, "std": 0.0, "n": 1}
    with_100 = render_markdown(results, "convrec bench")
    assert "| new-item recall@10 | new-item recall@100 |" in with_100 and "| 0.2500 |" in with_100
    assert "Test users per slice (seed 0): cold-start 189, new-item 79." in report
    assert "New items: test items the split removed from training." in report
