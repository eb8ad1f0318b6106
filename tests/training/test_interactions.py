"""The interaction matrix: shape over the whole catalogue, implicit 1.0 entries, id <-> position maps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from convrec.core.catalogue import Catalogue
from convrec.training.interactions import Interactions

from ..fixtures import ITEMS, interactions


def test_from_catalogue_has_every_item_and_user(tiny_catalogue: Catalogue) -> None:
    data = Interactions.from_catalogue(tiny_catalogue)
    assert isinstance(data.matrix, sp.csr_matrix)
    assert data.matrix.dtype == np.float32
    assert data.item_ids.tolist() == sorted(tiny_catalogue.items)  # item 22 has no rating but a column
    assert 22 in data.item_ids and 21 not in data.item_ids  # the "unkonwn" row is not an item
    assert data.user_ids.tolist() == list(range(1, 21))
    assert data.matrix.shape == (20, len(tiny_catalogue.items))
    assert data.nnz == len(interactions())
    assert set(np.unique(data.matrix.data)) == {1.0}


def test_positions_round_trip(tiny_catalogue: Catalogue) -> None:
    data = Interactions.from_catalogue(tiny_catalogue)
    assert data.user_index(1) == 0 and data.user_index(20) == 19
    assert data.user_index(999) is None and data.user_index(0) is None
    positions = data.item_index(np.array([22, 1, 7]))
    assert data.item_ids[positions].tolist() == [22, 1, 7]
    with pytest.raises(KeyError):
        data.item_index([21])
    user_1 = {item for user, item, _, _ in interactions() if user == 1}
    assert set(data.item_ids[data.items_of(data.user_index(1))].tolist()) == user_1


def test_from_frame_keeps_given_ids_and_counts_repeats_once() -> None:
    frame = pd.DataFrame({"user_id": [5, 5, 5, 9], "item_id": [3, 3, 1, 3]})
    data = Interactions.from_frame(frame, np.array([9, 5, 7]), np.array([3, 1, 2]))
    assert data.user_ids.tolist() == [5, 7, 9] and data.item_ids.tolist() == [1, 2, 3]
    assert data.matrix.toarray().tolist() == [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    assert data.item_counts().tolist() == [1.0, 0.0, 2.0]
    with pytest.raises(ValueError, match="unknown item"):
        Interactions.from_frame(pd.DataFrame({"user_id": [5], "item_id": [4]}), np.array([5]), np.array([1]))


def test_fingerprint_follows_content(tiny_catalogue: Catalogue) -> None:
    full = Interactions.from_catalogue(tiny_catalogue)
    again = Interactions.from_catalogue(tiny_catalogue)
    fewer = Interactions.from_frame(tiny_catalogue.interactions.iloc[1:], full.user_ids, full.item_ids)
    assert full.fingerprint() == again.fingerprint()
    assert full.fingerprint() != fewer.fingerprint()
    assert len(ITEMS) - 1 == full.n_items  # every fixture item but the placeholder row


def test_head_keeps_the_oldest_interactions_of_each_user(tiny_catalogue: Catalogue) -> None:
    data = Interactions.from_catalogue(tiny_catalogue)
    lengths = np.array([min(3, len(data.sequence_of(row))) for row in range(data.n_users)])
    lengths[0] = 0
    head = data.head(lengths)
    assert head.matrix.shape == data.matrix.shape and head.nnz == lengths.sum()
    assert head.sequence_of(0).tolist() == [] and head.items_of(0).tolist() == []
    for row in range(1, data.n_users):
        first = data.sequence_of(row)[:lengths[row]].tolist()
        assert head.sequence_of(row).tolist() == first and sorted(first) == head.items_of(row).tolist()
    with pytest.raises(ValueError, match="one length per user"):
        data.head(lengths[:-1])
