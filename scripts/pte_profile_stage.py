"""PtE's profile stage on all of ML-100K: the time of each part, the candidates kept, what each round changes.

Usage: .venv/bin/python scripts/pte_profile_stage.py [--rounds 2] [--folder DIR]

Writes every user's candidate profiles and every film's profile (offline writer), selects each user's candidate
with the group-relative reward, refines for `--rounds` rounds, and prints JSON: seconds per part, how many users
kept each candidate variant, per round how many texts changed and by how many characters, and the mean cosine
distance between each profile's vectors before and after the round. Texts and vectors go to `--folder` (a fresh
one by default, so the encoding the reward needs is timed too).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from functools import partial
from pathlib import Path

from convrec.core.data import load_catalogue
from convrec.core.encoder import load_encoder
from convrec.core.settings import Settings
from convrec.training.interactions import Interactions
from convrec.training.profiles.embeddings import EmbeddingCache
from convrec.training.profiles.pte_refine import build_pte_profiles, embedding_movement, round_changes
from convrec.training.profiles.pte_writer import PtEData


def main() -> None:
    """Run the stage once and print its summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--folder", type=Path, default=None, help="texts and vectors (default: a fresh folder)")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="convrec-pte-"))
    settings = Settings()
    catalogue = load_catalogue(settings)
    embed = partial(EmbeddingCache(folder / "embeddings", load_encoder(settings.encoder_path)).encode)
    clock = time.perf_counter()
    data = PtEData.build(catalogue, Interactions.from_catalogue(catalogue))
    data_seconds = time.perf_counter() - clock
    clock = time.perf_counter()
    profiles = build_pte_profiles(data, folder / "pte", embed=embed, rounds=args.rounds, show_progress=True)
    summary = {
        "data_seconds": round(data_seconds, 1), "profile_stage_seconds": round(time.perf_counter() - clock, 1),
        "timings": {part: round(seconds, 1) for part, seconds in profiles.timings.items()},
        "users": len(profiles.users), "items": len(profiles.items),
        "chosen": {label: sum(1 for v in profiles.chosen.values() if v.label == label)
                   for label in sorted({v.label for v in profiles.chosen.values()})},
        "round_changes": round_changes(profiles.rounds),
        "movement": [{"users": embedding_movement(a.users, b.users, embed),
                      "items": embedding_movement(a.items, b.items, embed)}
                     for a, b in zip(profiles.rounds, profiles.rounds[1:], strict=False)],
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
