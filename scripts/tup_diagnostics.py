"""Where LLM-TUP's validation lead goes: how its scores move when the profiles change, beside item-kNN.

Usage: .venv/bin/python scripts/tup_diagnostics.py [--protocol loo|temporal] [--seed 0]
Loads the benchmark's fits from its cache (`convrec bench` with the same protocol and seed; a missing fit is
trained first, minutes on CPU) and prints, as JSON:
- validation NDCG@10 with profiles (and item-kNN's history) from all training rows, and from the training rows
  without each user's last film: does a profile that is one film stale cost LLM-TUP more than item-kNN?
- test NDCG@10 with the profiles it was trained with, and rewritten from train + validation as the benchmark
  does: does rewriting the profiles at test time hurt? A diagnostic only: choose nothing on test numbers.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from convrec.core.data import load_catalogue
from convrec.core.settings import Settings
from convrec.retrieval.documents import document_texts_for
from convrec.training.bench import fit_cached
from convrec.training.bench_inputs import bench_data, bench_text_inputs
from convrec.training.configs import load_params
from convrec.training.evaluate import evaluate, ndcg_validator
from convrec.training.interactions import Interactions
from convrec.training.splits import Split, load_or_make_split


def without_last_film(split: Split) -> Interactions:
    """The training rows less each user's latest one (file order breaks timestamp ties, as the splits do)."""
    rows = split.train.assign(order=np.arange(len(split.train)))
    latest = rows.sort_values(["timestamp", "order"], kind="stable").groupby("user_id").tail(1).index
    return Interactions.from_frame(split.train.drop(index=latest), split.user_ids, split.item_ids)


def main() -> None:
    """Print the validation and test NDCG@10 of LLM-TUP and item-kNN under the profile changes above."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protocol", choices=("loo", "temporal"), default="loo")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = Settings()
    frame, user_ids, item_ids = bench_data(settings, "ml-100k")
    split = load_or_make_split(frame, user_ids, item_ids, dataset="ml-100k", protocol=args.protocol,
                               seed=args.seed, cache_dir=settings.data_dir / "bench" / "splits")
    train, valid, test = split.train_matrix(), split.part("valid"), split.part("test")
    inputs = bench_text_inputs(settings, "ml-100k", item_texts=document_texts_for(load_catalogue(settings)),
                               show_progress=True)(split)
    validate = ndcg_validator(train, valid)
    stale = without_last_film(split)
    history = split.history_for_test()
    report: dict[str, dict[str, float]] = {}
    for name in ("itemknn", "tup"):
        ranker, _ = fit_cached(name, load_params(name, args.protocol, None), split, train, valid,
                               settings.data_dir / "bench" / "models", args.seed, True, inputs)
        row = {"valid, all training rows": validate(ranker)}
        ranker.set_history(stale)
        row["valid, without each user's last training film"] = validate(ranker)
        ranker.set_history(train)
        row["test, profiles as trained"] = evaluate(ranker, history, test,
                                                    item_counts=train.item_counts()).metrics["ndcg@10"]
        ranker.set_history(history)
        row["test, rewritten from train + validation (the benchmark)"] = evaluate(
            ranker, history, test, item_counts=train.item_counts()).metrics["ndcg@10"]
        report[name] = {key: round(float(value), 4) for key, value in row.items()}
    print(json.dumps({"protocol": args.protocol, "seed": args.seed, "ndcg@10": report}, indent=2))


if __name__ == "__main__":
    main()
