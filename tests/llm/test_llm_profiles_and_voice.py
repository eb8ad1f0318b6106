"""LLM-written temporal profiles (with the offline writer as the per-user fallback, stored apart) and the
simulated user's LLM voice, over the scripted OpenAI-protocol server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from convrec.core.catalogue import Catalogue
from convrec.core.llm_client import LLMClient
from convrec.core.settings import Settings
from convrec.evals.llm_voice import LLMVoice, keeps_content
from convrec.training.profiles.history import HistoryEntry
from convrec.training.profiles.llm_writer import LLMProfileWriter, profile_messages
from convrec.training.profiles.offline_writer import OfflineProfileWriter
from convrec.training.profiles.store import ProfileStore, generate_profiles

from .scripted_server import Reply, ScriptedServer


@pytest.fixture()
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as running:
        yield running


def client(server: ScriptedServer) -> LLMClient:
    return LLMClient(Settings(llm_provider="openai", llm_base_url=server.base_url, llm_model="scripted-model",
                              llm_timeout_s=2.0, llm_max_retries=0))


def history(n: int) -> list[HistoryEntry]:
    start = int(datetime(1997, 9, 1, tzinfo=UTC).timestamp())
    return [HistoryEntry(i, f"Film {i}", 1990 + i % 8, ("Drama",) if i % 2 else ("Comedy",), 1 + i % 5,
                         start + 86400 * i) for i in range(1, n + 1)]


def test_the_prompt_lists_dated_rated_films_as_data(server: ScriptedServer) -> None:
    messages = profile_messages(history(60))
    payload = json.loads(messages[1][1].split("<<<DATA\n", 1)[1].rsplit("\nDATA>>>", 1)[0])
    latest = payload["latest_films_oldest_first"]
    assert payload["films_rated"] == 60 and len(latest) == 40 and latest[-1]["title"] == "Film 60"
    assert latest[-1]["date"] == "1997-10-31" and latest[-1]["rating"] == 1  # Sept 1 + 60 days
    assert payload["genre_counts_and_mean_rating"]["Drama"][0] == 30


def test_llm_profiles_with_a_per_user_offline_fallback(server: ScriptedServer, tmp_path: Path) -> None:
    def answer(request: dict[str, Any]) -> Reply:
        text = request["messages"][-1]["content"]
        if '"films_rated":4' in text:
            return Reply(status=500)  # this user's call fails
        return Reply(tool_call=("ProfileAnswer", {"short_term": "Lately: Film 5, Film 4 and Film 3.",
                                                  "long_term": "Mostly dramas and comedies.",
                                                  "whole": "Dramas and comedies."}))

    server.default = answer  # type: ignore[assignment]
    writer = LLMProfileWriter(client(server))
    assert writer.identity == "openai/scripted-model/prompt-v1"
    users = {1: history(5), 2: history(4)}
    written = generate_profiles(users, writer, tmp_path, fallback=OfflineProfileWriter())
    assert written[1].short_term == "Lately: Film 5, Film 4 and Film 3."
    assert written[2].short_term.startswith("Most recently")  # the offline writer's text
    assert len(ProfileStore(tmp_path, writer.identity)) == 1  # the fallback is not stored as the model's
    assert len(ProfileStore(tmp_path, "offline/v3")) == 1


def test_the_voice_keeps_what_the_template_said(server: ScriptedServer, tiny_catalogue: Catalogue) -> None:
    target = next(item for item in tiny_catalogue.items.values() if "Sci-Fi" in item.genres and item.year)
    voice = LLMVoice(client(server), tiny_catalogue)
    server.script(Reply(tool_call=("Utterance", {"message": "hmm, got any sci-fi? 90s-ish, like 1990 onwards"})))
    assert voice("Something sci-fi from the 1990s, please.", target).startswith("hmm, got any sci-fi")
    server.script(Reply(tool_call=("Utterance", {"message": "Something scary please"})))  # dropped sci-fi, 1990
    assert voice("Something sci-fi from the 1990s, please.", target) == "Something sci-fi from the 1990s, please."
    server.script(Reply(tool_call=("Utterance", {"message": f"Sci-fi from the 1990s, like {target.title}"})))
    assert voice("Sci-fi from the 1990s.", target) == "Sci-fi from the 1990s."  # it named the hidden film
    assert keeps_content("It should be war too.", "war as well please") and not keeps_content("1995", "nineties")
