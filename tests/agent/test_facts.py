"""Facts on the tiny fixture: a reason is kept only when it tells something about this film.

Tiny fixture numbers: 21 films, 6 of them Drama (0.29) and 6 Sci-Fi (0.29), 1 Film-Noir (0.05); Heat has 2
ratings (both 4), Star Wars 10 (all 4), six of its raters aged 18-24 (twice that band's share of all ratings,
and chance at p = 0.047), Fargo 10, five aged 25-34 (exactly that band's share).
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

from convrec.agent.facts import MOOD_GENRE_MAX_SHARE, audience_text, catalogue_facts, mood_facts, pick_facts
from convrec.core.catalogue import Audience

SMART = ["Drama", "Mystery", "Sci-Fi", "Film-Noir", "Documentary"]  # what the lexicon boosts for "smart"


def smart_state(**prefs: object) -> dict:
    return {"prefs": {"moods": ["smart"], "mood_genres_boost": SMART, **prefs}}


def test_mood_fact_is_dropped_for_a_genre_many_films_carry(tiny_context) -> None:  # noqa: ANN001
    catalogue = tiny_context.catalogue
    contact = catalogue.items[6]  # Drama, Sci-Fi
    assert catalogue.genre_share(["Drama"]) >= MOOD_GENRE_MAX_SHARE
    # "a smart sci-fi film": Sci-Fi is said by the genre fact, Drama alone is true of 29% of films.
    assert mood_facts(contact, smart_state(genres_wanted=["Sci-Fi"]), catalogue) == []
    facts = pick_facts(tiny_context, 6, smart_state(genres_wanted=["Sci-Fi"]))
    assert "req:mood" not in {f.fact_id for f in facts}
    assert any(f.fact_id == "req:genre" for f in facts)


def test_mood_fact_is_kept_for_a_distinctive_genre_or_combination(tiny_context) -> None:  # noqa: ANN001
    catalogue = tiny_context.catalogue
    blade_runner, contact = catalogue.items[3], catalogue.items[6]  # Film-Noir Sci-Fi; Drama Sci-Fi
    [noir] = mood_facts(blade_runner, smart_state(genres_wanted=["Sci-Fi"]), catalogue)
    assert noir.fact_id == "req:mood" and noir.text == "A Film-Noir film, which suits the smart mood you described."
    # Drama and Sci-Fi together: 2 of 21 films (0.095), below the 0.2 threshold.
    [both] = mood_facts(contact, smart_state(), catalogue)
    assert both.text == "A Drama and Sci-Fi film, which suits the smart mood you described."
    # A negated mood or one the film shares no genre with says nothing.
    assert mood_facts(blade_runner, {"prefs": {"moods": ["not smart"], "mood_genres_boost": SMART}}, catalogue) == []
    assert mood_facts(catalogue.items[15], smart_state(), catalogue) == []  # The Birdcage: Comedy only


def test_audience_fact_names_no_age_band_at_the_catalogue_share(tiny_context) -> None:  # noqa: ANN001
    fargo = tiny_context.catalogue.audiences[8]
    assert fargo.age_band_lift == 1.0 and not fargo.top_occupations
    assert audience_text(fargo) == ""
    assert "cat:audience" not in {f.fact_id for f in catalogue_facts(tiny_context, 8)}
    # Star Wars draws twice its band's share, from 10 raters (chance: p = 0.047); from 100 it would be named.
    star_wars = tiny_context.catalogue.audiences[1]
    assert audience_text(star_wars) == ""
    assert audience_text(dataclasses.replace(star_wars, n_ratings=100)) == (
        "Watched most by viewers aged 18-24: 60% of its ratings, against 30% of all MovieLens ratings.")


def test_audience_fact_keeps_only_the_occupations_when_the_band_is_average() -> None:
    average = Audience(400, 3.5, "25-34", ("salesman", "retired"), 0.3, top_age_band_share=0.36,
                       age_band_base_share=0.354, top_occupation_lifts=(1.8, 1.6))
    context = SimpleNamespace(catalogue=SimpleNamespace(audiences={42: average}))
    facts = catalogue_facts(context, 42)  # type: ignore[arg-type]
    assert [f.text for f in facts] == ["Rated 3.5/5 by 400 MovieLens users.",
                                       "Salespeople and retired people rate it more often than average."]
    barely = Audience(400, 3.5, "25-34", ("writer",), 0.3, top_age_band_share=0.36, age_band_base_share=0.354,
                      top_occupation_lifts=(1.1,))
    context.catalogue.audiences[42] = barely
    assert [f.fact_id for f in catalogue_facts(context, 42)] == ["cat:rating"]  # type: ignore[arg-type]


def test_rating_fact_needs_the_minimum_evidence_on_cards_only(tiny_context) -> None:  # noqa: ANN001
    floor = tiny_context.settings.min_ratings_to_recommend
    assert floor == 10 and tiny_context.catalogue.audiences[7].n_ratings == 2  # Heat
    # An item question states the true mean and count, whatever they are.
    assert "Rated 4.0/5 by 2 MovieLens users." in [f.text for f in catalogue_facts(tiny_context, 7)]
    # A card does not offer two ratings as a reason; Star Wars' ten are enough.
    assert "cat:rating" not in {f.fact_id for f in pick_facts(tiny_context, 7, {"prefs": {}})}
    assert "Rated 4.0/5 by 10 MovieLens users." in [f.text for f in pick_facts(tiny_context, 1, {"prefs": {}})]


def test_avoid_fact_names_the_genres_of_the_mood_it_cites(tiny_context) -> None:  # noqa: ANN001
    # "smart, nothing violent": the penalty holds smart's Children's too, which has nothing to do with violence.
    state = {"prefs": {"moods": ["smart", "not violent"], "mood_genres_boost": SMART,
                       "mood_genres_penalty": ["Action", "Children's", "Crime", "Horror", "Thriller", "War"]}}
    facts = {f.fact_id: f.text for f in pick_facts(tiny_context, 6, state)}
    assert facts["req:avoid"] == "Not tagged Action, Crime, Horror: in line with 'not violent'."
