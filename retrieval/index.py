"""The Chroma index of item documents: built once per content hash, reused across runs, searched with filters.

The collection is named after a hash of every document and the encoder, so a changed template, profile text
or model gives a new collection instead of stale vectors. A build marks the collection complete only after
its last batch; a collection without the mark (a crash mid-build) is rebuilt, never searched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection as AnyCollection
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.config import Settings as ChromaSettings
from chromadb.utils.embedding_functions import register_embedding_function
from tqdm.auto import tqdm

from convrec.core.catalogue import Catalogue
from convrec.core.encoder import TextEncoder, load_encoder
from convrec.core.errors import UserError
from convrec.core.hashing import content_hash
from convrec.core.settings import Settings

from .documents import (
    DOCUMENT_TEMPLATE_VERSION,
    ItemDocument,
    build_documents,
    genre_key,
    kg_facts_trustworthy,
)
from .query import Constraints, Hit, where_filter

log = logging.getLogger(__name__)

COLLECTION_PREFIX = "items-"
BATCH_SIZE = 256
DEFAULT_CHROMA_PORT = 8000


@register_embedding_function
class EncoderEmbeddingFunction(EmbeddingFunction[Documents]):
    """Let Chroma embed with convrec's local encoder, so it never falls back to its downloading default.

    Registered under `name()` so a collection's stored config resolves to this class, never to ONNX.
    """

    def __init__(self, encoder_path: str | None = None) -> None:
        self.encoder = load_encoder(Path(encoder_path) if encoder_path else None)

    @classmethod
    def for_encoder(cls, encoder: TextEncoder) -> EncoderEmbeddingFunction:
        """Wrap an already loaded encoder."""
        return cls(str(encoder.path))

    def __call__(self, input: Documents) -> Embeddings:
        """Embed documents into unit-length rows."""
        return list(self.encoder.encode(list(input)))

    @staticmethod
    def name() -> str:
        """Name the function in Chroma's registry of embedding functions."""
        return "convrec_encoder"

    def default_space(self) -> Space:
        """Use cosine: the encoder's rows are unit length, so similarity is 1 - distance."""
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        """List the spaces the unit-length rows make sense in."""
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        """Describe the encoder so the function can be rebuilt from a stored collection config."""
        return {"encoder_path": str(self.encoder.path), "fingerprint": self.encoder.fingerprint}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> EncoderEmbeddingFunction:
        """Rebuild from `get_config` output (Chroma calls this when a collection is opened without one)."""
        return EncoderEmbeddingFunction(config.get("encoder_path"))


def index_key(documents: list[ItemDocument], encoder: TextEncoder) -> str:
    """Hash everything the stored vectors and metadata depend on into the collection's key."""
    return content_hash(
        DOCUMENT_TEMPLATE_VERSION,
        [(d.item_id, d.text, d.metadata) for d in documents],
        encoder.fingerprint,
    )


