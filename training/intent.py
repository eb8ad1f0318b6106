"""The offline intent classifier: sentence embeddings + multinomial logistic regression.

The chat agent needs an intent for every message even without a language model. Hand-written utterances
(`data/intent_utterances.jsonl`, some with `{title}` placeholders filled from the catalogue, since real
messages name films) are embedded with the shared sentence encoder and a linear model is fitted on top:
small, fast, deterministic, and retrained only when the data, the titles, the encoder or the seed change.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from convrec.core.encoder import TextEncoder
from convrec.core.hashing import content_hash
from convrec.core.llm import INTENTS

log = logging.getLogger(__name__)

VERSION = 1  # bump when a change here makes cached classifiers wrong
DATA_FILE = "data/intent_utterances.jsonl"
PLACEHOLDER = "{title}"
FILLS_PER_TEMPLATE = 3  # placeholder templates are filled this many times with different titles
TITLE_SAMPLE = 300  # titles drawn from the catalogue for the fills (and hashed into the cache key)
LOWERCASE_SHARE = 0.3  # share of fills typed in lower case, as people often do
REGULARISATION_C = 10.0  # inverse L2 strength; unit-length embeddings need a weak penalty


@dataclass(frozen=True)
class Utterance:
    """One line of the data file: a message (maybe with `{title}` placeholders) and its intent."""

    text: str
    intent: str


@dataclass(frozen=True)
class Example:
    """A training message; `group` is the line it came from, so fills of one template stay together."""

    text: str
    intent: str
    group: int


# ----- data ----------------------------------------------------------------------------------------
def utterance_bytes() -> bytes:
    """Read the packaged utterance file (shipped as package data, so it works from a wheel too)."""
    return resources.files("convrec.training").joinpath(DATA_FILE).read_bytes()


def load_utterances(raw: bytes | None = None) -> list[Utterance]:
    """Parse the utterance file; a malformed line or unknown intent raises ValueError with its line."""
    text = (raw if raw is not None else utterance_bytes()).decode("utf-8")
    utterances: list[Utterance] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            utterance = Utterance(text=str(row["text"]).strip(), intent=str(row["intent"]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{DATA_FILE}:{number}: not a {{'text', 'intent'}} object ({exc})") from None
        if utterance.intent not in INTENTS:
            raise ValueError(f"{DATA_FILE}:{number}: unknown intent {utterance.intent!r}; one of {INTENTS}")
        if not utterance.text:
            raise ValueError(f"{DATA_FILE}:{number}: empty text")
        utterances.append(utterance)
    return utterances


def sample_titles(titles: Sequence[str], *, seed: int, size: int = TITLE_SAMPLE) -> list[str]:
    """Draw a deterministic sample of distinct titles (independent of the order they were given in)."""
    unique = sorted({t.strip() for t in titles if t and t.strip()})
    if len(unique) <= size:
        return unique
    rng = np.random.default_rng(seed)
    return [unique[i] for i in sorted(rng.choice(len(unique), size=size, replace=False))]


def expand(
    utterances: Sequence[Utterance], titles: Sequence[str], *, seed: int, fills: int = FILLS_PER_TEMPLATE
) -> list[Example]:
    """Turn templates into examples: each `{title}` template is filled `fills` times from `titles`."""
    rng = np.random.default_rng(seed)
    pool = list(titles)
    examples: list[Example] = []
    for group, utterance in enumerate(utterances):
        count = utterance.text.count(PLACEHOLDER)
        if count == 0:
            examples.append(Example(utterance.text, utterance.intent, group))
            continue
        if len(pool) < count:
            raise ValueError(f"need at least {count} titles to fill {utterance.text!r}, got {len(pool)}")
        seen: set[str] = set()
        for _ in range(fills):
            text = utterance.text
            for index in rng.choice(len(pool), size=count, replace=False):
                title = pool[int(index)]
                typed = title.lower() if rng.random() < LOWERCASE_SHARE else title
                text = text.replace(PLACEHOLDER, typed, 1)
            if text not in seen:
                seen.add(text)
                examples.append(Example(text, utterance.intent, group))
    return examples


# ----- the model -----------------------------------------------------------------------------------
class IntentClassifier:
    """A linear softmax over sentence embeddings; predicts without scikit-learn once trained."""

    def __init__(self, encoder: TextEncoder, coef: np.ndarray, intercept: np.ndarray,
                 classes: Sequence[str]) -> None:
        """Wrap fitted weights; `coef` rows follow `classes`."""
        self.encoder = encoder
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.classes = tuple(str(c) for c in classes)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Return class probabilities, one row per text, columns in `classes` order."""
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        logits = self.encoder.encode(list(texts)) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """Return the most likely intent of each text and its probability."""
        proba = self.predict_proba(texts)
        best = proba.argmax(axis=1)
        return [(self.classes[int(b)], float(proba[i, b])) for i, b in enumerate(best)]

    def save(self, path: Path) -> None:
        """Write weights, classes and the encoder fingerprint as one `.npz` (atomically)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                np.savez(file, allow_pickle=False, coef=self.coef, intercept=self.intercept,
                         classes=np.array(self.classes), encoder=np.array(self.encoder.fingerprint),
                         version=np.array(VERSION))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @classmethod
    def load(cls, path: Path, encoder: TextEncoder) -> IntentClassifier:
        """Read a saved classifier; refuse one trained on another encoder's embeddings."""
        with np.load(path, allow_pickle=False) as archive:
            fingerprint = str(archive["encoder"])
            if fingerprint != encoder.fingerprint:
                raise ValueError(f"{path}: trained with encoder {fingerprint}, not {encoder.fingerprint}")
            return cls(encoder, archive["coef"], archive["intercept"], [str(c) for c in archive["classes"]])


