"""What the "often rated by the same people as ..." sentence costs free-text retrieval.

Usage: .venv/bin/python scripts/retrieval_genre_share.py [--top 20]
Embeds every item document twice, with and without that sentence, and asks 24 genre requests written without
genre words the filters would catch; prints, per variant, the mean share of the top films in the asked
genre. Only the encoder and the documents are used (no filters, no ranking), so the number isolates the text.
"""

from __future__ import annotations

import argparse
import json
from unittest import mock

import numpy as np

from convrec.core.data import load_catalogue
from convrec.core.encoder import load_encoder
from convrec.core.settings import Settings
from convrec.retrieval import documents

REQUESTS: dict[str, tuple[str, ...]] = {
    "Sci-Fi": ("a space adventure with aliens", "futuristic robots and time travel",
               "science fiction about the future"),
    "Horror": ("something scary with monsters", "a frightening film to watch at night",
               "a horror movie with ghosts"),
    "Comedy": ("something funny to cheer me up", "a silly comedy", "a film that makes me laugh"),
    "Romance": ("a love story", "a romantic film for date night", "romance and falling in love"),
    "Western": ("cowboys and gunfights", "a western on the frontier"),
    "War": ("soldiers in battle", "a war film about world war two"),
    "Children's": ("a family film for kids", "something for my children"),
    "Crime": ("gangsters and police", "a heist by criminals"),
    "Documentary": ("a documentary about real events",),
    "Musical": ("songs and dancing",),
    "Animation": ("an animated cartoon",),
    "Film-Noir": ("dark detective noir",),
}


def genre_share(texts: list[str], item_ids: list[int], catalogue, encoder, top: int) -> float:  # noqa: ANN001
    """Mean share, over the requests, of the `top` closest documents whose film has the asked genre."""
    vectors = np.asarray(encoder.encode(texts))  # unit-length rows: a dot product is a cosine
    shares = []
    for genre, requests in REQUESTS.items():
        queries = np.asarray(encoder.encode(list(requests)))
        for query in queries:
            best = np.argsort(-(vectors @ query), kind="stable")[:top]
            shares.append(np.mean([genre in catalogue.items[item_ids[j]].genres for j in best]))
    return float(np.mean(shares))


def main() -> None:
    """Print the genre share of the top films with and without the rated-together sentence, as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    settings = Settings()
    catalogue = load_catalogue(settings)
    encoder = load_encoder(settings.encoder_path)
    trusted = documents.kg_facts_trustworthy(catalogue)
    with_sentence = documents.build_documents(catalogue, state_kg_facts=trusted)
    with mock.patch.object(documents, "_rated_together_sentence", lambda *_: ""):
        without = documents.build_documents(catalogue, state_kg_facts=trusted)
    ids = [d.item_id for d in with_sentence]
    print(json.dumps({
        "requests": sum(len(r) for r in REQUESTS.values()), "top": args.top,
        "genre_share_without_sentence": round(genre_share([d.text for d in without], ids, catalogue, encoder,
                                                          args.top), 3),
        "genre_share_with_sentence": round(genre_share([d.text for d in with_sentence], ids, catalogue, encoder,
                                                       args.top), 3),
    }, indent=2))


if __name__ == "__main__":
    main()
