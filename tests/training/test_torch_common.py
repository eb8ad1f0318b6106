"""The shared torch helpers: subnormal floats flushed to zero inside a block and restored after it."""

from __future__ import annotations

import pytest
import torch

from convrec.training.rankers.torch_common import denormals_flushed

SUBNORMAL = 1e-40  # below float32's smallest normal number (about 1.2e-38)


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
