"""Constraints and ranking signals from preferences: the minimum evidence and the shrunk mean rating.

On the tiny fixture (`CONVREC_MIN_RATINGS_TO_RECOMMEND` 10 by default) Heat has 2 ratings, Casablanca 3 and
Seven none; Fargo and The Usual Suspects have 10 each.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convrec.agent.preferences import constraints_of
from convrec.agent.service import ChatService, open_checkpointer
from convrec.core.catalogue import Catalogue

RARE = {5, 6, 7, 10, 13, 16, 17, 18, 19, 20, 22}  # the tiny films with fewer than 10 ratings


def test_constraints_leave_out_films_under_the_minimum_evidence(tiny_catalogue: Catalogue) -> None:
    state = {"prefs": {}, "shown": [1]}
    assert set(constraints_of(state, tiny_catalogue).exclude_ids) == {1}
    floored = constraints_of(state, tiny_catalogue, min_ratings=10)
    assert set(floored.exclude_ids) == RARE | {1}
    assert not floored.admits(tiny_catalogue.items[7]) and floored.admits(tiny_catalogue.items[8])


def test_a_rarely_rated_film_is_never_a_candidate_in_a_real_turn(tiny_context, tmp_path: Path) -> None:  # noqa: ANN001
    with ChatService(tiny_context, open_checkpointer(tmp_path / "c.sqlite")) as service:
        crime = service.ask("evidence-1", "a crime thriller")
        # Crime and Thriller: Fargo and The Usual Suspects (10 ratings), Heat (2) and Seven (0): only two remain.
        assert {card.item_id for card in crime.recommendations} == {8, 9}
        # Nothing but Casablanca (3 ratings) is a War film: it is shown rather than a false "nothing matches".
        war = service.ask("evidence-2", "a war film")
        assert [card.item_id for card in war.recommendations] == [17]
        assert not any(r.startswith("Rated ") for r in war.recommendations[0].reasons)
        # A rarely rated film the person names is still answered about, with its true mean and count.
        heat = service.ask("evidence-3", "tell me about Heat")
        assert heat.intent == "item_question" and "Rated 4.0/5 by 2 MovieLens users." in heat.reply


def test_popularity_uses_the_shrunk_mean(tiny_context) -> None:  # noqa: ANN001
    catalogue = tiny_context.catalogue
    shrunk = catalogue.shrunk_rating(tiny_context.settings.rating_prior_weight)
    counts = np.log1p(catalogue.popularity.astype(float))
    quality = (shrunk - shrunk.min()) / (shrunk.max() - shrunk.min())
    expected = 0.5 * counts / counts.max() + 0.5 * quality
    popularity = tiny_context.popularity_norm
    assert popularity == pytest.approx({int(i): float(v) for i, v in expected.items()})
    # Contact: five 5/5 ratings weigh as much as ten ratings of the global mean (k = 10).
    assert shrunk[6] == pytest.approx((25 + 10 * catalogue.global_mean_rating) / 15)


@pytest.mark.slow
def test_real_answers_recommend_no_rarely_rated_film(real_service) -> None:  # noqa: ANN001
    catalogue = real_service.context.catalogue
    floor = real_service.context.settings.min_ratings_to_recommend
    for n, message in enumerate(["a smart 90s sci-fi movie, nothing too violent", "a documentary",
                                 "I loved Heat (1995), something similar?", "a musical"]):
        result = real_service.ask(f"evidence-real-{n}", message)
        assert result.recommendations, message
        counts = [int(catalogue.popularity[card.item_id]) for card in result.recommendations]
        assert min(counts) >= floor, (message, counts)
    visitors = next(i for i in catalogue.items.values() if i.title == "The Visitors")
    assert int(catalogue.popularity[visitors.item_id]) == 2
    answer = real_service.ask("evidence-real-visitors", "tell me about The Visitors")
    assert answer.intent == "item_question" and "by 2 MovieLens users" in answer.reply


def test_a_turn_leaves_no_token_ledger_behind(tiny_context, tmp_path: Path) -> None:  # noqa: ANN001
    from convrec.core.llm_client import current_ledger

    with ChatService(tiny_context, open_checkpointer(tmp_path / "c.sqlite")) as service:
        service.ask("ledger", "a crime thriller")
        # A model call after the turn (writing profiles in the same thread) is charged to no turn.
        assert current_ledger() is None
        *_, result = service.ask_stream("ledger", "something else")
        assert result and current_ledger() is None
