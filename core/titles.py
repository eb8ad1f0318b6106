"""Title normalisation: MovieLens writes "Usual Suspects, The" and "Seven (Se7en)"; people type "the usual
suspects", "se7en" or "Usual Suspect (1995)". Both sides are reduced to one search key."""

from __future__ import annotations

import re
import unicodedata

ARTICLES = ("the", "a", "an", "le", "la", "les", "l'", "il", "el", "das", "der", "die", "los", "las")
_TRAILING_ARTICLE = re.compile(r"^(?P<body>.+), (?P<art>The|A|An|Le|La|Les|L'|Il|El|Das|Der|Die|Los|Las)$")
_BRACKETS = re.compile(r"\s*\(([^()]*)\)")
_YEAR = re.compile(r"\((?:18|19|20)\d\d\)|\[(?:18|19|20)\d\d\]")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def move_article_front(title: str) -> str:
    """Turn "Matrix, The" into "The Matrix"; leave other titles alone."""
    match = _TRAILING_ARTICLE.match(title.strip())
    if not match:
        return title.strip()
    article = match.group("art")
    joiner = "" if article.endswith("'") else " "
    return f"{article}{joiner}{match.group('body')}"


def split_title(raw: str) -> tuple[str, tuple[str, ...]]:
    """Split a MovieLens title into its display form and its bracketed aliases.

    "Horseman on the Roof, The (Hussard sur le toit, Le)" -> ("The Horseman on the Roof",
    ("Le Hussard sur le toit",)); a bracketed year is dropped, since the year is its own field.
    """
    without_year = _YEAR.sub("", raw).strip()
    aliases = tuple(
        move_article_front(alias.strip())
        for alias in _BRACKETS.findall(without_year)
        if alias.strip() and not alias.strip().lower().startswith("a.k.a")
    )
    main = _BRACKETS.sub("", without_year).strip()
    return move_article_front(main) or raw.strip(), aliases


def year_in_title(raw: str) -> int | None:
    """Return a year written in brackets inside a title, e.g. "(1995)", if any."""
    found = _YEAR.search(raw)
    return int(found.group(0)[1:-1]) if found else None


def search_key(text: str) -> str:
    """Reduce a title or a typed mention to lowercase words without articles, accents, years or punctuation."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = _YEAR.sub(" ", move_article_front(text)).lower().replace("&", " and ").replace("'", "")
    words = _NON_WORD.sub(" ", text).split()
    while words and words[0] in {a.rstrip("'") for a in ARTICLES}:
        words = words[1:]
    return " ".join(words)
