"""`ProfileRanker`: what the chat and the bench may ask of a profile model, checked with isinstance."""

from __future__ import annotations

import pytest

from convrec.training.configs import load_params
from convrec.training.rankers import REGISTRY, get_ranker
from convrec.training.rankers.profiled import ProfileRanker

PROFILE_MODELS = {"tup", "tup_short", "tup_long", "tup_single", "tup_dot"}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_exactly_the_profile_models_offer_the_protocol(name: str) -> None:
    ranker = get_ranker(name, **load_params(name))
    assert isinstance(ranker, ProfileRanker) == (name in PROFILE_MODELS)


def test_the_agent_accepts_only_profile_models_as_the_profile_ranker() -> None:
    from convrec.agent.context import is_profile_ranker

    assert is_profile_ranker("tup") and not is_profile_ranker("itemknn") and not is_profile_ranker("nope")


def test_the_profiled_mask_follows_the_profile_vectors() -> None:
    import numpy as np

    ranker = get_ranker("tup", **load_params("tup"))
    ranker.fitted = True
    ranker.profile_vectors = np.zeros((3, 2, 4), dtype=np.float32)
    ranker.profile_vectors[1, 0, 2] = 0.5
    assert ranker.profiled_users().tolist() == [False, True, False]
    assert ranker.profiled_users() is ranker.profiled_users()  # asked every turn: computed once
    ranker.profile_vectors = np.ones((2, 2, 4), dtype=np.float32)  # set_history writes new vectors
    assert ranker.profiled_users().tolist() == [True, True]
