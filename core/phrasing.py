"""English phrasing shared by item documents, profiles and explanations: lists of words and groups of people.

One copy, so that a document, a profile and a reason name the same people the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

# MovieLens occupations whose plural is not the name plus "s".
OCCUPATION_GROUPS: dict[str, str] = {
    "entertainment": "people in entertainment", "healthcare": "people in healthcare",
    "marketing": "people in marketing", "salesman": "salespeople", "none": "people with no occupation",
    "other": "people with other occupations", "retired": "retired people",
}


def occupation_plural(occupation: str) -> str:
    """Name the people of a MovieLens occupation ("engineer" -> "engineers", "retired" -> "retired people")."""
    return OCCUPATION_GROUPS.get(occupation, occupation + "s")


def join_words(parts: Iterable[str]) -> str:
    """Join phrases as a person would: "a", "a and b", "a, b and c"."""
    words = list(parts)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
