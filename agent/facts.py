"""True statements about an item, drawn from the catalogue, the conversation and the person's history.

Every reason a person sees is one of these facts (the explain step only selects and phrases them), so an
explanation can never claim what the data does not say.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from convrec.core.catalogue import Audience, Catalogue, Item
from convrec.core.phrasing import join_words, occupation_plural
from convrec.training.conversation_prior import mention_key

from .context import AgentContext
from .offline.lexicon import MOOD_BOOSTS
from .schemas import Fact
from .state import AgentState

RECENT_FILMS = 10  # "lately": the person's last ten rated films (the short-term profile names the last 3)
MOOD_GENRE_MAX_SHARE = 0.2
"""A mood reason ("A Film-Noir film, which suits the dark mood you described") is kept only when fewer than this
share of the catalogue's films carry every genre it names. On ML-100K, Drama (43% of films) and Comedy (30%) are
true of too many films to say anything about one; the next most common genres, Action and Thriller, are 15%,
and two genres together (Drama and Romance: 6%) pass. Any threshold between 0.15 and 0.30 draws the same line."""


def co_raters(ctx: AgentContext, item_id: int, others: list[int]) -> np.ndarray:
    """How many users rated both `item_id` and each of `others`."""
    positions = ctx.interactions.item_index(np.array([item_id, *others]))
    columns = ctx.by_item[:, positions]
    counts = (columns[:, 1:].T @ columns[:, :1]).toarray().ravel()
    return counts.astype(int)


def request_facts(item: Item, state: AgentState, catalogue: Catalogue) -> list[Fact]:
    """Facts that tie the item to what the person asked in this conversation."""
    prefs = state.get("prefs", {})
    facts: list[Fact] = []
    matched = [g for g in prefs.get("genres_wanted", []) if g in item.genres]
    low, high = prefs.get("year_min"), prefs.get("year_max")
    span = ""
    if item.year and (low or high):
        span = f"{low}-{high}" if low and high and low != high else (
            str(low) if low == high else (f"after {low - 1}" if low else f"before {high + 1}" if high else ""))
    if matched and span:
        facts.append(Fact(fact_id="req:genre_year", kind="request",
                          text=f"{' and '.join(matched)} from {item.year}: the genre and years ({span}) "
                               "you asked for."))
    elif matched:
        facts.append(Fact(fact_id="req:genre", kind="request", text=f"{' and '.join(matched)}, as you asked."))
    elif span:
        facts.append(Fact(fact_id="req:year", kind="request", text=f"Released in {item.year}, within {span}."))
    excluded = [f"{low}-{high}" if low != high else str(low) for low, high in prefs.get("years_excluded", [])]
    if excluded and item.year and not span:
        facts.append(Fact(fact_id="req:not_years", kind="request",
                          text=f"From {item.year}: not {' or '.join(excluded)}, as you asked."))
    facts += mood_facts(item, state, catalogue)
    avoided = [m for m in prefs.get("moods", []) if m.startswith("not ")]
    penalty = prefs.get("mood_genres_penalty", [])
    if avoided and penalty and not set(item.genres) & set(penalty):
        # The penalty also holds what positive moods avoid ("smart" avoids Children's): name the mood's own genres.
        own = [g for g in penalty if g in MOOD_BOOSTS.get(avoided[0].removeprefix("not "), ())] or penalty
        facts.append(Fact(fact_id="req:avoid", kind="request",
                          text=f"Not tagged {', '.join(own[:3])}: in line with '{avoided[0]}'."))
    if prefs.get("genres_unwanted") and not set(item.genres) & set(prefs["genres_unwanted"]):
        facts.append(Fact(fact_id="req:exclude", kind="request",
                          text=f"No {' or '.join(prefs['genres_unwanted'])}, as you asked."))
    return facts


def mood_facts(item: Item, state: AgentState, catalogue: Catalogue) -> list[Fact]:
    """The genres that tie the item to a mood the person described, when they distinguish it.

    Genres the person asked for are left out (the genre fact says them); the rest must together be carried by
    fewer than `MOOD_GENRE_MAX_SHARE` of the catalogue's films, else "a Drama film suits the smart mood" is
    true of 43% of films and tells nothing about this one.
    """
    prefs = state.get("prefs", {})
    wanted = set(prefs.get("genres_wanted", []))
    boosted = [g for g in prefs.get("mood_genres_boost", []) if g in item.genres and g not in wanted]
    positive_moods = [m for m in prefs.get("moods", []) if not m.startswith("not ") and m not in {"older", "newer"}]
    if not boosted or not positive_moods or catalogue.genre_share(boosted) >= MOOD_GENRE_MAX_SHARE:
        return []
    genres = join_words(boosted)
    article = "An" if genres[0].lower() in "aeiou" else "A"
    return [Fact(fact_id="req:mood", kind="request",
                 text=f"{article} {genres} film, which suits the {positive_moods[0]} mood you described.")]


def liked_facts(ctx: AgentContext, item_id: int, liked: list[int], named: Collection[int] = ()) -> list[Fact]:
    """Co-rating facts against the films the person liked in this conversation.

    A film among `named` (those their messages named) "you mentioned"; one liked only by its card's button
    "you liked": the person never wrote its name.
    """
    liked = [i for i in liked if i != item_id][-3:]
    if not liked:
        return []
    counts = co_raters(ctx, item_id, liked)
    best = int(np.argmax(counts))
    if counts[best] <= 0:
        return []
    title = ctx.catalogue.items[liked[best]].title
    how = "which you mentioned" if liked[best] in named else "which you liked"
    return [Fact(fact_id=f"liked:{liked[best]}", kind="feedback",
                 text=f"{counts[best]} people who watched {title}, {how}, also watched this.")]


def named_items(state: AgentState) -> set[int]:
    """The catalogue films the person's messages named in this conversation (whatever they said of them)."""
    return {int(m["item_id"]) for m in state.get("prefs", {}).get("mentions", []) if m.get("item_id") is not None}


