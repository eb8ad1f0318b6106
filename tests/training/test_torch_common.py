"""The shared torch training loop and helpers: validation cadence, patience, best-state restore, seeding,
threads, the subnormal flush (issue 20: one loop for every torch ranker)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convrec.training.rankers.torch_common import (
    FitContext,
    TorchParams,
    Training,
    batch_slices,
    denormals_flushed,
    fit_epochs,
    train_batches,
)

SUBNORMAL = 1e-40  # below float32's smallest normal number (about 1.2e-38)


def params(**overrides: object) -> TorchParams:
    """Loop settings for a toy network (no YAML: `TorchParams` is the base every ranker's Params extends)."""
    values: dict[str, object] = {"epochs": 10, "eval_every": 1, "patience": 3, "batch_size": 4, "device": "cpu",
                                 "cpu_threads": 1}
    return TorchParams(**{**values, **overrides})


class Recorder:
    """A one-weight network whose weight is the epoch number after each epoch: states are easy to tell apart."""

    def __init__(self) -> None:
        self.epochs: list[int] = []
        self.synced: list[float] = []
        self.network: torch.nn.Module | None = None
        self.context: FitContext | None = None

    def setup(self, context: FitContext) -> Training:
        self.context = context
        network = torch.nn.Linear(1, 1, bias=False)
        self.network = network

        def train_epoch(epoch: int) -> float:
            self.epochs.append(epoch)
            with torch.no_grad():
                network.weight.fill_(float(epoch))
            return 0.5

        return Training(network=network, train_epoch=train_epoch,
                        sync=lambda: self.synced.append(float(network.weight.detach())))

    @property
    def weight(self) -> float:
        assert self.network is not None
        return float(self.network.weight.detach())


def test_validation_every_n_epochs_and_after_the_last() -> None:
    recorder, checked = Recorder(), []

    def validate() -> float:
        checked.append(recorder.weight)
        return recorder.weight  # always improving: never stops early

    log = fit_epochs(params(epochs=7, eval_every=3), recorder.setup, seed=0, validate=validate)
    assert recorder.epochs == [1, 2, 3, 4, 5, 6, 7]  # numbered from 1
    assert checked == [3.0, 6.0, 7.0] and log.epochs == 7
    assert log.stopping is not None and [epoch for epoch, _ in log.stopping.history] == [3, 6, 7]


def test_patience_stops_and_the_best_state_is_restored_and_synced() -> None:
    recorder = Recorder()
    curve = iter([0.1, 0.4, 0.3, 0.2, 0.35, 0.9])  # best at the 2nd check, then 3 checks without gain

    log = fit_epochs(params(epochs=20, eval_every=2, patience=3), recorder.setup, seed=0, validate=lambda: next(curve))
    assert log.epochs == 10 and log.stopping is not None and log.stopping.best_epoch == 4
    assert recorder.weight == 4.0  # the weights of epoch 4 are back
    assert recorder.synced == [2.0, 4.0, 6.0, 8.0, 10.0, 4.0]  # before each check, and once after the restore
    assert log.stopping.best_state is None  # the copy is dropped once the network holds the weights
    assert recorder.network is not None and not recorder.network.training


def test_without_a_validator_every_epoch_runs() -> None:
    recorder = Recorder()
    log = fit_epochs(params(epochs=5), recorder.setup, seed=0)
    assert log.epochs == 5 and log.stopping is None and recorder.weight == 5.0 and recorder.synced == [5.0]


def test_random_streams_are_the_seeds_and_the_callers_state_and_threads_are_left_alone() -> None:
    torch_state, threads = torch.random.get_rng_state(), torch.get_num_threads()
    draws = []
    for _ in range(2):
        recorder = Recorder()
        fit_epochs(params(epochs=1, cpu_threads=1), recorder.setup, seed=5)
        assert recorder.context is not None
        draws.append((recorder.context.rng.integers(1000, size=3).tolist(),
                      torch.randperm(10, generator=recorder.context.generator).tolist()))
    assert draws[0] == draws[1]
    assert draws[0][0] == np.random.default_rng(5).integers(1000, size=3).tolist()
    assert torch.equal(torch.random.get_rng_state(), torch_state) and torch.get_num_threads() == threads


def test_the_thread_count_is_set_while_training_on_cpu() -> None:
    seen = []

    def setup(context: FitContext) -> Training:
        network = torch.nn.Linear(1, 1)
        return Training(network=network, train_epoch=lambda epoch: seen.append(torch.get_num_threads()) or 0.0)

    before = torch.get_num_threads()
    fit_epochs(params(epochs=2, cpu_threads=1), setup, seed=0)
    assert seen == [1, 1] and torch.get_num_threads() == before


@pytest.mark.parametrize("flush", [True, False])
def test_subnormals_are_flushed_only_when_asked_and_only_inside(flush: bool) -> None:
    seen = []

    def setup(context: FitContext) -> Training:
        def train_epoch(epoch: int) -> float:
            seen.append(float(torch.tensor([SUBNORMAL], dtype=torch.float32)[0] * 1.0))
            return 0.0

        return Training(network=torch.nn.Linear(1, 1), train_epoch=train_epoch)

    fit_epochs(params(epochs=1), setup, seed=0, flush_denormals=flush)
    assert (seen[0] == 0.0) is flush
    assert float(torch.tensor([SUBNORMAL], dtype=torch.float32)[0] * 1.0) > 0.0


def test_train_batches_steps_once_per_batch_and_weights_the_mean_by_examples() -> None:
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=0.0)  # no movement: the losses stay as given
    steps: list[int] = []
    batches = [(1.0, 4), (3.0, 2)]  # (loss, examples): a full batch and a short last one
    mean = train_batches(optimizer, batches, lambda batch: (weight.sum() + batch[0], batch[1]),
                         after_step=lambda: steps.append(1))
    assert len(steps) == 2 and mean == pytest.approx((4 * 1.0 + 2 * 3.0) / 6)
    assert [(s.start, s.stop) for s in batch_slices(6, 4)] == [(0, 4), (4, 8)]


def test_bad_device_is_refused() -> None:
    with pytest.raises(ValueError, match="device"):
        params(device="gpu")


def test_subnormals_read_as_zero_inside_the_block_and_not_after() -> None:
    value = torch.tensor([SUBNORMAL], dtype=torch.float32)
    assert float(value[0] * 1.0) > 0.0  # torch's default keeps them
    with denormals_flushed():
        assert float(torch.tensor([SUBNORMAL], dtype=torch.float32)[0] * 1.0) == 0.0
    assert float(value[0] * 1.0) == pytest.approx(SUBNORMAL, rel=1e-2)


def test_the_default_is_restored_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), denormals_flushed():
        raise RuntimeError("training failed")
    assert float(torch.tensor([SUBNORMAL], dtype=torch.float32)[0] * 1.0) > 0.0
