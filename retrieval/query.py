"""Hard constraints on a search (years, genres, exclusions) and their translation into Chroma filters.

The same constraints are checked twice: by Chroma through `where_filter` while searching, and in plain
Python through `Constraints.admits`, so the agent can verify every item it is about to show.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from convrec.core.catalogue import Item

from .documents import genre_key


@dataclass(frozen=True)
class Hit:
    """One search result: the item and its cosine similarity to the query (higher is closer)."""

    item_id: int
    similarity: float


@dataclass(frozen=True)
class Constraints:
    """What every retrieved item must satisfy; years are inclusive, genres are catalogue genre names."""

    year_min: int | None = None
    year_max: int | None = None
    genres_any: tuple[str, ...] = ()
    genres_none: tuple[str, ...] = ()
    exclude_ids: tuple[int, ...] = ()
    genres_all: tuple[str, ...] = ()  # "a romantic comedy": every one of these genres
    years_excluded: tuple[tuple[int, int], ...] = ()  # inclusive ranges ruled out: "not from the 90s"

    @property
    def has_year(self) -> bool:
        """Whether any year bound or exclusion is set (an item of unknown year then never qualifies)."""
        return self.year_min is not None or self.year_max is not None or bool(self.years_excluded)

    def is_impossible(self, year_range: tuple[int, int], *, genres: Collection[str] | None = None) -> bool:
        """Tell whether no catalogue item can satisfy the constraints, so the agent can say so honestly.

        `year_range` is the catalogue's (earliest, latest) release year, as in `Catalogue.year_range`; pass
        the catalogue's `genres` to also catch wanted genres the catalogue does not have ("anime"). Wanted
        genres are impossible only when every one of them is also unwanted (or unknown).
        """
        if self._no_year_left(year_range):
            return True
        unwanted = {genre_key(g) for g in self.genres_none}
        required = {genre_key(g) for g in self.genres_all}
        if required & unwanted:
            return True
        if genres is not None and required - {genre_key(g) for g in genres}:
            return True
        if not self.genres_any:
            return False
        wanted = {genre_key(g) for g in self.genres_any} - unwanted
        if genres is not None:
            wanted &= {genre_key(g) for g in genres}
        return not wanted

    def _no_year_left(self, year_range: tuple[int, int]) -> bool:
        """Whether the bounds and exclusions leave no year of the catalogue's range open."""
        low = max(self.year_min if self.year_min is not None else year_range[0], year_range[0])
        high = min(self.year_max if self.year_max is not None else year_range[1], year_range[1])
        for excluded_low, excluded_high in sorted(self.years_excluded):
            if excluded_low <= low <= excluded_high:
                low = excluded_high + 1
        return low > high

    def admits(self, item: Item) -> bool:
        """Check one item against the constraints in plain Python (the same rules as `where_filter`)."""
        if item.item_id in self.exclude_ids:
            return False
        if self.has_year:
            if not item.year:
                return False
            if self.year_min is not None and item.year < self.year_min:
                return False
            if self.year_max is not None and item.year > self.year_max:
                return False
            if any(low <= item.year <= high for low, high in self.years_excluded):
                return False
        own = {genre_key(g) for g in item.genres}
        if self.genres_any and not own & {genre_key(g) for g in self.genres_any}:
            return False
        if not {genre_key(g) for g in self.genres_all} <= own:
            return False
        return not own & {genre_key(g) for g in self.genres_none}


def where_filter(constraints: Constraints) -> dict[str, Any] | None:
    """Translate constraints into a Chroma `where` filter, or None when nothing is constrained.

    Chroma rejects `$and`/`$or` holding a single clause, so one clause is returned bare.
    """
    clauses = _year_clauses(constraints) + _genre_clauses(constraints)
    if constraints.exclude_ids:
        clauses.append({"item_id": {"$nin": sorted({int(i) for i in constraints.exclude_ids})}})
    return _combine("$and", clauses)


def _year_clauses(constraints: Constraints) -> list[dict[str, Any]]:
    """Bound the year and rule out excluded ranges.

    The lower bound is at least 1 so unknown years (stored as 0) never pass.
    """
    if not constraints.has_year:
        return []
    lower = max(constraints.year_min if constraints.year_min is not None else 1, 1)
    clauses: list[dict[str, Any]] = [{"year": {"$gte": lower}}]
    if constraints.year_max is not None:
        clauses.append({"year": {"$lte": constraints.year_max}})
    for low, high in dict.fromkeys(constraints.years_excluded):
        clauses.append({"$or": [{"year": {"$lt": low}}, {"year": {"$gt": high}}]})
    return clauses


def _genre_clauses(constraints: Constraints) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = []
    wanted = list(dict.fromkeys(genre_key(g) for g in constraints.genres_any))
    anyof = _combine("$or", [{key: True} for key in wanted])
    if anyof is not None:
        clauses.append(anyof)
    for key in dict.fromkeys(genre_key(g) for g in constraints.genres_all):
        clauses.append({key: True})
    for key in dict.fromkeys(genre_key(g) for g in constraints.genres_none):
        clauses.append({key: False})
    return clauses


def _combine(operator: str, clauses: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not clauses:
        return None
    if len(clauses) == 1:
        return clauses[0]
    return {operator: clauses}
