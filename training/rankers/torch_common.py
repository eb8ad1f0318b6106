"""What the torch rankers share: their parameter base, the one training loop, device, seeding, early stopping.

A torch ranker is its network (a module-level `nn.Module` in its own `*_net.py`), its loss and its config
(`training/configs/<name>.yaml`). Everything around them lives here, once: the epoch loop with validation every
`eval_every` epochs, patience, restoring the best weights, the progress bar, the CPU thread count, local seeding
and, where it helps, flushing subnormal floats. A ranker subclasses `TorchRanker`, and its `fit` hands
`_fit_epochs` a setup function that builds the network and returns one epoch of training (`Training`).

Torch is imported inside the functions, never at module level: the registry imports this module, and the chat
app imports the registry.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
from pydantic import Field, field_validator
from tqdm import tqdm

from .base import Ranker, RankerParams, Validator

if TYPE_CHECKING:
    import torch
    from torch import nn

log = logging.getLogger(__name__)

Batch = TypeVar("Batch")


class TorchParams(RankerParams):
    """What every torch ranker is told about how long and where to train; the values are in its YAML.

    No field has a default in code: `training/configs/<name>.yaml` holds them all (see `training/configs.py`).
    """

    epochs: int = Field(ge=0, description="maximum passes over the training data (0: the initial weights)")
    eval_every: int = Field(ge=1, description="epochs between two validation checks (and after the last epoch)")
    patience: int = Field(ge=1, description="validation checks without gain before stopping")
    batch_size: int = Field(ge=1, description="training examples per optimiser step")
    device: str = Field(description="'auto' (CUDA when present, else CPU), 'cpu', 'cuda', 'cuda:N' or 'mps'")
    cpu_threads: int = Field(ge=0, description="torch threads while on CPU; 0 keeps torch's own setting")

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if value != "auto" and value.split(":", 1)[0] not in {"cpu", "cuda", "mps"}:
            raise ValueError("must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
        return value


def pick_device(preferred: str = "auto") -> torch.device:
    """CUDA when present (no code change needed on a GPU machine), else CPU; `preferred` overrides."""
    import torch

    if preferred != "auto":
        return torch.device(preferred)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@contextmanager
def seeded(seed: int) -> Iterator[torch.Generator]:
    """Run a block with torch's RNG seeded locally (restored afterwards) and yield a seeded Generator."""
    import torch

    # Fork the CUDA generators too when present: torch.manual_seed seeds them, and a fit must leave the
    # caller's random state untouched on a GPU machine as well as on CPU.
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield torch.Generator().manual_seed(seed)


@contextmanager
def denormals_flushed() -> Iterator[None]:
    """Run a block with subnormal floats treated as zero on CPU; torch's default (keep them) is set again after.

    A pointwise BCE network whose easy negatives reach logits below about -87 gets sigmoid gradients under
    float32's normal range, and CPU matrix products on such subnormal numbers are many times slower: LLM-TUP's
    epochs on ML-100K went from 12 s to 100 s over 14 epochs without this, and stayed at 10-12 s with it, with
    the same training loss to three decimals. The weights are not bit-identical (training is chaotic, so the
    model moves about as much as with another seed), but nothing this small can push it one way.
    """
    import torch

    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


@contextmanager
def torch_threads(params: TorchParams) -> Iterator[None]:
    """Run torch with `cpu_threads` threads when it runs on CPU, and give torch its own count back after.

    These networks are small: one thread is fastest, and two stall on each other when the cores are shared
    (measured on ML-100K, 2 busy cores: LightGCN 17 ms a batch with one thread, 260 ms with two; 200 GRU4Rec
    steps on the test fixture 2 s with one thread, 27 s with two).
    """
    import torch

    threads = torch.get_num_threads()
    if params.cpu_threads and pick_device(params.device).type == "cpu":
        torch.set_num_threads(params.cpu_threads)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass
