"""Node retrieve: the candidates (a few hundred at most) that satisfy every hard constraint.

A stated wish is searched in the vector index with the constraints as `where` filters. Two more sources join
it, so that what the person said can reach films the query text does not describe: the films real people
recommend in conversation given the films named so far (the conversation prior), and the films co-rated with
the ones the person liked (the personal ranker). A known user who states nothing ("surprise me") gets
candidates from their personal ranker over the whole catalogue. No source offers a film rated by fewer than
`Settings.min_ratings_to_recommend` people unless nothing better rated fits.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from convrec.core.catalogue import Catalogue
from convrec.retrieval.query import Constraints

from ..context import AgentContext
from ..preferences import constraints_of, conversation_scores, describe, query_text
from ..profile_channel import conversation_profile
from ..schemas import PreferenceUpdate
from ..state import AgentState, Preferences
from .update_preferences import REQUEST_KEYS, merge

SIDE_SOURCES = 50  # candidates each extra source (conversation prior, liked films' neighbours) adds at most


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


def retrieve(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Fill `candidates`; when none exist, say plainly that nothing matches.

    When this turn worked on an earlier request and the two together admit nothing ("I also like comedies,
    thrillers and sci-fi" after an action request), the turn starts the request afresh from what it says
    (exclusions stay) and the reply says so. Years outside the catalogue, once answered, are dropped, so one
    "any good 2017 movies?" does not empty every later answer.
    """
    ctx = runtime.context
    found = _retrieve(ctx, state)
    if found["candidates"]:
        return found
    understanding = state.get("understanding", {})
    earlier = state.get("prefs", {})
    if understanding.get("new_request") is False and any(earlier.get(k) for k in REQUEST_KEYS):
        fresh = merge({k: v for k, v in earlier.items() if k not in REQUEST_KEYS},  # type: ignore[arg-type]
                      PreferenceUpdate(**understanding), [], new_request=True)
        retry = _retrieve(ctx, {**state, "prefs": fresh})
        if retry["candidates"]:
            asked = describe({k: v for k, v in earlier.items() if k in REQUEST_KEYS})  # type: ignore[arg-type]
            dropped = ", ".join(asked) if asked else "what you asked before"
            return {**retry, "prefs": fresh, "notes": [f"Nothing fits {dropped} together with this, so these go "
                                                       "by what you just said."]}
    first, last = ctx.catalogue.year_range
    low, high = earlier.get("year_min"), earlier.get("year_max")
    if (low is not None and low > last) or (high is not None and high < first):
        found["prefs"] = {**earlier, "year_min": None, "year_max": None}
    return found


def _retrieve(ctx: AgentContext, state: AgentState) -> dict[str, Any]:
    """Candidates for the preferences in `state`, or the reason there are none.

    Films rated fewer than `Settings.min_ratings_to_recommend` times are left out, unless nothing else fits
    (a request only a few rarely rated films meet still gets them rather than a false "nothing matches").
    """
    constraints = constraints_of(state, ctx.catalogue, min_ratings=ctx.settings.min_ratings_to_recommend)
    prefs = state.get("prefs", {})
    note = describe(prefs)
    if constraints.is_impossible(ctx.catalogue.year_range, genres=ctx.catalogue.genres):
        first, last = ctx.catalogue.year_range
        if constraints.is_impossible(ctx.catalogue.year_range):
            return _no_match(note, f"The catalogue only has films released from {first} to {last}.")
        return _no_match(note, "No genre can be both wanted and excluded.")
    candidates = _candidates(ctx, state, constraints)
    if not candidates and ctx.settings.min_ratings_to_recommend > 0:
        candidates = _candidates(ctx, state, constraints_of(state, ctx.catalogue))
    if not candidates:
        return _no_match(note, ("No film meets all of " + ", ".join(note) + "." if note else "")
                         + _relaxation_hint(ctx, constraints))
    enough = state.get("top_n") or ctx.settings.top_n
    return {"candidates": suiting_the_mood(ctx.catalogue, prefs, candidates, enough), "constraints_note": note}


