"""The offline benchmark: every ranker on identical saved splits, every metric, several seeds.

`run_bench` fits (or loads from the content-hash cache) each model per seed with early stopping on
validation NDCG@10, evaluates full ranking on test with the train+validation history masked, adds the
cold-start-user, head-item, tail-item and (for `coldstart`) new-item slices and, for leave-one-out, the
sampled 1+100 protocol as a secondary table, pairs every model with the reference baselines user by user (a
bootstrap interval of the gap), and returns one JSON-able document. `bench_report` turns it into Markdown and
plots.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from convrec.core.errors import UserError
from convrec.core.hashing import content_hash

from .configs import load_params
from .evaluate import Evaluation, evaluate, evaluate_sampled, ndcg_validator
from .interactions import Interactions
from .metrics import KS
from .rankers import REGISTRY
from .rankers.base import META_FILE, Ranker, cache_key, fit_or_load, get_ranker
from .rankers.profiled import ProfileRanker
from .rankers.torch_common import TorchRanker, pick_device
from .resources import measure
from .significance import BASELINES, METRICS, paired_difference
from .splits import PROTOCOLS, Split, load_or_make_split
from .text_inputs import TextInputs

log = logging.getLogger(__name__)

COLD_START_SHARE = 0.2  # users with the fewest training interactions
HEAD_SHARE = 0.2  # the most popular items by training count; the rest are the tail
QUICK_OVERRIDES = {"epochs": 3, "eval_every": 1, "patience": 2}
FUSION_BINS = 20
# `coldstart` validates like leave-one-out (one second-last item per warm user), so it trains with loo's settings
CONFIG_PROTOCOL = {"coldstart": "loo"}
PerUser = dict[tuple[str, int], dict[str, np.ndarray]]  # (model, seed) -> metric -> per-user test values
TextInputsFor = Callable[[Split], TextInputs]


@dataclass
class BenchConfig:
    """What to run: one dataset, one protocol, some models, some seeds."""

    dataset: str
    protocol: str
    models: list[str]
    seeds: int = 3
    quick: bool = False
    sampled: bool = True
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    def validate(self) -> None:
        """Reject unknown protocols and models with the valid choices listed."""
        if self.protocol not in PROTOCOLS:
            raise UserError(f"unknown protocol {self.protocol!r}; choose one of: {', '.join(PROTOCOLS)}")
        unknown = [m for m in self.models if m not in REGISTRY]
        if unknown:
            raise UserError(f"unknown model(s) {', '.join(unknown)}; choose from: {', '.join(sorted(REGISTRY))}")
        if self.seeds < 1:
            raise UserError("--seeds must be at least 1")


def model_params(name: str, config: BenchConfig) -> dict[str, Any]:
    """Config-file params for this protocol, with quick-mode and explicit overrides applied."""
    protocol = CONFIG_PROTOCOL.get(config.protocol, config.protocol)
    params = load_params(name, protocol, config.overrides.get(name))
    if config.quick:
        fields = get_ranker(name).Params.model_fields
        params.update({k: v for k, v in QUICK_OVERRIDES.items() if k in fields})
    return params


def fit_cached(name: str, params: dict[str, Any], split: Split, train: Interactions, valid: Interactions,
               cache_dir: Path, seed: int, show_progress: bool,
               inputs: TextInputs | None = None) -> tuple[Ranker, dict[str, Any]]:
    """Fit with early stopping, or load the identical fit from cache with the cost it had when fitted."""
    ranker = get_ranker(name, **params)
    folder = cache_dir / f"{name}-{cache_key(ranker, train, seed, valid.fingerprint(), inputs)}"
    timing_file = folder / "fit_cost.json"
    if (folder / META_FILE).is_file() and timing_file.is_file():
        loaded = type(ranker).load(folder)
        if inputs is not None:
            loaded.attach(inputs)
        return loaded, {**json.loads(timing_file.read_text()), "cached": True}
    validate = ndcg_validator(train, valid)
    with measure() as usage:
        fitted = fit_or_load(name, train, cache_dir=cache_dir, seed=seed, params=params, show_progress=show_progress,
                             validate=validate, validation_key=valid.fingerprint(), inputs=inputs)
    cost = {"train_seconds": round(usage.seconds, 2), "peak_rss_mb": usage.peak_rss_mb,
            "peak_cuda_mb": usage.peak_cuda_mb, "best_epoch": best_epoch(fitted)}
    if isinstance(fitted, TorchRanker):
        trainable, total = fitted.parameter_counts()
        cost.update(epochs=fitted.epochs_trained, trainable_parameters=trainable, parameters=total,
                    fit_seconds=round(fitted.fit_seconds, 2))
    if folder.is_dir():
        timing_file.write_text(json.dumps(cost))
    return fitted, {**cost, "cached": False}


def best_epoch(ranker: Ranker) -> int | None:
    """The epoch early stopping kept, for rankers that train in epochs (None otherwise)."""
    found = getattr(ranker, "best_epoch", None)
    if found is None:
        found = getattr(getattr(ranker, "stopping", None), "best_epoch", None)
    return int(found) if found is not None and found >= 0 else None


def slice_masks(split: Split, train: Interactions, evaluation: Evaluation) -> dict[str, np.ndarray]:
    """Cold-start users among the evaluated ones, as a mask over `evaluation.users`.

    A split that names its cold-start users (`coldstart`) is sliced on exactly those; otherwise they are the
    users with the fewest training interactions (the bottom share).
    """
    if split.cold_users is not None:
        return {"cold_start_users": np.isin(split.user_ids[evaluation.users], split.cold_users)}
    counts = np.diff(train.matrix.indptr)[evaluation.users]
    if len(counts) == 0:
        return {"cold_start_users": np.zeros(0, dtype=bool)}
    threshold = np.quantile(counts, COLD_START_SHARE)
    return {"cold_start_users": counts <= threshold}


def head_columns(train: Interactions) -> np.ndarray:
    """Column positions of the popular head: the top `HEAD_SHARE` of items by training count (ties by position).

    An item with no training rating is never head, even where fewer items than the share have any (tiny data):
    a new item must not count as popular because of its position.
    """
    counts = train.item_counts()
    n_head = max(1, int(round(HEAD_SHARE * len(counts))))
    top = np.argsort(-counts, kind="stable")[:n_head]
    return top[counts[top] > 0]


def targets_within(test: Interactions, columns: np.ndarray, *, keep: bool = True) -> Interactions:
    """Test interactions whose item column is in `columns` (or, with `keep=False`, outside them)."""
    inside = np.zeros(test.matrix.shape[1], dtype=bool)
    inside[np.asarray(columns, dtype=np.int64)] = True
    wanted = inside if keep else ~inside
    matrix = test.matrix.multiply(wanted[None, :].astype(test.matrix.dtype)).tocsr()
    matrix.eliminate_zeros()
    return Interactions(matrix, test.user_ids, test.item_ids)


def tail_targets(train: Interactions, test: Interactions) -> Interactions:
    """Test interactions whose item is outside the popular head (top share by training count)."""
    return targets_within(test, head_columns(train), keep=False)


NEW_ITEM_K = 100
"""New items are also scored at 100: no model ranks many of them into a top 10 of 1,682 films, and Recall@100 still
tells a model that places them above most of the catalogue from one that cannot (popularity puts them last)."""


def slice_targets(split: Split, train: Interactions, test: Interactions) -> dict[str, Interactions]:
    """The item slices' test interactions: head, tail and (when the split removed some) new items.

    New items have no training rating, so they sit in the tail too: the tail slice is "least popular 80%" as
    in every protocol, and the new-item slice isolates what no ID embedding or count can know.
    """
    head = head_columns(train)
    targets = {"head_items": targets_within(test, head), "tail_items": targets_within(test, head, keep=False)}
    if split.new_items is not None:
        targets["new_items"] = targets_within(test, np.flatnonzero(np.isin(split.item_ids, split.new_items)))
    return targets


def slice_metrics(ranker: Ranker, split: Split, train: Interactions, history: Interactions, test: Interactions,
                  result: Evaluation) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """Metrics of every slice, and how many test users each one holds (so a small slice reads as one)."""
    cold = slice_masks(split, train, result)["cold_start_users"]
    slices = {"cold_start_users": result.subset(cold)}
    users = {"cold_start_users": int(cold.sum())}
    for name, targets in slice_targets(split, train, test).items():
        if targets.nnz:
            ks = (*KS, NEW_ITEM_K) if name == "new_items" and train.n_items >= NEW_ITEM_K else KS
            part = evaluate(ranker, history, targets, ks=ks, item_counts=train.item_counts())
            slices[name], users[name] = part.metrics, len(part.users)
    return slices, users


def run_one(name: str, config: BenchConfig, split: Split, cache_dir: Path, show_progress: bool,
            text_inputs: TextInputsFor | None = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Fit and evaluate one model on one split.

    Returns the metrics, slices, costs, throughput (the results row), and the per-user test values of
    `significance.METRICS` (for the paired comparisons; not stored).
    """
    train, valid, test = split.train_matrix(), split.part("valid"), split.part("test")
    history = split.history_for_test()
    params = model_params(name, config)
    inputs = None
    if REGISTRY[name].needs_text:
        if text_inputs is None:
            raise UserError(f"ranker {name!r} reads item texts and profiles: run it through `convrec bench`")
        inputs = text_inputs(split)
    ranker, cost = fit_cached(name, params, split, train, valid, cache_dir, split.seed, show_progress, inputs)
    fusion = fusion_summary(ranker)  # weights from the training-history profiles the model was fitted with
    ranker.set_history(history)
    started = time.perf_counter()
    result = evaluate(ranker, history, test, item_counts=train.item_counts())
    seconds = time.perf_counter() - started
    row: dict[str, Any] = {
        "model": name, "seed": split.seed, "params": ranker.params(), **cost,
        "eval_seconds": round(seconds, 2), "users_per_second": round(len(result.users) / max(seconds, 1e-9), 1),
        "metrics": result.metrics,
    }
    row["slices"], row["slice_users"] = slice_metrics(ranker, split, train, history, test, result)
    if config.sampled and config.protocol == "loo":
        row["sampled"] = evaluate_sampled(ranker, history, test, negatives=100, seed=split.seed)
    if fusion is not None:
        row["fusion"] = fusion
    return row, {metric: result.per_user[metric] for metric in METRICS}


