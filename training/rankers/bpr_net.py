"""BPR-MF's network: one learned vector per user and per item (imported lazily: it imports torch)."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn


class BPRNet(nn.Module):
    """User and item embedding tables; `forward()` returns the final (user, item) vector tables.

    For matrix factorisation the final vectors are the embeddings themselves; LightGCN's subclass smooths
    them over the interaction graph first. Initialisation is Xavier ('normal' as RecBole's BPR, 'uniform' as
    its LightGCN), users first, so a seed draws the same weights as it always did.
    """

    def __init__(self, n_users: int, n_items: int, dim: int, init: Literal["normal", "uniform"]) -> None:
        """Create and initialise both tables."""
        super().__init__()
        self.users = nn.Embedding(n_users, dim)
        self.items = nn.Embedding(n_items, dim)
        for table in (self.users, self.items):
            (nn.init.xavier_normal_ if init == "normal" else nn.init.xavier_uniform_)(table.weight)

    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the (n_users, dim) and (n_items, dim) vectors that scores are dot products of."""
        return self.users.weight, self.items.weight
