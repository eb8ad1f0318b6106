"""GRU4Rec's network: a bias-free GRU over left-padded item ids (imported lazily: it imports torch)."""

from __future__ import annotations

import torch
from torch import nn


class GRU4RecNet(nn.Module):
    """(B, L) item ids (column + 1, 0 = padding) -> (B, L, embedding_size) next-item query vectors.

    The padding row of the embedding is zero and the GRU has no biases, so leading padding leaves the hidden
    state at exactly zero and cannot change what follows it.
    """

    def __init__(self, n_items: int, embedding_size: int, hidden_size: int, num_layers: int,
                 dropout_prob: float) -> None:
        """Create the layers and initialise them as RecBole's GRU4Rec (Xavier normal items, uniform GRU)."""
        super().__init__()
        self.item_embedding = nn.Embedding(n_items + 1, embedding_size, padding_idx=0)
        self.dropout = nn.Dropout(dropout_prob)
        self.gru = nn.GRU(embedding_size, hidden_size, num_layers, bias=False, batch_first=True)
        self.dense = nn.Linear(hidden_size, embedding_size)
        nn.init.xavier_normal_(self.item_embedding.weight)
        for weight in self.gru.parameters():
            nn.init.xavier_uniform_(weight)
        with torch.no_grad():
            self.item_embedding.weight[0].zero_()  # padding must stay an exact zero input

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        """Encode every position; each sees only the positions up to itself."""
        states, _ = self.gru(self.dropout(self.item_embedding(seqs)))
        return self.dense(states)
