"""Item-kNN: score an item by its cosine similarity to the items a user interacted with.

Sarwar et al., "Item-based collaborative filtering recommendation algorithms" (WWW 2001), in the form
RecBole's ItemKNN uses: cosine between item columns of the implicit matrix, an optional shrink term in the
denominator (damps similarities resting on few co-occurrences), and only the `k` most similar neighbours
of each target item kept. A strong, transparent baseline, and cheap enough to score chat requests live.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp
from pydantic import Field
from tqdm import tqdm

from ..interactions import Interactions
from .base import Ranker, RankerParams, Validator, arrays_to_sparse, as_positions, register, sparse_to_arrays

# Similarities are computed one block of target items at a time, as a dense block of at most this many
# floats (32 MiB), so memory stays bounded on catalogues with tens of thousands of items.
BLOCK_ELEMENTS = 1 << 23


class ItemKNNParams(RankerParams):
    """Hyper-parameters of item-kNN; their values are in training/configs/itemknn.yaml."""

    k: int = Field(ge=1, description="neighbours kept per target item")
    shrink: float = Field(ge=0.0, description="added to the cosine denominator")


@register("itemknn")
class ItemKNN(Ranker):
    """Cosine item-item similarity, top-k neighbours per item; score = user row @ similarity."""

    Params = ItemKNNParams

    def __init__(self, **params: object) -> None:
        """Start unfitted; `fit` or `load` fills the neighbour and history matrices."""
        super().__init__(**params)
        self.hparams: ItemKNNParams
        # neighbours[j, i] = sim(i, j) when i is among the k items most similar to target j
        self.neighbours = sp.csr_matrix((0, 0), dtype=np.float32)
        self.user_items = sp.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, data: Interactions, *, seed: int, show_progress: bool = False,
            validate: Validator | None = None) -> Self:
        """Compute the top-k cosine neighbours of every item (deterministic: the seed is unused)."""
        matrix = data.matrix.astype(np.float32)
        by_item = matrix.T.tocsr()  # items x users
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0), dtype=np.float32).reshape(-1))
        n_items = data.n_items
        keep = min(self.hparams.k, max(n_items - 1, 1))
        block = max(1, min(n_items, BLOCK_ELEMENTS // max(n_items, 1)))
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        starts = range(0, n_items, block)
        for start in tqdm(starts, desc="itemknn", disable=not show_progress, unit="block"):
            stop = min(start + block, n_items)
            overlap = (by_item[start:stop] @ matrix).toarray()  # co-occurrence counts, block x items
            denominator = norms[start:stop, None] * norms[None, :] + self.hparams.shrink
            sim = np.divide(overlap, denominator, out=np.zeros_like(overlap), where=denominator > 0)
            sim[np.arange(stop - start), np.arange(start, stop)] = 0.0  # an item is not its own neighbour
            if keep < n_items:
                top = np.argpartition(-sim, keep - 1, axis=1)[:, :keep]
            else:
                top = np.broadcast_to(np.arange(n_items), sim.shape)
            top_sim = np.take_along_axis(sim, top, axis=1)
            positive = top_sim > 0
            rows.append(np.nonzero(positive)[0] + start)
            cols.append(top[positive])
            vals.append(top_sim[positive])
        self.neighbours = sp.csr_matrix(
            (np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_items, n_items), dtype=np.float32,
        )
        self.neighbours.sort_indices()
        self.user_items = matrix.tocsr()
        self.fitted = True
        return self

    def set_history(self, data: Interactions) -> None:
        """Score users from `data`'s rows (e.g. train plus validation items at test time)."""
        self.user_items = data.matrix.astype(np.float32).tocsr()

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Sum, for each target item, the similarities of its neighbours that the user interacted with."""
        self._require_fitted()
        targets = self.neighbours[as_positions(items, self.neighbours.shape[0])]
        history = self.user_items[np.asarray(users, dtype=np.int64).reshape(-1)]
        return np.asarray((targets @ history.T).T.toarray(), dtype=np.float32)

    def score_history(
        self, history: np.ndarray, items: np.ndarray | None = None, weights: np.ndarray | None = None
    ) -> np.ndarray:
        """Score for a user given by liked columns; `weights` (e.g. ratings, +1/-1) default to 1 each."""
        self._require_fitted()
        n_items = self.neighbours.shape[0]
        positions = np.asarray(history, dtype=np.int64).reshape(-1)
        row = np.zeros(n_items, dtype=np.float32)
        row[positions] = 1.0 if weights is None else np.asarray(weights, dtype=np.float32).reshape(-1)
        if items is None:
            return np.asarray(self.neighbours @ row, dtype=np.float32)
        return np.asarray(self.neighbours[as_positions(items, n_items)] @ row, dtype=np.float32)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {**sparse_to_arrays("neighbours", self.neighbours),
                **sparse_to_arrays("users", self.user_items)}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self.neighbours = arrays_to_sparse("neighbours", arrays)
        self.user_items = arrays_to_sparse("users", arrays)
