"""Each node on the tiny fixture, called the way the graph calls it (state in, update out)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from convrec.agent.nodes.answer_item_question import answer_item_question
from convrec.agent.nodes.classify_intent import classify_intent
from convrec.agent.nodes.explain import explain
from convrec.agent.nodes.explain_pick import explain_pick
from convrec.agent.nodes.guard_input import clean_message, guard_input
from convrec.agent.nodes.rank import rank
from convrec.agent.nodes.rerank import rerank
from convrec.agent.nodes.respond import respond
from convrec.agent.nodes.retrieve import retrieve
from convrec.agent.nodes.update_preferences import needs_question, update_preferences
from convrec.agent.schemas import MentionStance, PreferenceUpdate


def run(node, ctx, **state):  # noqa: ANN001, ANN201
    return node(state, SimpleNamespace(context=ctx))


def test_guard_input(tiny_context) -> None:  # noqa: ANN001
    assert run(guard_input, tiny_context, message="  ")["intent"] == "invalid"
    long = run(guard_input, tiny_context, message="x" * (tiny_context.settings.max_message_chars + 1))
    assert long["intent"] == "invalid" and "limit" in long["reply"]
    assert run(guard_input, tiny_context, message="$$$ %%% ###")["intent"] == "invalid"
    assert run(guard_input, tiny_context, message="a comedy\x00\x1b[31m please") == {"message": "a comedy [31m please"}
    assert run(guard_input, tiny_context, message="#2") == {"message": "#2"}
    capped = run(guard_input, tiny_context, message="hi", turns=tiny_context.settings.max_turns)
    assert capped["intent"] == "invalid" and "limit" in capped["reply"]
    assert clean_message("a\u200bb\tc") == "a b c"


def test_classify_card_feedback_is_feedback(tiny_context) -> None:  # noqa: ANN001
    out = run(classify_intent, tiny_context, feedback={"item_id": 7, "kind": "dislike"}, message="Not for me: Heat")
    assert out["intent"] == "feedback" and out["understanding"]["disliked_items"] == [7]
    assert out["understanding"]["new_request"] is False


def test_update_preferences_merges_and_resolves_ranks(tiny_context) -> None:  # noqa: ANN001
    cards = [{"item_id": 1, "year": 1977}, {"item_id": 2, "year": 1979}]
    state = {"prefs": {"genres_wanted": ["Sci-Fi"], "genres_unwanted": ["Horror"], "year_min": 1970,
                       "year_max": 1979, "liked_items": [5]},
             "last_recommendations": cards, "rejected": [9],
             "understanding": PreferenceUpdate(genres_unwanted=["War"], seen_ranks=[2], liked_ranks=[1]).model_dump()}
    out = run(update_preferences, tiny_context, **state)
    assert out["prefs"]["genres_wanted"] == ["Sci-Fi"]
    assert out["prefs"]["genres_unwanted"] == ["Horror", "War"]
    assert (out["prefs"]["year_min"], out["prefs"]["year_max"]) == (1970, 1979)
    assert out["prefs"]["liked_items"] == [5, 1]
    assert out["rejected"] == [9, 2]
    older = run(update_preferences, tiny_context, prefs={}, last_recommendations=cards,
                understanding=PreferenceUpdate(moods=["older"]).model_dump())
    assert out and older["prefs"]["year_max"] == 1976


def test_needs_question_only_when_nothing_is_known() -> None:
    assert needs_question({"prefs": {}, "understanding": {}})
    assert not needs_question({"prefs": {}, "user_id": 3, "understanding": {}})
    assert not needs_question({"prefs": {"moods": ["light"]}, "understanding": {}})
    assert not needs_question({"prefs": {}, "questions_asked": 1, "understanding": {}})
    assert not needs_question({"prefs": {}, "understanding": {"wants_surprise": True}})


def test_retrieve_respects_constraints_and_exclusions(tiny_context) -> None:  # noqa: ANN001
    state = {"prefs": {"genres_wanted": ["Sci-Fi"], "year_min": 1980, "year_max": 1999}, "shown": [5],
             "rejected": [6], "message": "sci-fi from the 80s or 90s"}
    out = run(retrieve, tiny_context, **state)
    ids = {c["item_id"] for c in out["candidates"]}
    assert ids == {3, 4}  # Blade Runner, The Terminator; Twelve Monkeys shown, Contact rejected


def test_retrieve_impossible_request(tiny_context) -> None:  # noqa: ANN001
    out = run(retrieve, tiny_context, prefs={"year_min": 2031}, message="after 2030")
    assert out["candidates"] == [] and "1942 to 1997" in out["no_match_reason"]


def test_rank_uses_history_for_known_users_and_popularity_otherwise(tiny_context) -> None:  # noqa: ANN001
    candidates = [{"item_id": i, "similarity": 0.5} for i in (6, 12, 19)]
    known = run(rank, tiny_context, candidates=candidates, user_id=1, prefs={})["scored"]
    assert known[0]["personal_source"] == "tup"  # a known user with stored profiles: LLM-TUP
    by_id = {c["item_id"]: c["personal"] for c in known}
    assert by_id[6] > by_id[12]  # sci-fi user 1: Contact beats Groundhog Day
    assert {c["profile_side"] for c in known} <= {"short_term", "long_term", None}
    liked = run(rank, tiny_context, candidates=candidates, user_id=1, prefs={"liked_items": [11]})["scored"]
    # an in-chat like counts too: liking Clueless lifts Groundhog Day, which every Clueless fan also rated
    assert {c["item_id"]: c["personal"] for c in liked}[12] > by_id[12]
    anonymous = run(rank, tiny_context, candidates=candidates, prefs={})["scored"]
    assert anonymous[0]["personal_source"] == "pop"


def test_rerank_returns_admitted_top_n(tiny_context) -> None:  # noqa: ANN001
    scored = [{"item_id": i, "similarity": s, "personal": 0.0, "popularity": 0.1, "preference": 0.0}
              for i, s in ((1, 0.9), (2, 0.8), (3, 0.7), (4, 0.6), (10, 0.95))]
    out = run(rerank, tiny_context, scored=scored, prefs={"genres_unwanted": ["Horror"]}, top_n=3, message="x")
    assert len(out["picks"]) == 3
    assert 2 not in out["picks"] and 10 not in out["picks"]  # Alien and Scream are Horror


def test_explain_reasons_come_from_facts(tiny_context) -> None:  # noqa: ANN001
    named = [{"item_id": 1, "title": "Star Wars", "year": None, "stance": "liked"}]
    state = {"picks": [5], "prefs": {"genres_wanted": ["Sci-Fi"], "year_min": 1990, "year_max": 1999,
                                     "liked_items": [1], "mentions": named}, "message": "90s sci-fi like Star Wars"}
    out = run(explain, tiny_context, **state)
    reasons = out["recommendations"][0]["reasons"]
    assert reasons[0] == "Sci-Fi from 1995: the genre and years (1990-1999) you asked for."
    assert any("Star Wars, which you mentioned" in r for r in reasons)
    assert "Twelve Monkeys (1995)" in out["reply"]


def test_a_film_liked_by_its_card_is_one_you_liked_not_one_you_mentioned(tiny_context) -> None:  # noqa: ANN001
    state = {"picks": [5], "prefs": {"genres_wanted": ["Sci-Fi"], "liked_items": [1]}, "message": "more like that"}
    reasons = run(explain, tiny_context, **state)["recommendations"][0]["reasons"]
    assert any("Star Wars, which you liked" in r for r in reasons)
    assert not any("which you mentioned" in r for r in reasons)


def test_answer_item_question(tiny_context) -> None:  # noqa: ANN001
    known = run(answer_item_question, tiny_context, understanding=PreferenceUpdate(subject_item=8).model_dump())
    assert known["reply"].startswith("Fargo is a Crime, Drama, Thriller film from 1996.")
    unknown = run(answer_item_question, tiny_context,
                  understanding=PreferenceUpdate(unknown_title="Blade Runner 2049").model_dump())
    assert "not in the catalogue" in unknown["reply"] and "Blade Runner 2049" in unknown["reply"]


@pytest.mark.parametrize(("rank_asked", "expected"), [(2, "#2, Alien (1979): B."), (4, "only 2 picks")])
def test_explain_pick(tiny_context, rank_asked: int, expected: str) -> None:  # noqa: ANN001
    cards = [{"item_id": 1, "title": "Star Wars", "year": 1977, "reasons": ["A."]},
             {"item_id": 2, "title": "Alien", "year": 1979, "reasons": ["B."]}]
    out = run(explain_pick, tiny_context, last_recommendations=cards,
              understanding=PreferenceUpdate(asked_rank=rank_asked).model_dump())
    assert expected in out["reply"]
    none_yet = run(explain_pick, tiny_context, understanding=PreferenceUpdate(asked_rank=1).model_dump())
    assert "haven't recommended anything yet" in none_yet["reply"]


def test_respond_records_shown_items(tiny_context) -> None:  # noqa: ANN001
    cards = [{"item_id": 3, "title": "Blade Runner", "year": 1982, "genres": [], "reasons": []}]
    out = run(respond, tiny_context, reply="Here", recommendations=cards, shown=[1], turns=2, intent="recommend")
    assert out["shown"] == [1, 3] and out["last_recommendations"] == cards and out["turns"] == 3
    assert out["messages"][0]["content"] == "Here"


def test_a_new_request_resets_what_was_asked_and_keeps_what_was_ruled_out(tiny_context) -> None:  # noqa: ANN001
    earlier = {"genres_wanted": ["Sci-Fi"], "genres_match": "all", "moods": ["light"], "year_min": 1990,
               "year_max": 1999, "genres_unwanted": ["Horror"], "years_excluded": [[1970, 1979]], "liked_items": [1]}
    heat = MentionStance(title="Heat", item_id=7, stance="liked")
    ronin = MentionStance(title="Ronin", year=1998, stance="liked")
    new = run(update_preferences, tiny_context, intent="recommend", prefs=earlier,
              understanding=PreferenceUpdate(liked_items=[7], mentions=[heat, ronin]).model_dump())
    prefs = new["prefs"]
    assert prefs["genres_wanted"] == [] and not prefs.get("moods") and prefs.get("year_min") is None
    assert prefs["genres_unwanted"] == ["Horror"] and prefs["years_excluded"] == [[1970, 1979]]
    assert prefs["liked_items"] == [7] and [m["title"] for m in prefs["mentions"]] == ["Heat", "Ronin"]
    assert new["understanding"]["new_request"] is True
    # an era only, or a refining cue, works on the current request
    era = run(update_preferences, tiny_context, intent="recommend", prefs=earlier,
              understanding=PreferenceUpdate(year_min=1980, year_max=1989).model_dump())
    assert era["prefs"]["genres_wanted"] == ["Sci-Fi"] and era["prefs"]["year_min"] == 1980
    kept = run(update_preferences, tiny_context, intent="recommend", prefs=earlier,
               understanding=PreferenceUpdate(genres_wanted=["Comedy"], new_request=False).model_dump())
    assert kept["prefs"]["moods"] == ["light"] and kept["prefs"]["genres_wanted"] == ["Comedy"]


def test_a_reaction_describing_a_film_outside_the_catalogue_is_no_year_wish(tiny_context) -> None:  # noqa: ANN001
    out = run(update_preferences, tiny_context, intent="feedback", prefs={"genres_wanted": ["Comedy"]},
              understanding=PreferenceUpdate(year_min=2018, year_max=2018).model_dump())
    assert out["prefs"].get("year_min") is None and out["prefs"]["genres_wanted"] == ["Comedy"]


def test_retrieve_excludes_years(tiny_context) -> None:  # noqa: ANN001
    out = run(retrieve, tiny_context, prefs={"genres_wanted": ["Sci-Fi"], "years_excluded": [[1990, 1999]]},
              message="sci-fi, not from the 90s")
    years = {tiny_context.catalogue.items[c["item_id"]].year for c in out["candidates"]}
    assert years and all(not 1990 <= y <= 1999 for y in years)


def test_retrieve_starts_afresh_when_the_request_and_this_turn_admit_nothing(tiny_context) -> None:  # noqa: ANN001
    # "an action film" then "also a comedy" (read as both at once): no fixture film is Action and Comedy
    state = {"prefs": {"genres_wanted": ["Action", "Comedy"], "genres_match": "all", "genres_unwanted": ["Romance"]},
             "understanding": {**PreferenceUpdate(genres_wanted=["Comedy"]).model_dump(), "new_request": False},
             "message": "also a comedy"}
    out = run(retrieve, tiny_context, **state)
    assert out["candidates"] and out["prefs"]["genres_wanted"] == ["Comedy"]
    assert out["prefs"]["genres_unwanted"] == ["Romance"] and "Action and Comedy" in out["notes"][0]
    genres = [tiny_context.catalogue.items[c["item_id"]].genres for c in out["candidates"]]
    assert all("Comedy" in g and "Romance" not in g for g in genres)


def test_an_impossible_year_is_answered_once_then_dropped(tiny_context) -> None:  # noqa: ANN001
    out = run(retrieve, tiny_context, prefs={"year_min": 2017, "year_max": 2017, "genres_wanted": ["Comedy"]},
              understanding={}, message="any good 2017 movies?")
    assert out["candidates"] == [] and "1942 to 1997" in out["no_match_reason"]
    assert out["prefs"]["year_min"] is None and out["prefs"]["genres_wanted"] == ["Comedy"]


def test_weights_follow_what_is_known(tiny_context) -> None:  # noqa: ANN001
    from convrec.agent.nodes.rerank import WEIGHTS, weights_for

    named = {"prefs": {"mentions": [{"title": "Superbad", "year": 2007, "item_id": None, "stance": "liked"}]}}
    assert weights_for(named, False) is WEIGHTS["named"]
    assert weights_for({"prefs": {"liked_items": [7]}}, False) is WEIGHTS["liked"]
    assert weights_for({"prefs": {}}, False) is WEIGHTS["anonymous"]
    assert weights_for({"prefs": {}, "user_id": 3}, False) is WEIGHTS["known"]
    assert WEIGHTS["named"]["conversation"] > WEIGHTS["anonymous"]["conversation"]


def test_reasons_say_excluded_years_and_real_conversations(tiny_context) -> None:  # noqa: ANN001
    from dataclasses import replace

    from convrec.training.conversation_prior import ConversationPrior
    from convrec.training.dialogues import Dialogue

    def dialogue(name: str) -> Dialogue:
        return Dialogue(conversation=name, messages=(), movies={"1": "Superbad (2007)", "2": "Clueless (1995)"},
                        seeker_answers={}, recommender_answers={})

    prior = ConversationPrior.fit([dialogue("a"), dialogue("b")], tiny_context.interactions.item_ids,
                                  lambda title, year: 11 if title == "Clueless" else None)
    ctx = replace(tiny_context, conversation=prior)
    mention = {"title": "Superbad", "year": 2007, "item_id": None, "stance": "liked"}
    state = {"picks": [11], "prefs": {"years_excluded": [[1980, 1989]], "mentions": [mention]}, "message": "x"}
    reasons = run(explain, ctx, **state)["recommendations"][0]["reasons"]
    assert "From 1995: not 1980-1989, as you asked." in reasons
    assert "Named beside Superbad (2007), which you mentioned, in 2 real film conversations." in reasons


def test_a_mood_leaves_out_films_with_only_the_genres_it_avoids(tiny_catalogue) -> None:  # noqa: ANN001
    from convrec.agent.nodes.retrieve import suiting_the_mood

    light = {"moods": ["light"], "mood_genres_boost": ["Comedy", "Romance"],
             "mood_genres_penalty": ["Crime", "Thriller", "Horror"]}
    candidates = [{"item_id": i, "similarity": 0.5} for i in (7, 8, 11, 12, 15, 17, 6)]
    kept = [c["item_id"] for c in suiting_the_mood(tiny_catalogue, light, candidates, enough=3)]
    assert kept == [11, 12, 15, 17, 6]  # Heat and Fargo go; Casablanca (Romance, War) and Contact stay
    assert suiting_the_mood(tiny_catalogue, light, candidates, enough=6) == candidates  # too few left: keep all
    only_avoid = {"moods": ["not violent"], "mood_genres_penalty": ["Crime"]}
    assert suiting_the_mood(tiny_catalogue, only_avoid, candidates, enough=1) == candidates  # a "not" stays soft
