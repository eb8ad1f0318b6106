"""Constraint phrasings, table-driven: each sentence in constraint_phrasings.yaml against the slots it means.

The table covers negation and direction for genres, moods, eras and years ("not from the 90s", "nothing
before 1980", "anything but horror", "no horror, but a comedy"), with real seeker messages from ReDial's
validation split beside phrasings written for it. Every slot the table leaves out must stay empty, so a
spurious genre, mood or year fails too.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from convrec.agent.offline.slots import extract_preferences
from convrec.core.catalogue import Catalogue

TABLE = Path(__file__).with_name("constraint_phrasings.yaml")
SLOTS = ("genres_wanted", "genres_unwanted", "year_min", "year_max", "years_excluded", "moods")
META = ("text", "class", "source", "conversation", "xfail")
CASES: list[dict[str, Any]] = yaml.safe_load(TABLE.read_text(encoding="utf-8"))


def expected(case: dict[str, Any]) -> dict[str, Any]:
    """The slots a case means, with every slot it leaves out empty or None."""
    return {
        "genres_wanted": sorted(case.get("genres_wanted", [])),
        "genres_unwanted": sorted(case.get("genres_unwanted", [])),
        "year_min": case.get("year_min"),
        "year_max": case.get("year_max"),
        "years_excluded": sorted(tuple(span) for span in case.get("years_excluded", [])),
        "moods": sorted(case.get("moods", [])),
    }


def params() -> list[Any]:
    """One parameter per case; a known miss is expected to fail, strictly, so that mending it is noticed."""
    return [pytest.param(case, id=f"{i:03d}-{case['text'][:50]}",
                         marks=[pytest.mark.xfail(reason=case["xfail"], strict=True)] if "xfail" in case else [])
            for i, case in enumerate(CASES)]


@pytest.mark.parametrize("case", params())
def test_phrasing(tiny_catalogue: Catalogue, case: dict[str, Any]) -> None:
    update = extract_preferences(case["text"], tiny_catalogue, [])
    got = {
        "genres_wanted": sorted(update.genres_wanted),
        "genres_unwanted": sorted(update.genres_unwanted),
        "year_min": update.year_min,
        "year_max": update.year_max,
        "years_excluded": sorted(tuple(span) for span in update.years_excluded),
        "moods": sorted(update.moods),
    }
    assert got == expected(case)


def test_table_is_well_formed(tiny_catalogue: Catalogue) -> None:
    """A misspelt key would silently expect an empty slot; a fixture title would test title detection."""
    for case in CASES:
        assert set(case) <= set(SLOTS) | set(META), case
        assert ("source" in case) == ("conversation" in case), case
        assert case.get("source", "redial") == "redial", case
        assert not tiny_catalogue.find_titles_in_text(case["text"]), case["text"]
    texts = [case["text"] for case in CASES]
    assert len(texts) == len(set(texts)), [t for t, n in Counter(texts).items() if n > 1]


def test_table_size() -> None:
    classes = Counter(case["class"] for case in CASES if "xfail" not in case)
    passing = [case for case in CASES if "xfail" not in case]
    assert len(passing) >= 150
    assert sum(case.get("source") == "redial" for case in passing) >= 40
    for needed in ("year_after", "year_before", "year_negated_bound", "year_excluded", "year_positive",
                   "genre_negation", "genre_scope", "genre_positive", "typo", "mood", "era", "no_slot"):
        assert classes[needed] >= 3, needed
