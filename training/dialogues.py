"""Real conversations to learn from: ReDial's validation dialogues, packaged with convrec.

ReDial (Li et al. 2018, "Towards Deep Conversational Recommendations", NeurIPS; CC BY 4.0, redistributed by
RUCAIBox/iEvaLM-CRS) pairs a seeker who wants a film with a human recommender. convrec ships its 1,000
validation dialogues (`data/redial_dialogues.jsonl.gz`, built by `scripts/build_redial_data.py`) and learns
from them what people mean (the stance towards a film they name) and what people recommend in conversation
(the conversation prior). ReDial's test split is never used.

A seeker *turn* is the run of consecutive seeker messages between two recommender messages, joined by one
space, with each `@<id>` movie token written as its "Title (Year)" name: the form of the evaluation cases.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

DATA_FILE = "data/redial_dialogues.jsonl.gz"
_TOKEN = re.compile(r"@(\d+)")


@dataclass(frozen=True)
class FilmAnswer:
    """One participant's answers about one film: 1 yes, 0 no, 2 did not say."""

    suggested: int
    seen: int
    liked: int


@dataclass(frozen=True)
class Turn:
    """Consecutive messages of one side, joined; `movie_ids` are the ReDial ids it names, in order."""

    seeker: bool
    text: str
    movie_ids: tuple[str, ...]


@dataclass(frozen=True)
class Dialogue:
    """One ReDial conversation."""

    conversation: str
    messages: tuple[tuple[bool, str], ...]  # (written by the seeker, text with @<id> tokens)
    movies: dict[str, str]  # ReDial movie id -> "Title (Year)"
    seeker_answers: dict[str, FilmAnswer]
    recommender_answers: dict[str, FilmAnswer]

    def name(self, movie_id: str) -> str | None:
        """The film's "Title (Year)" with runs of spaces collapsed (ReDial writes "The Shining  (1980)")."""
        raw = self.movies.get(movie_id)
        return " ".join(raw.split()) if raw else None

    def written(self, text: str) -> str:
        """A message with its movie tokens written out as names."""
        return _TOKEN.sub(lambda m: self.name(m.group(1)) or m.group(0), text)

    def turns(self) -> list[Turn]:
        """Both sides' turns in order (consecutive messages of one side joined by a space)."""
        turns: list[Turn] = []
        for seeker, text in self.messages:
            ids = tuple(_TOKEN.findall(text))
            if turns and turns[-1].seeker == seeker:
                last = turns[-1]
                turns[-1] = Turn(seeker, f"{last.text} {self.written(text)}", last.movie_ids + ids)
            else:
                turns.append(Turn(seeker, self.written(text), ids))
        return turns

    def seeker_turns(self) -> list[Turn]:
        """The seeker's turns only, as the evaluation cases write them."""
        return [turn for turn in self.turns() if turn.seeker]

    def first_named_by_seeker(self, movie_id: str) -> bool:
        """Whether the seeker (not the recommender) was the first to name this film."""
        for seeker, text in self.messages:
            if movie_id in _TOKEN.findall(text):
                return seeker
        return False


def dialogue_bytes() -> bytes:
    """The packaged file's bytes (what every dialogue-trained model's cache key hashes)."""
    return resources.files("convrec.training").joinpath(DATA_FILE).read_bytes()


@cache
def _all_dialogues() -> tuple[Dialogue, ...]:
    rows = gzip.decompress(dialogue_bytes()).decode("utf-8").splitlines()
    return tuple(_parse(json.loads(row)) for row in rows if row.strip())


def load_dialogues(exclude: Collection[str] = ()) -> list[Dialogue]:
    """Every packaged dialogue except the conversations in `exclude` (held out for evaluation)."""
    skip = set(exclude)
    return [d for d in _all_dialogues() if d.conversation not in skip]


def _parse(row: dict[str, Any]) -> Dialogue:
    def answers(raw: dict[str, Any]) -> dict[str, FilmAnswer]:
        return {str(k): FilmAnswer(int(v["suggested"]), int(v["seen"]), int(v["liked"])) for k, v in raw.items()}

    return Dialogue(conversation=str(row["conversation"]),
                    messages=tuple((bool(m["seeker"]), str(m["text"])) for m in row["messages"]),
                    movies={str(k): str(v) for k, v in row["movies"].items()},
                    seeker_answers=answers(row.get("seeker_answers", {})),
                    recommender_answers=answers(row.get("recommender_answers", {})))
