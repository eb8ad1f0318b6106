"""Offline understanding over the tiny fixture: films named and the stance towards each, films the catalogue lacks,
and the act rules that keep a conversation about films going (fixed predictors stand in for the trained models)."""

from __future__ import annotations

import pytest

from convrec.agent.offline.understand import understand
from convrec.agent.schemas import UnderstandRequest
from convrec.core.catalogue import Catalogue


def act(intent: str, confidence: float = 0.9):  # noqa: ANN201 - a predictor
    return lambda texts: [(intent, confidence) for _ in texts]


def stance(label: str):  # noqa: ANN201 - a predictor
    calls: list[tuple[list[str], list[str]]] = []

    def predict(texts: list[str], sources: list[str]) -> list[tuple[str, float]]:
        calls.append((list(texts), list(sources)))
        return [(label, 0.8) for _ in texts]

    predict.calls = calls  # type: ignore[attr-defined]
    return predict


def read(catalogue: Catalogue, text: str, intent: str = "recommend", previous: list[int] | None = None,
         predict_stance=None):  # noqa: ANN001, ANN201
    return understand(UnderstandRequest(message=text, previous_picks=previous or []), catalogue, act(intent),
                      predict_stance)


def test_negative_cue_words_settle_a_films_stance_before_the_model(tiny_catalogue: Catalogue) -> None:
    model = stance("liked")
    result = read(tiny_catalogue, "I have seen Fargo and hated Scream, but loved Heat", predict_stance=model)
    prefs = result.prefs
    assert [(m.item_id, m.stance) for m in prefs.mentions] == [(8, "liked"), (10, "disliked"), (7, "liked")]
    assert prefs.disliked_items == [10] and prefs.liked_items == [8, 7]
    assert len(model.calls[0][0]) == 2  # Scream's stance came from "hated", the model read the other two
    assert read(tiny_catalogue, "Not for me: Heat.").prefs.disliked_items == [7]
    unseen = read(tiny_catalogue, "I haven't seen Fargo yet", predict_stance=stance("liked")).prefs
    assert [(m.item_id, m.stance) for m in unseen.mentions] == [(8, "not_seen")] and unseen.liked_items == []


def test_the_stance_model_reads_a_film_without_a_cue(tiny_catalogue: Catalogue) -> None:
    model = stance("not_seen")
    result = read(tiny_catalogue, "Fargo is on my list for this weekend", predict_stance=model)
    assert [(m.item_id, m.stance) for m in result.prefs.mentions] == [(8, "not_seen")]
    assert result.prefs.liked_items == [] and model.calls == [(["<film> is on my list for this weekend"], ["named"])]


def test_a_film_the_catalogue_lacks_is_kept_as_a_mention(tiny_catalogue: Catalogue) -> None:
    prefs = read(tiny_catalogue, "I have seen Fargo (1996) and liked it but Superbad (2007) sounds like fun",
                 predict_stance=stance("liked")).prefs
    assert [(m.title, m.year, m.item_id) for m in prefs.mentions] == [("Fargo", 1996, 8), ("Superbad", 2007, None)]
    assert (prefs.year_min, prefs.year_max) == (None, None)


def test_a_question_about_a_film_names_its_subject(tiny_catalogue: Catalogue) -> None:
    result = read(tiny_catalogue, "is Fargo any good?", intent="item_question", predict_stance=stance("liked"))
    assert result.intent == "item_question" and result.prefs.subject_item == 8
    assert result.prefs.mentions[0].stance == "asked"
    unknown = read(tiny_catalogue, "Hey, did you like The Shape of Water (2017) ?", intent="item_question")
    assert unknown.intent == "item_question" and unknown.prefs.unknown_title == "The Shape of Water (2017)"


@pytest.mark.parametrize(("text", "predicted", "previous", "expected"), [
    ("YES, he is so good. Great movie as well", "item_question", [1, 2], "feedback"),  # a remark, not a question
    ("whats it about?", "item_question", [1, 2], "item_question"),
    ("All really good.", "goodbye", [1, 2], "feedback"),  # no closing words
    ("i agree...one of the best. do yu have another suggestions", "goodbye", [1, 2], "more"),
    ("thanks, bye!", "goodbye", [1, 2], "goodbye"),
    ("Great!", "chitchat", [1, 2], "feedback"),  # small talk with picks on the table reacts to them
    ("hello again, how are you?", "chitchat", [1, 2], "chitchat"),
    ("Doing well. I like comedy movies", "chitchat", [], "recommend"),  # a wish inside small talk
    ("hi there!", "chitchat", [], "chitchat"),
    ("any others?", "more", [], "recommend"),  # nothing shown yet: it starts the request
])
def test_act_rules(tiny_catalogue: Catalogue, text: str, predicted: str, previous: list[int], expected: str) -> None:
    assert read(tiny_catalogue, text, intent=predicted, previous=previous).intent == expected


def test_a_reaction_without_a_film_applies_to_the_last_picks(tiny_catalogue: Catalogue) -> None:
    seen = read(tiny_catalogue, "lol seen it", intent="feedback", previous=[1, 2, 3], predict_stance=stance("seen"))
    assert seen.prefs.seen_ranks == [1, 2, 3]
    disliked = read(tiny_catalogue, "meh, not my thing", intent="feedback", previous=[1, 2],
                    predict_stance=stance("disliked"))
    assert disliked.prefs.rejected_ranks == [1, 2]
    liked = read(tiny_catalogue, "I loved it!", intent="feedback", previous=[1, 2], predict_stance=stance("liked"))
    assert liked.prefs.rejected_ranks == [] and liked.prefs.seen_ranks == []
