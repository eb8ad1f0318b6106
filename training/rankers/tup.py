"""LLM-TUP: temporal user profiles, embedded, fused by attention per user, scored against items by an MLP.

Each user has a short-term profile (the last few films) and a long-term profile (the whole history), written
by a `ProfileWriter` (an LLM, or offline from the data) and embedded by the sentence encoder (MiniLM, 384-d).
An additive attention gives each user two weights (alpha_short, alpha_long; softmax), the fused vector
is concatenated with the item's text embedding and an MLP outputs a logit. Trained pointwise with binary
cross-entropy, 5 negatives per positive. Encoder outputs are cached; only fusion and MLP are trained.

Ablations are registered as their own rankers so the benchmark reports them beside the baselines:
`tup_short` (short-term profile only), `tup_long` (long-term only), `tup_single` (one undated profile of the
whole history: no temporal split) and `tup_dot` (a dot product with a projected item vector instead of the MLP).

The network is `tup_net.TupNet`, the loss binary cross-entropy (or a softmax over a positive and its negatives),
the values `training/configs/tup.yaml` (each ablation's YAML extends it and sets its variant); the epoch loop,
early stopping, threads, seeding and the subnormal flush are `torch_common.fit_epochs`'s.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, cast

import numpy as np
from pydantic import Field

from convrec.core.errors import UserError

from ..interactions import Interactions
from .base import RankerParams, Validator, as_positions, register
from .bpr import sample_negatives
from .torch_common import FitContext, TorchParams, TorchRanker, Training, batch_slices, train_batches

if TYPE_CHECKING:
    import torch

    from ..text_inputs import TextInputs
    from .tup_net import TupNet

log = logging.getLogger(__name__)

PROFILE_KINDS = {"both": ("short_term", "long_term"), "short": ("short_term",), "long": ("long_term",),
                 "whole": ("whole",)}
SCORE_CHUNK = 64  # users scored at once in full ranking (64 x 1682 x hidden floats)
MIN_STEPS, MIN_BATCH = 50, 32  # optimiser steps an epoch at least, unless batches would drop below 32 pairs


class TupParams(TorchParams):
    """LLM-TUP's trainable part; the values are in `training/configs/tup.yaml` (the ablations' YAML extends it)."""

    profiles: Literal["both", "short", "long", "whole"]  # the variant: which profile texts are fused
    scorer: Literal["mlp", "dot"]  # the variant: an MLP over [user; item], or a dot product
    attention_size: int = Field(ge=1)
    hidden: tuple[int, ...]
    bilinear_rank: int = Field(ge=0)  # >0 adds <P user, Q item> (rank r) to the MLP's logit
    item_embeddings: Literal["frozen", "tuned"]  # 'tuned': text vectors are the start, then trained
    item_bias: bool  # a learned per-item offset added to the logit
    # >0: the network trains on profiles written from the head of each training history, with the latest
    # films (this share of it, at least one) as positives: the task it is tested on (what comes next).
    profile_cut: float = Field(ge=0.0, lt=1.0)
    cut_positives: Literal["later", "all"]  # with a cut: the later films only, or every training film
    # Extra training profiles written from the first (1 - c) of each history, one set per c: each training pair
    # reads one version at random. At test time profiles are rewritten from a longer history than they were
    # trained on; a network that saw one fixed vector per user can key on that vector rather than on what the
    # text says, and the rewritten vector loses what it learned.
    profile_augment: tuple[float, ...]
    dropout: float = Field(ge=0.0, lt=1.0)
    negatives: int = Field(ge=1)
    # 'bce': each pair on its own (the paper's); 'softmax': each positive against its own negatives.
    loss: Literal["bce", "softmax"]
    negative_sampling: Literal["fixed", "per_epoch"]
    # Sampled negatives are drawn in proportion to (training count + 1) ** power; 0 is uniform. Uniform negatives
    # are mostly films few people rated, which teaches the network popularity more than taste.
    negative_power: float = Field(ge=0.0)
    lr: float = Field(gt=0)
    # >0: validate, keep and score with an exponential moving average of the weights (this decay per step)
    # rather than the last step's weights, which jump about from one epoch to the next.
    weight_average: float = Field(ge=0.0, lt=1.0)
    weight_decay: float = Field(ge=0)


@register("tup")
class TemporalProfileRanker(TorchRanker):
    """LLM-TUP (short- and long-term profiles, attention fusion, MLP); see the module docstring."""

    version: ClassVar[int] = 1
    needs_text: ClassVar[bool] = True
    Params: ClassVar[type[RankerParams]] = TupParams
    # Easy negatives' sigmoid gradients underflow to subnormal floats, which CPU products handle many times
    # slower (see `denormals_flushed`).
    flush_denormals: ClassVar[bool] = True

    def __init__(self, **params: Any) -> None:
        """Start unfitted and without texts: `attach` gives them, `fit` or `load` the network."""
        super().__init__(**params)
        self.hparams: TupParams
        self.inputs: TextInputs | None = None
        self.network: TupNet | None = None

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
        inputs = self._require_inputs()
        self.user_ids, self.item_ids = data.user_ids.copy(), data.item_ids.copy()
        self.profile_vectors = inputs.profile_vectors(data, self.kinds)
        self.item_vectors = inputs.item_vectors(data.item_ids)
        head, targets = self._training_view(data)
        first = self.profile_vectors if head is data else inputs.profile_vectors(head, self.kinds)
        # (versions, users, kinds, dim): the profiles training reads; version 0 is the usual one
        self.training_profiles = np.stack([first, *(inputs.profile_vectors(data.head(self._kept_lengths(data, c)),
                                                                            self.kinds)
                                                    for c in self.hparams.profile_augment)])
        self._fit_epochs(lambda context: self._setup(context, data, targets), seed=seed,
                         show_progress=show_progress, validate=validate)
        self.network = self._require_network().to("cpu")  # scoring reads numpy inputs on the CPU
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

    def _setup(self, context: FitContext, data: Interactions, targets: Interactions) -> Training:
        """Build the network and its optimiser, draw the training pairs, and return one epoch of training.

        Each epoch redraws the negatives (with `per_epoch`, from the second epoch on), picks a profile
        version per positive when there are several, shuffles and takes the BCE (or softmax) steps.
        """
        import torch

        from .tup_net import TupNet

        hp, device, rng = self.hparams, context.device, context.rng
        network = TupNet(self.item_vectors, len(self.kinds), hp).to(device)
        optimizer = torch.optim.Adam(network.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
        averaged = torch.optim.swa_utils.AveragedModel(
            network, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(hp.weight_average)
        ) if hp.weight_average else None
        kept = cast("TupNet", averaged.module) if averaged is not None else network  # validated, saved and scored
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

        def batch_loss(batch: np.ndarray, pair_rows: np.ndarray, pair_items: np.ndarray) -> tuple[torch.Tensor, int]:
            rows, items = (torch.from_numpy(column[batch]).to(device) for column in (pair_rows, pair_items))
            return self._loss(network, profiles, rows, items, torch.from_numpy(labels[batch]).to(device)), len(batch)

        def train_epoch(epoch: int) -> float:
            nonlocal negatives
            if epoch > 1 and hp.negative_sampling == "per_epoch":
                negatives = self._sample(data, users, rng)
            pair_items = np.concatenate([positives[:, None], negatives], axis=1).reshape(-1)
            # the profile version each positive and its negatives read, as a row of the (version, user) table
            pair_rows = pair_users + n_users * np.repeat(rng.integers(versions, size=len(users)), k + 1) \
                if versions > 1 else pair_users
            order = (rng.permutation(len(users))[:, None] * (k + 1) + np.arange(k + 1)).reshape(-1) if grouped \
                else rng.permutation(len(pair_users))
            return train_batches(optimizer, (order[s] for s in batch_slices(len(order), batch_size)),
                                 lambda batch: batch_loss(batch, pair_rows, pair_items),
                                 after_step=None if averaged is None else lambda: averaged.update_parameters(network))

        return Training(network=network, train_epoch=train_epoch, kept=kept)

    def _loss(self, network: TupNet, profiles: torch.Tensor, rows: torch.Tensor, items: torch.Tensor,
              labels: torch.Tensor) -> torch.Tensor:
        """Mean loss of a batch of (profile row, item) pairs: each positive is followed by its negatives.

        'bce' (the paper's) takes each pair's logit against its label on its own; 'softmax' takes each positive
        against its own negatives (batches hold whole groups). The fusion runs once per distinct profile row.
        """
        import torch
        import torch.nn.functional as F  # noqa: N812

        distinct, inverse = torch.unique(rows, return_inverse=True)
        fused, _ = network.fuse(profiles[distinct])
        user_parts = network.user_part(fused)[inverse]
        item_parts = network.item_part(items)
        logits = network.pair_logits(user_parts, item_parts, items)
        if self.hparams.loss == "softmax":  # the positive is column 0 of each group
            groups = logits.view(-1, self.hparams.negatives + 1)
            return F.cross_entropy(groups, groups.new_zeros(len(groups), dtype=torch.long))
        return F.binary_cross_entropy_with_logits(logits, labels)

    # ----- scoring -------------------------------------------------------------------------------------
    def set_history(self, data: Interactions) -> None:
        """Rewrite and re-embed profiles from `data` (train + validation at test time); cached on disk."""
        if self.inputs is None:
            return
        if data.user_ids.shape != self.user_ids.shape or np.any(data.user_ids != self.user_ids):
            raise ValueError("set_history needs the same users the model was fitted on")
        self.profile_vectors = self.inputs.profile_vectors(data, self.kinds)

    def _require_network(self) -> TupNet:
        self._require_fitted()
        if self.network is None:
            raise RuntimeError(f"{type(self).__name__} has no network")
        return self.network

    def _user_parts(self, profile_vectors: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        import torch

        network = self._require_network()
        with torch.no_grad():
            fused, weights = network.fuse(torch.from_numpy(profile_vectors).to(_device_of(network)))
            return network.user_part(fused), weights.cpu().numpy()

    def _item_parts(self, columns: np.ndarray) -> torch.Tensor:
        import torch

        network = self._require_network()
        with torch.no_grad():
            return network.item_part(torch.from_numpy(np.asarray(columns, dtype=np.int64)).to(_device_of(network)))

    def _grid(self, profile_vectors: np.ndarray, columns: np.ndarray) -> np.ndarray:
        import torch

        network = self._require_network()
        network.eval()
        item_parts = self._item_parts(columns)
        positions = torch.from_numpy(np.asarray(columns, dtype=np.int64)).to(_device_of(network))
        out = np.empty((len(profile_vectors), len(columns)), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(profile_vectors), SCORE_CHUNK):
                user_parts, _ = self._user_parts(profile_vectors[start:start + SCORE_CHUNK])
                out[start:start + SCORE_CHUNK] = network.grid_logits(user_parts, item_parts, positions).cpu().numpy()
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

    def profiled_users(self) -> np.ndarray:
        """Boolean mask over user rows: True where the user has a written profile (some history to write from).

        A user without films has all-zero profile vectors: their fusion weights say nothing about them. The chat
        asks on every turn, so the mask is kept until `profile_vectors` is replaced (fit, set_history, load).
        """
        self._require_fitted()
        cached = getattr(self, "_profiled", None)
        if cached is None or cached[0] is not self.profile_vectors:
            cached = (self.profile_vectors, np.abs(self.profile_vectors).sum(axis=(1, 2)) > 0)
            self._profiled = cached
        return cached[1]

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
        state = {f"net.{key}": value.detach().cpu().numpy()
                 for key, value in self._require_network().state_dict().items()}
        return {**state, "profile_vectors": self.profile_vectors, "item_vectors": self.item_vectors,
                "user_ids": self.user_ids, "item_ids": self.item_ids,
                "best_epoch": np.array(-1 if self.best_epoch is None else self.best_epoch)}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        import torch

        from .tup_net import TupNet

        self.profile_vectors = arrays["profile_vectors"].astype(np.float32)
        self.item_vectors = arrays["item_vectors"].astype(np.float32)
        self.user_ids, self.item_ids = arrays["user_ids"], arrays["item_ids"]
        saved = int(arrays["best_epoch"])
        self._saved_best_epoch = saved if saved >= 0 else None
        network = TupNet(self.item_vectors, len(self.kinds), self.hparams)
        network.load_state_dict({key[4:]: torch.from_numpy(np.array(value)) for key, value in arrays.items()
                                 if key.startswith("net.")})
        self.network = network.eval()


@register("tup_short")
class ShortTermOnlyRanker(TemporalProfileRanker):
    """Ablation: the short-term profile alone (`profiles: short` in tup_short.yaml)."""


@register("tup_long")
class LongTermOnlyRanker(TemporalProfileRanker):
    """Ablation: the long-term profile alone (`profiles: long` in tup_long.yaml)."""


@register("tup_single")
class SingleProfileRanker(TemporalProfileRanker):
    """Ablation without a temporal split: one undated profile of the whole history (`profiles: whole`)."""


@register("tup_dot")
class DotProductRanker(TemporalProfileRanker):
    """Ablation: both profiles fused as in LLM-TUP, scored by a dot product with a projected item vector."""


def _device_of(network: TupNet) -> torch.device:
    """Where the network's weights are: the GPU while it trains there (validation scores it), else the CPU."""
    return next(network.parameters()).device
