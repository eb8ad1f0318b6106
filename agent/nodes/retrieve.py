"""Node retrieve: about a hundred candidates that satisfy every hard constraint.

A stated wish is searched in the vector index with the constraints as `where` filters; a known user who
states nothing ("surprise me") gets candidates from their personal ranker over the whole catalogue.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from langgraph.runtime import Runtime

from convrec.retrieval.query import Constraints

from ..context import AgentContext
from ..preferences import constraints_of, describe, query_text
from ..state import AgentState


def history_positions(ctx: AgentContext, state: AgentState) -> tuple[np.ndarray, np.ndarray]:
    """Item positions and weights of what the person liked: their rated history plus in-chat likes."""
    ids: list[int] = []
    weights: list[float] = []
    user_id = state.get("user_id")
    if user_id is not None:
        history = ctx.catalogue.history(user_id)
        ids += [int(i) for i in history["item_id"]]
        weights += [float(r) - 2.5 for r in history["rating"]]
    for liked in state.get("prefs", {}).get("liked_items", []):
        ids.append(int(liked))
        weights.append(3.0)
    return ctx.interactions.item_index(np.array(ids, dtype=np.int64)), np.array(weights, dtype=np.float32)


def retrieve(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Fill `candidates`; when none exist, say plainly that nothing matches."""
    ctx = runtime.context
    constraints = constraints_of(state, ctx.catalogue)
    prefs = state.get("prefs", {})
    note = describe(prefs)
    if constraints.is_impossible(ctx.catalogue.year_range, genres=ctx.catalogue.genres):
        first, last = ctx.catalogue.year_range
        if constraints.is_impossible(ctx.catalogue.year_range):
            return _no_match(note, f"The catalogue only has films released from {first} to {last}.")
        return _no_match(note, "No genre can be both wanted and excluded.")
    stated = any(prefs.get(k) for k in ("genres_wanted", "moods", "keywords", "liked_items"))
    if not stated and state.get("user_id") is not None:
        candidates = _from_history(ctx, state, constraints)
    else:
        liked = [ctx.catalogue.items[i].title for i in prefs.get("liked_items", [])[-3:]]
        text = query_text(prefs, state.get("message", ""), liked)
        embedding = ctx.index.encode_query(text)
        if prefs.get("liked_items"):
            liked_vectors = ctx.index.embeddings(prefs["liked_items"][-3:])
            blended = 0.5 * embedding + 0.5 * liked_vectors.mean(axis=0)
            embedding = blended / max(float(np.linalg.norm(blended)), 1e-9)
        hits = ctx.index.search(text, constraints=constraints, n=ctx.settings.candidates, query_embedding=embedding)
        candidates = [{"item_id": h.item_id, "similarity": float(h.similarity)} for h in hits]
    if not candidates:
        return _no_match(note, ("No film meets all of " + ", ".join(note) + "." if note else "")
                         + _relaxation_hint(ctx, constraints))
    return {"candidates": candidates, "constraints_note": note}


def _from_history(ctx: AgentContext, state: AgentState, constraints: Constraints) -> list[dict]:
    positions, weights = history_positions(ctx, state)
    scores = ctx.personal.score_history(positions, None, weights)
    order = np.argsort(-scores, kind="stable")
    candidates = []
    for position in order:
        item_id = int(ctx.interactions.item_ids[position])
        item = ctx.catalogue.items.get(item_id)
        if item is not None and constraints.admits(item):
            candidates.append({"item_id": item_id, "similarity": 0.0})
            if len(candidates) >= ctx.settings.candidates:
                break
    return candidates


def _relaxation_hint(ctx: AgentContext, constraints: Constraints) -> str:
    """When several genres were required together, say how many films have any one of them instead."""
    if len(constraints.genres_all) < 2:
        return ""
    relaxed = replace(constraints, genres_all=(), genres_any=constraints.genres_all)
    count = sum(1 for item in ctx.catalogue.items.values() if relaxed.admits(item))
    if not count:
        return ""
    either = " or ".join(constraints.genres_all)
    return f" {count} films are {either} (not necessarily both): ask for \u201c{either.lower()}\u201d to see them."


def _no_match(note: list[str], reason: str) -> dict:
    return {"candidates": [], "constraints_note": note, "no_match_reason": reason}
