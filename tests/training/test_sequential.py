"""GRU4Rec and SASRec: windows, padding, learning a known next item, history, early stopping, seeding.

The synthetic data has an answer known by construction: every user watches a run of consecutive items
(k, k+1, k+2, ...), so after any history the next item is the last one plus one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from convrec.core.catalogue import Catalogue
from convrec.training.configs import load_params
from convrec.training.interactions import Interactions
from convrec.training.rankers import REGISTRY, Ranker, get_ranker
from convrec.training.rankers.sequential import SequentialRanker, pad_left, training_windows

NAMES = ["gru4rec", "sasrec"]
N_ITEMS = 30
# Small, fast networks for the synthetic data (the defaults are sized for MovieLens).
FAST = {
    "gru4rec": {"embedding_size": 16, "hidden_size": 32},
    "sasrec": {"hidden_size": 16, "inner_size": 32, "hidden_dropout_prob": 0.1, "attn_dropout_prob": 0.1},
}
TRAIN = {"max_seq_length": 8, "train_stride": 8, "batch_size": 16, "lr": 0.01, "epochs": 40}


def fast(name: str, **overrides: object) -> SequentialRanker:
    """A small sequential ranker for the synthetic data."""
    ranker = get_ranker(name, **{**FAST[name], **TRAIN, **overrides})
    assert isinstance(ranker, SequentialRanker)
    return ranker


def runs_frame(n_users: int = 40, seed: int = 0, extra: dict[int, int] | None = None) -> pd.DataFrame:
    """Each user watches 5-9 consecutive items (mod N_ITEMS) from a random start; `extra` appends items."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, n_users + 1):
        start, length = int(rng.integers(N_ITEMS)), int(rng.integers(5, 10))
        items = [(start + step) % N_ITEMS + 1 for step in range(length)]
        items += [extra[user]] if extra and user in extra else []
        rows += [(user, item, 1000 * user + step) for step, item in enumerate(items)]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])


def interactions(frame: pd.DataFrame, n_users: int = 40) -> Interactions:
    """Interactions over fixed ids (users 1..n_users, items 1..N_ITEMS)."""
    return Interactions.from_frame(frame, np.arange(1, n_users + 1), np.arange(1, N_ITEMS + 1))


@pytest.fixture(scope="module")
def runs() -> Interactions:
    """The synthetic consecutive-runs data."""
    return interactions(runs_frame())


def next_columns(data: Interactions) -> np.ndarray:
    """The known next column of every user: the one after their last."""
    return np.array([(data.sequence_of(row)[-1] + 1) % N_ITEMS for row in range(data.n_users)])


def top1_rate(ranker: Ranker, data: Interactions) -> float:
    """Share of users whose known next item scores highest."""
    return float(np.mean(ranker.score(np.arange(data.n_users)).argmax(axis=1) == next_columns(data)))


# ----- windows and padding -------------------------------------------------------------------------
def test_windows_train_every_prefix_once_with_the_promised_context() -> None:
    sequence = np.arange(12)  # columns 0..11, ids 1..12
    for max_len, stride in [(4, 1), (4, 2), (4, 4), (5, 3), (20, 20)]:
        inputs, targets = training_windows((sequence, np.array([3]), np.zeros(0, np.int64)), max_len, stride)
        assert inputs.shape == targets.shape and inputs.shape[1] == max_len
        trained = targets[targets > 0]
        assert sorted(trained.tolist()) == list(range(2, 13))  # each next item exactly once
        for window, (x, y) in enumerate(zip(inputs, targets, strict=True)):
            real = x[x > 0]
            assert np.array_equal(real, np.arange(real[0], real[0] + len(real))), window  # in order, no gaps
            assert (x[: max_len - len(real)] == 0).all()  # padding only on the left
            for position in np.flatnonzero(y):
                assert y[position] == x[position] + 1  # the target follows its input
                context = int((x[: position + 1] > 0).sum())
                assert context >= min(max_len - stride + 1, y[position] - 1)


def test_windows_with_stride_one_are_recbole_prefixes() -> None:
    inputs, targets = training_windows((np.array([4, 7, 9]),), max_len=2, stride=1)
    np.testing.assert_array_equal(inputs, [[5, 8], [0, 5]])
    np.testing.assert_array_equal(targets, [[0, 10], [0, 8]])


def test_pad_left_keeps_the_newest_items_in_the_last_positions() -> None:
    padded = pad_left([np.array([0, 1, 2, 3, 4]), np.array([6]), np.zeros(0, np.int64)], 3)
    np.testing.assert_array_equal(padded, [[3, 4, 5], [0, 0, 7], [0, 0, 0]])


@pytest.mark.parametrize("name", NAMES)
def test_leading_padding_changes_nothing(name: str, runs: Interactions) -> None:
    import torch

    ranker = fast(name, epochs=2).fit(runs, seed=0)
    module = ranker.module
    seqs = torch.from_numpy(pad_left([runs.sequence_of(row)[:4] for row in range(8)], 8))  # 4 leading pads
    with torch.no_grad():
        np.testing.assert_allclose(module(seqs)[:, 4:].numpy(), module(seqs[:, 4:]).numpy(), rtol=1e-5,
                                   atol=1e-6)


