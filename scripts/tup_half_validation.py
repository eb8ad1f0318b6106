"""How much of LLM-TUP's best validation score is luck: pick the epoch on half the users, score the other half.

Usage: .venv/bin/python scripts/tup_half_validation.py [--protocol loo|temporal] [--seed 0] [--set JSON]
                                                        [--rewritten]
Fits LLM-TUP (minutes on CPU; nothing is cached) with early stopping on the validation users of even rows
(half A) and records, every epoch, the NDCG@10 of the odd rows (half B). Printed as JSON: the epoch chosen on
A, A's score there, B's score at that epoch (an unbiased estimate of what the chosen model is worth) and both
curves. A model whose score jumps about between epochs shows a high A and a lower B: the best epoch was partly
chance. `--set '{"weight_average": 0}'` overrides `training/configs/tup.yaml` (here: weight averaging off).

`--rewritten` makes validation look like the test: at test time LLM-TUP's profiles are rewritten from train plus
validation, a longer history than the one it was trained on, while plain validation scores with the very
profiles it trained on. Here the network trains on the head of each training history (as many films off its
end as the user has validation films) and is validated with profiles rewritten from the whole training history.
Validation only: the test split is never read.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from convrec.core.data import load_catalogue
from convrec.core.settings import Settings
from convrec.retrieval.documents import document_texts_for
from convrec.training.bench_inputs import bench_data, bench_text_inputs
from convrec.training.configs import load_params
from convrec.training.evaluate import evaluate
from convrec.training.interactions import Interactions
from convrec.training.rankers import Ranker, get_ranker
from convrec.training.splits import load_or_make_split


class HalfValidator:
    """Validation NDCG@10 of half A (returned: early stopping reads it) and half B (recorded) per call."""

    def __init__(self, train: Interactions, valid: Interactions) -> None:
        self.train, self.valid = train, valid
        self.curves: list[tuple[float, float]] = []

    def __call__(self, ranker: Ranker) -> float:
        """Score both halves, record them, and return half A's NDCG@10 for early stopping."""
        scored = evaluate(ranker, self.train, self.valid, ks=(10,))
        values, rows = scored.per_user["ndcg@10"], scored.users
        a, b = float(values[rows % 2 == 0].mean()), float(values[rows % 2 == 1].mean())
        self.curves.append((a, b))
        return a


class RewrittenValidator(HalfValidator):
    """`HalfValidator` scoring with profiles written from `train` while the network trains on shorter heads."""

    def __init__(self, train: Interactions, valid: Interactions) -> None:
        super().__init__(train, valid)
        self.rewritten: np.ndarray | None = None

    def __call__(self, ranker: Ranker) -> float:
        """Score with the profiles rewritten from `train` swapped in, then restore the trained ones."""
        if self.rewritten is None:
            self.rewritten = ranker.inputs.profile_vectors(self.train, ranker.kinds)  # type: ignore[attr-defined]
        trained, ranker.profile_vectors = ranker.profile_vectors, self.rewritten  # type: ignore[attr-defined]
        try:
            return super().__call__(ranker)
        finally:
            ranker.profile_vectors = trained  # type: ignore[attr-defined]


def without_validation_sized_tail(train: Interactions, valid: Interactions) -> Interactions:
    """Each user's training history less its last n films, n the user's validation count (one film kept)."""
    lengths = np.array([len(train.sequence_of(row)) for row in range(train.n_users)])
    held = np.asarray(valid.matrix.sum(axis=1)).reshape(-1).astype(np.int64)
    return train.head(np.where(lengths > 1, np.maximum(lengths - held, 1), lengths))


def main() -> None:
    """Fit once with the halves split and print the chosen epoch's scores on both."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protocol", choices=("loo", "temporal"), default="loo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", default="{}", help="JSON object of LLM-TUP parameters to override")
    parser.add_argument("--rewritten", action="store_true",
                        help="train on shorter heads, validate with profiles rewritten from all of train")
    args = parser.parse_args()
    try:
        overrides = json.loads(args.set)
    except json.JSONDecodeError as exc:
        parser.error(f"--set is not JSON: {exc}")
    settings = Settings()
    frame, user_ids, item_ids = bench_data(settings, "ml-100k")
    split = load_or_make_split(frame, user_ids, item_ids, dataset="ml-100k", protocol=args.protocol,
                               seed=args.seed, cache_dir=settings.data_dir / "bench" / "splits")
    train, valid = split.train_matrix(), split.part("valid")
    ranker = get_ranker("tup", **load_params("tup", args.protocol, overrides))
    ranker.attach(bench_text_inputs(settings, "ml-100k", item_texts=document_texts_for(load_catalogue(settings)),
                               show_progress=True)(split))  # type: ignore[attr-defined]
    validator = (RewrittenValidator if args.rewritten else HalfValidator)(train, valid)
    fitted_on = without_validation_sized_tail(train, valid) if args.rewritten else train
    ranker.fit(fitted_on, seed=args.seed, show_progress=True, validate=validator)
    a_curve, b_curve = (np.array(curve) for curve in zip(*validator.curves, strict=True))
    chosen = int(np.argmax(a_curve))  # the first best, as early stopping keeps it
    print(json.dumps({
        "protocol": args.protocol, "seed": args.seed, "overrides": overrides, "rewritten": args.rewritten,
        "chosen_epoch": chosen + 1,
        "half_a_at_chosen": round(float(a_curve[chosen]), 4), "half_b_at_chosen": round(float(b_curve[chosen]), 4),
        "half_b_best": round(float(b_curve.max()), 4),
        "half_a": [round(float(x), 4) for x in a_curve], "half_b": [round(float(x), 4) for x in b_curve],
    }, indent=1))


if __name__ == "__main__":
    main()
