"""Bench inputs: the ML-100K interactions in file order, and item texts that never count held-out ratings."""

from __future__ import annotations

import numpy as np
import pytest

from convrec.core.catalogue import Catalogue
from convrec.core.settings import Settings
from convrec.training.bench_inputs import bench_data, bench_text_inputs, held_out_pairs
from convrec.training.splits import make_split


def test_bench_data_is_the_catalogue_in_file_order(tiny_settings: Settings, tiny_catalogue: Catalogue) -> None:
    frame, users, items = bench_data(tiny_settings, "ml-100k")
    assert frame["file_order"].is_monotonic_increasing and len(frame) == len(tiny_catalogue.interactions)
    assert users.tolist() == sorted(tiny_catalogue.users)
    assert items.tolist() == list(tiny_catalogue.item_ids)


def test_item_texts_are_built_without_the_split_held_out_rows(tiny_settings: Settings) -> None:
    frame, users, items = bench_data(tiny_settings, "ml-100k")
    split = make_split(frame, users, items, dataset="ml-100k", protocol="loo", seed=0)
    held_out = held_out_pairs(split)
    assert len(held_out) == len(split.valid) + len(split.test) == 2 * len(users)
    seen: list[Catalogue] = []

    def texts(part: Catalogue) -> dict[int, str]:
        seen.append(part)
        return {int(item): f"item {item}: {int((part.interactions['item_id'] == item).sum())} ratings"
                for item in part.items}

    inputs = bench_text_inputs(tiny_settings, "ml-100k", item_texts=texts)(split)
    (part,) = seen
    pairs = set(zip(part.interactions["user_id"], part.interactions["item_id"], strict=True))
    assert not pairs & held_out
    assert len(pairs) == len(frame) - len(held_out)
    item = int(split.test["item_id"].iloc[0])
    in_training = int((split.train["item_id"] == item).sum())
    assert inputs.item_texts[item] == f"item {item}: {in_training} ratings"


def test_ml_100k_text_inputs_need_the_document_builder(tiny_settings: Settings) -> None:
    with pytest.raises(ValueError, match="item_texts"):
        bench_text_inputs(tiny_settings, "ml-100k")


def test_held_out_pairs_are_plain_ints(tiny_settings: Settings) -> None:
    frame, users, items = bench_data(tiny_settings, "ml-100k")
    split = make_split(frame, users, items, dataset="ml-100k", protocol="loo", seed=1)
    assert all(isinstance(u, int) and isinstance(i, int) for u, i in held_out_pairs(split))
    assert np.isin([i for _, i in held_out_pairs(split)], items).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_cold_start_item_texts_count_only_training_rows(tiny_settings: Settings, seed: int) -> None:
    frame, users, items = bench_data(tiny_settings, "ml-100k")
    split = make_split(frame, users, items, dataset="ml-100k", protocol="coldstart", seed=seed)
    seen: list[Catalogue] = []

    def texts(part: Catalogue) -> dict[int, str]:
        seen.append(part)
        return {int(item): "" for item in part.items}

    bench_text_inputs(tiny_settings, "ml-100k", item_texts=texts)(split)
    (part,) = seen
    kept = set(zip(part.interactions["user_id"], part.interactions["item_id"], strict=True))
    train = set(zip(split.train["user_id"], split.train["item_id"], strict=True))
    assert kept == train  # dropped ratings (new items', cold users' later ones) are in no item text
    assert split.new_items is not None and not {i for _, i in kept} & set(split.new_items.tolist())
