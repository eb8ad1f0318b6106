"""DUIP's network: an LSTM's state becomes soft-prompt vectors that steer a causal LM to the next item.

    items (B, L) -> item embeddings -> LSTM -> h_t (B, H)
    h_t -> f = Linear, GELU, Dropout, Linear -> k vectors of the LM's width -> LayerNorm   (the soft prompt)
    [hard prompt, first half: "Recently watched: T1; T2; ...; Tn."] + [soft prompt] + [" Next film:"]
        -> the LM's decoder -> last position's hidden state -> item head -> one logit per item

The item head is a linear layer over the LM's last hidden state: every item is scored in one pass (full ranking),
never by generating a title and matching it back. Its rows start as the mean of each title's token embeddings:
the backbones here tie their output layer to those embeddings, so at step 0 an item's logit is how strongly the
LM expects the words of its title next, and pretraining counts from the first step. With no LM (the `duip_lstm`
ablation) the head reads h_t directly. With no soft prompt (`duip_hard`) the LSTM is not built: the LM reads the
titles alone. Imported lazily: it imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

if TYPE_CHECKING:
    from .duip import DUIPParams


@dataclass(frozen=True)
class PromptTokens:
    """The token ids of the fixed parts of the hard prompt and of every item's title (item column order)."""

    lead: tuple[int, ...]  # "Recently watched:"
    separator: tuple[int, ...]  # between two titles
    close: tuple[int, ...]  # after the last title, before the soft prompt
    suffix: tuple[int, ...]  # after the soft prompt: the question the last position answers
    titles: tuple[tuple[int, ...], ...]

    def hard_prompt(self, columns: np.ndarray, n_titles: int) -> list[int]:
        """The first half of the prompt for a history (item columns in time order): its last `n_titles` titles."""
        ids = list(self.lead)
        recent = [int(c) for c in columns[-n_titles:]] if n_titles else []
        for position, column in enumerate(recent):
            if position:
                ids.extend(self.separator)
            ids.extend(self.titles[column])
        ids.extend(self.close)
        return ids


class DUIPNet(nn.Module):
    """LSTM -> soft prompt -> LM -> item head; or LSTM -> item head when `decoder` is None.

    `decoder` is the LM's base model (token embeddings in, final normalised hidden states out), `embeddings` its
    input embedding table. The LM's weights are frozen unless the caller made them trainable (LoRA, scratch).
    """

    def __init__(self, n_items: int, hp: DUIPParams, decoder: nn.Module | None = None,
                 embeddings: nn.Embedding | None = None, prompt: PromptTokens | None = None,
                 item_counts: np.ndarray | None = None) -> None:
        """Create the layers (LSTM first, so a seed draws the same LSTM weights in every variant).

        The head's bias starts at the log share of each item among the training interactions (`item_counts`), so
        the untrained model ranks by popularity and training learns what a history adds to it.
        """
        super().__init__()
        self.n_items = n_items
        self.soft_tokens = hp.soft_tokens if decoder is not None else 0
        self.uses_lstm = decoder is None or self.soft_tokens > 0
        self.dropout = nn.Dropout(hp.dropout)
        if self.uses_lstm:
            self.item_embedding = nn.Embedding(n_items + 1, hp.item_dim, padding_idx=0)
            self.lstm = nn.LSTM(hp.item_dim, hp.lstm_hidden, batch_first=True)
        self.decoder = decoder
        self.embeddings = embeddings
        if decoder is None:
            self.head = nn.Linear(hp.lstm_hidden, n_items)
            self._prior_bias(item_counts)
            return
        if embeddings is None or prompt is None:
            raise ValueError("an LM backbone needs its input embeddings and the prompt tokens")
        width = embeddings.embedding_dim
        if self.soft_tokens:
            self.prompt = nn.Sequential(nn.Linear(hp.lstm_hidden, hp.prompt_hidden), nn.GELU(), nn.Dropout(hp.dropout),
                                        nn.Linear(hp.prompt_hidden, self.soft_tokens * width))
            self.prompt_norm = nn.LayerNorm(width)
        self.register_buffer("suffix", torch.tensor(prompt.suffix, dtype=torch.long), persistent=False)
        self.head = nn.Linear(width, n_items)
        with torch.no_grad():
            table = embeddings.weight.detach()
            rows = [table[list(ids)].mean(dim=0) if ids else torch.zeros(width) for ids in prompt.titles]
            self.head.weight.copy_(torch.stack(rows))
        self._prior_bias(item_counts)

    def _prior_bias(self, item_counts: np.ndarray | None) -> None:
        counts = np.zeros(self.n_items) if item_counts is None else np.asarray(item_counts, dtype=np.float64)
        with torch.no_grad():
            self.head.bias.copy_(torch.from_numpy(np.log((counts + 1.0) / (counts + 1.0).sum())).float())

    def state(self, items: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """h_t: the LSTM's last state over right-padded item ids (B, L) with `lengths` (B,) >= 1."""
        embedded = self.dropout(self.item_embedding(items))
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (hidden, _) = self.lstm(packed)
        return hidden[-1]

    def soft_prompt(self, h: torch.Tensor) -> torch.Tensor:
        """f(h_t): (B, k, width) soft-prompt vectors."""
        return self.prompt_norm(self.prompt(h).view(len(h), self.soft_tokens, -1))

    def forward(self, items: torch.Tensor, lengths: torch.Tensor, hard: torch.Tensor | None = None,
                hard_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B, n_items) logits. `hard` (B, T) is the left-padded first half of the prompt, `hard_mask` its mask."""
        h = self.state(items, lengths) if self.uses_lstm else None
        if self.decoder is None or self.embeddings is None:
            assert h is not None
            return self.head(self.dropout(h))
        if hard is None or hard_mask is None:
            raise ValueError("an LM backbone reads a hard prompt")
        batch = len(hard)
        parts, masks = [self.embeddings(hard)], [hard_mask]
        if h is not None and self.soft_tokens:
            parts.append(self.soft_prompt(h).to(parts[0].dtype))
            masks.append(hard_mask.new_ones(batch, self.soft_tokens))
        suffix = self.get_buffer("suffix")
        parts.append(self.embeddings(suffix).expand(batch, -1, -1))
        masks.append(hard_mask.new_ones(batch, len(suffix)))
        embeds, mask = torch.cat(parts, dim=1), torch.cat(masks, dim=1)
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)  # left padding: real tokens count from 0
        out = self.decoder(inputs_embeds=embeds, attention_mask=mask, position_ids=positions)
        return self.head(out.last_hidden_state[:, -1])


def truncate_layers(decoder: nn.Module, n_layers: int) -> None:
    """Keep the decoder's first `n_layers` blocks (in place; 0 keeps them all): DUIP's quick configuration."""
    if not n_layers:
        return
    for name in ("layers", "h"):  # Llama/Gemma-style, GPT-2-style
        blocks = getattr(decoder, name, None)
        if isinstance(blocks, nn.ModuleList):
            if n_layers > len(blocks):
                raise ValueError(f"lm_layers {n_layers} exceeds the backbone's {len(blocks)} layers")
            setattr(decoder, name, nn.ModuleList(list(blocks)[:n_layers]))
            config: Any = decoder.config
            config.num_hidden_layers = n_layers
            if isinstance(getattr(config, "layer_types", None), list):
                config.layer_types = config.layer_types[:n_layers]
            return
    raise ValueError(f"{type(decoder).__name__}: cannot find its list of layers to truncate")
