"""The conversation prior: which films people recommend in conversation, and which films go together there.

MovieLens popularity says what 943 raters watched in 1997-98; it is a poor guess of what a human recommender
suggests to a stranger today (on ReDial's validation cases it finds the human's pick in the top 10 5% of the
time). Real dialogues say it directly: counted over ReDial's dialogues, how often a catalogue film is named
is a prior over suggestions, and films named in the same dialogue are related the way people relate them,
including films the catalogue lacks ("The Babadook (2014)" is named beside "The Shining (1980)"). So a person
who names a 2014 horror film still moves the scores, although only the older film can be recommended.

Counts are per dialogue (a film named five times in one dialogue counts once). Co-mention scores are a
cosine-style normalisation of dialogue co-occurrence: count / (dialogues naming the key ** 0.5 * dialogues
naming the item ** 0.5), so that neither a very common mention nor a very common item dominates.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
from scipy import sparse

from convrec.core.catalogue import Catalogue
from convrec.core.files import save_npz
from convrec.core.hashing import content_hash
from convrec.core.titles import search_key

from .dialogues import Dialogue, dialogue_bytes, load_dialogues

log = logging.getLogger(__name__)

VERSION = 1  # bump when a change here makes cached priors wrong
_NAME = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)\s*$")

Resolver = Callable[[str, int | None], int | None]
"""(title, year) -> catalogue item id, or None when the catalogue lacks the film."""


def mention_key(item_id: int | None, title: str, year: int | None) -> str:
    """The key a mention is counted under: the catalogue item, else the title's search key and its year."""
    if item_id is not None:
        return f"item:{int(item_id)}"
    return f"title:{search_key(title)}|{year or ''}"


def split_name(name: str) -> tuple[str, int | None]:
    """"The Shining (1980)" -> ("The Shining", 1980); a name without a year keeps None."""
    match = _NAME.match(" ".join(name.split()))
    return (match.group("title"), int(match.group("year"))) if match else (name.strip(), None)


def catalogue_resolver(catalogue: Catalogue) -> Resolver:
    """Resolve a title and year to a catalogue film: exact or near-exact title, year within one."""
    def resolve(title: str, year: int | None) -> int | None:
        query = f"{title} {year}" if year else title
        hits = catalogue.find_title(query, limit=1, cutoff=92.0)
        return hits[0].item_id if hits else None

    return resolve


