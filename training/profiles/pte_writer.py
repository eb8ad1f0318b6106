"""Profile-then-Embed (PtE), profile stage: the offline writers of user and item profiles.

PtE describes each user as "User identity: ...; User interests: ..." and each film as the people it targets,
"Target users' identity: ...; Target users' interests: ...". A user's text is written from their own films and
from the films of their collaborative neighbours (the users whose sets of rated films overlap most), a film's
from who rates it (MovieLens age band, gender and occupation, only where they stand out against all ratings)
and what else those people rate. Without a language model the statements are computed from the data, so a
profile never claims what the data does not say.

Writing is split in two, so the same machinery serves an LLM writer later: `user_facts` / `item_facts` compute
what a profile states (sentences plus the tags refinement counts, see `pte_refine.py`); a `PtEWriter` turns
those facts into text. The facts are the cache key (with the writer's identity), as the history is for
LLM-TUP's profiles: a changed split, neighbour list or audience gives a new text, an unchanged one is read
back from the `TextStore`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import product
from typing import Literal, Protocol

import numpy as np
import pandas as pd

from convrec.core.catalogue import (
    AGE_BAND_MAX_P,
    AUDIENCE_MIN_LIFT,
    Audience,
    Catalogue,
    Item,
    User,
    age_band,
    binomial_tail,
)
from convrec.core.hashing import content_hash
from convrec.core.phrasing import join_words, occupation_plural

from ..interactions import Interactions
from .history import HistoryEntry, histories, ratings_lookup
from .offline_writer import LOVED, best_first, eras_sentence, genre_share, top_genres

# 1: first version (identity and interests; neighbours' shared and unseen favourites; audiences by lift)
PTE_VERSION = 1
Role = Literal["user", "item"]
MAX_NEIGHBOURS = 10  # neighbours computed per user; a variant uses the first n of them
TOP_GENRES = 3
BEST_RATED = 5  # best-rated films named in a user profile
SHARED_FILMS = 3  # films a user and their neighbours both liked, named
UNSEEN_FILMS = 3  # films the neighbours liked that the user has not rated, named
MIN_NEIGHBOUR_VOTES = 2  # neighbours who must have liked a film before it is named
CO_RATED_FILMS = 5  # films "often rated by the same people" named in an item profile
LEANING_GENRES = 2  # genres beyond its own that an item's raters watch more than raters at large
MIN_RATERS_FOR_LEANINGS = 5  # fewer raters than this say nothing about what they watch

GENDER_NAMES = {"F": "women", "M": "men"}
ITEM_LEAD = "Target users'"  # what both parts of an item profile start with


# ----- what a profile states ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Facts:
    """What one profile states: identity clauses, interest sentences and the tags refinement counts.

    Tags are short typed facts ("age:18-24", "gender:F", "occupation:student", "genre:Drama", "era:1990s",
    "film:50") shared by user and item profiles, so refinement can count a user's films' tags or a film's raters'
    tags in one vocabulary. `subject` heads an item profile (title, year, genres, ratings); empty for a user.
    """

    identity: tuple[str, ...]
    interests: tuple[str, ...]
    identity_tags: tuple[str, ...] = ()
    interest_tags: tuple[str, ...] = ()
    subject: str = ""
    interests_first: bool = False

    @property
    def tags(self) -> tuple[str, ...]:
        """Identity tags, then interest tags."""
        return self.identity_tags + self.interest_tags

    def key(self, role: Role, writer_identity: str) -> str:
        """The cache key of the text these facts give with one writer (facts, writer and format version)."""
        return content_hash(PTE_VERSION, writer_identity, role, self.subject, list(self.identity),
                            list(self.interests), self.interests_first, length=24)

    def extended(self, identity: Iterable[str] = (), interests: Iterable[str] = (),
                 identity_tags: Iterable[str] = (), interest_tags: Iterable[str] = ()) -> Facts:
        """These facts with more clauses, sentences and tags appended (a refinement round's additions)."""
        return replace(self, identity=self.identity + tuple(identity), interests=self.interests + tuple(interests),
                       identity_tags=self.identity_tags + tuple(identity_tags),
                       interest_tags=self.interest_tags + tuple(interest_tags))


@dataclass(frozen=True)
class UserVariant:
    """One controlled variation of a user profile (PtE's candidates, offline).

    The window is how many of the latest films the user's own statements read (None: all), `neighbours` how
    many collaborative neighbours are consulted, `interests_first` the template order (the encoder reads at most
    256 tokens, so what comes first weighs more).
    """

    window: int | None = None
    neighbours: int = MAX_NEIGHBOURS
    interests_first: bool = False

    @property
    def label(self) -> str:
        """A short name, e.g. 'all/k10/identity-first'."""
        window = "all" if self.window is None else f"last{self.window}"
        return f"{window}/k{self.neighbours}/{'interests' if self.interests_first else 'identity'}-first"


# The full space of controlled variations, and the default candidate set drawn from it: the canonical profile
# first (what `pte_no_select` keeps), then variants that each change the window, the neighbours and the order.
CANDIDATE_SPACE: tuple[UserVariant, ...] = tuple(
    UserVariant(window, k, first) for window, k, first in product((None, 50, 20), (0, 5, 10), (False, True)))
# Three candidates: a fourth (the latest 50 films with 5 neighbours, kept for a tenth of users) cost 21 s of encoding
# on 2 cores, which put the profile stage over two minutes (reports/pte.md).
DEFAULT_CANDIDATES: tuple[UserVariant, ...] = (
    UserVariant(), UserVariant(20, 10, True), UserVariant(None, 0, True))


# ----- the data a profile reads -------------------------------------------------------------------------
@dataclass(eq=False)
class PtEData:
    """The rows profiles may read (a split's training rows) with what every profile needs, computed once.

    Audiences, films rated together and neighbours all come from these rows, never from held-out ones.
    """

    catalogue: Catalogue
    matrix: Interactions
    histories: dict[int, list[HistoryEntry]]
    neighbours: dict[int, tuple[int, ...]]
    liked: dict[int, frozenset[int]] = field(repr=False)

    @classmethod
    def build(cls, catalogue: Catalogue, data: Interactions | None = None,
              max_neighbours: int = MAX_NEIGHBOURS) -> PtEData:
        """Everything profiles read from `catalogue`, restricted to the rows of `data` when given."""
        if data is not None:
            catalogue = restrict(catalogue, data)
        matrix = Interactions.from_catalogue(catalogue)
        lookup = ratings_lookup(catalogue.interactions)
        liked: dict[int, set[int]] = {}
        for (user, item), (rating, _) in lookup.items():
            if rating >= LOVED:
                liked.setdefault(user, set()).add(item)
        return cls(catalogue=catalogue, matrix=matrix, histories=histories(matrix, catalogue.items, lookup),
                   neighbours=collaborative_neighbours(matrix, max_neighbours),
                   liked={user: frozenset(items) for user, items in liked.items()})

    @cached_property
    def female_share(self) -> float:
        """Share of all ratings given by women: what a film's share of women is compared with."""
        genders = {u.user_id: u.gender for u in self.catalogue.users.values()}
        raters = self.catalogue.interactions["user_id"]
        return float(np.mean([genders.get(int(u)) == "F" for u in raters])) if len(raters) else 0.0

    @cached_property
    def rater_genre_lift(self) -> dict[int, dict[str, float]]:
        """Per rated item, how much more its raters watch each genre than raters at large do (a ratio).

        Each user is their share of films per genre; an item's raters are averaged, and compared with the
        average over all ratings (a user counts once per film rated, as in the audience statistics).
        """
        genres = self.catalogue.genres
        columns = {g: j for j, g in enumerate(genres)}
        item_ids = self.matrix.item_ids
        carries = np.zeros((len(item_ids), len(genres)), dtype=np.float64)
        for col, item_id in enumerate(item_ids):
            for genre in self.catalogue.items[int(item_id)].genres:
                carries[col, columns[genre]] = 1.0
        r = self.matrix.matrix.astype(np.float64)
        counts = np.asarray(r.sum(axis=1)).reshape(-1)
        user_shares = (r @ carries) / np.maximum(counts, 1.0)[:, None]
        raters = np.asarray(r.sum(axis=0)).reshape(-1)
        item_means = (r.T @ user_shares) / np.maximum(raters, 1.0)[:, None]
        base = (counts @ user_shares) / max(float(counts.sum()), 1.0)
        lift = np.divide(item_means, base, out=np.zeros_like(item_means), where=base > 0)
        return {int(item_ids[col]): {g: float(lift[col, j]) for j, g in enumerate(genres)}
                for col in np.flatnonzero(raters)}


def restrict(catalogue: Catalogue, data: Interactions) -> Catalogue:
    """A catalogue whose interactions are only the (user, item) pairs in `data` (a split's training rows)."""
    coo = data.matrix.tocoo()
    kept = pd.DataFrame({"user_id": data.user_ids[coo.row], "item_id": data.item_ids[coo.col]})
    frame = catalogue.interactions.merge(kept, on=["user_id", "item_id"], how="inner", sort=False)
    frame = frame.sort_values(["user_id", "timestamp", "file_order"], kind="stable").reset_index(drop=True)
    return Catalogue(items=catalogue.items, users=catalogue.users, interactions=frame, knowledge=catalogue.knowledge,
                     source=catalogue.source)


def collaborative_neighbours(data: Interactions, k: int) -> dict[int, tuple[int, ...]]:
    """Per user id, the k users whose rated films overlap theirs most: cosine on the binary user x item matrix.

    Ties go to the smaller user id; users sharing no film are never neighbours. Computed in blocks of rows so
    memory stays at block x users.
    """
    matrix = data.matrix.astype(np.float32)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).reshape(-1))
    out: dict[int, tuple[int, ...]] = {}
    block = 1024
    for start in range(0, data.n_users, block):
        rows = slice(start, min(start + block, data.n_users))
        overlap = np.asarray((matrix[rows] @ matrix.T).todense(), dtype=np.float64)
        sims = overlap / np.maximum(np.outer(norms[rows], norms), 1e-12)
        for offset, row in enumerate(range(rows.start, rows.stop)):
            sims[offset, row] = 0.0
            order = np.lexsort((np.arange(data.n_users), -sims[offset]))[:k]
            out[int(data.user_ids[row])] = tuple(int(data.user_ids[j]) for j in order if sims[offset, j] > 0)
    return out


