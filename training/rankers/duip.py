"""DUIP: an LSTM reads a person's recent films and steers a pretrained language model to their next one.

arXiv 2501.10871: an LSTM over the interaction sequence gives h_t; f(h_t) becomes soft-prompt vectors in the
language model's embedding space, joined with a hard prompt (the recent titles); the language model predicts the
next item and everything trains end to end with cross-entropy, so gradients reach the LSTM through the language
model. No official code is public; as an unofficial re-implementation does, f is Linear, GELU, Dropout, Linear to
k vectors with a LayerNorm, spliced between the two halves of the hard prompt (`duip_net`).

Prediction is over the item vocabulary, never free text: a linear head over the LM's last hidden state scores
every item in one pass (full ranking, as the benchmark needs), its rows initialised from the titles' token
embeddings. Adding item tokens to the LM's vocabulary would score the same way through its tied output layer,
but would grow and train a 49k-row table; the head is that table's item rows, apart.

Training: cross-entropy over all items, AdamW, early stopping on validation NDCG@10 (`torch_common.fit_epochs`).
`lm_mode` says what of the LM trains: `frozen` (LSTM, f and the head train; gradients still flow through the
LM), `lora` (peft adapters on the attention projections too), `scratch` (the same architecture, randomly
initialised and trained whole: what pretraining adds), `none` (no LM: the `duip_lstm` ablation). A forward and
backward pass through a 135M-parameter LM costs about 0.3 s per example on 2 CPU cores, so the default
configuration is the quick one the issue asks for: the backbone's first `lm_layers` layers, a short hard prompt,
the last `train_targets` targets of each user per epoch. `duip_full` (all layers, all targets) is the same code
for a GPU (`device: auto` picks CUDA when present).
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, cast

import numpy as np
from pydantic import Field

from ..interactions import Interactions
from .base import RankerParams, Validator, as_positions, register
from .sequential import history_arrays, history_from_arrays, require_sequences
from .torch_common import (
    FitContext,
    TorchParams,
    TorchRanker,
    Training,
    batch_slices,
    seeded,
    torch_threads,
    train_batches,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ..text_inputs import TextInputs
    from .duip_net import DUIPNet, PromptTokens

log = logging.getLogger(__name__)

SCORE_BATCH = 64  # histories per scoring pass
STATE_PREFIX = "model."
PROMPT_LEAD, PROMPT_SEPARATOR, PROMPT_CLOSE, PROMPT_SUFFIX = "Recently watched:", ";", ".", " Next film:"


class DUIPParams(TorchParams):
    """Hyper-parameters of DUIP; the values are in duip.yaml (the quick CPU configuration)."""

    lr: float = Field(gt=0, description="AdamW learning rate")
    weight_decay: float = Field(ge=0, description="AdamW weight decay")
    backbone: str = Field(description="'smollm2', 'gemma3-270m', a .gguf file or a transformers model folder")
    lm_mode: Literal["frozen", "lora", "scratch", "none"] = Field(description="what of the language model trains")
    lm_layers: int = Field(ge=0, description="the backbone's first layers kept (0: all)")
    soft_tokens: int = Field(ge=0, description="soft-prompt vectors k (0: the hard prompt alone)")
    hard_items: int = Field(ge=0, description="latest titles in the hard prompt")
    max_seq_length: int = Field(ge=1, description="latest items the LSTM reads")
    item_dim: int = Field(ge=1, description="item embedding size (LSTM input)")
    lstm_hidden: int = Field(ge=1, description="LSTM state size")
    prompt_hidden: int = Field(ge=1, description="hidden size of f, the soft-prompt MLP")
    dropout: float = Field(ge=0.0, lt=1.0, description="dropout on item embeddings, inside f, before a plain head")
    lora_rank: int = Field(ge=1, description="LoRA rank (lm_mode lora)")
    lora_alpha: int = Field(gt=0, description="LoRA scaling numerator (lm_mode lora)")
    train_targets: int = Field(ge=0, description="latest targets of each user trained per epoch (0: all)")
    max_train_users: int = Field(ge=0, description="users sampled for training (0: all)")


@register("duip")
class DUIP(TorchRanker):
    """LSTM -> soft prompt -> language model -> item head; see the module docstring."""

    version: ClassVar[int] = 2  # 2: the head's bias starts at the items' log shares
    needs_text: ClassVar[bool] = True  # the hard prompt reads titles
    Params: ClassVar[type[RankerParams]] = DUIPParams

    def __init__(self, **params: Any) -> None:
        """Start unfitted and without titles: `attach` gives them, `fit` or `load` the network."""
        super().__init__(**params)
        self.hparams: DUIPParams
        self.net: DUIPNet | None = None
        self.history: tuple[np.ndarray, ...] = ()
        self.titles: list[str] | None = None
        self.inputs: TextInputs | None = None
        self._prompt: PromptTokens | None = None

    def attach(self, inputs: TextInputs) -> None:
        """Keep the items' titles and years, which the hard prompt names."""
        self.inputs = inputs

    # ----- network ---------------------------------------------------------------------------------
    def _item_titles(self, item_ids: np.ndarray) -> list[str]:
        if self.inputs is None:
            raise RuntimeError("DUIP reads titles: attach() its TextInputs first")
        items = self.inputs.items
        out = []
        for item_id in item_ids:
            item = items.get(int(item_id))
            out.append(f"item {int(item_id)}" if item is None else
                       f"{item.title} ({item.year})" if item.year else item.title)
        return out

    def _build(self, n_items: int, titles: list[str], item_counts: np.ndarray | None = None) -> DUIPNet:
        """A fresh network over `n_items` items (whose titles, in column order, are `titles`)."""
        from .duip_net import DUIPNet

        hp = self.hparams
        if hp.lm_mode == "none":
            return DUIPNet(n_items, hp, item_counts=item_counts)
        decoder, embeddings, tokenizer = self._language_model()
        prompt = _prompt_tokens(tokenizer, titles)
        self._prompt = prompt
        return DUIPNet(n_items, hp, decoder, embeddings, prompt, item_counts=item_counts)

    def _language_model(self) -> tuple[nn.Module, nn.Embedding, Any]:
        """The backbone's decoder and input embeddings, truncated and made trainable as `lm_mode` says."""
        from transformers import AutoModelForCausalLM

        from .duip_backbone import load_backbone
        from .duip_net import truncate_layers

        hp = self.hparams
        model: Any
        model, tokenizer = load_backbone(hp.backbone, own_copy=hp.lm_mode != "scratch")
        if hp.lm_mode == "scratch":  # the architecture only; weights drawn from the fit's seeded generator
            model = AutoModelForCausalLM.from_config(copy.deepcopy(model.config))  # type: ignore[no-untyped-call]
        decoder = cast("nn.Module", model.base_model)
        truncate_layers(decoder, hp.lm_layers)
        for parameter in decoder.parameters():
            parameter.requires_grad_(hp.lm_mode == "scratch")
        if hp.lm_mode == "lora":
            from peft import LoraConfig, inject_adapter_in_model

            names = {name.rsplit(".", 1)[-1] for name, _ in decoder.named_modules()}
            targets = ["q_proj", "v_proj"] if {"q_proj", "v_proj"} <= names else ["c_attn"]
            config = LoraConfig(r=hp.lora_rank, lora_alpha=hp.lora_alpha, lora_dropout=0.0, target_modules=targets)
            decoder = inject_adapter_in_model(config, decoder)
        embeddings = cast("nn.Embedding", model.get_input_embeddings())
        return decoder, embeddings, tokenizer

    # ----- training --------------------------------------------------------------------------------
    def fit(self, data: Interactions, *, seed: int, show_progress: bool = False,
            validate: Validator | None = None) -> Self:
        """Train next-item cross-entropy on the latest `train_targets` prefixes of each (sampled) user."""
        hp = self.hparams
        self.history = require_sequences(data)
        self.titles = self._item_titles(data.item_ids)
        titles = self.titles

        def setup(context: FitContext) -> Training:
            import torch

            counts = np.asarray(data.item_counts(), dtype=np.float64).reshape(-1)
            net = self._build(data.n_items, titles, counts).to(context.device)
            self.net = net
            samples = training_samples(self.history, hp.train_targets, hp.max_train_users, context.rng)
            log.info("DUIP: %d training examples an epoch, %d trainable parameters", len(samples),
                     sum(p.numel() for p in net.parameters() if p.requires_grad))
            trainable = [p for p in net.parameters() if p.requires_grad]
            optimizer = torch.optim.AdamW(trainable, lr=hp.lr, weight_decay=hp.weight_decay)

            def batch_loss(rows: np.ndarray) -> tuple[torch.Tensor, int]:
                import torch.nn.functional as F  # noqa: N812

                histories = [self.history[u][:end] for u, end in samples[rows]]
                targets = torch.tensor([int(self.history[u][end]) for u, end in samples[rows]],
                                       device=context.device)
                logits = net(**self._batch(histories, context.device))
                return F.cross_entropy(logits, targets), len(rows)

            def train_epoch(epoch: int) -> float:
                order = context.rng.permutation(len(samples))
                return train_batches(optimizer, (order[s] for s in batch_slices(len(order), hp.batch_size)),
                                     batch_loss)

            return Training(network=net, train_epoch=train_epoch)

        self._fit_epochs(setup, seed=seed, show_progress=show_progress, validate=validate)
        return self

    def _batch(self, histories: list[np.ndarray], device: torch.device) -> dict[str, torch.Tensor]:
        """The network's inputs for histories of item columns: right-padded ids for the LSTM, the hard prompt."""
        import torch

        hp = self.hparams
        tails = [np.asarray(h, dtype=np.int64)[-hp.max_seq_length:] for h in histories]
        lengths = np.array([max(1, len(t)) for t in tails], dtype=np.int64)
        items = np.zeros((len(tails), int(lengths.max())), dtype=np.int64)
        for row, tail in enumerate(tails):
            items[row, :len(tail)] = tail + 1
        batch = {"items": torch.from_numpy(items).to(device), "lengths": torch.from_numpy(lengths)}
        if self._prompt is not None:
            prompts = [self._prompt.hard_prompt(np.asarray(h, dtype=np.int64), hp.hard_items) for h in histories]
            width = max(len(p) for p in prompts)
            hard = np.zeros((len(prompts), width), dtype=np.int64)
            mask = np.zeros((len(prompts), width), dtype=np.int64)
            for row, ids in enumerate(prompts):  # left padding: the last position is the prompt's end
                hard[row, width - len(ids):] = ids
                mask[row, width - len(ids):] = 1
            batch["hard"] = torch.from_numpy(hard).to(device)
            batch["hard_mask"] = torch.from_numpy(mask).to(device)
        return batch

    # ----- scoring ---------------------------------------------------------------------------------
    def set_history(self, data: Interactions) -> None:
        """Score users from `data`'s time-ordered rows from now on (train plus validation at test)."""
        if self.net is not None and data.n_items != self.net.n_items:
            raise ValueError(f"the history has {data.n_items} item columns, the model was fitted on {self.net.n_items}")
        self.history = require_sequences(data)

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Logits of each item as the next one after the user's history."""
        self._require_fitted()
        rows = np.asarray(users, dtype=np.int64).reshape(-1)
        return self._logits([self.history[row] for row in rows], items)

    def score_history(self, history: np.ndarray, items: np.ndarray | None = None,
                      weights: np.ndarray | None = None) -> np.ndarray:
        """Logits after the given columns in the given order; `weights` are ignored (order, not liking)."""
        self._require_fitted()
        return self._logits([np.asarray(history, dtype=np.int64).reshape(-1)], items)[0]

    def _logits(self, histories: list[np.ndarray], items: np.ndarray | None) -> np.ndarray:
        import torch

        net = self._require_net()
        columns = as_positions(items, net.n_items)
        device = next(net.parameters()).device
        out = np.empty((len(histories), len(columns)), dtype=np.float32)
        was_training = net.training
        net.eval()
        with torch.no_grad(), torch_threads(self.hparams):
            for start in range(0, len(histories), SCORE_BATCH):
                chunk = histories[start:start + SCORE_BATCH]
                out[start:start + len(chunk)] = net(**self._batch(chunk, device)).cpu().numpy()[:, columns]
        net.train(was_training)
        return out

    def _require_net(self) -> DUIPNet:
        self._require_fitted()
        if self.net is None:
            raise RuntimeError("DUIP has no network")
        return self.net

    # ----- persistence -----------------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        """What trains: the LSTM, f, the head, LoRA adapters (a scratch LM whole); never frozen LM weights."""
        net = self._require_net()
        state = {f"{STATE_PREFIX}{key}": value.detach().cpu().numpy()
                 for key, value in net.state_dict().items() if self._saved(key)}
        titles = np.array(self.titles or [], dtype=np.str_)
        return {**state, **history_arrays(self.history), "titles": titles}

    def _saved(self, key: str) -> bool:
        if not key.startswith(("decoder.", "embeddings.")):
            return True
        return self.hparams.lm_mode == "scratch" or "lora_" in key

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        import torch

        self.titles = [str(t) for t in arrays["titles"]]
        self.history = history_from_arrays(arrays)
        with seeded(0):  # the throw-away initialisation must not draw from the caller's random stream
            net = self._build(len(self.titles), self.titles)
        state = {key[len(STATE_PREFIX):]: torch.from_numpy(np.array(value))
                 for key, value in arrays.items() if key.startswith(STATE_PREFIX)}
        missing, unexpected = net.load_state_dict(state, strict=False)
        if unexpected or any(self._saved(key) for key in missing):
            raise ValueError(f"saved DUIP state does not fit the network: missing {missing[:3]}, "
                             f"unexpected {unexpected[:3]}")
        from .torch_common import pick_device

        self.net = net.to(pick_device(self.hparams.device)).eval()


