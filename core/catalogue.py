"""The catalogue: items by id, users, timestamped histories and audience statistics.

Everything downstream (documents, rankers, agent) reads MovieLens through this one object, so parsing
quirks (articles moved to the end, bracketed aliases, the `unkonwn` row, a year of `V`) are handled once.
Title search lives in `title_search.py` (the catalogue hands out one `TitleSearch`), English phrasing in
`phrasing.py`.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .dataset import RawTables, read_tables
from .knowledge import KnowledgeGraph
from .mentions import TitleLexicon
from .title_search import TitleMatch, TitleSearch
from .titles import split_title, year_in_title

AGE_BANDS: tuple[tuple[int, int, str], ...] = (
    (0, 17, "under 18"),
    (18, 24, "18-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 200, "55+"),
)
# Items named per film as "often rated by the same people" (see `Catalogue.rated_together`).
RATED_TOGETHER_ITEMS = 10
CO_RATING_SHRINK = 20.0
MIN_SHARED_RATERS = 3
# When an audience group is worth naming (see `Audience.age_band_stands_out`, `Audience.distinct_occupations`).
# On ML-100K the largest age band of most films is 25-34, simply because 35% of all ratings come from it; with
# both rules 20% of the films rated 10 times or more name their band (229 of 1,152), against 47% with the lift
# alone; the band is then 18-24 for 100 films, 35-44 for 50, 25-34 for 47, 45-54 for 24 and 55+ for 8. Of the
# two occupations named per such film, 24 of 2,135 had a lift below 1 and 57 below 1.2.
AUDIENCE_MIN_LIFT = 1.2  # the group's share of the film's ratings, over its share of all ratings
AGE_BAND_MAX_P = 0.025  # one-sided binomial p-value of that many raters from the band, were the film average


def binomial_tail(successes: int, trials: int, p: float) -> float:
    """P(X >= successes) for X ~ Binomial(trials, p), 0 < p < 1, summed in log space (exact for small counts)."""
    if successes <= 0:
        return 1.0
    log_p, log_q, log_n = math.log(p), math.log1p(-p), math.lgamma(trials + 1)
    return sum(math.exp(log_n - math.lgamma(k + 1) - math.lgamma(trials - k + 1) + k * log_p + (trials - k) * log_q)
               for k in range(successes, trials + 1))


def age_band(age: int) -> str:
    """Name the age band (MovieLens-style buckets) that an age falls in."""
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    return "unknown age"


@dataclass(frozen=True)
class Item:
    """One film: display title ("The Usual Suspects"), aliases, year (None when unknown), genres."""

    item_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    raw_title: str = ""

    @property
    def label(self) -> str:
        """Title with year, the way a person cites a film."""
        return f"{self.title} ({self.year})" if self.year else self.title


@dataclass(frozen=True)
class User:
    """One MovieLens user with the demographics the dataset records."""

    user_id: int
    age: int
    gender: str
    occupation: str


@dataclass(frozen=True)
class Audience:
    """Who rated an item: counts, mean rating and the groups that over-represent it.

    `top_age_band_share` is the largest band's share of this item's ratings, `age_band_base_share` that band's
    share of all ratings: most films' largest band is the catalogue's largest band, which says nothing about
    the film unless the film draws it clearly more than films do on average. `top_occupation_lifts` are the
    named occupations' shares here over their shares of all ratings (empty: not measured).
    """

    n_ratings: int
    mean_rating: float
    top_age_band: str
    top_occupations: tuple[str, ...]
    share_female: float
    top_age_band_share: float = 0.0
    age_band_base_share: float = 0.0
    top_occupation_lifts: tuple[float, ...] = ()

    @property
    def age_band_lift(self) -> float:
        """How many times its catalogue-wide share the largest age band has among this item's raters."""
        return self.top_age_band_share / self.age_band_base_share if self.age_band_base_share > 0 else 0.0

    @property
    def age_band_stands_out(self) -> bool:
        """Whether the largest age band is clearly over-represented, so naming it tells something.

        Clearly: at least `AUDIENCE_MIN_LIFT` times the band's share of all ratings, and so many of its raters
        from the band that an average film would draw them with probability `AGE_BAND_MAX_P` at most (one of
        The Visitors' two raters being under 18 is a lift of 20, and chance: p = 0.05).
        """
        base = self.age_band_base_share
        if not 0 < base < 1 or self.n_ratings <= 0:
            return False
        from_band = round(self.top_age_band_share * self.n_ratings)
        return (self.age_band_lift >= AUDIENCE_MIN_LIFT
                and binomial_tail(from_band, self.n_ratings, base) <= AGE_BAND_MAX_P)

    @property
    def distinct_occupations(self) -> tuple[str, ...]:
        """The named occupations that rate the item at least `AUDIENCE_MIN_LIFT` times as often as average.

        `top_occupations` are the two highest lifts among occupations with 3 raters or more, which for a
        broadly watched film can be barely above (or even below) average.
        """
        if not self.top_occupation_lifts:
            return self.top_occupations
        return tuple(o for o, lift in zip(self.top_occupations, self.top_occupation_lifts, strict=True)
                     if lift >= AUDIENCE_MIN_LIFT)


