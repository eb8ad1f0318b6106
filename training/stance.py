"""The stance model: how a person relates to a film they name, learned from real dialogues.

ReDial asked both participants, after each conversation, whether the seeker had seen and liked every film
named in it. Two kinds of examples come from that:
- `named`: a film the seeker named first; the text is the sentence around it, the film written "<film>"
  ("I loved <film> but not the sequel");
- `reaction`: a film the recommender suggested alone in a turn; the text is the seeker's next turn ("never
  heard of it, sounds fun"). In the chat this reads a reaction to a pick when no film is named.
Labels combine the two answers: liked (liked, seen or unsaid), not_seen (not seen: liked-but-unseen means
wanting to see it), disliked, seen (seen, liking unsaid) and neutral (nothing said). The features are the
shared sentence encoder's embedding of the text, a handful of cue flags (negated "seen", dislike words,
questions), both crossed with the source, and a multinomial logistic regression on top: small, fast, and
retrained only when the dialogues, the exclusions, the encoder or the seed change.

The labels describe the whole dialogue, not the one sentence, so they are noisy; `cross_validate` reports
how much the model still beats a majority guess and a cue rule on held-out conversations.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from convrec.core.encoder import TextEncoder
from convrec.core.files import save_npz
from convrec.core.hashing import content_hash

from .dialogues import Dialogue, FilmAnswer, dialogue_bytes, load_dialogues

log = logging.getLogger(__name__)

VERSION = 1  # bump when a change here makes cached models wrong
LABELS: tuple[str, ...] = ("liked", "not_seen", "disliked", "seen", "neutral")
Source = Literal["named", "reaction"]
PLACEHOLDER = "<film>"
REGULARISATION_C = 3.0  # chosen by grouped 5-fold cross-validation over conversations (1 and 3 tried)
CUES: dict[str, re.Pattern[str]] = {
    "not_seen": re.compile(r"\b(haven'?t|have not|never|not|didn'?t|did not)\s+(even\s+)?(seen|watched|heard|saw)\b",
                           re.IGNORECASE),
    "seen": re.compile(r"\b(seen|saw|watched)\b", re.IGNORECASE),
    "dislike": re.compile(r"\b(didn'?t|did not|don'?t|do not)\s+(really\s+)?(like|enjoy|care)|\b(hate|hated|boring|"
                          r"awful|terrible|overrated|not a (big )?fan|meh|worst|dislike)\b", re.IGNORECASE),
    "like": re.compile(r"\b(love|loved|like|liked|enjoy|enjoyed|favou?rite|great|awesome|good|amazing|fan|classic)\b",
                       re.IGNORECASE),
    "question": re.compile(r"\?"),
    "want": re.compile(r"\b(want to|wanna|interested|sounds|check (it|that) out|look into|will watch|add it)\b",
                       re.IGNORECASE),
}
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\s+but\s+|\s+however\s+", re.IGNORECASE)


@dataclass(frozen=True)
class StanceExample:
    """One labelled text."""

    source: Source
    conversation: str
    text: str
    label: str


def combined_label(answer: FilmAnswer) -> str:
    """Fold ReDial's seen/liked answers into one stance."""
    if answer.liked == 1:
        return "not_seen" if answer.seen == 0 else "liked"
    if answer.liked == 0:
        return "disliked"
    if answer.seen == 1:
        return "seen"
    if answer.seen == 0:
        return "not_seen"
    return "neutral"


def sentence_around(text: str) -> str:
    """The sentence (or clause before/after a "but") that holds the placeholder; the whole text otherwise."""
    for part in _SENTENCE.split(text):
        if PLACEHOLDER in part:
            return part.strip()
    return text.strip()


