"""Feedback given on one card changes that card only.

A click on "Not for me" or "Seen it" replaces the judged card, in its place, with the best film not shown yet; a
"Like" keeps every card where it is and marks the liked one. The other cards stay as they were: a person who
judged one film has said nothing about the rest, so they are neither replaced nor hidden for good.
"""

from __future__ import annotations

from typing import Any

from .state import AgentState

REPLACING_KINDS = frozenset({"dislike", "seen"})


def judged_card(state: AgentState) -> tuple[int, str] | None:
    """The (slot, kind) of this turn's card feedback, when it judges a card of the answer on screen."""
    feedback = state.get("feedback")
    if not feedback:
        return None
    on_screen = [int(c["item_id"]) for c in state.get("last_recommendations", [])]
    item_id = int(feedback["item_id"])
    if item_id not in on_screen:
        return None
    return on_screen.index(item_id), str(feedback["kind"])


def picks_after_feedback(state: AgentState, fresh: list[int]) -> list[int] | None:
    """The picks once the judged card is swapped for the best fresh pick (or kept, for a like); None: not a card."""
    judged = judged_card(state)
    if judged is None:
        return None
    slot, kind = judged
    on_screen = [int(c["item_id"]) for c in state.get("last_recommendations", [])]
    if kind not in REPLACING_KINDS:
        return on_screen
    replacement = next((i for i in fresh if i not in on_screen), None)
    kept = list(on_screen)
    if replacement is None:
        del kept[slot]
    else:
        kept[slot] = replacement
    return kept


def kept_cards(state: AgentState) -> dict[int, dict[str, Any]]:
    """The cards of the answer on screen that this turn keeps as they were, by item id."""
    judged = judged_card(state)
    if judged is None:
        return {}
    slot, kind = judged
    cards = state.get("last_recommendations", [])
    kept = {int(c["item_id"]): dict(c) for n, c in enumerate(cards) if n != slot or kind not in REPLACING_KINDS}
    if kind == "like":
        liked = int(cards[slot]["item_id"])
        kept[liked] = {**kept[liked], "feedback": "like"}
    return kept


def feedback_facts(state: AgentState, titles: dict[int, str], picks: list[int]) -> list[str]:
    """What the reply says happened to the judged card (titles: labels such as "Heat (1995)", by item id)."""
    judged = judged_card(state)
    if judged is None:
        return []
    slot, kind = judged
    gone = int(state.get("last_recommendations", [])[slot]["item_id"])
    name = titles.get(gone, "that film")
    if kind == "like":
        return [f"Noted: you like {name}. I'll lean on it from now on; ask for more when you want new picks."]
    said = f"you've seen {name}" if kind == "seen" else f"{name} is not for you"
    if slot < len(picks) and picks[slot] != gone:
        return [f"Got it: {said}, so it's off the list for good. In its place at #{slot + 1}: "
                f"{titles.get(picks[slot], 'a new pick')}. The other picks stay."]
    return [f"Got it: {said}, so it's off the list for good. Nothing else fits what you asked; the other picks "
            "stay."]
