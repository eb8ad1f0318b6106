"""What a profile writer produces and the interface every writer (offline or a language model) implements.

LLM-TUP describes each user twice: a short-term profile centred on the latest films and a long-term profile
of what held over the whole history. The ablation without a temporal split needs a third text, one undated
summary of everything. A writer's `identity` (writer kind, model, prompt version) is part of every cache key,
so profiles from different writers or prompts are never mixed.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from .history import HistoryEntry

PROFILE_KINDS = ("short_term", "long_term", "whole")


class UserProfiles(BaseModel):
    """The three texts written for one user."""

    model_config = ConfigDict(frozen=True)

    short_term: str = Field(description="recent taste, centred on the last few films (300-500 characters)")
    long_term: str = Field(description="what the person has liked throughout their history")
    whole: str = Field(description="one undated summary of the whole history (the no-temporal-split ablation)")

    def text(self, kind: str) -> str:
        """One of the three texts by kind name."""
        if kind not in PROFILE_KINDS:
            raise ValueError(f"unknown profile kind {kind!r}; choose one of {PROFILE_KINDS}")
        return str(getattr(self, kind))


class ProfileWriter(Protocol):
    """Writes a user's profiles from their time-ordered history."""

    @property
    def identity(self) -> str:
        """Writer kind, model and prompt version, e.g. 'offline/v1' or 'openai/qwen2.5-0.5b/prompt-v1'."""
        ...

    def write(self, history: list[HistoryEntry]) -> UserProfiles:
        """Return the user's profiles; `history` is oldest first and never empty."""
        ...
