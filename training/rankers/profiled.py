"""What a ranker that scores people from written profiles offers beyond `Ranker`, as a typed protocol.

The chat explains a known user's picks by the profile that drove them ("fits what you have liked for years")
and shows each profile's weight; the benchmark summarises the fusion weights. Both ask for these through
`ProfileRanker` (checked with `isinstance`), never through one model's attributes, so that LLM-TUP today
and PtE next plug into the same place.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class ProfileRanker(Protocol):
    """A fitted ranker whose user side is one or more written profiles per user, fused by learned weights."""

    @property
    def kinds(self) -> tuple[str, ...]:
        """The profiles read per user, in the order of `fusion_weights`' columns (e.g. short_term, long_term)."""
        ...

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Scores of shape (len(users), len(items)), as `Ranker.score`."""
        ...

    def profiled_users(self) -> np.ndarray:
        """Boolean mask over user rows: True where the user has a written profile (some history to write from)."""
        ...

    def fusion_weights(self, users: np.ndarray | None = None) -> np.ndarray:
        """Per user row (all rows when None), the weight of each profile kind: shape (len(users), len(kinds))."""
        ...

    def side_scores(self, user: int, items: np.ndarray) -> dict[str, np.ndarray]:
        """Each profile kind alone scoring `items` for user row `user`: kind -> 1-D scores."""
        ...
