"""Title search: which catalogue films a typed title, or a free-text message, names.

`find_title` resolves one title as a person types it (any case, articles moved or dropped, typos, a year);
`find_in_text` finds every film a whole message mentions, through `mentions.find_mentions`. Among films of one
name, the most rated comes first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import fuzz, process

from .mentions import Titled, TitleLexicon, find_mentions
from .titles import search_key

_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


@dataclass(frozen=True)
class TitleMatch:
    """A title found in text: which item, how sure (0-100) and the words that matched."""

    item_id: int
    score: float
    span: str


class TitleSearch:
    """Title keys of a catalogue's films, built on first use and shared by every search."""

    def __init__(self, items: Mapping[int, Titled], popularity: Mapping[int, int]) -> None:
        self.items = items
        self.popularity = popularity

    @cached_property
    def _title_keys(self) -> tuple[list[str], list[int]]:
        keys: list[str] = []
        ids: list[int] = []
        for item in self.items.values():
            for name in (item.title, *item.aliases):
                key = search_key(name)
                if key:
                    keys.append(key)
                    ids.append(item.item_id)
        return keys, ids

    @cached_property
    def _exact_keys(self) -> dict[str, list[int]]:
        keys, ids = self._title_keys
        exact: dict[str, list[int]] = {}
        for key, item_id in zip(keys, ids, strict=True):
            exact.setdefault(key, []).append(item_id)
        return exact

    @cached_property
    def title_lexicon(self) -> TitleLexicon:
        """Title keys, partial names and fuzzy-search lists for `mentions.find_mentions`, built on first use."""
        return TitleLexicon.build(self.items, self.popularity)

    def exact_ids(self, key: str) -> list[int]:
        """The items whose title or alias has exactly this `search_key`, most rated first."""
        return self._by_popularity(self._exact_keys.get(key, ()))

    def _by_popularity(self, item_ids: Iterable[int]) -> list[int]:
        return sorted(set(item_ids), key=lambda i: (-int(self.popularity.get(i, 0)), i))

    def find_title(self, query: str, *, limit: int = 5, cutoff: float = 80.0) -> list[TitleMatch]:
        """Find the items a typed title most likely means, best first; tolerates case, articles and typos.

        A year in the query ("Heat 1995", "Heat (1995)") prefers items from that year.
        """
        year_match = _YEAR.search(query)
        year = int(year_match.group(1)) if year_match else None
        key = search_key(_YEAR.sub(" ", query) if year else query)
        if not key:
            return []
        if key in self._exact_keys:
            matches = [TitleMatch(i, 100.0, query.strip()) for i in self.exact_ids(key)]
        else:
            keys, ids = self._title_keys
            found = process.extract(key, keys, scorer=fuzz.ratio, limit=limit * 3, score_cutoff=cutoff)
            best: dict[int, float] = {}
            for _, score, position in found:
                best[ids[position]] = max(best.get(ids[position], 0.0), float(score))
            pop = self.popularity
            ranked = sorted(best, key=lambda i: (-best[i], -int(pop.get(i, 0)), i))
            matches = [TitleMatch(i, best[i], query.strip()) for i in ranked]
        if year is not None:
            # A year that contradicts the title ("Blade Runner 2049") means a film we do not have.
            matches = [m for m in matches if abs((self.items[m.item_id].year or year) - year) <= 1]
        return matches[:limit]

    def find_in_text(self, text: str) -> list[TitleMatch]:
        """Find the catalogue films a free-text message mentions, in order of appearance, each once.

        The mentions come from `mentions.find_mentions` (case, typos, partial titles, "Title (Year)"); a
        one-word or plain-word title needs evidence ("something big" is not *Big*, "like Heat" is *Heat*), and a
        title written with another film's year or number ("Blade Runner 2049") names no catalogue film. The span
        is the mention as written, year included.
        """
        found: list[TitleMatch] = []
        for mention in find_mentions(text, self):
            if mention.item_id is not None and all(m.item_id != mention.item_id for m in found):
                found.append(TitleMatch(mention.item_id, mention.score, mention.text))
        return found