def compare(per_user: PerUser, models: list[str], seeds: int) -> dict[str, dict[str, dict[str, Any]]]:
    """Model -> baseline -> metric -> the paired bootstrap gap (`significance.paired_difference`).

    Every model of one seed is evaluated on the same test users in the same order (the split's), so the
    per-user values pair up directly.
    """
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for baseline in [b for b in BASELINES if b in models]:
        # a baseline is paired only with the baselines listed before it (bpr against itemknn, not both ways)
        for model in [m for m in models if m != baseline and not (
                m in BASELINES and BASELINES.index(m) < BASELINES.index(baseline))]:
            gaps = {metric: paired_difference([per_user[model, s][metric] for s in range(seeds)],
                                              [per_user[baseline, s][metric] for s in range(seeds)])
                    for metric in METRICS}
            out.setdefault(model, {})[baseline] = {
                metric: {key: round(value, 6) if isinstance(value, float) else value for key, value in gap.items()}
                for metric, gap in gaps.items() if gap is not None}
    return out


def fusion_summary(ranker: Ranker) -> dict[str, Any] | None:
    """Per-user attention weight on the short-term profile (LLM-TUP with both profiles): quantiles, histogram."""
    if not isinstance(ranker, ProfileRanker) or len(ranker.kinds) != 2:
        return None
    short = ranker.fusion_weights()[ranker.profiled_users(), 0]
    counts, _ = np.histogram(short, bins=FUSION_BINS, range=(0.0, 1.0))
    quantiles = np.quantile(short, [0.1, 0.25, 0.5, 0.75, 0.9]) if len(short) else np.zeros(5)
    return {"users": int(len(short)), "mean_short": round(float(short.mean()), 4) if len(short) else None,
            "quantiles_short": {q: round(float(v), 4) for q, v in zip(("p10", "p25", "p50", "p75", "p90"),
                                                                         quantiles, strict=True)},
            "histogram_short": counts.tolist(), "share_short_led": round(float((short > 0.5).mean()), 4)
            if len(short) else None}


