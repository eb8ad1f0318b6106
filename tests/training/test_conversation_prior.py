"""The conversation prior: per-dialogue counts and co-mention scores, checked against hand-computed values."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from convrec.core.catalogue import Catalogue
from convrec.training import conversation_prior
from convrec.training.conversation_prior import ConversationPrior, catalogue_resolver, mention_key, split_name
from convrec.training.dialogues import Dialogue

ITEMS = np.array([10, 20, 30])
TITLES = {("Alpha", 1990): 10, ("Beta", 1991): 20, ("Gamma", 1992): 30}


def dialogue(conversation: str, *names: str) -> Dialogue:
    return Dialogue(conversation=conversation, messages=(), movies={str(i): n for i, n in enumerate(names)},
                    seeker_answers={}, recommender_answers={})


def resolve(title: str, year: int | None) -> int | None:
    return TITLES.get((title, year))


@pytest.fixture()
def prior() -> ConversationPrior:
    """Three dialogues: {Alpha, Beta, New (2015)}, {Alpha, Beta}, {Beta, Gamma, Alpha (1990) again}."""
    return ConversationPrior.fit([dialogue("a", "Alpha (1990)", "Beta (1991)", "New (2015)"),
                                  dialogue("b", "Alpha (1990)", "Beta  (1991)"),
                                  dialogue("c", "Beta (1991)", "Gamma (1992)", "Alpha (1990)")], ITEMS, resolve)


def test_counts_are_per_dialogue(prior: ConversationPrior) -> None:
    assert prior.counts.tolist() == [3, 3, 1] and prior.dialogues == 3
    assert prior.popularity().tolist() == pytest.approx([1.0, 1.0, math.log(2) / math.log(4)])


def test_co_mentions_are_cosine_normalised(prior: ConversationPrior) -> None:
    # "New (2015)" (not in the catalogue) was named once, with Alpha (3 dialogues) and Beta (3):
    # 1 / (sqrt(1) * sqrt(3)) each, Gamma never; scaled so the best is 1.
    new = mention_key(None, "New", 2015)
    assert prior.knows(new) and not prior.knows(mention_key(None, "New", 2016))
    assert prior.co_mentioned([new]).tolist() == pytest.approx([1.0, 1.0, 0.0])
    # Gamma (1 dialogue) was named with Alpha (3) and Beta (3) once: 1 / (1 * sqrt(3)) for both; Gamma itself 0.
    assert prior.co_mentioned([mention_key(30, "Gamma", 1992)]).tolist() == pytest.approx([1.0, 1.0, 0.0])
    # Alpha with Beta in 3 dialogues: 3 / (sqrt(3) sqrt(3)) = 1; with Gamma once: 1 / (sqrt(3) * 1) = 0.577.
    assert prior.co_mentioned([mention_key(10, "Alpha", 1990)]).tolist() == pytest.approx(
        [0.0, 1.0, 1 / math.sqrt(3)])
    assert prior.co_mentioned([mention_key(10, "Alpha", 1990)], [0.0]).tolist() == [0.0, 0.0, 0.0]
    assert prior.co_mentioned(["title:unheard of|"]).tolist() == [0.0, 0.0, 0.0]


def test_save_and_load_round_trip(prior: ConversationPrior, tmp_path: Path) -> None:
    prior.save(tmp_path / "p.npz")
    again = ConversationPrior.load(tmp_path / "p.npz")
    assert again.keys == prior.keys and again.counts.tolist() == prior.counts.tolist()
    key = mention_key(None, "New", 2015)
    assert again.co_mentioned([key]).tolist() == prior.co_mentioned([key]).tolist()


def test_names_split_and_resolve_against_the_catalogue(tiny_catalogue: Catalogue) -> None:
    assert split_name("The Shining  (1980)") == ("The Shining", 1980)
    assert split_name("Blade Runner 2049") == ("Blade Runner 2049", None)
    resolve_tiny = catalogue_resolver(tiny_catalogue)
    assert resolve_tiny("The Shining", 1980) == 20 and resolve_tiny("Shining", 1981) == 20
    assert resolve_tiny("The Shining", 1997) is None  # the TV remake is another film
    assert resolve_tiny("Fargo", None) == 8


def test_the_packaged_prior_is_cached_and_holds_out_conversations(tiny_catalogue: Catalogue, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    items = np.array(sorted(tiny_catalogue.items))
    whole = conversation_prior.load_or_fit(tiny_catalogue, items, tmp_path)
    assert whole.dialogues == 1000 and whole.counts.sum() > 0  # The Shining, Fargo, ... are named in ReDial
    held_out = conversation_prior.load_or_fit(tiny_catalogue, items, tmp_path, exclude=["16162"])
    assert held_out.dialogues == 999
    monkeypatch.setattr(ConversationPrior, "fit", classmethod(lambda *a, **k: pytest.fail("fitted again")))
    assert conversation_prior.load_or_fit(tiny_catalogue, items, tmp_path).counts.tolist() == whole.counts.tolist()
