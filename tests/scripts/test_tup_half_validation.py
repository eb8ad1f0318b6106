"""The half-validation script's scorer: half A drives early stopping, half B is recorded beside it."""

from __future__ import annotations

import numpy as np

from convrec.core.catalogue import Catalogue
from convrec.training.evaluate import evaluate
from convrec.training.rankers import get_ranker
from convrec.training.splits import make_split

from . import load_script


def test_the_halves_are_the_even_and_odd_users_and_only_a_is_returned(tiny_catalogue: Catalogue) -> None:
    users = np.array(sorted(tiny_catalogue.users))
    split = make_split(tiny_catalogue.interactions, users, tiny_catalogue.item_ids, dataset="t", protocol="loo",
                       seed=0)
    train, valid = split.train_matrix(), split.part("valid")
    ranker = get_ranker("pop").fit(train, seed=0)
    validator = load_script("tup_half_validation").HalfValidator(train, valid)
    returned = validator(ranker)
    full = evaluate(ranker, train, valid, ks=(10,))
    values, rows = full.per_user["ndcg@10"], full.users
    a, b = values[rows % 2 == 0].mean(), values[rows % 2 == 1].mean()
    assert returned == validator.curves[0][0] == a and validator.curves[0][1] == b
    assert a != b  # the fixture's halves differ, so returning the wrong one would show
    assert abs((a * (rows % 2 == 0).sum() + b * (rows % 2 == 1).sum()) / len(rows) - full.metrics["ndcg@10"]) < 1e-12