class ConversationPrior:
    """Dialogue counts per catalogue item and co-mention counts from any named film to catalogue items."""

    def __init__(self, item_ids: np.ndarray, counts: np.ndarray, keys: Sequence[str], key_counts: np.ndarray,
                 together: sparse.csr_matrix, dialogues: int) -> None:
        """Wrap fitted counts; rows of `together` follow `keys`, columns follow `item_ids`."""
        self.item_ids = np.asarray(item_ids, dtype=np.int64)
        self.counts = np.asarray(counts, dtype=np.float32)
        self.keys = list(keys)
        self.key_index = {key: row for row, key in enumerate(self.keys)}
        self.key_counts = np.asarray(key_counts, dtype=np.float32)
        self.together = together.tocsr()
        self.dialogues = int(dialogues)
        self._position = {int(i): p for p, i in enumerate(self.item_ids)}

    @classmethod
    def fit(cls, dialogues: Iterable[Dialogue], item_ids: np.ndarray, resolve: Resolver) -> ConversationPrior:
        """Count, per dialogue, the films it names (each once) and every pair of a named film and an item."""
        position = {int(i): p for p, i in enumerate(item_ids)}
        counts = np.zeros(len(item_ids), dtype=np.float32)
        keys: dict[str, int] = {}
        key_counts: list[int] = []
        rows: list[int] = []
        cols: list[int] = []
        resolved: dict[tuple[str, int | None], int | None] = {}
        n = 0
        for dialogue in dialogues:
            n += 1
            named: dict[str, int | None] = {}
            for name in dialogue.movies.values():
                title, year = split_name(name)
                if (title, year) not in resolved:
                    resolved[(title, year)] = resolve(title, year)
                item = resolved[(title, year)]
                item = item if item is not None and int(item) in position else None
                named[mention_key(item, title, year)] = item
            items = {position[int(i)] for i in named.values() if i is not None}
            for p in items:
                counts[p] += 1
            for key, item in named.items():
                if key not in keys:
                    keys[key] = len(keys)
                    key_counts.append(0)
                key_counts[keys[key]] += 1
                own = position[int(item)] if item is not None else -1
                for p in items:
                    if p != own:
                        rows.append(keys[key])
                        cols.append(p)
        together = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                                     shape=(len(keys), len(item_ids)))
        together.sum_duplicates()
        return cls(item_ids, counts, list(keys), np.asarray(key_counts, dtype=np.float32), together, n)

    # ----- scores over items (aligned with `item_ids`) ----------------------------------------------
    def popularity(self) -> np.ndarray:
        """How often people name each film in conversation, log-scaled to 0-1."""
        logged = np.log1p(self.counts)
        top = float(logged.max()) if len(logged) else 0.0
        return logged / top if top > 0 else logged

    def co_mentioned(self, keys: Iterable[str], weights: Iterable[float] | None = None) -> np.ndarray:
        """How strongly each item is named together with the given mentions, scaled to 0-1.

        Zeros when none of the keys was ever seen.
        """
        keys = list(keys)
        weights = list(weights) if weights is not None else [1.0] * len(keys)
        scores = np.zeros(len(self.item_ids), dtype=np.float64)
        item_norm = np.sqrt(np.maximum(self.counts, 1.0))
        for key, weight in zip(keys, weights, strict=True):
            row = self.key_index.get(key)
            if row is None or weight == 0:
                continue
            start, end = self.together.indptr[row], self.together.indptr[row + 1]
            columns = self.together.indices[start:end]
            values = self.together.data[start:end]
            scores[columns] += weight * values / (np.sqrt(self.key_counts[row]) * item_norm[columns])
        top = float(scores.max()) if len(scores) else 0.0
        return scores / top if top > 0 else scores

    def knows(self, key: str) -> bool:
        """Whether a mention key was named in any training dialogue."""
        return key in self.key_index

    def position(self, item_id: int) -> int | None:
        """The column of a catalogue item, or None."""
        return self._position.get(int(item_id))

    # ----- persistence ------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write everything as one `.npz` (atomically; no pickles)."""
        save_npz(path, item_ids=self.item_ids, counts=self.counts,
                 keys=np.array(self.keys, dtype=str), key_counts=self.key_counts,
                 data=self.together.data, indices=self.together.indices, indptr=self.together.indptr,
                 shape=np.array(self.together.shape), dialogues=np.array(self.dialogues))

    @classmethod
    def load(cls, path: Path) -> ConversationPrior:
        """Read a saved prior."""
        with np.load(path, allow_pickle=False) as archive:
            together = sparse.csr_matrix((archive["data"], archive["indices"], archive["indptr"]),
                                         shape=tuple(int(x) for x in archive["shape"]))
            return cls(archive["item_ids"], archive["counts"], [str(k) for k in archive["keys"]],
                       archive["key_counts"], together, int(archive["dialogues"]))


def load_or_fit(catalogue: Catalogue, item_ids: np.ndarray, cache_dir: Path, *,
                exclude: Iterable[str] = ()) -> ConversationPrior:
    """The prior over the packaged dialogues minus `exclude` (held-out conversations), fitted once and cached.

    The cache is keyed by a hash of the dialogues, the exclusions, the catalogue's titles and the item order.
    """
    held_out = sorted(set(exclude))
    titles = sorted((i, item.title, item.year or 0) for i, item in catalogue.items.items())
    key = content_hash(dialogue_bytes(), held_out, titles, np.asarray(item_ids).tolist(), VERSION)
    path = cache_dir / f"conversation-prior-{key}.npz"
    if path.is_file():
        return ConversationPrior.load(path)
    dialogues = load_dialogues(exclude=held_out)
    log.info("Counting films named in %d real dialogues (conversation prior)", len(dialogues))
    prior = ConversationPrior.fit(dialogues, np.asarray(item_ids), catalogue_resolver(catalogue))
    prior.save(path)
    return prior
