"""What GRU4Rec and SASRec share: training windows, the next-item training loop, history and persistence.

Both models read a user's items in time order (item column + 1, so id 0 is padding) and predict the next
one with a softmax over every item (cross-entropy, the form RecBole trains them in). Sequences are
*left*-padded to `max_seq_length`, so the newest item always sits in the last position: scoring reads the
last position, and the encoders are built so that leading padding cannot change what follows it.

Training windows. RecBole turns every prefix of a training sequence into one sample (its last
`max_seq_length` items -> the next item): about 98k samples of 50 positions per epoch on ML-100K, of which
only the last position carries a loss. A causal encoder gives the prediction after *every* position at
once, so here a window of `max_seq_length` positions carries the loss of its last `train_stride` targets
(earlier windows, `train_stride` apart, carry the rest). Every prefix is still trained exactly once per
epoch, each with at least `max_seq_length - train_stride + 1` items of context where the user has them:
`train_stride=1` is RecBole's augmentation exactly; `train_stride=max_seq_length` (the default) is the
non-overlapping all-position training of Kang & McAuley's SASRec and of GRU4Rec's session-parallel
mini-batches. On ML-100K leave-one-out both train the same 97,162 targets an epoch, but stride 1 encodes
3.8M positions and stride 50 only 97k: measured on 2 busy cores, 133 s against 4 s an epoch for GRU4Rec,
333 s against 6 s for SASRec.

The epoch loop, early stopping and thread handling are `torch_common.fit_epochs`'s; a subclass supplies its
network (`<model>_net.py`) and its Params.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

import numpy as np
from pydantic import Field, model_validator

from ..interactions import Interactions
from .base import RankerParams, Validator, as_positions
from .torch_common import (
    FitContext,
    TorchParams,
    TorchRanker,
    Training,
    batch_slices,
    pick_device,
    seeded,
    torch_threads,
    train_batches,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

log = logging.getLogger(__name__)

# Users encoded per forward pass when scoring. Every pass is padded to exactly this many rows, so a
# user's scores never depend on which other users were scored with them (BLAS picks kernels by shape).
SCORE_BATCH = 64
STATE_PREFIX = "model."


class SequentialParams(TorchParams):
    """Hyper-parameters every sequential ranker has (optimiser and training windows) beside `TorchParams`'."""

    lr: float = Field(gt=0, description="Adam learning rate")
    weight_decay: float = Field(ge=0, description="Adam L2 penalty")
    max_seq_length: int = Field(ge=1, description="most recent items the encoder reads")
    train_stride: int = Field(ge=1, description="targets with a loss per training window")

    @model_validator(mode="after")
    def _stride_fits_window(self) -> Self:
        if self.train_stride > self.max_seq_length:
            raise ValueError(f"train_stride ({self.train_stride}) must not exceed max_seq_length "
                             f"({self.max_seq_length})")
        return self


