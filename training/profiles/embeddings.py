"""Sentence embeddings of profile and item texts, cached on disk per encoder and per text.

Encoding is the slow step of a text-based ranker on CPU (about 20-40 texts a second for long profiles),
and the same texts recur: leave-one-out splits of different seeds share histories, and a changed history
changes only that user's texts. Vectors are therefore kept under a hash of each text, in append-only shard
files (one per run that encoded something new, written to a temporary name and renamed), so a run cut short
loses at most the shard it was writing.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from convrec.core.encoder import TextEncoder
from convrec.core.files import save_npz
from convrec.core.hashing import content_hash

log = logging.getLogger(__name__)

SHARD_CHUNK = 512  # texts encoded (and saved) per shard, so progress survives an interruption


def text_key(text: str) -> str:
    """The cache key of one text."""
    return content_hash(text, length=24)


class EmbeddingCache:
    """Unit-length vectors of texts for one encoder, loaded from and appended to `<folder>/<encoder>/`."""

    def __init__(self, folder: Path, encoder: TextEncoder) -> None:
        self.encoder = encoder
        self.folder = folder / f"encoder-{encoder.fingerprint}"
        self._vectors: dict[str, np.ndarray] = {}
        for shard in sorted(self.folder.glob("shard-*.npz")):
            with np.load(shard, allow_pickle=False) as archive:
                for key, vector in zip(archive["keys"].tolist(), archive["vectors"], strict=True):
                    self._vectors[str(key)] = vector

    def encode(self, texts: list[str], *, show_progress: bool = False, desc: str = "encoding") -> np.ndarray:
        """Return a (len(texts), dim) float32 array; only texts never seen by this encoder are encoded."""
        keys = [text_key(t) for t in texts]
        todo = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if todo:
            by_key = dict(zip(keys, texts, strict=True))
            log.info("Encoding %d new text(s) (%d cached)", len(todo), len(set(keys)) - len(todo))
            from tqdm import tqdm

            with tqdm(total=len(todo), desc=desc, unit="text", disable=not show_progress) as bar:
                for start in range(0, len(todo), SHARD_CHUNK):
                    chunk = todo[start:start + SHARD_CHUNK]
                    vectors = self.encoder.encode([by_key[k] for k in chunk], batch_size=32)
                    self._save_shard(chunk, vectors)
                    self._vectors.update(zip(chunk, vectors, strict=True))
                    bar.update(len(chunk))
        if not keys:
            return np.zeros((0, self.encoder.dimension), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys]).astype(np.float32, copy=False)

    def _save_shard(self, keys: list[str], vectors: np.ndarray) -> None:
        name = f"shard-{content_hash(keys, length=16)}.npz"
        save_npz(self.folder / name, keys=np.array(keys), vectors=np.asarray(vectors, dtype=np.float32))