def mention_context(message: str, spans: Sequence[tuple[int, int]], which: int) -> str:
    """The text a `named` stance is read from.

    The mention at `which` is written as the placeholder, the other mentions as "another film", and the text is cut to
    the sentence around it.
    """
    out = message
    for index in sorted(range(len(spans)), key=lambda i: -spans[i][0]):
        start, end = spans[index]
        out = out[:start] + (PLACEHOLDER if index == which else "another film") + out[end:]
    return sentence_around(out)


def examples_from(dialogues: Iterable[Dialogue]) -> list[StanceExample]:
    """Every labelled example: films the seeker named first, and reactions to a single suggested film."""
    examples: list[StanceExample] = []
    for dialogue in dialogues:
        turns = dialogue.turns()
        first: dict[str, int] = {}
        for index, turn in enumerate(turns):
            for movie in turn.movie_ids:
                first.setdefault(movie, index)
        for movie, index in first.items():
            answer, name = dialogue.seeker_answers.get(movie), dialogue.name(movie)
            if answer is None or not name:
                continue
            turn = turns[index]
            if turn.seeker:
                text = turn.text.replace(name, PLACEHOLDER)
                for other in set(turn.movie_ids) - {movie}:
                    other_name = dialogue.name(other)
                    if other_name:
                        text = text.replace(other_name, "another film")
                examples.append(StanceExample("named", dialogue.conversation, sentence_around(text),
                                              combined_label(answer)))
            elif len(set(turn.movie_ids)) == 1 and index + 1 < len(turns):
                examples.append(StanceExample("reaction", dialogue.conversation, turns[index + 1].text,
                                              combined_label(answer)))
    return examples


def _cue_flags(texts: Sequence[str]) -> np.ndarray:
    return np.array([[1.0 if pattern.search(t) else 0.0 for pattern in CUES.values()] for t in texts],
                    dtype=np.float32)


def features(encoder: TextEncoder, texts: Sequence[str], sources: Sequence[Source]) -> np.ndarray:
    """Embedding and cue flags, each also crossed with the source (named films and reactions read apart)."""
    vectors = encoder.encode(list(texts))
    flags = _cue_flags(texts)
    named = np.array([[1.0 if s == "named" else 0.0] for s in sources], dtype=np.float32)
    return np.hstack([vectors, named, vectors * named, flags, flags * named]).astype(np.float32)


class StanceModel:
    """A linear softmax over `features`; predicts without scikit-learn once trained."""

    def __init__(self, encoder: TextEncoder, coef: np.ndarray, intercept: np.ndarray, classes: Sequence[str]) -> None:
        """Wrap fitted weights; `coef` rows follow `classes`."""
        self.encoder = encoder
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.classes = tuple(str(c) for c in classes)

    def predict_proba(self, texts: Sequence[str], sources: Sequence[Source]) -> np.ndarray:
        """Class probabilities, one row per text, columns in `classes` order."""
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        logits = features(self.encoder, texts, sources) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str], sources: Sequence[Source]) -> list[tuple[str, float]]:
        """The most likely stance of each text and its probability."""
        proba = self.predict_proba(texts, sources)
        return [(self.classes[int(b)], float(proba[i, b])) for i, b in enumerate(proba.argmax(axis=1))]

    def save(self, path: Path) -> None:
        """Write weights, classes and the encoder fingerprint as one `.npz` (atomically)."""
        save_npz(path, coef=self.coef, intercept=self.intercept,
                 classes=np.array(self.classes), encoder=np.array(self.encoder.fingerprint))

    @classmethod
    def load(cls, path: Path, encoder: TextEncoder) -> StanceModel:
        """Read a saved model; refuse one trained on another encoder's embeddings."""
        with np.load(path, allow_pickle=False) as archive:
            if str(archive["encoder"]) != encoder.fingerprint:
                raise ValueError(f"{path}: trained with encoder {archive['encoder']}, not {encoder.fingerprint}")
            return cls(encoder, archive["coef"], archive["intercept"], [str(c) for c in archive["classes"]])


