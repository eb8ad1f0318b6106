"""One evaluation routine for validation and test, full ranking or sampled, so every model is measured alike.

Full ranking: every item the user has not interacted with in `history` is a candidate; items in `history`
are masked out (for sequential models too, unlike RecBole's default, so all rows compare like with like).
Ties in scores are broken toward the lower item position (stable sort), a fixed and stated rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .interactions import Interactions
from .metrics import KS, average_popularity, coverage, metrics_from_hits, rank_lists
from .rankers.base import Ranker, Validator


@dataclass
class Evaluation:
    """Mean metrics, per-user values (for slices) and the users they belong to."""

    metrics: dict[str, float]
    per_user: dict[str, np.ndarray] = field(repr=False)
    users: np.ndarray = field(repr=False)
    top: np.ndarray = field(repr=False)

    def subset(self, mask: np.ndarray) -> dict[str, float]:
        """Mean metrics over the users where `mask` is True (e.g. the cold-start slice)."""
        if not mask.any():
            return {}
        return {name: float(values[mask].mean()) for name, values in self.per_user.items()}


def evaluate(ranker: Ranker, history: Interactions, targets: Interactions, *, ks: tuple[int, ...] = KS,
             batch_size: int = 256, users: np.ndarray | None = None, item_counts: np.ndarray | None = None
             ) -> Evaluation:
    """Full-ranking metrics of `ranker` for every user with at least one target item."""
    counts = np.diff(targets.matrix.indptr)
    rows = np.flatnonzero(counts > 0) if users is None else np.asarray(users)
    rows = rows[counts[rows] > 0]
    k_max = max(ks)
    per_user: dict[str, list[np.ndarray]] = {}
    tops = []
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        scores = np.array(ranker.score(batch), dtype=np.float64)
        seen = history.matrix[batch]
        scores[seen.nonzero()] = -np.inf
        top = rank_lists(scores, k_max)
        relevant = targets.matrix[batch]
        hits = np.asarray(relevant[np.arange(len(batch))[:, None], top].todense()) > 0
        for name, values in metrics_from_hits(hits, counts[batch], ks).items():
            per_user.setdefault(name, []).append(values)
        tops.append(top)
    merged = {name: np.concatenate(parts) for name, parts in per_user.items()}
    top_all = np.concatenate(tops) if tops else np.zeros((0, k_max), dtype=np.int64)
    metrics = {name: float(values.mean()) for name, values in merged.items()}
    pop = item_counts if item_counts is not None else history.item_counts()
    for k in ks:
        metrics[f"coverage@{k}"] = coverage(top_all[:, :k], history.n_items)
        metrics[f"avg_pop@{k}"] = average_popularity(top_all[:, :k], pop)
    return Evaluation(metrics, merged, rows, top_all)


def evaluate_sampled(ranker: Ranker, history: Interactions, targets: Interactions, *, negatives: int = 100,
                     seed: int = 0, ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """Rank each target item among `negatives` sampled items the user never touched (secondary protocol).

    Not comparable with full ranking: 100 random negatives are mostly easy. A tie with a negative counts
    against the target (pessimistic), so constant scores cannot look good.
    """
    rng = np.random.default_rng(seed)
    coo = targets.matrix.tocoo()
    touched = (history.matrix + targets.matrix).tocsr()
    hits_rows = []
    for user, item in zip(coo.row, coo.col, strict=True):
        seen = touched.indices[touched.indptr[user]:touched.indptr[user + 1]]
        unseen = np.setdiff1d(np.arange(history.n_items), seen, assume_unique=False)
        # A user who has touched nearly everything gets every remaining item instead of a hang.
        pool = rng.choice(unseen, size=min(negatives, len(unseen)), replace=False).tolist()
        scores = np.asarray(ranker.score(np.array([user]), np.array([item, *pool])), dtype=np.float64)[0]
        rank = 1 + int(np.sum(scores[1:] >= scores[0]))
        row = np.zeros(max(ks), dtype=bool)
        if rank <= max(ks):
            row[rank - 1] = True
        hits_rows.append(row)
    per_user = metrics_from_hits(np.array(hits_rows), np.ones(len(hits_rows)), ks)
    return {f"{name}": float(values.mean()) for name, values in per_user.items() if not name.startswith(
        ("precision", "recall"))}


def ndcg_validator(train: Interactions, valid: Interactions, *, k: int = 10) -> Validator:
    """Early-stopping signal: validation NDCG@k with training items masked."""

    def validate(ranker: Ranker) -> float:
        return evaluate(ranker, train, valid, ks=(k,)).metrics[f"ndcg@{k}"]

    return validate
