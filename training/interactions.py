"""The implicit user x item matrix every ranker trains on, with the id <-> position maps beside it.

Rankers work on row/column positions; the catalogue, the agent and the splits work on ids. Keeping both in
one frozen object means a position can never be read against the wrong id array. The matrix is sparse
(CSR, float32, 1.0 per interaction), so memory and build time grow with interactions, not users x items.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from convrec.core.hashing import content_hash

if TYPE_CHECKING:
    from convrec.core.catalogue import Catalogue

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Interactions:
    """Who interacted with what: `matrix[u, i] == 1.0` when `user_ids[u]` interacted with `item_ids[i]`."""

    matrix: sp.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray
    # Per user row, the item columns in time order (ties keep the frame's row order); None when the
    # frame had no timestamps. Sequential models (GRU4Rec, SASRec) train on these.
    sequences: tuple[np.ndarray, ...] | None = None

    def __post_init__(self) -> None:
        """Reject mismatched shapes and unsorted ids, which would silently misalign positions."""
        n_users, n_items = self.matrix.shape
        if len(self.user_ids) != n_users or len(self.item_ids) != n_items:
            raise ValueError(
                f"matrix is {n_users}x{n_items} but there are {len(self.user_ids)} user ids and "
                f"{len(self.item_ids)} item ids"
            )
        for name, ids in (("user_ids", self.user_ids), ("item_ids", self.item_ids)):
            if len(ids) > 1 and not np.all(np.diff(ids) > 0):
                raise ValueError(f"{name} must be strictly ascending (positions are found by binary search)")

    # ----- construction ----------------------------------------------------------------------------
    @classmethod
    def from_catalogue(cls, catalogue: Catalogue) -> Interactions:
        """Build the matrix of all interactions; every catalogue item gets a column, rated or not."""
        frame = catalogue.interactions
        user_ids = np.union1d(np.fromiter(catalogue.users, dtype=np.int64, count=len(catalogue.users)),
                              frame["user_id"].to_numpy(dtype=np.int64))
        return cls.from_frame(frame, user_ids, catalogue.item_ids)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, user_ids: np.ndarray, item_ids: np.ndarray) -> Interactions:
        """Build the matrix of the rows in `frame` (columns `user_id`, `item_id`) over fixed id arrays.

        The id arrays are passed in, not derived from `frame`, so that the train, validation and test
        matrices of one split share rows and columns. Repeated (user, item) pairs count once.
        """
        users = np.unique(np.asarray(user_ids, dtype=np.int64))
        items = np.unique(np.asarray(item_ids, dtype=np.int64))
        rows = _positions(users, frame["user_id"].to_numpy(dtype=np.int64), "user")
        cols = _positions(items, frame["item_id"].to_numpy(dtype=np.int64), "item")
        matrix = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(users), len(items)),
            dtype=np.float32,
        )
        matrix.sum_duplicates()
        matrix.data[:] = 1.0  # implicit feedback: a repeated pair is still one interaction
        matrix.sort_indices()
        sequences = None
        if "timestamp" in frame.columns:
            # Stable sort by (row, timestamp): ties keep the frame's order, which callers make the file order.
            order = np.lexsort((np.arange(len(rows)), frame["timestamp"].to_numpy(dtype=np.int64), rows))
            bounds = np.searchsorted(rows[order], np.arange(len(users) + 1))
            ordered = cols[order].astype(np.int64)
            sequences = tuple(ordered[bounds[u]:bounds[u + 1]] for u in range(len(users)))
        log.debug("Interactions: %d users x %d items, %d entries", len(users), len(items), matrix.nnz)
        return cls(matrix=matrix, user_ids=users, item_ids=items, sequences=sequences)

    # ----- lookups ---------------------------------------------------------------------------------
    @property
    def n_users(self) -> int:
        """Number of rows."""
        return int(self.matrix.shape[0])

    @property
    def n_items(self) -> int:
        """Number of columns."""
        return int(self.matrix.shape[1])

    @property
    def nnz(self) -> int:
        """Number of interactions."""
        return int(self.matrix.nnz)

    def user_index(self, user_id: int) -> int | None:
        """Return the row of a user id, or None for a user the matrix does not know (an anonymous chat)."""
        position = int(np.searchsorted(self.user_ids, user_id))
        if position < len(self.user_ids) and self.user_ids[position] == user_id:
            return position
        return None

    def item_index(self, ids: np.ndarray | list[int]) -> np.ndarray:
        """Return the columns of item ids; an unknown id raises KeyError rather than aliasing a column."""
        return _positions(self.item_ids, np.asarray(ids, dtype=np.int64).reshape(-1), "item", error=KeyError)

    def items_of(self, row: int) -> np.ndarray:
        """Return the columns a user (by row) interacted with, ascending."""
        start, end = self.matrix.indptr[row], self.matrix.indptr[row + 1]
        return self.matrix.indices[start:end].astype(np.int64)

    def item_counts(self) -> np.ndarray:
        """Return the number of interactions per column (float32)."""
        return np.asarray(self.matrix.sum(axis=0), dtype=np.float32).reshape(-1)

    def sequence_of(self, row: int) -> np.ndarray:
        """Return a user's item columns in time order (requires timestamps in the source frame)."""
        if self.sequences is None:
            raise ValueError("these interactions carry no time order (build them from a frame with timestamps)")
        return self.sequences[row]

    def head(self, lengths: np.ndarray) -> Interactions:
        """Each user's first `lengths[row]` interactions in time order, over the same rows and columns.

        A model that should learn to predict what comes next (not to recall what it was shown) reads its
        inputs from the head of each history and takes its targets from the rest.
        """
        sequences = [self.sequence_of(row)[:max(int(n), 0)] for row, n in enumerate(np.asarray(lengths))]
        if len(sequences) != self.n_users:
            raise ValueError(f"head needs one length per user ({self.n_users}), got {len(sequences)}")
        rows = np.repeat(np.arange(self.n_users), [len(s) for s in sequences])
        cols = np.concatenate([*sequences, np.zeros(0, dtype=np.int64)]).astype(np.int64)
        matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=self.matrix.shape,
                               dtype=np.float32)
        matrix.sort_indices()
        return Interactions(matrix=matrix, user_ids=self.user_ids, item_ids=self.item_ids,
                            sequences=tuple(np.asarray(s, dtype=np.int64) for s in sequences))

    def fingerprint(self) -> str:
        """Hash the structure, the id arrays and the time order: equal fingerprints train equal models."""
        m = self.matrix
        order = (np.concatenate([*self.sequences, np.zeros(0, dtype=np.int64)]).astype(np.int64).tobytes()
                 if self.sequences is not None else b"")
        return content_hash(
            order,
            list(m.shape),
            np.ascontiguousarray(m.indptr, dtype=np.int64).tobytes(),
            np.ascontiguousarray(m.indices, dtype=np.int64).tobytes(),
            np.ascontiguousarray(m.data, dtype=np.float32).tobytes(),
            np.ascontiguousarray(self.user_ids, dtype=np.int64).tobytes(),
            np.ascontiguousarray(self.item_ids, dtype=np.int64).tobytes(),
            length=32,
        )


def _positions(sorted_ids: np.ndarray, ids: np.ndarray, kind: str,
               error: type[Exception] = ValueError) -> np.ndarray:
    """Map ids to positions in an ascending id array by binary search; raise on an id not in it."""
    positions = np.searchsorted(sorted_ids, ids)
    clipped = np.minimum(positions, max(len(sorted_ids) - 1, 0))
    missing = (positions >= len(sorted_ids)) | (sorted_ids[clipped] != ids) if len(sorted_ids) else ids == ids
    if np.any(missing):
        unknown = np.unique(ids[missing])
        raise error(f"{len(unknown)} unknown {kind} id(s), e.g. {unknown[:5].tolist()}")
    return positions.astype(np.int64)
