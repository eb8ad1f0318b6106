"""English phrasing has one copy, and item documents use it: "retired people", never "retireds"."""

from __future__ import annotations

import dataclasses

from convrec.core.catalogue import Audience, Catalogue
from convrec.core.phrasing import OCCUPATION_GROUPS, join_words, occupation_plural
from convrec.retrieval.documents import document_text


def test_join_words_reads_like_a_person() -> None:
    assert join_words([]) == ""
    assert join_words(["Heat"]) == "Heat"
    assert join_words(["Heat", "Fargo"]) == "Heat and Fargo"
    assert join_words(iter(["Heat", "Fargo", "Alien"])) == "Heat, Fargo and Alien"


def test_every_movielens_group_is_named() -> None:
    assert occupation_plural("engineer") == "engineers"
    assert occupation_plural("salesman") == "salespeople"
    assert occupation_plural("retired") == "retired people"
    assert set(OCCUPATION_GROUPS) == {"entertainment", "healthcare", "marketing", "salesman", "none", "other",
                                      "retired"}


def test_item_documents_name_retired_people(tiny_catalogue: Catalogue) -> None:
    """Regression (issue 20): retrieval's own copy of the groups lacked "retired" and wrote "retireds"."""
    copy = dataclasses.replace(tiny_catalogue)
    copy.audiences = {1: Audience(12, 4.2, "55+", ("retired", "salesman"), 0.5)}  # type: ignore[misc]
    text = document_text(copy, copy.items[1], state_kg_facts=False, profile=None)
    assert "rated more often than average by retired people and salespeople." in text
    assert "retireds" not in text
