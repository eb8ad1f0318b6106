"""One guarded way to call an OpenAI-compatible chat model: budgets, timeouts, retries, one repair, fallback.

Every LLM call in convrec (understanding a message, the listwise rerank, explanations, replies, profiles, the
simulated user) goes through `LLMClient`, so each gets the same guarantees:
- the prompt is counted with tiktoken (`core.tokens`) and must fit the task's budget and what is left of the
  turn's budget, or the call is not made;
- the HTTP client times out (`llm_timeout_s`) and retries 429/5xx/timeouts with exponential back-off
  (`llm_max_retries`, the openai SDK's own policy);
- structured answers are parsed into a pydantic schema (function calling, which OpenAI, vLLM, Ollama and the
  llama.cpp server all accept); a malformed answer is sent back once with the parser's complaint, and if the
  repair fails too the caller gets None and uses its offline path;
- every call leaves a `CallNote` in the turn's ledger, so a turn can say which steps used the model, which
  were repaired and which fell back, and why.

Only a failure of the model call itself falls back: an error of the SDK or its HTTP client (refused, timed out,
unreachable, rate limited) or an answer that does not parse or validate. Anything else is a bug in convrec and
propagates, rather than quietly turning every turn into an offline one.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError

from .settings import Settings
from .tokens import count_message_tokens

if TYPE_CHECKING:
    from langchain_openai import ChatOpenAI

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)
Message = tuple[str, str]  # (role, text): role is "system", "user" or "assistant"
Outcome = Literal["ok", "repaired", "fallback"]
REPLY_TAG = "convrec:reply"  # the tag on reply calls, so a streaming UI can pick their tokens out
LOCAL_KEY = "sk-local"  # local servers accept any key; the SDK refuses to start without one


@dataclass(frozen=True)
class CallNote:
    """What one model call did: the task, how it ended, why it fell back, its prompt size and duration."""

    task: str
    outcome: Outcome
    detail: str = ""
    prompt_tokens: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        """One line for logs and turn results, e.g. 'rerank: fallback (timeout)'."""
        return f"{self.task}: {self.outcome}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class TurnLedger:
    """The token budget of one turn and the notes of the calls made in it."""

    budget: int
    spent: int = 0
    notes: list[CallNote] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        """Prompt tokens still allowed this turn."""
        return max(0, self.budget - self.spent)

    def fallbacks(self) -> list[str]:
        """The calls that fell back to the offline path, described."""
        return [note.describe() for note in self.notes if note.outcome == "fallback"]


_LEDGER: contextvars.ContextVar[TurnLedger | None] = contextvars.ContextVar("convrec_turn_ledger", default=None)


def start_turn(budget: int) -> TurnLedger:
    """Open a fresh ledger for the turn running in this context (thread or task) and return it."""
    ledger = TurnLedger(budget=budget)
    _LEDGER.set(ledger)
    return ledger


def end_turn() -> None:
    """Close the turn's ledger in this context.

    Calls made after the turn (profile writing, a batch job in the same thread) are then charged to no turn.
    """
    _LEDGER.set(None)


def current_ledger() -> TurnLedger | None:
    """The ledger of the turn running in this context, if one was started."""
    return _LEDGER.get()


def fit_messages(messages: list[Message], budget: int, model: str | None = None) -> list[Message]:
    """Cut the longest message, from its end, until the whole prompt fits `budget` tokens.

    The system message is never cut below a tenth of its length: the instructions matter more than the tail of a long
    history.
    """
    from .tokens import count_tokens, truncate_to_tokens

    fitted = list(messages)
    while count_message_tokens([{"role": r, "content": t} for r, t in fitted], model) > budget:
        lengths = [count_tokens(text, model) for _, text in fitted]
        index = max(range(len(fitted)), key=lambda i: lengths[i] if fitted[i][0] != "system" else lengths[i] // 10)
        excess = count_message_tokens([{"role": r, "content": t} for r, t in fitted], model) - budget
        keep = max(0, lengths[index] - excess - 8)
        if keep == 0 and lengths[index] == 0:
            break
        fitted[index] = (fitted[index][0], truncate_to_tokens(fitted[index][1], keep, model))
    return fitted


class UnreadableAnswer(Exception):
    """The endpoint answered, but not in a form the SDK can read (an error body with status 200, no choices).

    The SDK reports such answers as `ValueError`, `KeyError`, `TypeError` or the like, which in convrec's own
    code would be bugs; `_from_sdk` converts them only when they come out of the SDK call itself.
    """


R = TypeVar("R")


def _from_sdk(call: Callable[[], R]) -> R:
    """Run one SDK call; the SDK's own errors on an unreadable answer become `UnreadableAnswer`."""
    try:
        return call()
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        if isinstance(exc, model_errors()):
            raise
        raise UnreadableAnswer(f"{type(exc).__name__}: {exc}") from exc


