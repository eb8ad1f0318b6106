"""PtE's network: user = a learned layer over [ID embedding, MLP(profile)]; item = MLP(text) + MLP(profile), no ID.

The reference's backbones (BiasMF, LightGCN) take the profile vectors as side inputs in this form. The item side
has no ID embedding (unless an ablation asks for one), so a film nobody rated in training still gets a vector from
its text and profile. With a graph (the LightGCN backbone) the layer-0 vectors built here are propagated over the
normalised user-item graph and averaged over layers, as LightGCN does with plain embeddings; a film with no edges
keeps its layer-0 vector. Imported lazily: it imports torch.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from .lightgcn_net import SymmetricMM, csr_tensor


def profile_mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    """The projection of a frozen sentence vector into the ranking space: Linear, ReLU, Linear."""
    return nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, d_out))


class PtENet(nn.Module):
    """Layer-0 user and item vectors from IDs and profile features, optionally propagated over the graph.

    `user_profiles` (n_users, d) and each of `item_features` (n_items, d) are frozen encoder outputs (buffers, not
    in the state dict). `id_dropout` zeroes a share of the users' ID embeddings at each training forward, so the
    profile half of the user layer learns to score on its own: what a user known only by a profile gets.
    """

    def __init__(self, n_users: int, n_items: int, dim: int, *, init: Literal["normal", "uniform"],
                 user_id: bool, user_profiles: np.ndarray | None, item_id: bool, item_features: list[np.ndarray],
                 hidden: int, id_dropout: float = 0.0, adjacency: sp.csr_matrix | None = None,
                 n_layers: int = 0, rated: np.ndarray | None = None, cold_features: list[np.ndarray] | None = None,
                 item_dropout: float = 0.0) -> None:
        """Create the tables and MLPs (users first, in a fixed order, so a seed draws the same weights)."""
        super().__init__()
        if not user_id and user_profiles is None:
            raise ValueError("a user needs an ID embedding, a profile or both")
        if not item_id and not item_features:
            raise ValueError("an item needs an ID embedding, a text or profile feature, or both")
        initialise = nn.init.xavier_normal_ if init == "normal" else nn.init.xavier_uniform_
        self.n_users, self.n_items, self.id_dropout = n_users, n_items, id_dropout
        self.users = nn.Embedding(n_users, dim) if user_id else None
        if self.users is not None:
            initialise(self.users.weight)
        self.user_mlp: nn.Module | None = None
        self.user_mix: nn.Module | None = None
        if user_profiles is not None:
            self.register_buffer("user_profiles", torch.from_numpy(np.asarray(user_profiles, np.float32)),
                                 persistent=False)
            self.user_mlp = profile_mlp(user_profiles.shape[1], hidden, dim)
            if user_id:  # the reference's learned layer over [ID, MLP(profile)]
                self.user_mix = nn.Linear(2 * dim, dim)
        self.items = nn.Embedding(n_items, dim) if item_id else None
        if self.items is not None:
            initialise(self.items.weight)
            # Beside text and profile features, an item nobody rated in training has no ID: it cannot learn one.
            mask = np.ones(n_items) if rated is None or not item_features else np.asarray(rated, dtype=np.float64)
            self.register_buffer("item_id_mask", torch.from_numpy(mask.astype(np.float32))[:, None],
                                 persistent=False)
        self.item_mlps = nn.ModuleList(profile_mlp(f.shape[1], hidden, dim) for f in item_features)
        for k, features in enumerate(item_features):
            self.register_buffer(f"item_features_{k}", torch.from_numpy(np.asarray(features, np.float32)),
                                 persistent=False)
        # Each item's features as if nobody had rated it; in training a share `item_dropout` of rated items is shown
        # in this form (with no ID), so the MLPs learn to place a new film, which has only this form.
        self.item_dropout = item_dropout if cold_features else 0.0
        for k, features in enumerate(cold_features or []):
            self.register_buffer(f"cold_features_{k}", torch.from_numpy(np.asarray(features, np.float32)),
                                 persistent=False)
        self.n_layers = n_layers if adjacency is not None else 0
        if adjacency is not None:
            self.register_buffer("adjacency", csr_tensor(adjacency), persistent=False)
            # A node with no edge (a film nobody rated in training) keeps its layer-0 vector whole: averaged with
            # its empty propagated layers it would shrink to 1 / (K + 1) of it and sink below every rated film.
            isolated = np.diff(adjacency.indptr) == 0
            self.register_buffer("isolated", torch.from_numpy(isolated)[:, None], persistent=False)

    def user_layer(self, ids: torch.Tensor | None, profiles: torch.Tensor | None) -> torch.Tensor:
        """Layer-0 user vectors from ID vectors and profile vectors (either may be None when not used)."""
        projected = self.user_mlp(profiles) if self.user_mlp is not None and profiles is not None else None
        if self.user_mix is not None and ids is not None and projected is not None:
            return self.user_mix(torch.cat([ids, projected], dim=-1))
        if ids is not None:
            return ids
        if projected is None:
            raise ValueError("no user input")
        return projected

    def ego(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Layer-0 (users, items); in training, a random `id_dropout` share of user IDs is zeroed."""
        ids = None
        if self.users is not None:
            ids = self.users.weight
            if self.training and self.id_dropout > 0 and self.user_mlp is not None:
                keep = (torch.rand(len(ids), 1, device=ids.device) >= self.id_dropout).to(ids.dtype)
                ids = ids * keep
        users = self.user_layer(ids, self.get_buffer("user_profiles") if self.user_mlp is not None else None)
        dropped = None
        if self.training and self.item_dropout > 0:
            dropped = torch.rand(self.n_items, 1, device=users.device) < self.item_dropout
        parts = []
        if self.items is not None:
            ids = self.items.weight * self.get_buffer("item_id_mask")
            parts.append(ids if dropped is None else ids * (~dropped).to(ids.dtype))
        for k, mlp in enumerate(self.item_mlps):
            features = self.get_buffer(f"item_features_{k}")
            if dropped is not None:
                features = torch.where(dropped, self.get_buffer(f"cold_features_{k}"), features)
            parts.append(mlp(features))
        return users, torch.stack(parts).sum(dim=0)

    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Final (users, items): layer 0, or the mean of layers 0..K over the graph."""
        users, items = self.ego()
        if not self.n_layers:
            return users, items
        layer = torch.cat([users, items], dim=0)
        total = layer
        for _ in range(self.n_layers):
            layer = SymmetricMM.apply(self.get_buffer("adjacency"), layer)
            total = total + layer
        final = torch.where(self.get_buffer("isolated"), torch.cat([users, items], dim=0), total / (self.n_layers + 1))
        return final[:self.n_users], final[self.n_users:]
