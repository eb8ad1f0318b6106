"""The offline profile writer: short-term, long-term and undated profiles composed from the history itself.

Without a language model the texts still carry what an LLM's would: the latest films by name with their
dates and ratings, the genres and eras a person returns to, the films they rated highest and lowest, genres
they avoid, and how recent taste differs from older taste. Every statement is computed from the history,
so a profile never claims what the data does not say. The short-term text follows the reference prompt's
shape: the last 3 films, 300-500 characters.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import numpy as np

from convrec.core.phrasing import join_words

from .history import HistoryEntry
from .writer import UserProfiles

# 2: the short-term text names the 7 films before the last 3, the long-term text the 10 best-rated films
# 3: the long-term text names the 20 best-rated films, in up to 1100 characters (ML-100K: a median of 222
#    MiniLM tokens; 4% of texts pass the encoder's 256 and lose the end of their last sentence)
WRITER_VERSION = 3
SHORT_ITEMS = 3  # the reference prompt centres the short-term profile on the last 3 items
RECENT_WINDOW = 10  # recent genre mix compared with everything before it; its films are named too
FAVOURITES = 20  # best-rated films named in the long-term profile
SHORT_MAX_CHARS = 500
LONG_MAX_CHARS = 1100
LOVED, DISLIKED = 4.0, 2.0
MIN_GENRE_FILMS = 3  # a genre needs this many films before its average says anything


class OfflineProfileWriter:
    """Composes the three profile texts from data; deterministic, so its cache never goes stale."""

    @property
    def identity(self) -> str:
        """Part of every profile cache key."""
        return f"offline/v{WRITER_VERSION}"

    def write(self, history: list[HistoryEntry]) -> UserProfiles:
        """Write the short-term, long-term and undated profiles of one non-empty, oldest-first history."""
        if not history:
            raise ValueError("a profile needs at least one film in the history")
        return UserProfiles(short_term=short_term(history), long_term=long_term(history), whole=whole(history))


# ----- the three texts -----------------------------------------------------------------------------------
def short_term(history: list[HistoryEntry]) -> str:
    """The last 3 films with dates and ratings, their genres and eras, and the recent shift in taste."""
    recent = history[-SHORT_ITEMS:]
    sentences = [f"Most recently{_when(recent)} watched {join_words(_cite(e) for e in reversed(recent))}."]
    window = history[-RECENT_WINDOW:-SHORT_ITEMS]
    if window:  # titles carry what genres cannot: an encoder places "Star Wars" near its sequels
        sentences.append(f"Before that: {join_words(e.title for e in reversed(window))}.")
    genres = top_genres(recent, 3)
    if genres:
        sentences.append(f"These lean towards {join_words(genres)}{_era_clause(recent)}.")
    loved = [e.title for e in recent if e.rating is not None and e.rating >= LOVED]
    disliked = [e.title for e in recent if e.rating is not None and e.rating <= DISLIKED]
    if loved:
        sentences.append(f"Enjoyed {join_words(loved)}.")
    if disliked:
        sentences.append(f"Did not care for {join_words(disliked)}.")
    shift = _shift(history[:-RECENT_WINDOW], history[-RECENT_WINDOW:], "Lately", "than before")
    if shift:
        sentences.append(shift)
    return _fit(sentences, SHORT_MAX_CHARS)


def long_term(history: list[HistoryEntry]) -> str:
    """What held over the whole history: lasting genres, favourites, dislikes, eras and the drift in taste."""
    sentences = [_span_sentence(history), *_favourites_sentence(history)]
    thirds = [part for part in np.array_split(np.arange(len(history)), 3) if len(part)]
    lasting = set.intersection(*({g for i in part for g in history[i].genres} for part in thirds))
    favourites = top_genres(history, 3)
    if favourites:
        steady = [g for g in favourites if g in lasting and len(thirds) == 3]
        shares = ", ".join(genre_share(history, g) for g in favourites)
        sentences.append(f"Most-watched genres over the years: {shares}.")
        if steady:
            sentences.append(f"Keeps coming back to {join_words(steady)} from the first ratings to the latest.")
    sentences.extend(_dislikes_sentences(history))
    sentences.append(eras_sentence(history))
    if len(history) >= 6:
        third = max(2, len(history) // 3)
        drift = _shift(history[:third], history[-third:], "Compared with the earliest ratings, the latest have",
                       "", verb_free=True)
        if drift:
            sentences.append(drift)
    return _fit([s for s in sentences if s], LONG_MAX_CHARS)


def whole(history: list[HistoryEntry]) -> str:
    """One undated summary of everything (no order, no dates): the ablation without a temporal split."""
    count = len(history)
    sentences = [f"Has watched {count} film{'s' if count != 1 else ''}{_mean_clause(history)}."]
    favourites = top_genres(history, 3)
    if favourites:
        sentences.append(f"Most-watched genres: {', '.join(genre_share(history, g) for g in favourites)}.")
    sentences.extend(_favourites_sentence(history))
    sentences.extend(_dislikes_sentences(history))
    sentences.append(eras_sentence(history))
    return _fit([s for s in sentences if s], LONG_MAX_CHARS)


# ----- pieces ----------------------------------------------------------------------------------------------
def _cite(entry: HistoryEntry) -> str:
    year = f"{entry.year}, " if entry.year else ""
    rating = f"rated {entry.rating:g}/5" if entry.rating is not None else ""
    inside = f"{year}{rating}".rstrip(", ")
    return f"{entry.title} ({inside})" if inside else entry.title


def _month(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%B %Y")


def _when(entries: list[HistoryEntry]) -> str:
    times = [e.timestamp for e in entries if e.timestamp]
    return f" ({_month(max(times))})" if times else ""


def top_genres(entries: list[HistoryEntry], n: int) -> list[str]:
    """Most frequent genres, ties broken by the higher mean rating, then by name."""
    counts = Counter(g for e in entries for g in e.genres)
    means = _genre_means(entries)
    return [g for g, _ in sorted(counts.items(), key=lambda kv: (-kv[1], -means.get(kv[0], 0.0), kv[0]))[:n]]


def _genre_means(entries: list[HistoryEntry]) -> dict[str, float]:
    sums: dict[str, list[float]] = {}
    for entry in entries:
        if entry.rating is not None:
            for genre in entry.genres:
                sums.setdefault(genre, []).append(entry.rating)
    return {g: float(np.mean(v)) for g, v in sums.items()}


def genre_share(entries: list[HistoryEntry], genre: str) -> str:
    """A genre's share of the films and its average rating, e.g. "Drama (39% of films, average 3.9)"."""
    films = [e for e in entries if genre in e.genres]
    share = round(100 * len(films) / len(entries))
    rated = [e.rating for e in films if e.rating is not None]
    mean = f", average {np.mean(rated):.1f}" if rated else ""
    return f"{genre} ({share}% of films{mean})"


