"""Measure what a fit costs: wall seconds and the peak resident memory it added (sampled from /proc).

tracemalloc would miss torch's allocations, so the process RSS is sampled every 20 ms on a thread; on a GPU
the CUDA allocator's own peak is reported as well.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Current resident set size of this process (0 where /proc is unavailable)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


@dataclass
class Usage:
    """Seconds taken and peak memory added by a block."""

    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    peak_cuda_mb: float | None = None


@contextmanager
def measure(interval: float = 0.02) -> Iterator[Usage]:
    """Time a block and track the peak RSS above its starting point."""
    usage = Usage()
    baseline = rss_bytes()
    peak = [baseline]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            peak[0] = max(peak[0], rss_bytes())

    watcher = threading.Thread(target=sample, daemon=True)
    cuda = _cuda()
    if cuda is not None:
        cuda.reset_peak_memory_stats()
    watcher.start()
    started = time.perf_counter()
    try:
        yield usage
    finally:
        usage.seconds = time.perf_counter() - started
        stop.set()
        watcher.join()
        peak[0] = max(peak[0], rss_bytes())
        usage.peak_rss_mb = round((peak[0] - baseline) / 2**20, 1)
        if cuda is not None:
            usage.peak_cuda_mb = round(cuda.max_memory_allocated() / 2**20, 1)


def _cuda() -> ModuleType | None:  # torch.cuda or None
    try:
        import torch
    except ImportError:
        return None
    return torch.cuda if torch.cuda.is_available() else None
