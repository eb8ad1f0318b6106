"""PtE's profile stage on the tiny fixture: user and item profiles, neighbours, refinement, selection and cache.

The fixture (tests/fixtures.py): users 1-10 watch a prefix of the sci-fi order, users 11-20 of the comedy order
(4 + user % 4 films) plus Fargo (8, odd users) or The Usual Suspects (9, even users); user u is 18 + u years old,
female when u % 3 == 0, with occupation ["engineer", "student", "writer", "artist", "doctor"][u % 5].
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from convrec.core.catalogue import Catalogue, User
from convrec.training.interactions import Interactions
from convrec.training.profiles.pte_refine import (
    DEFAULT_CANDIDATES,
    SelectionConfig,
    build_pte_profiles,
    group_advantage,
    refine_round,
    round_changes,
    score_group,
)
from convrec.training.profiles.pte_writer import (
    Facts,
    OfflinePtEWriter,
    PtEData,
    Role,
    UserVariant,
    collaborative_neighbours,
    item_facts,
    render,
    user_facts,
)
from convrec.training.profiles.store import TextStore


def embed(texts: list[str]) -> np.ndarray:
    """A deterministic bag-of-words stand-in for the sentence encoder (hashed words, unit rows)."""
    out = np.zeros((len(texts), 128))
    for row, text in enumerate(texts):
        for word in text.lower().split():
            out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 128] += 1.0
    return out / np.linalg.norm(out, axis=1, keepdims=True)


class CountingWriter(OfflinePtEWriter):
    """The offline writer, counting the texts it is asked to write."""

    def __init__(self) -> None:
        self.calls = 0

    def write(self, role: Role, facts: Facts) -> str:
        self.calls += 1
        return super().write(role, facts)


@pytest.fixture(scope="module")
def data(tiny_catalogue: Catalogue) -> PtEData:
    return PtEData.build(tiny_catalogue)


# ----- user profiles -------------------------------------------------------------------------------------
def test_user_profile_states_own_demographics_and_best_rated_film(data: PtEData) -> None:
    text = render("user", user_facts(data, 1))
    # user 1: 19 years old, male, 1 % 5 -> student; 5 sci-fi films rated 4, 5, 4, 5, 4 and Fargo rated 3
    assert text.startswith("User identity: aged 18-24, male, occupation student; User interests: Has rated 6 films")
    # best first, the more recent first on ties: The Terminator (5, 4th film) before Alien (5, 2nd film)
    assert "Rated highest: The Terminator, Alien, Twelve Monkeys" in text
    assert "Fargo" not in text.split("Rated highest:")[1].split(".")[0]  # rated 3: not a favourite
    woman = render("user", user_facts(data, 3))  # 21, female, artist
    assert woman.startswith("User identity: aged 18-24, female, occupation artist;")


def test_neighbours_are_the_users_with_most_overlap(data: PtEData) -> None:
    # user 1 rated {1, 2, 3, 4, 5, 8}. Users 5 and 9 rated exactly these (cosine 1); users 3 and 7 rated
    # {1..7, 8}: 6 shared of 6 and 8, cosine 6 / sqrt(48) = 0.87; users 2, 6, 10 rated {1..6, 9}: 5 / sqrt(42) =
    # 0.77; users 4, 8 rated {1..4, 9}: 4 / sqrt(30) = 0.73. Ties go to the smaller id.
    assert data.neighbours[1][:9] == (5, 9, 3, 7, 2, 6, 10, 4, 8)
    assert collaborative_neighbours(data.matrix, 2)[1] == (5, 9)
    assert 1 not in data.neighbours[1]


def test_neighbour_statements_follow_the_number_of_neighbours(data: PtEData) -> None:
    alone = render("user", user_facts(data, 1, UserVariant(neighbours=0)))
    with_five = render("user", user_facts(data, 1, UserVariant(neighbours=5)))
    assert "closest users" not in alone
    # users 5, 9, 3, 7, 2 all liked Star Wars, Alien, Blade Runner, The Terminator (rated 4 or 5), as did user 1
    assert "Shares with their 5 closest users (most films in common) a liking for Star Wars, Alien and Blade Runner." \
        in with_five
    # Contact (6) was liked by users 3, 7, 2 and not rated by user 1
    assert "also like Contact" in with_five


def test_history_window_and_template_order_vary_the_candidate(data: PtEData) -> None:
    recent = render("user", user_facts(data, 3, UserVariant(window=2, neighbours=0, interests_first=True)))
    assert recent.startswith("User interests: Has rated 8 films")
    assert "In their last 2 films, returns to" in recent
    assert recent.endswith("User identity: aged 18-24, female, occupation artist")


def test_profiles_read_only_the_rows_they_are_given(tiny_catalogue: Catalogue) -> None:
    frame = tiny_catalogue.interactions
    kept = frame[~((frame["user_id"] == 1) & (frame["item_id"] == 4))]  # hold out user 1's The Terminator
    train = Interactions.from_frame(kept, np.array(sorted(tiny_catalogue.users)), tiny_catalogue.item_ids)
    text = render("user", user_facts(PtEData.build(tiny_catalogue, train), 1))
    assert "Has rated 5 films" in text and "The Terminator" not in text.split("Rated highest:")[1].split(".")[0]


# ----- item profiles -------------------------------------------------------------------------------------
def test_item_profile_names_who_rates_it_and_what_else_they_rate(data: PtEData) -> None:
    text = render("item", item_facts(data, 1))
    assert text.startswith("Star Wars (1977): Action, Adventure, Sci-Fi; rated by 10 users, average 4.0 of 5. "
                           "Target users' identity: ")
    assert "; Target users' interests: Its raters also rate Alien, Blade Runner, The Terminator" in text


def with_young_heat_fans(catalogue: Catalogue) -> Catalogue:
    """The fixture plus 12 users aged 20 (18-24) who all rate Heat (7), so Heat's age band stands out."""
    users = dict(catalogue.users)
    users.update({u: User(u, 20, "M", "engineer") for u in range(101, 113)})
    extra = pd.DataFrame({"user_id": range(101, 113), "item_id": 7, "rating": 4.0, "timestamp": 890000000})
    frame = pd.concat([catalogue.interactions, extra], ignore_index=True)
    frame["file_order"] = np.arange(len(frame))
    return Catalogue(items=catalogue.items, users=users, interactions=frame, knowledge=catalogue.knowledge)


