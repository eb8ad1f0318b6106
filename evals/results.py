"""The results of scripted cases: each check, each turn played, and each case's outcome.

`scripted.py` produces them and `report.py` writes them out; both import them from here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["pass", "fail", "known_failure", "fixed"]


class CheckResult(BaseModel):
    """One check of one turn."""

    turn: int
    check: str
    passed: bool
    message: str = ""


class TurnRecord(BaseModel):
    """What was said (or clicked) in one turn and the structured result that came back."""

    turn: int
    said: str | None = None
    said_chars: int | None = None
    feedback: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    elapsed_ms: float | None = None
    error: str | None = None


class CaseResult(BaseModel):
    """The outcome of one case: `passed` when every check held; `status` also weighs `known_failure`."""

    name: str
    category: str
    file: str = ""
    description: str = ""
    passed: bool
    known_failure: str | None = None
    failures: list[str] = Field(default_factory=list)
    checks: list[CheckResult] = Field(default_factory=list)
    turns: list[TurnRecord] = Field(default_factory=list)

    @property
    def status(self) -> Status:
        """pass, fail, known_failure (failed as expected) or fixed (marked known failure but passed)."""
        if self.known_failure:
            return "fixed" if self.passed else "known_failure"
        return "pass" if self.passed else "fail"
