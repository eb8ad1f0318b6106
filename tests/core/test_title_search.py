"""Title search on its own, over the tiny fixture: exact keys most rated first, typos, years, mentions in text."""

from __future__ import annotations

import dataclasses

from convrec.core.catalogue import Catalogue, Item
from convrec.core.title_search import TitleMatch, TitleSearch
from convrec.core.titles import search_key


def test_exact_keys_rank_the_most_rated_first(tiny_catalogue: Catalogue) -> None:
    popularity = {1: 3, 2: 7}
    items = {i: tiny_catalogue.items[i] for i in (1, 2)}
    search = TitleSearch({1: items[1], 2: items[2]}, popularity)
    assert search.exact_ids(search_key(items[2].title)) == [2]
    twins = TitleSearch({1: items[1], 2: _renamed(items[2], items[1].title)}, popularity)
    assert twins.exact_ids(search_key(items[1].title)) == [2, 1]  # same name: 7 ratings before 3
    assert twins.exact_ids("no such film") == []


def test_the_catalogue_hands_out_one_search(tiny_catalogue: Catalogue) -> None:
    assert tiny_catalogue.title_search is tiny_catalogue.title_search
    assert tiny_catalogue.title_lexicon is tiny_catalogue.title_search.title_lexicon
    assert tiny_catalogue.find_title("fargoo") == tiny_catalogue.title_search.find_title("fargoo")
    assert tiny_catalogue.find_title("Heat 1995", limit=1) == [TitleMatch(7, 100.0, "Heat 1995")]
    assert [m.item_id for m in tiny_catalogue.title_search.find_in_text("like Heat, but I've seen Fargo")] == [7, 8]


def _renamed(item: Item, title: str) -> Item:
    return dataclasses.replace(item, title=title, aliases=())
