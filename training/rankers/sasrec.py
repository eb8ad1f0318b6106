"""SASRec: causal self-attention over the user's items in time order predicts the next one.

Kang & McAuley, "Self-attentive sequential recommendation" (ICDM 2018), in the form RecBole's SASRec
trains: item plus learned position embeddings, layer norm and dropout, `n_layers` post-norm Transformer
blocks (multi-head attention, GELU feed-forward as in BERT rather than the paper's 1x1 convolutions), and
cross-entropy of the next item over all items with output vectors tied to the item embeddings (the loss
Klenitskiy & Vasilev, RecSys 2023, found much stronger than the paper's one sampled negative).

The network is `sasrec_net.SASRecNet`; the loss and the training loop are the sequential rankers'
(sequential.py); the values are in `training/configs/sasrec.yaml`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import Field, model_validator

from .base import RankerParams, register
from .sequential import SequentialParams, SequentialRanker

if TYPE_CHECKING:
    from torch import nn


class SASRecParams(SequentialParams):
    """Hyper-parameters of SASRec; their values (network sizes as RecBole's) are in sasrec.yaml."""

    n_layers: int = Field(ge=1, description="Transformer blocks")
    n_heads: int = Field(ge=1, description="attention heads (must divide hidden_size)")
    hidden_size: int = Field(ge=1, description="item, position and hidden vector size")
    inner_size: int = Field(ge=1, description="feed-forward inner size")
    hidden_dropout_prob: float = Field(ge=0.0, lt=1.0, description="dropout on hidden vectors")
    attn_dropout_prob: float = Field(ge=0.0, lt=1.0, description="dropout on attention weights")
    layer_norm_eps: float = Field(gt=0.0, description="layer-norm epsilon")
    initializer_range: float = Field(gt=0.0, description="std of the normal weight init")

    @model_validator(mode="after")
    def _heads_divide_hidden(self) -> Self:
        if self.hidden_size % self.n_heads:
            raise ValueError(f"n_heads ({self.n_heads}) must divide hidden_size ({self.hidden_size})")
        return self


@register("sasrec")
class SASRec(SequentialRanker):
    """Causal Transformer over the last `max_seq_length` items; score = last hidden . item embedding."""

    Params: ClassVar[type[RankerParams]] = SASRecParams

    def __init__(self, **params: Any) -> None:
        """Start unfitted (see `SequentialRanker`)."""
        super().__init__(**params)
        self.hparams: SASRecParams

    def _build(self, n_items: int) -> nn.Module:
        from .sasrec_net import SASRecNet

        return SASRecNet(n_items, self.hparams)
