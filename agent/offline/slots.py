"""Offline slot filling: read genres, eras, moods, titles and references to earlier picks from a message.

Rules over catalogue lexicons, with fuzzy title matching from the catalogue. Each slot is extracted from the
text left after titles are cut out, so "Star Wars" never reads as the genre War.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from rapidfuzz.distance import OSA, Levenshtein

from convrec.core.catalogue import Catalogue
from convrec.core.mentions import Mention, find_mentions

from ..schemas import PreferenceUpdate
from .lexicon import ERA_WORDS, GENRE_WORDS, MOODS, NEGATION_CUES, NEGATIONS, STOPWORDS, SURPRISE_WORDS

_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")
_YEAR = r"1[89]\d\d|2[01]\d\d"
_DECADE_WORDS = {"twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960,
                 "seventies": 1970, "eighties": 1980, "nineties": 1990, "noughties": 2000}
_PARTS = {"early": (0, 4), "mid": (3, 7), "late": (5, 9)}
# One decade ("80s", "'80s", "1980's", "eighties", "mid-90s") or one year.
_YEAR_ATOM = re.compile(
    r"(?<![\w'])(?:(?P<part>early|mid|late)[\s-]+(?:the\s+)?)?"
    r"(?:(?P<century>1[89]|20)(?P<digit>\d)0'?s|'?(?P<short>\d)0'?s|(?P<word>" + "|".join(_DECADE_WORDS) + ")"
    rf"|(?P<year>{_YEAR}))(?![\w'])")
_RANGE_JOIN = re.compile(r"\s*(?:-|–|—|to|through|thru|until|till)\s*(?:the\s+)?")
_AND_JOIN = re.compile(r"\s*and\s+(?:the\s+)?")
_SHORT_END = re.compile(r"\s*[-–]\s*(\d\d)(?![\w'])")  # "1990-95"
_PREFIX = re.compile(
    r"\b(?P<op>after|post|newer than|later than|more recent than|since|before|pre|older than|earlier than|"
    r"prior to|up until|until|till|til|up to|through)\s*-?\s*(?:the\s+)?(?:year\s+)?$")
_PREFIX_OPS = {"after": "after", "post": "after", "newer than": "after", "later than": "after",
               "more recent than": "after", "since": "since", "before": "before", "pre": "before",
               "older than": "before", "earlier than": "before", "prior to": "before"}  # the rest: until
_SUFFIX = re.compile(
    r"\s*(?:(?P<since>\+|(?:and|or) (?:later|newer|after|up|above|beyond|more recent)\b|onwards?\b|forward\b|"
    r"to (?:now|today|date|the present|present)\b)|(?P<on>on\b)"
    r"|(?P<until>(?:and|or) (?:earlier|older|before|prior)\b))")
_MARK = "§"  # stands for one year expression in the text the scopes are read from
_TOKEN = re.compile(rf"{_MARK}\d+|[a-z0-9](?:[a-z0-9'\-]*[a-z0-9])?|[,;:.!?()/&–—]|(?<!\S)-(?!\S)")
_BREAKS = {";", ":", ".", "!", "?", "(", ")", "-", "–", "—"}
_COORDINATORS = {"or", "and", "nor", "/", "&"}
_GENERIC = {"movie", "movies", "film", "films", "flick", "flicks", "stuff", "one", "ones", "genre", "genres",
            "type", "types", "kind", "kinds", "sort", "show", "shows", "thing", "things", "scenes", "elements",
            "style", "fare", "series", "content", "themes", "picture", "pictures"}
_LIST_FILLERS = {"a", "an", "the", "any", "anything", "something", "even", "more", "really", "very", "much",
                 "other", "with", "of", "for", "kind", "sort", "type", "stuff", "particularly", "super"}
# Before its term, these end a negation: the negated thing is something else ("haven't seen it", "don't mind
# horror", "not that one").
_CANCELLERS = {"seen", "saw", "heard", "hear", "watched", "know", "knew", "sure", "remember", "mind", "matter",
               "only", "just", "necessarily", "bad", "picky", "wait", "worry", "worried", "forget", "miss",
               "afraid", "scared", "opposed", "against", "care"}
_OBJECTS = {"those", "these", "them", "it", "it's", "its", "they", "that", "that's", "thats", "this", "he", "she",
            "him", "his", "her"}
# "horror is not my thing", "westerns aren't really for me": a negation after its genre
_DENIED_AFTER = re.compile(
    r"(?:(?:is|are|was|were|'s) )?(?:not|never|isn't|isnt|aren't|arent|wasn't) (?:really |exactly |quite )?"
    r"(?:my|for me)\b")
_CONTRASTS = {"but", "though", "although", "however", "instead", "rather", "yet", "whereas", "prefer",
              "preferably", "maybe", "perhaps", "otherwise"}
_SUBJECTS = {"i", "i'm", "im", "i've", "ive", "i'd", "i'll", "we", "we're", "we've", "it", "it's", "its", "that",
             "that's", "thats", "this", "you", "they", "there", "there's", "he", "she", "yes", "yeah"}
_PARTICLE_FILLERS = {"really", "thanks", "thank", "you", "exactly", "yet"}
_ERA_NOT_BEFORE = {"actor", "actors", "actress", "actresses", "man", "men", "woman", "women", "guy", "guys",
                   "daughter", "son", "friend", "friends", "year", "years", "day", "days", "times", "to", "that",
                   "version", "versions", "age"}
_PHRASE_KINDS = {**{p: "genre" for p in GENRE_WORDS}, **{p: "mood" for p in MOODS}, **{p: "era" for p in ERA_WORDS}}
_LONGEST = max(len(p.split()) for p in _PHRASE_KINDS)
_SPELLABLE = sorted(p for p in [*GENRE_WORDS, *MOODS] if " " not in p and len(p) >= 5)
_KNOWN = STOPWORDS | set(_PHRASE_KINDS) | set(NEGATION_CUES) | _GENERIC | _CANCELLERS | _CONTRASTS | _SUBJECTS
_MISSPELLING_GUARD = frozenset({"mastery", "thrilled", "auction", "actions", "comely", "mowing", "twister", "violet",
                                "lighted", "darken", "slashed", "slashes", "griping"})
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
_QUOTED = re.compile(r"(?<![\w'])[\"“”']([^\"“”']{2,80})[\"“”'](?![\w'])")  # not the ' of "haven't"
_ABOUT_SPAN = re.compile(
    r"\b(?:about|know|is|was|did|of|on|for|called|named|watch|seen)\s+(?:the (?:film|movie)\s+)?"
    r"(?P<span>[A-Za-z0-9][^?!.]{1,80})")


@dataclass(frozen=True)
class _Years:
    """A year expression: the inclusive years it names and how it bounds them (in, after, since, before, until)."""

    low: int
    high: int
    op: str


@dataclass(frozen=True)
class _Term:
    """A genre, mood, era word or year expression found at tokens `first..last`."""

    kind: str
    key: str
    first: int
    last: int
    years: _Years | None = None


def extract_preferences(message: str, catalogue: Catalogue, previous_picks: list[int],
                        mentions: Sequence[Mention] | None = None) -> PreferenceUpdate:
    """Read the slots a message fills besides its films; ranks are resolved later against the previous answer.

    The films it names (`mentions`, found here when not given) are blanked out first, so their words and years
    never read as genres, moods or eras; what the person thinks of each film is the caller's to read.
    """
    found = find_mentions(message, catalogue) if mentions is None else mentions
    text = _blank(message, [(m.start, m.end) for m in found]).lower()
    update = PreferenceUpdate()
    _fill_constraints(update, text)
    _fill_ranks(update, message.lower(), previous_picks)
    update.wants_surprise = any(word in text for word in SURPRISE_WORDS)
    update.keywords = _keywords(text)
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
    # A title is written like one: "Avatar", "The Matrix", "Blade Runner 2049"; "t seen that. What" or "a remake"
    # are pieces of a sentence, and saying "I don't know a film called 'a remake'" would be nonsense.
    if not (words[0][:1].isupper() or words[0][:1].isdigit()) or len(words) > 6 or re.search(r"[.,;!?]", span):
        return None
    return span


def _blank(message: str, spans: Sequence[tuple[int, int]]) -> str:
    """Blank out film spans (title and written year) so their words are not read as genres, moods or years."""
    out = message
    for start, end in spans:
        out = out[:start] + " " * (end - start) + out[end:]
    return out


def _cue_before(lowered: str, position: int, cues: tuple[str, ...], window: int = 32) -> bool:
    before = lowered[max(0, position - window):position]
    return any(re.search(rf"\b{re.escape(cue)}\b", before) for cue in cues)


def _fill_constraints(update: PreferenceUpdate, text: str) -> None:
    """Fill genres, moods, eras and years, each with the polarity and direction that its own scope gives it.

    A negation reaches a few words ahead, runs on through a list ("neither horror nor thrillers") and stops at
    a clause break or a contrast, so "no horror, but a comedy" still wants the comedy. Years take their
    direction from the words around them ("nothing before 1980" is a lower bound, "not from the 90s" an
    excluded decade).
    """
    marked, years = _mark_years(text.replace("’", "'").replace(_MARK, " "))
    tokens = _tokens(marked)
    terms = _find_terms(tokens, years)
    negated = _negations(tokens, {term.first: term for term in terms})
    stated_years: list[tuple[_Years, bool]] = []
    for term in terms:
        flip = negated[term.first]
        if term.years is not None:
            stated_years.append((term.years, flip))
        elif term.kind == "genre":
            target = update.genres_unwanted if flip else update.genres_wanted
            target.extend(g for g in GENRE_WORDS[term.key] if g not in target)
        elif term.kind == "era":
            label = ERA_WORDS[term.key][1 if flip else 0]
            if label in {"older", "newer"} and _film_noun_after(tokens, term.last):
                label = "classic" if label == "older" else "recent"  # "older movies": an era, not "than these"
            if label not in update.moods:
                update.moods.append(label)
        else:
            _add_mood(update, term.key, flip)
    _fill_years(update, stated_years)
    for pair in ({"classic", "recent"}, {"older", "newer"}):  # "old or new is fine": no leaning
        if pair <= set(update.moods):
            update.moods = [m for m in update.moods if m not in pair]
    update.genres_wanted = [g for g in update.genres_wanted if g not in update.genres_unwanted]
    # "an animated horror", "a romantic comedy", "sci-fi and horror": every genre. "comedy or drama", three
    # genres or more, and tastes ("I like comedy and horror", "comedies, thrillers and sci fi") mean any one.
    wanted = [t for t in terms if t.kind == "genre" and not negated[t.first]]
    joined_by_or = any("or" in tokens[a.last + 1:b.first] or "," in tokens[a.last + 1:b.first]
                       for a, b in zip(wanted, wanted[1:], strict=False))
    before = tokens[max(0, wanted[0].first - 2):wanted[0].first] if wanted else []
    taste = any(word in _TASTE_VERBS for word in before) and "be" not in before  # not "I'd like it to be drama"
    update.genres_match = "any" if joined_by_or or len(update.genres_wanted) > 2 or taste else "all"
    update.genres_additive = bool(update.genres_wanted) and bool(
        re.search(r"\b(as well|also|too|in addition|plus|and also)\b", text))
    update.mood_genres_boost = [g for g in update.mood_genres_boost if g not in update.mood_genres_penalty
                                or g in update.genres_wanted]


def _add_mood(update: PreferenceUpdate, phrase: str, negated: bool) -> None:
    mood, boosts, avoids = MOODS[phrase]
    label = f"not {mood}" if negated else mood
    if label not in update.moods:
        update.moods.append(label)
    favoured, avoided = (avoids, boosts) if negated else (boosts, avoids)
    update.mood_genres_boost.extend(g for g in favoured if g not in update.mood_genres_boost)
    update.mood_genres_penalty.extend(g for g in avoided if g not in update.mood_genres_penalty)


def _fill_years(update: PreferenceUpdate, stated: list[tuple[_Years, bool]]) -> None:
    """Turn year expressions into bounds and exclusions.

    Bounds from different expressions intersect ("after 1990 and before 1995"); named spans join ("the late
    70s or 80s" is 1975-1989) unless the bounds already hold them ("the mid 2000s or earlier, even the 90s").
    """
    lows: list[int] = []
    highs: list[int] = []
    spans: list[tuple[int, int]] = []
    for years, negated in stated:
        low, high, op = years.low, years.high, years.op
        if op == "in":
            target = update.years_excluded if negated else spans
            if (low, high) not in target:
                target.append((low, high))
        elif (op, negated) in {("after", False), ("until", True)}:
            lows.append(high + 1)
        elif (op, negated) in {("since", False), ("before", True)}:
            lows.append(low)
        elif (op, negated) in {("before", False), ("since", True)}:
            highs.append(low - 1)
        else:  # ("until", False), ("after", True): "up to 1980", "nothing after 1980"
            highs.append(high)
    year_min, year_max = (max(lows) if lows else None), (min(highs) if highs else None)
    if lows or highs:
        spans = [(low, high) for low, high in spans
                 if not ((year_min is None or low >= year_min) and (year_max is None or high <= year_max))]
    if spans:
        low, high = min(s[0] for s in spans), max(s[1] for s in spans)
        year_min = low if year_min is None else max(year_min, low)
        year_max = high if year_max is None else min(year_max, high)
    update.year_min, update.year_max = year_min, year_max
    update.years_excluded.sort()


def _mark_years(text: str) -> tuple[str, list[_Years]]:
    """Replace each year expression, with the words that give it a direction, by a mark ("§0").

    "pre-1970", "older than the 80s", "from 1990 on", "1990-95", "between the 70s and 80s" each become one
    mark, so that a negation before them ("nothing older than 1980") is read like one before a genre.
    """
    atoms = [m for m in _YEAR_ATOM.finditer(text) if not _is_aside(text, m)]
    parts: list[str] = []
    found: list[_Years] = []
    cursor = i = 0
    while i < len(atoms):
        low, high = _atom_years(atoms[i])
        start, end = atoms[i].start(), atoms[i].end()
        if atoms[i].group("year") and (short := _SHORT_END.match(text, end)) and int(short.group(1)) > low % 100:
            high, end = low // 100 * 100 + int(short.group(1)), short.end()
        elif i + 1 < len(atoms) and _joined(text, atoms[i], atoms[i + 1]):
            i += 1
            other = _atom_years(atoms[i])
            low, high, end = min(low, other[0]), max(high, other[1]), atoms[i].end()
        op = "in"
        if prefix := _PREFIX.search(text, cursor, start):
            op, start = _PREFIX_OPS.get(prefix.group("op"), "until"), prefix.start()
        elif suffix := _SUFFIX.match(text, end):
            from_on = suffix.group("on") and re.search(r"\bfrom\s+(?:the\s+)?$", text[cursor:start])
            if suffix.group("since") or from_on:
                op, end = "since", suffix.end()
            elif suffix.group("until"):
                op, end = "until", suffix.end()
        parts += [text[cursor:start], f" {_MARK}{len(found)} "]
        found.append(_Years(low, high, op))
        cursor, i = end, i + 1
    parts.append(text[cursor:])
    return "".join(parts), found


def _is_aside(text: str, atom: re.Match[str]) -> bool:
    """A year in brackets belongs to a film ("Hocus Pocus (1993)"); "in my 20s" is an age."""
    if atom.group("year"):
        return text[:atom.start()].rstrip().endswith("(") and text[atom.end():].lstrip().startswith(")")
    return bool(re.search(r"\b(?:my|his|her|their|your|our)\s+$", text[:atom.start()]))


def _atom_years(atom: re.Match[str]) -> tuple[int, int]:
    if atom.group("year"):
        return int(atom.group("year")), int(atom.group("year"))
    if atom.group("word"):
        base = _DECADE_WORDS[atom.group("word")]
    elif atom.group("century"):
        base = int(atom.group("century")) * 100 + int(atom.group("digit")) * 10
    else:
        digit = int(atom.group("short"))
        base = 2000 if digit == 0 else 1900 + digit * 10
    low, high = _PARTS.get(atom.group("part") or "", (0, 9))
    return base + low, base + high


def _joined(text: str, first: re.Match[str], second: re.Match[str]) -> bool:
    """Whether two year expressions make one range: "1990 to 1995", "70s-80s", "between 1970 and 1979"."""
    between = text[first.end():second.start()]
    if _RANGE_JOIN.fullmatch(between):
        return True
    return bool(_AND_JOIN.fullmatch(between) and re.search(r"\bbetween\s+(?:the\s+)?$", text[:first.start()]))


def _tokens(text: str) -> list[str]:
    """Words, marks and punctuation; "horror-comedy" and "non-violent" split unless the lexicon knows them."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        word = match.group(0)
        if "-" in word and word not in _PHRASE_KINDS and len(word) > 1:
            tokens += [_spelled(part) for part in word.split("-") if part]
        else:
            tokens.append(_spelled(word))
    return tokens


@cache
def _spelled(word: str) -> str:
    """Mend a one-letter slip in a genre or mood word ("horroe", "comdey", "sacry").

    Real words near one ("mastery", "thrilled") are guarded, and short words are left alone.
    """
    if len(word) < 5 or not word.isalpha() or word in _KNOWN or word in _MISSPELLING_GUARD:
        return word
    for key in _SPELLABLE:
        if key[0] == word[0] and OSA.distance(word, key) == 1 and (
                len(word) >= 6 or Levenshtein.distance(word, key) == 2):  # five letters: a swap only
            return key
    return word


def _find_terms(tokens: list[str], years: list[_Years]) -> list[_Term]:
    """Find genre, mood and era phrases (longest first at each position) and year marks, left to right."""
    terms: list[_Term] = []
    i = 0
    while i < len(tokens):
        if tokens[i].startswith(_MARK):
            terms.append(_Term("years", tokens[i], i, i, years[int(tokens[i][1:])]))
            i += 1
            continue
        for n in range(min(_LONGEST, len(tokens) - i), 0, -1):
            phrase = " ".join(tokens[i:i + n])
            kind = _PHRASE_KINDS.get(phrase)
            if kind and (kind != "era" or _names_an_era(tokens, i, i + n - 1)):
                terms.append(_Term(kind, phrase, i, i + n - 1))
                i += n
                break
        else:
            i += 1
    return terms


_TASTE_VERBS = frozenset({"like", "likes", "love", "loves", "enjoy", "enjoys", "prefer", "into", "fan", "watch"})


def _film_noun_after(tokens: list[str], last: int) -> bool:
    """Whether a film noun follows ("older movies"), which makes "older" an era rather than a comparison."""
    return last + 1 < len(tokens) and tokens[last + 1] in {"movie", "movies", "film", "films", "flicks", "classics"}


def _names_an_era(tokens: list[str], first: int, last: int) -> bool:
    """"older movies" leans on the year; "older actors", "a 12 year old", "the new one" do not."""
    before = tokens[first - 1] if first else ""
    after = tokens[last + 1] if last + 1 < len(tokens) else ""
    if after in _ERA_NOT_BEFORE or (tokens[first] == "old" and before in {"year", "years"}):
        return False
    return not (before == "the" and after in {"one", "ones"})


def _negations(tokens: list[str], terms_at: dict[int, _Term]) -> dict[int, bool]:
    """Tell, for each term (keyed by its first token), whether a negation covers it.

    A cue opens a scope that may skip `NEGATION_CUES[cue]` words before its first term; after a term it
    continues only through a list ("no horror, war or westerns", "not scary or gory") and ends at anything
    else. Before its term, a scope ends at a clause break, a contrast, an object that is not a term ("not
    into those movies") or a word that turns the negation elsewhere ("haven't seen", "don't mind").
    """
    negated: dict[int, bool] = {}
    budget: int | None = None  # words the live negation may still skip; None: no negation in force
    consumed = False  # the live negation has reached a term, so only a list goes on
    prefix = False  # "non-" negates one word
    i = 0
    while i < len(tokens):
        if i in terms_at:
            negated[i] = budget is not None or _denied_after(tokens, terms_at[i].last + 1)
            consumed = consumed or budget is not None
            budget = 0 if budget is not None and not prefix else None  # "non-animated family films"
            i = terms_at[i].last + 1
            while i < len(tokens) and tokens[i] in _GENERIC:
                i += 1
            continue
        word, following = tokens[i], (tokens[i + 1] if i + 1 < len(tokens) else "")
        cue = _cue_at(tokens, i)
        if word in _BREAKS or (word == "," and not (consumed and budget is not None
                                                    and _list_goes_on(tokens, terms_at, i + 1))):
            budget = None
        elif word == ",":
            budget = 2
        elif word == "but":  # "anything but horror" rules horror out; "nothing but horror" is only horror
            everything = i and tokens[i - 1] in {"anything", "everything", "all"} and following not in _SUBJECTS
            budget, consumed, prefix = (3 if everything else None), False, False
        elif cue is not None:
            i += len(cue.split())
            if not _not_a_negation(tokens, i, cue, terms_at):  # "nothing too violent" keeps the wider reach
                live = budget if budget is not None and not consumed else 0
                budget, consumed, prefix = max(NEGATION_CUES[cue], live), False, cue == "non"
            continue
        elif budget is None:
            pass
        elif consumed:
            budget = 2 if word in _COORDINATORS else budget - 1 if word in _LIST_FILLERS and budget > 0 else None
        elif (word in _CONTRASTS or (word in _CANCELLERS and not (word == "care" and following in {"for", "much"}))
              or (word in _OBJECTS and not _modifies_term(tokens, i, terms_at) and not _relative(tokens, i))):
            budget = None
        else:
            budget = budget - 1 if budget > 0 else None
        i += 1
    return negated


def _cue_at(tokens: list[str], i: int) -> str | None:
    for n in range(min(3, len(tokens) - i), 0, -1):
        phrase = " ".join(tokens[i:i + n])
        if phrase in NEGATION_CUES:
            return phrase
    return None


def _not_a_negation(tokens: list[str], after: int, cue: str, terms_at: dict[int, _Term]) -> bool:
    """"No, I haven't" and "not really, I want..." answer a question; "don't you have" asks one."""
    j = after
    if j < len(tokens) and tokens[j] in {"you", "there"}:
        return True
    if cue not in {"no", "not"}:
        return False
    while j < len(tokens) and tokens[j] in _PARTICLE_FILLERS:
        j += 1
    return j < len(tokens) and tokens[j] in _SUBJECTS and not _modifies_term(tokens, j, terms_at)


def _modifies_term(tokens: list[str], i: int, terms_at: dict[int, _Term]) -> bool:
    """"not that scary", "nothing this violent": the demonstrative is an adverb, not an object."""
    following = tokens[i + 1] if i + 1 < len(tokens) else ""
    return tokens[i] in {"that", "this"} and (i + 1 in terms_at or following in {"much", "many", "too"})


def _relative(tokens: list[str], i: int) -> bool:
    """"nothing that came out before 1985", "no movies that are scary": "that" opens a clause, not an object."""
    return tokens[i] in {"that", "which"} and i > 0 and tokens[i - 1] in {"nothing", "anything", "none", *_GENERIC}


def _denied_after(tokens: list[str], j: int) -> bool:
    while j < len(tokens) and tokens[j] in _GENERIC:
        j += 1
    return bool(_DENIED_AFTER.match(" ".join(tokens[j:j + 6])))


def _list_goes_on(tokens: list[str], terms_at: dict[int, _Term], j: int) -> bool:
    """After "no horror," a list goes on ("war or westerns", ", or war"), while "no horror, comedy" turns."""
    coordinated = j < len(tokens) and tokens[j] in _COORDINATORS
    j += coordinated
    while j < len(tokens) and tokens[j] in _LIST_FILLERS and j not in terms_at:
        j += 1
    if j not in terms_at:
        return False
    if coordinated:
        return True
    k = terms_at[j].last + 1
    while k < len(tokens) and tokens[k] in _GENERIC:
        k += 1
    return k < len(tokens) and (tokens[k] == "," or tokens[k] in _COORDINATORS)


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