def _decade(year: int) -> str:
    return f"{year // 10 * 10}s"


def _era_clause(entries: list[HistoryEntry]) -> str:
    decades = Counter(_decade(e.year) for e in entries if e.year)
    if not decades:
        return ""
    top, count = decades.most_common(1)[0]
    return f", {'all' if count == len(entries) else 'mostly'} from the {top}"


def eras_sentence(entries: list[HistoryEntry]) -> str:
    """The decades the films come from, the main one with its share ("Mostly films from the 1990s (70%) ...")."""
    decades = Counter(_decade(e.year) for e in entries if e.year)
    if not decades:
        return ""
    total = sum(decades.values())
    ranked = decades.most_common()
    main, count = ranked[0]
    also = [d for d, c in ranked[1:3] if c / total >= 0.1]
    text = f"Mostly films from the {main} ({round(100 * count / total)}%)"
    return text + (f", also the {join_words(also)}." if also else ".")


def _mean_clause(entries: list[HistoryEntry]) -> str:
    rated = [e.rating for e in entries if e.rating is not None]
    return f", average rating {np.mean(rated):.1f} of 5" if rated else ""


def _span_sentence(history: list[HistoryEntry]) -> str:
    times = [e.timestamp for e in history if e.timestamp]
    count = f"{len(history)} film{'s' if len(history) != 1 else ''}"
    if times:
        first, last = _month(min(times)), _month(max(times))
        span = f"in {first}" if first == last else f"from {first} to {last}"
        return f"Has rated {count} {span}{_mean_clause(history)}."
    return f"Has watched {count}{_mean_clause(history)}."