def test_item_profile_names_an_age_band_only_when_it_stands_out(tiny_catalogue: Catalogue, data: PtEData) -> None:
    # On the fixture no band stands out (Star Wars: 6 of its 10 raters are 18-24 against 30% of all ratings,
    # p = 0.047 > 0.025), so no item names one; each item's text says so
    assert not any(audience.age_band_stands_out for audience in tiny_catalogue.audiences.values())
    for item_id in data.matrix.item_ids:
        assert "mostly aged" not in render("item", item_facts(data, int(item_id)))
    assert "a broad audience: no age band, gender or occupation stands out among its 10 raters" in \
        render("item", item_facts(data, 1))
    boosted = PtEData.build(with_young_heat_fans(tiny_catalogue))
    assert boosted.catalogue.audiences[7].age_band_stands_out
    heat = render("item", item_facts(boosted, 7))
    assert "Target users' identity: mostly aged 18-24 (93% of its raters, against" in heat  # 13 of Heat's 14 raters
    assert "mostly aged" not in render("item", item_facts(boosted, 1))


# ----- refinement ----------------------------------------------------------------------------------------
def test_round_one_adds_what_the_other_side_knows_and_repeats_nothing(data: PtEData) -> None:
    users0 = {u: user_facts(data, u) for u in data.histories}
    items0 = {int(i): item_facts(data, int(i)) for i in data.matrix.item_ids}
    users1, items1 = refine_round(data, users0, items0, users0, items0)
    for user, facts in users1.items():
        base = users0[user]
        assert facts.interests[:len(base.interests)] == base.interests  # round 0 kept, additions after it
        assert not set(facts.tags[len(base.tags):]) & set(base.tags)  # nothing the profile already stated
    # user 1's films are all rated by the sci-fi group: their profiles name Film-Noir and Horror (Blade Runner,
    # Alien) far more than films at large do
    added = " ".join(users1[1].interests[len(users0[1].interests):])
    assert "Their films' profiles often name" in added and "Film-Noir" in added
    # Star Wars' raters are users 1-10, all aged 18-28: their profiles name 18-24 (users 1-6) more than raters
    # at large, which replaces "a broad audience"
    star_wars = render("item", items1[1])
    assert "its raters' profiles name people aged 18-24 (60%)" in star_wars
    assert "a broad audience" not in star_wars