def _stream_from_sdk(chunks: Iterator[Any]) -> Iterator[Any]:
    """Iterate an SDK stream, converting its errors on an unreadable chunk as `_from_sdk` does."""
    while True:
        try:
            chunk = _from_sdk(lambda: next(chunks))
        except StopIteration:  # not one of the converted errors: the stream simply ended
            return
        yield chunk


@functools.cache
def model_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "the model call failed", after which the caller takes its offline path.

    The SDK's errors (`openai.OpenAIError`: refused, rate-limited, server errors, timeouts, connection
    failures, and the same re-raised by langchain as `ModelError` subclasses), the HTTP client's
    (`httpx.HTTPError`), timeouts, and answers that fail to parse or validate (pydantic, JSON, langchain's output
    parser). Imported on first need: the SDKs are heavy and only the LLM path uses them.
    """
    import httpx
    import openai
    from langchain_core.exceptions import ModelError, OutputParserException

    return (openai.OpenAIError, ModelError, httpx.HTTPError, TimeoutError, ValidationError, json.JSONDecodeError,
            OutputParserException, UnreadableAnswer)


class LLMClient:
    """A chat model behind an OpenAI-compatible endpoint, called only through the guarded methods below."""

    def __init__(self, settings: Settings) -> None:
        from langchain_openai import ChatOpenAI

        key = settings.llm_api_key or SecretStr(LOCAL_KEY)
        self.settings = settings
        self.model = settings.llm_model
        self.base_url = settings.llm_base_url
        self.chat = ChatOpenAI(model=settings.llm_model, base_url=settings.llm_base_url, api_key=key,
                               timeout=settings.llm_timeout_s, max_retries=settings.llm_max_retries,
                               max_completion_tokens=settings.llm_max_output_tokens, temperature=0.0)

    # ----- guarded calls -------------------------------------------------------------------------------
    def structured(self, task: str, schema: type[T], messages: list[Message], *, budget: int,
                   temperature: float | None = None) -> T | None:
        """Ask for an answer in `schema`; repair a malformed one once; None (noted) when it cannot be had.

        `temperature` samples this call (and its repair) at that temperature instead of the client's 0, for
        callers that draw several different answers to one prompt (PtE's candidate profiles).
        """
        fitted, tokens = self._admit(task, messages, budget)
        if fitted is None:
            return None
        started = time.perf_counter()
        runnable = self._chat_at(temperature).with_structured_output(schema, method="function_calling",
                                                                       include_raw=True)
        try:
            request = _lc(fitted)
            answer = _from_sdk(lambda: runnable.invoke(request))
            parsed, error = answer.get("parsed"), answer.get("parsing_error")
            if parsed is not None and error is None:
                return self._ok(task, "ok", tokens, started, parsed)
            complaint = _complaint(error, answer.get("raw"))
            repair = [*fitted, ("assistant", _raw_text(answer.get("raw"))),
                      ("user", f"That answer could not be used: {complaint}. Call the function again with "
                               "arguments that match its schema exactly.")]
            repair_request = _lc(repair)
            again = _from_sdk(lambda: runnable.invoke(repair_request))
            if again.get("parsed") is not None and again.get("parsing_error") is None:
                return self._ok(task, "repaired", tokens, started, again["parsed"])
            self._fail(task, f"malformed output twice: {complaint}", tokens, started)
            return None
        except model_errors() as exc:
            self._fail(task, _reason(exc), tokens, started)
            return None

    def text(self, task: str, messages: list[Message], *, budget: int) -> str | None:
        """Ask for plain text; None (noted) on any failure or an empty answer."""
        fitted, tokens = self._admit(task, messages, budget)
        if fitted is None:
            return None
        started = time.perf_counter()
        try:
            chat = self.chat.with_config(tags=[f"convrec:{task}"])  # a graph streaming messages sees the tokens
            request = _lc(fitted)
            content = str(_from_sdk(lambda: chat.invoke(request)).content).strip()
        except model_errors() as exc:
            self._fail(task, _reason(exc), tokens, started)
            return None
        if not content:
            self._fail(task, "empty answer", tokens, started)
            return None
        return self._ok(task, "ok", tokens, started, content)

    def stream(self, task: str, messages: list[Message], *, budget: int) -> Iterator[str]:
        """Yield text pieces as the model writes them; yields nothing (noted) if the call fails before any."""
        fitted, tokens = self._admit(task, messages, budget)
        if fitted is None:
            return
        started = time.perf_counter()
        produced = False
        try:
            request = _lc(fitted)
            for chunk in _stream_from_sdk(iter(self.chat.stream(request))):
                piece = str(chunk.content)
                if piece:
                    produced = True
                    yield piece
        except model_errors() as exc:
            self._fail(task, _reason(exc) + (" mid-stream" if produced else ""), tokens, started)
            return
        if produced:
            self._ok(task, "ok", tokens, started, None)
        else:
            self._fail(task, "empty answer", tokens, started)

    def _chat_at(self, temperature: float | None) -> ChatOpenAI:
        """The chat model, or a copy sampling at `temperature` (sharing its HTTP clients, so no new connections)."""
        if temperature is None:
            return self.chat
        return self.chat.model_copy(update={"temperature": temperature})

    # ----- bookkeeping ---------------------------------------------------------------------------------
    def _admit(self, task: str, messages: list[Message], budget: int) -> tuple[list[Message] | None, int]:
        """Fit the prompt into the task budget and what is left of the turn's; charge the turn for it."""
        ledger = current_ledger()
        allowed = min(budget, ledger.remaining) if ledger is not None else budget
        if allowed < 50:
            self._note(CallNote(task, "fallback", "turn token budget spent"))
            return None, 0
        fitted = fit_messages(messages, allowed, self.model)
        tokens = count_message_tokens([{"role": r, "content": t} for r, t in fitted], self.model)
        if ledger is not None:
            ledger.spent += tokens
        return fitted, tokens

    def _ok(self, task: str, outcome: Outcome, tokens: int, started: float, value: Any) -> Any:  # noqa: ANN401
        self._note(CallNote(task, outcome, "", tokens, round(time.perf_counter() - started, 3)))
        return value

    def _fail(self, task: str, reason: str, tokens: int, started: float) -> None:
        log.warning("LLM %s fell back to the offline path: %s", task, reason)
        self._note(CallNote(task, "fallback", reason, tokens, round(time.perf_counter() - started, 3)))
        return None

    @staticmethod
    def _note(note: CallNote) -> None:
        ledger = current_ledger()
        if ledger is not None:
            ledger.notes.append(note)


def _lc(messages: list[Message]) -> list[tuple[str, str]]:
    """Messages as langchain takes them ('assistant' is 'ai' there)."""
    return [("ai" if role == "assistant" else role, text) for role, text in messages]


def _raw_text(raw: Any) -> str:  # noqa: ANN401 - an AIMessage or None
    """What the model said, tool-call arguments included, to show it its own malformed answer."""
    if raw is None:
        return ""
    calls = getattr(raw, "additional_kwargs", {}).get("tool_calls") or []
    arguments = " ".join(str(call.get("function", {}).get("arguments", "")) for call in calls)
    arguments = arguments or " ".join(str(c.get("args", "")) for c in getattr(raw, "invalid_tool_calls", None) or [])
    return (arguments or str(getattr(raw, "content", "")))[:2000] or "(no answer)"


def _complaint(error: Any, raw: Any) -> str:  # noqa: ANN401
    """Why a structured answer was unusable.

    langchain files arguments that are not JSON under `invalid_tool_calls` and reports no parsing error, so look there
    first.
    """
    if error is not None:
        return str(error).splitlines()[0][:300]
    invalid = getattr(raw, "invalid_tool_calls", None) or []
    if invalid:
        return f"the arguments were not valid JSON ({str(invalid[0].get('error') or '').splitlines()[0][:200]})"
    return "no function call in the answer" if raw is not None else "no answer"


def _reason(exc: BaseException) -> str:
    """A short, user-presentable reason for a failed call (the class name says most)."""
    name = type(exc).__name__
    mapping = {"APITimeoutError": "timeout", "ReadTimeout": "timeout", "TimeoutError": "timeout",
               "APIConnectionError": "server unreachable",
               "RateLimitError": "rate limited (429)", "InternalServerError": "server error (5xx)",
               "AuthenticationError": "authentication refused", "NotFoundError": "model or endpoint not found",
               "BadRequestError": "request refused (400)", "UnreadableAnswer": "unreadable answer"}
    for cls in type(exc).__mro__:  # langchain-openai re-raises the SDK's errors as its own subclasses
        if cls.__name__ in mapping:
            return mapping[cls.__name__]
    return f"{name}: {str(exc).splitlines()[0][:200] if str(exc) else ''}".rstrip(": ")