def _favourites_sentence(history: list[HistoryEntry]) -> list[str]:
    """The best-rated films by name, or, without ratings, the latest films.

    Best-rated means at least 4 of 5; best first, recent first on ties. Named films let an encoder place the person near
    the films such viewers also watch.
    """
    rated = best_first(history)
    if not rated:
        return [f"Films include {join_words(e.title for e in history[-4:])}."]
    best = [e.title for e in rated[:FAVOURITES] if e.rating is not None and e.rating >= LOVED]
    return [f"Rated highest: {join_words(best)}."] if best else []


def _dislikes_sentences(history: list[HistoryEntry]) -> list[str]:
    """The lowest-rated films by name, and genres rated well below the person's own average."""
    rated = [e for e in history if e.rating is not None]  # in time order: genre ties keep first-seen order
    if not rated:
        return []
    # worst, oldest first on ties
    worst = [e for e in reversed(best_first(history)) if e.rating is not None and e.rating <= DISLIKED][:3]
    sentences = []
    if worst:
        sentences.append(f"Rated lowest: {join_words(_label(e) for e in worst)}.")
    mean = float(np.mean([e.rating for e in rated]))
    counts = Counter(g for e in rated for g in e.genres)
    means = _genre_means(rated)
    avoided = sorted((g for g, c in counts.items() if c >= MIN_GENRE_FILMS and means[g] <= mean - 0.5),
                     key=lambda g: means[g])[:2]
    if avoided:
        sentences.append("Less keen on " + join_words(f"{g} (average {means[g]:.1f})" for g in avoided) + ".")
    return sentences


def best_first(history: list[HistoryEntry]) -> list[HistoryEntry]:
    """The rated entries, best first and the more recent first on ties (read backwards: worst, oldest first)."""
    rated = [(e.rating, position, e) for position, e in enumerate(history) if e.rating is not None]
    return [e for _, _, e in sorted(rated, key=lambda row: (-row[0], -row[1]))]


def _label(entry: HistoryEntry) -> str:
    return f"{entry.title} ({entry.year})" if entry.year else entry.title


def _shift(before: list[HistoryEntry], after: list[HistoryEntry], lead: str, tail: str, *,
           verb_free: bool = False) -> str:
    """Genres whose share grew or shrank by at least 15 points between two parts of a history."""
    if len(before) < 3 or len(after) < 3:
        return ""

    def shares(entries: list[HistoryEntry]) -> Counter[str]:
        counts = Counter(g for e in entries for g in e.genres)
        return Counter({g: c / len(entries) for g, c in counts.items()})

    old, new = shares(before), shares(after)
    genres = sorted(set(old) | set(new))  # sorted: ties then break by name, the same in every process
    more = sorted((g for g in genres if new[g] - old[g] >= 0.15), key=lambda g: old[g] - new[g])[:2]
    less = sorted((g for g in genres if old[g] - new[g] >= 0.15), key=lambda g: new[g] - old[g])[:2]
    if not more and not less:
        return ""
    parts = []
    if more:
        parts.append(f"more {join_words(more)}")
    if less:
        parts.append(f"less {join_words(less)}")
    body = " and ".join(parts)
    if verb_free:
        return f"{lead} {body}."
    return f"{lead} watching {body}{(' ' + tail) if tail else ''}."


def _fit(sentences: list[str], limit: int) -> str:
    """Join whole sentences up to `limit` characters (the first is always kept, cut if it alone is longer)."""
    text = sentences[0]
    for sentence in sentences[1:]:
        if len(text) + 1 + len(sentence) > limit:
            break
        text = f"{text} {sentence}"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
