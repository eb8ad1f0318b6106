"""The paired bootstrap: exact gaps, intervals that can be worked out by hand, and refusal of unpaired input."""

from __future__ import annotations

import numpy as np
import pytest

from convrec.training.significance import paired_difference, verdict


def test_a_constant_gap_has_no_spread() -> None:
    gap = paired_difference([np.ones(5)], [np.zeros(5)])
    assert gap == {"diff": 1.0, "low": 1.0, "high": 1.0, "share_above_zero": 1.0, "users": 5}
    assert verdict(gap) == "ahead"
    assert verdict(paired_difference([np.zeros(5)], [np.ones(5)])) == "behind"


def test_seeds_are_resampled_apart_and_averaged() -> None:
    # seed 0: differences +1 and -1 (mean 0); seed 1: +0.5 for both users (mean 0.5). Resampling two users of
    # seed 0 gives a mean of -1, 0 or +1 (chances 1/4, 1/2, 1/4), so the pooled mean is -0.25, 0.25 or 0.75.
    gap = paired_difference([np.array([1.0, 0.0]), np.array([0.5, 0.5])],
                            [np.array([0.0, 1.0]), np.array([0.0, 0.0])], resamples=4000)
    assert gap is not None
    assert gap["diff"] == pytest.approx(0.25) and gap["users"] == 4
    assert gap["low"] == pytest.approx(-0.25) and gap["high"] == pytest.approx(0.75)
    assert gap["share_above_zero"] == pytest.approx(0.75, abs=0.03)
    assert verdict(gap) == "level"


def test_the_gap_is_antisymmetric_and_equals_the_difference_of_means() -> None:
    rng = np.random.default_rng(3)
    a, b = [rng.random(50), rng.random(40)], [rng.random(50), rng.random(40)]
    forward, backward = paired_difference(a, b), paired_difference(b, a)
    assert forward is not None and backward is not None
    expected = np.mean([a[0].mean() - b[0].mean(), a[1].mean() - b[1].mean()])
    assert forward["diff"] == pytest.approx(expected) and backward["diff"] == pytest.approx(-expected)
    assert forward["low"] < forward["diff"] < forward["high"]


def test_unpaired_or_empty_input() -> None:
    with pytest.raises(ValueError, match="same users"):
        paired_difference([np.zeros(3)], [np.zeros(4)])
    with pytest.raises(ValueError, match="one array per seed"):
        paired_difference([np.zeros(3)], [])
    assert paired_difference([np.zeros(0)], [np.zeros(0)]) is None
