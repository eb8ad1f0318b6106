"""Profile-then-Embed (PtE), embedding stage: profiles as side inputs of a ranking backbone, items without IDs.

The profile stage (`training/profiles/pte_refine.py`) writes each user's and each film's profile from the training
rows, refines both sides for `rounds` rounds and keeps, per user, the candidate the group-relative reward prefers.
Here the final profiles and the films' texts are embedded by the frozen sentence encoder (cached per text), and
the backbone learns, with the BPR ranking loss, the projections that make them rank:

- user = a learned layer over [ID embedding, MLP(profile vector)]; a share of the IDs (`id_dropout`) is zeroed at
  each training step, so the profile half learns to rank on its own;
- item = MLP(text vector) + MLP(profile vector): no ID embedding, so a film nobody rated in training is scored from
  what is written about it;
- backbone `mf`: the score is the dot product; `lightgcn`: the layer-0 vectors above are propagated over the
  normalised user-item graph and averaged over layers before the dot product.

The training loop, the BPR loss and the negatives are BPR-MF's (`bpr.py`), the epoch loop `torch_common.fit_epochs`.
Ablations are their own rankers (`training/configs/pte_*.yaml` extend `pte.yaml` and change one switch):
`pte_no_profile` (the same backbone with user and item IDs only), `pte_user_only` (no item profiles: items are
their text alone), `pte_item_only` (users are their ID alone), `pte_single_pass` (no refinement rounds),
`pte_no_select` (each user's first candidate), `pte_no_collab_reward` (candidates chosen by distinctiveness alone),
and `pte_lightgcn` (the other backbone).

Scoring needs no torch: the final vectors are cached as numpy arrays, and so is the user side's profile head, so a
person known only by a profile written from a conversation gets a vector (`score_profile`).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, cast

import numpy as np
from pydantic import Field

from convrec.core.errors import UserError

from ..interactions import Interactions
from ..profiles.pte_refine import PtEProfiles, SelectionConfig, build_pte_profiles
from ..profiles.pte_writer import OfflinePtEWriter, PtEData, render, unrated_item_facts
from ..text_inputs import item_text
from .base import RankerParams, Validator, as_positions, register
from .bpr import BPR, BPRParams, ego_penalty
from .lightgcn import normalized_adjacency

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ..text_inputs import TextInputs
    from .pte_net import PtENet

log = logging.getLogger(__name__)

HEAD_LAYERS = ("user_mlp.0.weight", "user_mlp.0.bias", "user_mlp.2.weight", "user_mlp.2.bias")


class PtEParams(BPRParams):
    """PtE's switches and training settings; the values are in training/configs/pte.yaml (ablations extend it)."""

    backbone: Literal["mf", "lightgcn"]
    n_layers: int = Field(ge=0, description="propagation layers of the lightgcn backbone")
    user_profile: bool = Field(description="users read their profile vector (else their ID alone)")
    item_profile: bool = Field(description="items read their profile vector")
    item_text: bool = Field(description="items read their text vector (the retrieval document)")
    item_id: bool = Field(description="items have an ID embedding (the IDs-only ablation; beside features, a "
                          "hybrid outside the reference, with no ID for films nobody rated)")
    rounds: int = Field(ge=0, description="bidirectional refinement rounds of the profile stage")
    selection: Literal["reward", "first", "distinctiveness"] = Field(
        description="which user candidate is kept: the group-relative reward, the first, or distinctiveness alone")
    hidden: int = Field(ge=1, description="hidden width of the profile and text MLPs")
    id_dropout: float = Field(ge=0.0, lt=1.0, description="share of user IDs zeroed at each training step")
    item_dropout: float = Field(ge=0.0, lt=1.0, description="share of rated items shown in their unrated form "
                                "(text and profile of a film nobody rated, no ID) at each training step")
    reg_weight: float = Field(ge=0.0, description="weight of the L2 penalty on the batch's ID embeddings")
    weight_decay: float = Field(ge=0.0, description="Adam's L2 penalty (on the MLPs too)")


