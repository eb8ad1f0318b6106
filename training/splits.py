"""Train/validation/test splits, deterministic for a seed, saved to disk and reused by every model.

Protocols:
- `loo`: leave-one-out by time. Per user, interactions sorted by timestamp with ties kept in file order; the
  last is test, the second-last validation (users with fewer than 3 keep everything in train). The main table.
- `temporal`: per user, the first 60% by time train, next 20% validation, last 20% test (LLM-TUP's protocol),
  with 5 negatives per training positive sampled from items outside the user's training rows. Not from items
  the user never touched at all: that set leaves out each user's validation and test films, so a model trained
  on such negatives learns which films are *not* held out (split version 1 did that; LLM-TUP's validation
  NDCG@10 on the other half of the users fell from 0.2223 to 0.1771 once it was removed).
- `chrono`: one global time line; the first 80% of all interactions train, next 10% validation, last 10% test
  (DUIP's protocol). Test users may have little or no training history: that is the protocol.
- `random`: per user, a seeded shuffle cut 8:1:1 with RecBole's rounding (`_calcu_split_ids`), the protocol of
  RecBole's BPR reference on ML-100K.
- `coldstart`: leave-one-out, except that a seeded 20% of users (the cold-start users) keep only their 5 earliest
  ratings in training and are tested on the rating right after them (one test item, as in `loo`, so every user's
  metrics are on the same scale and the head/tail/new-item slices partition the test users), and a seeded 10% of
  the rated items (the new items) leave training entirely: their ratings are dropped from train and validation
  (and from a cold user's 5), but a test item that is a new item stays the test item. Cold-start users have no
  validation row (their 5 ratings are all they bring to training); early stopping validates on the other users'
  second-last items, as `loo` does. Ratings that fit none of the parts are dropped; they are not masked at test.

Files are RecBole atomic files (`<dataset>.train.inter`, `.valid.inter`, `.test.inter`), so RecBole itself can
read exactly the same rows (`benchmark_filename`), plus `split.json` with the protocol, seed and counts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from convrec.core.errors import UserError
from convrec.core.hashing import content_hash

from .interactions import Interactions

log = logging.getLogger(__name__)

PROTOCOLS = ("loo", "temporal", "chrono", "random", "coldstart")
PARTS = ("train", "valid", "test")
COLUMNS = ("user_id", "item_id", "rating", "timestamp")
HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float"
SPLIT_VERSION = 2  # 2: temporal negatives drawn from outside the training rows (1: outside all rows)
TEMPORAL_NEGATIVES = 5
COLD_USER_SHARE = 0.2  # `coldstart`: share of users cut down to their first ratings
COLD_USER_KEEP = 5  # `coldstart`: ratings a cold-start user keeps in training
NEW_ITEM_SHARE = 0.1  # `coldstart`: share of rated items removed from training
DROPPED = -1  # row label of a rating that is in no part


@dataclass(frozen=True, eq=False)
class Split:
    """Three disjoint parts of one dataset's interactions over shared user and item id arrays."""

    dataset: str
    protocol: str
    seed: int
    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    user_ids: np.ndarray
    item_ids: np.ndarray
    train_negatives: np.ndarray | None = None  # (len(train), 5) item ids, for the `temporal` protocol
    cold_users: np.ndarray | None = None  # user ids cut to their first ratings (`coldstart`)
    new_items: np.ndarray | None = None  # item ids with no training or validation row (`coldstart`)

    def part(self, name: str) -> Interactions:
        """One part as a matrix over the split's ids (with time-ordered sequences)."""
        return Interactions.from_frame(getattr(self, name), self.user_ids, self.item_ids)

    def train_matrix(self) -> Interactions:
        """What models are fitted on."""
        return self.part("train")

    def history_for_test(self) -> Interactions:
        """Train plus validation: masked at test time and used as history by models that read one."""
        both = pd.concat([self.train, self.valid], ignore_index=True)
        return Interactions.from_frame(both, self.user_ids, self.item_ids)

    def counts(self) -> dict[str, int]:
        """Rows per part and users with a test item (and the cold-start sets' sizes, when there are some)."""
        counts = {"train": len(self.train), "valid": len(self.valid), "test": len(self.test),
                  "test_users": int(self.test["user_id"].nunique()), "users": len(self.user_ids),
                  "items": len(self.item_ids)}
        if self.cold_users is not None:
            counts["cold_users"] = len(self.cold_users)
        if self.new_items is not None:
            counts["new_items"] = len(self.new_items)
        return counts

    def save(self, folder: Path) -> None:
        """Write the atomic files and split.json (via temporary names, so a crash leaves no half split)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in PARTS:
            frame = getattr(self, name)
            target = folder / f"{self.dataset}.{name}.inter"
            lines = [HEADER] + [f"{u}\t{i}\t{r:g}\t{t}" for u, i, r, t in frame[list(COLUMNS)].itertuples(
                index=False)]
            target.with_suffix(".part").write_text("\n".join(lines) + "\n", encoding="utf-8")
            target.with_suffix(".part").replace(target)
        if self.train_negatives is not None:
            np.save(folder / "train_negatives.npy", self.train_negatives, allow_pickle=False)
        meta = {"dataset": self.dataset, "protocol": self.protocol, "seed": self.seed, "version": SPLIT_VERSION,
                "user_ids": self.user_ids.tolist(), "item_ids": self.item_ids.tolist(), "counts": self.counts()}
        if self.cold_users is not None:
            meta["cold_users"] = self.cold_users.tolist()
        if self.new_items is not None:
            meta["new_items"] = self.new_items.tolist()
        (folder / "split.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Split:
        """Read a split that `save` wrote."""
        meta_path = folder / "split.json"
        if not meta_path.is_file():
            raise UserError(f"{folder}: not a saved split (no split.json)")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        parts = {}
        for name in PARTS:
            frame = pd.read_csv(folder / f"{meta['dataset']}.{name}.inter", sep="\t")
            frame.columns = [c.split(":", 1)[0] for c in frame.columns]
            parts[name] = frame.astype({"user_id": "int64", "item_id": "int64", "rating": "float32",
                                        "timestamp": "int64"})
        negatives_path = folder / "train_negatives.npy"
        negatives = np.load(negatives_path, allow_pickle=False) if negatives_path.is_file() else None
        return cls(meta["dataset"], meta["protocol"], int(meta["seed"]), parts["train"], parts["valid"],
                   parts["test"], np.array(meta["user_ids"], dtype=np.int64),
                   np.array(meta["item_ids"], dtype=np.int64), negatives, _optional_ids(meta, "cold_users"),
                   _optional_ids(meta, "new_items"))


def _optional_ids(meta: dict[str, object], key: str) -> np.ndarray | None:
    """An id list split.json holds only for some protocols (None where it is absent)."""
    values = meta.get(key)
    return None if values is None else np.array(values, dtype=np.int64)


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order whatever order the caller had: by user, then time, ties in the given (file) order.

    File order and the catalogue's (user, time, file order) both map to the same canonical frame, so a split
    depends only on the data, the protocol and the seed.
    """
    return frame[list(COLUMNS)].sort_values(["user_id", "timestamp"], kind="stable").reset_index(drop=True)


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort by user, then time, keeping file order within ties (the documented tie-break)."""
    ordered = frame.reset_index(drop=True).copy()
    ordered["_order"] = np.arange(len(ordered))
    return ordered.sort_values(["user_id", "timestamp", "_order"], kind="stable").drop(columns="_order")


def recbole_cut(total: int, ratios: tuple[float, ...]) -> list[int]:
    """Part sizes as RecBole 1.2.1 computes them: all but the first rounded down, tiny parts bumped to 1."""
    counts = [int(r * total) for r in ratios]
    counts[0] = total - sum(counts[1:])
    for i in range(1, len(ratios)):
        if counts[0] <= 1:
            break
        if 0 < ratios[-i] * total < 1:
            counts[-i] += 1
            counts[0] -= 1
    return counts


def _assign_per_user(frame: pd.DataFrame, sizes_for: Callable[[int], Sequence[int]]) -> np.ndarray:
    """Label each row 0/1/2 (train/valid/test) from per-user part sizes over the frame's current order."""
    labels = np.zeros(len(frame), dtype=np.int8)
    users = frame["user_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    ends = np.r_[starts[1:], len(frame)]
    for start, end in zip(starts, ends, strict=True):
        n_train, n_valid, _ = sizes_for(end - start)
        labels[start + n_train:start + n_train + n_valid] = 1
        labels[start + n_train + n_valid:end] = 2
    return labels


def make_split(frame: pd.DataFrame, user_ids: np.ndarray, item_ids: np.ndarray, *, dataset: str, protocol: str,
               seed: int) -> Split:
    """Cut `frame` (user_id, item_id, rating, timestamp in file order) by `protocol`, deterministically."""
    if protocol not in PROTOCOLS:
        raise UserError(f"unknown protocol {protocol!r}; choose one of: {', '.join(PROTOCOLS)}")
    frame = canonical(frame)
    rng = np.random.default_rng(seed)
    negatives = None
    cold_users = new_items = None
    if protocol == "chrono":
        order = np.lexsort((np.arange(len(frame)), frame["timestamp"].to_numpy()))
        ordered = frame.iloc[order].reset_index(drop=True)
        n_train, n_valid, _ = recbole_cut(len(ordered), (0.8, 0.1, 0.1))
        labels = np.r_[np.zeros(n_train), np.ones(n_valid), np.full(len(ordered) - n_train - n_valid, 2)]
    elif protocol == "random":
        shuffled = frame.iloc[rng.permutation(len(frame))]
        ordered = shuffled.sort_values("user_id", kind="stable").reset_index(drop=True)
        labels = _assign_per_user(ordered, lambda n: recbole_cut(n, (0.8, 0.1, 0.1)))
    else:
        ordered = _ordered(frame).reset_index(drop=True)
        if protocol == "loo":
            labels = _assign_per_user(ordered, _loo_sizes)
        elif protocol == "coldstart":
            cold_users, new_items = pick_cold_start(ordered, rng)
            labels = coldstart_labels(ordered, cold_users, new_items)
        else:
            labels = _assign_per_user(ordered, lambda n: recbole_cut(n, (0.6, 0.2, 0.2)))
    parts = [ordered[labels == k].reset_index(drop=True) for k in range(3)]
    if protocol == "temporal":
        negatives = sample_negatives(parts[0], parts[0], item_ids, TEMPORAL_NEGATIVES, rng)
    return Split(dataset, protocol, seed, parts[0], parts[1], parts[2], np.asarray(user_ids, dtype=np.int64),
                 np.asarray(item_ids, dtype=np.int64), negatives, cold_users, new_items)


def _loo_sizes(n: int) -> tuple[int, int, int]:
    """Leave-one-out part sizes: last test, second-last validation; under 3 ratings, all train."""
    return (n - 2, 1, 1) if n >= 3 else (n, 0, 0)


def _share_of(count: int, share: float) -> int:
    """How many of `count` make up `share`, rounded half up (so 20% of 5 users is 1, of 2 users 0)."""
    return int(np.floor(count * share + 0.5))


def pick_cold_start(frame: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The seeded cold-start users and new items, drawn from the users and items that have ratings.

    Drawn from sorted id arrays (users first, then items), so the sets depend only on the data and the seed.
    Items nobody rated are left out of the draw: removing them from training would change nothing.
    """
    users = np.unique(frame["user_id"].to_numpy())
    items = np.unique(frame["item_id"].to_numpy())
    cold = rng.choice(users, size=_share_of(len(users), COLD_USER_SHARE), replace=False)
    new = rng.choice(items, size=_share_of(len(items), NEW_ITEM_SHARE), replace=False)
    return np.sort(cold).astype(np.int64), np.sort(new).astype(np.int64)


def coldstart_labels(ordered: pd.DataFrame, cold_users: np.ndarray, new_items: np.ndarray) -> np.ndarray:
    """Label rows (in user, time order) 0/1/2 (train/valid/test) or DROPPED for the `coldstart` protocol.

    Everyone starts from leave-one-out. A new item's rating leaves train and validation (a test row stays: that
    is what the new-item slice measures). A cold-start user keeps their first `COLD_USER_KEEP` ratings of items
    that are not new, is tested on their next rating (a new item or not) and loses the rest, validation
    included: only what happened before the test item may be trained on.
    """
    labels = _assign_per_user(ordered, _loo_sizes).astype(np.int8)
    users = ordered["user_id"]
    is_new = ordered["item_id"].isin(new_items).to_numpy()
    is_cold = users.isin(cold_users).to_numpy()
    labels[is_new & (labels < 2)] = DROPPED
    usable = pd.Series(~is_new, index=ordered.index, dtype=np.int64)
    kept_through = usable.groupby(users).cumsum().to_numpy()  # usable ratings up to and including this row
    kept_before = kept_through - usable.to_numpy()
    after = pd.Series(is_cold & (kept_before >= COLD_USER_KEEP), index=ordered.index, dtype=np.int64)
    first_after = (after.to_numpy() == 1) & (after.groupby(users).cumsum().to_numpy() == 1)
    labels[is_cold] = DROPPED
    labels[is_cold & ~is_new & (kept_through <= COLD_USER_KEEP)] = 0
    labels[first_after] = 2
    return labels


def sample_negatives(known: pd.DataFrame, rows: pd.DataFrame, item_ids: np.ndarray, per_row: int,
                     rng: np.random.Generator) -> np.ndarray:
    """For each row, `per_row` item ids its user has no row for in `known` (uniform, seeded).

    `known` must hold only what a model may see (the training rows): held-out rows there would leak.
    """
    touched = known.groupby("user_id")["item_id"].agg(lambda s: set(s.tolist())).to_dict()
    out = np.empty((len(rows), per_row), dtype=np.int64)
    for index, user in enumerate(rows["user_id"].to_numpy()):
        seen = touched.get(int(user), set())
        chosen: list[int] = []
        while len(chosen) < per_row:
            candidate = int(item_ids[rng.integers(len(item_ids))])
            if candidate not in seen and candidate not in chosen:
                chosen.append(candidate)
        out[index] = chosen
    return out


def load_or_make_split(frame: pd.DataFrame, user_ids: np.ndarray, item_ids: np.ndarray, *, dataset: str,
                       protocol: str, seed: int, cache_dir: Path) -> Split:
    """Reuse the split saved for exactly this data, protocol and seed; make and save it otherwise."""
    key = content_hash(SPLIT_VERSION, dataset, protocol, seed,
                       np.ascontiguousarray(canonical(frame).to_numpy(dtype=np.float64)).tobytes(),
                       np.asarray(item_ids, dtype=np.int64).tobytes())
    folder = cache_dir / f"{dataset}-{protocol}-seed{seed}-{key}"
    if (folder / "split.json").is_file():
        return Split.load(folder)
    split = make_split(frame, user_ids, item_ids, dataset=dataset, protocol=protocol, seed=seed)
    split.save(folder)
    log.info("Saved %s split (seed %d) to %s: %s", protocol, seed, folder, split.counts())
    return split


def split_folder(cache_dir: Path, split: Split) -> Path:
    """The folder a split was saved to (for scripts that hand the atomic files to another tool)."""
    matches = sorted(cache_dir.glob(f"{split.dataset}-{split.protocol}-seed{split.seed}-*"))
    if not matches:
        raise UserError(f"no saved {split.protocol} split with seed {split.seed} under {cache_dir}")
    return matches[-1]
