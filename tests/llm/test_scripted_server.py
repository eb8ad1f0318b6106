"""The scripted server speaks the OpenAI Chat Completions protocol well enough for the real clients.

Each test points a genuine client (the ``openai`` SDK or ``langchain_openai.ChatOpenAI``) at a ``ScriptedServer``
on 127.0.0.1 and checks what the client got back and what the server received: no internet, no model.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from .scripted_server import Reply, ScriptedServer

USER = [{"role": "user", "content": "Recommend me a film like Heat."}]


class Route(BaseModel):
    """A structured-output target shaped like the agent's intent routing."""

    intent: str
    confidence: float


@pytest.fixture()
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as running:
        yield running
        assert running.errors == []
    assert not [t for t in threading.enumerate() if t.name.startswith("scripted-openai")]


@pytest.fixture()
def client(server: ScriptedServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.base_url, api_key="sk-local", max_retries=0) as sdk:
        yield sdk


def chat(server: ScriptedServer, **kwargs: Any) -> ChatOpenAI:
    return ChatOpenAI(model="scripted-model", base_url=server.base_url, api_key="sk-local", max_retries=0, **kwargs)


# -- plain completions ---------------------------------------------------------------------------------------


def test_openai_sdk_gets_scripted_content_and_server_records_request(
    server: ScriptedServer, client: openai.OpenAI
) -> None:
    server.script(Reply(content="Try Collateral."))
    completion = client.chat.completions.create(model="scripted-model", messages=USER, temperature=0)

    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "Try Collateral."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert server.requests[-1]["messages"] == USER
    assert server.requests[-1]["temperature"] == 0
    assert server.recorded[-1].headers["authorization"] == "Bearer sk-local"


def test_models_endpoint_lists_the_model(client: openai.OpenAI) -> None:
    assert [model.id for model in client.models.list()] == ["scripted-model"]


def test_replies_are_fifo_then_default(server: ScriptedServer, client: openai.OpenAI) -> None:
    server.script(Reply(content="first"), Reply(content="second"))
    server.default = Reply(content="fallback")
    answers = [
        client.chat.completions.create(model="scripted-model", messages=USER).choices[0].message.content
        for _ in range(3)
    ]
    assert answers == ["first", "second", "fallback"]
    assert server.pending == 0
    assert len(server.requests) == 3


def test_callable_reply_answers_from_the_request(server: ScriptedServer, client: openai.OpenAI) -> None:
    def echo_ids(request: dict[str, Any]) -> Reply:
        ids = re.findall(r"\[(\d+)\]", request["messages"][-1]["content"])
        return Reply(content=",".join(ids))

    server.script(echo_ids)
    messages = [{"role": "user", "content": "Candidates: [12] Heat, [7] Ronin, [99] Thief"}]
    completion = client.chat.completions.create(model="scripted-model", messages=messages)
    assert completion.choices[0].message.content == "12,7,99"


def test_tool_call_reply(server: ScriptedServer, client: openai.OpenAI) -> None:
    server.script(Reply(tool_call=("Route", {"intent": "recommend", "confidence": 0.8})))
    completion = client.chat.completions.create(model="scripted-model", messages=USER)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert call.type == "function"
    assert call.function.name == "Route"
    assert json.loads(call.function.arguments) == {"intent": "recommend", "confidence": 0.8}


def test_api_key_is_checked_when_configured() -> None:
    with ScriptedServer(api_key="sk-right") as server:
        with openai.OpenAI(base_url=server.base_url, api_key="sk-wrong", max_retries=0) as sdk:
            with pytest.raises(openai.AuthenticationError):
                sdk.chat.completions.create(model="scripted-model", messages=USER)


# -- streaming -----------------------------------------------------------------------------------------------


