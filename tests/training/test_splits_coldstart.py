"""The cold-start protocol's split on hand-built tables: who is cold, which items are new, what stays in training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from convrec.core.catalogue import Catalogue
from convrec.training.splits import (
    COLD_USER_KEEP,
    DROPPED,
    Split,
    _ordered,
    coldstart_labels,
    make_split,
    pick_cold_start,
)

NEW = 3  # the one new item of the hand-built table


def _rows(user: int, items: list[int]) -> list[tuple[int, int, float, int]]:
    """One user's ratings, one minute apart in the listed order."""
    return [(user, item, 4.0, 1000 * user + 60 * step) for step, item in enumerate(items)]


def _frame(rows: list[tuple[int, int, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])


def _hand_table() -> pd.DataFrame:
    """Users 1, 2 and 5 cold, 3 and 4 warm; item 3 new. Rows reversed, so time order must be restored."""
    rows = (_rows(1, [1, 2, NEW, 4, 5, 6, 7, 8])  # cold: trains 1 2 4 5 6 (not 3), tested on 7, loses 8
            + _rows(2, [10, 11, 12, 13, 14, NEW, 15])  # cold: trains 10-14, tested on the new item, loses 15
            + _rows(3, [1, NEW, 2, 4])  # warm: loo gives train 1 3, valid 2, test 4; 3 leaves training
            + _rows(4, [5, 6, NEW])  # warm: train 5, valid 6, test the new item (it stays)
            + _rows(5, [1, 2, 4, 5]))  # cold with 4 ratings: all train, nothing to test
    return _frame(rows[::-1])


def test_coldstart_labels_by_hand() -> None:
    ordered = _ordered(_hand_table()).reset_index(drop=True)
    labels = coldstart_labels(ordered, np.array([1, 2, 5]), np.array([NEW]))
    got = {(int(u), int(i)): int(k) for u, i, k in zip(ordered.user_id, ordered.item_id, labels, strict=True)}
    expected = {
        (1, 1): 0, (1, 2): 0, (1, NEW): DROPPED, (1, 4): 0, (1, 5): 0, (1, 6): 0, (1, 7): 2, (1, 8): DROPPED,
        (2, 10): 0, (2, 11): 0, (2, 12): 0, (2, 13): 0, (2, 14): 0, (2, NEW): 2, (2, 15): DROPPED,
        (3, 1): 0, (3, NEW): DROPPED, (3, 2): 1, (3, 4): 2,
        (4, 5): 0, (4, 6): 1, (4, NEW): 2,
        (5, 1): 0, (5, 2): 0, (5, 4): 0, (5, 5): 0,
    }
    assert got == expected


def test_pick_cold_start_sizes_and_seeds() -> None:
    """20% of the rated users and 10% of the rated items, the same for a seed, different across seeds."""
    rows = [(u, i, 4.0, 100 * u + i) for u in range(1, 11) for i in range(1, 21) if (u + i) % 3]
    frame = _frame(rows)
    picks = {seed: pick_cold_start(frame, np.random.default_rng(seed)) for seed in range(6)}
    for cold, new in picks.values():
        assert len(cold) == 2 and len(new) == 2
        assert set(cold) <= set(range(1, 11)) and set(new) <= set(range(1, 21))
    again = pick_cold_start(frame, np.random.default_rng(0))
    assert all(np.array_equal(a, b) for a, b in zip(again, picks[0], strict=True))
    assert len({(tuple(c), tuple(n)) for c, n in picks.values()}) > 1


def _check_split(split: Split, frame: pd.DataFrame) -> None:
    """What must hold on any cold-start split of `frame`."""
    assert split.cold_users is not None and split.new_items is not None
    for part in (split.train, split.valid):
        assert not part.item_id.isin(split.new_items).any()  # nothing of a new item before test
    assert not split.valid.user_id.isin(split.cold_users).any()
    ordered = _ordered(frame)
    for user in split.cold_users:
        usable = ordered[(ordered.user_id == user) & ~ordered.item_id.isin(split.new_items)]
        trained = split.train[split.train.user_id == user]
        assert trained.item_id.tolist() == usable.item_id.tolist()[:COLD_USER_KEEP]
    warm = ordered[~ordered.user_id.isin(split.cold_users)]
    sizes = warm.groupby("user_id").size()
    last = warm.groupby("user_id").tail(1)
    tested = split.test[~split.test.user_id.isin(split.cold_users)]
    assert sorted(zip(tested.user_id, tested.item_id, strict=True)) == sorted(
        (u, i) for u, i in zip(last.user_id, last.item_id, strict=True) if sizes[u] >= 3)
    assert split.test.user_id.is_unique  # one test item per user, as in leave-one-out
    for user, rows in warm.groupby("user_id"):  # everyone else: leave-one-out, less the new items
        items = rows.item_id.tolist()
        before, valid = (items[:-2], items[-2:-1]) if len(items) >= 3 else (items, [])
        assert split.train[split.train.user_id == user].item_id.tolist() == [
            i for i in before if i not in split.new_items]
        assert split.valid[split.valid.user_id == user].item_id.tolist() == [
            i for i in valid if i not in split.new_items]


def test_make_split_coldstart_on_the_tiny_catalogue(tiny_catalogue: Catalogue) -> None:
    users = np.array(sorted(tiny_catalogue.users))
    frame = tiny_catalogue.interactions.sort_values("file_order", kind="stable")
    splits = [make_split(frame, users, tiny_catalogue.item_ids, dataset="t", protocol="coldstart", seed=s)
              for s in range(4)]
    for split in splits:
        _check_split(split, frame)
        assert len(split.cold_users) == 4  # 20% of the fixture's 20 users
        assert len(split.new_items) == round(0.1 * frame.item_id.nunique())
    same = make_split(tiny_catalogue.interactions, users, tiny_catalogue.item_ids, dataset="t",
                      protocol="coldstart", seed=0)
    assert all(getattr(same, p).equals(getattr(splits[0], p)) for p in ("train", "valid", "test"))
    assert np.array_equal(same.cold_users, splits[0].cold_users)
    assert len({tuple(s.cold_users) + tuple(s.new_items) for s in splits}) > 1


def test_coldstart_split_saves_and_loads(tiny_catalogue: Catalogue, tmp_path) -> None:  # noqa: ANN001
    users = np.array(sorted(tiny_catalogue.users))
    split = make_split(tiny_catalogue.interactions, users, tiny_catalogue.item_ids, dataset="t",
                       protocol="coldstart", seed=2)
    split.save(tmp_path)
    loaded = Split.load(tmp_path)
    assert loaded.cold_users is not None and loaded.new_items is not None
    assert np.array_equal(loaded.cold_users, split.cold_users)
    assert np.array_equal(loaded.new_items, split.new_items)
    assert loaded.counts() == split.counts() and split.counts()["cold_users"] == 4
    loo = make_split(tiny_catalogue.interactions, users, tiny_catalogue.item_ids, dataset="t", protocol="loo",
                     seed=2)
    loo.save(tmp_path / "loo")
    assert Split.load(tmp_path / "loo").cold_users is None and "cold_users" not in loo.counts()


@pytest.mark.parametrize("seed", [0, 1])
def test_coldstart_split_on_a_larger_random_table(seed: int) -> None:
    """Random histories with shared timestamps: the invariants hold whatever the draw."""
    rng = np.random.default_rng(seed + 10)
    rows = []
    for user in range(1, 31):
        items = rng.choice(np.arange(1, 41), size=int(rng.integers(2, 15)), replace=False)
        rows += [(user, int(i), 3.0, int(rng.integers(0, 5))) for i in items]
    frame = _frame(rows)
    split = make_split(frame, np.arange(1, 31), np.arange(1, 41), dataset="r", protocol="coldstart", seed=seed)
    _check_split(split, frame)
    assert len(split.cold_users) == 6 and len(split.new_items) == round(0.1 * frame.item_id.nunique())