# ----- user profiles -------------------------------------------------------------------------------------
def user_facts(data: PtEData, user_id: int, variant: UserVariant = UserVariant()) -> Facts:
    """What a user's profile states: their demographics, their films (within the window) and their neighbours'."""
    history = data.histories.get(user_id, [])
    window = history if variant.window is None else history[-variant.window:]
    identity, identity_tags = demographics(data.catalogue.users.get(user_id))
    interests, interest_tags = own_interests(history, window)
    neighbours = data.neighbours.get(user_id, ())[:variant.neighbours]
    shared, shared_tags = neighbour_interests(data, user_id, window, neighbours)
    return Facts(identity=identity, interests=interests + shared, identity_tags=identity_tags,
                 interest_tags=interest_tags + shared_tags, interests_first=variant.interests_first)


def demographics(user: User | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """MovieLens's age band, gender and occupation as clauses, with their tags (none for an unknown user)."""
    if user is None:
        return ("not recorded in MovieLens",), ()
    clauses, tags = [], []
    if user.age > 0:
        band = age_band(user.age)
        clauses.append(f"aged {band}")
        tags.append(f"age:{band}")
    if user.gender in GENDER_NAMES:
        clauses.append("female" if user.gender == "F" else "male")
        tags.append(f"gender:{user.gender}")
    if user.occupation:
        occupation = {"none": "no occupation", "other": "other occupation"}.get(user.occupation)
        clauses.append(occupation or f"occupation {user.occupation}")
        tags.append(f"occupation:{user.occupation}")
    return tuple(clauses), tuple(tags)


def own_interests(history: list[HistoryEntry], window: list[HistoryEntry]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """How many films, the genres and eras they return to and their best-rated films, read from `window`."""
    if not history:
        return ("Has not rated any films yet.",), ()
    rated = [e.rating for e in history if e.rating is not None]
    mean = f", average {np.mean(rated):.1f} of 5" if rated else ""
    sentences = [f"Has rated {len(history)} film{'s' if len(history) != 1 else ''}{mean}."]
    lead = "Returns to" if len(window) == len(history) else f"In their last {len(window)} films, returns to"
    genres = top_genres(window, TOP_GENRES)
    if genres:
        sentences.append(f"{lead} {', '.join(genre_share(window, g) for g in genres)}.")
    eras = eras_sentence(window)
    if eras:
        sentences.append(eras)
    best = [e for e in best_first(window) if e.rating is not None and e.rating >= LOVED][:BEST_RATED]
    if best:
        sentences.append(f"Rated highest: {join_words(e.title for e in best)}.")
    tags = [f"genre:{g}" for g in genres] + [f"film:{e.item_id}" for e in best]
    decades = Counter(f"{e.year // 10 * 10}s" for e in window if e.year)
    if decades:
        tags.insert(len(genres), f"era:{decades.most_common(1)[0][0]}")
    return tuple(sentences), tuple(tags)


def neighbour_interests(data: PtEData, user_id: int, window: list[HistoryEntry],
                        neighbours: tuple[int, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What the user shares with their neighbours, and what the neighbours like that the user has not rated.

    A film is named when at least `MIN_NEIGHBOUR_VOTES` neighbours rated it 4 or more; most votes first, then
    the smaller item id (stable across runs).
    """
    if not neighbours:
        return (), ()
    votes = Counter(item for n in neighbours for item in data.liked.get(n, frozenset()))
    mine = data.liked.get(user_id, frozenset())
    in_window = {e.item_id for e in window}
    seen = {e.item_id for e in data.histories.get(user_id, [])}
    ranked = sorted((item for item, v in votes.items() if v >= MIN_NEIGHBOUR_VOTES), key=lambda i: (-votes[i], i))
    shared = [i for i in ranked if i in mine and i in in_window][:SHARED_FILMS]
    unseen = [i for i in ranked if i not in seen][:UNSEEN_FILMS]
    items = data.catalogue.items
    group = f"their {len(neighbours)} closest user{'s' if len(neighbours) != 1 else ''} (most films in common)"
    sentences = []
    if shared:
        sentences.append(f"Shares with {group} a liking for {join_words(items[i].title for i in shared)}.")
    if unseen:
        lead = "Those users" if shared else f"{group[0].upper()}{group[1:]}"
        sentences.append(f"{lead} also like {join_words(items[i].title for i in unseen)}, not rated by this user.")
    return tuple(sentences), tuple(f"film:{i}" for i in shared)


# ----- item profiles -------------------------------------------------------------------------------------
def item_facts(data: PtEData, item_id: int) -> Facts:
    """Who a film targets: the audience groups that stand out among its raters, and what else they rate."""
    item = data.catalogue.items[item_id]
    audience = data.catalogue.audiences.get(item_id)
    genres = f": {', '.join(item.genres)}" if item.genres else ""
    if audience is None:
        return unrated_item_facts(item)
    count = f"{audience.n_ratings} user{'s' if audience.n_ratings != 1 else ''}"
    subject = f"{item.label}{genres}; rated by {count}, average {audience.mean_rating:.1f} of 5."
    identity, identity_tags = audience_clauses(audience, data.female_share)
    interests, interest_tags = rater_interests(data, item_id, audience)
    return Facts(identity=identity, interests=interests, identity_tags=identity_tags,
                 interest_tags=tuple(f"genre:{g}" for g in item.genres) + interest_tags, subject=subject)


def unrated_item_facts(item: Item) -> Facts:
    """The profile of a film nobody has rated: its title, year and genres, and no audience.

    A new film has this profile; PtE's embedding stage also shows it for rated films now and then in training, so the
    projection learns to place a film from this alone (`item_dropout`).
    """
    genres = f": {', '.join(item.genres)}" if item.genres else ""
    return Facts(identity=("unknown, nobody has rated it yet",), interests=("Unknown.",),
                 interest_tags=tuple(f"genre:{g}" for g in item.genres),
                 subject=f"{item.label}{genres}; not rated yet.")


def audience_clauses(audience: Audience, female_share: float) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The age band, gender and occupations that over-represent a film's raters, each against all ratings.

    Only what stands out is named: the age band by `Audience.age_band_stands_out`, occupations by
    `Audience.distinct_occupations`, a gender by the same rule as the age band (`gender_stands_out`).
    """
    clauses, tags = [], []
    if audience.age_band_stands_out:
        clauses.append(f"mostly aged {audience.top_age_band} ({_pct(audience.top_age_band_share)} of its raters, "
                       f"against {_pct(audience.age_band_base_share)} of all ratings)")
        tags.append(f"age:{audience.top_age_band}")
    gender = gender_stands_out(audience, female_share)
    if gender is not None:
        share, base = (audience.share_female, female_share) if gender == "F" else (
            1 - audience.share_female, 1 - female_share)
        clauses.append(f"more often {GENDER_NAMES[gender]} ({_pct(share)} of its raters, against {_pct(base)} "
                       "of all ratings)")
        tags.append(f"gender:{gender}")
    lifts = dict(zip(audience.top_occupations, audience.top_occupation_lifts, strict=False))
    distinct = audience.distinct_occupations
    if distinct:
        times = join_words(f"{lifts[o]:.1f}" for o in distinct if o in lifts)
        rate = f" ({times} times their share of all ratings)" if times else ""
        clauses.append(f"{join_words(occupation_plural(o) for o in distinct)} rate it more than average{rate}")
        tags.extend(f"occupation:{o}" for o in distinct)
    if not clauses:
        clauses.append(f"a broad audience: no age band, gender or occupation stands out among its "
                       f"{audience.n_ratings} raters")
    return tuple(clauses), tuple(tags)


def gender_stands_out(audience: Audience, female_share: float) -> str | None:
    """'F' or 'M' when that gender rates the film clearly more than its share of all ratings, else None.

    Clearly: a lift of at least `AUDIENCE_MIN_LIFT` and a one-sided binomial p-value of at most
    `AGE_BAND_MAX_P`, the rule `Audience.age_band_stands_out` applies to age bands.
    """
    n = audience.n_ratings
    if n <= 0 or not 0 < female_share < 1:
        return None
    for gender, share, base in (("F", audience.share_female, female_share),
                                ("M", 1 - audience.share_female, 1 - female_share)):
        if share / base >= AUDIENCE_MIN_LIFT and binomial_tail(round(share * n), n, base) <= AGE_BAND_MAX_P:
            return gender
    return None


def rater_interests(data: PtEData, item_id: int, audience: Audience) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The films most often rated by the same people, and genres beyond its own that its raters lean towards."""
    items = data.catalogue.items
    together = data.catalogue.rated_together.get(item_id, ())[:CO_RATED_FILMS]
    sentences: list[str] = []
    tags: list[str] = []
    if together:
        sentences.append(f"Its raters also rate {join_words(items[i].title for i in together)}.")
        tags.extend(f"film:{i}" for i in together)
    if audience.n_ratings >= MIN_RATERS_FOR_LEANINGS:
        lifts = data.rater_genre_lift.get(item_id, {})
        own = set(items[item_id].genres)
        leaning = sorted((g for g, lift in lifts.items() if g not in own and lift >= AUDIENCE_MIN_LIFT),
                         key=lambda g: (-lifts[g], g))[:LEANING_GENRES]
        if leaning:
            times = join_words(f"{g} {lifts[g]:.1f} times" for g in leaning)
            sentences.append(f"Beyond its own genres they watch {times} as much as raters at large.")
            tags.extend(f"genre:{g}" for g in leaning)
    if not sentences:
        sentences.append("Too few raters to say what else they like.")
    return tuple(sentences), tuple(tags)


def _pct(share: float) -> str:
    return f"{round(100 * share)}%"


# ----- writers -------------------------------------------------------------------------------------------
class PtEWriter(Protocol):
    """Turns a profile's facts into its text (offline: a template; with an LLM: a prompt over the facts)."""

    @property
    def identity(self) -> str:
        """Writer kind, model and prompt version: part of every cache key."""
        ...

    def write(self, role: Role, facts: Facts) -> str:
        """The profile text of a user or item."""
        ...


class OfflinePtEWriter:
    """Writes the facts in PtE's form, deterministically (so its cache never goes stale)."""

    @property
    def identity(self) -> str:
        """Part of every cache key."""
        return f"pte-offline/v{PTE_VERSION}"

    def write(self, role: Role, facts: Facts) -> str:
        """'User identity: ...; User interests: ...' or '<film>. Target users' identity: ...; ... interests: ...'."""
        return render(role, facts)


def without_subject(text: str) -> str:
    """An item profile without its opening subject line (title, genres, ratings): who the film is for.

    The search documents state the subject already; the profile adds its audience and their interests.
    """
    start = text.find(f"{ITEM_LEAD} ")
    return text[start:] if start >= 0 else text


def render(role: Role, facts: Facts) -> str:
    """PtE's two-part form; identity clauses joined by commas, interest sentences by spaces."""
    who = "User" if role == "user" else ITEM_LEAD
    identity = f"{who} identity: {', '.join(facts.identity)}"
    interests = f"{who} interests: {' '.join(facts.interests)}"
    first, second = (interests, identity) if facts.interests_first else (identity, interests)
    body = f"{first.rstrip('.')}; {second}"
    return f"{facts.subject} {body}" if facts.subject else body
