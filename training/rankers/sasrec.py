"""SASRec: causal self-attention over the user's items in time order predicts the next one.

Kang & McAuley, "Self-attentive sequential recommendation" (ICDM 2018), in the form RecBole's SASRec
trains: item plus learned position embeddings, layer norm and dropout, `n_layers` post-norm Transformer
blocks (multi-head attention, GELU feed-forward as in BERT rather than the paper's 1x1 convolutions), and
cross-entropy of the next item over all items with output vectors tied to the item embeddings (the loss
Klenitskiy & Vasilev, RecSys 2023, found much stronger than the paper's one sampled negative).

Sequences are left-padded, so the newest item always has the last position. A position attends to the
real items up to itself; a padding position attends only to itself (so no attention row is empty), and
nothing attends to padding, which therefore cannot change the real positions.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field, model_validator

from .base import register
from .sequential import SequentialParams, SequentialRanker


class SASRecParams(SequentialParams):
    """Hyper-parameters of SASRec (network sizes as RecBole's defaults)."""

    n_layers: int = Field(default=2, ge=1, description="Transformer blocks")
    n_heads: int = Field(default=2, ge=1, description="attention heads (must divide hidden_size)")
    hidden_size: int = Field(default=64, ge=1, description="item, position and hidden vector size")
    inner_size: int = Field(default=256, ge=1, description="feed-forward inner size")
    hidden_dropout_prob: float = Field(default=0.5, ge=0.0, lt=1.0, description="dropout on hidden vectors")
    attn_dropout_prob: float = Field(default=0.5, ge=0.0, lt=1.0, description="dropout on attention weights")
    layer_norm_eps: float = Field(default=1e-12, gt=0.0, description="layer-norm epsilon")
    initializer_range: float = Field(default=0.02, gt=0.0, description="std of the normal weight init")

    @model_validator(mode="after")
    def _heads_divide_hidden(self) -> Self:
        if self.hidden_size % self.n_heads:
            raise ValueError(f"n_heads ({self.n_heads}) must divide hidden_size ({self.hidden_size})")
        return self


@register("sasrec")
class SASRec(SequentialRanker):
    """Causal Transformer over the last `max_seq_length` items; score = last hidden . item embedding."""

    Params = SASRecParams

    def _build(self, n_items: int) -> Any:  # noqa: ANN401 - torch is imported lazily
        return sasrec_network(n_items, self.hparams)  # type: ignore[arg-type]


def sasrec_network(n_items: int, hp: SASRecParams) -> Any:  # noqa: ANN401
    """Build the network: (B, L) item ids -> (B, L, hidden_size) next-item query vectors."""
    import torch
    import torch.nn.functional as F  # noqa: N812
    from torch import nn

    d, heads = hp.hidden_size, hp.n_heads

    class Block(nn.Module):
        """Post-norm Transformer block: x + attention, norm; x + feed-forward, norm."""

        def __init__(self) -> None:
            super().__init__()
            self.qkv = nn.Linear(d, 3 * d)
            self.out = nn.Linear(d, d)
            self.norm1 = nn.LayerNorm(d, eps=hp.layer_norm_eps)
            self.ffn = nn.Sequential(nn.Linear(d, hp.inner_size), nn.GELU(), nn.Linear(hp.inner_size, d))
            self.norm2 = nn.LayerNorm(d, eps=hp.layer_norm_eps)
            self.dropout = nn.Dropout(hp.hidden_dropout_prob)

        def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            b, length, _ = x.shape
            q, k, v = self.qkv(x).view(b, length, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
            drop = hp.attn_dropout_prob if self.training else 0.0
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=drop)
            x = self.norm1(x + self.dropout(self.out(attended.transpose(1, 2).reshape(b, length, d))))
            return self.norm2(x + self.dropout(self.ffn(x)))

    class SASRecNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.item_embedding = nn.Embedding(n_items + 1, d, padding_idx=0)
            self.position_embedding = nn.Embedding(hp.max_seq_length, d)
            self.norm = nn.LayerNorm(d, eps=hp.layer_norm_eps)
            self.dropout = nn.Dropout(hp.hidden_dropout_prob)
            self.blocks = nn.ModuleList(Block() for _ in range(hp.n_layers))
            self.apply(self._init)
            with torch.no_grad():
                self.item_embedding.weight[0].zero_()

        @staticmethod
        def _init(module: nn.Module) -> None:
            if isinstance(module, nn.Linear | nn.Embedding):
                nn.init.normal_(module.weight, std=hp.initializer_range)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

        def forward(self, seqs: torch.Tensor) -> torch.Tensor:
            length = seqs.shape[1]  # at most max_seq_length; shorter when leading padding was trimmed
            positions = torch.arange(hp.max_seq_length - length, hp.max_seq_length, device=seqs.device)
            x = self.dropout(self.norm(self.item_embedding(seqs) + self.position_embedding(positions)))
            causal = torch.ones(length, length, dtype=torch.bool, device=seqs.device).tril()
            itself = torch.eye(length, dtype=torch.bool, device=seqs.device)
            mask = ((causal & (seqs != 0)[:, None, :]) | itself)[:, None]  # (B, 1, L, L), True = attend
            for block in self.blocks:
                x = block(x, mask)
            return x

    return SASRecNet()
