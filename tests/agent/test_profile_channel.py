"""PtE's conversation-profile channel on the tiny fixture: the profile a chat supports, its vector, its scores.

The fixture (tests/fixtures.py): users 1-10 watch sci-fi films (1-7, 19), users 11-20 comedies (11-17, 22).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from convrec.agent.context import AgentContext, AgentOptions, load_context, open_search_index
from convrec.agent.nodes.rank import rank
from convrec.agent.nodes.rerank import rerank
from convrec.agent.profile_channel import (
    IDENTITY,
    ConversationProfile,
    conversation_profile,
    statement_profile,
)
from convrec.core.settings import Settings


def run(node, ctx, **state):  # noqa: ANN001, ANN201
    return node(state, SimpleNamespace(context=ctx))


@pytest.fixture(scope="module")
def channel_context(tiny_dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> AgentContext:
    """The tiny fixture's agent context with PtE's channel on (CONVREC_PROFILE_CHANNEL=pte)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("channel-cache"), dataset_dir=tiny_dataset_dir, top_n=3,
                        profile_channel="pte")
    return load_context(settings)


def test_the_channel_and_the_index_profiles_are_off_by_default(tiny_context) -> None:  # noqa: ANN001
    assert tiny_context.channel is None
    assert all("Profile:" not in d.text for d in tiny_context.index.documents.values())


def test_the_index_states_who_each_film_is_for_when_the_channel_is_on(channel_context: AgentContext) -> None:
    text = channel_context.index.documents[6].text  # Contact, rated by sci-fi fans
    assert "Profile: Target users' identity:" in text and "Target users' interests:" in text
    assert text.count("Contact") == 1  # the profile's title line is not repeated


def test_the_profile_states_liked_films_and_wanted_and_avoided_genres(tiny_catalogue) -> None:  # noqa: ANN001
    assert conversation_profile({}, tiny_catalogue) is None
    profile = conversation_profile({"liked_items": [1, 3], "genres_wanted": ["Sci-Fi"],
                                    "mood_genres_penalty": ["Horror", "Sci-Fi"]}, tiny_catalogue)
    assert profile is not None
    assert profile.statements == ("Rated highest: Star Wars.", "Rated highest: Blade Runner.", "Returns to Sci-Fi.",
                                  "Avoids Horror.")  # a genre both wanted and avoided is stated as wanted
    assert profile.text.startswith(f"{IDENTITY}; User interests: Rated highest: Star Wars.")
    assert statement_profile("Avoids Horror.") == f"{IDENTITY}; User interests: Avoids Horror."


def test_the_vector_is_the_normalised_mean_of_the_statements_precomputed_vectors(channel_context: AgentContext) -> None:
    channel = channel_context.channel
    assert channel is not None and "Rated highest: Star Wars." in channel.vectors  # every film, at load
    profile = ConversationProfile(("Rated highest: Star Wars.", "Returns to Comedy."))
    mean = channel.vectors["Rated highest: Star Wars."] + channel.vectors["Returns to Comedy."]
    np.testing.assert_allclose(channel.vector(profile), mean / np.linalg.norm(mean), rtol=1e-5)
    unknown = ConversationProfile(("Returns to Space Westerns.",))  # in no precomputed list: encoded once, kept
    assert np.isclose(np.linalg.norm(channel.vector(unknown)), 1.0) and "Returns to Space Westerns." in channel.vectors


def test_sci_fi_likes_score_sci_fi_above_comedy(channel_context: AgentContext) -> None:
    channel = channel_context.channel
    scores = channel.scores(ConversationProfile(("Rated highest: Star Wars.", "Rated highest: Alien.")))
    columns = channel_context.interactions.item_index
    assert scores[columns([4, 5, 6])].mean() > scores[columns([12, 14, 15])].mean()


def test_rank_scores_the_conversation_profile_of_anonymous_people_only(channel_context: AgentContext) -> None:
    candidates = [{"item_id": i, "similarity": 0.5} for i in (4, 6, 12, 15)]
    prefs = {"liked_items": [1, 2]}
    anonymous = {c["item_id"]: c["profile"] for c in run(rank, channel_context, candidates=candidates,
                                                          prefs=prefs)["scored"]}
    assert max(anonymous.values()) == 1.0 and min(anonymous.values()) == 0.0  # 0-1 over the candidates
    assert anonymous[4] + anonymous[6] > anonymous[12] + anonymous[15]
    known = run(rank, channel_context, candidates=candidates, user_id=11, prefs=prefs)["scored"]
    assert all(c["profile"] == 0.0 for c in known)
    off = replace(channel_context, options=AgentOptions(profile_channel=False))
    assert all(c["profile"] == 0.0 for c in run(rank, off, candidates=candidates, prefs=prefs)["scored"])


def test_the_rerank_weighs_the_channel_when_it_scored(channel_context: AgentContext) -> None:
    base = {"similarity": 0.5, "personal": 0.0, "popularity": 0.1, "preference": 0.0}
    scored = [{"item_id": 12, **base, "profile": 0.0}, {"item_id": 4, **base, "profile": 1.0}]
    heavy = replace(channel_context, options=AgentOptions(profile_weight=1.0))
    assert run(rerank, heavy, scored=scored, prefs={}, top_n=1, message="x")["picks"] == [4]
    flipped = [{**scored[0], "profile": 1.0}, {**scored[1], "profile": 0.0}]
    assert run(rerank, heavy, scored=flipped, prefs={}, top_n=1, message="x")["picks"] == [12]


def test_the_index_command_opens_the_apps_index_without_rebuilding_it(channel_context: AgentContext) -> None:
    index = open_search_index(channel_context.settings)
    assert index.key == channel_context.index.key and not index.built
