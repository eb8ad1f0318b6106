"""Paired bootstrap of the gap between two rankers' per-user metrics, pooled over seeds.

Why: the seed-to-seed spread of a mean says how much a model moves between splits, not whether it is ahead
of another model scored on the same users. Two rankers evaluated on one split rank the same test users, so
their per-user differences can be resampled: if the 95% interval of the mean difference straddles zero, a
gap of a few tenths of a percent is not a win (or a loss), however the means compare.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RESAMPLES = 2000
LEVEL = 0.95
# The benchmark pairs every model with these baselines (when they ran) at these metrics.
BASELINES = ("pop", "itemknn", "bpr")
METRICS = {"ndcg@10": "NDCG@10", "recall@10": "Recall@10"}  # results key -> the name a report prints


def paired_difference(ours: Sequence[np.ndarray], theirs: Sequence[np.ndarray], *, resamples: int = RESAMPLES,
                      level: float = LEVEL, seed: int = 0) -> dict[str, float] | None:
    """Mean over seeds of the per-user mean difference `ours - theirs`, with a bootstrap interval.

    Each element of `ours` and `theirs` holds one seed's per-user values, the same users in the same order
    in both. Users are resampled within each seed (a seed's split is its own population), the seeds'
    resampled means are averaged. Returns None when no seed has a user.
    """
    if len(ours) != len(theirs):
        raise ValueError(f"one array per seed on both sides, got {len(ours)} and {len(theirs)}")
    diffs = []
    for mine, other in zip(ours, theirs, strict=True):
        mine, other = np.asarray(mine, dtype=np.float64), np.asarray(other, dtype=np.float64)
        if mine.shape != other.shape:
            raise ValueError(f"paired values need the same users: shapes {mine.shape} and {other.shape}")
        if mine.size:
            diffs.append(mine - other)
    if not diffs:
        return None
    rng = np.random.default_rng(seed)
    resampled = np.zeros(resamples)
    for diff in diffs:
        resampled += diff[rng.integers(0, len(diff), size=(resamples, len(diff)))].mean(axis=1)
    resampled /= len(diffs)
    tail = (1.0 - level) / 2
    low, high = np.quantile(resampled, [tail, 1.0 - tail])
    return {"diff": float(np.mean([d.mean() for d in diffs])), "low": float(low), "high": float(high),
            "share_above_zero": float((resampled > 0).mean()), "users": int(sum(len(d) for d in diffs))}


def verdict(gap: dict[str, float]) -> str:
    """'ahead', 'behind' or 'level': whether the interval excludes zero, and on which side."""
    if gap["low"] > 0:
        return "ahead"
    if gap["high"] < 0:
        return "behind"
    return "level"
