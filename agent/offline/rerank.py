"""Offline rerank: fuse retrieval similarity, the personal score, popularity and soft preferences, then diversify.

Diversity comes from maximal marginal relevance, so that five picks are not five near-copies.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..schemas import RerankRequest

DEFAULT_WEIGHTS = {"similarity": 0.45, "personal": 0.25, "popularity": 0.15, "preference": 0.15, "conversation": 0.0,
                   "profile": 0.0}
SIGNALS = tuple(DEFAULT_WEIGHTS)

EmbeddingLookup = Callable[[list[int]], np.ndarray]


def fused_scores(request: RerankRequest) -> np.ndarray:
    """Weighted sum of the candidate signals (weights from the request, defaults otherwise)."""
    weights = {**DEFAULT_WEIGHTS, **request.weights}
    signals = np.array([[getattr(c, name) for name in SIGNALS] for c in request.candidates],
                       dtype=np.float64).reshape(-1, len(SIGNALS))
    return signals @ np.array([weights[name] for name in SIGNALS])


def mmr_order(relevance: np.ndarray, embeddings: np.ndarray, k: int, relevance_weight: float) -> list[int]:
    """Pick `k` positions greedily by relevance minus similarity to what is already picked."""
    chosen: list[int] = []
    remaining = list(np.argsort(-relevance, kind="stable"))
    if len(relevance) == 0:
        return chosen
    span = float(relevance.max() - relevance.min()) or 1.0
    scaled = (relevance - relevance.min()) / span
    similarity = embeddings @ embeddings.T if len(embeddings) else np.zeros((len(relevance),) * 2)
    while remaining and len(chosen) < k:
        if not chosen:
            best = remaining[0]
        else:
            redundancy = similarity[np.ix_(remaining, chosen)].max(axis=1)
            value = relevance_weight * scaled[remaining] - (1 - relevance_weight) * redundancy
            best = remaining[int(np.argmax(value))]
        chosen.append(int(best))
        remaining.remove(best)
    return chosen


def rerank(request: RerankRequest, embeddings_of: EmbeddingLookup) -> list[int]:
    """Return the final ids: fused relevance, then MMR over the top 30 by relevance."""
    if not request.candidates:
        return []
    relevance = fused_scores(request)
    pool = np.argsort(-relevance, kind="stable")[:30]
    ids = [request.candidates[i].item_id for i in pool]
    vectors = embeddings_of(ids) if request.diversity < 1.0 else np.zeros((0, 0))
    order = mmr_order(relevance[pool], vectors, request.top_n, request.diversity) if len(vectors) else list(
        range(min(request.top_n, len(pool))))
    return [ids[i] for i in order]