def training_windows(sequences: tuple[np.ndarray, ...], max_len: int, stride: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Cut each sequence of columns into left-padded (inputs, targets) windows of item ids (column + 1).

    `targets[w, j]` is the item that follows `inputs[w, j]`, or 0 (no loss) where it is padding or is
    trained by another window. Windows end `stride` targets apart, newest first.
    """
    offsets = np.arange(max_len)
    inputs, targets = [], []
    for columns in sequences:
        ids = np.asarray(columns, dtype=np.int64) + 1
        if len(ids) < 2:
            continue
        ends = np.arange(len(ids) - 1, 0, -stride)  # index of each window's last target
        source = ends[:, None] - max_len + offsets[None, :]  # index of each input position
        present = source >= 0
        inputs.append(np.where(present, ids[np.clip(source, 0, None)], 0))
        owned = present & (offsets[None, :] >= max_len - stride)
        targets.append(np.where(owned, ids[np.clip(source + 1, 0, None)], 0))
    if not inputs:
        return np.zeros((0, max_len), dtype=np.int64), np.zeros((0, max_len), dtype=np.int64)
    return np.concatenate(inputs), np.concatenate(targets)


def pad_left(sequences: list[np.ndarray], max_len: int) -> np.ndarray:
    """Stack the last `max_len` columns of each sequence as item ids (column + 1), left-padded with 0."""
    out = np.zeros((len(sequences), max_len), dtype=np.int64)
    for row, columns in enumerate(sequences):
        tail = np.asarray(columns, dtype=np.int64)[-max_len:] if max_len else np.zeros(0, dtype=np.int64)
        if len(tail):
            out[row, max_len - len(tail):] = tail + 1
    return out


class SequentialRanker(TorchRanker):
    """A next-item encoder over left-padded item-id sequences, scored against its own item embeddings.

    Subclasses set `Params` and build the torch module: `module(seqs)` maps (B, L) item ids to (B, L, d)
    hidden states, one per position, each seeing only positions up to itself, and `module.item_embedding`
    holds the (n_items + 1, d) item table whose rows 1.. are the output vectors (tied weights).
    """

    Params: ClassVar[type[RankerParams]] = SequentialParams

    def __init__(self, **params: Any) -> None:
        """Start unfitted; `fit` or `load` builds the network and the history sequences."""
        super().__init__(**params)
        self.hparams: SequentialParams
        self.module: nn.Module | None = None
        self.history: tuple[np.ndarray, ...] = ()

    @abstractmethod
    def _build(self, n_items: int) -> nn.Module:
        """Return a freshly initialised network for `n_items` items (plus the padding id 0)."""

    # ----- training --------------------------------------------------------------------------------
    def fit(self, data: Interactions, *, seed: int, show_progress: bool = False,
            validate: Validator | None = None) -> Self:
        """Train next-item cross-entropy on every prefix of each user's time-ordered sequence.

        `fit_epochs` validates, keeps the best weights and stops early (see `TorchParams`); batches are
        shuffled by a torch generator seeded with `seed`.
        """
        hp = self.hparams
        self.history = require_sequences(data)
        inputs, targets = training_windows(self.history, hp.max_seq_length, hp.train_stride)

        def setup(context: FitContext) -> Training:
            import torch

            module = self._build(data.n_items).to(context.device)
            self.module = module
            optimizer = torch.optim.Adam(module.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
            x_all, y_all = torch.from_numpy(inputs), torch.from_numpy(targets)

            def batch_loss(batch: torch.Tensor) -> tuple[torch.Tensor, int]:
                x, y = _trim(x_all[batch], y_all[batch])
                return self._loss(module, x.to(context.device), y.to(context.device))

            def train_epoch(epoch: int) -> float:
                order = torch.randperm(len(x_all), generator=context.generator)
                return train_batches(optimizer, (order[s] for s in batch_slices(len(order), hp.batch_size)),
                                     batch_loss)

            return Training(network=module, train_epoch=train_epoch)

        self._fit_epochs(setup, seed=seed, show_progress=show_progress, validate=validate)
        return self

    @staticmethod
    def _loss(module: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Cross-entropy of each target (y > 0) over every item, and the number of targets.

        The logits are the hidden state after each position against the item table (tied output vectors).
        """
        import torch.nn.functional as F  # noqa: N812

        has_target = y > 0
        hidden = module(x)[has_target]  # (targets in batch, d)
        logits = hidden @ _item_embedding(module).weight[1:].T
        return F.cross_entropy(logits, y[has_target] - 1), len(logits)

    # ----- scoring ---------------------------------------------------------------------------------
    def set_history(self, data: Interactions) -> None:
        """Encode users from `data`'s time-ordered rows from now on (e.g. train plus validation at test)."""
        fitted_items = None if self.module is None else _item_embedding(self.module).num_embeddings - 1
        if fitted_items is not None and data.n_items != fitted_items:
            raise ValueError(f"the history has {data.n_items} item columns, the model was fitted on {fitted_items}")
        self.history = require_sequences(data)

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Logits of each item as the next one after the user's current history (its last items)."""
        self._require_fitted()
        rows = np.asarray(users, dtype=np.int64).reshape(-1)
        return self._logits([self.history[row] for row in rows], items)

    def score_history(
        self, history: np.ndarray, items: np.ndarray | None = None, weights: np.ndarray | None = None
    ) -> np.ndarray:
        """Logits after the given columns, read as a sequence in the given order; `weights` are ignored.

        A sequence model has no notion of how much a film was liked, only of what came in which order.
        """
        self._require_fitted()
        return self._logits([np.asarray(history, dtype=np.int64).reshape(-1)], items)[0]

    def _logits(self, sequences: list[np.ndarray], items: np.ndarray | None) -> np.ndarray:
        import torch

        module = self._require_module()
        table = _item_embedding(module).weight[1:]
        columns = as_positions(items, table.shape[0])
        out = np.empty((len(sequences), len(columns)), dtype=np.float32)
        device = table.device
        was_training = module.training
        module.eval()
        with torch.no_grad(), torch_threads(self.hparams):
            for start in range(0, len(sequences), SCORE_BATCH):
                chunk = sequences[start:start + SCORE_BATCH]
                seqs = pad_left(chunk + [np.zeros(0, dtype=np.int64)] * (SCORE_BATCH - len(chunk)),
                                self.hparams.max_seq_length)
                last = module(torch.from_numpy(seqs).to(device))[:, -1]
                logits = (last @ table.T)[: len(chunk)]  # every item, then pick: same shapes every call
                out[start:start + len(chunk)] = logits.cpu().numpy()[:, columns]
        module.train(was_training)
        return out

    def _require_module(self) -> nn.Module:
        self._require_fitted()
        if self.module is None:
            raise RuntimeError(f"{type(self).__name__} has no network")
        return self.module

    # ----- persistence -----------------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        module = self._require_module()
        state = {f"{STATE_PREFIX}{key}": value.detach().cpu().numpy().astype(np.float32)
                 for key, value in module.state_dict().items()}
        return {**state, **history_arrays(self.history)}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        import torch

        state = {key[len(STATE_PREFIX):]: torch.from_numpy(np.array(value))
                 for key, value in arrays.items() if key.startswith(STATE_PREFIX)}
        n_items = int(state["item_embedding.weight"].shape[0]) - 1
        with seeded(0):  # the throw-away initialisation must not draw from the caller's random stream
            module = self._build(n_items)
        module.load_state_dict(state)
        self.module = module.to(pick_device(self.hparams.device)).eval()
        self.history = history_from_arrays(arrays)


def history_arrays(history: tuple[np.ndarray, ...]) -> dict[str, np.ndarray]:
    """Every user's item columns as two flat arrays (items, offsets) a saved model can hold without pickle."""
    lengths = np.array([len(s) for s in history], dtype=np.int64)
    flat = np.concatenate([np.asarray(s, dtype=np.int64) for s in history] or [np.zeros(0, np.int64)])
    return {"history_items": flat, "history_offsets": np.r_[0, np.cumsum(lengths)].astype(np.int64)}


def history_from_arrays(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """The histories `history_arrays` flattened."""
    flat, offsets = arrays["history_items"], arrays["history_offsets"]
    return tuple(flat[offsets[i]:offsets[i + 1]].astype(np.int64) for i in range(len(offsets) - 1))


def _item_embedding(module: nn.Module) -> nn.Embedding:
    """The (n_items + 1, d) item table every sequential network holds; rows 1.. are its output vectors."""
    return cast("nn.Embedding", module.item_embedding)


def _trim(inputs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop the leading columns that are padding in every row (exact: leading padding changes nothing)."""
    first = int((inputs != 0).any(dim=0).to(dtype=inputs.dtype).argmax())
    return inputs[:, first:], targets[:, first:]


def require_sequences(data: Interactions) -> tuple[np.ndarray, ...]:
    """The time-ordered item columns of every user (an error when `data` was built without timestamps)."""
    if data.sequences is None:
        raise ValueError("sequential rankers need time-ordered interactions (build them from a frame with "
                         "timestamps)")
    return tuple(np.asarray(s, dtype=np.int64) for s in data.sequences)