class EarlyStopping:
    """Keep the best state seen on validation; say stop after `patience` checks without improvement."""

    patience: int = 5
    best_score: float = float("-inf")
    best_epoch: int = -1
    best_state: dict[str, Any] | None = field(default=None, repr=False)
    checks_without_gain: int = 0
    history: list[tuple[int, float]] = field(default_factory=list)

    def update(self, epoch: int, score: float, state: dict[str, Any]) -> bool:
        """Record a validation score; return True when training should stop."""
        self.history.append((epoch, score))
        if score > self.best_score:
            self.best_score, self.best_epoch = score, epoch
            self.best_state = copy.deepcopy(state)
            self.checks_without_gain = 0
        else:
            self.checks_without_gain += 1
        log.debug("epoch %d: validation %.4f (best %.4f at %d)", epoch, score, self.best_score, self.best_epoch)
        return self.checks_without_gain >= self.patience


# ----- the training loop ---------------------------------------------------------------------------
@dataclass(frozen=True)
class FitContext:
    """What the loop hands a ranker's setup: where to train and the two random streams of this seed.

    `rng` (numpy) draws negatives and shuffles index arrays; `generator` (torch) shuffles torch tensors.
    Torch's global RNG, which initialises weights and drives dropout, is seeded with the same seed for the
    whole fit and restored afterwards, so a fit leaves the caller's random state alone.
    """

    device: torch.device
    rng: np.random.Generator
    generator: torch.Generator


@dataclass
class Training:
    """What a ranker's setup returns to the loop: the module it trains and how to train it for one epoch.

    `train_epoch(epoch)` (numbered from 1) runs the optimiser over one epoch and returns its mean loss (for
    the progress bar); the loop puts `network` in training mode first. `kept` is what is validated, restored
    to its best state and scored: `network` itself, or a copy such as a moving average of its weights.
    `sync`, when given, brings the ranker's scoring state up to date with `kept` (e.g. caches final vectors
    as numpy arrays); it runs before every validation and once after the best state is restored.
    """

    network: nn.Module
    train_epoch: Callable[[int], float]
    kept: nn.Module | None = None
    sync: Callable[[], None] | None = None


@dataclass(frozen=True)
class FitLog:
    """What `fit_epochs` did: epochs trained, the validation record (None without a validator) and seconds."""

    epochs: int
    stopping: EarlyStopping | None
    seconds: float


def fit_epochs(
    params: TorchParams,
    setup: Callable[[FitContext], Training],
    *,
    seed: int,
    validate: Callable[[], float] | None = None,
    show_progress: bool = False,
    desc: str = "",
    flush_denormals: bool = False,
) -> FitLog:
    """Build the network through `setup`, train up to `params.epochs` epochs, keep the best validated state.

    With `validate` (higher is better), it runs every `eval_every` epochs and after the last one; training
    stops after `patience` checks without gain and `kept` gets the best weights back. Without it every epoch
    runs. All of it, setup included, runs with `cpu_threads` torch threads on CPU, torch's RNG seeded with
    `seed` (restored after) and, with `flush_denormals`, subnormal floats flushed to zero (see
    `denormals_flushed`: it helps networks whose gradients underflow, and changes the last bits of others).
    """
    device = pick_device(params.device)
    started = time.perf_counter()
    with ExitStack() as stack:
        stack.enter_context(torch_threads(params))
        generator = stack.enter_context(seeded(seed))
        if flush_denormals:
            stack.enter_context(denormals_flushed())
        training = setup(FitContext(device=device, rng=np.random.default_rng(seed), generator=generator))
        kept = training.kept if training.kept is not None else training.network
        stopping = EarlyStopping(patience=params.patience) if validate is not None else None
        epochs = 0
        bar = tqdm(range(1, params.epochs + 1), desc=desc, unit="epoch", disable=not show_progress)
        for epoch in bar:
            training.network.train()
            postfix = {"loss": f"{training.train_epoch(epoch):.4f}"}
            epochs = epoch
            stop = False
            if stopping is not None and validate is not None and (
                    epoch % params.eval_every == 0 or epoch == params.epochs):
                kept.eval()
                if training.sync is not None:
                    training.sync()
                score = float(validate())
                postfix["valid"] = f"{score:.4f}"
                stop = stopping.update(epoch, score, kept.state_dict())
            bar.set_postfix(postfix)
            if stop:
                break
        bar.close()
        if stopping is not None and stopping.best_state is not None:
            kept.load_state_dict(stopping.best_state)
            stopping.best_state = None  # a copy of the weights; `kept` holds them now
        kept.eval()
        if training.sync is not None:
            training.sync()
    seconds = time.perf_counter() - started
    log.info("%s: %d epochs in %.1f s", desc, epochs, seconds)
    if stopping is not None and stopping.history:
        log.info("%s: kept epoch %d (validation %.4f)", desc, stopping.best_epoch, stopping.best_score)
    return FitLog(epochs=epochs, stopping=stopping, seconds=seconds)


