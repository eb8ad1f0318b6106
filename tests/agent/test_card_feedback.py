"""Feedback on one card changes that card only: the judged slot is swapped (or kept, for a like), the rest stay."""

from convrec.agent.card_feedback import feedback_facts, judged_card, kept_cards, picks_after_feedback

CARDS = [{"item_id": i, "title": f"Film {i}", "year": 1990 + i, "genres": ["Drama"], "reasons": [f"R{i}."]}
         for i in (11, 12, 13)]


def state(kind: str, item_id: int) -> dict:
    return {"feedback": {"item_id": item_id, "kind": kind}, "last_recommendations": CARDS}


def test_judged_card_names_the_slot_only_for_a_card_on_screen() -> None:
    assert judged_card(state("dislike", 12)) == (1, "dislike")
    assert judged_card(state("dislike", 99)) is None  # a film no longer on screen: an ordinary feedback turn
    assert judged_card({"last_recommendations": CARDS}) is None


def test_not_for_me_swaps_that_card_in_place_with_the_best_fresh_pick() -> None:
    assert picks_after_feedback(state("dislike", 12), [13, 40, 41]) == [11, 40, 13]  # 13 is on screen already
    assert picks_after_feedback(state("seen", 11), [50]) == [50, 12, 13]
    assert picks_after_feedback(state("seen", 13), []) == [11, 12]  # nothing else fits: the card goes, none added
    assert picks_after_feedback({"last_recommendations": CARDS}, [1, 2]) is None


def test_a_like_keeps_every_card_and_marks_the_liked_one() -> None:
    assert picks_after_feedback(state("like", 12), [40, 41]) == [11, 12, 13]
    kept = kept_cards(state("like", 12))
    assert sorted(kept) == [11, 12, 13] and kept[12]["feedback"] == "like" and "feedback" not in kept[11]
    assert kept[11]["reasons"] == ["R11."]  # the others keep their reasons word for word


def test_the_judged_card_is_not_kept_and_the_reply_says_what_changed() -> None:
    assert sorted(kept_cards(state("dislike", 12))) == [11, 13]
    labels = {11: "Film 11 (2001)", 12: "Film 12 (2002)", 13: "Film 13 (2003)", 40: "New (1995)"}
    said = feedback_facts(state("dislike", 12), labels, [11, 40, 13])
    assert said == ["Got it: Film 12 (2002) is not for you, so it's off the list for good. In its place at #2: "
                    "New (1995). The other picks stay."]
    assert "you've seen Film 11 (2001)" in feedback_facts(state("seen", 11), labels, [40, 12, 13])[0]
    assert feedback_facts(state("like", 13), labels, [11, 12, 13])[0].startswith("Noted: you like Film 13 (2003).")
