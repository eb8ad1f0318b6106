"""What text-based rankers read beside the interaction matrix.

That is item metadata and texts, ratings with dates, a profile writer and a sentence encoder.

The `Ranker` interface passes only an `Interactions` matrix, which has no titles, ratings or dates. A ranker
that writes profiles (LLM-TUP) is handed a `TextInputs` by whoever builds it (the benchmark, the agent):
profiles are written from the rows of the matrix it is fitted on, with ratings and dates looked up here, so
a held-out interaction never reaches a profile. Item texts are passed in, not built here: for ML-100K they
are the retrieval index's item documents (built by `retrieval/`, which `training/` must not import).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from convrec.core.catalogue import Catalogue, Item
from convrec.core.encoder import TextEncoder
from convrec.core.hashing import content_hash
from convrec.core.phrasing import join_words

from .interactions import Interactions
from .profiles.embeddings import EmbeddingCache
from .profiles.history import HistoryEntry, histories, history_of, ratings_lookup
from .profiles.offline_writer import OfflineProfileWriter
from .profiles.pte_writer import PtEWriter
from .profiles.store import ProfileStore, generate_profiles, profile_key
from .profiles.writer import ProfileWriter, UserProfiles


@dataclass(eq=False)
class TextInputs:
    """Items, ratings, item texts, writer and encoder for one dataset; profiles and vectors cached on disk."""

    items: Mapping[int, Item]
    ratings: pd.DataFrame  # user_id, item_id, rating, timestamp (any superset of the fitted rows)
    item_texts: Mapping[int, str]
    encoder: TextEncoder
    cache_dir: Path
    writer: ProfileWriter = field(default_factory=OfflineProfileWriter)
    # Fixed training negatives of a split (LLM-TUP's temporal protocol): item ids per (user_id, item_id) row.
    negatives: tuple[np.ndarray, np.ndarray] | None = None  # ((n, 2) user/item ids, (n, k) negative item ids)
    show_progress: bool = False
    workers: int = 1
    # Vectors of `item_texts` already computed with the same encoder (the retrieval index's), to skip encoding.
    item_embeddings: Callable[[list[int]], np.ndarray] | None = None
    # PtE writes profiles from user demographics and ratings: a MovieLens catalogue (restricted to a split's
    # training rows by the ranker) and the writer of its profiles (None: the offline one).
    catalogue: Catalogue | None = None
    pte_writer: PtEWriter | None = None

    @cached_property
    def lookup(self) -> dict[tuple[int, int], tuple[float, int]]:
        """(user_id, item_id) -> (rating, timestamp)."""
        return ratings_lookup(self.ratings)

    @cached_property
    def embeddings(self) -> EmbeddingCache:
        """The per-encoder vector cache."""
        return EmbeddingCache(self.cache_dir / "embeddings", self.encoder)

    def fingerprint(self) -> str:
        """Everything here that changes a fitted model (part of its cache key)."""
        frame = self.ratings[["user_id", "item_id", "rating", "timestamp"]]
        negatives = b"" if self.negatives is None else (
            np.ascontiguousarray(self.negatives[0], dtype=np.int64).tobytes()
            + np.ascontiguousarray(self.negatives[1], dtype=np.int64).tobytes())
        return content_hash(
            np.ascontiguousarray(frame.to_numpy(dtype=np.float64)).tobytes(),
            sorted((int(i), item.title, item.year, list(item.genres)) for i, item in self.items.items()),
            sorted((int(i), text) for i, text in self.item_texts.items()),
            self.writer.identity, self.encoder.fingerprint, negatives,
            *([self.pte_writer.identity] if self.pte_writer is not None else []), length=24,
        )

    @property
    def fallback_writer(self) -> ProfileWriter | None:
        """The offline writer, for users a language-model writer fails on (None when offline already)."""
        return None if isinstance(self.writer, OfflineProfileWriter) else OfflineProfileWriter()

    # ----- profiles ------------------------------------------------------------------------------------
    def profiles(self, data: Interactions) -> dict[int, UserProfiles]:
        """Every user's profiles written from their rows in `data` (stored and reused across runs)."""
        return generate_profiles(histories(data, self.items, self.lookup), self.writer,
                                 self.cache_dir / "profiles", show_progress=self.show_progress,
                                 workers=self.workers, fallback=self.fallback_writer)

    def profile_of(self, data: Interactions, user_id: int) -> UserProfiles | None:
        """One user's stored profiles for their rows in `data`, or None.

        A read, never a write (the app's profile panel calls it; profiles are written when the model is fitted, not
        while someone chats).
        """
        row = data.user_index(int(user_id))
        if row is None or data.sequences is None or not len(data.sequences[row]):
            return None
        history = history_of(data.item_ids[data.sequences[row]], self.items, int(user_id), self.lookup)
        for writer in (self.writer, self.fallback_writer):
            if writer is not None:
                found = self._store(writer.identity).get(profile_key(history, writer.identity))
                if found is not None:
                    return found
        return None

    def _store(self, identity: str) -> ProfileStore:
        """The profile store of one writer, read once (it is complete once the model is fitted)."""
        stores: dict[str, ProfileStore] = self.__dict__.setdefault("_stores", {})
        if identity not in stores:
            stores[identity] = ProfileStore(self.cache_dir / "profiles", identity)
        return stores[identity]

    def profile_vectors(self, data: Interactions, kinds: tuple[str, ...]) -> np.ndarray:
        """(n_users, len(kinds), dim) unit vectors of each user's profile texts; zeros for users with none."""
        profiles = self.profiles(data)
        out = np.zeros((data.n_users, len(kinds), self.encoder.dimension), dtype=np.float32)
        rows = [row for row, user in enumerate(data.user_ids) if int(user) in profiles]
        for k, kind in enumerate(kinds):
            texts = [profiles[int(data.user_ids[row])].text(kind) for row in rows]
            if texts:
                out[rows, k] = self.embeddings.encode(texts, show_progress=self.show_progress,
                                                      desc=f"encoding {kind} profiles")
        return out

    def history_vectors(self, item_ids: np.ndarray, kinds: tuple[str, ...]) -> np.ndarray:
        """(len(kinds), dim) vectors of profiles written for an ad-hoc history (ids in time order, no ratings)."""
        entries: list[HistoryEntry] = history_of(np.asarray(item_ids), self.items, None, {})
        written = self.writer.write(entries)
        return self.embeddings.encode([written.text(kind) for kind in kinds])

    # ----- items ---------------------------------------------------------------------------------------
    def item_vectors(self, item_ids: np.ndarray) -> np.ndarray:
        """(len(item_ids), dim) unit vectors of the items' texts."""
        if self.item_embeddings is not None and all(int(i) in self.item_texts for i in item_ids):
            return np.asarray(self.item_embeddings([int(i) for i in item_ids]), dtype=np.float32)
        texts = [self.item_texts.get(int(i)) or item_text(self.items[int(i)]) for i in item_ids]
        return self.embeddings.encode(texts, show_progress=self.show_progress, desc="encoding items")


def item_text(item: Item) -> str:
    """A plain item text for datasets without retrieval documents: title, year and genres."""
    genres = f" {join_words(item.genres)}." if item.genres else ""
    year = f" ({item.year})" if item.year else ""
    return f"{item.title}{year}.{genres}"


def items_from_table(table: pd.DataFrame) -> dict[int, Item]:
    """Items from a `LoadedDataset.items` table (item_id, title, year, genres as 'A|B')."""
    out = {}
    for item_id, title, year, genres in table[["item_id", "title", "year", "genres"]].itertuples(index=False):
        names = tuple(g for g in str(genres).split("|") if g) if isinstance(genres, str) else ()
        out[int(item_id)] = Item(int(item_id), str(title) if isinstance(title, str) else f"item {item_id}",
                                 int(year) if pd.notna(year) else None, names)
    return out
