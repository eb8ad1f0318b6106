"""Scripted dialogue cases: the YAML schema every file in `evals/cases/` follows, and the loader.

A case is a short conversation with the checks a demanding user would make after each turn. Files are
validated with pydantic; a file that does not parse or validate becomes a `BrokenCase` that the runner
reports as a failed case with a one-line reason naming the file, so one typo never hides the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from convrec.core.intents import Intent as AgentIntent

CATEGORIES: tuple[str, ...] = (
    "chitchat", "item_question", "unknown_title", "hard_constraints", "soft_constraints", "mixed",
    "history_only", "critique", "why", "impossible", "out_of_scope", "prompt_injection", "odd_input", "own_words",
)
Category = Literal[
    "chitchat", "item_question", "unknown_title", "hard_constraints", "soft_constraints", "mixed",
    "history_only", "critique", "why", "impossible", "out_of_scope", "prompt_injection", "odd_input", "own_words",
]
# The agent's acts, and "invalid" for a message the service refuses before the graph reads it.
Intent = Literal[AgentIntent, "invalid"]
FeedbackKind = Literal["like", "seen", "dislike"]
CASES_DIR = Path(__file__).resolve().parent / "cases"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PickRef(_Strict):
    """The item that was pick `pick` (1-based) of turn `turn` (1-based) of this case.

    `field` is the text a reply check looks for.
    """

    turn: int = Field(ge=1)
    pick: int = Field(ge=1)
    field: Literal["title", "year"] = "title"


class TurnRef(_Strict):
    """A whole earlier turn (1-based), for checks relative to all of its picks."""

    turn: int = Field(ge=1)


TextOrRef = str | PickRef
"""A literal text, or a reference to a field of an earlier pick."""
TitleOrRef = str | PickRef
"""A title resolved with the catalogue's `find_title`, or a reference to an earlier pick."""


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


class EveryPick(_Strict):
    """Constraints that every pick of the turn must satisfy."""

    year_min: int | None = None
    year_max: int | None = None
    year_not_between: tuple[int, int] | None = Field(default=None, description="an excluded span, inclusive")
    genre_present: list[str] = Field(default_factory=list, description="at least one of these genres")
    genre_all: list[str] = Field(default_factory=list, description="all of these genres")
    genre_absent: list[str] = Field(default_factory=list, description="none of these genres")
    older_than: TurnRef | None = Field(default=None, description="released before every pick of that turn")
    newer_than: TurnRef | None = Field(default=None, description="released after every pick of that turn")
    reasons_mention: list[str] = Field(default_factory=list,
                                       description="some reason of each pick contains one of these texts")

    as_lists = field_validator("genre_present", "genre_all", "genre_absent", "reasons_mention", mode="before")(
        _as_list)


class Expect(_Strict):
    """Checks on one turn's structured result; every field left out is not checked."""

    intent: list[Intent] | None = None
    recommendations: Literal["non_empty", "empty"] | None = None
    every_pick: EveryPick | None = None
    never_shown: list[TitleOrRef] = Field(default_factory=list)
    not_repeated: bool = False
    unseen_by_user: bool = False
    reply_mentions: list[TextOrRef] = Field(default_factory=list)
    reply_not_mentions: list[TextOrRef] = Field(default_factory=list)
    reply_max_chars: int | None = Field(default=None, ge=1)
    asks_question: bool = False
    picks_have_reasons: bool = False
    one_card_changed: bool = Field(default=False, description="on a card click: every other card of the previous "
                                   "answer stays in its place; the judged one is replaced by a film never shown "
                                   "before ('seen', 'dislike') or kept ('like')")

    intent_as_list = field_validator("intent", mode="before")(_as_list)


class FeedbackAction(_Strict):
    """A card click on pick `pick` of the latest answer that had picks."""

    pick: int = Field(ge=1)
    kind: FeedbackKind


