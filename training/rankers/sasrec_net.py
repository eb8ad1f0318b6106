"""SASRec's network: a causal post-norm Transformer over left-padded item ids (imported lazily: torch)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

if TYPE_CHECKING:
    from .sasrec import SASRecParams


class Block(nn.Module):
    """Post-norm Transformer block: x + attention, norm; x + feed-forward (GELU), norm."""

    def __init__(self, hidden_size: int, n_heads: int, inner_size: int, layer_norm_eps: float,
                 hidden_dropout_prob: float, attn_dropout_prob: float) -> None:
        """Create the layers in the order their weights are drawn (a seed keeps drawing the same weights)."""
        super().__init__()
        self.n_heads = n_heads
        self.attn_dropout_prob = attn_dropout_prob
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        self.out = nn.Linear(hidden_size, hidden_size)
        self.norm1 = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.ffn = nn.Sequential(nn.Linear(hidden_size, inner_size), nn.GELU(), nn.Linear(inner_size, hidden_size))
        self.norm2 = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.dropout = nn.Dropout(hidden_dropout_prob)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, L, d) states and a (B, 1, L, L) boolean mask (True = attend) -> (B, L, d) states."""
        b, length, d = x.shape
        q, k, v = self.qkv(x).view(b, length, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        drop = self.attn_dropout_prob if self.training else 0.0
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=drop)
        x = self.norm1(x + self.dropout(self.out(attended.transpose(1, 2).reshape(b, length, d))))
        return self.norm2(x + self.dropout(self.ffn(x)))


class SASRecNet(nn.Module):
    """(B, L) item ids (column + 1, 0 = padding) -> (B, L, hidden_size) next-item query vectors.

    Item plus learned position embeddings, layer norm and dropout, then `n_layers` blocks. A position attends
    to the real items up to itself; a padding position attends only to itself (so no attention row is
    empty), and nothing attends to padding, which therefore cannot change the real positions.
    """

    def __init__(self, n_items: int, hp: SASRecParams) -> None:
        """Create the layers, then draw every weight from N(0, initializer_range) as RecBole does."""
        super().__init__()
        d = hp.hidden_size
        self.max_seq_length = hp.max_seq_length
        self.initializer_range = hp.initializer_range
        self.item_embedding = nn.Embedding(n_items + 1, d, padding_idx=0)
        self.position_embedding = nn.Embedding(hp.max_seq_length, d)
        self.norm = nn.LayerNorm(d, eps=hp.layer_norm_eps)
        self.dropout = nn.Dropout(hp.hidden_dropout_prob)
        self.blocks = nn.ModuleList(
            Block(d, hp.n_heads, hp.inner_size, hp.layer_norm_eps, hp.hidden_dropout_prob, hp.attn_dropout_prob)
            for _ in range(hp.n_layers))
        self.apply(self._init)
        with torch.no_grad():
            self.item_embedding.weight[0].zero_()

    def _init(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=self.initializer_range)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        """Encode; the sequence may be shorter than `max_seq_length` when leading padding was trimmed."""
        length = seqs.shape[1]
        positions = torch.arange(self.max_seq_length - length, self.max_seq_length, device=seqs.device)
        x = self.dropout(self.norm(self.item_embedding(seqs) + self.position_embedding(positions)))
        causal = torch.ones(length, length, dtype=torch.bool, device=seqs.device).tril()
        itself = torch.eye(length, dtype=torch.bool, device=seqs.device)
        mask = ((causal & (seqs != 0)[:, None, :]) | itself)[:, None]  # (B, 1, L, L), True = attend
        for block in self.blocks:
            x = block(x, mask)
        return x