@register("pte")
class PtERanker(BPR):
    """PtE on its default backbone; see the module docstring."""

    # 2: negatives only among films rated in training; the profile texts saved with the model; unrated forms;
    # isolated graph nodes keep their layer-0 vector. 3: three candidates per user, not four
    version: ClassVar[int] = 3
    needs_text: ClassVar[bool] = True
    Params: ClassVar[type[RankerParams]] = PtEParams
    init: ClassVar[Literal["normal", "uniform"]] = "normal"

    def __init__(self, **params: Any) -> None:
        """Start unfitted and without texts: `attach` gives them, `fit` or `load` the vectors."""
        super().__init__(**params)
        self.hparams: PtEParams
        self.inputs: TextInputs | None = None
        self.profiles: PtEProfiles | None = None
        self.user_ids = np.zeros(0, dtype=np.int64)
        self.item_ids = np.zeros(0, dtype=np.int64)
        self.head: dict[str, np.ndarray] = {}  # the user side's profile head, for profile-only users
        # The final profile texts the model was fitted on (saved with it: the search index states the items')
        self.user_profiles: dict[int, str] = {}
        self.item_profiles: dict[int, str] = {}

    def attach(self, inputs: TextInputs) -> None:
        """Take the catalogue, item texts and encoder that profiles and their vectors are made from."""
        self.inputs = inputs

    def _require_inputs(self) -> TextInputs:
        if self.inputs is None:
            raise UserError(f"ranker {self.name!r} reads profiles and item texts: attach TextInputs first")
        if self.inputs.catalogue is None:
            raise UserError(f"ranker {self.name!r} writes profiles from user demographics and ratings, which only "
                            "a MovieLens catalogue has (ml-100k)")
        return self.inputs

    @property
    def selection(self) -> SelectionConfig:
        """The candidate selection these params ask for."""
        choice = self.hparams.selection
        return SelectionConfig(select=choice != "first", collab_reward=choice == "reward")

    # ----- the profile stage ---------------------------------------------------------------------------
    def build_profiles(self, data: Interactions) -> PtEProfiles:
        """Write (or read back) every user's and film's profile from the rows of `data` (cached per text)."""
        inputs = self._require_inputs()
        assert inputs.catalogue is not None  # checked above
        embed = partial(inputs.embeddings.encode, show_progress=inputs.show_progress, desc="encoding PtE texts")
        writer = inputs.pte_writer or OfflinePtEWriter()
        fallback = None if isinstance(writer, OfflinePtEWriter) else OfflinePtEWriter()  # a model's failures
        return build_pte_profiles(PtEData.build(inputs.catalogue, data), inputs.cache_dir / "pte", embed=embed,
                                  writer=writer, fallback=fallback, rounds=self.hparams.rounds,
                                  selection=self.selection, show_progress=inputs.show_progress, workers=inputs.workers)

    def _features(self, data: Interactions) -> tuple[np.ndarray | None, list[np.ndarray], list[np.ndarray]]:
        """User profile vectors (or None), then the items' feature vectors as switched on (text, profile).

        The items' come twice: as they are, and as they would be if nobody had rated the film (a film nobody rated in
        `data` has only that form).
        """
        hp = self.hparams
        inputs = self._require_inputs()
        assert inputs.catalogue is not None  # checked by _require_inputs
        needs_profiles = hp.user_profile or hp.item_profile
        self.profiles = self.build_profiles(data) if needs_profiles else None
        if self.profiles is not None:
            self.user_profiles, self.item_profiles = dict(self.profiles.users), dict(self.profiles.items)
        encode = partial(inputs.embeddings.encode, show_progress=inputs.show_progress, desc="encoding PtE profiles")
        users = None
        if hp.user_profile and self.profiles is not None:
            texts = self.profiles.users
            users = encode([texts.get(int(u), "") for u in data.user_ids])
        catalogue = inputs.catalogue.items
        items: list[np.ndarray] = []
        cold: list[np.ndarray] = []
        if hp.item_text:
            items.append(inputs.item_vectors(data.item_ids))
            cold.append(encode([item_text(catalogue[int(i)]) for i in data.item_ids]))
        if hp.item_profile and self.profiles is not None:
            texts = self.profiles.items
            items.append(encode([texts.get(int(i), "") for i in data.item_ids]))
            # The unrated form is the offline writer's: it states title, year and genres, which a model adds nothing to.
            cold.append(encode([render("item", unrated_item_facts(catalogue[int(i)])) for i in data.item_ids]))
        unrated = np.asarray(data.item_counts()).reshape(-1) == 0
        for warm, unrated_form in zip(items, cold, strict=True):
            warm[unrated] = unrated_form[unrated]
        return users, items, cold

    # ----- training ------------------------------------------------------------------------------------
    def fit(self, data: Interactions, *, seed: int, show_progress: bool = False,
            validate: Validator | None = None) -> Self:
        """Build and embed the profiles (cached), then train the backbone with BPR as BPR-MF does."""
        self.user_ids, self.item_ids = data.user_ids.copy(), data.item_ids.copy()
        self._user_features, self._item_features, self._cold_features = self._features(data)
        return super().fit(data, seed=seed, show_progress=show_progress, validate=validate)

    def _network(self, data: Interactions) -> PtENet:
        from .pte_net import PtENet

        hp = self.hparams
        graph = hp.backbone == "lightgcn"
        return PtENet(data.n_users, data.n_items, hp.embedding_size, init="uniform" if graph else self.init,
                      user_id=True, user_profiles=self._user_features, item_id=hp.item_id,
                      item_features=self._item_features, hidden=hp.hidden, id_dropout=hp.id_dropout,
                      adjacency=normalized_adjacency(data.matrix) if graph else None, n_layers=hp.n_layers,
                      rated=np.asarray(data.item_counts()).reshape(-1) > 0, cold_features=self._cold_features,
                      item_dropout=hp.item_dropout)

    def _negative_weights(self, data: Interactions) -> np.ndarray | None:
        """Uniform over films someone rated in training: a film nobody rated is no evidence of dislike.

        With IDs, such a film's vector is only ever pushed down, which does not matter: nobody can rank it. Without
        IDs the MLPs learn what such films' texts share ("not rated yet") and push every new film to the bottom
        (on the fixture, a held-out sci-fi film fell to the 8th percentile for sci-fi and comedy fans alike).
        """
        features = self.hparams.item_text or self.hparams.item_profile
        return (np.asarray(data.item_counts()).reshape(-1) > 0).astype(np.float64) if features else None

    def _weight_decay(self) -> float:
        return self.hparams.weight_decay

    def _loss(self, network: nn.Module, users: torch.Tensor, positives: torch.Tensor,
              negatives: torch.Tensor) -> torch.Tensor:
        """BPR loss plus reg_weight * (sum of the batch's ID-embedding L2 norms) / batch size, as LightGCN."""
        loss = super()._loss(network, users, positives, negatives)
        if self.hparams.reg_weight == 0.0:
            return loss
        net = cast("PtENet", network)
        ego = [net.users.weight[users]] if net.users is not None else []
        if net.items is not None:
            ego += [net.items.weight[positives], net.items.weight[negatives]]
        return loss + self.hparams.reg_weight * ego_penalty(ego, len(users))

    def _refresh(self, network: nn.Module) -> None:
        """Cache the final vectors and the user side's profile head as numpy arrays."""
        super()._refresh(network)
        state = network.state_dict()
        self.head = {key: state[key].detach().cpu().numpy().copy() for key in (*HEAD_LAYERS, "user_mix.weight",
                                                                              "user_mix.bias") if key in state}

    # ----- scoring -------------------------------------------------------------------------------------
    def profile_vector(self, vector: np.ndarray) -> np.ndarray:
        """The layer-0 user vector of someone known only by a profile vector (their ID half is zero).

        Zero IDs are what `id_dropout` trains the profile half for. On the lightgcn backbone this is the layer-0
        vector, not a propagated one (the person is not in the graph), scored against the final item vectors.
        """
        self._require_fitted()
        if "user_mlp.0.weight" not in self.head:
            raise UserError(f"ranker {self.name!r} does not read user profiles")
        h = self.head
        hidden = np.maximum(h["user_mlp.0.weight"] @ vector + h["user_mlp.0.bias"], 0.0)
        projected = h["user_mlp.2.weight"] @ hidden + h["user_mlp.2.bias"]
        if "user_mix.weight" in h:
            dim = projected.shape[0]
            projected = h["user_mix.weight"][:, dim:] @ projected + h["user_mix.bias"]
        return projected.astype(np.float32)

    def score_profile(self, vector: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Scores for a person known only by a profile vector (e.g. one written from a conversation)."""
        columns = self.item_vectors[as_positions(items, len(self.item_vectors))]
        return np.asarray(columns @ self.profile_vector(np.asarray(vector, dtype=np.float32)), dtype=np.float32)

    # ----- persistence ---------------------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        return {**super()._arrays(), "user_ids": self.user_ids, "item_ids": self.item_ids,
                "user_profiles": np.array([self.user_profiles.get(int(u), "") for u in self.user_ids], dtype=str),
                "item_profiles": np.array([self.item_profiles.get(int(i), "") for i in self.item_ids], dtype=str),
                **{f"head.{key}": value for key, value in self.head.items()}}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        super()._restore(arrays)
        self.user_ids, self.item_ids = arrays["user_ids"], arrays["item_ids"]
        for name, ids in (("user_profiles", self.user_ids), ("item_profiles", self.item_ids)):
            texts = {int(k): str(t) for k, t in zip(ids, arrays[name], strict=True) if str(t)}
            setattr(self, name, texts)
        self.head = {key[5:]: np.asarray(value, dtype=np.float32) for key, value in arrays.items()
                     if key.startswith("head.")}


@register("pte_lightgcn")
class PtELightGCN(PtERanker):
    """PtE on the LightGCN backbone (`backbone: lightgcn`)."""


@register("pte_no_profile")
class PtENoProfile(PtERanker):
    """Ablation: the same backbone with user and item IDs only (no profile, no text)."""


@register("pte_user_only")
class PtEUserOnly(PtERanker):
    """Ablation: user profiles on, item profiles off (items are their text alone)."""


@register("pte_item_only")
class PtEItemOnly(PtERanker):
    """Ablation: item text and profiles on, users their ID alone."""


@register("pte_single_pass")
class PtESinglePass(PtERanker):
    """Ablation: the round-0 profiles, no bidirectional refinement."""


@register("pte_no_select")
class PtENoSelect(PtERanker):
    """Ablation: each user's first (canonical) candidate, no reward."""


@register("pte_no_collab_reward")
class PtENoCollabReward(PtERanker):
    """Ablation: candidates chosen by distinctiveness alone, without collaborative alignment."""
