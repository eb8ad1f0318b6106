"""The simulated user: never says the title, states only true constraints, accepts only the target; and the
protocol end to end on a few real users."""

from __future__ import annotations

import numpy as np
import pytest

from convrec.core.catalogue import Catalogue
from convrec.evals.simulate import Episode, pick_users, summarise
from convrec.evals.simulator import SimulatedUser


def test_simulator_tells_the_truth_and_never_the_title(tiny_catalogue: Catalogue) -> None:
    target = tiny_catalogue.items[5]  # Twelve Monkeys (1995): Drama, Sci-Fi
    user = SimulatedUser(target, tiny_catalogue, np.random.default_rng(0))
    said = [user.opening()]
    for picks in ([11, 12], [1, 2], [3], [6]):
        accepted, message = user.respond(picks, asked_question=False)
        assert not accepted
        said.append(message)
    text = " ".join(said).lower()
    assert "twelve monkeys" not in text and "monkeys" not in text
    assert set(user.stated_genres) <= set(target.genres)
    assert user.stated_years is not None and user.stated_years[0] <= 1995 <= user.stated_years[1]
    assert user.respond([3, 5], asked_question=False) == (True, "That one looks great, I'll watch it!")
    assert user.violations([5]) == 0 and user.violations([11]) == 1  # Clueless is neither Sci-Fi nor Drama


def test_summary_counts() -> None:
    episodes = [Episode("known", 1, 10, success_turn=2, last_list=[4, 10]),
                Episode("known", 2, 20, success_turn=None, last_list=[5, 6], reshown=0, violations=1)]
    summary = summarise(episodes)
    assert summary["success@1"] == 0.0 and summary["success@2"] == 0.5 and summary["success@5"] == 0.5
    assert summary["recall@1"] == 0.0 and summary["recall@5"] == 0.5
    assert summary["avg_turns_to_success"] == 2.0 and summary["constraint_violations"] == 1


def test_targets_are_last_items_by_time(tiny_catalogue: Catalogue) -> None:
    pairs = pick_users(tiny_catalogue, 5, seed=0)
    assert len(pairs) == 5 and pairs == pick_users(tiny_catalogue, 5, seed=0)
    for user, target in pairs:
        assert tiny_catalogue.history(user)["item_id"].iloc[-1] == target
    held_out = tiny_catalogue.without(set(pairs))
    for user, target in pairs:
        assert target not in set(held_out.history(user)["item_id"])


@pytest.mark.slow
def test_protocol_on_real_users(real_settings) -> None:  # noqa: ANN001
    from convrec.evals.simulate import run_simulation

    first = run_simulation(real_settings, users=12, seed=3, rankers=[])
    again = run_simulation(real_settings, users=12, seed=3, rankers=[])
    assert first["variants"] == {k: {**v, "seconds": first["variants"][k]["seconds"]}
                                 for k, v in again["variants"].items()}  # same seed, same numbers
    for variant in first["variants"].values():
        assert variant["all"]["rejected_reshown"] == 0
        assert variant["all"]["constraint_violations"] == 0
    assert set(first["variants"]) == {"full", "no_profiles", "no_elicitation", "no_conversation_prior",
                                      "popularity_ranker", "retrieval_only"}


def test_a_question_shown_with_films_is_answered(tiny_catalogue: Catalogue) -> None:
    """The agent may ask its question beside a few starter films: the person answers the question."""
    user = SimulatedUser(tiny_catalogue.items[5], tiny_catalogue, np.random.default_rng(1))
    accepted, answer = user.respond([1, 2], asked_question=True)
    assert not accepted and "1990s" in answer and user.stated_years == (1990, 1999)
    assert user.respond([1, 5], asked_question=True)[0]  # the target among the films is still accepted


def test_a_question_gets_a_fuller_answer_than_a_rejection(tiny_catalogue: Catalogue) -> None:
    user = SimulatedUser(tiny_catalogue.items[5], tiny_catalogue, np.random.default_rng(1))
    accepted, answer = user.respond([], asked_question=True)
    assert not accepted and "1990s" in answer
    assert user.stated_genres == ["Drama"] and user.stated_years == (1990, 1999)  # ties with Sci-Fi: by name
