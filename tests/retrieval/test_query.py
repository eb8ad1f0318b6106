"""Constraints translate into valid Chroma filters, and the Python check agrees with the filter."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest

from convrec.core.catalogue import Catalogue, Item
from convrec.retrieval.documents import build_documents
from convrec.retrieval.query import Constraints, where_filter

YEARS = (1942, 1997)  # the tiny fixture's year range


@pytest.mark.parametrize(
    ("constraints", "expected"),
    [
        (Constraints(), None),
        (Constraints(year_min=1990), {"year": {"$gte": 1990}}),
        (Constraints(year_max=1989), {"$and": [{"year": {"$gte": 1}}, {"year": {"$lte": 1989}}]}),
        (Constraints(year_min=1990, year_max=1999),
         {"$and": [{"year": {"$gte": 1990}}, {"year": {"$lte": 1999}}]}),
        (Constraints(genres_any=("Sci-Fi",)), {"g_sci_fi": True}),
        (Constraints(genres_any=("Sci-Fi", "Horror")), {"$or": [{"g_sci_fi": True}, {"g_horror": True}]}),
        (Constraints(genres_none=("Children's",)), {"g_childrens": False}),
        (Constraints(genres_none=("Horror", "War")), {"$and": [{"g_horror": False}, {"g_war": False}]}),
        (Constraints(exclude_ids=(3, 1, 3)), {"item_id": {"$nin": [1, 3]}}),
        (Constraints(year_min=1990, year_max=1999, genres_any=("Sci-Fi", "Horror"), genres_none=("Comedy",),
                     exclude_ids=(5,)),
         {"$and": [{"year": {"$gte": 1990}}, {"year": {"$lte": 1999}},
                   {"$or": [{"g_sci_fi": True}, {"g_horror": True}]}, {"g_comedy": False},
                   {"item_id": {"$nin": [5]}}]}),
        (Constraints(years_excluded=((1990, 1999),)),  # "not from the 90s": unknown years still fail
         {"$and": [{"year": {"$gte": 1}}, {"$or": [{"year": {"$lt": 1990}}, {"year": {"$gt": 1999}}]}]}),
        (Constraints(year_min=1970, years_excluded=((1980, 1989), (1995, 1995), (1980, 1989))),
         {"$and": [{"year": {"$gte": 1970}}, {"$or": [{"year": {"$lt": 1980}}, {"year": {"$gt": 1989}}]},
                   {"$or": [{"year": {"$lt": 1995}}, {"year": {"$gt": 1995}}]}]}),
    ],
)
def test_where_filter(constraints: Constraints, expected: dict[str, Any] | None) -> None:
    assert where_filter(constraints) == expected


def test_no_single_element_and_or() -> None:
    for constraints in all_constraint_combinations():
        assert_no_single_element_combinator(where_filter(constraints))


def test_admits(tiny_catalogue: Catalogue) -> None:
    star_wars, heat = tiny_catalogue.items[1], tiny_catalogue.items[7]
    assert Constraints().admits(star_wars)
    assert Constraints(year_max=1980).admits(star_wars) and not Constraints(year_min=1978).admits(star_wars)
    assert Constraints(genres_any=("Horror", "Sci-Fi")).admits(star_wars)
    assert not Constraints(genres_any=("Horror",)).admits(star_wars)
    assert not Constraints(genres_none=("Action",)).admits(heat)
    assert Constraints(genres_none=("Anime",)).admits(heat)
    assert not Constraints(exclude_ids=(7,)).admits(heat)


def test_admits_excluded_years(tiny_catalogue: Catalogue) -> None:
    star_wars, heat = tiny_catalogue.items[1], tiny_catalogue.items[7]  # 1977, 1995
    seventies = Constraints(years_excluded=((1970, 1979),))
    assert not seventies.admits(star_wars) and seventies.admits(heat)
    assert not Constraints(years_excluded=((1977, 1977),)).admits(star_wars)  # bounds are inclusive
    assert Constraints(years_excluded=((1978, 1994),)).admits(star_wars)
    assert not Constraints(year_min=1970, years_excluded=((1990, 1999),)).admits(heat)


def test_unknown_year_fails_every_year_constraint() -> None:
    unknown = Item(99, "Mystery Film", None, ("Drama",))
    assert Constraints(genres_any=("Drama",)).admits(unknown)
    assert not Constraints(year_min=1900).admits(unknown)
    assert not Constraints(year_max=2100).admits(unknown)
    assert not Constraints(years_excluded=((1990, 1999),)).admits(unknown)


@pytest.mark.parametrize(
    ("constraints", "impossible"),
    [
        (Constraints(year_min=2031), True),  # "released after 2030"
        (Constraints(year_min=1999, year_max=1990), True),
        (Constraints(year_max=1900), True),
        (Constraints(year_min=1997), False),
        (Constraints(year_max=1942), False),
        (Constraints(genres_any=("Horror",), genres_none=("Horror",)), True),
        (Constraints(genres_any=("Horror", "Comedy"), genres_none=("Horror",)), False),
        (Constraints(genres_none=("Horror",)), False),
        (Constraints(), False),
        (Constraints(years_excluded=((1900, 1969), (1970, 2000))), True),  # every catalogue year ruled out
        (Constraints(years_excluded=((1970, 2000), (1900, 1969))), True),  # in any order
        (Constraints(years_excluded=((1900, 1969), (1971, 2000))), False),  # 1970 is left
        (Constraints(year_min=1990, years_excluded=((1990, 1999),)), True),  # "after 1989 but not the 90s"
        (Constraints(year_max=1950, years_excluded=((1940, 1949),)), False),  # 1950 is left
        (Constraints(year_max=1950, years_excluded=((1940, 1950),)), True),
        (Constraints(years_excluded=((1990, 1999),)), False),
    ],
)
def test_is_impossible(constraints: Constraints, impossible: bool) -> None:
    assert constraints.is_impossible(YEARS) is impossible


def test_is_impossible_with_genres_the_catalogue_lacks(tiny_catalogue: Catalogue) -> None:
    genres = tiny_catalogue.genres
    assert Constraints(genres_any=("Anime",)).is_impossible(YEARS, genres=genres)
    assert not Constraints(genres_any=("Anime", "Sci-Fi")).is_impossible(YEARS, genres=genres)
    assert not Constraints(genres_any=("sci-fi",)).is_impossible(YEARS, genres=genres)
    assert not Constraints(genres_any=("Anime",)).is_impossible(YEARS)  # cannot tell without the genres


def test_filter_and_admits_agree_on_every_fixture_item(tiny_catalogue: Catalogue) -> None:
    items = dict(tiny_catalogue.items)
    items[5] = dataclasses.replace(items[5], year=None)  # one unknown year, stored as 0
    catalogue = dataclasses.replace(tiny_catalogue, items=items)
    documents = build_documents(catalogue, state_kg_facts=False)
    for constraints in all_constraint_combinations():
        where = where_filter(constraints)
        for doc in documents:
            assert matches(where, doc.metadata) == constraints.admits(items[doc.item_id]), (constraints, doc)


def all_constraint_combinations() -> list[Constraints]:
    years = [(None, None), (1990, None), (None, 1985), (1977, 1995), (1996, 1990)]
    anys: list[tuple[str, ...]] = [(), ("Sci-Fi",), ("Comedy", "Horror")]
    nones: list[tuple[str, ...]] = [(), ("Thriller",), ("Drama", "Romance")]
    excludes: list[tuple[int, ...]] = [(), (1,), (2, 5, 11)]
    out_years: list[tuple[tuple[int, int], ...]] = [(), ((1990, 1999),), ((1977, 1977), (1993, 1995))]
    return [Constraints(lo, hi, a, n, e, years_excluded=x)
            for (lo, hi), a, n, e, x in itertools.product(years, anys, nones, excludes, out_years)]


def matches(where: dict[str, Any] | None, metadata: dict[str, Any]) -> bool:
    """Evaluate a Chroma `where` filter the way Chroma does, for the operators `where_filter` emits."""
    if where is None:
        return True
    (key, value), = where.items()
    if key == "$and":
        return all(matches(clause, metadata) for clause in value)
    if key == "$or":
        return any(matches(clause, metadata) for clause in value)
    if key not in metadata:
        return False
    if not isinstance(value, dict):
        return metadata[key] == value
    (operator, operand), = value.items()
    actual = metadata[key]
    return {"$gte": lambda: actual >= operand, "$lte": lambda: actual <= operand, "$lt": lambda: actual < operand,
            "$gt": lambda: actual > operand, "$nin": lambda: actual not in operand}[operator]()


def assert_no_single_element_combinator(where: dict[str, Any] | None) -> None:
    if where is None:
        return
    for key, value in where.items():
        if key in {"$and", "$or"}:
            assert len(value) >= 2, where
            for clause in value:
                assert_no_single_element_combinator(clause)


def test_genres_all_requires_every_genre(tiny_catalogue) -> None:  # noqa: ANN001
    both = Constraints(genres_all=("Comedy", "Romance"))
    assert where_filter(both) == {"$and": [{"g_comedy": True}, {"g_romance": True}]}
    admitted = {i for i, item in tiny_catalogue.items.items() if both.admits(item)}
    assert admitted == {11, 12, 14}  # Clueless, Groundhog Day, Annie Hall
    assert Constraints(genres_all=("Horror",), genres_none=("Horror",)).is_impossible((1900, 2000))
    assert Constraints(genres_all=("Anime", "Drama")).is_impossible((1900, 2000), genres=tiny_catalogue.genres)
