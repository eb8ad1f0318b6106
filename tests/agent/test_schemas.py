"""The agent's provider schemas live in the agent (issue 20); core keeps only what training shares (the dialogue
acts) and the provider factory."""

from __future__ import annotations

from typing import get_args

from convrec.agent import schemas
from convrec.core import intents, llm

MOVED = ("Stance", "STANCES", "MentionStance", "PreferenceUpdate", "UnderstandRequest", "Understanding",
         "CandidateRecord", "RerankRequest", "Fact", "ItemFacts", "ExplainRequest", "Reason", "ItemExplanation",
         "ReplyKind", "ReplyRequest")


def test_the_schemas_are_the_agents_and_core_keeps_no_copy() -> None:
    for name in MOVED:
        assert hasattr(schemas, name), name
        assert not hasattr(llm, name), f"core.llm still holds {name}"
    assert not hasattr(llm, "Provider") and not hasattr(llm, "INTENTS")


def test_one_list_of_dialogue_acts() -> None:
    assert intents.INTENTS == get_args(intents.Intent)
    assert intents.RECOMMENDING_INTENTS < set(intents.INTENTS)
    assert schemas.Understanding.model_fields["intent"].annotation == intents.Intent
    assert schemas.STANCES == get_args(schemas.Stance)
