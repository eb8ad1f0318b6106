"""BPR-MF: matrix factorisation trained with the Bayesian Personalised Ranking loss.

Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit Feedback" (UAI 2009). Each user and item
gets a vector; the score is their dot product. Training maximises log sigmoid(s(u, i) - s(u, j)) over
triples of a user, an item they interacted with and an item they did not (one uniformly sampled negative
per positive, drawn afresh every epoch), with Adam. `training/configs/bpr.yaml` follows RecBole 1.2.1's BPR
(embedding 64, Xavier-normal initialisation, lr 1e-3, batch 2048, no weight decay, up to 300 epochs).

LightGCN (lightgcn.py) subclasses this ranker: both are pairwise BPR learners and differ only in their network
(bpr_net.py, lightgcn_net.py) and LightGCN's penalty. The epoch loop is `torch_common.fit_epochs`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import numpy as np
import scipy.sparse as sp
from pydantic import Field

from ..interactions import Interactions
from .base import RankerParams, Validator, as_positions, register
from .torch_common import FitContext, TorchParams, TorchRanker, Training, batch_slices, train_batches

if TYPE_CHECKING:
    import torch
    from torch import nn

log = logging.getLogger(__name__)


class BPRParams(TorchParams):
    """Hyper-parameters of BPR-MF; their values are in training/configs/bpr.yaml."""

    embedding_size: int = Field(ge=1, description="dimension of user and item vectors")
    learning_rate: float = Field(gt=0.0, description="Adam step size")


def sample_negatives(matrix: sp.csr_matrix, users: np.ndarray, rng: np.random.Generator,
                     weights: np.ndarray | None = None) -> np.ndarray:
    """Draw, for each entry of `users`, one item column among those the user has no interaction with.

    Uniformly, or in proportion to `weights` (one non-negative number per item, e.g. popularity) when given.
    Rejection sampling, vectorised: draw for everyone, redraw only the draws that hit a positive. Users with
    an interaction on every item must be left out by the caller (there is nothing to draw for them).
    """
    n_items = matrix.shape[1]
    probabilities = None if weights is None else np.asarray(weights, dtype=np.float64) / np.sum(weights)

    def draw(size: int) -> np.ndarray:
        return rng.integers(n_items, size=size) if probabilities is None else rng.choice(
            n_items, size=size, p=probabilities)

    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    keys = rows * n_items + matrix.indices.astype(np.int64)  # ascending: CSR rows in order, indices sorted
    negatives = draw(len(users))
    todo = np.arange(len(users))
    while todo.size:
        wanted = users[todo] * n_items + negatives[todo]
        found = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
        todo = todo[keys[found] == wanted] if len(keys) else todo[:0]
        negatives[todo] = draw(todo.size)
    return negatives


def ego_penalty(batches: Iterable[torch.Tensor], batch_size: int) -> torch.Tensor:
    """The sum of the batches' L2 (Frobenius) norms over the batch size: RecBole's EmbLoss with `require_pow` off.

    LightGCN and PtE put it on the layer-0 embeddings of a batch's users, positives and negatives.
    """
    import torch

    tensors = list(batches)
    start = torch.zeros((), device=tensors[0].device) if tensors else torch.zeros(())
    return sum((torch.linalg.vector_norm(t) for t in tensors), start) / batch_size


@register("bpr")
class BPR(TorchRanker):
    """Dot product of learned user and item vectors, fitted with the pairwise BPR loss."""

    Params: ClassVar[type[RankerParams]] = BPRParams
    init: ClassVar[Literal["normal", "uniform"]] = "normal"  # RecBole's BPR: Xavier-normal; its LightGCN: uniform

    def __init__(self, **params: Any) -> None:
        """Start unfitted; `fit` or `load` fills the user and item vectors."""
        super().__init__(**params)
        self.hparams: BPRParams
        self.user_vectors = np.zeros((0, self.hparams.embedding_size), dtype=np.float32)
        self.item_vectors = np.zeros((0, self.hparams.embedding_size), dtype=np.float32)

    # ----- what a subclass changes -------------------------------------------------------------------
    def _network(self, data: Interactions) -> nn.Module:
        """Return a freshly initialised network for `data`'s users and items."""
        from .bpr_net import BPRNet

        return BPRNet(data.n_users, data.n_items, self.hparams.embedding_size, self.init)

    def _negative_weights(self, data: Interactions) -> np.ndarray | None:
        """Per-item weights of negative sampling (None: uniform over every item, as RecBole's BPR and LightGCN)."""
        return None

    def _weight_decay(self) -> float:
        """Adam's L2 penalty: none for BPR-MF and LightGCN, as RecBole's."""
        return 0.0

    def _loss(self, network: nn.Module, users: torch.Tensor, positives: torch.Tensor,
              negatives: torch.Tensor) -> torch.Tensor:
        """Mean BPR loss, -log sigmoid(s(u, i) - s(u, j)), over one batch of triples."""
        import torch.nn.functional as F  # noqa: N812

        user_table, item_table = network()
        u = user_table[users]
        margin = (u * (item_table[positives] - item_table[negatives])).sum(dim=1)
        return -F.logsigmoid(margin).mean()

    # ----- training ----------------------------------------------------------------------------------
    def fit(self, data: Interactions, *, seed: int, show_progress: bool = False,
            validate: Validator | None = None) -> Self:
        """Train with Adam on freshly sampled triples each epoch; keep the best validated state.

        `fit_epochs` validates and stops early (see `TorchParams`). Weight init is seeded locally; negatives
        and batch order come from `np.random.default_rng(seed)`, so the same seed gives the same model on CPU
        (on CUDA, LightGCN's sparse products may differ in the last bits: 2e-6 seen on an H100).
        """
        matrix = data.matrix.tocsr()
        degree = np.diff(matrix.indptr)
        users = np.repeat(np.arange(data.n_users, dtype=np.int64), degree)
        positives = matrix.indices.astype(np.int64)
        full = degree[users] >= data.n_items  # a user who has every item has no negative to draw
        if full.any():
            log.warning("%d user(s) interacted with every item: left out of training", len(np.unique(users[full])))
            users, positives = users[~full], positives[~full]

        negative_weights = self._negative_weights(data)

        def setup(context: FitContext) -> Training:
            import torch

            network = self._network(data).to(context.device)
            optimizer = torch.optim.Adam(network.parameters(), lr=self.hparams.learning_rate,
                                         weight_decay=self._weight_decay())

            def train_epoch(epoch: int) -> float:
                negatives = sample_negatives(matrix, users, context.rng, negative_weights)
                order = context.rng.permutation(len(users))
                u_all, p_all, n_all = (torch.from_numpy(column[order]).to(context.device)
                                       for column in (users, positives, negatives))
                return train_batches(optimizer, batch_slices(len(order), self.hparams.batch_size),
                                     lambda s: (self._loss(network, u_all[s], p_all[s], n_all[s]), len(u_all[s])))

            return Training(network=network, train_epoch=train_epoch, sync=lambda: self._refresh(network))

        self._fit_epochs(setup, seed=seed, show_progress=show_progress, validate=validate)
        return self

    def _refresh(self, network: nn.Module) -> None:
        """Cache the final vectors as float32 numpy arrays: scoring then needs no torch at all."""
        import torch

        with torch.no_grad():
            user_table, item_table = network()
            self.user_vectors = user_table.detach().to("cpu", torch.float32).numpy().copy()
            self.item_vectors = item_table.detach().to("cpu", torch.float32).numpy().copy()

    # ----- scoring -----------------------------------------------------------------------------------
    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Dot products of the users' and items' final vectors."""
        self._require_fitted()
        rows = self.user_vectors[np.asarray(users, dtype=np.int64).reshape(-1)]
        columns = self.item_vectors[as_positions(items, len(self.item_vectors))]
        return np.asarray(rows @ columns.T, dtype=np.float32)

    def score_history(
        self, history: np.ndarray, items: np.ndarray | None = None, weights: np.ndarray | None = None
    ) -> np.ndarray:
        """Score for a user known only by liked items: their user vector is the mean of those items' vectors.

        No user vector exists for such a person and the model is not retrained, so the mean item vector
        stands in (a fold-in that points where the liked films point). `weights` make it a weighted mean,
        sum(w * v) / sum(|w|), so a negative weight (a dislike) pushes away; no history scores all zero.
        """
        self._require_fitted()
        positions = np.asarray(history, dtype=np.int64).reshape(-1)
        columns = self.item_vectors[as_positions(items, len(self.item_vectors))]
        if positions.size == 0:
            return np.zeros(len(columns), dtype=np.float32)
        w = np.ones(len(positions), dtype=np.float32) if weights is None else np.asarray(
            weights, dtype=np.float32).reshape(-1)
        norm = float(np.abs(w).sum())
        if norm == 0.0:
            return np.zeros(len(columns), dtype=np.float32)
        user = (w @ self.item_vectors[positions]) / np.float32(norm)
        return np.asarray(columns @ user, dtype=np.float32)

    # ----- persistence -------------------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        return {"user_vectors": self.user_vectors, "item_vectors": self.item_vectors}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self.user_vectors = arrays["user_vectors"].astype(np.float32)
        self.item_vectors = arrays["item_vectors"].astype(np.float32)