def _fit(vectors: np.ndarray, labels: Sequence[str], seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Fit the multinomial logistic regression (lbfgs is multinomial for several classes)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=5000, random_state=seed)
    model.fit(vectors, np.asarray(labels))
    return model.coef_, model.intercept_, [str(c) for c in model.classes_]


def train(examples: Sequence[Example], encoder: TextEncoder, *, seed: int) -> IntentClassifier:
    """Embed the examples and fit the classifier on all of them."""
    log.info("Training the intent classifier on %d examples", len(examples))
    vectors = encoder.encode([e.text for e in examples])
    coef, intercept, classes = _fit(vectors, [e.intent for e in examples], seed)
    return IntentClassifier(encoder, coef, intercept, classes)


def cross_validate(examples: Sequence[Example], encoder: TextEncoder, folds: int = 5,
                   seed: int = 0) -> dict[str, Any]:
    """Estimate accuracy on unseen phrasings: grouped, stratified k-fold, fills of a template never split.

    Returns accuracy, macro-F1, per-class F1 and the confusion matrix (rows true, columns predicted, in
    `labels` order).
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
    from sklearn.model_selection import StratifiedGroupKFold

    vectors = encoder.encode([e.text for e in examples])
    labels = np.array([e.intent for e in examples])
    groups = np.array([e.group for e in examples])
    predicted = np.empty_like(labels)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_rows, test_rows in splitter.split(vectors, labels, groups):
        coef, intercept, classes = _fit(vectors[train_rows], labels[train_rows], seed)
        logits = vectors[test_rows] @ coef.T + intercept
        predicted[test_rows] = np.asarray(classes)[logits.argmax(axis=1)]
    order = list(INTENTS)
    per_class = f1_score(labels, predicted, labels=order, average=None, zero_division=0)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_f1": float(f1_score(labels, predicted, labels=order, average="macro", zero_division=0)),
        "per_class_f1": {intent: float(score) for intent, score in zip(order, per_class, strict=True)},
        "confusion": confusion_matrix(labels, predicted, labels=order).tolist(),
        "labels": order,
        "n_examples": len(examples),
        "folds": folds,
        "errors": [(e.text, e.intent, str(p))
                   for e, p in zip(examples, predicted, strict=True) if e.intent != p],
    }


def load_or_train(
    encoder: TextEncoder, cache_dir: Path, titles: list[str], *, seed: int = 0
) -> IntentClassifier:
    """Return the classifier for this data, title sample, encoder and seed, training it only once.

    `titles` are the catalogue's titles; they are passed in so this module never loads the catalogue.
    """
    raw = utterance_bytes()
    sample = sample_titles(titles, seed=seed)
    key = content_hash(raw, sample, encoder.fingerprint, seed, VERSION)
    path = cache_dir / f"intent-{key}.npz"
    if path.is_file():
        log.info("Loading the intent classifier from %s", path)
        return IntentClassifier.load(path, encoder)
    classifier = train(expand(load_utterances(raw), sample, seed=seed), encoder, seed=seed)
    classifier.save(path)
    return classifier