def training_samples(history: tuple[np.ndarray, ...], targets: int, max_users: int,
                     rng: np.random.Generator) -> np.ndarray:
    """(n, 2) rows of (user row, target position): each prefix history[:end] predicts history[end].

    Per user the latest `targets` positions (all from position 1 when 0); `max_users` > 0 keeps that many users
    with a target, drawn with `rng`.
    """
    users = [row for row, seq in enumerate(history) if len(seq) >= 2]
    if max_users and len(users) > max_users:
        users = sorted(rng.choice(users, size=max_users, replace=False).tolist())
    rows: list[tuple[int, int]] = []
    for user in users:
        n = len(history[user])
        first = max(1, n - targets) if targets else 1
        rows.extend((user, end) for end in range(first, n))
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def _prompt_tokens(tokenizer: Any, titles: list[str]) -> PromptTokens:
    """Token ids of the prompt's fixed parts and of every title (each as it reads after a space)."""
    from .duip_net import PromptTokens

    def ids(text: str) -> tuple[int, ...]:
        return tuple(int(i) for i in tokenizer(text, add_special_tokens=False)["input_ids"])

    return PromptTokens(lead=ids(PROMPT_LEAD), separator=ids(PROMPT_SEPARATOR), close=ids(PROMPT_CLOSE),
                        suffix=ids(PROMPT_SUFFIX), titles=tuple(ids(f" {title}") for title in titles))


@register("duip_lstm")
class DUIPLSTM(DUIP):
    """Ablation: the LSTM and an item head, no language model."""


@register("duip_hard")
class DUIPHard(DUIP):
    """Ablation: the language model with the hard prompt only (no LSTM, no soft prompt)."""


@register("duip_lora")
class DUIPLoRA(DUIP):
    """DUIP with LoRA adapters trained in the language model's attention."""


@register("duip_scratch")
class DUIPScratch(DUIP):
    """The same architecture, its language model randomly initialised and trained whole (what pretraining adds)."""


@register("duip_k1")
class DUIPK1(DUIP):
    """DUIP with one soft-prompt vector."""


@register("duip_k4")
class DUIPK4(DUIP):
    """DUIP with four soft-prompt vectors."""


@register("duip_full")
class DUIPFull(DUIP):
    """DUIP's full configuration: every layer of the backbone and every training target (for a GPU)."""
