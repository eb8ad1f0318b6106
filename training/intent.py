"""The offline intent (dialogue act) classifier: sentence embeddings + multinomial logistic regression.

The chat agent needs an intent for every message even without a language model. Two kinds of labelled
messages are embedded with the shared sentence encoder and a linear model is fitted on top:
- hand-written utterances (`data/intent_utterances.jsonl`, some with `{title}` placeholders filled from the
  catalogue, since real messages name films): every act, including the ones real seekers rarely use (why);
- real seeker turns from ReDial dialogues (`data/redial_acts.jsonl`, labelled as `docs/labelling.md` says):
  how people actually write ("Hi im looking for a good horroe movie like ...", "I loved it!").
Small, fast, deterministic, and retrained only when the data, the titles, the encoder, the seed or the held-out
conversations change. `cross_validate_real` measures it on real turns of held-out conversations.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from convrec.core.encoder import TextEncoder
from convrec.core.files import save_npz
from convrec.core.hashing import content_hash
from convrec.core.intents import INTENTS

log = logging.getLogger(__name__)

VERSION = 2  # bump when a change here makes cached classifiers wrong
DATA_FILE = "data/intent_utterances.jsonl"
REAL_FILE = "data/redial_acts.jsonl"
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
    """A training message.

    `group` is the line it came from (fills of one template stay together) or, for a real turn, its conversation.
    """

    text: str
    intent: str
    group: int | str


@dataclass(frozen=True)
class RealTurn:
    """A labelled seeker turn from a real dialogue."""

    conversation: str
    text: str
    intent: str


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


def real_bytes() -> bytes:
    """Read the packaged labelled real turns."""
    return resources.files("convrec.training").joinpath(REAL_FILE).read_bytes()


def load_real_turns(raw: bytes | None = None) -> list[RealTurn]:
    """Parse the labelled real turns; a malformed line or unknown act raises ValueError with its line."""
    turns = []
    for number, line in enumerate((raw if raw is not None else real_bytes()).decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            turn = RealTurn(str(row["conversation"]), str(row["text"]).strip(), str(row["act"]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{REAL_FILE}:{number}: not a {{'conversation', 'text', 'act'}} object ({exc})") from None
        if turn.intent not in INTENTS:
            raise ValueError(f"{REAL_FILE}:{number}: unknown act {turn.intent!r}; one of {INTENTS}")
        turns.append(turn)
    return turns


def real_examples(turns: Sequence[RealTurn], exclude: Sequence[str] = ()) -> list[Example]:
    """Real turns as examples grouped by conversation, leaving out the held-out conversations."""
    skip = set(exclude)
    return [Example(t.text, t.intent, f"redial:{t.conversation}") for t in turns if t.conversation not in skip]


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
        save_npz(path, coef=self.coef, intercept=self.intercept,
                 classes=np.array(self.classes), encoder=np.array(self.encoder.fingerprint),
                 version=np.array(VERSION))

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


def cross_validate_real(templates: Sequence[Example], real: Sequence[Example], encoder: TextEncoder,
                        folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Measure on real turns of held-out conversations.

    Each fold trains on every template plus the real turns of the other folds' conversations, and is scored on its own
    real turns. Beside it, the classifier trained on templates only (what convrec had before it learned from real
    dialogues) and the majority act.
    """
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import GroupKFold

    template_vectors = encoder.encode([e.text for e in templates])
    template_labels = np.array([e.intent for e in templates])
    vectors = encoder.encode([e.text for e in real])
    labels = np.array([e.intent for e in real])
    groups = np.array([str(e.group) for e in real])
    with_real = np.empty_like(labels)
    for train_rows, test_rows in GroupKFold(n_splits=folds).split(vectors, labels, groups):
        coef, intercept, classes = _fit(np.vstack([template_vectors, vectors[train_rows]]),
                                        [*template_labels, *labels[train_rows]], seed)
        with_real[test_rows] = np.asarray(classes)[(vectors[test_rows] @ coef.T + intercept).argmax(axis=1)]
    coef, intercept, classes = _fit(template_vectors, list(template_labels), seed)
    templates_only = np.asarray(classes)[(vectors @ coef.T + intercept).argmax(axis=1)]
    majority = max(set(labels), key=lambda act: int((labels == act).sum()))
    present = [act for act in INTENTS if act in set(labels)]

    def scores(predicted: np.ndarray) -> dict[str, Any]:
        per_class = f1_score(labels, predicted, labels=present, average=None, zero_division=0)
        return {"accuracy": round(float(accuracy_score(labels, predicted)), 4),
                "macro_f1": round(float(f1_score(labels, predicted, labels=present, average="macro",
                                                 zero_division=0)), 4),
                "f1": {act: round(float(v), 4) for act, v in zip(present, per_class, strict=True)}}

    return {"real_turns": len(real), "conversations": len(set(groups)), "folds": folds,
            "label_counts": {act: int((labels == act).sum()) for act in present},
            "templates_and_real": scores(with_real), "templates_only": scores(templates_only),
            "majority": {"act": str(majority), **scores(np.full(len(labels), majority))},
            "predicted": [str(p) for p in with_real],
            "errors": [(e.text, e.intent, str(p)) for e, p in zip(real, with_real, strict=True) if e.intent != p]}


def load_or_train(
    encoder: TextEncoder, cache_dir: Path, titles: list[str], *, seed: int = 0, exclude: Sequence[str] = ()
) -> IntentClassifier:
    """Return the classifier for this data, title sample, encoder, seed and held-out conversations, trained once.

    `titles` are the catalogue's titles; they are passed in so this module never loads the catalogue.
    `exclude` names real conversations to leave out (an evaluation holds them out).
    """
    raw, real_raw = utterance_bytes(), real_bytes()
    sample = sample_titles(titles, seed=seed)
    held_out = sorted(set(exclude))
    key = content_hash(raw, real_raw, sample, encoder.fingerprint, seed, VERSION, held_out)
    path = cache_dir / f"intent-{key}.npz"
    if path.is_file():
        log.info("Loading the intent classifier from %s", path)
        return IntentClassifier.load(path, encoder)
    examples = expand(load_utterances(raw), sample, seed=seed) + real_examples(load_real_turns(real_raw), held_out)
    classifier = train(examples, encoder, seed=seed)
    classifier.save(path)
    return classifier
