"""The one entry point that the UI, the CLI and the evaluations call: a turn in, a typed result out."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import BaseModel, Field

from convrec.core.llm_client import REPLY_TAG, TurnLedger, end_turn, start_turn
from convrec.core.settings import Settings

from .context import AgentContext, UserProfile, load_context
from .graph import build_graph
from .state import PER_TURN_RESET, AgentState, Message

FeedbackKind = Literal["like", "seen", "dislike"]
FEEDBACK_TEXT = {"like": "I like {title}.", "seen": "I've already seen {title}.",
                 "dislike": "Not for me: {title}."}
KEPT_OF_REFUSED = 120  # characters of a refused, over-long message that the transcript keeps


class Recommendation(BaseModel):
    """One recommendation card."""

    item_id: int
    title: str
    year: int | None
    genres: list[str]
    reasons: list[str]
    feedback: Literal["like"] | None = Field(default=None, description="'like' once the person liked this card")


class TurnResult(BaseModel):
    """The stable contract of one turn (what `convrec ask --json` prints)."""

    session: str
    intent: str
    reply: str
    recommendations: list[Recommendation] = Field(default_factory=list)
    provider: str = "offline"
    model: str = ""
    fallbacks: list[str] = Field(default_factory=list, description="LLM steps that used the offline path, and why")
    llm_calls: list[str] = Field(default_factory=list, description="every model call of the turn and its outcome")
    elapsed_ms: float = 0.0

    def public(self) -> dict[str, Any]:
        """The documented JSON object: session, intent, reply, recommendations, provider, model, fallbacks."""
        return self.model_dump(include={"session", "intent", "reply", "recommendations", "provider", "model",
                                        "fallbacks"})


def open_checkpointer(path: Path) -> BaseCheckpointSaver[str]:
    """A SQLite checkpointer at `path`, shared across threads of one process."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    return SqliteSaver(connection)


class ChatService(AbstractContextManager["ChatService"]):
    """Run turns of checkpointed conversations against one loaded context."""

    def __init__(self, context: AgentContext, checkpointer: BaseCheckpointSaver[Any]) -> None:
        self.context = context
        self.checkpointer = checkpointer
        self.graph = build_graph(checkpointer)

    @classmethod
    def open(cls, settings: Settings, *, show_progress: bool = False) -> ChatService:
        """Load everything (building caches the first time) and open the conversation store."""
        context = load_context(settings, show_progress=show_progress)
        return cls(context, open_checkpointer(settings.checkpoint_path))

    def close(self) -> None:
        """Close the checkpoint database."""
        connection = getattr(self.checkpointer, "conn", None)
        if connection is not None:
            connection.close()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _config(self, session: str) -> RunnableConfig:
        return {"configurable": {"thread_id": session}}

    def ask(self, session: str, message: str, *, user_id: int | None = None, top: int | None = None) -> TurnResult:
        """Run one turn of conversation `session` and return what to show."""
        return self._run(session, {"message": message, "messages": self._said(message)}, user_id, top)

    def _said(self, message: str) -> list[Message]:
        """The person's message as the transcript keeps it.

        An empty message leaves no bubble, and one over the length limit is kept only as its start and its length:
        it is refused, so echoing thousands of characters back would help nobody.
        """
        if not message.strip():
            return []
        limit = self.context.settings.max_message_chars
        if len(message) > limit:
            return [{"role": "user", "content": f"{message[:KEPT_OF_REFUSED].rstrip()}… "
                                                f"[{len(message):,} characters, over the {limit:,} limit]"}]
        return [{"role": "user", "content": message}]

    def feedback_message(self, item_id: int, kind: FeedbackKind) -> str:
        """What a card click says in the transcript ("Not for me: Heat.")."""
        item = self.context.catalogue.items.get(int(item_id))
        return FEEDBACK_TEXT[kind].format(title=item.title if item else f"item {item_id}")

    def feedback(self, session: str, item_id: int, kind: FeedbackKind, *, user_id: int | None = None,
                 top: int | None = None) -> TurnResult:
        """Record card feedback (like / seen / not for me): that card alone changes (see agent.card_feedback)."""
        text = self.feedback_message(item_id, kind)
        return self._run(session, {"message": text, "feedback": {"item_id": int(item_id), "kind": kind},
                                   "messages": [{"role": "user", "content": text}]}, user_id, top)

    def ask_stream(self, session: str, message: str, *, user_id: int | None = None,
                   top: int | None = None) -> Iterator[str | TurnResult]:
        """Run one turn, yielding the reply as it grows (text so far) while a model streams it, then the result.

        With the offline provider nothing streams: the only item is the `TurnResult`. The streamed text is the
        model's draft; the final result's reply is what the checks kept (the offline reply if they refused it).
        """
        payload: AgentState = {"message": message, "messages": self._said(message)}
        state_in, started = self._prepare(payload, user_id, top)
        ledger = start_turn(self.context.settings.llm_turn_token_budget)
        draft = ""
        # With a list of stream modes the graph yields (mode, chunk) pairs; langgraph's overload says `dict | Any`.
        parts = cast(Iterator[tuple[str, Any]], self.graph.stream(state_in, self._config(session), context=self.context,
                                                                  stream_mode=["messages"]))
        for mode, chunk in parts:
            if mode != "messages":
                continue
            piece, metadata = chunk
            content = getattr(piece, "content", "")
            if REPLY_TAG in (metadata.get("tags") or []) and content:
                draft += str(content)
                yield draft
        state = self.graph.get_state(self._config(session)).values
        result = self._result(session, state, ledger, started)
        end_turn()
        yield result

    def _prepare(self, payload: AgentState, user_id: int | None, top: int | None) -> tuple[AgentState, float]:
        started = time.perf_counter()
        known = user_id if user_id is not None and user_id in self.context.catalogue.users else None
        state_in: AgentState = {**PER_TURN_RESET, **payload, "top_n": top or self.context.settings.top_n,
                                "user_id": known}
        if "feedback" not in payload:
            state_in["feedback"] = None
        return state_in, started

    def _run(self, session: str, payload: AgentState, user_id: int | None, top: int | None) -> TurnResult:
        state_in, started = self._prepare(payload, user_id, top)
        ledger = start_turn(self.context.settings.llm_turn_token_budget)
        try:
            state = self.graph.invoke(state_in, self._config(session), context=self.context)
        finally:
            end_turn()
        return self._result(session, state, ledger, started)

    def _result(self, session: str, state: dict[str, Any], ledger: TurnLedger, started: float) -> TurnResult:
        return TurnResult(
            session=session, intent=state.get("intent", ""), reply=state.get("reply", ""),
            recommendations=[Recommendation(**card) for card in state.get("recommendations", [])],
            provider=self.context.provider.name, model=self.context.provider.model, fallbacks=ledger.fallbacks(),
            llm_calls=[note.describe() for note in ledger.notes],
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    def transcript(self, session: str) -> list[dict[str, Any]]:
        """The messages of a conversation so far (empty for a new one)."""
        snapshot = self.graph.get_state(self._config(session))
        return list(snapshot.values.get("messages", [])) if snapshot and snapshot.values else []

    def profile(self, user_id: int | None) -> UserProfile | None:
        """The profiles the system holds for a known user (LLM-TUP's short- and long-term texts), or None."""
        return self.context.user_profile(user_id)

    def last_recommendations(self, session: str) -> list[Recommendation]:
        """The cards of the conversation's latest answer with picks."""
        snapshot = self.graph.get_state(self._config(session))
        cards = snapshot.values.get("last_recommendations", []) if snapshot and snapshot.values else []
        return [Recommendation(**card) for card in cards]