def _fit(x: np.ndarray, labels: Sequence[str], seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=REGULARISATION_C, max_iter=5000, random_state=seed)
    model.fit(x, np.asarray(labels))
    return model.coef_, model.intercept_, [str(c) for c in model.classes_]


def train(examples: Sequence[StanceExample], encoder: TextEncoder, *, seed: int = 0) -> StanceModel:
    """Fit the model on every example."""
    log.info("Training the stance model on %d real mentions", len(examples))
    x = features(encoder, [e.text for e in examples], [e.source for e in examples])
    coef, intercept, classes = _fit(x, [e.label for e in examples], seed)
    return StanceModel(encoder, coef, intercept, classes)


def rule_stance(text: str) -> str:
    """The cue rule the model is compared with.

    Negated 'seen' -> not_seen, dislike words -> disliked, 'seen' -> seen, like words -> liked, else neutral.
    """
    if CUES["not_seen"].search(text):
        return "not_seen"
    if CUES["dislike"].search(text):
        return "disliked"
    if CUES["like"].search(text):
        return "liked"
    if CUES["seen"].search(text):
        return "seen"
    return "neutral"


def cross_validate(examples: Sequence[StanceExample], encoder: TextEncoder, *, folds: int = 5,
                   seed: int = 0) -> dict[str, Any]:
    """Held-out quality per source: folds by conversation, the model against the majority label and the rule."""
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import GroupKFold

    x = features(encoder, [e.text for e in examples], [e.source for e in examples])
    labels = np.array([e.label for e in examples])
    groups = np.array([e.conversation for e in examples])
    predicted = np.empty_like(labels)
    for train_rows, test_rows in GroupKFold(n_splits=folds).split(x, labels, groups):
        coef, intercept, classes = _fit(x[train_rows], labels[train_rows], seed)
        predicted[test_rows] = np.asarray(classes)[(x[test_rows] @ coef.T + intercept).argmax(axis=1)]
    report: dict[str, Any] = {"examples": len(examples), "folds": folds, "labels": list(LABELS), "sources": {},
                              "predicted": [str(p) for p in predicted]}
    for source in ("named", "reaction"):
        rows = np.array([e.source == source for e in examples])
        if not rows.any():
            continue
        truth, guess = labels[rows], predicted[rows]
        majority = max(LABELS, key=lambda label: int((truth == label).sum()))
        rules = np.array([rule_stance(e.text) for e, keep in zip(examples, rows, strict=True) if keep])

        def scores(pred: np.ndarray, truth: np.ndarray = truth) -> dict[str, Any]:
            per_class = f1_score(truth, pred, labels=list(LABELS), average=None, zero_division=0)
            return {"accuracy": round(float(accuracy_score(truth, pred)), 4),
                    "macro_f1": round(float(f1_score(truth, pred, labels=list(LABELS), average="macro",
                                                     zero_division=0)), 4),
                    "f1": {label: round(float(v), 4) for label, v in zip(LABELS, per_class, strict=True)}}

        report["sources"][source] = {
            "examples": int(rows.sum()), "rows": [int(i) for i in np.flatnonzero(rows)],
            "label_counts": {label: int((truth == label).sum()) for label in LABELS},
            "model": scores(guess), "majority": {"label": majority, **scores(np.full(len(truth), majority))},
            "rule": scores(rules),
        }
    return report


def load_or_train(encoder: TextEncoder, cache_dir: Path, *, exclude: Iterable[str] = (), seed: int = 0) -> StanceModel:
    """The model over the packaged dialogues minus `exclude`, trained once per dialogues/exclusions/encoder/seed."""
    held_out = sorted(set(exclude))
    key = content_hash(dialogue_bytes(), held_out, encoder.fingerprint, seed, VERSION, REGULARISATION_C)
    path = cache_dir / f"stance-{key}.npz"
    if path.is_file():
        return StanceModel.load(path, encoder)
    model = train(examples_from(load_dialogues(exclude=held_out)), encoder, seed=seed)
    model.save(path)
    return model
