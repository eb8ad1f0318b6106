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


def test_rewritten_validation_trains_on_heads_and_scores_with_all_of_train(tiny_catalogue: Catalogue,
                                                                          tmp_path) -> None:  # noqa: ANN001
    from convrec.core.encoder import load_encoder
    from convrec.training.text_inputs import TextInputs

    users = np.array(sorted(tiny_catalogue.users))
    split = make_split(tiny_catalogue.interactions, users, tiny_catalogue.item_ids, dataset="t",
                       protocol="temporal", seed=0)
    train, valid = split.train_matrix(), split.part("valid")
    script = load_script("tup_half_validation")
    head = script.without_validation_sized_tail(train, valid)
    for row in range(train.n_users):
        sequence, n_valid = train.sequence_of(row).tolist(), len(valid.items_of(row))
        assert head.sequence_of(row).tolist() == sequence[:max(len(sequence) - n_valid, 1)]
    assert head.nnz < train.nnz
    inputs = TextInputs(tiny_catalogue.items, tiny_catalogue.interactions, {}, load_encoder(None), tmp_path)
    ranker = get_ranker("tup", batch_size=32, epochs=2)
    ranker.attach(inputs)
    validator = script.RewrittenValidator(train, valid)
    ranker.fit(head, seed=0, validate=validator)
    trained = ranker.profile_vectors
    rewritten = inputs.profile_vectors(train, ranker.kinds)
    assert not np.allclose(trained, rewritten)
    np.testing.assert_allclose(trained, inputs.profile_vectors(head, ranker.kinds))  # left as it trained
    ranker.profile_vectors = rewritten
    expected = evaluate(ranker, train, valid, ks=(10,))
    values, rows = expected.per_user["ndcg@10"], expected.users
    best = validator.curves[ranker.stopping.best_epoch - 1]  # the kept weights are the best epoch's
    np.testing.assert_allclose(best, (values[rows % 2 == 0].mean(), values[rows % 2 == 1].mean()), rtol=1e-6)