def test_openai_sdk_streams_content_and_tool_calls(server: ScriptedServer, client: openai.OpenAI) -> None:
    server.script(Reply(content="one two three"), Reply(tool_call=("Route", {"intent": "chitchat", "confidence": 1})))

    chunks = list(client.chat.completions.create(model="scripted-model", messages=USER, stream=True))
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == "one two three"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert server.requests[-1]["stream"] is True

    chunks = list(client.chat.completions.create(model="scripted-model", messages=USER, stream=True))
    deltas = [call for chunk in chunks for call in chunk.choices[0].delta.tool_calls or []]
    assert deltas[0].function is not None and deltas[0].function.name == "Route"
    arguments = "".join(delta.function.arguments or "" for delta in deltas if delta.function is not None)
    assert json.loads(arguments) == {"intent": "chitchat", "confidence": 1}
    assert len(deltas) > 2  # the arguments really come in pieces
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_stream_usage_chunk_when_asked(server: ScriptedServer, client: openai.OpenAI) -> None:
    server.script(Reply(content="a b"))
    chunks = list(
        client.chat.completions.create(
            model="scripted-model", messages=USER, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


# -- langchain-openai ----------------------------------------------------------------------------------------


def test_chat_openai_invoke(server: ScriptedServer) -> None:
    server.script(Reply(content="Heat is a 1995 crime film."))
    message = chat(server).invoke("Tell me about Heat.")
    assert isinstance(message, AIMessage)
    assert message.content == "Heat is a 1995 crime film."
    assert server.requests[-1]["model"] == "scripted-model"
    assert server.requests[-1]["messages"] == [{"role": "user", "content": "Tell me about Heat."}]


def test_chat_openai_stream_chunks_concatenate_to_content(server: ScriptedServer) -> None:
    content = "You might enjoy Thief, Ronin and Collateral."
    server.script(Reply(content=content))
    chunks = list(chat(server, stream_usage=True).stream("Films like Heat?"))
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    assert len([chunk for chunk in chunks if chunk.content]) > 3
    assert "".join(str(chunk.content) for chunk in chunks) == content
    merged = sum(chunks[1:], chunks[0])
    assert merged.usage_metadata is not None and merged.usage_metadata["output_tokens"] > 0
    assert server.requests[-1]["stream"] is True


def test_structured_output_function_calling(server: ScriptedServer) -> None:
    server.script(Reply(tool_call=("Route", {"intent": "recommend", "confidence": 0.9})))
    route = chat(server).with_structured_output(Route, method="function_calling").invoke("Films like Heat?")
    assert route == Route(intent="recommend", confidence=0.9)
    request = server.requests[-1]
    assert request["tools"][0]["function"]["name"] == "Route"
    assert request["tool_choice"] == {"type": "function", "function": {"name": "Route"}}


def test_structured_output_json_mode(server: ScriptedServer) -> None:
    server.script(Reply(content='{"intent": "chitchat", "confidence": 0.4}'))
    route = chat(server).with_structured_output(Route, method="json_mode").invoke("Hello! Respond in JSON.")
    assert route == Route(intent="chitchat", confidence=0.4)
    assert server.requests[-1]["response_format"] == {"type": "json_object"}


def test_truncated_tool_call_is_an_invalid_tool_call_not_a_crash(server: ScriptedServer) -> None:
    truncated = '{"intent": "recommend", "conf'
    server.script(Reply(tool_call=("Route", truncated)), Reply(tool_call=("Route", truncated)))
    llm = chat(server)

    result = llm.with_structured_output(Route, method="function_calling", include_raw=True).invoke("Films?")
    # langchain-openai turns unparsable arguments into `invalid_tool_calls`; the tools parser then sees no tool
    # call at all, so it returns None *without* a parsing error.
    assert result["parsed"] is None
    assert result["parsing_error"] is None
    raw = result["raw"]
    assert raw.tool_calls == []
    assert raw.invalid_tool_calls[0]["name"] == "Route"
    assert raw.invalid_tool_calls[0]["args"] == truncated

    # Without include_raw the structured call simply returns None.
    assert llm.with_structured_output(Route, method="function_calling").invoke("Films?") is None


# -- errors, retries, timeouts, dropped connections -----------------------------------------------------------


@pytest.mark.parametrize(("status", "error_class"), [(429, openai.RateLimitError), (500, openai.InternalServerError)])
def test_error_statuses_raise_sdk_errors(
    server: ScriptedServer, client: openai.OpenAI, status: int, error_class: type[openai.APIStatusError]
) -> None:
    server.script(Reply(status=status))
    with pytest.raises(error_class) as caught:
        client.chat.completions.create(model="scripted-model", messages=USER)
    assert caught.value.status_code == status
    assert isinstance(caught.value.body, dict) and caught.value.body["type"] in {"requests", "server_error"}
    if status == 429:
        assert caught.value.response.headers["retry-after"] == "0"
        assert caught.value.code == "rate_limit_exceeded"
    assert len(server.requests) == 1  # max_retries=0: no retry


def test_chat_openai_raises_sdk_error_classes(server: ScriptedServer) -> None:
    server.script(Reply(status=429, error_message="slow down"))
    with pytest.raises(openai.RateLimitError, match="slow down"):
        chat(server).invoke("hi")


def test_sdk_retries_a_500_then_succeeds(server: ScriptedServer) -> None:
    server.script(Reply(status=500), Reply(content="ok"))
    with openai.OpenAI(base_url=server.base_url, api_key="sk-local", max_retries=2) as sdk:
        completion = sdk.chat.completions.create(model="scripted-model", messages=USER)
    assert completion.choices[0].message.content == "ok"
    assert len(server.requests) == 2
    retry_headers = [request.headers for request in server.recorded]
    assert retry_headers[0]["x-stainless-retry-count"] == "0"
    assert retry_headers[1]["x-stainless-retry-count"] == "1"


def test_retry_after_ms_makes_retries_fast(server: ScriptedServer) -> None:
    # `retry-after: 0` is ignored by the SDK (it only honours 0 < delay <= 60 s) and falls back to ~0.5 s backoff;
    # a small positive `retry_after` is honoured.
    server.script(Reply(status=429, retry_after=0.01), Reply(status=503, retry_after=0.01), Reply(content="ok"))
    started = time.monotonic()
    with openai.OpenAI(base_url=server.base_url, api_key="sk-local", max_retries=2) as sdk:
        completion = sdk.chat.completions.create(model="scripted-model", messages=USER)
    assert completion.choices[0].message.content == "ok"
    assert len(server.requests) == 3
    assert time.monotonic() - started < 0.4


def test_client_timeout_then_server_still_usable(server: ScriptedServer, client: openai.OpenAI) -> None:
    server.script(Reply(delay=2.0, content="late"), Reply(content="on time"))
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="scripted-model", messages=USER, timeout=0.5)
    assert time.monotonic() - started < 1.5
    completion = client.chat.completions.create(model="scripted-model", messages=USER)
    assert completion.choices[0].message.content == "on time"


def test_chat_openai_timeout(server: ScriptedServer) -> None:
    server.script(Reply(delay=2.0, content="late"))
    with pytest.raises(openai.APITimeoutError):
        chat(server, timeout=0.3).invoke("hi")


def test_dropped_connection_raises_connection_error(server: ScriptedServer, client: openai.OpenAI) -> None:
    server.script(Reply(close_connection=True), Reply(content="back"))
    with pytest.raises(openai.APIConnectionError) as caught:
        client.chat.completions.create(model="scripted-model", messages=USER)
    assert not isinstance(caught.value, openai.APITimeoutError)
    completion = client.chat.completions.create(model="scripted-model", messages=USER)
    assert completion.choices[0].message.content == "back"


def test_failing_callable_becomes_a_500_and_is_recorded() -> None:
    with ScriptedServer() as server:
        server.script(lambda request: Reply(content=request["no-such-key"]))
        with openai.OpenAI(base_url=server.base_url, api_key="sk-local", max_retries=0) as sdk:
            with pytest.raises(openai.InternalServerError, match="KeyError"):
                sdk.chat.completions.create(model="scripted-model", messages=USER)
        assert [type(error) for error in server.errors] == [KeyError]


# -- lifecycle -----------------------------------------------------------------------------------------------


def test_exit_joins_threads_and_closes_the_port() -> None:
    threads_before = set(threading.enumerate())
    outcome: list[BaseException | str] = []
    idle = openai.OpenAI(base_url="http://127.0.0.1:1/v1", api_key="sk-local", max_retries=0)
    waiting = openai.OpenAI(base_url="http://127.0.0.1:1/v1", api_key="sk-local", max_retries=0, timeout=10)

    def call_and_wait(sdk: openai.OpenAI) -> None:
        try:
            outcome.append(sdk.chat.completions.create(model="scripted-model", messages=USER).id)
        except openai.APIError as error:
            outcome.append(error)

    started = time.monotonic()
    with ScriptedServer() as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", server.base_url)
        port = server.port
        idle = idle.with_options(base_url=server.base_url)
        waiting = waiting.with_options(base_url=server.base_url)
        idle.models.list()  # leaves an idle keep-alive connection, with its handler thread blocked on a read
        server.script(Reply(delay=5.0, content="never sent"))
        caller = threading.Thread(target=call_and_wait, args=(waiting,))
        caller.start()
        while not server.requests:
            time.sleep(0.01)
    # Leaving stopped the delayed handler and the idle keep-alive handler without waiting out the 5 s delay.
    caller.join(timeout=2)
    assert time.monotonic() - started < 2
    assert len(outcome) == 1 and isinstance(outcome[0], openai.APIConnectionError)
    idle.close()
    waiting.close()
    assert set(threading.enumerate()) - threads_before == set()  # the serving and handler threads are gone
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