def suiting_the_mood(catalogue: Catalogue, prefs: Preferences, candidates: list[dict[str, Any]],
                     enough: int) -> list[dict[str, Any]]:
    """Leave out films that carry only genres the stated mood avoids, none it favours, when enough others remain.

    A mood is soft, so a strong pull elsewhere (the films real people name beside Heat and Fargo) outweighed it:
    "something lighter" after two crime films brought Pulp Fiction. A film with a favoured genre stays (The Big
    Lebowski is Comedy and Crime); with fewer than `enough` films left, nothing is left out.
    """
    boost, avoid = set(prefs.get("mood_genres_boost", [])), set(prefs.get("mood_genres_penalty", []))
    if not boost or not avoid:
        return candidates
    kept = [c for c in candidates
            if not (set(catalogue.items[c["item_id"]].genres) & avoid)
            or set(catalogue.items[c["item_id"]].genres) & boost]
    return kept if len(kept) >= enough else candidates


def _candidates(ctx: AgentContext, state: AgentState, constraints: Constraints) -> list[dict[str, Any]]:
    """The films that meet `constraints`, from the vector search and the side sources (or the person's history)."""
    prefs = state.get("prefs", {})
    stated = any(prefs.get(k) for k in ("genres_wanted", "moods", "keywords", "liked_items", "mentions"))
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
        if not ctx.options.retrieval_only:
            candidates += _side_candidates(ctx, state, constraints, embedding, {c["item_id"] for c in candidates})
    return _like_the_named(ctx, prefs, candidates)


def _like_the_named(ctx: AgentContext, prefs: Preferences, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep films that share a genre with the films named, for "Something like Star Wars" with no genre of its own.

    The filter applies only when any films do share one, so a generally popular film never passes for a similar one.
    """
    liked = prefs.get("liked_items", [])[-3:]
    if not liked or prefs.get("genres_wanted"):
        return candidates
    genres = {g for i in liked for g in ctx.catalogue.items[i].genres}
    kept = [c for c in candidates if genres & set(ctx.catalogue.items[c["item_id"]].genres)]
    return kept or candidates


def _side_candidates(ctx: AgentContext, state: AgentState, constraints: Constraints, embedding: np.ndarray,
                     taken: set[int]) -> list[dict[str, Any]]:
    """Films the conversation prior, the liked films' neighbours and PtE's conversation profile rank highest.

    Each comes with its query similarity.
    """
    prefs = state.get("prefs", {})
    sources: list[np.ndarray] = []
    conversation = conversation_scores(ctx.prior, prefs, ctx.options.co_mention_weight)
    if conversation is not None:
        sources.append(conversation)
    if prefs.get("liked_items"):
        positions, weights = history_positions(ctx, state)
        sources.append(np.asarray(ctx.personal.score_history(positions, None, weights), dtype=np.float64))
    channel = ctx.profile_channel
    profile = conversation_profile(prefs, ctx.catalogue) if channel is not None and state.get(
        "user_id") is None else None
    if channel is not None and profile is not None:  # PtE's channel: positive scores only, like the others
        scores = np.asarray(channel.scores(profile), dtype=np.float64)
        sources.append(scores - np.median(scores))
    added: list[int] = []
    for scores in sources:
        count = 0
        for position in np.argsort(-scores, kind="stable"):
            if scores[position] <= 0 or count >= SIDE_SOURCES:
                break
            item_id = int(ctx.interactions.item_ids[position])
            item = ctx.catalogue.items.get(item_id)
            if item_id in taken or item is None or not constraints.admits(item):
                continue
            taken.add(item_id)
            added.append(item_id)
            count += 1
    if not added:
        return []
    similarity = ctx.index.embeddings(added) @ embedding
    return [{"item_id": i, "similarity": float(s)} for i, s in zip(added, similarity, strict=True)]


def _from_history(ctx: AgentContext, state: AgentState, constraints: Constraints) -> list[dict[str, Any]]:
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


def _no_match(note: list[str], reason: str) -> dict[str, Any]:
    return {"candidates": [], "constraints_note": note, "no_match_reason": reason}
