"""Offline slot filling: read genres, eras, moods, titles and references to earlier picks from a message.

Rules over catalogue lexicons, with fuzzy title matching from the catalogue. Each slot is extracted from the
text left after titles are cut out, so "Star Wars" never reads as the genre War.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from convrec.core.catalogue import Catalogue, TitleMatch
from convrec.core.llm import PreferenceUpdate

from .lexicon import GENRE_WORDS, MOODS, NEGATIONS, STOPWORDS, SURPRISE_WORDS

_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")
_CLAUSE_BREAK = {",", ";", ".", "!", "?", "but", "though", "although", "however"}
_YEAR = r"(1[89]\d\d|2[01]\d\d)"
_RANGE = re.compile(rf"\b(?:between|from)?\s*{_YEAR}\s*(?:-|–|to|and|until|till)\s*{_YEAR}\b")
_DECADE = re.compile(r"\b(early|mid|late)?[\s-]*(?:(1[89]|20)|')?(\d)0'?s\b")
_DECADE_WORDS = {"twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960,
                 "seventies": 1970, "eighties": 1980, "nineties": 1990}
_AFTER = re.compile(
    rf"\b(after|since|post|newer than|later than|from)\s*-?\s*(?:the year\s+)?{_YEAR}\b(\s*on(?:wards?)?)?")
_BEFORE = re.compile(
    rf"\b(before|pre|older than|earlier than|until|till|up to|prior to)\s*-?\s*(?:the year\s+)?{_YEAR}\b")
_EXACT = re.compile(rf"\b(?:in|released in|from|made in|of)?\s*{_YEAR}\b")
_HASH_RANK = re.compile(r"(?:#|\b(?:number|no\.?|num|pick|option|film|movie)\s*#?\s*)(\d{1,2})\b")
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
             "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "last": -1, "top": 1}
_ORDINAL_RANK = re.compile(
    r"\b(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|sixth|6th|last|top)\s+"
    r"(one|pick|film|movie|recommendation|suggestion|option|choice)\b|\bthe\s+(first|second|third|fourth|"
    r"fifth|sixth|last)\b")
_SEEN_CUES = ("seen", "saw", "watched", "already", "have seen", "watch it", "viewed")
_DISLIKE_CUES = ("not for me", "hate", "hated", "didn't like", "didnt like", "don't like", "dont like",
                 "dislike", "disliked", "no to", "not", "boring", "skip", "drop", "remove", "nope", "meh",
                 "awful", "terrible", "bad", "except", "without")
_LIKE_CUES = ("like", "liked", "love", "loved", "enjoyed", "similar to", "more like", "as good as",
              "fan of", "vein of", "same as", "adore", "favorite", "favourite", "great")
_WHY_CUES = ("why", "explain", "what makes", "how come", "reason")
_ALL_PREVIOUS = re.compile(
    r"\b(seen|saw|watched)\s+(it|that|them|those|these|all|all of them|every one|everything)\b|"
    r"\bnone of (these|those|them)\b|\bnot (that|this|these|those)( one| ones)?\b|^\s*(seen it|nah|nope)\b")
_QUOTED = re.compile(r"[\"“”']([^\"“”']{2,80})[\"“”']")
_ABOUT_SPAN = re.compile(
    r"\b(?:about|know|is|was|did|of|on|for|called|named|watch|seen)\s+(?:the (?:film|movie)\s+)?"
    r"(?P<span>[A-Za-z0-9][^?!.]{1,80})")


@dataclass(frozen=True)
class _Token:
    text: str
    start: int


def extract_preferences(message: str, catalogue: Catalogue, previous_picks: list[int]) -> PreferenceUpdate:
    """Read every slot a message fills; ranks are resolved later against the previous answer."""
    titles = catalogue.find_titles_in_text(message)
    text = _cut_spans(message, titles).lower()
    update = PreferenceUpdate()
    _fill_titles(update, message, titles)
    _fill_years(update, text)
    _fill_genres_and_moods(update, text)
    _fill_ranks(update, message.lower(), previous_picks)
    update.wants_surprise = any(word in text for word in SURPRISE_WORDS)
    update.keywords = _keywords(text)
    if titles:
        update.subject_item = titles[0].item_id
    return update


def title_span_guess(message: str) -> str | None:
    """Guess which words of a question name a film, to say plainly that the title is not in the catalogue."""
    quoted = _QUOTED.search(message)
    if quoted:
        return quoted.group(1).strip()
    match = _ABOUT_SPAN.search(message)
    if not match:
        return None
    span = re.split(r"\s+(?:about|any good|like|good|worth|rated|released|come out|came out)\b", match.group("span"))[0]
    span = span.strip(" ?!.,\"'")
    span = re.sub(r"^(?:(?:about|the film|the movie|of|on)\s+)+", "", span, flags=re.IGNORECASE)
    words = span.split()
    if not words or all(w.lower() in STOPWORDS for w in words):
        return None
    return span


def _cut_spans(message: str, titles: list[TitleMatch]) -> str:
    """Blank out matched title spans so their words are not read as genres or moods."""
    out = message
    for match in titles:
        position = out.lower().find(match.span.lower())
        if position >= 0:
            out = out[:position] + " " * len(match.span) + out[position + len(match.span):]
    return out


def _cue_before(lowered: str, position: int, cues: tuple[str, ...], window: int = 32) -> bool:
    before = lowered[max(0, position - window):position]
    return any(re.search(rf"\b{re.escape(cue)}\b", before) for cue in cues)


def _nearest_cue(lowered: str, position: int, window: int = 40) -> str | None:
    """Name the kind of the cue word closest before `position`: seen, dislike, like or why."""
    before = lowered[max(0, position - window):position]
    best: tuple[int, str] | None = None
    for kind, cues in (("seen", _SEEN_CUES), ("dislike", _DISLIKE_CUES), ("like", _LIKE_CUES),
                       ("why", _WHY_CUES)):
        for cue in cues:
            for found in re.finditer(rf"\b{re.escape(cue)}\b", before):
                end = found.end()
                if best is None or end > best[0] or (end == best[0] and kind == "dislike"):
                    best = (end, kind)
    return best[1] if best else None


def _fill_titles(update: PreferenceUpdate, message: str, titles: list[TitleMatch]) -> None:
    lowered = message.lower()
    for match in titles:
        position = lowered.find(match.span.lower())
        kind = _nearest_cue(lowered, position if position >= 0 else 0)
        if kind == "seen":
            update.seen_items.append(match.item_id)
        elif kind == "dislike":
            update.disliked_items.append(match.item_id)
        elif kind != "why":
            update.liked_items.append(match.item_id)


def _fill_years(update: PreferenceUpdate, text: str) -> None:
    consumed = text
    if match := _RANGE.search(consumed):
        low, high = sorted((int(match.group(1)), int(match.group(2))))
        update.year_min, update.year_max = low, high
        consumed = consumed.replace(match.group(0), " ")
    for match in _DECADE.finditer(consumed):
        part, century, digit = match.group(1), match.group(2), int(match.group(3))
        base = (int(century) * 100 if century else (2000 if digit < 3 and century == "20" else 1900)) + digit * 10
        low, high = {"early": (0, 4), "mid": (3, 7), "late": (5, 9)}.get(part or "", (0, 9))
        update.year_min, update.year_max = base + low, base + high
        consumed = consumed.replace(match.group(0), " ")
    for word, base in _DECADE_WORDS.items():
        if re.search(rf"\b{word}\b", consumed):
            update.year_min, update.year_max = base, base + 9
    if match := _AFTER.search(consumed):
        inclusive = match.group(1) in {"since", "from"}
        if match.group(1) != "from" or match.group(3):
            update.year_min = int(match.group(2)) + (0 if inclusive else 1)
            consumed = consumed.replace(match.group(0), " ")
    if match := _BEFORE.search(consumed):
        inclusive = match.group(1) in {"until", "till", "up to"}
        update.year_max = int(match.group(2)) - (0 if inclusive else 1)
        consumed = consumed.replace(match.group(0), " ")
    if update.year_min is None and update.year_max is None and (match := _EXACT.search(consumed)):
        update.year_min = update.year_max = int(match.group(1))
    for word, mood in (("older", "older"), ("earlier", "older"), ("newer", "newer"), ("more recent", "newer"),
                       ("recent", "recent"), ("classic", "classic"), ("old", "classic"), ("new", "recent")):
        if re.search(rf"\b{word}\b", consumed) and mood not in update.moods:
            update.moods.append(mood)
            break


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for match in re.finditer(r"[a-z0-9][a-z0-9'\-]*|[,;.!?]", text):
        tokens.append(_Token(match.group(0), match.start()))
    return tokens


def _negated(tokens: list[_Token], index: int) -> bool:
    """Whether the term at `index` sits inside a negation ("no horror", "nothing too violent")."""
    for back in range(1, 4):
        j = index - back
        if j < 0 or tokens[j].text in _CLAUSE_BREAK:
            return False
        word = tokens[j].text
        if word in NEGATIONS or word.endswith("n't"):
            follower = tokens[j + 1].text if j + 1 < len(tokens) else ""
            return not (word in {"nothing", "anything", "none"} and follower == "but")
    return False


def _fill_genres_and_moods(update: PreferenceUpdate, text: str) -> None:
    tokens = _tokens(text)
    words = [t.text for t in tokens]
    used: set[int] = set()
    # Longest phrases first, then alphabetical: a set's order changes between processes (hash seeds).
    phrases = sorted(set(GENRE_WORDS) | set(MOODS), key=lambda p: (-len(p.split()), p))
    for phrase in phrases:
        parts = phrase.split()
        for i in range(len(words) - len(parts) + 1):
            if words[i:i + len(parts)] != parts or used & set(range(i, i + len(parts))):
                continue
            used.update(range(i, i + len(parts)))
            negated = _negated(tokens, i)
            if phrase in GENRE_WORDS:
                target = update.genres_unwanted if negated else update.genres_wanted
                target.extend(g for g in GENRE_WORDS[phrase] if g not in target)
                continue
            mood, boosts, avoids = MOODS[phrase]
            label = f"not {mood}" if negated else mood
            if label not in update.moods:
                update.moods.append(label)
            favoured, avoided = (avoids, boosts) if negated else (boosts, avoids)
            update.mood_genres_boost.extend(g for g in favoured if g not in update.mood_genres_boost)
            update.mood_genres_penalty.extend(g for g in avoided if g not in update.mood_genres_penalty)
    update.genres_wanted = [g for g in update.genres_wanted if g not in update.genres_unwanted]
    # "an animated horror", "a romantic comedy", "sci-fi and horror": every genre; "comedy or drama": any.
    update.genres_match = "any" if re.search(r"\b(or|either)\b", text) else "all"
    update.genres_additive = bool(update.genres_wanted) and bool(
        re.search(r"\b(as well|also|too|in addition|plus|and also)\b", text))
    update.mood_genres_boost = [g for g in update.mood_genres_boost if g not in update.mood_genres_penalty
                                or g in update.genres_wanted]


def _fill_ranks(update: PreferenceUpdate, lowered: str, previous_picks: list[int]) -> None:
    if not previous_picks:
        return
    ranks: list[tuple[int, int]] = []
    for match in _HASH_RANK.finditer(lowered):
        ranks.append((match.start(), int(match.group(1))))
    for match in _ORDINAL_RANK.finditer(lowered):
        word = match.group(1) or match.group(3)
        rank = _ORDINALS[word]
        ranks.append((match.start(), len(previous_picks) if rank == -1 else rank))
    if re.fullmatch(r"\s*#?\s*\d{1,2}\s*\??\s*", lowered):
        ranks.append((0, int(re.sub(r"\D", "", lowered))))
    for position, rank in ranks:
        if _cue_before(lowered, position + 1, _WHY_CUES, window=40) or lowered.lstrip().startswith("why"):
            update.asked_rank = update.asked_rank or rank
        elif _cue_before(lowered, position + 1, _SEEN_CUES, window=40):
            update.seen_ranks.append(rank)
        elif _cue_before(lowered, position + 1, _LIKE_CUES, window=40) and not _cue_before(
                lowered, position + 1, ("not", "don't", "didn't", "dont", "didnt"), window=14):
            update.liked_ranks.append(rank)
        elif _cue_before(lowered, position + 1, _DISLIKE_CUES, window=40) or re.search(
                r"(not for me|no thanks|boring|not interested|nope)", lowered):
            update.rejected_ranks.append(rank)
        else:
            update.asked_rank = update.asked_rank or rank
    if not ranks and _ALL_PREVIOUS.search(lowered):
        everything = list(range(1, len(previous_picks) + 1))
        if re.search(r"\b(seen|saw|watched)\b", lowered):
            update.seen_ranks.extend(everything)
        else:
            update.rejected_ranks.extend(everything)


def _keywords(text: str) -> list[str]:
    vocabulary = {w for phrase in list(GENRE_WORDS) + list(MOODS) for w in phrase.split()}
    words = []
    for word in _WORD.findall(text):
        word = word.strip("'-")
        if (len(word) > 2 and word not in STOPWORDS and word not in vocabulary and not any(c.isdigit() for c in word)
                and "'" not in word
                and not re.fullmatch(r"\d0'?s", word) and word not in NEGATIONS and word not in words):
            words.append(word)
    return words[:12]
