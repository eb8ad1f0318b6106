"""LLM-TUP: temporal user profiles, embedded, fused by attention per user, scored against items by an MLP.

Each user has a short-term profile (the last few films) and a long-term profile (the whole history), written
by a `ProfileWriter` (an LLM, or offline from the data) and embedded by the sentence encoder (MiniLM, 384-d).
An additive attention gives each user two weights (alpha_short, alpha_long; softmax), the fused vector
is concatenated with the item's text embedding and an MLP outputs a logit. Trained pointwise with binary
cross-entropy, 5 negatives per positive. Encoder outputs are cached; only fusion and MLP are trained.

Ablations are registered as their own rankers so the benchmark reports them beside the baselines:
`tup_short` (short-term profile only), `tup_long` (long-term only), `tup_single` (one undated profile of the
whole history: no temporal split) and `tup_dot` (a dot product with a projected item vector instead of the MLP).

The first MLP layer is linear in the concatenation [user; item], so it is split into a user part and an item
part computed once per distinct user and item: full ranking of 943 x 1682 pairs then costs two small matrix
products and the upper layers.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import numpy as np
from pydantic import Field, create_model
from tqdm import tqdm

from convrec.core.errors import UserError

from ..interactions import Interactions
from .base import Ranker, RankerParams, Validator, as_positions, register
from .bpr import sample_negatives
from .torch_common import EarlyStopping, denormals_flushed, pick_device, seeded

if TYPE_CHECKING:
    from ..text_inputs import TextInputs

log = logging.getLogger(__name__)

PROFILE_KINDS = {"both": ("short_term", "long_term"), "short": ("short_term",), "long": ("long_term",),
                 "whole": ("whole",)}
SCORE_CHUNK = 64  # users scored at once in full ranking (64 x 1682 x hidden floats)
MIN_STEPS, MIN_BATCH = 50, 32  # optimiser steps an epoch at least, unless batches would drop below 32 pairs


class TupParams(RankerParams):
    """LLM-TUP's trainable part; the defaults are `training/configs/tup.yaml`'s."""

    profiles: Literal["both", "short", "long", "whole"] = "both"
    scorer: Literal["mlp", "dot"] = "mlp"
    attention_size: int = Field(default=64, ge=1)
    hidden: tuple[int, ...] = (128, 32)
    bilinear_rank: int = Field(default=0, ge=0)  # >0 adds <P user, Q item> (rank r) to the MLP's logit
    item_embeddings: Literal["frozen", "tuned"] = "frozen"  # 'tuned': text vectors are the start, then trained
    item_bias: bool = False  # a learned per-item offset added to the logit
    # >0: the network trains on profiles written from the head of each training history, with the latest
    # films (this share of it, at least one) as positives: the task it is tested on (what comes next).
    profile_cut: float = Field(default=0.0, ge=0.0, lt=1.0)
    cut_positives: Literal["later", "all"] = "later"  # with a cut: the later films only, or every training film
    # Extra training profiles written from the first (1 - c) of each history, one set per c: each training pair
    # reads one version at random. At test time profiles are rewritten from a longer history than they were
    # trained on; a network that saw one fixed vector per user can key on that vector rather than on what the
    # text says, and the rewritten vector loses what it learned.
    profile_augment: tuple[float, ...] = ()
    dropout: float = Field(default=0.1, ge=0.0, lt=1.0)
    negatives: int = Field(default=5, ge=1)
    # 'bce': each pair on its own (the paper's); 'softmax': each positive against its own negatives.
    loss: Literal["bce", "softmax"] = "bce"
    negative_sampling: Literal["fixed", "per_epoch"] = "fixed"
    # Sampled negatives are drawn in proportion to (training count + 1) ** power; 0 is uniform. Uniform negatives
    # are mostly films few people rated, which teaches the network popularity more than taste.
    negative_power: float = Field(default=0.0, ge=0.0)
    lr: float = Field(default=1e-3, gt=0)
    # >0: validate, keep and score with an exponential moving average of the weights (this decay per step)
    # rather than the last step's weights, which jump about from one epoch to the next.
    weight_average: float = Field(default=0.0, ge=0.0, lt=1.0)
    weight_decay: float = Field(default=0.0, ge=0)
    batch_size: int = Field(default=2048, ge=1)
    epochs: int = Field(default=30, ge=1)
    eval_every: int = Field(default=1, ge=1)
    patience: int = Field(default=4, ge=1)
    device: str = "auto"
    cpu_threads: int = Field(default=1, ge=0)


def build_network(item_vectors: np.ndarray, n_profiles: int, params: TupParams) -> Any:  # noqa: ANN401
    """The item table, the fusion attention and the scorer as one torch module."""
    import torch
    from torch import nn

    dim = item_vectors.shape[1]

    class TupNetwork(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.n_profiles = n_profiles
            table = torch.from_numpy(np.array(item_vectors, dtype=np.float32))
            if params.item_embeddings == "tuned":
                self.items = nn.Parameter(table)
            else:
                self.register_buffer("items", table)
            self.attention = nn.Sequential(nn.Linear(dim, params.attention_size), nn.Tanh(),
                                           nn.Linear(params.attention_size, 1, bias=False))
            self.bias = nn.Parameter(torch.zeros(len(table))) if params.item_bias else None
            if params.scorer == "mlp":
                first = params.hidden[0]
                self.user_in = nn.Linear(dim, first)
                self.item_in = nn.Linear(dim, first, bias=False)
                layers: list[nn.Module] = []
                for width_in, width_out in zip(params.hidden, (*params.hidden[1:], 1), strict=True):
                    layers += [nn.ReLU(), nn.Dropout(params.dropout), nn.Linear(width_in, width_out)]
                self.upper = nn.Sequential(*layers)
                if params.bilinear_rank:
                    self.user_low = nn.Linear(dim, params.bilinear_rank, bias=False)
                    self.item_low = nn.Linear(dim, params.bilinear_rank, bias=False)
            else:
                self.item_projection = nn.Linear(dim, dim)
                self.scale = nn.Parameter(torch.tensor(5.0))

        def fuse(self, profiles: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            """(n, k, dim) profile vectors -> (n, dim) fused vectors and (n, k) weights."""
            if self.n_profiles == 1:
                return profiles[:, 0], torch.ones(profiles.shape[:2], device=profiles.device)
            weights = torch.softmax(self.attention(profiles).squeeze(-1), dim=-1)
            return (weights.unsqueeze(-1) * profiles).sum(dim=1), weights

        def user_part(self, fused: torch.Tensor) -> torch.Tensor:
            """The user's share of the first layer (and of the bilinear term, appended)."""
            if params.scorer != "mlp":
                return fused
            part = self.user_in(fused)
            return torch.cat([part, self.user_low(fused)], dim=-1) if params.bilinear_rank else part

        def item_part(self, columns: torch.Tensor) -> torch.Tensor:
            """The item's share of the first layer (and of the bilinear term, appended)."""
            items = self.items[columns]
            if params.scorer != "mlp":
                return self.item_projection(items)
            part = self.item_in(items)
            return torch.cat([part, self.item_low(items)], dim=-1) if params.bilinear_rank else part

        def pair_logits(self, user_parts: torch.Tensor, item_parts: torch.Tensor,
                        columns: torch.Tensor) -> torch.Tensor:
            """Logits of aligned rows (n, h) x (n, h) -> (n,), plus the items' offsets."""
            logits = self._pair_logits(user_parts, item_parts)
            return logits if self.bias is None else logits + self.bias[columns]

        def grid_logits(self, user_parts: torch.Tensor, item_parts: torch.Tensor,
                        columns: torch.Tensor) -> torch.Tensor:
            """Logits of every pair (u, h) x (i, h) -> (u, i), plus the items' offsets."""
            logits = self._grid_logits(user_parts, item_parts)
            return logits if self.bias is None else logits + self.bias[columns][None, :]

        def _pair_logits(self, user_parts: torch.Tensor, item_parts: torch.Tensor) -> torch.Tensor:
            if params.scorer != "mlp":
                return self.scale * (user_parts * item_parts).sum(-1)
            h, r = params.hidden[0], params.bilinear_rank
            logits = self.upper(user_parts[:, :h] + item_parts[:, :h]).squeeze(-1)
            return logits + (user_parts[:, h:] * item_parts[:, h:]).sum(-1) if r else logits

        def _grid_logits(self, user_parts: torch.Tensor, item_parts: torch.Tensor) -> torch.Tensor:
            if params.scorer != "mlp":
                return self.scale * user_parts @ item_parts.T
            h, r = params.hidden[0], params.bilinear_rank
            logits = self.upper(user_parts[:, None, :h] + item_parts[None, :, :h]).squeeze(-1)
            return logits + user_parts[:, h:] @ item_parts[:, h:].T if r else logits

    return TupNetwork()