def test_rounds_are_returned_and_their_changes_reported(data: PtEData, tmp_path: Path) -> None:
    result = build_pte_profiles(data, tmp_path, rounds=2)
    assert len(result.rounds) == 3 and result.users == result.rounds[2].users
    first, second = round_changes(result.rounds)
    assert first["users_changed"] == len(result.rounds[0].users) and first["users_chars_added"] > 0
    assert first["items_changed"] > 0
    before, after = result.rounds[0].users[1], result.rounds[1].users[1]  # round 0 text, then the additions
    assert after.startswith(before.split("; User interests: ")[0]) and len(after) > len(before)
    assert second["items_changed"] <= first["items_changed"]


# ----- candidate selection -------------------------------------------------------------------------------
def test_group_advantage_is_reward_minus_mean_over_std_within_the_group() -> None:
    rewards = np.array([1.0, 2.0, 3.0, 6.0])
    expected = (rewards - 3.0) / np.sqrt(np.mean((rewards - 3.0) ** 2))
    assert np.allclose(group_advantage(rewards), expected)
    assert np.allclose(group_advantage(np.array([0.4, 0.4])), 0.0)  # no spread: no preference


def test_chosen_candidate_is_the_argmax_of_the_advantage() -> None:
    e1, e2, e3 = np.eye(3)
    candidates = np.stack([e2, e3, e1])
    # alignment (towards e1) = [0, 0, 1]; distinctiveness from a neighbour at e2 = [0, 1, 1]
    full = score_group(candidates, e1, np.stack([e2]), SelectionConfig())
    assert np.allclose(full.alignment, [0, 0, 1]) and np.allclose(full.distinctiveness, [0, 1, 1])
    assert np.allclose(full.reward, group_advantage(full.alignment) + group_advantage(full.distinctiveness))
    assert np.allclose(full.advantage, group_advantage(full.reward))
    assert full.chosen == int(np.argmax(full.advantage)) == 2
    no_collab = score_group(candidates, e1, np.stack([e2]), SelectionConfig.for_ranker("pte_no_collab_reward"))
    assert np.allclose(no_collab.alignment, 0) and no_collab.chosen == 1  # distinctiveness only: first of the ties


def test_selection_keeps_each_users_argmax_candidate(data: PtEData, tmp_path: Path) -> None:
    result = build_pte_profiles(data, tmp_path, embed=embed, rounds=0)
    assert set(result.scores) == set(result.rounds[0].users)
    for user, score in result.scores.items():
        variant = DEFAULT_CANDIDATES[int(np.argmax(score.advantage))]
        assert result.chosen[user] == variant
        assert result.rounds[0].users[user] == render("user", user_facts(data, user, variant))


def test_without_selection_the_first_candidate_is_kept(data: PtEData, tmp_path: Path) -> None:
    config = SelectionConfig.for_ranker("pte_no_select")
    result = build_pte_profiles(data, tmp_path, embed=embed, rounds=0, selection=config)
    assert not result.scores and set(result.chosen.values()) == {DEFAULT_CANDIDATES[0]}
    assert result.rounds[0].users[1] == render("user", user_facts(data, 1))


def test_same_input_gives_the_same_texts(data: PtEData, tmp_path: Path) -> None:
    first = build_pte_profiles(data, tmp_path / "a", embed=embed, rounds=1)
    again = build_pte_profiles(PtEData.build(data.catalogue), tmp_path / "b", embed=embed, rounds=1)
    assert first.rounds == again.rounds and first.chosen == again.chosen


# ----- cache ---------------------------------------------------------------------------------------------
def test_a_second_run_writes_nothing_and_a_torn_run_resumes(data: PtEData, tmp_path: Path) -> None:
    writer = CountingWriter()
    first = build_pte_profiles(data, tmp_path, embed=embed, writer=writer, rounds=1, batch_size=8)
    written = writer.calls
    store = TextStore(tmp_path, writer.identity)
    assert written == len(store) > 0
    size = store.path.stat().st_size

    writer.calls = 0
    again = build_pte_profiles(data, tmp_path, embed=embed, writer=writer, rounds=1, batch_size=8)
    assert writer.calls == 0 and store.path.stat().st_size == size and again.rounds == first.rounds

    lines = store.path.read_bytes().splitlines(keepends=True)
    store.path.write_bytes(b"".join(lines[:-1]) + lines[-1][:20])  # a kill in the middle of the last line
    writer.calls = 0
    resumed = build_pte_profiles(data, tmp_path, embed=embed, writer=writer, rounds=1, batch_size=8)
    assert writer.calls == 1 and resumed.rounds == first.rounds
