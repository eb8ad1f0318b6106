"""Node rank: a personal score for each candidate from the rankers behind the one interface.

Known users: item-kNN over their rated history plus films they liked in the chat. Anonymous users who
named films: item-kNN over those. Anonymous users with nothing to go on: popularity.
"""

from __future__ import annotations

import numpy as np
from langgraph.runtime import Runtime

from ..context import AgentContext
from ..preferences import preference_score
from ..state import AgentState
from .retrieve import history_positions


def _minmax(values: np.ndarray) -> np.ndarray:
    span = float(values.max() - values.min()) if len(values) else 0.0
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


def rank(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Attach personal, popularity and preference scores to every candidate."""
    ctx = runtime.context
    candidates = state.get("candidates", [])
    ids = np.array([c["item_id"] for c in candidates], dtype=np.int64)
    positions = ctx.interactions.item_index(ids)
    history, weights = history_positions(ctx, state)
    if len(history):
        personal = ctx.personal.score_history(history, positions, weights)
        source = ctx.options.personal_ranker
    else:
        personal = ctx.rankers["pop"].score_history(np.array([], dtype=np.int64), positions)
        source = "pop"
    personal = _minmax(np.asarray(personal, dtype=np.float64))
    popularity = ctx.popularity_norm
    prefs = state.get("prefs", {})
    liked_genres = frozenset(g for i in prefs.get("liked_items", [])[-3:] for g in ctx.catalogue.items[i].genres)
    scored = []
    for candidate, score in zip(candidates, personal, strict=True):
        item = ctx.catalogue.items[candidate["item_id"]]
        quality = popularity.get(item.item_id, 0.0)
        scored.append({**candidate, "personal": float(score), "popularity": quality,
                       "preference": preference_score(item, prefs, quality, liked_genres, ctx.catalogue.genre_idf),
                       "personal_source": source})
    return {"scored": scored}
