"""Offline slot filling over the tiny fixture: genres, negations, eras, moods, titles, pick references."""

import pytest

from convrec.agent.offline.slots import extract_preferences, title_span_guess
from convrec.core.catalogue import Catalogue


def slots(catalogue: Catalogue, text: str, previous: list[int] | None = None):  # noqa: ANN201
    return extract_preferences(text, catalogue, previous or [])


def test_design_example(tiny_catalogue: Catalogue) -> None:
    update = slots(tiny_catalogue, "a smart 90s sci-fi movie, nothing too violent")
    assert update.genres_wanted == ["Sci-Fi"]
    assert (update.year_min, update.year_max) == (1990, 1999)
    assert "smart" in update.moods and "not violent" in update.moods
    assert "Horror" in update.mood_genres_penalty and "Action" in update.mood_genres_penalty
    assert "Sci-Fi" in update.mood_genres_boost


@pytest.mark.parametrize(
    ("text", "year_min", "year_max"),
    [("after 1995", 1996, None), ("since 1995", 1995, None), ("before 1980", None, 1979),
     ("between 1970 and 1979", 1970, 1979), ("from 1990 to 1995", 1990, 1995), ("early 90s", 1990, 1994),
     ("late eighties", 1985, 1989), ("the eighties", 1980, 1989), ("1940s war films", 1940, 1949),
     ("released after 2030", 2031, None), ("a 1995 movie", 1995, 1995), ("70's", 1970, 1979)],
)
def test_years(tiny_catalogue: Catalogue, text: str, year_min: int | None, year_max: int | None) -> None:
    update = slots(tiny_catalogue, text)
    assert (update.year_min, update.year_max) == (year_min, year_max)


def test_negated_genres_are_unwanted(tiny_catalogue: Catalogue) -> None:
    update = slots(tiny_catalogue, "a comedy, no horror and without romance")
    assert update.genres_wanted == ["Comedy"]
    assert set(update.genres_unwanted) == {"Horror", "Romance"}
    assert slots(tiny_catalogue, "nothing but horror please").genres_wanted == ["Horror"]


def test_title_words_are_not_genres(tiny_catalogue: Catalogue) -> None:
    update = slots(tiny_catalogue, "something like Star Wars")
    assert update.genres_wanted == [] and update.keywords == []


def test_a_film_with_its_year_is_not_a_year_constraint(tiny_catalogue: Catalogue) -> None:
    for text in ("I loved Heat (1995), something similar?", "we loved The Secret Life of Pets (2016)",
                 "something along the lines of Fargo (1996) except, I don't want anything animated"):
        update = slots(tiny_catalogue, text)
        assert (update.year_min, update.year_max, update.years_excluded) == (None, None, []), text
    assert slots(tiny_catalogue, "something along the lines of Fargo (1996) except, I don't want anything "
                                 "animated").genres_unwanted == ["Animation"]


def test_pick_references(tiny_catalogue: Catalogue) -> None:
    previous = [1, 2, 3]
    assert slots(tiny_catalogue, "why #2?", previous).asked_rank == 2
    assert slots(tiny_catalogue, "I've seen the second one", previous).seen_ranks == [2]
    assert slots(tiny_catalogue, "seen them all", previous).seen_ranks == [1, 2, 3]
    assert slots(tiny_catalogue, "more like the first one", previous).liked_ranks == [1]
    assert slots(tiny_catalogue, "#3 is not for me", previous).rejected_ranks == [3]
    assert slots(tiny_catalogue, "why #2?", []).asked_rank is None  # nothing to refer to yet


def test_moods_and_keywords(tiny_catalogue: Catalogue) -> None:
    lighter = slots(tiny_catalogue, "something lighter")
    assert lighter.moods == ["light"] and "Comedy" in lighter.mood_genres_boost
    assert "Horror" in lighter.mood_genres_penalty
    assert slots(tiny_catalogue, "a movie about space and robots").keywords == ["space", "robots"]
    assert slots(tiny_catalogue, "surprise me").wants_surprise
    assert slots(tiny_catalogue, "I want a movie").is_empty()


def test_unknown_title_guess() -> None:
    assert title_span_guess("tell me about Blade Runner 2049") == "Blade Runner 2049"
    assert title_span_guess("what do you know about 'The Room'?") == "The Room"
    assert title_span_guess("hello") is None


def test_additive_genres(tiny_catalogue: Catalogue) -> None:
    assert slots(tiny_catalogue, "I'd like it to be a comedy as well").genres_additive
    assert not slots(tiny_catalogue, "a comedy please").genres_additive
    assert slots(tiny_catalogue, "comedy or drama").genres_match == "any"
    assert slots(tiny_catalogue, "an animated horror film").genres_match == "all"
