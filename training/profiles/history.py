"""A user's history as a profile writer reads it: films in time order with their date and rating.

Rankers see positions in an `Interactions` matrix; writers need titles, years, genres, ratings and dates.
`histories` joins the two so that a profile is written from exactly the interactions a model was fitted on
(the training part of a split, never the held-out rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from convrec.core.catalogue import Item

from ..interactions import Interactions


@dataclass(frozen=True)
class HistoryEntry:
    """One rated film: what it is, what the person gave it (None when unknown) and when (Unix seconds)."""

    item_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]
    rating: float | None
    timestamp: int | None

    def key(self) -> tuple[object, ...]:
        """The fields a profile depends on (part of the profile cache key)."""
        return (self.item_id, self.title, self.year, list(self.genres), self.rating, self.timestamp)


def ratings_lookup(frame: pd.DataFrame) -> dict[tuple[int, int], tuple[float, int]]:
    """(user_id, item_id) -> (rating, timestamp); the last row wins for a repeated pair."""
    users = frame["user_id"].to_numpy(dtype=np.int64)
    items = frame["item_id"].to_numpy(dtype=np.int64)
    ratings = frame["rating"].to_numpy(dtype=np.float64) if "rating" in frame else np.full(len(frame), np.nan)
    times = frame["timestamp"].to_numpy(dtype=np.int64) if "timestamp" in frame else np.zeros(len(frame), np.int64)
    return {(int(u), int(i)): (float(r), int(t)) for u, i, r, t in zip(users, items, ratings, times, strict=True)}


def history_of(item_ids: np.ndarray, items: Mapping[int, Item], user_id: int | None,
               lookup: Mapping[tuple[int, int], tuple[float, int]]) -> list[HistoryEntry]:
    """Entries for item ids already in time order; ratings and dates from `lookup` when the pair is there."""
    entries = []
    for item_id in (int(i) for i in item_ids):
        item = items[item_id]
        rating, timestamp = lookup.get((user_id, item_id), (None, None)) if user_id is not None else (None, None)
        if rating is not None and np.isnan(rating):
            rating = None
        entries.append(HistoryEntry(item_id, item.title, item.year, item.genres, rating, timestamp))
    return entries


def histories(data: Interactions, items: Mapping[int, Item],
              lookup: Mapping[tuple[int, int], tuple[float, int]]) -> dict[int, list[HistoryEntry]]:
    """Every user's time-ordered history in `data` (users without interactions are left out)."""
    if data.sequences is None:
        raise ValueError("profiles need time-ordered interactions (build them from a frame with timestamps)")
    out = {}
    for row, user_id in enumerate(data.user_ids):
        sequence = data.sequences[row]
        if len(sequence):
            out[int(user_id)] = history_of(data.item_ids[sequence], items, int(user_id), lookup)
    return out
