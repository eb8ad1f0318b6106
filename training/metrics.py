"""Top-k metrics as pure functions of a boolean hit matrix, all k at once (RecBole's layout).

`hits[u, r]` is True when the item at rank r+1 of user u's list is relevant; `n_relevant[u]` counts u's
relevant items. Per-user values are returned, so slices (cold-start users, tail items) average subsets.
- Recall@k = hits in top k / n_relevant
- Precision@k = hits in top k / k
- Hit@k = 1 if any hit in top k
- MRR@k = 1 / rank of the first hit within k, else 0
- NDCG@k = sum over hits in top k of 1/log2(rank+1), divided by the ideal sum over min(n_relevant, k) ranks
"""

from __future__ import annotations

import numpy as np

KS = (1, 5, 10, 20)
METRICS = ("recall", "ndcg", "hit", "mrr", "precision")


def metrics_from_hits(hits: np.ndarray, n_relevant: np.ndarray, ks: tuple[int, ...] = KS) -> dict[str, np.ndarray]:
    """Per-user values of every metric at every k; users with no relevant item must be left out first."""
    hits = np.asarray(hits, dtype=bool)
    n_relevant = np.asarray(n_relevant, dtype=np.float64)
    if np.any(n_relevant <= 0):
        raise ValueError("every user passed to metrics_from_hits needs at least one relevant item")
    k_max = hits.shape[1]
    ranks = np.arange(1, k_max + 1)
    discounts = 1.0 / np.log2(ranks + 1)
    cumulative_hits = np.cumsum(hits, axis=1)
    dcg = np.cumsum(hits * discounts, axis=1)
    ideal = np.cumsum(discounts)
    first = np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, k_max + 1)
    out: dict[str, np.ndarray] = {}
    for k in ks:
        if k > k_max:
            raise ValueError(f"k={k} exceeds the list length {k_max}")
        found = cumulative_hits[:, k - 1]
        out[f"recall@{k}"] = found / n_relevant
        out[f"precision@{k}"] = found / k
        out[f"hit@{k}"] = (found > 0).astype(np.float64)
        out[f"mrr@{k}"] = np.where(first <= k, 1.0 / first, 0.0)
        ideal_k = ideal[np.minimum(n_relevant, k).astype(int) - 1]
        out[f"ndcg@{k}"] = dcg[:, k - 1] / ideal_k
    return out


def rank_lists(scores: np.ndarray, k: int) -> np.ndarray:
    """Top-k column positions per row, best first; ties go to the lower column (a stable, stated rule)."""
    order = np.argsort(-scores, axis=1, kind="stable")
    return order[:, :k]


def coverage(top: np.ndarray, n_items: int) -> float:
    """Share of all items that appear in at least one list."""
    return float(len(np.unique(top)) / n_items) if n_items else 0.0


def average_popularity(top: np.ndarray, item_counts: np.ndarray) -> float:
    """Mean training interaction count of the recommended items."""
    return float(item_counts[top].mean()) if top.size else 0.0