def run_bench(config: BenchConfig, frame: pd.DataFrame, user_ids: np.ndarray, item_ids: np.ndarray, *,
              cache_dir: Path, show_progress: bool = True,
              text_inputs: TextInputsFor | None = None) -> dict[str, Any]:
    """Run every model on every seed's split; return the results document (see results.json).

    `text_inputs(split)` gives text rankers (LLM-TUP) their item texts and profile writer for one split; the
    caller builds it because item documents come from `retrieval/`.
    """
    config.validate()
    runs = []
    per_user: PerUser = {}
    splits_info = []
    jobs = [(seed, name) for seed in range(config.seeds) for name in config.models]
    bar = tqdm(jobs, desc="bench", unit="fit", disable=not show_progress)
    split_cache: dict[int, Split] = {}
    for seed, name in bar:
        if seed not in split_cache:
            split_cache[seed] = load_or_make_split(frame, user_ids, item_ids, dataset=config.dataset,
                                                   protocol=config.protocol, seed=seed, cache_dir=cache_dir / "splits")
            splits_info.append({"seed": seed, **split_cache[seed].counts()})
        bar.set_postfix_str(f"{name} seed {seed}")
        row, per_user[name, seed] = run_one(name, config, split_cache[seed], cache_dir / "models", show_progress,
                                            text_inputs)
        runs.append(row)
    return {
        "dataset": config.dataset, "protocol": config.protocol, "models": config.models, "seeds": config.seeds,
        "quick": config.quick, "splits": splits_info, "runs": runs, "summary": summarise(runs),
        "comparisons": compare(per_user, config.models, config.seeds),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {device_name()}, Python {platform.python_version()}",
        "data_fingerprint": content_hash(np.ascontiguousarray(frame[["user_id", "item_id", "timestamp"]].to_numpy(
            dtype=np.int64)).tobytes()),
    }


def device_name() -> str:
    """The device the neural rankers train on here ("cpu" or the CUDA device name)."""
    device = pick_device()
    if device.type == "cuda":
        import torch

        return f"cuda ({torch.cuda.get_device_name(device)})"
    return "cpu"


def summarise(runs: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Mean and standard deviation over seeds of every metric, slice metric and cost, per model."""
    by_model: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_model.setdefault(run["model"], []).append(run)
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for model, model_runs in by_model.items():
        values: dict[str, list[float]] = {}
        for run in model_runs:
            flat = {**run["metrics"], "train_seconds": run["train_seconds"], "users_per_second":
                    run["users_per_second"], "peak_rss_mb": run["peak_rss_mb"]}
            for slice_name, metrics in run.get("slices", {}).items():
                flat.update({f"{slice_name}/{k}": v for k, v in metrics.items()})
            flat.update({f"sampled/{k}": v for k, v in run.get("sampled", {}).items()})
            for key, value in flat.items():
                if value is not None:
                    values.setdefault(key, []).append(float(value))
        summary[model] = {key: {"mean": float(np.mean(v)), "std": float(np.std(v)), "n": len(v)}
                          for key, v in values.items()}
    return summary
