"""BPR-MF: matrix factorisation trained with the Bayesian Personalised Ranking loss.

Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit Feedback" (UAI 2009). Each user and item
gets a vector; the score is their dot product. Training maximises log sigmoid(s(u, i) - s(u, j)) over
triples of a user, an item they interacted with and an item they did not (one uniformly sampled negative
per positive, drawn afresh every epoch), with Adam. Defaults follow RecBole 1.2.1's BPR (embedding 64,
Xavier-normal initialisation, lr 1e-3, batch 2048, no weight decay, up to 300 epochs).

The training loop lives here and LightGCN (lightgcn.py) reuses it: both are pairwise BPR learners and differ
only in how the final user and item vectors are computed from the learned embeddings.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from pydantic import Field, field_validator
from tqdm import tqdm

from ..interactions import Interactions
from .base import Ranker, RankerParams, Validator, as_positions, register
from .torch_common import EarlyStopping, pick_device, seeded

log = logging.getLogger(__name__)


class BPRParams(RankerParams):
    """Hyper-parameters of BPR-MF (training/configs/bpr.yaml holds the same defaults, commented)."""

    embedding_size: int = Field(default=64, ge=1, description="dimension of user and item vectors")
    learning_rate: float = Field(default=1e-3, gt=0.0, description="Adam step size")
    batch_size: int = Field(default=2048, ge=1, description="(user, positive, negative) triples per step")
    epochs: int = Field(default=300, ge=0, description="maximum passes over the training interactions")
    eval_every: int = Field(default=1, ge=1, description="epochs between two validation checks")
    patience: int = Field(default=10, ge=1, description="validation checks without gain before stopping")
    device: str = Field(default="auto", description="'auto' (CUDA when present, else CPU), 'cpu', 'cuda:0', ...")
    cpu_threads: int = Field(default=1, ge=0, description="torch threads while training on CPU; 0 keeps torch's")

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if value != "auto" and value.split(":", 1)[0] not in {"cpu", "cuda", "mps"}:
            raise ValueError("must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
        return value


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


def embedding_tables(n_users: int, n_items: int, dim: int, init: str) -> Any:  # noqa: ANN401 - torch is lazy
    """Build the user and item embedding tables with Xavier initialisation ('normal' or 'uniform')."""
    import torch

    class Embeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.users = torch.nn.Embedding(n_users, dim)
            self.items = torch.nn.Embedding(n_items, dim)
            for table in (self.users, self.items):
                (torch.nn.init.xavier_normal_ if init == "normal" else torch.nn.init.xavier_uniform_)(table.weight)

    return Embeddings()


@register("bpr")
class BPR(Ranker):
    """Dot product of learned user and item vectors, fitted with the pairwise BPR loss."""

    Params = BPRParams
    init = "normal"  # RecBole's BPR uses Xavier-normal, its LightGCN Xavier-uniform

    def __init__(self, **params: object) -> None:
        """Start unfitted; `fit` or `load` fills the user and item vectors."""
        super().__init__(**params)
        self.hparams: BPRParams
        self.user_vectors = np.zeros((0, self.hparams.embedding_size), dtype=np.float32)
        self.item_vectors = np.zeros((0, self.hparams.embedding_size), dtype=np.float32)
        self.stopping: EarlyStopping | None = None  # the validation history of the last fit
        self.epochs_trained = 0
        self.fit_seconds = 0.0

    # ----- what a subclass changes -------------------------------------------------------------------
    def _build(self, data: Interactions, device: Any) -> Any:  # noqa: ANN401
        """Return the torch module holding the learnable embeddings (on `device`)."""
        return embedding_tables(data.n_users, data.n_items, self.hparams.embedding_size, self.init).to(device)

    def _propagate(self, model: Any) -> tuple[Any, Any]:  # noqa: ANN401
        """Return the final (user, item) vector tables; for MF they are the embeddings themselves."""
        return model.users.weight, model.items.weight

    def _loss(self, model: Any, users: Any, positives: Any, negatives: Any) -> Any:  # noqa: ANN401
        """Mean BPR loss, -log sigmoid(s(u, i) - s(u, j)), over one batch of triples."""
        import torch.nn.functional as F  # noqa: N812

        user_table, item_table = self._propagate(model)
        u = user_table[users]
        margin = (u * (item_table[positives] - item_table[negatives])).sum(dim=1)
        return -F.logsigmoid(margin).mean()

    # ----- training ----------------------------------------------------------------------------------
    def fit(self, data: Interactions, *, seed: int, show_progress: bool = False,
            validate: Validator | None = None) -> Self:
        """Train with Adam on freshly sampled triples each epoch; keep the best validated state.

        With `validate`, NDCG@10 on validation is checked every `eval_every` epochs (and after the last),
        the best vectors are kept and training stops after `patience` checks without gain. Without it the
        model trains for all `epochs`. Weight init is seeded locally; negatives and batch order come from
        `np.random.default_rng(seed)`, so the same seed gives the same model on CPU (on CUDA, LightGCN's sparse
        products may differ in the last bits: 2e-6 seen on an H100).
        """
        import torch

        device = pick_device(self.hparams.device)
        threads = torch.get_num_threads()
        if device.type == "cpu" and self.hparams.cpu_threads:
            # These models are small: one thread is fastest, and two stall badly when the cores are shared
            # (measured on ML-100K, 2 busy cores: LightGCN 17 ms a batch with one thread, 260 ms with two).
            torch.set_num_threads(self.hparams.cpu_threads)
        try:
            return self._train(data, device, seed, show_progress, validate)
        finally:
            torch.set_num_threads(threads)

    def _train(self, data: Interactions, device: Any, seed: int, show_progress: bool,  # noqa: ANN401
               validate: Validator | None) -> Self:
        import torch

        hp = self.hparams
        started = time.perf_counter()
        rng = np.random.default_rng(seed)
        with seeded(seed):
            model = self._build(data, device)
        optimizer = torch.optim.Adam(model.parameters(), lr=hp.learning_rate)
        matrix = data.matrix.tocsr()
        degree = np.diff(matrix.indptr)
        users = np.repeat(np.arange(data.n_users, dtype=np.int64), degree)
        positives = matrix.indices.astype(np.int64)
        full = degree[users] >= data.n_items  # a user who has every item has no negative to draw
        if full.any():
            log.warning("%d user(s) interacted with every item: left out of training", len(np.unique(users[full])))
            users, positives = users[~full], positives[~full]
        self.fitted = True  # the validator scores the model while it trains
        stopping = EarlyStopping(patience=hp.patience) if validate is not None else None
        self.stopping, self.epochs_trained = stopping, 0
        bar = tqdm(range(hp.epochs), desc=self.name, unit="epoch", disable=not show_progress)
        for epoch in bar:
            model.train()
            negatives = sample_negatives(matrix, users, rng)
            order = rng.permutation(len(users))
            u_all = torch.from_numpy(users[order]).to(device)
            p_all = torch.from_numpy(positives[order]).to(device)
            n_all = torch.from_numpy(negatives[order]).to(device)
            total = 0.0
            for start in range(0, len(order), hp.batch_size):
                stop = start + hp.batch_size
                loss = self._loss(model, u_all[start:stop], p_all[start:stop], n_all[start:stop])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(u_all[start:stop])
            self.epochs_trained = epoch + 1
            postfix: dict[str, float] = {"loss": total / max(len(order), 1)}
            if stopping is not None and validate is not None and (
                    (epoch + 1) % hp.eval_every == 0 or epoch + 1 == hp.epochs):
                self._refresh(model)
                score = float(validate(self))
                postfix["valid"] = score
                state = {"users": self.user_vectors, "items": self.item_vectors}
                if stopping.update(epoch + 1, score, state):
                    bar.set_postfix(postfix)
                    break
            bar.set_postfix(postfix)
        bar.close()
        if stopping is not None and stopping.best_state is not None:
            self.user_vectors = stopping.best_state["users"]
            self.item_vectors = stopping.best_state["items"]
            log.info("%s: best validation %.4f at epoch %d of %d", self.name, stopping.best_score,
                     stopping.best_epoch, self.epochs_trained)
        else:
            self._refresh(model)
        self.fit_seconds = time.perf_counter() - started
        return self

    def _refresh(self, model: Any) -> None:  # noqa: ANN401
        """Cache the final vectors as float32 numpy arrays: scoring then needs no torch at all."""
        import torch

        model.eval()
        with torch.no_grad():
            user_table, item_table = self._propagate(model)
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