@register("tup")
class TemporalProfileRanker(Ranker):
    """LLM-TUP (short- and long-term profiles, attention fusion, MLP); see the module docstring."""

    version: ClassVar[int] = 1
    needs_text: ClassVar[bool] = True
    Params: ClassVar[type[RankerParams]] = TupParams

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.inputs: TextInputs | None = None
        self.network: Any = None
        self.stopping: EarlyStopping | None = None

    @property
    def kinds(self) -> tuple[str, ...]:
        """The profile texts this variant reads."""
        return PROFILE_KINDS[self.hparams.profiles]

    def attach(self, inputs: TextInputs) -> None:
        """Take the texts, writer and encoder that profiles and item vectors are made from."""
        self.inputs = inputs

    def _require_inputs(self) -> TextInputs:
        if self.inputs is None:
            raise UserError(f"ranker {self.name!r} reads profiles and item texts: attach TextInputs first")
        return self.inputs

    # ----- training ------------------------------------------------------------------------------------
    def fit(self, data: Interactions, *, seed: int, show_progress: bool = False,
            validate: Validator | None = None) -> Self:
        """Embed profiles and items (cached), then train fusion and scorer with early stopping on validation."""
        import torch

        inputs = self._require_inputs()
        started = time.perf_counter()
        self.user_ids, self.item_ids = data.user_ids.copy(), data.item_ids.copy()
        self.profile_vectors = inputs.profile_vectors(data, self.kinds)
        self.item_vectors = inputs.item_vectors(data.item_ids)
        head, targets = self._training_view(data)
        first = self.profile_vectors if head is data else inputs.profile_vectors(head, self.kinds)
        # (versions, users, kinds, dim): the profiles training reads; version 0 is the usual one
        self.training_profiles = np.stack([first, *(inputs.profile_vectors(data.head(self._kept_lengths(data, c)),
                                                                            self.kinds)
                                                    for c in self.hparams.profile_augment)])
        threads = torch.get_num_threads()
        device = pick_device(self.hparams.device)
        if device.type == "cpu" and self.hparams.cpu_threads:
            torch.set_num_threads(self.hparams.cpu_threads)
        try:
            self._train(data, targets, device, seed, show_progress, validate)
        finally:
            torch.set_num_threads(threads)
        self.fit_seconds = time.perf_counter() - started
        return self

    def _training_view(self, data: Interactions) -> tuple[Interactions, Interactions]:
        """What the training profiles are written from, and which films are the positives.

        Without a cut both are `data`: the network learns to score the films its profiles were written from.
        With one, profiles come from the head of each history and the positives are the films after it, as
        at test time, when the profiles are written from everything before the held-out films.
        """
        cut = self.hparams.profile_cut
        if not cut:
            return data, data
        head = data.head(self._kept_lengths(data, cut))
        if self.hparams.cut_positives == "all":
            return head, data
        later = data.matrix - head.matrix
        later.eliminate_zeros()
        return head, Interactions(matrix=later.tocsr(), user_ids=data.user_ids, item_ids=data.item_ids)

    @staticmethod
    def _kept_lengths(data: Interactions, cut: float) -> np.ndarray:
        """Per user, the length of the history's head once `cut` of it (at least one film, never all) is off."""
        lengths = np.array([len(data.sequence_of(row)) for row in range(data.n_users)])
        held = np.where(lengths > 1, np.clip(np.rint(cut * lengths), 1, lengths - 1), 0).astype(np.int64)
        return lengths - held

    def _training_pairs(self, data: Interactions, targets: Interactions,
                        rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """Rows, positive columns and (n, k) negative columns; the split's fixed negatives when it has them.

        Positives are `targets`' films; negatives are never any of the user's films in `data`.
        """
        wanted, seen = targets.matrix.tocsr(), data.matrix.tocsr()
        users = np.repeat(np.arange(data.n_users, dtype=np.int64), np.diff(wanted.indptr))
        positives = wanted.indices.astype(np.int64)
        keep = np.diff(seen.indptr)[users] < data.n_items  # room for a negative
        users, positives = users[keep], positives[keep]
        negatives = self._split_negatives(data, users, positives)
        if negatives is None:
            negatives = self._sample(data, users, rng)
        return users, positives, negatives

    def _split_negatives(self, data: Interactions, users: np.ndarray, positives: np.ndarray) -> np.ndarray | None:
        given = self.inputs.negatives if self.inputs is not None else None
        if given is None or self.hparams.negative_sampling != "fixed":
            return None
        pairs, items = given
        lookup = {(int(u), int(i)): row for row, (u, i) in enumerate(pairs)}
        rows = [lookup.get((int(data.user_ids[u]), int(data.item_ids[p]))) for u, p in zip(users, positives,
                                                                                          strict=True)]
        if any(r is None for r in rows) or items.shape[1] < self.hparams.negatives:
            log.warning("%s: the split's negatives do not cover the training rows; sampling instead", self.name)
            return None
        return data.item_index(items[np.array(rows)][:, :self.hparams.negatives].reshape(-1)).reshape(
            len(rows), self.hparams.negatives)

    def _sample(self, data: Interactions, users: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(n, k) negatives for rows `users`, never one of their films in `data`; see `negative_power`."""
        power = self.hparams.negative_power
        weights = (data.item_counts().astype(np.float64) + 1.0) ** power if power else None
        matrix = data.matrix.tocsr()
        return np.stack([sample_negatives(matrix, users, rng, weights) for _ in range(self.hparams.negatives)], axis=1)

    def _train(self, data: Interactions, targets: Interactions, device: Any, seed: int,  # noqa: ANN401
               show_progress: bool, validate: Validator | None) -> None:
        rng = np.random.default_rng(seed)
        with seeded(seed), denormals_flushed():  # seeded: the same seed trains the same model
            self._train_seeded(data, targets, device, rng, show_progress, validate)

    def _train_seeded(self, data: Interactions, targets: Interactions, device: Any,  # noqa: ANN401
                      rng: np.random.Generator, show_progress: bool, validate: Validator | None) -> None:
        import torch

        hp = self.hparams
        network = build_network(self.item_vectors, len(self.kinds), hp).to(device)
        optimizer = torch.optim.Adam(network.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
        averaged = torch.optim.swa_utils.AveragedModel(
            network, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(hp.weight_average)
        ) if hp.weight_average else None
        kept = averaged.module if averaged is not None else network  # what is validated, saved and scored
        self.network = kept
        versions, n_users = self.training_profiles.shape[:2]
        profiles = torch.from_numpy(self.training_profiles.reshape(versions * n_users,
                                                                   *self.training_profiles.shape[2:])).to(device)
        users, positives, negatives = self._training_pairs(data, targets, rng)
        k = negatives.shape[1]
        pair_users = np.repeat(users, k + 1)
        labels = np.tile(np.r_[1.0, np.zeros(k)], len(users)).astype(np.float32)
        # At least MIN_STEPS optimiser steps an epoch: on a small dataset a 2048-pair batch would leave the
        # chat's fixed epoch count with a handful of steps (ML-100K has 350-600 thousand pairs: unaffected).
        batch_size = max(MIN_BATCH, min(hp.batch_size, len(pair_users) // MIN_STEPS))
        grouped = hp.loss == "softmax"
        if grouped:  # whole groups (a positive and its negatives) in a batch
            batch_size = max(batch_size // (k + 1), 1) * (k + 1)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        self.fitted = True  # the validator scores the model while it trains
        stopping = EarlyStopping(patience=hp.patience) if validate is not None else None
        self.stopping, self.epochs_trained = stopping, 0
        bar = tqdm(range(hp.epochs), desc=self.name, unit="epoch", disable=not show_progress)
        for epoch in bar:
            if epoch and hp.negative_sampling == "per_epoch":
                negatives = self._sample(data, users, rng)
            pair_items = np.concatenate([positives[:, None], negatives], axis=1).reshape(-1)
            # the profile version each positive and its negatives read, as a row of the (version, user) table
            pair_rows = pair_users + n_users * np.repeat(rng.integers(versions, size=len(users)), k + 1) \
                if versions > 1 else pair_users
            order = (rng.permutation(len(users))[:, None] * (k + 1) + np.arange(k + 1)).reshape(-1) if grouped \
                else rng.permutation(len(pair_users))
            network.train()
            total = 0.0
            for start in range(0, len(order), batch_size):
                batch = order[start:start + batch_size]
                batch_users = torch.from_numpy(pair_rows[batch]).to(device)
                batch_items = torch.from_numpy(pair_items[batch]).to(device)
                distinct, inverse = torch.unique(batch_users, return_inverse=True)
                fused, _ = network.fuse(profiles[distinct])
                user_parts = network.user_part(fused)[inverse]
                item_parts = network.item_part(batch_items)
                logits = network.pair_logits(user_parts, item_parts, batch_items)
                if grouped:  # the positive is column 0 of each group
                    logits = logits.view(-1, k + 1)
                    loss = torch.nn.functional.cross_entropy(logits, logits.new_zeros(len(logits), dtype=torch.long))
                else:
                    loss = loss_fn(logits, torch.from_numpy(labels[batch]).to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if averaged is not None:
                    averaged.update_parameters(network)
                total += float(loss.detach()) * len(batch)
            self.epochs_trained = epoch + 1
            postfix = {"loss": total / max(len(order), 1)}
            if stopping is not None and validate is not None and (
                    (epoch + 1) % hp.eval_every == 0 or epoch + 1 == hp.epochs):
                kept.eval()
                postfix["valid"] = float(validate(self))
                bar.set_postfix(postfix)
                if stopping.update(epoch + 1, postfix["valid"], kept.state_dict()):
                    break
            bar.set_postfix(postfix)
        bar.close()
        if stopping is not None and stopping.best_state is not None:
            kept.load_state_dict(stopping.best_state)
            log.info("%s: best validation %.4f at epoch %d of %d", self.name, stopping.best_score,
                     stopping.best_epoch, self.epochs_trained)
        kept.eval()
        self.network = kept.to("cpu")

    # ----- scoring -------------------------------------------------------------------------------------
    def set_history(self, data: Interactions) -> None:
        """Rewrite and re-embed profiles from `data` (train + validation at test time); cached on disk."""
        if self.inputs is None:
            return
        if data.user_ids.shape != self.user_ids.shape or np.any(data.user_ids != self.user_ids):
            raise ValueError("set_history needs the same users the model was fitted on")
        self.profile_vectors = self.inputs.profile_vectors(data, self.kinds)

    def _torch(self) -> Any:  # noqa: ANN401
        import torch

        return torch

    def _user_parts(self, profile_vectors: np.ndarray) -> tuple[Any, np.ndarray]:
        torch = self._torch()
        with torch.no_grad():
            fused, weights = self.network.fuse(torch.from_numpy(profile_vectors))
            return self.network.user_part(fused), weights.numpy()

    def _item_parts(self, columns: np.ndarray) -> Any:  # noqa: ANN401
        torch = self._torch()
        with torch.no_grad():
            return self.network.item_part(torch.from_numpy(np.asarray(columns, dtype=np.int64)))

    def _grid(self, profile_vectors: np.ndarray, columns: np.ndarray) -> np.ndarray:
        torch = self._torch()
        self.network.eval()
        item_parts = self._item_parts(columns)
        positions = torch.from_numpy(np.asarray(columns, dtype=np.int64))
        out = np.empty((len(profile_vectors), len(columns)), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(profile_vectors), SCORE_CHUNK):
                user_parts, _ = self._user_parts(profile_vectors[start:start + SCORE_CHUNK])
                out[start:start + SCORE_CHUNK] = self.network.grid_logits(user_parts, item_parts, positions).numpy()
        return out

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Logits for known users (rows of the fitted matrix) against items (columns)."""
        self._require_fitted()
        rows = np.asarray(users, dtype=np.int64).reshape(-1)
        return self._grid(self.profile_vectors[rows], as_positions(items, len(self.item_vectors)))

    def score_history(
        self, history: np.ndarray, items: np.ndarray | None = None, weights: np.ndarray | None = None
    ) -> np.ndarray:
        """Score for an ad-hoc user: profiles are written for the given films (oldest first) and embedded.

        This writes and encodes texts, so the chat calls it only for people it has no stored profile for;
        `weights` are ignored (a profile describes the films, not how much each counts); no history scores 0.
        """
        self._require_fitted()
        columns = as_positions(items, len(self.item_vectors))
        positions = np.asarray(history, dtype=np.int64).reshape(-1)
        if positions.size == 0:
            return np.zeros(len(columns), dtype=np.float32)
        vectors = self._require_inputs().history_vectors(self.item_ids[positions], self.kinds)
        return self._grid(vectors[None, :, :], columns)[0]

    def fusion_weights(self, users: np.ndarray | None = None) -> np.ndarray:
        """(n, k) per-user attention weights over this variant's profiles (rows sum to 1)."""
        self._require_fitted()
        rows = np.arange(len(self.profile_vectors)) if users is None else np.asarray(users, dtype=np.int64)
        return self._user_parts(self.profile_vectors[rows])[1]

    def side_scores(self, user: int, items: np.ndarray) -> dict[str, np.ndarray]:
        """Each profile's own score for items, as if the user were that profile alone (kind -> logits).

        Weighted by `fusion_weights`, this says which side drove a pick: the chat's explanation uses it.
        """
        self._require_fitted()
        columns = np.asarray(items, dtype=np.int64)
        vectors = self.profile_vectors[int(user)]
        return {kind: self._grid(vectors[None, k:k + 1, :].repeat(len(self.kinds), axis=1), columns)[0]
                for k, kind in enumerate(self.kinds)}

    # ----- persistence ---------------------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        state = {f"net.{key}": value.detach().cpu().numpy() for key, value in self.network.state_dict().items()}
        return {**state, "profile_vectors": self.profile_vectors, "item_vectors": self.item_vectors,
                "user_ids": self.user_ids, "item_ids": self.item_ids,
                "best_epoch": np.array(self.stopping.best_epoch if self.stopping else -1)}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        import torch

        self.profile_vectors = arrays["profile_vectors"].astype(np.float32)
        self.item_vectors = arrays["item_vectors"].astype(np.float32)
        self.user_ids, self.item_ids = arrays["user_ids"], arrays["item_ids"]
        self.best_epoch = int(arrays["best_epoch"])
        self.network = build_network(self.item_vectors, len(self.kinds), self.hparams)
        self.network.load_state_dict({key[4:]: torch.from_numpy(np.array(value)) for key, value in arrays.items()
                                      if key.startswith("net.")})
        self.network.eval()


def _ablation_params(name: str, **defaults: str) -> type[TupParams]:
    """`TupParams` with other defaults: an ablation is the same model with one switch set differently."""
    fields: dict[str, Any] = {key: (TupParams.model_fields[key].annotation, value) for key, value in defaults.items()}
    return create_model(name, __base__=TupParams, **fields)


@register("tup_short")
class ShortTermOnlyRanker(TemporalProfileRanker):
    """Ablation: the short-term profile alone."""

    Params: ClassVar[type[RankerParams]] = _ablation_params("ShortParams", profiles="short")


@register("tup_long")
class LongTermOnlyRanker(TemporalProfileRanker):
    """Ablation: the long-term profile alone."""

    Params: ClassVar[type[RankerParams]] = _ablation_params("LongParams", profiles="long")


@register("tup_single")
class SingleProfileRanker(TemporalProfileRanker):
    """Ablation without a temporal split: one undated profile of the whole history."""

    Params: ClassVar[type[RankerParams]] = _ablation_params("SingleParams", profiles="whole")


@register("tup_dot")
class DotProductRanker(TemporalProfileRanker):
    """Ablation: both profiles fused as in LLM-TUP, scored by a dot product with a projected item vector."""

    Params: ClassVar[type[RankerParams]] = _ablation_params("DotParams", scorer="dot")
