"""BPR-MF and LightGCN on the tiny fixture: they learn the taste groups, stop early, repeat with a seed.

The interface itself (shapes, save/load, registry) is checked for every ranker in test_rankers_contract.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from convrec.core.catalogue import Catalogue
from convrec.core.errors import UserError
from convrec.training.configs import load_params
from convrec.training.interactions import Interactions
from convrec.training.rankers import REGISTRY, Ranker, get_ranker
from convrec.training.rankers.bpr import BPR, sample_negatives
from convrec.training.rankers.lightgcn import normalized_adjacency
from convrec.training.rankers.lightgcn_net import SymmetricMM, csr_tensor

from ..fixtures import COMEDY_ORDER, SCIFI_ORDER

MODELS = ["bpr", "lightgcn"]


@pytest.fixture(scope="module")
def data(tiny_catalogue: Catalogue) -> Interactions:
    """All fixture interactions."""
    return Interactions.from_catalogue(tiny_catalogue)


def scifi_margin(ranker: Ranker, data: Interactions) -> float:
    """Mean over sci-fi users of (mean score of their unseen, watched-by-someone sci-fi films) - (mean comedy)."""
    watched = data.item_counts() > 0
    comedy = [c for c in data.item_index(COMEDY_ORDER) if watched[c]]
    margins = []
    for user in range(1, 11):
        row = data.user_index(user)
        assert row is not None
        seen = set(data.items_of(row).tolist())
        unseen = [c for c in data.item_index(SCIFI_ORDER) if watched[c] and c not in seen]
        if unseen:
            scores = ranker.score(np.array([row]))[0]
            margins.append(scores[unseen].mean() - scores[comedy].mean())
    assert len(margins) >= 5
    return float(np.mean(margins))


def test_both_models_are_registered() -> None:
    assert REGISTRY["bpr"].name == "bpr" and REGISTRY["lightgcn"].name == "lightgcn"


@pytest.mark.parametrize("name", MODELS)
def test_training_puts_unseen_scifi_above_comedy_for_scifi_users(name: str, data: Interactions) -> None:
    trained = get_ranker(name).fit(data, seed=0)
    untrained = get_ranker(name, epochs=0).fit(data, seed=0)
    assert scifi_margin(trained, data) > 0
    assert scifi_margin(trained, data) > scifi_margin(untrained, data) + 0.1


@pytest.mark.parametrize("name", MODELS)
def test_early_stopping_keeps_the_best_state_and_stops_after_patience(name: str, data: Interactions) -> None:
    series = iter([0.1, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05, 0.0])  # best at the 2nd check, then only worse
    seen_scores: list[np.ndarray] = []

    def validate(ranker: Ranker) -> float:
        seen_scores.append(ranker.score(np.arange(data.n_users)).copy())
        return next(series)

    ranker = get_ranker(name, epochs=100, eval_every=2, patience=3).fit(data, seed=0, validate=validate)
    assert isinstance(ranker, BPR) and ranker.stopping is not None
    assert len(seen_scores) == 2 + 3  # the best check, then `patience` checks without gain
    assert ranker.epochs_trained == 2 * 5
    assert ranker.stopping.best_epoch == 4
    everyone = np.arange(data.n_users)
    np.testing.assert_array_equal(ranker.score(everyone), seen_scores[1])
    assert not np.array_equal(ranker.score(everyone), seen_scores[-1])


@pytest.mark.parametrize("name", MODELS)
def test_without_a_validator_all_epochs_run(name: str, data: Interactions) -> None:
    ranker = get_ranker(name, epochs=7).fit(data, seed=0)
    assert isinstance(ranker, BPR)
    assert ranker.epochs_trained == 7 and ranker.stopping is None


@pytest.mark.parametrize("name", MODELS)
def test_same_seed_same_scores_other_seed_other_scores(name: str, data: Interactions) -> None:
    everyone = np.arange(data.n_users)
    first = get_ranker(name, epochs=20, device="cpu").fit(data, seed=3).score(everyone)
    again = get_ranker(name, epochs=20, device="cpu").fit(data, seed=3).score(everyone)
    other = get_ranker(name, epochs=20, device="cpu").fit(data, seed=4).score(everyone)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


@pytest.mark.parametrize("name", MODELS)
def test_fitting_leaves_global_random_state_and_threads_alone(name: str, data: Interactions) -> None:
    torch_state, numpy_state = torch.random.get_rng_state(), np.random.get_state()
    threads = torch.get_num_threads()
    get_ranker(name, epochs=3, cpu_threads=1).fit(data, seed=0)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == numpy_state[1].tolist()
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize("name", MODELS)
def test_history_user_is_the_weighted_mean_of_liked_item_vectors(name: str, data: Interactions) -> None:
    ranker = get_ranker(name, epochs=5).fit(data, seed=0)
    assert isinstance(ranker, BPR)
    liked = np.array([0, 2, 5])
    np.testing.assert_allclose(ranker.score_history(liked), ranker.item_vectors @ ranker.item_vectors[liked].mean(0),
                               rtol=1e-5, atol=1e-6)
    weights = np.array([2.0, -1.0, 1.0])
    user = (weights[:, None] * ranker.item_vectors[liked]).sum(0) / 4.0
    np.testing.assert_allclose(ranker.score_history(liked, weights=weights), ranker.item_vectors @ user,
                               rtol=1e-5, atol=1e-6)
    assert not ranker.score_history(np.array([], dtype=np.int64)).any()


@pytest.mark.parametrize("name", MODELS)
def test_config_files_hold_the_values_and_the_loo_overrides(name: str) -> None:
    assert get_ranker(name).params() == get_ranker(name, **load_params(name)).params()  # built from the YAML
    loo = get_ranker(name, **load_params(name, "loo")).params()
    assert (loo["eval_every"], loo["patience"]) == (5, 8)
    assert get_ranker(name, **load_params(name, "random")).params() == get_ranker(name).params()


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(UserError, match="device"):
        get_ranker("bpr", device="gpu")
    with pytest.raises(UserError, match="n_layers"):
        get_ranker("lightgcn", n_layers=-1)


def test_negatives_are_never_positives_and_cover_the_rest_uniformly() -> None:
    matrix = sp.csr_matrix(np.array([[1, 1, 0, 0, 0], [0, 0, 0, 1, 0]], dtype=np.float32))
    users = np.repeat(np.array([0, 1]), 5000)
    negatives = sample_negatives(matrix, users, np.random.default_rng(0))
    first, second = negatives[:5000], negatives[5000:]
    assert set(first.tolist()) == {2, 3, 4} and set(second.tolist()) == {0, 1, 2, 4}
    assert np.bincount(first, minlength=5)[2:].min() > 1500  # about 1667 each
    again = sample_negatives(matrix, users, np.random.default_rng(0))
    np.testing.assert_array_equal(negatives, again)


def test_weighted_negatives_follow_the_weights_among_the_unseen_items() -> None:
    matrix = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 0, 1]], dtype=np.float32))
    users = np.repeat(np.array([0, 1]), 6000)
    weights = np.array([10.0, 1.0, 2.0, 3.0])
    negatives = sample_negatives(matrix, users, np.random.default_rng(0), weights)
    first, second = np.bincount(negatives[:6000], minlength=4), np.bincount(negatives[6000:], minlength=4)
    assert first[0] == 0 and second[3] == 0
    # user 0 draws items 1, 2, 3 in the ratio 1 : 2 : 3 (1000, 2000, 3000); user 1 items 0, 1, 2 as 10 : 1 : 2
    np.testing.assert_allclose(first[1:] / 6000, [1 / 6, 2 / 6, 3 / 6], atol=0.02)
    np.testing.assert_allclose(second[:3] / 6000, [10 / 13, 1 / 13, 2 / 13], atol=0.02)


def test_normalized_adjacency_by_hand() -> None:
    # user 0 likes items 0 and 1, user 1 likes item 1: degrees users (2, 1), items (1, 2)
    matrix = sp.csr_matrix(np.array([[1, 1], [0, 1]], dtype=np.float32))
    dense = normalized_adjacency(matrix).toarray()
    expected = np.zeros((4, 4))
    for user, item, value in [(0, 0, 1 / np.sqrt(2 * 1)), (0, 1, 1 / np.sqrt(2 * 2)), (1, 1, 1 / np.sqrt(1 * 2))]:
        expected[user, 2 + item] = expected[2 + item, user] = value
    np.testing.assert_allclose(dense, expected, rtol=1e-6)


def test_symmetric_product_has_the_gradient_of_a_dense_product() -> None:
    matrix = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]], dtype=np.float32))
    sparse = csr_tensor(normalized_adjacency(matrix))
    dense = torch.from_numpy(normalized_adjacency(matrix).toarray())
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0), requires_grad=True)
    weights = torch.arange(15.0).reshape(5, 3)
    (SymmetricMM.apply(sparse, x) * weights).sum().backward()
    ours = x.grad.clone()
    x.grad = None
    ((dense @ x) * weights).sum().backward()
    torch.testing.assert_close(ours, x.grad)


def test_lightgcn_without_layers_scores_its_raw_embeddings(data: Interactions) -> None:
    ranker = get_ranker("lightgcn", n_layers=0, epochs=2).fit(data, seed=0)
    assert isinstance(ranker, BPR)
    np.testing.assert_allclose(ranker.score(np.array([0, 1])), ranker.user_vectors[:2] @ ranker.item_vectors.T,
                               rtol=1e-6)
