"""LLM-TUP beyond the ranker contract: fusion weights, which side drove a score, the split's fixed negatives,
text inputs in the cache key, and the benchmark's ablation table and fusion-weight plot."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from convrec.core.catalogue import Catalogue
from convrec.core.encoder import load_encoder
from convrec.core.errors import UserError
from convrec.training.bench import BenchConfig, run_bench
from convrec.training.bench_report import render_markdown, render_plots
from convrec.training.interactions import Interactions
from convrec.training.rankers import fit_or_load, get_ranker
from convrec.training.rankers.base import cache_key
from convrec.training.rankers.tup import TemporalProfileRanker
from convrec.training.splits import make_split
from convrec.training.text_inputs import TextInputs

from ..fixtures import COMEDY_ORDER, SCIFI_ORDER

# Fixture-size overrides on top of training/configs/tup.yaml (~150 training pairs: small batches and fewer epochs).
SMALL = {"batch_size": 32, "epochs": 20}


@pytest.fixture(scope="module")
def inputs(tiny_catalogue: Catalogue, tmp_path_factory: pytest.TempPathFactory) -> TextInputs:
    return TextInputs(tiny_catalogue.items, tiny_catalogue.interactions, {}, load_encoder(None),
                      tmp_path_factory.mktemp("text"))


@pytest.fixture(scope="module")
def fitted(tiny_catalogue: Catalogue, inputs: TextInputs) -> TemporalProfileRanker:
    ranker = get_ranker("tup", **SMALL)
    ranker.attach(inputs)
    return ranker.fit(Interactions.from_catalogue(tiny_catalogue), seed=0)  # type: ignore[return-value]


def test_fusion_weights_are_a_distribution_per_user(fitted: TemporalProfileRanker) -> None:
    weights = fitted.fusion_weights()
    assert weights.shape == (len(fitted.profile_vectors), 2)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
    assert (weights > 0).all() and weights[:, 0].std() > 0  # per user, not one global weight


def test_each_side_scores_alone_and_the_sci_fi_side_prefers_sci_fi(
    fitted: TemporalProfileRanker, tiny_catalogue: Catalogue
) -> None:
    data = Interactions.from_catalogue(tiny_catalogue)
    columns = data.item_index([*SCIFI_ORDER[:3], *COMEDY_ORDER[:3]])
    sides = fitted.side_scores(int(data.user_index(1)), columns)
    assert set(sides) == {"short_term", "long_term"}
    for scores in sides.values():
        assert scores.shape == (6,) and scores[:3].mean() > scores[3:].mean()


def test_ablations_read_the_profiles_they_name(inputs: TextInputs, tiny_catalogue: Catalogue) -> None:
    data = Interactions.from_catalogue(tiny_catalogue)
    for name, kinds in (("tup_short", ("short_term",)), ("tup_long", ("long_term",)), ("tup_single", ("whole",))):
        ranker = get_ranker(name, **SMALL)
        ranker.attach(inputs)
        ranker.fit(data, seed=0)
        assert ranker.kinds == kinds and ranker.profile_vectors.shape[1] == 1  # type: ignore[attr-defined]
        np.testing.assert_allclose(ranker.fusion_weights(), 1.0)  # type: ignore[attr-defined]
    assert get_ranker("tup_dot").params()["scorer"] == "dot"


def test_the_temporal_split_supplies_the_training_negatives(tiny_catalogue: Catalogue, inputs: TextInputs) -> None:
    users = np.array(sorted(tiny_catalogue.users))
    split = make_split(tiny_catalogue.interactions, users, tiny_catalogue.item_ids, dataset="t",
                       protocol="temporal", seed=0)
    given = replace(inputs, negatives=(split.train[["user_id", "item_id"]].to_numpy(), split.train_negatives))
    ranker = get_ranker("tup", negative_sampling="fixed")
    ranker.attach(given)
    train = split.train_matrix()
    _, positives, negatives = ranker._training_pairs(train, train, np.random.default_rng(0))  # type: ignore[attr-defined]
    assert negatives.shape == (len(positives), 5)
    expected = train.item_index(split.train_negatives.reshape(-1)).reshape(-1, 5)
    assert sorted(map(tuple, negatives.tolist())) == sorted(map(tuple, expected.tolist()))
    seen = train.matrix.toarray() > 0
    rows = np.repeat(np.arange(train.n_users), np.diff(train.matrix.indptr))
    assert not seen[rows[:, None], negatives].any()  # never an item the user trained on


def test_a_profile_cut_trains_on_the_head_of_each_history_and_the_films_after_it(
    tiny_catalogue: Catalogue, inputs: TextInputs
) -> None:
    data = Interactions.from_catalogue(tiny_catalogue)
    ranker = get_ranker("tup", profile_cut=0.25, **SMALL)
    ranker.attach(inputs)
    head, later = ranker._training_view(data)  # type: ignore[attr-defined]
    for row in range(data.n_users):
        sequence = data.sequence_of(row).tolist()
        n = len(sequence)
        held = min(max(round(0.25 * n), 1), n - 1) if n > 1 else 0
        assert head.sequence_of(row).tolist() == sequence[:n - held]  # the oldest films, in time order
        assert sorted(later.items_of(row).tolist()) == sorted(sequence[n - held:])  # the rest are positives
    users, positives, negatives = ranker._training_pairs(data, later, np.random.default_rng(0))  # type: ignore[attr-defined]
    assert len(positives) == later.nnz and not (data.matrix.toarray()[users[:, None], negatives] > 0).any()
    ranker.fit(data, seed=0)
    fitted_on = ranker.training_profiles[0]  # type: ignore[attr-defined]
    assert not np.allclose(fitted_on, ranker.profile_vectors)  # trained on the heads ...
    # ... and scores with profiles of the whole history
    np.testing.assert_allclose(ranker.profile_vectors, inputs.profile_vectors(data, ranker.kinds))
    assert get_ranker("tup", profile_cut=0.25, cut_positives="all")._training_view(data)[1] is data  # type: ignore[attr-defined]


def test_augmented_training_reads_profiles_of_several_heads(tiny_catalogue: Catalogue, inputs: TextInputs) -> None:
    data = Interactions.from_catalogue(tiny_catalogue)
    ranker = get_ranker("tup", profile_augment=(0.25, 0.5), **SMALL)
    ranker.attach(inputs)
    ranker.fit(data, seed=0)
    versions = ranker.training_profiles  # type: ignore[attr-defined]
    assert versions.shape == (3, *ranker.profile_vectors.shape)  # type: ignore[attr-defined]
    np.testing.assert_allclose(versions[0], ranker.profile_vectors)  # type: ignore[attr-defined]
    for version, cut in zip(versions[1:], (0.25, 0.5), strict=True):
        lengths = np.array([len(data.sequence_of(row)) for row in range(data.n_users)])
        kept = lengths - np.clip(np.rint(cut * lengths), 1, lengths - 1)
        np.testing.assert_allclose(version, inputs.profile_vectors(data.head(kept), ranker.kinds))  # type: ignore[attr-defined]
    assert not np.allclose(versions[1], versions[2])


def test_popularity_weighted_negatives_favour_popular_unseen_films(tiny_catalogue: Catalogue) -> None:
    data = Interactions.from_catalogue(tiny_catalogue)
    matrix = data.matrix.tocsr()
    counts = np.diff(matrix.tocsc().indptr)
    users = np.repeat(np.arange(data.n_users), 400)
    drawn = {power: get_ranker("tup", negative_power=power)._sample(  # type: ignore[attr-defined]
        data, users, np.random.default_rng(0)) for power in (0.0, 1.0)}
    seen = matrix.toarray() > 0
    for negatives in drawn.values():
        assert negatives.shape == (len(users), 5) and not seen[users[:, None], negatives].any()
    uniform, weighted = counts[drawn[0.0]].mean(), counts[drawn[1.0]].mean()
    assert weighted > 1.2 * uniform  # drawn in proportion to count + 1, not uniformly


@pytest.mark.parametrize("switch", [{"weight_average": 0.0}, {"item_bias": True}, {"loss": "softmax"},
                                    {"profile_augment": (0.3,)}, {"negative_power": 0.0},
                                    {"negative_sampling": "fixed"}])
def test_training_switches_change_the_model_and_keep_it_sensible(
    switch: dict, fitted: TemporalProfileRanker, tiny_catalogue: Catalogue, inputs: TextInputs, tmp_path: Path
) -> None:
    data = Interactions.from_catalogue(tiny_catalogue)
    ranker = get_ranker("tup", **SMALL, **switch)
    ranker.attach(inputs)
    ranker.fit(data, seed=0)
    user = np.array([int(data.user_index(1))])
    scores = ranker.score(user)[0]
    assert not np.allclose(scores, fitted.score(user)[0])  # the switch reaches the trained weights
    scifi, comedy = data.item_index(list(SCIFI_ORDER[:3])), data.item_index(list(COMEDY_ORDER[:3]))
    assert scores[scifi].mean() > scores[comedy].mean()  # the sci-fi fan still gets sci-fi first
    ranker.save(tmp_path / "model")
    loaded = TemporalProfileRanker.load(tmp_path / "model")
    loaded.attach(inputs)  # type: ignore[attr-defined]
    np.testing.assert_allclose(loaded.score(user)[0], scores, rtol=1e-5, atol=1e-6)  # the kept weights are saved


def test_texts_are_part_of_the_cache_key_and_required(tiny_catalogue: Catalogue, inputs: TextInputs,
                                                      tmp_path: Path) -> None:
    data = Interactions.from_catalogue(tiny_catalogue)
    with pytest.raises(UserError, match="reads profiles and item texts"):
        fit_or_load("tup", data, cache_dir=tmp_path, seed=0)
    ranker = get_ranker("tup")
    other_texts = replace(inputs, item_texts={i: f"item number {i}" for i in tiny_catalogue.items})
    assert cache_key(ranker, data, 0, inputs=inputs) != cache_key(ranker, data, 0, inputs=other_texts)
    baseline = get_ranker("itemknn")
    assert cache_key(baseline, data, 0, inputs=inputs) == cache_key(baseline, data, 0)  # baselines keep their keys


def test_bench_reports_ablations_and_fusion_weights(tiny_catalogue: Catalogue, inputs: TextInputs,
                                                    tmp_path: Path) -> None:
    frame = tiny_catalogue.interactions.sort_values("file_order", kind="stable")
    users = np.array(sorted(tiny_catalogue.users))
    config = BenchConfig(dataset="tiny", protocol="loo", models=["pop", "tup", "tup_short"], seeds=1,
                         overrides={"tup": SMALL, "tup_short": SMALL})
    results = run_bench(config, frame, users, tiny_catalogue.item_ids, cache_dir=tmp_path, show_progress=False,
                        text_inputs=lambda split: inputs)
    fusion = next(r for r in results["runs"] if r["model"] == "tup")["fusion"]
    assert fusion["users"] == 20 and sum(fusion["histogram_short"]) == 20 and 0 < fusion["mean_short"] < 1
    assert "fusion" not in next(r for r in results["runs"] if r["model"] == "tup_short")
    report = render_markdown(results, "convrec bench --test")
    assert "## LLM-TUP: against the baselines, ablations, fusion weights" in report
    assert "short-term profile only" in report and "tup against pop:" in report
    assert f"{fusion['mean_short']:.3f}" in report
    paths = render_plots(results, tmp_path)
    assert (tmp_path / "fusion_weights.png") in paths and (tmp_path / "fusion_weights.png").stat().st_size > 5000
    with pytest.raises(UserError, match="run it through `convrec bench`"):
        run_bench(config, frame, users, tiny_catalogue.item_ids, cache_dir=tmp_path / "other", show_progress=False)


def test_datasets_without_documents_get_plain_item_texts() -> None:
    import pandas as pd

    from convrec.training.text_inputs import item_text, items_from_table

    table = pd.DataFrame({"item_id": [3, 9], "title": ["Heat", None], "year": pd.array([1995, None], dtype="Int64"),
                          "genres": ["Action|Crime", None]})
    items = items_from_table(table)
    assert items[3].genres == ("Action", "Crime") and items[3].year == 1995
    assert items[9].title == "item 9" and items[9].year is None and items[9].genres == ()
    assert item_text(items[3]) == "Heat (1995). Action and Crime."
    assert item_text(items[9]) == "item 9."
