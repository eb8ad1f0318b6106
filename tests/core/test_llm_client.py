"""`LLMClient` falls back to the offline path only when the model call itself fails (an SDK or HTTP error, a
timeout, an answer that does not parse or validate); a bug in convrec's own code around the call propagates."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from langchain_core.exceptions import OutputParserException
from pydantic import BaseModel, ValidationError

from convrec.core import llm_client
from convrec.core.llm_client import LLMClient, start_turn
from convrec.core.settings import Settings

MESSAGES = [("system", "Answer briefly."), ("user", "hello")]
REQUEST = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


class Answer(BaseModel):
    """A structured answer."""

    text: str


def _validation_error() -> ValidationError:
    try:
        Answer.model_validate({})
    except ValidationError as error:
        return error
    raise AssertionError("an empty answer must not validate")


MODEL_FAILURES: dict[str, Callable[[], BaseException]] = {
    "timeout": lambda: openai.APITimeoutError(request=REQUEST),
    "unreachable": lambda: openai.APIConnectionError(request=REQUEST),
    "server error": lambda: openai.InternalServerError(
        "boom", response=httpx.Response(500, request=REQUEST), body=None),
    "http error": lambda: httpx.ReadError("connection reset", request=REQUEST),
    "plain timeout": lambda: TimeoutError("stream stalled"),
    "invalid answer": _validation_error,
    "not json": lambda: json.JSONDecodeError("Expecting value", "{", 1),
    "unparsable": lambda: OutputParserException("no tool call"),
    # A 200 answer the SDK cannot read (an error body, no `choices`): the SDK raises these from inside the call.
    "no choices": lambda: KeyError("choices"),
    "error body with status 200": lambda: ValueError("{'error': 'model is loading'}"),
    "null choices": lambda: TypeError("'NoneType' object is not iterable"),
}


class Said:
    """A chat message as langchain returns it (only its content is read)."""

    def __init__(self, content: str) -> None:
        self.content = content


class Structured:
    """Stands in for `with_structured_output(..., include_raw=True)`: raises `error`, or answers when none."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error

    def invoke(self, messages: list[tuple[str, str]]) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        return {"parsed": Answer(text="hi"), "parsing_error": None, "raw": None}


class FakeChat:
    """Stands in for ChatOpenAI: every call raises `error`, or answers when there is none."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error

    def with_structured_output(self, schema: type[BaseModel], **kwargs: Any) -> Structured:
        return Structured(self.error)

    def with_config(self, **kwargs: Any) -> FakeChat:
        return self

    def invoke(self, messages: list[tuple[str, str]]) -> Said:
        if self.error is not None:
            raise self.error
        return Said("hi")

    def stream(self, messages: list[tuple[str, str]]) -> Iterator[Said]:
        if self.error is not None:
            raise self.error
        yield Said("hi")


def _client(error: BaseException | None = None) -> LLMClient:
    client = LLMClient(Settings(llm_provider="openai", llm_base_url="http://127.0.0.1:9/v1", llm_max_retries=0))
    client.chat = FakeChat(error)  # type: ignore[assignment]
    return client


def _calls(client: LLMClient) -> dict[str, Callable[[], Any]]:
    return {
        "structured": lambda: client.structured("rerank", Answer, MESSAGES, budget=500),
        "text": lambda: client.text("reply", MESSAGES, budget=500),
        "stream": lambda: "".join(client.stream("reply", MESSAGES, budget=500)) or None,
    }


@pytest.mark.parametrize("failure", sorted(MODEL_FAILURES))
@pytest.mark.parametrize("call", ["structured", "text", "stream"])
def test_a_failed_model_call_falls_back_with_a_note(failure: str, call: str) -> None:
    ledger = start_turn(10_000)
    assert _calls(_client(MODEL_FAILURES[failure]()))[call]() is None
    (note,) = ledger.notes
    assert note.outcome == "fallback" and note.detail


def test_a_timeout_is_named_as_one() -> None:
    ledger = start_turn(10_000)
    _client(MODEL_FAILURES["timeout"]()).text("reply", MESSAGES, budget=500)
    assert ledger.fallbacks() == ["reply: fallback (timeout)"]


@pytest.mark.parametrize("call", ["structured", "text", "stream"])
def test_a_bug_in_the_helpers_propagates(call: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(messages: list[tuple[str, str]]) -> list[tuple[str, str]]:
        raise TypeError("a bug in convrec, not a model failure")

    monkeypatch.setattr(llm_client, "_lc", broken)
    ledger = start_turn(10_000)
    with pytest.raises(TypeError, match="a bug in convrec"):
        _calls(_client())[call]()
    assert ledger.fallbacks() == []


def test_a_bug_while_reading_a_malformed_answer_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    class Malformed(Structured):
        def invoke(self, messages: list[tuple[str, str]]) -> dict[str, Any]:
            return {"parsed": None, "parsing_error": None, "raw": None}

    def broken(error: object, raw: object) -> str:
        raise AttributeError("a bug in the complaint helper")

    monkeypatch.setattr(llm_client, "_complaint", broken)
    client = _client()
    client.chat.with_structured_output = lambda schema, **kwargs: Malformed()  # type: ignore[method-assign]
    with pytest.raises(AttributeError, match="complaint helper"):
        client.structured("rerank", Answer, MESSAGES, budget=500)


def test_a_working_call_answers() -> None:
    ledger = start_turn(10_000)
    calls = _calls(_client())
    assert calls["structured"]() == Answer(text="hi")
    assert calls["text"]() == "hi" and calls["stream"]() == "hi"
    assert [note.outcome for note in ledger.notes] == ["ok", "ok", "ok"]
