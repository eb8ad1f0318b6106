"""LLM-TUP's network: the item table, the fusion attention and the scorer (imported lazily: it imports torch).

The first MLP layer is linear in the concatenation [user; item], so it is split into a user part and an item
part computed once per distinct user and item: full ranking of 943 x 1682 pairs then costs two small matrix
products and the upper layers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

if TYPE_CHECKING:
    from .tup import TupParams


class TupNet(nn.Module):
    """Fuse a user's profile vectors by additive attention, then score items with an MLP (or a dot product).

    Layers are created in the order their weights are drawn, so a seed keeps drawing the same weights, and
    under the names saved models use.
    """

    def __init__(self, item_vectors: np.ndarray, n_profiles: int, params: TupParams) -> None:
        """Create the item table (a buffer when frozen, a parameter when tuned), attention and scorer."""
        super().__init__()
        dim = item_vectors.shape[1]
        self.n_profiles = n_profiles
        self.scorer = params.scorer
        self.first_width = params.hidden[0]
        self.bilinear_rank = params.bilinear_rank
        table = torch.from_numpy(np.array(item_vectors, dtype=np.float32))
        if params.item_embeddings == "tuned":
            self.items = nn.Parameter(table)
        else:
            self.register_buffer("items", table)
        self.attention = nn.Sequential(nn.Linear(dim, params.attention_size), nn.Tanh(),
                                       nn.Linear(params.attention_size, 1, bias=False))
        self.bias = nn.Parameter(torch.zeros(len(table))) if params.item_bias else None
        if params.scorer == "mlp":
            self.user_in = nn.Linear(dim, self.first_width)
            self.item_in = nn.Linear(dim, self.first_width, bias=False)
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
        if self.scorer != "mlp":
            return fused
        part = self.user_in(fused)
        return torch.cat([part, self.user_low(fused)], dim=-1) if self.bilinear_rank else part

    def item_part(self, columns: torch.Tensor) -> torch.Tensor:
        """The item's share of the first layer (and of the bilinear term, appended)."""
        items = self.items[columns]
        if self.scorer != "mlp":
            return self.item_projection(items)
        part = self.item_in(items)
        return torch.cat([part, self.item_low(items)], dim=-1) if self.bilinear_rank else part

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
        if self.scorer != "mlp":
            return self.scale * (user_parts * item_parts).sum(-1)
        h = self.first_width
        logits = self.upper(user_parts[:, :h] + item_parts[:, :h]).squeeze(-1)
        return logits + (user_parts[:, h:] * item_parts[:, h:]).sum(-1) if self.bilinear_rank else logits

    def _grid_logits(self, user_parts: torch.Tensor, item_parts: torch.Tensor) -> torch.Tensor:
        if self.scorer != "mlp":
            return self.scale * user_parts @ item_parts.T
        h = self.first_width
        logits = self.upper(user_parts[:, None, :h] + item_parts[None, :, :h]).squeeze(-1)
        return logits + user_parts[:, h:] @ item_parts[:, h:].T if self.bilinear_rank else logits
