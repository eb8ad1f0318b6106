"""The stance model: labels from ReDial's answers, the text each example is read from, and (on the packaged real
dialogues, held out by conversation) a model that beats a majority guess and a cue rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from convrec.core.encoder import TextEncoder, load_encoder
from convrec.training import stance
from convrec.training.dialogues import Dialogue, FilmAnswer, load_dialogues


@pytest.mark.parametrize(("liked", "seen", "label"), [
    (1, 1, "liked"), (1, 2, "liked"), (1, 0, "not_seen"), (0, 1, "disliked"), (0, 0, "disliked"),
    (2, 1, "seen"), (2, 0, "not_seen"), (2, 2, "neutral")])
def test_answers_fold_into_one_stance(liked: int, seen: int, label: str) -> None:
    assert stance.combined_label(FilmAnswer(suggested=0, seen=seen, liked=liked)) == label


def test_examples_read_the_seekers_sentence_or_their_reaction() -> None:
    dialogue = Dialogue(
        conversation="7", movies={"1": "Heat (1995)", "2": "Fargo (1996)", "3": "Big (1988)"},
        messages=((True, "Hi! I loved @1 but not the ending. Also @2 is great"), (False, "Have you seen @3 ?"),
                  (True, "never heard of it, sounds fun")),
        seeker_answers={"1": FilmAnswer(0, 1, 1), "2": FilmAnswer(0, 1, 2), "3": FilmAnswer(1, 0, 1)},
        recommender_answers={})
    examples = {(e.source, e.text, e.label) for e in stance.examples_from([dialogue])}
    assert examples == {("named", "I loved <film>", "liked"), ("named", "Also <film> is great", "seen"),
                        ("reaction", "never heard of it, sounds fun", "not_seen")}


def test_mention_context_marks_one_film_and_keeps_its_sentence() -> None:
    message = "I hated Scream. But Fargo was great and Heat too"
    spans = [(8, 14), (20, 25), (40, 44)]
    assert stance.mention_context(message, spans, 1) == "But <film> was great and another film too"
    assert stance.mention_context(message, spans, 0) == "I hated <film>."


def test_the_rule_reads_cue_words() -> None:
    assert stance.rule_stance("I haven't seen <film>") == "not_seen"
    assert stance.rule_stance("didn't like <film> at all") == "disliked"
    assert stance.rule_stance("I saw <film> last week") == "seen"
    assert stance.rule_stance("<film> is my favorite") == "liked"


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    """The packaged all-MiniLM-L6-v2."""
    return load_encoder(None)


@pytest.mark.slow
def test_the_model_beats_the_majority_and_the_rule_on_held_out_conversations(encoder: TextEncoder) -> None:
    report = stance.cross_validate(stance.examples_from(load_dialogues()), encoder, folds=5)
    named, reaction = report["sources"]["named"], report["sources"]["reaction"]
    assert named["examples"] > 1500 and reaction["examples"] > 1800
    # Named films are mostly liked (86%): the model keeps the majority's accuracy and reads the other stances.
    assert named["model"]["accuracy"] >= named["majority"]["accuracy"] - 0.005
    assert named["model"]["macro_f1"] > named["majority"]["macro_f1"] + 0.05
    assert named["model"]["macro_f1"] > named["rule"]["macro_f1"]
    assert reaction["model"]["accuracy"] > max(reaction["majority"]["accuracy"], reaction["rule"]["accuracy"]) + 0.1
    assert reaction["model"]["macro_f1"] > reaction["rule"]["macro_f1"]


def test_load_or_train_caches_per_exclusion(encoder: TextEncoder, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real_train = stance.train

    def counted(examples, encoder, *, seed=0):  # noqa: ANN001, ANN202
        calls.append(len(examples))
        return real_train(examples[:200], encoder, seed=seed)  # a small fit: this test is about the cache

    monkeypatch.setattr(stance, "train", counted)
    model = stance.load_or_train(encoder, tmp_path)
    again = stance.load_or_train(encoder, tmp_path)
    held_out = stance.load_or_train(encoder, tmp_path, exclude=["16162"])
    assert len(calls) == 2 and calls[1] < calls[0]
    assert (again.coef == model.coef).all() and held_out is not None
    assert model.predict(["I haven't seen <film> yet"], ["named"])[0][0] in stance.LABELS
