"""Package ReDial's validation dialogues for convrec's dialogue-trained models (conversation prior, stance).

Usage: python scripts/build_redial_data.py [--source ../shared/data/redial/valid_dialogues.jsonl]
Writes training/data/redial_dialogues.jsonl.gz: one compact object per dialogue (ids, messages with their
`@<id>` movie tokens, the movie names, the seeker's and the recommender's answers about each film). ReDial
(Li et al. 2018) is CC BY 4.0; only its validation split is used, never its test split.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "redial" / "valid_dialogues.jsonl"
TARGET = ROOT / "training" / "data" / "redial_dialogues.jsonl.gz"


def _questions(raw: object) -> dict[str, dict[str, int]]:
    """The per-film answers; 12 dialogues store them as a list of {movieId, ...} rows instead of a dict."""
    if isinstance(raw, dict):
        return {str(k): {f: int(v[f]) for f in ("suggested", "seen", "liked")} for k, v in raw.items()}
    if isinstance(raw, list):
        return {str(row["movieId"]): {f: int(row[f]) for f in ("suggested", "seen", "liked")}
                for row in raw if isinstance(row, dict) and "movieId" in row}
    return {}


def compact(dialogue: dict) -> dict:
    """Keep what the models read: who wrote each message, its text, the films and the answers about them."""
    seeker = dialogue["initiatorWorkerId"]
    return {
        "conversation": str(dialogue["conversationId"]),
        "messages": [{"seeker": m["senderWorkerId"] == seeker, "text": m["text"]} for m in dialogue["messages"]],
        "movies": {str(k): v for k, v in dialogue["movieMentions"].items() if v},
        "seeker_answers": _questions(dialogue.get("initiatorQuestions")),
        "recommender_answers": _questions(dialogue.get("respondentQuestions")),
    }


def main() -> None:
    """Read the source file and write the packaged one (deterministic bytes: gzip without a timestamp)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    rows = [compact(json.loads(line)) for line in args.source.read_text(encoding="utf-8").splitlines() if line.strip()]
    payload = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows).encode("utf-8")
    with open(TARGET, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as file:
        file.write(payload)
    print(f"{len(rows)} dialogues -> {TARGET} ({TARGET.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