def batch_slices(size: int, batch_size: int) -> Iterator[slice]:
    """Cut positions 0..size-1 into consecutive slices of `batch_size` (the last one shorter)."""
    for start in range(0, size, batch_size):
        yield slice(start, start + batch_size)


def train_batches(
    optimizer: torch.optim.Optimizer,
    batches: Iterable[Batch],
    loss: Callable[[Batch], tuple[torch.Tensor, int]],
    after_step: Callable[[], None] | None = None,
) -> float:
    """Take one optimiser step per batch on `loss(batch)` -> (mean loss, examples); return the epoch's mean.

    `after_step` runs after each step (e.g. to update a moving average of the weights).
    """
    total, count = 0.0, 0
    for batch in batches:
        value, examples = loss(batch)
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()
        if after_step is not None:
            after_step()
        total += float(value.detach()) * examples
        count += examples
    return total / max(count, 1)


# ----- the ranker base -----------------------------------------------------------------------------
class TorchRanker(Ranker):
    """A ranker trained by `fit_epochs`: subclasses set `Params` (a `TorchParams`) and write `fit` and scoring.

    After a fit, `stopping` holds the validation record (None when fitted without a validator),
    `epochs_trained` the epochs run and `fit_seconds` the seconds setup and training took.
    """

    Params: ClassVar[type[RankerParams]] = TorchParams
    # Whether training flushes subnormal floats to zero (see `denormals_flushed`); only where it was measured
    # to help, since it changes the trained weights in their last bits.
    flush_denormals: ClassVar[bool] = False

    def __init__(self, **params: Any) -> None:
        """Start unfitted, with no validation record."""
        super().__init__(**params)
        self.hparams: TorchParams
        self.stopping: EarlyStopping | None = None
        self.epochs_trained = 0
        self.fit_seconds = 0.0
        self._saved_best_epoch: int | None = None  # set by rankers that save it with the model

    @property
    def best_epoch(self) -> int | None:
        """The epoch whose weights early stopping kept (None when fitted without validation)."""
        if self.stopping is not None and self.stopping.history:
            return self.stopping.best_epoch
        return self._saved_best_epoch

    def parameter_counts(self) -> tuple[int, int]:
        """(trainable, total) parameters of the networks this ranker holds (a frozen language model counts in total)."""
        import torch

        seen: dict[int, torch.nn.Parameter] = {}
        for value in vars(self).values():
            if isinstance(value, torch.nn.Module):
                seen.update((id(p), p) for p in value.parameters())
        trainable = sum(p.numel() for p in seen.values() if p.requires_grad)
        return trainable, sum(p.numel() for p in seen.values())

    def _fit_epochs(self, setup: Callable[[FitContext], Training], *, seed: int, show_progress: bool,
                    validate: Validator | None) -> None:
        """Train through `fit_epochs` with this ranker's params and validator; record what happened."""
        self.fitted = True  # the validator scores the model while it trains
        check = None if validate is None else (lambda: validate(self))
        result = fit_epochs(self.hparams, setup, seed=seed, validate=check, show_progress=show_progress,
                            desc=self.name, flush_denormals=self.flush_denormals)
        self.stopping, self.epochs_trained, self.fit_seconds = result.stopping, result.epochs, result.seconds
