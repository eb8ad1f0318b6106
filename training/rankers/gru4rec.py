"""GRU4Rec: a recurrent network reads the user's items in time order and predicts the next one.

Hidasi et al., "Session-based recommendations with recurrent neural networks" (ICLR 2016), in the form
RecBole's GRU4Rec trains (after Tan et al., "Improved recurrent neural networks for session-based
recommendations", DLRS 2016): item embeddings with dropout, a GRU without biases, a linear map back to
the embedding space, and cross-entropy of the next item over all items, the output vectors tied to the
input embeddings. Sequences are left-padded: the padding row of the embedding is zero and the GRU has no
biases, so leading padding leaves the hidden state at exactly zero and cannot change what follows it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import register
from .sequential import SequentialParams, SequentialRanker


class GRU4RecParams(SequentialParams):
    """Hyper-parameters of GRU4Rec (network sizes as RecBole's defaults)."""

    embedding_size: int = Field(default=64, ge=1, description="item embedding size")
    hidden_size: int = Field(default=128, ge=1, description="GRU hidden state size")
    num_layers: int = Field(default=1, ge=1, description="stacked GRU layers")
    dropout_prob: float = Field(default=0.3, ge=0.0, lt=1.0, description="dropout on the input embeddings")


@register("gru4rec")
class GRU4Rec(SequentialRanker):
    """GRU over the last `max_seq_length` items; score = output vector . item embedding."""

    Params = GRU4RecParams

    def _build(self, n_items: int) -> Any:  # noqa: ANN401 - torch is imported lazily
        hp: GRU4RecParams = self.hparams  # type: ignore[assignment]
        return gru4rec_network(n_items, hp.embedding_size, hp.hidden_size, hp.num_layers, hp.dropout_prob)


def gru4rec_network(n_items: int, embedding_size: int, hidden_size: int, num_layers: int,
                    dropout: float) -> Any:  # noqa: ANN401
    """Build the network: (B, L) item ids -> (B, L, embedding_size) next-item query vectors."""
    import torch
    from torch import nn

    class GRU4RecNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.item_embedding = nn.Embedding(n_items + 1, embedding_size, padding_idx=0)
            self.dropout = nn.Dropout(dropout)
            self.gru = nn.GRU(embedding_size, hidden_size, num_layers, bias=False, batch_first=True)
            self.dense = nn.Linear(hidden_size, embedding_size)
            nn.init.xavier_normal_(self.item_embedding.weight)
            for weight in self.gru.parameters():
                nn.init.xavier_uniform_(weight)
            with torch.no_grad():
                self.item_embedding.weight[0].zero_()  # padding must stay an exact zero input

        def forward(self, seqs: torch.Tensor) -> torch.Tensor:
            states, _ = self.gru(self.dropout(self.item_embedding(seqs)))
            return self.dense(states)

    return GRU4RecNet()