def chroma_client(settings: Settings) -> ClientAPI:
    """Open the embedded store under `settings.index_dir`, or the server at `settings.chroma_url`."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        host, port, ssl = parse_chroma_url(settings.chroma_url)
        return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=chroma_settings)
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(str(settings.index_dir), settings=chroma_settings)


def parse_chroma_url(url: str) -> tuple[str, int, bool]:
    """Split `http(s)://host:port` into host, port and whether to use TLS."""
    parsed = urlparse(url if "://" in url else f"http://{url}")
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise UserError(f"CONVREC_CHROMA_URL={url!r}: expected http://host:port or https://host:port")
    try:
        port = parsed.port
    except ValueError as error:
        raise UserError(f"CONVREC_CHROMA_URL={url!r}: invalid port") from error
    ssl = parsed.scheme == "https"
    return parsed.hostname, port or (443 if ssl else DEFAULT_CHROMA_PORT), ssl


class ItemIndex:
    """Searchable vectors of every catalogue item, with metadata filters and cached item embeddings."""

    def __init__(self, *, key: str, collection: Collection, encoder: TextEncoder, catalogue: Catalogue,
                 documents: dict[int, ItemDocument], built: bool, build_seconds: float) -> None:
        self.key = key
        self.built = built
        self.build_seconds = build_seconds
        self.documents = documents
        self.encoder = encoder
        self._collection = collection
        self._catalogue = catalogue
        self._genre_keys = frozenset(genre_key(g) for g in catalogue.genres)
        self._lock = threading.Lock()
        self._matrix: np.ndarray | None = None
        self._row_of: dict[int, int] = {}

    @classmethod
    def open(cls, settings: Settings, catalogue: Catalogue, *, rebuild: bool = False,
             show_progress: bool = False, item_profiles: dict[int, str] | None = None) -> ItemIndex:
        """Reuse the complete collection for this content, or build it and drop collections of older keys."""
        encoder = load_encoder(settings.encoder_path)
        documents = build_documents(
            catalogue, state_kg_facts=kg_facts_trustworthy(catalogue), item_profiles=item_profiles
        )
        key = index_key(documents, encoder)
        name = COLLECTION_PREFIX + key
        client = chroma_client(settings)
        function = EncoderEmbeddingFunction.for_encoder(encoder)
        collection = None if rebuild else _complete_collection(client, name, function, len(documents))
        built, seconds = collection is None, 0.0
        if collection is None:
            started = time.perf_counter()
            collection = _build_collection(client, name, function, documents, show_progress=show_progress)
            seconds = time.perf_counter() - started
            _drop_other_keys(client, keep=name)
            log.info("Built item index %s (%d documents) in %.1f s", name, len(documents), seconds)
        else:
            log.info("Reusing item index %s", name)
        return cls(key=key, collection=collection, encoder=encoder, catalogue=catalogue,
                   documents={d.item_id: d for d in documents}, built=built, build_seconds=seconds)

    # ----- queries ---------------------------------------------------------------------------------
    def encode_query(self, text: str) -> np.ndarray:
        """Embed a query into one unit-length row (callers may reuse it across several searches)."""
        return self.encoder.encode([text])[0]

    def search(self, text: str, *, constraints: Constraints | None = None, n: int = 100,
               query_embedding: np.ndarray | None = None) -> list[Hit]:
        """Return up to `n` items closest to `text` that satisfy `constraints`, best first ([] if none do).

        A `query_embedding` from `encode_query` replaces `text`, so one encoding can serve several searches.
        """
        if n <= 0 or not self.documents:
            return []
        constraints = constraints or Constraints()
        vector = self.encode_query(text) if query_embedding is None else np.asarray(query_embedding)
        result = self._collection.query(
            query_embeddings=[vector.astype(np.float32).tolist()],
            n_results=min(n, len(self.documents)),
            where=where_filter(self._known_genres_only(constraints)),
            include=["distances"],
        )
        ids, distances = result["ids"][0], (result["distances"] or [[]])[0]
        hits = [Hit(int(i), 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]
        return self._verified(hits, constraints)

    def embeddings(self, item_ids: list[int]) -> np.ndarray:
        """Return the stored vectors of `item_ids`, one row each in the given order (KeyError if unknown)."""
        matrix, row_of = self._all_embeddings()
        try:
            rows = [row_of[int(i)] for i in item_ids]
        except KeyError as error:
            raise KeyError(f"item {error.args[0]} is not in the index") from None
        return matrix[rows] if rows else np.zeros((0, matrix.shape[1]), dtype=np.float32)

    # ----- helpers ---------------------------------------------------------------------------------
    def _known_genres_only(self, constraints: Constraints) -> Constraints:
        """Drop unwanted genres the catalogue lacks.

        Documents have no flag for them, so `False` would match nothing instead of everything.
        """
        unwanted = tuple(g for g in constraints.genres_none if genre_key(g) in self._genre_keys)
        if unwanted == constraints.genres_none:
            return constraints
        return replace(constraints, genres_none=unwanted)

    def _verified(self, hits: list[Hit], constraints: Constraints) -> list[Hit]:
        """Re-check every hit in Python, so a filter translation bug can never show a forbidden item."""
        items = self._catalogue.items
        kept = [h for h in hits if h.item_id in items and constraints.admits(items[h.item_id])]
        if len(kept) != len(hits):
            log.error("Chroma returned %d items that break %s; dropped", len(hits) - len(kept), constraints)
        return kept

    def _all_embeddings(self) -> tuple[np.ndarray, dict[int, int]]:
        """Load every stored vector once: the agent asks for candidates' vectors on every turn."""
        with self._lock:
            if self._matrix is None:
                got = self._collection.get(include=["embeddings"])
                ids = [int(i) for i in got["ids"]]
                vectors = got["embeddings"]
                dim = self.encoder.dimension if vectors is None or len(vectors) == 0 else len(vectors[0])
                self._matrix = np.asarray(vectors, dtype=np.float32).reshape(len(ids), dim)
                self._row_of = {item_id: row for row, item_id in enumerate(ids)}
            return self._matrix, self._row_of


def _complete_collection(client: ClientAPI, name: str, function: EncoderEmbeddingFunction,
                         expected: int) -> Collection | None:
    """Open `name` if a finished build left it complete; None when it is missing or half-built."""
    if name not in _collection_names(client):
        return None
    collection = client.get_collection(name, embedding_function=function)  # type: ignore[arg-type]
    metadata = collection.metadata or {}
    if metadata.get("complete") is True and collection.count() == expected:
        return collection
    log.warning("Item index %s is incomplete (interrupted build?); rebuilding it", name)
    return None


def _build_collection(client: ClientAPI, name: str, function: EncoderEmbeddingFunction,
                      documents: list[ItemDocument], *, show_progress: bool) -> Collection:
    """Embed and store all documents, then mark the collection complete."""
    if name in _collection_names(client):
        client.delete_collection(name)
    metadata: dict[str, Any] = {"complete": False, "template": DOCUMENT_TEMPLATE_VERSION,
                                "encoder": function.encoder.fingerprint}
    collection = client.create_collection(
        name, configuration={"hnsw": {"space": "cosine"}}, metadata=metadata,
        embedding_function=function,  # type: ignore[arg-type]
    )
    with tqdm(total=len(documents), desc="Embedding items", unit="item", disable=not show_progress) as bar:
        for start in range(0, len(documents), BATCH_SIZE):
            batch = documents[start:start + BATCH_SIZE]
            vectors = function.encoder.encode([d.text for d in batch])
            collection.add(
                ids=[str(d.item_id) for d in batch],
                embeddings=vectors,
                documents=[d.text for d in batch],
                metadatas=[d.metadata for d in batch],
            )
            bar.update(len(batch))
    collection.modify(metadata={**metadata, "complete": True})
    return collection


def _drop_other_keys(client: ClientAPI, *, keep: str) -> None:
    """Delete item collections of other content hashes so the store does not grow with every change."""
    for name in _collection_names(client):
        if name.startswith(COLLECTION_PREFIX) and name != keep:
            log.info("Deleting outdated item index %s", name)
            client.delete_collection(name)


def _collection_names(client: ClientAPI) -> AnyCollection[str]:
    return {c.name for c in client.list_collections()}