class Turn(_Strict):
    """One user action (a message, or card feedback) and what must hold after it."""

    say: str | None = None
    repeat: int = Field(default=1, ge=1, le=100_000, description="send `say` repeated this many times")
    feedback: FeedbackAction | None = None
    expect: Expect = Field(default_factory=Expect)

    @model_validator(mode="after")
    def _one_action(self) -> Turn:
        if (self.say is None) == (self.feedback is None):
            raise ValueError("a turn needs exactly one of 'say' or 'feedback'")
        if self.feedback is not None and self.repeat != 1:
            raise ValueError("'repeat' applies only to 'say'")
        return self

    @property
    def message(self) -> str | None:
        """The text sent to the agent (None for feedback)."""
        return None if self.say is None else self.say * self.repeat


class Case(_Strict):
    """One scripted conversation."""

    name: str = Field(min_length=1)
    category: Category
    description: str = Field(min_length=1)
    user: int | None = Field(default=None, description="MovieLens user id; anonymous when left out")
    top: int | None = Field(default=None, ge=1, le=50, description="picks per answer; the settings' default")
    known_failure: str | None = Field(default=None, description="why the agent is known to fail this case")
    turns: Annotated[list[Turn], Field(min_length=1)]
    file: str = Field(default="", description="the file the case was read from (set by the loader)")

    @model_validator(mode="after")
    def _references_point_back(self) -> Case:
        for number, turn in enumerate(self.turns, start=1):
            refs: list[PickRef | TurnRef] = [
                *(r for r in [*turn.expect.never_shown, *turn.expect.reply_mentions,
                              *turn.expect.reply_not_mentions] if isinstance(r, PickRef))]
            if turn.expect.every_pick is not None:
                refs += [r for r in (turn.expect.every_pick.older_than, turn.expect.every_pick.newer_than) if r]
            for ref in refs:
                if ref.turn >= number:
                    raise ValueError(f"turn {number} refers to turn {ref.turn}, which is not an earlier turn")
            if turn.expect.unseen_by_user and self.user is None:
                raise ValueError(f"turn {number} checks unseen_by_user but the case sets no 'user'")
        if self.turns[0].feedback is not None:
            raise ValueError("the first turn cannot be feedback: there are no picks yet")
        return self


class BrokenCase(BaseModel):
    """A case file that could not be read; the runner reports it as a failed case."""

    name: str
    file: str
    error: str
    category: str = "broken"


def _one_line(error: ValidationError | yaml.YAMLError | OSError | UnicodeDecodeError) -> str:
    if isinstance(error, ValidationError):
        parts = []
        for item in error.errors():
            where = ".".join(str(p) for p in item["loc"]) or "case"
            parts.append(f"{where}: {item['msg']}")
        return "; ".join(parts[:3]) + (f" (+{len(parts) - 3} more)" if len(parts) > 3 else "")
    return " ".join(str(error).split())


def load_case(path: Path) -> Case | BrokenCase:
    """Read and validate one case file; any problem becomes a `BrokenCase` with a one-line reason."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("the file must hold a mapping with name, category, description and turns")
        return Case.model_validate({**data, "file": path.name})
    except (ValidationError, yaml.YAMLError, OSError, UnicodeDecodeError) as error:
        reason = _one_line(error)
    except ValueError as error:
        reason = str(error)
    return BrokenCase(name=path.stem, file=path.name, error=f"{path.name}: invalid case: {reason}")


def load_cases(folder: Path | None = None) -> list[Case | BrokenCase]:
    """Every `*.yaml` / `*.yml` case in `folder` (the packaged cases by default), sorted by file name.

    Two files with the same case name make the second one broken, so results stay keyed by name.
    """
    folder = CASES_DIR if folder is None else folder
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    cases: list[Case | BrokenCase] = []
    names: dict[str, str] = {}
    for path in paths:
        case = load_case(path)
        if isinstance(case, Case) and case.name in names:
            case = BrokenCase(name=path.stem, file=path.name,
                              error=f"{path.name}: invalid case: name {case.name!r} is also used by "
                                    f"{names[case.name]}")
        names.setdefault(case.name, path.name)
        cases.append(case)
    return cases
