"""Node rank: a personal score for each candidate from the rankers behind the one interface.

Known users with stored profiles: LLM-TUP scores the candidates from their short- and long-term profiles
(films liked in the chat add the fallback ranker's score over history plus likes, half and half), and each
candidate records which profile drove its score (the explanation may say so). Other known users: the
personal ranker (item-kNN) over their rated history plus in-chat likes. Anonymous users who named films:
the personal ranker over those. Anonymous users with nothing to go on: popularity. A person with no MovieLens
history whose conversation supports a profile (films they liked, genres they want or avoid) also gets PtE's score
for that profile, a separate signal the rerank weighs (`AgentOptions.profile_weight`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from ..context import AgentContext
from ..preferences import conversation_scores, preference_score
from ..profile_channel import conversation_profile
from ..state import AgentState
from .retrieve import history_positions


def _minmax(values: np.ndarray) -> np.ndarray:
    span = float(values.max() - values.min()) if len(values) else 0.0
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


def rank(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Attach personal, popularity and preference scores to every candidate."""
    ctx = runtime.context
    candidates = state.get("candidates", [])
    ids = np.array([c["item_id"] for c in candidates], dtype=np.int64)
    positions = ctx.interactions.item_index(ids)
    history, weights = history_positions(ctx, state)
    sides: list[str | None] = [None] * len(candidates)
    user_id = state.get("user_id")
    if ctx.has_profile(user_id) and len(candidates):
        personal, sides = _profile_scores(ctx, int(user_id), positions)
        if state.get("prefs", {}).get("liked_items"):
            liked = ctx.personal.score_history(history, positions, weights)
            personal = 0.5 * personal + 0.5 * _minmax(np.asarray(liked, dtype=np.float64))
        source = str(ctx.options.profile_ranker)
    elif len(history):
        personal = ctx.personal.score_history(history, positions, weights)
        source = ctx.options.personal_ranker
    else:
        personal = ctx.rankers["pop"].score_history(np.array([], dtype=np.int64), positions)
        source = "pop"
    personal = _minmax(np.asarray(personal, dtype=np.float64))
    popularity = ctx.popularity_norm
    prefs = state.get("prefs", {})
    prior = conversation_scores(ctx.prior, prefs, ctx.options.co_mention_weight)
    conversation = _minmax(prior[positions]) if prior is not None and len(candidates) else np.zeros(len(candidates))
    liked_genres = frozenset(g for i in prefs.get("liked_items", [])[-3:] for g in ctx.catalogue.items[i].genres)
    profiled = _conversation_profile_scores(ctx, state, positions)
    scored = []
    for candidate, score, side, said, by_profile in zip(candidates, personal, sides, conversation, profiled,
                                                        strict=True):
        item = ctx.catalogue.items[candidate["item_id"]]
        quality = popularity.get(item.item_id, 0.0)
        scored.append({**candidate, "personal": float(score), "popularity": quality, "conversation": float(said),
                       "preference": preference_score(item, prefs, quality, liked_genres, ctx.catalogue.genre_idf),
                       "personal_source": source, "profile_side": side, "profile": float(by_profile)})
    return {"scored": scored}


def _conversation_profile_scores(ctx: AgentContext, state: AgentState, positions: np.ndarray) -> np.ndarray:
    """PtE's scores (0-1 over the candidates) for the profile the conversation supports; zeros where none applies.

    Only for a person with no MovieLens history: a known user is ranked from their own ratings and profiles.
    """
    channel = ctx.profile_channel
    if channel is None or state.get("user_id") is not None or not len(positions):
        return np.zeros(len(positions))
    profile = conversation_profile(state.get("prefs", {}), ctx.catalogue)
    if profile is None:
        return np.zeros(len(positions))
    return _minmax(np.asarray(channel.scores(profile, positions), dtype=np.float64))


def _profile_scores(ctx: AgentContext, user_id: int, positions: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    """LLM-TUP's scores (0-1 over the candidates) and, per candidate, the profile that drove it.

    Each profile alone scores the candidates; standardised over them and weighted by the user's fusion
    weight, the larger share names the driving side. A candidate that neither side rates above the others'
    average gets None: then nothing is said about profiles.
    """
    model = ctx.profiled
    if model is None:
        raise ValueError("profile scores asked for without a profile ranker (has_profile checks it first)")
    row = ctx.interactions.user_index(user_id)
    if row is None:
        raise ValueError("profile scores asked for an unknown user (has_profile checks it first)")
    scores = _minmax(np.asarray(model.score(np.array([row]), positions)[0], dtype=np.float64))
    weights = model.fusion_weights(np.array([row]))[0]
    per_side = model.side_scores(row, positions)
    kinds = list(per_side)
    shares = np.stack([weights[k] * _standardise(per_side[kind]) for k, kind in enumerate(kinds)])
    best = shares.argmax(axis=0)
    sides = [kinds[b] if shares[b, i] > 0 else None for i, b in enumerate(best)]
    return scores, sides


def _standardise(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)