@dataclass
class Catalogue:
    """Items, users and interactions of one dataset, with search and statistics computed once."""

    items: dict[int, Item]
    users: dict[int, User]
    interactions: pd.DataFrame  # user_id, item_id, rating, timestamp; sorted by user, time, file order
    knowledge: KnowledgeGraph
    source: Path | None = None
    _history_index: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _shrunk: dict[float, pd.Series] = field(default_factory=dict, repr=False)
    _genre_shares: dict[frozenset[str], float] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, folder: Path) -> Catalogue:
        """Read and validate the atomic files in `folder`."""
        return cls.from_tables(read_tables(folder))

    @classmethod
    def from_tables(cls, tables: RawTables) -> Catalogue:
        """Build the catalogue from raw tables (also the entry point for test fixtures)."""
        items: dict[int, Item] = {}
        frame = tables.item
        for item_id, raw_title, year_text, classes in zip(
            frame["item_id"], frame["movie_title"], frame["release_year"], frame["class"], strict=True
        ):
            raw = str(raw_title).strip()
            if raw.lower() in {"unknown", "unkonwn", ""}:
                continue  # MovieLens' placeholder row: no title, no year, nothing to recommend
            title, aliases = split_title(raw)
            year_text = str(year_text).strip()
            year = int(year_text) if year_text.isdigit() else year_in_title(raw)
            genres = tuple(g for g in str(classes).split() if g != "unknown")
            items[int(item_id)] = Item(int(item_id), title, year, genres, aliases, raw)
        users = {
            int(r.user_id): User(int(r.user_id), int(r.age) if str(r.age).isdigit() else 0, str(r.gender),
                                 str(r.occupation))
            for r in tables.user.itertuples(index=False)
        }
        inter = tables.inter[["user_id", "item_id", "rating", "timestamp"]].copy()
        inter = inter[inter["item_id"].isin(items)]
        inter["file_order"] = np.arange(len(inter), dtype=np.int64)
        # Timestamps tie often in ML-100K; a stable sort on (user, time) keeps file order within ties.
        inter = inter.sort_values(["user_id", "timestamp", "file_order"], kind="stable").reset_index(drop=True)
        knowledge = KnowledgeGraph.from_tables(tables.kg, tables.link, set(items))
        return cls(items=items, users=users, interactions=inter, knowledge=knowledge, source=tables.source)

    def without(self, pairs: set[tuple[int, int]]) -> Catalogue:
        """A copy whose interactions leave out these (user_id, item_id) pairs (held-out evaluation targets)."""
        keys = list(zip(self.interactions["user_id"], self.interactions["item_id"], strict=True))
        keep = [key not in pairs for key in keys]
        kept = self.interactions[keep].reset_index(drop=True)
        return Catalogue(items=self.items, users=self.users, interactions=kept, knowledge=self.knowledge,
                         source=self.source)

    # ----- histories -------------------------------------------------------------------------------
    def history(self, user_id: int) -> pd.DataFrame:
        """Return a user's interactions in time order (empty for an unknown user)."""
        if not self._history_index:
            grouped = self.interactions.groupby("user_id", sort=False).indices
            self._history_index.update({int(k): v for k, v in grouped.items()})
        rows = self._history_index.get(int(user_id))
        if rows is None:
            return self.interactions.iloc[0:0]
        return self.interactions.iloc[rows]

    # ----- statistics ------------------------------------------------------------------------------
    @cached_property
    def item_ids(self) -> np.ndarray:
        """All recommendable item ids, ascending."""
        return np.array(sorted(self.items), dtype=np.int64)

    @cached_property
    def genres(self) -> tuple[str, ...]:
        """Every genre that some item carries, sorted."""
        return tuple(sorted({g for item in self.items.values() for g in item.genres}))

    @cached_property
    def genre_idf(self) -> dict[str, float]:
        """How distinctive each genre is: log(items / items with the genre). Drama is common, Film-Noir rare."""
        counts: dict[str, int] = {}
        for item in self.items.values():
            for genre in item.genres:
                counts[genre] = counts.get(genre, 0) + 1
        return {genre: float(np.log(len(self.items) / n)) for genre, n in counts.items()}

    @cached_property
    def year_range(self) -> tuple[int, int]:
        """Earliest and latest release year in the catalogue."""
        years = [i.year for i in self.items.values() if i.year]
        return min(years), max(years)

    @cached_property
    def popularity(self) -> pd.Series:
        """Number of ratings per item id (0 for items nobody rated)."""
        counts = self.interactions["item_id"].value_counts()
        return counts.reindex(self.item_ids, fill_value=0)

    @cached_property
    def mean_rating(self) -> pd.Series:
        """Mean rating per item id (NaN for items nobody rated)."""
        return self.interactions.groupby("item_id")["rating"].mean().reindex(self.item_ids)

    @cached_property
    def global_mean_rating(self) -> float:
        """Mean of all ratings: what a film's mean is shrunk towards (3.53 on ML-100K; NaN with no ratings)."""
        return float(self.interactions["rating"].mean())

    def shrunk_rating(self, prior_weight: float) -> pd.Series:
        """Mean rating per item id shrunk towards the global mean: (sum + k * m) / (count + k), k = `prior_weight`.

        A film rated 5 by two people gets (10 + 10 * 3.53) / 12 = 3.78 with k = 10, below a film rated 4.3 by
        five hundred; a film nobody rated gets the global mean. Cached per weight.
        """
        if prior_weight not in self._shrunk:
            ratings = self.interactions.groupby("item_id")["rating"]
            sums = ratings.sum().reindex(self.item_ids, fill_value=0.0).astype(float)
            counts = self.popularity.astype(float)
            prior = self.global_mean_rating
            if prior_weight <= 0:
                self._shrunk[prior_weight] = (sums / counts.where(counts > 0)).fillna(prior)
            else:
                self._shrunk[prior_weight] = (sums + prior_weight * prior) / (counts + prior_weight)
        return self._shrunk[prior_weight]

    def rated_fewer_than(self, min_ratings: int) -> frozenset[int]:
        """Item ids with fewer than `min_ratings` ratings: too little evidence to recommend them unasked."""
        if min_ratings <= 0:
            return frozenset()
        counts = self.popularity
        return frozenset(int(i) for i in counts.index[counts.to_numpy() < min_ratings])

    def genre_share(self, genres: Collection[str]) -> float:
        """Share of the catalogue's films that carry every one of `genres` (1.0 for none: every film does).

        Drama alone is 0.43 on ML-100K, Drama with Romance 0.06: what a shared genre says about one film.
        """
        wanted = frozenset(genres)
        if wanted not in self._genre_shares:
            carrying = sum(1 for item in self.items.values() if wanted <= set(item.genres))
            self._genre_shares[wanted] = carrying / len(self.items) if self.items else 0.0
        return self._genre_shares[wanted]

    @cached_property
    def audiences(self) -> dict[int, Audience]:
        """Audience summary per item: its largest age band and the occupations that rate it more than average.

        Each group comes with its share of the item's ratings against its share of all ratings, so a fact can
        name only the groups that set the item apart.
        """
        users = pd.DataFrame(
            [(u.user_id, age_band(u.age), u.occupation, u.gender) for u in self.users.values()],
            columns=["user_id", "band", "occupation", "gender"],
        )
        joined = self.interactions.merge(users, on="user_id", how="left")
        base_occ = joined["occupation"].value_counts(normalize=True)
        base_band = joined["band"].value_counts(normalize=True)
        result: dict[int, Audience] = {}
        for item_id, group in joined.groupby("item_id", sort=True):
            bands = group["band"].value_counts()
            occ = group["occupation"].value_counts()
            lift = (occ / len(group)) / base_occ.reindex(occ.index)
            salient = [o for o in lift.sort_values(ascending=False).index if occ[o] >= 3][:2]
            top_band = str(bands.index[0])
            result[int(item_id)] = Audience(
                n_ratings=len(group),
                mean_rating=float(group["rating"].mean()),
                top_age_band=top_band,
                top_occupations=tuple(salient),
                share_female=float((group["gender"] == "F").mean()),
                top_age_band_share=float(bands.iloc[0] / len(group)),
                age_band_base_share=float(base_band.get(top_band, 0.0)),
                top_occupation_lifts=tuple(float(lift[o]) for o in salient),
            )
        return result

    @cached_property
    def rated_together(self) -> dict[int, tuple[int, ...]]:
        """Per item, the items most often rated by the same people, closest first.

        Items with no such item are left out.

        Closeness is the cosine between the two items' sets of raters with `CO_RATING_SHRINK` added to the
        denominator, so a pair of niche films sharing 3 raters does not outrank films shared by hundreds; a
        pair needs `MIN_SHARED_RATERS` people in common. Item documents state these as facts ("often rated
        by the same people as ..."), which lets a text encoder see who watches what alongside what.
        """
        ids = self.item_ids
        column = pd.Series(np.arange(len(ids)), index=ids)
        rated = self.interactions[self.interactions["item_id"].isin(column.index)]
        users = pd.factorize(rated["user_id"])[0]
        matrix = sp.csr_matrix((np.ones(len(rated), dtype=np.float32), (users, column[rated["item_id"]].to_numpy())),
                               shape=(int(users.max()) + 1 if len(users) else 0, len(ids)))
        matrix.data[:] = 1.0  # a person who rated a film twice still counts once
        shared = (matrix.T @ matrix).toarray()
        raters = np.diag(shared).copy()
        np.fill_diagonal(shared, 0.0)
        closeness = shared / (np.sqrt(np.outer(raters, raters)) + CO_RATING_SHRINK)
        closeness[shared < MIN_SHARED_RATERS] = 0.0
        result: dict[int, tuple[int, ...]] = {}
        for col, item_id in enumerate(ids):
            order = np.argsort(-closeness[col], kind="stable")[:RATED_TOGETHER_ITEMS]
            kept = tuple(int(ids[j]) for j in order if closeness[col, j] > 0)
            if kept:
                result[int(item_id)] = kept
        return result

    # ----- title search ----------------------------------------------------------------------------
    @cached_property
    def title_search(self) -> TitleSearch:
        """The title search over this catalogue's films (most rated first among films of one name)."""
        return TitleSearch(self.items, {int(i): int(n) for i, n in self.popularity.items()})

    @property
    def title_lexicon(self) -> TitleLexicon:
        """The lexicon `mentions.find_mentions` reads, so a catalogue can be handed to it directly."""
        return self.title_search.title_lexicon

    def find_title(self, query: str, *, limit: int = 5, cutoff: float = 80.0) -> list[TitleMatch]:
        """Find the items a typed title most likely means, best first (`TitleSearch.find_title`)."""
        return self.title_search.find_title(query, limit=limit, cutoff=cutoff)

    def find_titles_in_text(self, text: str) -> list[TitleMatch]:
        """Find the catalogue films a message mentions, in order, each once (`TitleSearch.find_in_text`)."""
        return self.title_search.find_in_text(text)
