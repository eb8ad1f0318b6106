"""PtE's second ranking channel: a profile written from the conversation, scored by the PtE model.

A person with no MovieLens history has no ID and no stored profile, but what they said is a profile in PtE's form:
"User identity: not recorded in MovieLens; User interests: Rated highest: Heat. Returns to Comedy. ...". The PtE
model's user side (an MLP over the profile vector, trained with user IDs dropped at random so it ranks on its own)
turns it into a vector that scores every film, beside the Chroma search.

A chat turn must not run the encoder over a fresh text (about 40-100 ms on two busy cores, against a 50 ms budget
for the whole turn). So the profile is written as statements, and each statement's vector is the vector of a
one-statement profile in the same form, encoded once for every film and every genre when the app loads (cached on
disk per text). The conversation's vector is the normalised mean of its statements' vectors: a profile of several
films lies between the profiles of each. Statements made in no list (an unknown genre) are encoded on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from convrec.core.catalogue import Catalogue
from convrec.training.profiles.embeddings import EmbeddingCache
from convrec.training.rankers.pte import PtERanker

from .state import Preferences

log = logging.getLogger(__name__)

IDENTITY = "User identity: not recorded in MovieLens"
LIKED_FILMS = 10  # the latest liked films a profile states
MAX_GENRES = 5


@dataclass(frozen=True)
class ConversationProfile:
    """The statements a conversation supports, in the order they are written."""

    statements: tuple[str, ...]

    @property
    def text(self) -> str:
        """The whole profile in PtE's user form."""
        return f"{IDENTITY}; User interests: {' '.join(self.statements)}"


def statement_profile(statement: str) -> str:
    """A one-statement profile: what each statement's vector is encoded from."""
    return ConversationProfile((statement,)).text


def liked_statement(title: str) -> str:
    """How a liked film is stated (as the offline writer names a user's best-rated films)."""
    return f"Rated highest: {title}."


def wanted_statement(genre: str) -> str:
    """How an asked-for genre (or one a mood boosts) is stated (as the writer names the genres a user returns to)."""
    return f"Returns to {genre}."


def unwanted_statement(genre: str) -> str:
    """How a genre the person wants to avoid is stated."""
    return f"Avoids {genre}."


def conversation_profile(prefs: Preferences, catalogue: Catalogue) -> ConversationProfile | None:
    """The profile the conversation supports: liked films, wanted and unwanted genres; None when it says nothing."""
    items = catalogue.items
    liked = [items[i].title for i in prefs.get("liked_items", [])[-LIKED_FILMS:] if i in items]
    wanted = list(dict.fromkeys([*prefs.get("genres_wanted", []), *prefs.get("mood_genres_boost", [])]))
    unwanted = list(dict.fromkeys([*prefs.get("genres_unwanted", []), *prefs.get("mood_genres_penalty", [])]))
    statements = [liked_statement(t) for t in liked] + [wanted_statement(g) for g in wanted[:MAX_GENRES]] + [
        unwanted_statement(g) for g in unwanted[:MAX_GENRES] if g not in wanted]
    return ConversationProfile(tuple(statements)) if statements else None


class ProfileChannel:
    """Scores every film for a conversation profile with a fitted PtE model, from precomputed statement vectors."""

    def __init__(self, model: PtERanker, embeddings: EmbeddingCache, catalogue: Catalogue, *,
                 show_progress: bool = False, whole_text: bool = False) -> None:
        """Encode (or read back from disk) the one-statement profiles of every film and every genre.

        `whole_text` encodes each conversation's whole profile instead of averaging statements (slower: a
        measurement of what the average loses).
        """
        self.model = model
        self.embeddings = embeddings
        self.whole_text = whole_text
        statements = [liked_statement(item.title) for item in catalogue.items.values()]
        statements += [f(g) for g in catalogue.genres for f in (wanted_statement, unwanted_statement)]
        self.vectors = self._encode(statements, show_progress=show_progress)

    def _encode(self, statements: Iterable[str], *, show_progress: bool = False) -> dict[str, np.ndarray]:
        unique = list(dict.fromkeys(statements))
        vectors = self.embeddings.encode([statement_profile(s) for s in unique], show_progress=show_progress,
                                         desc="encoding profile statements")
        return dict(zip(unique, vectors, strict=True))

    def vector(self, profile: ConversationProfile) -> np.ndarray:
        """The normalised mean of the statements' vectors (a statement never seen is encoded once, then kept)."""
        if self.whole_text:
            return self.embeddings.encoder.encode([profile.text])[0].astype(np.float32)
        missing = [s for s in profile.statements if s not in self.vectors]
        if missing:
            self.vectors.update(self._encode(missing))
        mean = np.mean([self.vectors[s] for s in profile.statements], axis=0)
        norm = float(np.linalg.norm(mean))
        return (mean / norm if norm > 0 else mean).astype(np.float32)

    def scores(self, profile: ConversationProfile, positions: np.ndarray | None = None) -> np.ndarray:
        """PtE scores of the films at `positions` (columns of the model's interactions; None: every film)."""
        return self.model.score_profile(self.vector(profile), positions)