def conversation_facts(ctx: AgentContext, item_id: int, state: AgentState) -> list[Fact]:
    """How often real film conversations (ReDial) named this film beside a film the person named."""
    prior = ctx.prior
    column = prior.position(item_id) if prior is not None else None
    if prior is None or column is None:
        return []
    best: tuple[int, str] | None = None
    for mention in state.get("prefs", {}).get("mentions", []):
        if mention.get("stance") == "disliked" or mention.get("item_id") == item_id:
            continue
        row = prior.key_index.get(mention_key(mention.get("item_id"), mention.get("title", ""), mention.get("year")))
        together = int(prior.together[row, column]) if row is not None else 0
        if together >= 2 and (best is None or together > best[0]):
            name = f"{mention['title']} ({mention['year']})" if mention.get("year") else str(mention["title"])
            best = (together, name)
    if best is None:
        return []
    return [Fact(fact_id="conv:together", kind="feedback",
                 text=f"Named beside {best[1]}, which you mentioned, in {best[0]} real film conversations.")]


def history_facts(ctx: AgentContext, item_id: int, user_id: int | None) -> list[Fact]:
    """Facts from a known user's own ratings: the highly rated films most watched together with this one."""
    if user_id is None:
        return []
    history = ctx.catalogue.history(user_id)
    loved = history[history["rating"] >= 4]
    if loved.empty:
        return []
    ids = [int(i) for i in loved["item_id"].tolist()]
    counts = co_raters(ctx, item_id, ids)
    order = np.argsort(-counts, kind="stable")[:2]
    if counts[order[0]] <= 0:
        return []
    cited = [ctx.catalogue.items[ids[i]].title for i in order if counts[i] > 0]
    ratings = {int(r.item_id): int(r.rating) for r in loved.itertuples(index=False)}
    first = ids[order[0]]
    text = (f"You rated {ctx.catalogue.items[first].title} {ratings[first]}/5; {counts[order[0]]} people who "
            f"watched it also watched this" + (f" (likewise for {cited[1]})." if len(cited) > 1 else "."))
    return [Fact(fact_id=f"history:{first}", kind="history", text=text)]


def profile_facts(ctx: AgentContext, item_id: int, state: AgentState) -> list[Fact]:
    """Which of the person's profiles drove this pick in LLM-TUP, with the films or genres behind that side.

    The side comes from the rank step (fusion weight x that profile's own score); the evidence is the
    person's own history: the latest films that share a genre with the pick, closest first (else the latest
    three by name), or the genres present from their first ratings to their latest that the pick shares (else
    their best-rated films most like it).
    """
    user_id = state.get("user_id")
    side = next((c.get("profile_side") for c in state.get("scored", []) if c["item_id"] == item_id), None)
    if user_id is None or not side:
        return []
    history = ctx.catalogue.history(int(user_id))
    ids = [int(i) for i in history["item_id"]]
    item = ctx.catalogue.items[item_id]
    if side == "short_term":
        recent = ids[-RECENT_FILMS:]
        kin = [i for i in recent if set(ctx.catalogue.items[i].genres) & set(item.genres)]
        closest = _most_similar(ctx, item_id, kin, 2)
        if closest:
            titles = [ctx.catalogue.items[i].title for i in closest]
            return [Fact(fact_id="profile:short_term", kind="profile",
                         text=f"Close to what you have watched lately: {join_words(titles)}.")]
        latest = [ctx.catalogue.items[i].title for i in reversed(ids[-3:])]
        return [Fact(fact_id="profile:short_term", kind="profile",
                     text=f"Suits your recent viewing more than your older ratings (latest: {join_words(latest)}).")]
    thirds = [part for part in np.array_split(np.array(ids), 3) if len(part)]
    lasting = set.intersection(*({g for i in part for g in ctx.catalogue.items[int(i)].genres} for part in thirds))
    shared = [g for g in item.genres if g in lasting]
    if shared and len(thirds) == 3:
        count = sum(1 for i in ids if set(ctx.catalogue.items[i].genres) & set(shared))
        return [Fact(fact_id="profile:long_term", kind="profile",
                     text=f"Fits what you have liked for years: {join_words(shared[:2])} "
                          f"({count} of your {len(ids)} films, from your first ratings to your latest).")]
    loved = [int(i) for i, r in zip(history["item_id"], history["rating"], strict=True) if r >= 4]
    closest = _most_similar(ctx, item_id, loved, 2)
    if not closest:
        return []
    titles = [ctx.catalogue.items[i].title for i in closest]
    return [Fact(fact_id="profile:long_term", kind="profile",
                 text=f"Fits what you have liked for years, like {join_words(titles)}, which you rated 4 or 5.")]


