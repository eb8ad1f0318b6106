"""What the neural rankers share: device choice, local seeding, and early stopping on validation NDCG."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


def pick_device(preferred: str = "auto"):  # noqa: ANN201 - torch is imported lazily
    """CUDA when present (no code change needed on a GPU machine), else CPU; `preferred` overrides."""
    import torch

    if preferred != "auto":
        return torch.device(preferred)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@contextmanager
def seeded(seed: int) -> Iterator[Any]:
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
