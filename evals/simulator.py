"""The simulated user of the iEvaLM protocol, offline: templates over a hidden target film's attributes.

The user has one hidden target (a real MovieLens user's last film by time, removed from the history the
system sees). It opens with a vague need drawn from the target's most distinctive genre, answers the
system's questions from the target's attributes, never says the title, accepts only the target, and
otherwise rejects the list with a critique grounded in the target: wrong era, wrong genre. Every
constraint it states is true of the target, so a system that honours constraints can still succeed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from convrec.core.catalogue import Catalogue, Item

OPENINGS = (
    "I'm in the mood for a {genre} film.",
    "Can you recommend a good {genre} movie?",
    "Looking for something {genre} tonight.",
    "Any {genre} films you'd suggest?",
)
DECADE_HINTS = (
    "Something from the {decade}s, please.",
    "Not those. I'd like something from the {decade}s.",
    "Those aren't quite it. Maybe a {decade}s film?",
)
GENRE_HINTS = (
    "Not quite. I'd like it to be {genre} as well.",
    "None of these. Something that is also {genre}.",
    "Close, but it should be {genre} too.",
)
NARROW_HINTS = (
    "Still not it. More precisely, {start} to {end}.",
    "None of these. Maybe from {start} to {end}?",
)
ANSWERS = ("Something {genre}, from the {decade}s I think.", "I'd enjoy a {genre} film from the {decade}s.",
           "Maybe {genre}? Something from the {decade}s.")
GIVE_UP = "None of these, sorry. Any other ideas?"
ACCEPT = "That one looks great, I'll watch it!"
GENRE_WORDS = {"Children's": "family", "Film-Noir": "film noir", "Sci-Fi": "sci-fi"}


def genre_word(genre: str) -> str:
    """How a person types a genre ("Sci-Fi" -> "sci-fi", "Children's" -> "family")."""
    return GENRE_WORDS.get(genre, genre.lower())


@dataclass
class SimulatedUser:
    """One simulated person with a hidden target; `stated` records every constraint it has said."""

    target: Item
    catalogue: Catalogue
    rng: np.random.Generator
    stated_genres: list[str] = field(default_factory=list)
    stated_years: tuple[int, int] | None = None
    revealed: int = 0

    def genres_by_distinctiveness(self) -> list[str]:
        """The target's genres, rarest first (the most telling thing to say about it)."""
        idf = self.catalogue.genre_idf
        return sorted(self.target.genres, key=lambda g: (-idf.get(g, 0.0), g))

    def opening(self) -> str:
        """A vague first request: one genre, nothing else."""
        genres = self.genres_by_distinctiveness()
        if not genres:
            return "Can you recommend a film?"
        self.stated_genres = [genres[0]]
        return str(self.rng.choice(OPENINGS)).format(genre=genre_word(genres[0]))

    def answer_question(self) -> str:
        """Answer a clarifying question as a person would.

        It asked for a genre or an era, so say both (the most telling genre not yet said, and the decade); a rejected
        list only draws one critique.
        """
        genres = [g for g in self.genres_by_distinctiveness() if g not in self.stated_genres]
        year = self.target.year
        if genres and year is not None and self.stated_years is None:
            decade = year // 10 * 10
            self.stated_genres.append(genres[0])
            self.stated_years = (decade, decade + 9)
            return str(self.rng.choice(ANSWERS)).format(genre=genre_word(genres[0]), decade=decade)
        if genres:
            self.stated_genres.append(genres[0])
            return f"Something {genre_word(genres[0])}, I think."
        return self.critique([]) or GIVE_UP

    def respond(self, recommended: list[int], asked_question: bool) -> tuple[bool, str]:
        """Accept when the target is shown; otherwise answer or critique. Returns (accepted, message)."""
        if self.target.item_id in recommended:
            return True, ACCEPT
        if asked_question:
            return False, self.answer_question()
        return False, self.critique(recommended) or GIVE_UP

    def critique(self, recommended: list[int]) -> str:
        """Say what is wrong with the list, revealing one more true attribute of the target each time."""
        year = self.target.year
        picks = [self.catalogue.items[i] for i in recommended if i in self.catalogue.items]
        wrong_era = year is not None and (not picks or np.mean(
            [abs((p.year or year) - year) > 5 for p in picks]) >= 0.5)
        if year is not None and self.stated_years is None and wrong_era:
            decade = year // 10 * 10
            self.stated_years = (decade, decade + 9)
            return str(self.rng.choice(DECADE_HINTS)).format(decade=decade)
        remaining = [g for g in self.genres_by_distinctiveness() if g not in self.stated_genres]
        if remaining:
            self.stated_genres.append(remaining[0])
            return str(self.rng.choice(GENRE_HINTS)).format(genre=genre_word(remaining[0]))
        if year is not None and (self.stated_years is None or self.stated_years[1] - self.stated_years[0] > 4):
            start = max(year - 2, (self.stated_years or (year - 2, 0))[0])
            end = min(year + 2, (self.stated_years or (0, year + 2))[1])
            self.stated_years = (start, end)
            return str(self.rng.choice(NARROW_HINTS)).format(start=start, end=end)
        return ""

    def violations(self, recommended: list[int]) -> int:
        """Picks that break a constraint this user stated (a genre asked for, a year range)."""
        count = 0
        for item_id in recommended:
            item = self.catalogue.items[item_id]
            if self.stated_genres and not set(self.stated_genres) <= set(item.genres):
                count += 1
            elif self.stated_years and not (item.year and self.stated_years[0] <= item.year <= self.stated_years[1]):
                count += 1
        return count