def _most_similar(ctx: AgentContext, item_id: int, others: list[int], n: int) -> list[int]:
    """The `n` films of `others` whose document vectors are closest to the item's (most recent first on ties)."""
    others = [i for i in others if i != item_id]
    if not others:
        return []
    vectors = ctx.index.embeddings([item_id, *others])
    similarity = vectors[1:] @ vectors[0]
    order = sorted(range(len(others)), key=lambda k: (-similarity[k], -k))[:n]
    return [others[k] for k in order]


def catalogue_facts(ctx: AgentContext, item_id: int, *, min_ratings: int = 0) -> list[Fact]:
    """Rating and audience facts from MovieLens itself.

    The rating states the true mean and count, and only for films rated at least `min_ratings` times: a card
    passes `Settings.min_ratings_to_recommend`, so "Rated 5.0/5 by 2 MovieLens users" never reads as a reason to
    watch; an answer about a named film states whatever there is.
    """
    audience = ctx.catalogue.audiences.get(item_id)
    if audience is None:
        return [Fact(fact_id="cat:unrated", kind="catalogue", text="Nobody in MovieLens-100K has rated it yet.")]
    facts = []
    if audience.n_ratings >= min_ratings:
        facts.append(Fact(fact_id="cat:rating", kind="catalogue",
                          text=f"Rated {audience.mean_rating:.1f}/5 by {audience.n_ratings} MovieLens users."))
    who = audience_text(audience)
    if who:
        facts.append(Fact(fact_id="cat:audience", kind="audience", text=who))
    return facts


def audience_text(audience: Audience) -> str:
    """Who watches the film more than films on average, or "" when no group stands out.

    The largest age band is named only when it clearly over-represents the film (`Audience.age_band_stands_out`):
    for most films it is 25-34, the band of 35% of all ratings. Occupations are named only at a lift of 1.2 or more.
    """
    occupations = join_words(occupation_plural(o) for o in audience.distinct_occupations)
    if audience.age_band_stands_out:
        text = (f"Watched most by viewers aged {audience.top_age_band}: {audience.top_age_band_share:.0%} of its "
                f"ratings, against {audience.age_band_base_share:.0%} of all MovieLens ratings")
        return text + (f"; {occupations} rate it more often than average." if occupations else ".")
    if occupations:
        return f"{occupations[0].upper()}{occupations[1:]} rate it more often than average."
    return ""


def kg_facts(ctx: AgentContext, item_id: int, related: list[int]) -> list[Fact]:
    """Knowledge-graph links to films the person mentioned or rated, only when the graph passed its audit."""
    if not ctx.kg_trusted:
        return []
    facts = []
    for link in ctx.catalogue.knowledge.links(item_id):
        if link.other_item_id in related:
            other = ctx.catalogue.items[link.other_item_id].title
            facts.append(Fact(fact_id=f"kg:{link.kind}:{link.other_item_id}", kind="kg", text=link.phrase(other)))
    return facts[:2]


def pick_facts(ctx: AgentContext, item_id: int, state: AgentState) -> list[Fact]:
    """Every fact that may explain recommending `item_id` in this conversation."""
    item = ctx.catalogue.items[item_id]
    liked = state.get("prefs", {}).get("liked_items", [])
    user_id = state.get("user_id")
    related = list(liked)
    if user_id is not None:
        related += [int(i) for i in ctx.catalogue.history(user_id)["item_id"].tolist()]
    return (request_facts(item, state, ctx.catalogue) + liked_facts(ctx, item_id, liked, named_items(state))
            + conversation_facts(ctx, item_id, state)
            + profile_facts(ctx, item_id, state)
            + history_facts(ctx, item_id, user_id) + kg_facts(ctx, item_id, related)
            + catalogue_facts(ctx, item_id, min_ratings=ctx.settings.min_ratings_to_recommend))
