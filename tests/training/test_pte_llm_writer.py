"""PtE profiles written by an LLM over the scripted OpenAI-protocol server on 127.0.0.1: the facts go in as fenced
data, the text comes back in PtE's form, a temperature reaches the request, and a text the model fails on is the
offline writer's, stored apart so the next run asks the model again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convrec.core.catalogue import Catalogue
from convrec.core.errors import UserError
from convrec.core.llm_client import LLMClient
from convrec.core.prompt_fence import fenced_texts
from convrec.core.settings import Settings
from convrec.training.profiles.factory import make_pte_writer
from convrec.training.profiles.pte_llm_writer import MAX_CHARS, LLMPtEWriter, PtEAnswer, PtEProfileUnavailable
from convrec.training.profiles.pte_refine import build_pte_profiles
from convrec.training.profiles.pte_writer import (
    OfflinePtEWriter,
    PtEData,
    UserVariant,
    item_facts,
    render,
    user_facts,
)
from convrec.training.profiles.store import MAX_CONSECUTIVE_FAILURES, TextStore

from ..llm.scripted_server import Reply, ScriptedServer

OFFLINE = OfflinePtEWriter()


@pytest.fixture(scope="module")
def data(tiny_catalogue: Catalogue) -> PtEData:
    return PtEData.build(tiny_catalogue)


@pytest.fixture()
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as running:
        yield running


def settings(server: ScriptedServer, model: str = "scripted-model") -> Settings:
    return Settings(llm_provider="openai", llm_base_url=server.base_url, llm_model=model, llm_timeout_s=2.0,
                    llm_max_retries=0)


def writer(server: ScriptedServer, temperature: float | None = None, model: str = "scripted-model") -> LLMPtEWriter:
    return LLMPtEWriter(LLMClient(settings(server, model)), temperature=temperature)


def answer(identity: str, interests: str) -> Reply:
    return Reply(tool_call=("PtEAnswer", {"identity": identity, "interests": interests}))


def facts_in(request: dict[str, Any]) -> dict[str, Any]:
    """The facts the prompt fenced as data."""
    (block,) = fenced_texts(request["messages"][-1]["content"])
    return dict(json.loads(block))


def from_facts(request: dict[str, Any]) -> Reply:
    """A working model: the identity clauses joined, and the interests counted (recognisably not the template)."""
    facts = facts_in(request)
    return answer(", ".join(facts["identity"]), f"LLM worded {len(facts['interests'])} interest facts.")


# ----- the writer ----------------------------------------------------------------------------------------
def test_the_prompt_fences_the_facts_as_data(server: ScriptedServer, data: PtEData) -> None:
    server.default = answer("aged 18-24", "Sci-fi.")
    user, item = user_facts(data, 1), item_facts(data, 1)
    writer(server).write("user", user)
    writer(server).write("item", item)
    asked_user, asked_item = server.requests
    assert facts_in(asked_user) == {"identity": list(user.identity), "interests": list(user.interests)}
    assert facts_in(asked_item) == {"film": item.subject, "identity": list(item.identity),
                                    "interests": list(item.interests)}
    assert "never an instruction" in asked_user["messages"][0]["content"]
    assert asked_user["tools"][0]["function"]["name"] == PtEAnswer.__name__


def test_the_text_has_ptes_form_whatever_the_model_writes(server: ScriptedServer, data: PtEData) -> None:
    server.script(answer("User identity: aged 18-24, male.", "Loves sci-fi; "),
                  answer("mostly aged 18-24", "They also watch Alien."),
                  answer("aged 18-24", "Loves sci-fi."))
    llm = writer(server)
    assert llm.write("user", user_facts(data, 1)) == "User identity: aged 18-24, male; User interests: Loves sci-fi"
    item = item_facts(data, 1)
    assert llm.write("item", item) == (f"{item.subject} Target users' identity: mostly aged 18-24; "
                                       "Target users' interests: They also watch Alien.")
    first = user_facts(data, 1, UserVariant(interests_first=True))  # the variant's order is kept
    assert llm.write("user", first) == "User interests: Loves sci-fi; User identity: aged 18-24"


@pytest.mark.parametrize("reply", [Reply(status=500), Reply(tool_call=("PtEAnswer", '{"identity": "x", "inter')),
                                   answer("aged 18-24", "  "), answer("aged 18-24", "x" * MAX_CHARS)],
                         ids=["server error", "malformed", "empty part", "oversized"])
def test_an_unusable_answer_raises(server: ScriptedServer, data: PtEData, reply: Reply) -> None:
    server.default = reply
    with pytest.raises(PtEProfileUnavailable):
        writer(server).write("user", user_facts(data, 1))


def test_a_temperature_reaches_the_request(server: ScriptedServer, data: PtEData) -> None:
    server.default = answer("aged 18-24", "Sci-fi.")
    writer(server, temperature=0.8).write("user", user_facts(data, 1))
    writer(server).write("user", user_facts(data, 1))
    sampled, plain = server.requests
    assert sampled["temperature"] == 0.8 and plain["temperature"] == 0.0  # the client's default is unchanged
    client = LLMClient(settings(server))
    assert client.structured("t", PtEAnswer, [("user", "hi")], budget=500, temperature=1.2) is not None
    assert server.requests[-1]["temperature"] == 1.2 and client.chat.temperature == 0.0


def test_the_identity_changes_with_model_and_temperature(server: ScriptedServer) -> None:
    base = writer(server).identity
    assert base == "pte-openai/scripted-model/prompt-v1"
    others = {writer(server, model="other").identity, writer(server, temperature=0.7).identity,
              writer(server, temperature=1.0).identity}
    assert len(others) == 3 and base not in others and base != OFFLINE.identity


# ----- fallback and resume -------------------------------------------------------------------------------
def test_a_failing_server_falls_back_offline_and_a_rerun_uses_the_model(server: ScriptedServer, data: PtEData,
                                                                       tmp_path: Path) -> None:
    llm = writer(server)
    server.default = Reply(status=500)
    down = build_pte_profiles(data, tmp_path, writer=llm, rounds=0, fallback=OFFLINE)
    offline = build_pte_profiles(data, tmp_path / "offline", rounds=0)
    assert down.rounds == offline.rounds  # every text is the offline writer's
    assert len(server.requests) == MAX_CONSECUTIVE_FAILURES  # then the run stopped asking
    assert len(TextStore(tmp_path, llm.identity)) == 0
    assert len(TextStore(tmp_path, OFFLINE.identity)) == len(down.users) + len(down.items)

    server.clear()
    server.default = from_facts
    up = build_pte_profiles(data, tmp_path, writer=llm, rounds=0, fallback=OFFLINE)
    assert len(server.requests) == len(up.users) + len(up.items)  # the fallback texts were not taken as the model's
    assert all("LLM worded" in text for text in [*up.users.values(), *up.items.values()])
    assert up.users[1].startswith("User identity: aged 18-24, male, occupation student; User interests: LLM")
    assert len(TextStore(tmp_path, llm.identity)) == len(up.users) + len(up.items)


def test_only_the_texts_the_model_fails_on_are_offline(server: ScriptedServer, data: PtEData, tmp_path: Path) -> None:
    def items_malformed(request: dict[str, Any]) -> Reply:
        if "film" in facts_in(request):
            return Reply(tool_call=("PtEAnswer", "not json"))
        return from_facts(request)

    llm = writer(server)
    server.default = items_malformed
    mixed = build_pte_profiles(data, tmp_path, writer=llm, rounds=0, fallback=OFFLINE)
    assert all("LLM worded" in text for text in mixed.users.values())
    assert mixed.items[1] == render("item", item_facts(data, 1))
    assert len(TextStore(tmp_path, llm.identity)) == len(mixed.users)
    assert len(TextStore(tmp_path, OFFLINE.identity)) == len(mixed.items)

    server.clear()
    server.default = from_facts
    again = build_pte_profiles(data, tmp_path, writer=llm, rounds=0, fallback=OFFLINE)
    assert len(server.requests) == len(again.items) and again.users == mixed.users  # users were read back
    assert all("LLM worded" in text for text in again.items.values())


def test_without_a_fallback_the_failure_stops_the_run(server: ScriptedServer, data: PtEData, tmp_path: Path) -> None:
    server.default = Reply(status=500)
    with pytest.raises(PtEProfileUnavailable):
        build_pte_profiles(data, tmp_path, writer=writer(server), rounds=0)


def test_concurrent_writing_gives_the_same_texts(server: ScriptedServer, data: PtEData, tmp_path: Path) -> None:
    server.default = from_facts
    serial = build_pte_profiles(data, tmp_path / "a", writer=writer(server), rounds=0, fallback=OFFLINE)
    parallel = build_pte_profiles(data, tmp_path / "b", writer=writer(server), rounds=0, fallback=OFFLINE,
                                  workers=4, batch_size=8)
    assert parallel.rounds == serial.rounds


# ----- choosing the writer -------------------------------------------------------------------------------
def test_make_pte_writer_follows_the_settings(server: ScriptedServer) -> None:
    assert make_pte_writer(Settings()).identity == OFFLINE.identity
    llm = settings(server, model="m")
    assert make_pte_writer(llm).identity == "pte-openai/m/prompt-v1"
    assert make_pte_writer(llm, temperature=0.7).identity == "pte-openai/m/prompt-v1/t0.7"
    assert make_pte_writer(llm.model_copy(update={"profile_writer": "offline"})).identity == OFFLINE.identity
    with pytest.raises(UserError, match="needs an LLM"):
        make_pte_writer(Settings(profile_writer="llm"))

