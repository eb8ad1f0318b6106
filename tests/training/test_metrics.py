"""Metrics against values worked out by hand (in the spirit of RecBole's tests/metrics)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from convrec.training.evaluate import evaluate, evaluate_sampled
from convrec.training.interactions import Interactions
from convrec.training.metrics import average_popularity, coverage, metrics_from_hits, rank_lists
from convrec.training.rankers.base import Ranker

# Three users, lists of length 3. User 0: hit at rank 1 and 3, two relevant items. User 1: hit at rank 2,
# three relevant items (one never retrieved). User 2: no hit, one relevant item.
HITS = np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0]], dtype=bool)
N_RELEVANT = np.array([2, 3, 1])


def test_hand_computed_values() -> None:
    m = metrics_from_hits(HITS, N_RELEVANT, ks=(1, 2, 3))
    assert m["hit@1"].tolist() == [1, 0, 0] and m["hit@3"].tolist() == [1, 1, 0]
    assert m["recall@3"] == pytest.approx([1.0, 1 / 3, 0.0])
    assert m["precision@2"] == pytest.approx([0.5, 0.5, 0.0])
    assert m["mrr@1"] == pytest.approx([1.0, 0.0, 0.0]) and m["mrr@3"] == pytest.approx([1.0, 0.5, 0.0])
    # user 0: DCG = 1 + 1/log2(4) = 1.5; IDCG (2 relevant) = 1 + 1/log2(3)
    assert m["ndcg@3"][0] == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # user 1: DCG = 1/log2(3); IDCG over min(3, 3) ranks
    assert m["ndcg@3"][1] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3) + 0.5))
    assert m["ndcg@1"][1] == 0.0 and m["ndcg@3"][2] == 0.0


def test_ties_go_to_the_lower_position_and_extras() -> None:
    scores = np.array([[0.5, 0.9, 0.5, 0.1]])
    assert rank_lists(scores, 3).tolist() == [[1, 0, 2]]
    assert coverage(np.array([[1, 0], [1, 2]]), 4) == 0.75
    assert average_popularity(np.array([[0, 1]]), np.array([10.0, 2.0, 5.0])) == 6.0
    with pytest.raises(ValueError):
        metrics_from_hits(HITS, np.array([2, 0, 1]), ks=(1,))


class FixedScores(Ranker):
    """A ranker whose scores are given, to test the evaluation plumbing."""

    name = "fixed-test"

    def __init__(self, table: np.ndarray) -> None:
        super().__init__()
        self.table = table
        self.fitted = True

    def fit(self, data, *, seed, show_progress=False, validate=None):  # noqa: ANN001, ANN201, D102
        return self

    def score(self, users, items=None):  # noqa: ANN001, ANN201, D102
        rows = self.table[np.asarray(users)]
        return rows if items is None else rows[:, np.asarray(items)]

    def score_history(self, history, items=None, weights=None):  # noqa: ANN001, ANN201, D102
        raise NotImplementedError

    def _arrays(self):  # noqa: ANN202
        return {}

    def _restore(self, arrays):  # noqa: ANN001, ANN202
        return None


def matrix(rows: list[list[int]], n_items: int) -> Interactions:
    data = sp.csr_matrix((len(rows), n_items), dtype=np.float32).tolil()
    for u, items in enumerate(rows):
        for i in items:
            data[u, i] = 1.0
    return Interactions(data.tocsr(), np.arange(len(rows)), np.arange(n_items))


def test_seen_items_are_masked_and_several_test_items_count() -> None:
    # 2 users, 5 items. User 0 saw item 0 (the top score): masked, so the list is 1, 2, 3.
    table = np.array([[0.9, 0.8, 0.7, 0.6, 0.1], [0.1, 0.2, 0.3, 0.4, 0.5]])
    history = matrix([[0], [4]], 5)
    targets = matrix([[2, 4], []], 5)
    result = evaluate(FixedScores(table), history, targets, ks=(1, 3))
    assert result.users.tolist() == [0]  # user 1 has no test item: left out
    assert result.metrics["recall@3"] == pytest.approx(0.5)  # item 2 at rank 2, item 4 not in the top 3
    assert result.metrics["hit@1"] == 0.0 and result.metrics["mrr@3"] == pytest.approx(0.5)
    assert result.metrics["ndcg@3"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert result.metrics["coverage@3"] == pytest.approx(3 / 5)


def test_sampled_protocol_counts_ties_against_the_target() -> None:
    flat = FixedScores(np.ones((1, 200)))
    history = matrix([[0]], 200)
    targets = matrix([[1]], 200)
    assert evaluate_sampled(flat, history, targets, negatives=100, ks=(1, 10))["hit@10"] == 0.0
    perfect = FixedScores(np.r_[0.0, 1.0, np.zeros(198)][None, :])
    assert evaluate_sampled(perfect, history, targets, negatives=100, ks=(1,))["hit@1"] == 1.0
