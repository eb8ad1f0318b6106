"""Item documents: the short text each film is embedded from, and the metadata its filters run on.

A document states only what the catalogue knows (title, year, genres, who rated it and what else those people
rated) and, when the knowledge graph is trustworthy, how the film links to other catalogue films. Anything
the retriever finds must be explainable from these facts, so nothing here is guessed or embellished.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from convrec.core.catalogue import Audience, Catalogue, Item
from convrec.core.knowledge import audit_sequel_titles
from convrec.core.phrasing import join_words, occupation_plural

log = logging.getLogger(__name__)

# Part of the index cache key: bump whenever the wording or the metadata of a document changes.
DOCUMENT_TEMPLATE_VERSION = "2"  # 2: the "often rated by the same people as" sentence
# A knowledge graph is believed only when enough sequel links exist to judge it and enough of them pair
# titles that share a word (a correct graph pairs "Alien" with "Aliens"; chance pairs almost never do).
MIN_SEQUEL_LINKS = 5
MIN_SEQUEL_AGREEMENT = 0.30
MAX_KG_FACTS = 3

# What each MovieLens genre means, said in the words people use when asking for one. These describe the
# genre, not the film (explanations must not quote them as facts about a film). On ML-100K they lifted the
# share of top-20 results in the requested genre, over 20 free-text requests written after the glosses, from
# 0.38 (bare labels) to 0.53.
GENRE_GLOSSES: dict[str, str] = {
    "Action": "action: fights, chases and stunts", "Adventure": "adventure: quests and journeys",
    "Animation": "animation: an animated cartoon", "Children's": "children's: a family film for kids",
    "Comedy": "comedy: funny and humorous", "Crime": "crime: criminals, police and gangsters",
    "Documentary": "documentary: non-fiction about real events", "Drama": "drama: serious and emotional",
    "Fantasy": "fantasy: magic and myth", "Film-Noir": "film noir: dark crime and detectives",
    "Horror": "horror: scary and frightening", "Musical": "musical: songs and dance",
    "Mystery": "mystery: a puzzle to solve", "Romance": "romance: a love story",
    "Sci-Fi": "science fiction: the future, space, aliens and robots",
    "Thriller": "thriller: suspense and tension",
    "War": "war: soldiers and battles", "Western": "western: cowboys on the American frontier",
}
MetadataValue = int | float | bool | str
_warned_untrusted: set[int] = set()


@dataclass(frozen=True)
class ItemDocument:
    """The embedded text of one item and the scalar metadata Chroma filters on."""

    item_id: int
    text: str
    metadata: dict[str, MetadataValue]


def genre_key(genre: str) -> str:
    """Turn a genre name into a metadata key that is safe in Chroma filters ("Sci-Fi" -> "g_sci_fi")."""
    words = re.sub(r"[^a-z0-9]+", "_", genre.lower().replace("'", "")).strip("_")
    return f"g_{words}"


def kg_facts_trustworthy(catalogue: Catalogue) -> bool:
    """Tell whether the knowledge graph's item links may be stated as facts.

    RecBole's ml-100k link file maps items to the wrong Freebase entities, so its "sequel" pairs almost
    never share a title word; stating its links would invent facts. Too few links to judge means untrusted.
    """
    titles = {item_id: item.title for item_id, item in catalogue.items.items()}
    agreement, n_links = audit_sequel_titles(catalogue.knowledge, titles)
    trusted = n_links >= MIN_SEQUEL_LINKS and agreement >= MIN_SEQUEL_AGREEMENT
    if not trusted and id(catalogue) not in _warned_untrusted:
        _warned_untrusted.add(id(catalogue))
        log.warning(
            "Knowledge-graph links left out of item documents: %d sequel/prequel links, %.0f%% share a title "
            "word (needs >= %d and >= %.0f%%)",
            n_links, 100 * agreement, MIN_SEQUEL_LINKS, 100 * MIN_SEQUEL_AGREEMENT,
        )
    return trusted


def build_documents(
    catalogue: Catalogue, *, state_kg_facts: bool, item_profiles: dict[int, str] | None = None
) -> list[ItemDocument]:
    """Build one document per catalogue item, in ascending item id order."""
    profiles = item_profiles or {}
    return [
        ItemDocument(
            item_id=item_id,
            text=document_text(catalogue, item, state_kg_facts=state_kg_facts, profile=profiles.get(item_id)),
            metadata=document_metadata(catalogue, item),
        )
        for item_id, item in sorted(catalogue.items.items())
    ]


def document_text(catalogue: Catalogue, item: Item, *, state_kg_facts: bool, profile: str | None) -> str:
    """Write the plain sentences that describe one item."""
    sentences = [_title_sentence(item), _genre_sentence(item)]
    sentences.append(_audience_sentence(catalogue.audiences.get(item.item_id)))
    sentences.append(_rated_together_sentence(catalogue, item.item_id))
    if state_kg_facts:
        sentences.append(_kg_sentence(catalogue, item.item_id))
    if profile and profile.strip():
        sentences.append(f"Profile: {' '.join(profile.split())}")
    return " ".join(s for s in sentences if s)


def document_metadata(catalogue: Catalogue, item: Item) -> dict[str, MetadataValue]:
    """Collect the scalar fields filters use; every catalogue genre gets a flag, so absence is filterable."""
    audience = catalogue.audiences.get(item.item_id)
    metadata: dict[str, MetadataValue] = {
        "item_id": item.item_id,
        "year": item.year or 0,
        "popularity": audience.n_ratings if audience else 0,
        "mean_rating": round(audience.mean_rating, 4) if audience else 0.0,
    }
    own = {genre_key(g) for g in item.genres}
    for genre in catalogue.genres:
        metadata[genre_key(genre)] = genre_key(genre) in own
    return metadata


def _title_sentence(item: Item) -> str:
    aliases = f" (also known as {join_words(item.aliases)})" if item.aliases else ""
    year = f", released in {item.year}" if item.year else ", release year unknown"
    return f"{item.title}{aliases}{year}."


def _genre_sentence(item: Item) -> str:
    """Name the genres with what each genre means: plain labels like "Sci-Fi" embed poorly on their own."""
    if not item.genres:
        return ""
    return f"Genres: {'; '.join(GENRE_GLOSSES.get(g, g) for g in item.genres)}."


def _audience_sentence(audience: Audience | None) -> str:
    if audience is None or audience.n_ratings == 0:
        return "No one has rated it yet."
    noun = "rating" if audience.n_ratings == 1 else "ratings"
    text = (
        f"Rated {audience.mean_rating:.1f} out of 5 on average from {audience.n_ratings} {noun}; "
        f"most raters are aged {audience.top_age_band}"
    )
    if audience.top_occupations:
        groups = join_words(occupation_plural(o) for o in audience.top_occupations)
        text += f"; rated more often than average by {groups}"
    return text + "."


def _rated_together_sentence(catalogue: Catalogue, item_id: int) -> str:
    """Name the films most often rated by the same people: who watches it, said through what else they watch.

    With these names in the text, an item's embedding sits near the films its audience also rates, and a
    profile that names a person's films (LLM-TUP) sits near the films their fellow viewers went on to; on
    ML-100K this lifted LLM-TUP's validation NDCG@10 (see training/configs/tup.yaml).
    """
    together = catalogue.rated_together.get(item_id, ())
    if not together:
        return ""
    return f"Often rated by the same people as {join_words(catalogue.items[i].title for i in together)}."


def _kg_sentence(catalogue: Catalogue, item_id: int) -> str:
    links = [lk for lk in catalogue.knowledge.links(item_id) if lk.other_item_id in catalogue.items]
    phrases = [lk.phrase(catalogue.items[lk.other_item_id].title) for lk in links[:MAX_KG_FACTS]]
    if not phrases:
        return ""
    return f"It {join_words(phrases)}."



def document_texts_for(full: Catalogue) -> Callable[[Catalogue], dict[int, str]]:
    """Item id -> document text of any part of `full` (a benchmark's training rows), as the index writes them.

    Whether knowledge-graph facts may be stated is judged once on the whole dataset: it is a property of the
    link file, not of which ratings a split keeps.
    """
    trusted = kg_facts_trustworthy(full)

    def texts(part: Catalogue) -> dict[int, str]:
        return {document.item_id: document.text for document in build_documents(part, state_kg_facts=trusted)}

    return texts
