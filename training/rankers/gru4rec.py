"""GRU4Rec: a recurrent network reads the user's items in time order and predicts the next one.

Hidasi et al., "Session-based recommendations with recurrent neural networks" (ICLR 2016), in the form
RecBole's GRU4Rec trains (after Tan et al., "Improved recurrent neural networks for session-based
recommendations", DLRS 2016): item embeddings with dropout, a GRU without biases, a linear map back to
the embedding space, and cross-entropy of the next item over all items, the output vectors tied to the
input embeddings. The network is `gru4rec_net.GRU4RecNet`; the loss and the training loop are the
sequential rankers' (sequential.py); the values are in `training/configs/gru4rec.yaml`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from .base import RankerParams, register
from .sequential import SequentialParams, SequentialRanker

if TYPE_CHECKING:
    from torch import nn


class GRU4RecParams(SequentialParams):
    """Hyper-parameters of GRU4Rec; their values (network sizes as RecBole's) are in gru4rec.yaml."""

    embedding_size: int = Field(ge=1, description="item embedding size")
    hidden_size: int = Field(ge=1, description="GRU hidden state size")
    num_layers: int = Field(ge=1, description="stacked GRU layers")
    dropout_prob: float = Field(ge=0.0, lt=1.0, description="dropout on the input embeddings")


@register("gru4rec")
class GRU4Rec(SequentialRanker):
    """GRU over the last `max_seq_length` items; score = output vector . item embedding."""

    Params: ClassVar[type[RankerParams]] = GRU4RecParams

    def __init__(self, **params: Any) -> None:
        """Start unfitted (see `SequentialRanker`)."""
        super().__init__(**params)
        self.hparams: GRU4RecParams

    def _build(self, n_items: int) -> nn.Module:
        from .gru4rec_net import GRU4RecNet

        hp = self.hparams
        return GRU4RecNet(n_items, hp.embedding_size, hp.hidden_size, hp.num_layers, hp.dropout_prob)
