"""Item documents state the catalogue's facts, and only those; metadata carries every filterable field."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from convrec.core.catalogue import Catalogue, Item
from convrec.core.knowledge import KnowledgeGraph, Link
from convrec.retrieval import documents as documents_module
from convrec.retrieval.documents import (
    GENRE_GLOSSES,
    MAX_KG_FACTS,
    build_documents,
    genre_key,
    kg_facts_trustworthy,
)


def by_id(catalogue: Catalogue, **kwargs: object) -> dict[int, documents_module.ItemDocument]:
    return {d.item_id: d for d in build_documents(catalogue, **kwargs)}  # type: ignore[arg-type]


def with_sequels(catalogue: Catalogue, titles: dict[int, str], pairs: list[tuple[int, int]]) -> Catalogue:
    """Copy the catalogue with hand-made titles and a graph holding only the given sequel links."""
    items = {i: Item(i, title, 1990, ("Drama",)) for i, title in titles.items()}
    film_links: dict[int, tuple[Link, ...]] = {}
    for first, second in pairs:
        film_links[first] = (*film_links.get(first, ()), Link("sequel", second))
    return dataclasses.replace(catalogue, items=items, knowledge=KnowledgeGraph({}, {}, film_links))


def test_one_document_per_item_in_id_order(tiny_catalogue: Catalogue) -> None:
    docs = build_documents(tiny_catalogue, state_kg_facts=False)
    assert [d.item_id for d in docs] == sorted(tiny_catalogue.items)
    assert 21 not in {d.item_id for d in docs}  # the `unkonwn` row never becomes a document


def test_text_states_title_year_genres_and_ratings(tiny_catalogue: Catalogue) -> None:
    text = by_id(tiny_catalogue, state_kg_facts=False)[1].text
    audience = tiny_catalogue.audiences[1]
    assert text.startswith("Star Wars, released in 1977.")
    for genre in ("Action", "Adventure", "Sci-Fi"):
        assert GENRE_GLOSSES[genre] in text
    assert f"Rated {audience.mean_rating:.1f} out of 5 on average from {audience.n_ratings} ratings" in text
    assert f"most raters are aged {audience.top_age_band}" in text


def test_text_names_aliases_and_unrated_items(tiny_catalogue: Catalogue) -> None:
    docs = by_id(tiny_catalogue, state_kg_facts=False)
    assert "Seven (also known as Se7en), released in 1995." in docs[18].text
    assert 19 not in tiny_catalogue.audiences
    assert "No one has rated it yet." in docs[19].text
    assert "Rated" not in docs[19].text


def test_year_from_the_title_when_the_year_column_is_bad(tiny_catalogue: Catalogue) -> None:
    doc = by_id(tiny_catalogue, state_kg_facts=False)[22]  # year column "V", title ends "(1995)"
    assert "released in 1995" in doc.text
    assert doc.metadata["year"] == 1995


def test_unknown_year_is_said_and_stored_as_zero(tiny_catalogue: Catalogue) -> None:
    items = dict(tiny_catalogue.items)
    items[5] = dataclasses.replace(items[5], year=None)
    doc = by_id(dataclasses.replace(tiny_catalogue, items=items), state_kg_facts=False)[5]
    assert "release year unknown" in doc.text
    assert doc.metadata["year"] == 0


def test_text_names_films_rated_by_the_same_people(tiny_catalogue: Catalogue) -> None:
    docs = by_id(tiny_catalogue, state_kg_facts=False)
    assert ("Often rated by the same people as Alien, Blade Runner, The Terminator, Twelve Monkeys, Contact, Fargo and "
            "The Usual Suspects."
            in docs[1].text)
    assert "rated by the same people" not in docs[7].text  # Heat: too few raters to say who else they watch


def test_kg_sentence_only_when_trusted(tiny_catalogue: Catalogue) -> None:
    assert "shares" not in by_id(tiny_catalogue, state_kg_facts=False)[7].text
    trusted = by_id(tiny_catalogue, state_kg_facts=True)[7].text
    assert "It shares a director with Seven and shares 2 cast members with Seven." in trusted


def test_kg_sentence_states_at_most_three_links(tiny_catalogue: Catalogue) -> None:
    titles = {i: f"Film {chr(64 + i)}" for i in range(1, 7)}
    catalogue = with_sequels(tiny_catalogue, titles, [(1, j) for j in range(2, 7)])
    text = by_id(catalogue, state_kg_facts=True)[1].text
    assert text.count("has a sequel in the catalogue") == MAX_KG_FACTS


def test_profile_is_appended_with_whitespace_collapsed(tiny_catalogue: Catalogue) -> None:
    plain = by_id(tiny_catalogue, state_kg_facts=False)
    profiled = by_id(tiny_catalogue, state_kg_facts=False, item_profiles={1: "A space  saga\nfor everyone."})
    assert profiled[1].text == plain[1].text + " Profile: A space saga for everyone."
    assert profiled[2].text == plain[2].text
    assert profiled[1].metadata == plain[1].metadata


def test_metadata_fields_and_genre_flags(tiny_catalogue: Catalogue) -> None:
    docs = by_id(tiny_catalogue, state_kg_facts=False)
    star_wars = docs[1].metadata
    assert star_wars["item_id"] == 1 and star_wars["year"] == 1977
    assert star_wars["popularity"] == 10 and star_wars["mean_rating"] == pytest.approx(4.0)
    assert star_wars["g_sci_fi"] is True and star_wars["g_action"] is True and star_wars["g_comedy"] is False
    assert docs[19].metadata["popularity"] == 0 and docs[19].metadata["mean_rating"] == 0.0
    keys = {genre_key(g) for g in tiny_catalogue.genres}
    for doc in docs.values():
        assert keys <= doc.metadata.keys()
        flagged = {k for k in keys if doc.metadata[k] is True}
        assert flagged == {genre_key(g) for g in tiny_catalogue.items[doc.item_id].genres}


@pytest.mark.parametrize(
    ("genre", "key"),
    [("Sci-Fi", "g_sci_fi"), ("Children's", "g_childrens"), ("Film-Noir", "g_film_noir"),
     ("Action", "g_action"), ("sci-fi", "g_sci_fi"), ("  War ", "g_war")],
)
def test_genre_key(genre: str, key: str) -> None:
    assert genre_key(genre) == key


def test_fixture_graph_is_not_trusted_and_warns_once(tiny_catalogue: Catalogue,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    catalogue = dataclasses.replace(tiny_catalogue)  # a fresh object, so the warning has not been given yet
    with caplog.at_level(logging.WARNING, logger=documents_module.__name__):
        assert kg_facts_trustworthy(catalogue) is False
        assert kg_facts_trustworthy(catalogue) is False
    assert len([r for r in caplog.records if "Knowledge-graph links left out" in r.message]) == 1


def test_hand_made_graph_with_matching_sequel_titles_is_trusted(tiny_catalogue: Catalogue) -> None:
    titles = {1: "Alien", 2: "Alien Resurrection", 3: "Star Wars", 4: "Star Wars Return", 5: "Rocky",
              6: "Rocky Balboa", 7: "Jaws", 8: "Jaws Revenge", 9: "Heat", 10: "Cold"}
    good = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10)]  # 4 of 5 share a word
    assert kg_facts_trustworthy(with_sequels(tiny_catalogue, titles, good)) is True


def test_hand_made_graph_with_scrambled_or_too_few_links_is_not_trusted(tiny_catalogue: Catalogue) -> None:
    titles = {1: "Alien", 2: "Alien Resurrection", 3: "Star Wars", 4: "Star Wars Return", 5: "Rocky",
              6: "Rocky Balboa", 7: "Jaws", 8: "Jaws Revenge", 9: "Heat", 10: "Cold"}
    scrambled = [(1, 4), (3, 6), (5, 8), (7, 10), (9, 2)]
    assert kg_facts_trustworthy(with_sequels(tiny_catalogue, titles, scrambled)) is False
    too_few = [(1, 2), (3, 4), (5, 6), (7, 8)]
    assert kg_facts_trustworthy(with_sequels(tiny_catalogue, titles, too_few)) is False
