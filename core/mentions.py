"""Find every film a message names.

That means catalogue titles in any case, with typos, partial titles and years, and "Title (Year)" names of films the
catalogue lacks.

People write titles their own way ("the usual suspects", "Pulp Fictoin", "godfather 2", "Jumanji (2017)"),
and many titles are ordinary words too ("Big", "The Game", "Kids", "Good Morning"). A title made only of plain
English words therefore needs evidence that the writer means the film: a capital mid-sentence, quotes, a year,
a cue word before it ("seen", "like", "about") or a film just before it in a list. Any other title matches on
its own. The rules were measured on ReDial's validation dialogues (`scripts/eval_mentions.py`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from .titles import ARTICLES, is_plain_word, key_words


class Titled(Protocol):
    """What the lexicon reads of a film (a catalogue `Item` has it)."""

    @property
    def item_id(self) -> int:
        """The catalogue id."""

    @property
    def title(self) -> str:
        """The display title."""

    @property
    def year(self) -> int | None:
        """The release year, None when unknown."""

    @property
    def aliases(self) -> tuple[str, ...]:
        """Other titles the film is known by."""


class TitleSource(Protocol):
    """Where `find_mentions` gets the lexicon from (a `Catalogue`, which builds it once and keeps it)."""

    @property
    def title_lexicon(self) -> TitleLexicon:
        """The title keys every search matches against, built once and kept by the source."""

YEAR_RANGE = (1880, 2030)  # a 4-digit number outside it ("Blade Runner 2049") is part of a title
MAX_FUZZY_WORDS = 5  # longest span after a cue word that is compared with every title
ANCHOR_LIMIT = 40  # a word in more titles than this ("man", "love") does not anchor a fuzzy search
FUZZY_CUTOFF = 88.0  # rapidfuzz ratio a misspelt multi-word title must reach ("pulp fictoin": 91.7)
MERGED_CUTOFF = 92.0  # ... and one with a word more or less ("spiderman" for "spider man")
QUOTED_CUTOFF = 86.0  # quotes already say "this is a title", so a weaker likeness is enough
EXACT_SCORE, PARTIAL_SCORE = 100.0, 95.0

_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|&")
_ENGLISH_ARTICLES = frozenset({"the", "a", "an"})
_ALL_ARTICLES = frozenset(a.rstrip("'") for a in ARTICLES)
_ROMAN = {"ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}
_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7"}
# Lower-case words that may sit inside a title written in capitals ("The Secret Life of Pets").
_CONNECTORS = frozenset(
    "of the a an and in on to for with at from by as vs v is de la le les du des aux au del en von van der da di el y"
    .split())
# Words before a title that show it is meant as one ("seen Heat", "something like Big").
_CUES = frozenset("""
about like likes liked love loves loved seen see saw watch watched watching recommend recommended recommends
suggest suggested enjoyed enjoy enjoys hated hate hates disliked dislike than called titled named try heard
rewatch rewatched remember including especially
""".split())
_FILM_WORDS = frozenset({"movie", "film", "flick"})
_CUE_PAIRS = frozenset({("similar", "to"), ("fan", "of"), ("check", "out"), ("sequel", "to"), ("version", "of"),
                        ("remake", "of"), ("sequel", "of"), ("such", "as")})
# Words after a plain title that show the words are a phrase, not the film ("a kids movie", "the game of").
_PHRASE_NOUNS = frozenset("movie movies film films show shows series genre type types kind kinds of".split())
_FRANCHISE = frozenset({"movies", "films", "series", "franchise", "trilogy"})
# Capitalised words that open a sentence and are no part of a name ("Have", "Then" in "Jumanji Then ...").
_OPENERS = frozenset("""
also and but so or maybe perhaps yes yeah yep yup yea no nope nah nice great cool awesome oh ok okay well hi hello
hey thanks thank have has did do does try check then plus definitely sure what how if lol haha wow sounds because
since when please just really actually absolutely totally anyway recently personally honestly ah hmm um umm oops
seen saw watched loved liked like love enjoyed recommend watch is are was were even there theres it its this that
""".split())
# Words that start a sentence, not a title, before "Title (Year)": "Yes The Hangover (2009)", "IS John Wick: ...".
# Words that also start titles ("Just Married", "Love Actually", "Cool Runnings", "What Lies Beneath") are not here.
_INTERJECTIONS = frozenset("""
also and but so or maybe perhaps yes yeah yep yup yea nope nah oh ok okay hi hello hey lol haha wow umm um hmm ah
oops plus definitely sure because since please really actually absolutely totally anyway recently personally
honestly is are was were even seen saw watched loved liked enjoyed recommend try check however well like
""".split())
# Words after "Title 2" that make the number a count ("Heat 2 times"), not a sequel.
_COUNT_WORDS = frozenset("times time of out stars star hours hour minutes years more or and to percent".split())
# A sentence ends inside these gaps; ":" and "-" do not end one ("Mission: Impossible", "Spider-Man").
_BREAK = re.compile(r"[.!?;\n)]")
# Chat phrases that are also (alias) titles: never a film unless quoted or dated.
_SMALL_TALK = frozenset({"good morning", "good night", "thank you", "thanks", "hello", "goodbye", "good luck"})
# Weekdays and months that are also titles ("Friday", "May"): "next Friday" is a day unless a cue says film.
_CALENDAR = frozenset("""monday tuesday wednesday thursday friday saturday sunday january february march april
may june july august september october november december""".split())
_PLACE_WORDS = frozenset({"in", "from", "to", "at", "near", "across", "visit", "visiting", "around"})
# Words that carry no content of their own: "now and then", "carried away", "to die for" are phrases first.
_FUNCTION_WORDS = frozenset("""
now then here there away again so too very just still all out up down off over back it me you him her us them i
we they he she not no yes
""".split())
_DETERMINERS = frozenset("my your his her our their its this that these those some any no every each what".split())
_WALK = frozenset("of the for".split())  # joiners inside a longer capitalised title
_SUBTITLE = re.compile(r":\s*|\s+[\u2013\u2014-]\s+")
_LIST_JOINER = re.compile(r"\s*(?:,|&|/|,?\s*and|,?\s*or)\s*(?:also\s+)?", re.I)
_I = frozenset({"i", "im", "ive", "id", "ill"})
_ABBREVIATIONS = frozenset("mr mrs ms dr st jr sr vol vs no".split())
_QUOTES = re.compile(r"\"([^\"\n]{1,80})\"|\u201c([^\u201d\n]{1,80})\u201d|\u2018([^\u2019\n]{1,80})\u2019|"
                     r"(?<![\w'])'([^'\n]{1,80}?)'(?![\w'])")


@dataclass(frozen=True)
class Mention:
    """One film named in a text: where, the title and year as written, and the catalogue film it means."""

    start: int  # offset in the original text where the mention begins (title words)
    end: int  # offset where it ends (includes a written year such as " (1995)" or " 1995")
    text: str  # text[start:end]
    title: str  # the title words as written, without the year
    year: int | None  # a year written with the title, else None
    item_id: int | None  # the catalogue film; None for a film the catalogue lacks
    score: float  # 0-100 match confidence (100 = exact key match; 0 for a film the catalogue lacks)


def find_mentions(text: str, catalogue: TitleSource) -> list[Mention]:
    """Every film the text names, in order of appearance, non-overlapping."""
    return _Scan(text, catalogue.title_lexicon).mentions()


# ----- title keys ---------------------------------------------------------------------------------------
def _normalise(words: Sequence[str]) -> list[str]:
    """Write sequel numbers one way: "Part II", "II" and "2" all become "2" ("" marks a dropped "part")."""
    out = [_ROMAN.get(w, w) for w in words]
    for k in range(len(out) - 1):
        if out[k] == "part":
            number = _NUMBER_WORDS.get(out[k + 1], out[k + 1])
            if number.isdigit():
                out[k], out[k + 1] = "", number
    return out


def _title_key(name: str, *, articles: frozenset[str] = _ENGLISH_ARTICLES) -> str:
    words = [w for w in _normalise(key_words(name)) if w]
    while words and words[0] in articles:
        words = words[1:]
    return " ".join(words)


def _partial_names(name: str) -> list[str]:
    """Shorter names people use for a title.

    They are the part before a subtitle ("Austin Powers") or before "and the" ("Indiana Jones").
    """
    names = [name.split(":")[0], re.split(r"\s+-\s+", name)[0], re.split(r"\s+and the\s+", name, flags=re.I)[0]]
    return [re.sub(r"\s+or$", "", n.strip(), flags=re.I) for n in names if n.strip() != name.strip()]


@dataclass(frozen=True)
class TitleLexicon:
    """A catalogue's title keys, built once (`Catalogue.title_lexicon`) and shared by every search.

    `exact` maps each title's key (and each alias's) to item ids, most rated first; `partial` maps shorter
    names ("austin powers") that are no title of their own; `anchors` maps a distinctive word to the
    multi-word keys that hold it, so a misspelt title is compared only with titles sharing one of its words.
    """

    exact: dict[str, tuple[int, ...]]
    partial: dict[str, tuple[int, ...]]
    prefixes: frozenset[str]
    max_words: int
    anchors: dict[str, tuple[tuple[str, int, int], ...]]  # word -> (key, words in key, word's position)
    fuzzy_keys: tuple[str, ...]
    single_keys: tuple[str, ...]
    years: dict[int, int | None]
    titles: dict[int, str]

    @classmethod
    def build(cls, items: Mapping[int, Titled], popularity: Mapping[int, int]) -> TitleLexicon:
        """Index every title and alias; among films of one name, the most rated comes first."""
        exact: dict[str, list[int]] = {}
        partial: dict[str, list[int]] = {}
        for item in items.values():
            for name in (item.title, *item.aliases):
                key = _title_key(name)
                if key:
                    exact.setdefault(key, []).append(item.item_id)
                # shorter names, and the title without a foreign article ("Hussard sur le toit")
                shorter = [_title_key(n) for n in _partial_names(name)] + [_title_key(name, articles=_ALL_ARTICLES)]
                for other in shorter:
                    if other.count(" ") >= 1 and other != key:
                        partial.setdefault(other, []).append(item.item_id)

        def ranked(ids: Iterable[int]) -> tuple[int, ...]:
            return tuple(sorted(set(ids), key=lambda i: (-int(popularity.get(i, 0)), i)))

        exact_ranked = {k: ranked(v) for k, v in exact.items()}
        partial_ranked = {k: ranked(v) for k, v in partial.items() if k not in exact}
        keys = [*exact_ranked, *partial_ranked]
        prefixes = {" ".join(k.split()[:n]) for k in keys for n in range(1, k.count(" ") + 2)}
        anchors: dict[str, list[tuple[str, int, int]]] = {}
        for key in keys:
            words = key.split()
            for position, word in enumerate(words):
                if len(words) >= 2 and len(word) >= 3 and not is_plain_word(word) and word not in _CONNECTORS:
                    anchors.setdefault(word, []).append((key, len(words), position))
        return cls(
            exact=exact_ranked, partial=partial_ranked, prefixes=frozenset(prefixes),
            max_words=max(k.count(" ") + 1 for k in keys),
            anchors={w: tuple(v) for w, v in anchors.items() if len(v) <= ANCHOR_LIMIT},
            fuzzy_keys=tuple(k for k in keys if len(k) >= 4),
            single_keys=tuple(k for k in exact_ranked if " " not in k and len(k) >= 5 and not is_plain_word(k)),
            years={i: item.year for i, item in items.items()},
            titles={i: item.title for i, item in items.items()},
        )

    def ids(self, key: str) -> tuple[int, ...]:
        """Items a key names, exact titles before partial ones."""
        return self.exact.get(key) or self.partial.get(key, ())

    def pick(self, key: str, year: int | None) -> int | None:
        """The item a key means.

        With a year, the closest one within a year of it; without, the most rated (None when a partial name fits several
        titles, like "star trek").
        """
        ids = self.ids(key)
        if year is None:
            if key not in self.exact and len({self.titles[i] for i in ids}) > 1:
                return None
            return ids[0] if ids else None
        near = [i for i in ids if abs((self.years[i] or year) - year) <= 1]
        return min(near, key=lambda i: abs((self.years[i] or year) - year)) if near else None


# ----- one scan of one text ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    raw: str
    word: str  # lower-case ASCII, apostrophes dropped, "&" -> "and"
    key: str  # word with sequel numbers normalised; "" for a "part" before a number
    capital: bool  # starts with a capital letter or a digit


@dataclass(frozen=True, slots=True)
class _Candidate:
    first: int  # token index of the first word (a leading "the"/"a" included when the title has one)
    last: int  # token index after the last title word
    key: str | None  # the catalogue key matched (None: a film the catalogue lacks)
    item_id: int | None
    score: float
    rank: int  # 0 year, 1 quotes, 2 exact, 3 partial, 4 fuzzy: the lower wins an overlap
    year: int | None = None
    year_end: int | None = None  # char offset after a written year


def _fold(raw: str) -> str:
    if raw == "&":
        return "and"
    folded = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode().lower().replace("'", "")
    return folded or raw.lower()


def _tokenize(text: str) -> list[_Token]:
    found = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]
    words = [_fold(raw) for _, _, raw in found]
    keys = _normalise(words)
    return [_Token(s, e, raw, w, k, raw[:1].isupper() or raw[:1].isdigit())
            for (s, e, raw), w, k in zip(found, words, keys, strict=True)]


def _as_year(token: _Token) -> int | None:
    if len(token.raw) == 4 and token.raw.isdigit() and YEAR_RANGE[0] <= int(token.raw) <= YEAR_RANGE[1]:
        return int(token.raw)
    return None


class _Scan:
    """The tokens of one text and the steps that turn them into mentions."""

    def __init__(self, text: str, lexicon: TitleLexicon) -> None:
        self.text = text
        self.lex = lexicon
        self.tokens = _tokenize(text)
        letters = [t for t in self.tokens if t.raw[:1].isalpha() and len(t.raw) > 1]
        # In A Message Written Like This, capitals say nothing about titles.
        self.shouty = len(letters) >= 4 and sum(t.capital for t in letters) >= 0.7 * len(letters)

    # -- helpers ------------------------------------------------------------------------------------------
    def gap(self, k: int) -> str:
        """Text between token k-1 and token k."""
        return self.text[self.tokens[k - 1].end:self.tokens[k].start] if k > 0 else self.text[:self.tokens[0].start]

    def sentence_start(self, k: int) -> bool:
        """Whether token k opens a sentence (".", "!", "?", ";", ")" or a line break before it)."""
        return k == 0 or bool(_BREAK.search(self.gap(k)) and not self._abbreviation(k - 1))

    def _abbreviation(self, k: int) -> bool:
        token = self.tokens[k]
        return token.word in _ABBREVIATIONS or (len(token.raw) == 1 and token.raw.isupper())

    def key(self, first: int, last: int) -> str:
        """The search key of tokens first..last-1, without a leading "the"/"a"/"an"."""
        words = [t.key for t in self.tokens[first:last] if t.key]
        while len(words) > 1 and words[0] in _ENGLISH_ARTICLES:
            words = words[1:]
        return " ".join(words)

    def spaced(self, k: int) -> bool:
        """Whether token k follows token k-1 with only spaces between."""
        return k > 0 and not self.gap(k).strip()

    def with_article(self, first: int, key: str) -> int:
        """Start a catalogue title at the article before it when the title has one.

        As in "the usual suspects", but not "the Die Hard series".
        """
        ids = self.lex.ids(key)
        if first > 0 and ids and self.spaced(first) and self.tokens[first - 1].word in _ENGLISH_ARTICLES \
                and self.lex.titles[ids[0]].lower().startswith(self.tokens[first - 1].word + " "):
            return first - 1
        return first

    # -- steps --------------------------------------------------------------------------------------------
    def mentions(self) -> list[Mention]:
        """The mentions: the catalogue candidates that survive correction, resolution and the evidence rules.

        Candidates (exact, then misspelt) are corrected for sequel numbers and subtitles, resolved against written
        years, then kept when quoted, dated or evidenced; overlaps go to the stronger one.
        """
        if not self.tokens:
            return []
        catalogued = self.exact() + self.fuzzy()
        catalogued = [self.subtitled(self.sequel(c)) for c in catalogued]
        dated, catalogued = self.dated(catalogued)
        quoted, quote_spans = self.quoted(catalogued)
        confirmed = dated + quoted
        pending: list[_Candidate] = []
        for candidate in catalogued:
            verdict = self.evidence(candidate, quote_spans)
            if verdict is True:
                confirmed.append(candidate)
            elif verdict is None:
                pending.append(candidate)
        chosen = _select(confirmed)
        # A title with no evidence of its own in a list with a film ("twister and speed") counts too.
        for candidate in sorted(pending, key=lambda c: c.first):
            if self.listed_with(candidate, chosen):
                chosen = _select([*chosen, candidate])
        return [self.to_mention(c) for c in sorted(chosen, key=lambda c: c.first)]

    def exact(self) -> list[_Candidate]:
        """The longest catalogue key (title, alias or partial name) starting at each word."""
        found: list[_Candidate] = []
        tokens, lex = self.tokens, self.lex
        for first, token in enumerate(tokens):
            if token.word in _ENGLISH_ARTICLES or not token.key:
                continue
            best: tuple[int, str] | None = None
            words: list[str] = []
            for last in range(first, min(len(tokens), first + lex.max_words + 2)):
                if tokens[last].key:
                    words.append(tokens[last].key)
                joined = " ".join(words)
                if joined not in lex.prefixes:
                    break
                if joined in lex.exact or joined in lex.partial:
                    best = (last + 1, joined)
            if best is None:
                continue
            last, key = best
            # An ambiguous partial name ("star trek") has no item yet: a year after it may choose one.
            found.append(_Candidate(self.with_article(first, key), last, key, lex.pick(key, None), _score(lex, key),
                                    2 if key in lex.exact else 3))
        return found

    def fuzzy(self) -> list[_Candidate]:
        """Misspelt titles.

        They are found in windows around a distinctive title word, in single capitalised or cued words, and in the words
        after a cue compared with every title.
        """
        found: dict[tuple[int, int], tuple[float, str]] = {}
        tokens, lex = self.tokens, self.lex

        def consider(first: int, last: int, key: str, score: float) -> None:
            if score > found.get((first, last), (0.0, ""))[0]:
                found[(first, last)] = (score, key)

        n = len(tokens)
        for a, token in enumerate(tokens):
            for key, length, position in lex.anchors.get(token.key, ()):
                ends_with_number = key.split()[-1].isdigit()
                for size in (length - 1, length, length + 1):
                    for first in range(a - position - 1, a - position + 2):
                        last = first + size
                        if size < 2 or first < 0 or last > n or not first <= a < last:
                            continue
                        if tokens[first].word in _ENGLISH_ARTICLES or self.broken(first, last):
                            continue
                        if tokens[last - 1].key.isdigit() and not ends_with_number:
                            continue  # "Toy Story 3" is not "Toy Story"
                        window = self.key(first, last)
                        if window != key and (score := _misspelt(window, key)):
                            consider(first, last, key, score)
        for k, token in enumerate(tokens):
            cued = self.cued(k)
            if cued and len(token.key) >= 6 and not is_plain_word(token.key) and token.key not in lex.exact:
                hit = process.extractOne(token.key, lex.single_keys, scorer=Levenshtein.distance, score_cutoff=1)
                if hit and hit[0][0] == token.key[0]:
                    consider(k, k + 1, hit[0], fuzz.ratio(token.key, hit[0]))
            if cued and token.word not in _ENGLISH_ARTICLES:
                for last in range(min(n, k + MAX_FUZZY_WORDS), k + 1, -1):
                    if self.broken(k, last) or tokens[last - 1].key.isdigit():
                        continue
                    window = self.key(k, last)
                    if len(window) < 6 or window in lex.exact or window in lex.partial:
                        continue
                    near = process.extractOne(window, lex.fuzzy_keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
                    if near and " " in near[0] and (score := _misspelt(window, near[0])):
                        consider(k, last, near[0], score)
        return [_Candidate(self.with_article(first, key), last, key, lex.pick(key, None), score, 4)
                for (first, last), (score, key) in found.items() if lex.pick(key, None) is not None]

    def broken(self, first: int, last: int) -> bool:
        """Whether a sentence ends between these tokens."""
        return any(_BREAK.search(self.gap(k)) and not self._abbreviation(k - 1) for k in range(first + 1, last))

    def sequel(self, candidate: _Candidate) -> _Candidate:
        """A number right after a title ("Toy Story 3", "Blade Runner 2049") names a film the catalogue lacks."""
        k = candidate.last
        if k >= len(self.tokens) or not self.spaced(k):
            return candidate
        number = self.tokens[k]
        if number.raw.lower() == "part" and k + 1 < len(self.tokens) and self.tokens[k + 1].key.isdigit():
            k += 1
            number = self.tokens[k]
        roman = number.raw.isupper() and number.word in _ROMAN
        if not (number.raw.isdigit() or roman) or _as_year(number) is not None:
            return candidate
        if k + 1 < len(self.tokens) and self.spaced(k + 1) and self.tokens[k + 1].word in _COUNT_WORDS:
            return candidate  # "Heat 2 times"
        return replace(candidate, last=k + 1, key=None, item_id=None, score=0.0)

    def subtitled(self, candidate: _Candidate) -> _Candidate:
        """A subtitle after a title ("Alien: Covenant", "Star Wars: The Last Jedi") names another film."""
        k = candidate.last
        if candidate.key is None or k >= len(self.tokens) or not _SUBTITLE.fullmatch(self.gap(k)) \
                or not self.name_word(k):
            return candidate
        return replace(candidate, last=self.run_after(k), key=None, item_id=None, score=0.0)

    def run_after(self, k: int) -> int:
        """The end of the capitalised words from token k on, with connectors inside ("The Last Jedi")."""
        end = k + 1
        j = k + 1
        while j < len(self.tokens) and not self._gap_breaks_title(j):
            token = self.tokens[j]
            if token.capital or token.raw == "&":
                end = j = j + 1
            elif token.word in _CONNECTORS:
                j += 1
            else:
                break
        return end

    def dated(self, catalogued: list[_Candidate]) -> tuple[list[_Candidate], list[_Candidate]]:
        """Resolve each "(Year)" and each year right after a title.

        Return the dated mentions and the other catalogue candidates.
        """
        dated: list[_Candidate] = []
        used: set[int] = set()
        by_end: dict[int, list[int]] = {}
        for position, candidate in enumerate(catalogued):
            by_end.setdefault(candidate.last, []).append(position)
        for y, token in enumerate(self.tokens):
            year = _as_year(token)
            if year is None or y == 0:
                continue
            before = self.gap(y)
            after = self.text[token.end:]
            bracket = before.rstrip().endswith(("(", "[")) and after.lstrip().startswith((")", "]"))
            title_end = before.rstrip(" ([").rstrip()
            if not bracket and before.strip():
                continue
            if bracket and title_end.strip(" !?.\"'\u201d\u2019"):
                continue  # "(1995)" after a comma or a word in brackets: not a title's year
            year_end = token.end + (len(after) - len(after.lstrip()) + 1 if bracket else 0)
            # The longest catalogue candidate ending right before the year, exact titles first.
            ending = sorted((catalogued[p] for p in by_end.get(y, []) if p not in used),
                            key=lambda c: (c.rank > 2, c.first))
            match = ending[0] if ending else None
            if match is not None and match.key is not None:
                item = self.lex.pick(match.key, year)
                if item is not None:
                    dated.append(replace(match, item_id=item, year=year, year_end=year_end, rank=0))
                    used.update(p for p in by_end[y] if catalogued[p] is match)
                    continue
            run = self.title_run(y) if bracket else None
            if run is not None and (match is None or run[0] < match.first):
                dated.append(self.resolve_run(run[0], y, year, year_end))
            elif match is not None and (bracket or self.evidence(match, set()) is not False):
                # "Jumanji (2017)", "Jumanji 2017": the same title from another year
                dated.append(replace(match, key=None, item_id=None, score=0.0, year=year, year_end=year_end, rank=0))
                used.update(p for p in by_end[y] if catalogued[p] is match)
            elif bracket:
                cued = self.cued_run(y)
                if cued is not None:
                    dated.append(self.resolve_run(cued, y, year, year_end))
        return dated, [c for p, c in enumerate(catalogued) if p not in used]

    def title_run(self, y: int) -> tuple[int, int] | None:
        """The capitalised words right before token y, with small connectors inside ("The Secret Life of Pets")."""
        tokens = self.tokens
        first = y
        k = y - 1
        while k >= 0:
            token = tokens[k]
            inside = k == y - 1 or not self._gap_breaks_title(k + 1, commas=True)
            if not inside:
                break
            if token.capital or token.raw == "&" or (token.word in _CONNECTORS and k < y - 1):
                first = k
                k -= 1
                continue
            break
        for k in range(first + 1, y - 1):
            if tokens[k].raw in {"The", "A", "An"} and self.spaced(k):
                first = k  # "Leonardo in The Revenant (2015)": inside a title "the" is lower case
        while first < y - 1 and (tokens[first].word in _INTERJECTIONS or not tokens[first].capital or (
                tokens[first].word in _OPENERS and tokens[first + 1].word in _INTERJECTIONS)):
            first += 1  # "Yes The Hangover (2009)", "And 300 (2007)", "What is Split (2017)"
        if first >= y or not (any(t.raw[:1].isalpha() and t.capital for t in tokens[first:y]) or first == y - 1):
            return None  # a number alone is a title only right before the year ("300 (2007)", "8mm (1999)")
        return first, y

    def _gap_breaks_title(self, k: int, *, commas: bool = False) -> bool:
        """Whether the text between tokens k-1 and k ends a title.

        With `commas`, a comma between capitalised words does not ("Planes, Trains and Automobiles", "I, Robot").
        """
        gap = self.gap(k)
        if not gap.strip():
            return False
        if re.fullmatch(r"\s*[:\-\u2013/&]\s*|\s*'s?\s*", gap):
            return False
        if commas and gap.strip() == "," and self.tokens[k].capital and self.tokens[k - 1].capital \
                and self.tokens[k - 1].word not in _OPENERS | _INTERJECTIONS:
            return False
        return not (gap.strip() == "." and self._abbreviation(k - 1))

    def cued_run(self, y: int) -> int | None:
        """For a lower-case title before "(Year)": the words back to a cue word ("i watched superbad (2007)")."""
        k = y - 1
        while k >= 0 and y - k <= MAX_FUZZY_WORDS and not self._gap_breaks_title(k + 1):
            if self.cued(k):
                while k < y - 1 and self.tokens[k].word in _ENGLISH_ARTICLES:
                    k += 1
                return k
            k -= 1
        return None

    def resolve_run(self, first: int, y: int, year: int, year_end: int) -> _Candidate:
        """The film that the words first..y-1 before a year name.

        It is a catalogue title that fits the year at the end of them ("Nice Jackie Brown (1997)": one word only when it
        is all of them) or before a subtitle ("Star Wars: Episode IV - A New Hope (1977)"), else a misspelt one, else a
        film the catalogue lacks.
        """
        lex = self.lex
        for start in range(first, y):
            key = self.key(start, y)
            item = lex.pick(key, year) if lex.ids(key) and (start == first or " " in key) else None
            if item is not None:
                return _Candidate(self.with_article(start, key), y, key, item, _score(lex, key), 0, year, year_end)
        for stop in range(y - 1, first, -1):
            key = self.key(first, stop)
            item = lex.pick(key, year) if lex.ids(key) and _SUBTITLE.fullmatch(self.gap(stop)) else None
            if item is not None:
                return _Candidate(first, y, key, item, _score(lex, key), 0, year, year_end)
        key = self.key(first, y)
        if len(key) >= 4:
            for hit, _, _ in process.extract(key, lex.fuzzy_keys, scorer=fuzz.ratio, limit=5,
                                             score_cutoff=FUZZY_CUTOFF):
                item = lex.pick(hit, year)
                score = _misspelt(key, hit)
                if item is not None and score:
                    return _Candidate(first, y, hit, item, score, 0, year, year_end)
        return _Candidate(first, y, None, None, 0.0, 0, year, year_end)

    def quoted(self, catalogued: list[_Candidate]) -> tuple[list[_Candidate], set[tuple[int, int]]]:
        """Titles in quotes: catalogue ones (also misspelt) and, when written in capitals, unknown ones."""
        found: list[_Candidate] = []
        spans: set[tuple[int, int]] = set()
        for match in _QUOTES.finditer(self.text):
            group = next(g for g in range(1, 5) if match.group(g) is not None)
            start, end = match.start(group), match.end(group)
            inside = [k for k, t in enumerate(self.tokens) if t.start >= start and t.end <= end]
            if not inside or len(inside) > 10:
                continue
            first, last = inside[0], inside[-1] + 1
            spans.add((first, last))
            if any(c.first < last and first < c.last for c in catalogued):
                continue  # a catalogue title in quotes: the quotes are its evidence (see `evidence`)
            body_first = first + 1 if self.tokens[first].word in _ENGLISH_ARTICLES and last - first > 1 else first
            key = self.key(body_first, last)
            if len(key) < 3:
                continue
            hit = process.extractOne(key, self.lex.fuzzy_keys, scorer=fuzz.ratio, score_cutoff=QUOTED_CUTOFF)
            if hit is not None and self.lex.pick(hit[0], None) is not None:
                found.append(_Candidate(first, last, hit[0], self.lex.pick(hit[0], None), hit[1], 1))
            elif self.tokens[first].capital and self.cued(first) and not re.search(r"[,!?;.]", self.text[start:end]) \
                    and all(t.capital for t in self.tokens[first:last] if t.word not in _CONNECTORS):
                found.append(_Candidate(first, last, None, None, 0.0, 1))  # "have you seen 'Get Out'"
        return found, spans

    def cued(self, k: int) -> bool:
        """Whether a cue word comes right before token k (skipping "the", "a")."""
        p = k - 1
        while p >= 0 and self.tokens[p].word in _ENGLISH_ARTICLES and self.spaced(p + 1):
            p -= 1
        if p < 0 or self.gap(p + 1).strip(" \"'\u201c\u2018"):
            return False
        word = self.tokens[p].word
        if word in _FILM_WORDS:  # "the movie Heat", not "an action movie fan"
            return p > 0 and self.tokens[p - 1].word in _ENGLISH_ARTICLES
        return word in _CUES or (p > 0 and (self.tokens[p - 1].word, word) in _CUE_PAIRS)

    def evidence(self, candidate: _Candidate, quote_spans: set[tuple[int, int]]) -> bool | None:
        """True: a title; False: not one; None: a title with no evidence yet (a list may confirm it)."""
        first, last = candidate.first, candidate.last
        if candidate.key is not None and candidate.item_id is None:
            return False  # an ambiguous partial name with no year to choose
        body = first + 1 if self.tokens[first].word in _ENGLISH_ARTICLES and last - first > 1 else first
        if (first, last) in quote_spans or (body, last) in quote_spans:
            return True
        key = candidate.key if candidate.key is not None else self.key(body, last)
        if key in _SMALL_TALK or len(key) < 2:
            return False  # "Good Morning", "M night": only quoted or dated
        if key in _CALENDAR and not self.cued(body):
            return False  # "next Friday": a day, unless "have you seen Friday"
        single = " " not in key
        plain = all(is_plain_word(w) or w in _CONNECTORS for w in key.split())
        whole = not plain and first == 0 and last == len(self.tokens)
        before = self.tokens[body - 1] if body > 0 and self.spaced(body) else None
        article = before.word if before is not None and before.word in _ENGLISH_ARTICLES else ""
        title = self.lex.titles.get(candidate.item_id, "") if candidate.item_id is not None else ""
        if article in {"a", "an"} and not title.lower().startswith(article + " "):
            return False  # "a taxi driver", "A Star Wars Story": the film is not called "A ..."
        if self.capitalised(body, last, sentence_start_counts=single and not plain) or whole:
            if single:  # "Game of Thrones", "Michael Keaton", "Blades of Glory", "set in Alaska"
                return not (self.continues_name(first, last, plain=plain) or self.placed(first))
            # "Indiana Jones and the Temple of Doom" is not "Indiana Jones and the Last Crusade"
            return not self.continues_after(last, joiners=_WALK | ({"and"} if candidate.rank == 3 else set()))
        agrees = article == "the" and title.lower().startswith("the ")  # "the shining": a name has no "the"
        if self.continues_phrase(body, last, single=single, plain=plain, franchise=article == "the", named=agrees):
            return False  # "a kids movie", "alien movies", "michael keaton"
        content = [w for w in key.split() if w not in _CONNECTORS and w not in _FUNCTION_WORDS]
        if not single and (not plain or (key.split()[0] not in _DETERMINERS and len(content) >= 2)):
            return True  # "pulp fiction", "die hard", "men in black"; not "my family", "now and then"
        if single and not plain and agrees:
            return True
        cued = self.cued(first)
        if plain and single:  # "have you seen speed?", "twister and speed"; not "i like kids too"
            return (True if cued else None) if self.stands_alone(last) else False
        return True if cued or single else None  # "jumanji is great"; a plain pair only after a cue

    def stands_alone(self, last: int) -> bool:
        """Whether nothing that extends a phrase follows ("have you seen speed?", not "i like kids too much")."""
        if last >= len(self.tokens):
            return True
        return not self.spaced(last) or self.tokens[last].word in _CONNECTORS or self.tokens[last].capital

    def capitalised(self, first: int, last: int, *, sentence_start_counts: bool = False) -> bool:
        """Whether the words are written as a title (capitals).

        A sentence start alone shows it only for a word that is no plain English ("Braveheart is great", not "Big is
        great").
        """
        if self.shouty:
            return False
        words = self.tokens[first:last]
        content = [t for t in words if t.word not in _CONNECTORS] or words
        if not all(t.capital for t in content):
            return False
        letters = [t for t in content if t.raw[:1].isalpha() and t.raw != "I"]
        if not letters:
            return False
        return len(letters) >= 2 or sentence_start_counts or not self.sentence_start(first)

    def continues_name(self, first: int, last: int, *, plain: bool) -> bool:
        """Whether capitalised words go on around a capitalised one-word title.

        As in "Lego Batman", "Father Jack", "Avengers: Infinity War", "Blades of Glory", "War of the Worlds", "Michael
        Keaton" (after a plain title like "Big", any capitalised word does; after one led by an article, like "The
        Godfather", none does).
        """
        tokens = self.tokens
        if first > 0:
            k = first - 1
            if self.spaced(first) and tokens[k].word in _WALK and k > 0 and self.spaced(k):
                k -= 1  # "Blades of Glory", "Need for Speed"
                if tokens[k].word in _CONNECTORS and k > 0 and self.spaced(k):
                    k -= 1  # "What We Do in the Shadows"
            gap = self.gap(k + 1)
            if (not gap.strip() or _SUBTITLE.fullmatch(gap)) and self.name_word(k):
                return True
        if self.continues_after(last, joiners=_WALK):
            return True
        after = tokens[last] if last < len(tokens) and self.spaced(last) else None
        if after is None or (tokens[first].word in _ENGLISH_ARTICLES and not plain):
            return False
        return self.name_word(last) and (plain or not is_plain_word(after.word))

    def name_word(self, k: int) -> bool:
        """Whether token k is a capitalised word that may belong to a name ("Lego", not "LOVED", "Have" or "I")."""
        token = self.tokens[k]
        return token.capital and token.raw[:1].isalpha() and token.word not in _I and token.word not in _CUES \
            and token.word not in _OPENERS

    def continues_after(self, last: int, *, joiners: frozenset[str] | set[str]) -> bool:
        """Whether "of"/"for"/"the"... and a capitalised word or a number follow.

        As in "War of the Worlds", "Friday the 13th".
        """
        k = last
        while k < len(self.tokens) and self.spaced(k) and self.tokens[k].word in joiners and k - last < 2:
            k += 1
        return last < k < len(self.tokens) and self.spaced(k) and self.tokens[k].capital

    def placed(self, first: int) -> bool:
        """Whether a place preposition comes right before ("set in Alaska", "from Brazil") and no cue does."""
        return first > 0 and self.spaced(first) and self.tokens[first - 1].word in _PLACE_WORDS \
            and not self.cued(first)

    def continues_phrase(self, first: int, last: int, *, single: bool, plain: bool, franchise: bool,
                         named: bool) -> bool:
        """Whether lower-case title words go on as a phrase ("kids movie", "alien movies") or a name ("michael keaton").

        After "the", "movies" and "series" name a franchise ("the scream movies"), and a title that takes "the" ("the
        shining scared me") is no first name.
        """
        tokens = self.tokens
        after = tokens[last] if last < len(tokens) and self.spaced(last) else None
        if after is None:
            return False
        if (plain or single) and after.word in _PHRASE_NOUNS and not (franchise and after.word in _FRANCHISE):
            return True
        if after.word in _CONNECTORS and last + 1 < len(tokens) and tokens[last + 1].raw[:1].isdigit():
            return True  # "friday the 13th"
        return single and not named and after.raw[:1].isalpha() and not is_plain_word(after.word) \
            and after.word not in _CONNECTORS and after.word not in self.lex.prefixes

    def listed_with(self, candidate: _Candidate, chosen: list[_Candidate]) -> bool:
        """Whether a film comes right before or after this one with only "and", "or", "," between."""
        if any(c.first < candidate.last and candidate.first < c.last for c in chosen):
            return False
        for other in chosen:
            if other.last <= candidate.first:
                left, right = other, candidate
            elif candidate.last <= other.first:
                left, right = candidate, other
            else:
                continue
            end = left.year_end if left.year_end is not None else self.tokens[left.last - 1].end
            if _LIST_JOINER.fullmatch(self.text[end:self.tokens[right.first].start]):
                return True
        return False

    def to_mention(self, candidate: _Candidate) -> Mention:
        start = self.tokens[candidate.first].start
        title_end = self.tokens[candidate.last - 1].end
        end = candidate.year_end if candidate.year_end is not None else title_end
        mark = self.text[title_end:title_end + 1]
        if candidate.item_id is not None and mark in {"!", "?"} and self.lex.titles[candidate.item_id].endswith(mark):
            title_end += 1  # "Shall We Dance?", "That Darn Cat!"
            end = max(end, title_end)
        return Mention(start, end, self.text[start:end], self.text[start:title_end], candidate.year,
                       candidate.item_id, round(candidate.score, 1))


def _misspelt(window: str, key: str) -> float:
    """How alike a span and a title key are (0: not alike enough).

    With as many words, each word must be a typo of its partner (one edit, two for words over five letters), so "chasing
    a" is not "chasing amy" nor "rat race" "great race"; with a word more or less ("spiderman"), the whole must be
    closer. Numbers must agree: "2 seconds" is not "8 seconds", "neverending story" not "neverending story 3".
    """
    typed, title = window.split(), key.split()
    if {w for w in typed if w.isdigit()} != {w for w in title if w.isdigit()}:
        return 0.0
    if len(typed) != len(title):
        return fuzz.ratio(window, key, score_cutoff=MERGED_CUTOFF)
    for a, b in zip(typed, title, strict=True):
        if a != b and (min(len(a), len(b)) <= 2 or is_plain_word(a)
                       or Levenshtein.distance(a, b) > (1 if max(len(a), len(b)) <= 5 else 2)):
            return 0.0  # "the other night" is no typo of "Mother Night"
    return fuzz.ratio(window, key, score_cutoff=FUZZY_CUTOFF)


def _score(lexicon: TitleLexicon, key: str) -> float:
    return EXACT_SCORE if key in lexicon.exact else PARTIAL_SCORE


def _select(candidates: list[_Candidate]) -> list[_Candidate]:
    """Keep non-overlapping candidates: dated before quoted before exact before fuzzy, longer first."""
    chosen: list[_Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (c.rank, -(c.last - c.first), c.first)):
        if all(c.last <= candidate.first or candidate.last <= c.first for c in chosen):
            chosen.append(candidate)
    return chosen
