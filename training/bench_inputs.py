"""What `convrec bench` and the experiment scripts feed the benchmark.

That is a dataset's interactions and ids, and, per split, the texts that text rankers (LLM-TUP) read, built so that no
held-out interaction reaches them.

It lived in the CLI, and scripts imported its private helpers; here it is one tested function each. Item
documents for ML-100K are the retrieval index's template, which `training/` may not import (the arrows run
agent -> retrieval/training -> core): the caller passes the builder (`ItemTexts`), and ML-100K requires it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from convrec.core.catalogue import Catalogue, Item
from convrec.core.data import load_catalogue
from convrec.core.datasets import load_dataset
from convrec.core.encoder import load_encoder
from convrec.core.settings import Settings

from .bench import TextInputsFor
from .splits import Split
from .text_inputs import TextInputs, items_from_table

ML_100K = "ml-100k"

# Item id -> document text for a catalogue whose held-out rows are removed (retrieval.documents' template).
ItemTexts = Callable[[Catalogue], Mapping[int, str]]


def bench_data(settings: Settings, dataset: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Interactions (file order within each user's time ties), user ids and item ids of a dataset."""
    if dataset == ML_100K:
        catalogue = load_catalogue(settings)
        frame = catalogue.interactions.sort_values("file_order", kind="stable")
        return frame, np.array(sorted(catalogue.users), dtype=np.int64), np.asarray(catalogue.item_ids)
    loaded = load_dataset(dataset, settings.data_dir)
    return loaded.interactions, loaded.user_ids, loaded.item_ids


def held_out_pairs(split: Split, interactions: pd.DataFrame | None = None) -> set[tuple[int, int]]:
    """The (user_id, item_id) pairs item texts must not count.

    They are the split's validation and test rows and, given every interaction, each one the split keeps out of
    training (the cold-start protocol drops new items' ratings and cold users' later ones, which no part holds).
    """
    pairs = {(int(u), int(i)) for frame in (split.valid, split.test)
             for u, i in zip(frame["user_id"], frame["item_id"], strict=True)}
    if interactions is not None:
        train = set(zip(split.train["user_id"].astype(int), split.train["item_id"].astype(int), strict=True))
        pairs |= {(int(u), int(i)) for u, i in zip(interactions["user_id"], interactions["item_id"], strict=True)
                  if (int(u), int(i)) not in train}
    return pairs


def bench_text_inputs(settings: Settings, dataset: str, *, item_texts: ItemTexts | None = None,
                      show_progress: bool = False, cache_dir: Path | None = None) -> TextInputsFor:
    """Give text rankers, per split, item texts built only from that split's training rows.

    ML-100K items get `item_texts` of a catalogue without the split's validation and test interactions, so
    audience counts in a document never include held-out ratings. Other datasets get title, year and genres.
    Built lazily: baselines never pay for it.
    """
    if dataset == ML_100K and item_texts is None:
        raise ValueError("ML-100K text inputs need `item_texts` (the retrieval documents' builder)")
    folder = cache_dir or settings.data_dir / "text"

    @cache
    def source() -> tuple[Catalogue | None, Mapping[int, Item], pd.DataFrame]:
        if dataset == ML_100K:
            catalogue = load_catalogue(settings)
            return catalogue, catalogue.items, catalogue.interactions
        loaded = load_dataset(dataset, settings.data_dir)
        return None, items_from_table(loaded.items), loaded.interactions

    def inputs_for(split: Split) -> TextInputs:
        catalogue, items, ratings = source()
        texts: Mapping[int, str] = {}
        if catalogue is not None and item_texts is not None:
            texts = item_texts(catalogue.without(held_out_pairs(split, ratings)))
        negatives = None
        if split.train_negatives is not None:
            negatives = (split.train[["user_id", "item_id"]].to_numpy(), split.train_negatives)
        return TextInputs(items, ratings, dict(texts), load_encoder(settings.encoder_path), folder,
                          negatives=negatives, show_progress=show_progress, catalogue=catalogue)

    return inputs_for
