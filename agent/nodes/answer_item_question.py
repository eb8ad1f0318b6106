"""Node answer_item_question: answer "tell me about Fargo" from the catalogue, or say the title is unknown."""

from __future__ import annotations

from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from ..context import AgentContext
from ..facts import catalogue_facts, kg_facts
from ..schemas import PreferenceUpdate, ReplyKind, ReplyRequest
from ..state import AgentState


def similar_titles(ctx: AgentContext, item_id: int, k: int = 3) -> list[str]:
    """The films most often watched together with this one (item-kNN neighbours)."""
    position = ctx.interactions.item_index(np.array([item_id]))
    scores = ctx.neighbours.score_history(position, None, np.ones(1, dtype=np.float32))
    scores[position] = -np.inf
    best = np.argsort(-scores, kind="stable")[:k]
    return [ctx.catalogue.items[int(ctx.interactions.item_ids[i])].label for i in best if scores[i] > 0]


def item_answer(ctx: AgentContext, item_id: int, user_id: int | None) -> list[str]:
    """Sentences about one item: what it is, how it is rated, who watches it, what is like it."""
    item = ctx.catalogue.items[item_id]
    genres = ", ".join(item.genres) if item.genres else "uncategorised"
    when = f"from {item.year}" if item.year else "of unknown year"
    sentences = [f"{item.title} is a {genres} film {when}."]
    if item.aliases:
        sentences.append(f"Also known as {', '.join(item.aliases)}.")
    sentences += [fact.text for fact in catalogue_facts(ctx, item_id)]
    if user_id is not None:
        history = ctx.catalogue.history(user_id)
        own = history[history["item_id"] == item_id]
        if not own.empty:
            sentences.append(f"You rated it {int(own['rating'].iloc[0])}/5.")
    linked = kg_facts(ctx, item_id, list(ctx.catalogue.items))[:1]
    sentences += [f"It {fact.text}." for fact in linked]
    similar = similar_titles(ctx, item_id)
    if similar:
        sentences.append("People who watched it also watched " + ", ".join(similar) + ".")
    return sentences


def answer_item_question(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Answer from the catalogue; never describe a film the catalogue does not hold."""
    ctx = runtime.context
    update = PreferenceUpdate(**state.get("understanding", {}))
    previous = [int(card["item_id"]) for card in state.get("last_recommendations", [])]
    if update.subject_item is None and update.asked_rank and 1 <= update.asked_rank <= len(previous):
        update.subject_item = previous[update.asked_rank - 1]  # "what is the second one about?"
    kind: ReplyKind
    if update.subject_item is not None:
        facts, kind = item_answer(ctx, update.subject_item, state.get("user_id")), "item_answer"
    elif update.unknown_title:
        first, last = ctx.catalogue.year_range
        facts = [f"I don't know a film called \u201c{update.unknown_title}\u201d: it is not in the catalogue "
                 f"(MovieLens-100K, {len(ctx.catalogue.items):,} films released {first}-{last})."]
        kind = "unknown_item"
    elif previous:
        facts = [f"Which film do you mean? Tell me its title or its number (#1 to #{len(previous)})."]
        kind = "unknown_item"
    else:
        facts, kind = ["Which film do you mean? Tell me its title."], "unknown_item"
    reply = ctx.provider.write_reply(ReplyRequest(kind=kind, message=state.get("message", ""), facts=facts))
    return {"reply": reply}
