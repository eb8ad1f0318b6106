"""Which profile writer the settings give: offline by default, the LLM's when one is configured (or asked)."""

from __future__ import annotations

import pytest

from convrec.core.errors import UserError
from convrec.core.settings import Settings
from convrec.training.profiles.factory import make_profile_writer


def test_the_writer_follows_the_settings() -> None:
    assert make_profile_writer(Settings()).identity == "offline/v3"
    llm = Settings(llm_provider="openai", llm_base_url="http://127.0.0.1:9/v1", llm_model="m")
    assert make_profile_writer(llm).identity == "openai/m/prompt-v1"
    assert make_profile_writer(llm.model_copy(update={"profile_writer": "offline"})).identity == "offline/v3"
    with pytest.raises(UserError, match="needs an LLM"):
        make_profile_writer(Settings(profile_writer="llm"))