# ----- learning ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_a_deterministic_next_item_is_learned(name: str, runs: Interactions) -> None:
    untrained = fast(name, lr=1e-9, epochs=1).fit(runs, seed=0)
    trained = fast(name).fit(runs, seed=0)
    assert top1_rate(untrained, runs) < 0.2
    assert top1_rate(trained, runs) >= 0.9
    # an ad-hoc sequence works the same way: after items 3, 4, 5 (columns 2, 3, 4) comes item 6
    assert int(trained.score_history(np.array([2, 3, 4])).argmax()) == 5


@pytest.mark.parametrize("name", NAMES)
def test_set_history_moves_the_prediction(name: str, runs: Interactions) -> None:
    ranker = fast(name).fit(runs, seed=0)
    before = ranker.score(np.arange(runs.n_users))
    last = runs.sequence_of(0)[-1]
    longer = interactions(runs_frame(extra={1: int(runs.item_ids[(last + 1) % N_ITEMS])}))  # user 1 watched it
    ranker.set_history(longer)
    after = ranker.score(np.arange(runs.n_users))
    assert int(after[0].argmax()) == (last + 2) % N_ITEMS != int(before[0].argmax())
    np.testing.assert_array_equal(after[1:], before[1:])  # nobody else's history changed


@pytest.mark.parametrize("name", NAMES)
def test_users_without_history_get_finite_scores(name: str) -> None:
    frame = runs_frame(n_users=10)
    data = interactions(frame[frame["user_id"] != 3], n_users=12)  # users 3, 11 and 12 have no rows
    ranker = fast(name, epochs=2).fit(data, seed=0)
    scores = ranker.score(np.array([2, 10, 11, 0]))
    assert scores.shape == (4, N_ITEMS) and np.isfinite(scores).all()
    np.testing.assert_array_equal(scores[0], scores[1])  # all-padding sequences score alike
    assert np.isfinite(ranker.score_history(np.zeros(0, dtype=np.int64))).all()


# ----- early stopping and seeding ------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_early_stopping_restores_the_best_state(name: str, runs: Interactions) -> None:
    curve = iter([0.1, 0.5, 0.3, 0.2, 0.4, 0.45, 0.9])  # the best is the second check
    seen: list[np.ndarray] = []

    def validate(ranker: Ranker) -> float:
        seen.append(ranker.score(np.arange(5)))
        return next(curve)

    ranker = fast(name, epochs=50, eval_every=2, patience=3).fit(runs, seed=0, validate=validate)
    assert isinstance(ranker, SequentialRanker) and ranker.stopping is not None
    assert len(seen) == 5 and ranker.epochs_trained == 10  # stopped after 3 checks without gain
    assert ranker.stopping.best_epoch == 4
    np.testing.assert_array_equal(ranker.score(np.arange(5)), seen[1])
    assert not np.array_equal(seen[1], seen[-1])


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_scores_other_seed_other_scores(name: str, runs: Interactions) -> None:
    users = np.arange(runs.n_users)
    first = fast(name, epochs=3).fit(runs, seed=1).score(users)
    np.testing.assert_array_equal(fast(name, epochs=3).fit(runs, seed=1).score(users), first)
    assert not np.array_equal(fast(name, epochs=3).fit(runs, seed=2).score(users), first)


@pytest.mark.parametrize("name", NAMES)
def test_save_and_load_keep_the_replaced_history(name: str, runs: Interactions, tmp_path: Path) -> None:
    ranker = fast(name, epochs=2).fit(runs, seed=0)
    ranker.set_history(interactions(runs_frame(extra={1: 1, 2: 2})))
    ranker.save(tmp_path / "model")
    loaded = Ranker.load(tmp_path / "model")
    users = np.arange(runs.n_users)
    np.testing.assert_array_equal(loaded.score(users), ranker.score(users))


# ----- configuration and the real fixture ----------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_yaml_config_holds_the_values_and_valid_overrides(name: str) -> None:
    assert get_ranker(name, **load_params(name)).params() == get_ranker(name).params()  # built from the YAML
    for protocol in ("loo", "temporal", "chrono", "random"):
        get_ranker(name, **load_params(name, protocol))  # every override validates


def test_bad_shapes_are_rejected_before_fitting() -> None:
    with pytest.raises(Exception, match="train_stride"):
        get_ranker("gru4rec", max_seq_length=10, train_stride=11)
    with pytest.raises(Exception, match="n_heads"):
        get_ranker("sasrec", hidden_size=64, n_heads=3)


def test_interactions_without_time_order_are_refused(tiny_catalogue: Catalogue) -> None:
    data = Interactions.from_catalogue(tiny_catalogue)
    plain = Interactions(matrix=data.matrix, user_ids=data.user_ids, item_ids=data.item_ids)
    with pytest.raises(ValueError, match="time-ordered"):
        fast("gru4rec").fit(plain, seed=0)


@pytest.mark.parametrize("name", NAMES)
def test_registered_with_the_sequential_interface(name: str) -> None:
    assert issubclass(REGISTRY[name], SequentialRanker) and REGISTRY[name].personal


def test_a_history_over_other_items_is_refused(runs: Interactions) -> None:
    ranker = fast("gru4rec", epochs=1).fit(runs, seed=0)
    other = Interactions.from_frame(runs_frame(), np.arange(1, 41), np.arange(1, N_ITEMS + 2))
    with pytest.raises(ValueError, match="item columns"):
        ranker.set_history(other)
