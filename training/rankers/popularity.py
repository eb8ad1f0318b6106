"""Popularity: score every item by how many users interacted with it.

The floor every personal ranker must beat, and the fallback for a person who has said nothing yet.
"""

from __future__ import annotations

from typing import Self

import numpy as np

from ..interactions import Interactions
from .base import Ranker, RankerParams, Validator, as_positions, register


class PopularityParams(RankerParams):
    """Popularity has no hyper-parameters, so it has no file in training/configs/."""


@register("pop")
class Popularity(Ranker):
    """Interaction counts per item, the same for every user."""

    personal = False
    Params = PopularityParams

    def __init__(self, **params: object) -> None:
        """Start unfitted; `fit` or `load` fills the counts."""
        super().__init__(**params)
        self.counts = np.zeros(0, dtype=np.float32)

    def fit(self, data: Interactions, *, seed: int, show_progress: bool = False,
            validate: Validator | None = None) -> Self:
        """Count interactions per column (the seed is unused: counting is deterministic)."""
        self.counts = data.item_counts()
        self.fitted = True
        return self

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Repeat the item counts for each user."""
        self._require_fitted()
        row = self.counts[as_positions(items, len(self.counts))]
        return np.broadcast_to(row, (len(np.atleast_1d(users)), len(row))).copy()

    def score_history(
        self, history: np.ndarray, items: np.ndarray | None = None, weights: np.ndarray | None = None
    ) -> np.ndarray:
        """Return the item counts; the history does not matter to popularity."""
        self._require_fitted()
        return self.counts[as_positions(items, len(self.counts))].copy()

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self.counts = arrays["counts"].astype(np.float32)
