"""The RecBole side-by-side script without RecBole: its help, and the benchmark files it hands to RecBole."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from convrec.training.splits import make_split

from . import SCRIPTS, load_script

SCRIPT = SCRIPTS / "recbole_side_by_side.py"


def test_help_is_cheap_and_names_the_options() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=True)
    for option in ("--split-dir", "--models", "--out", "--venv", "--epochs"):
        assert option in done.stdout


def test_benchmark_files_for_general_and_sequential_models(tmp_path: Path) -> None:
    script = load_script("recbole_side_by_side")
    rows = [(u, i, 4.0, 1000 * u + 10 * step) for u in (1, 2) for step, i in enumerate([5, 6, 7, 8, 9][: 3 + u])]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])
    split = make_split(frame, np.array([1, 2]), np.arange(5, 10), dataset="ml-100k", protocol="loo", seed=0)
    split.save(tmp_path / "split")
    meta = script.read_split(tmp_path / "split")
    assert script.recbole_name(meta) == "convrec-ml-100k-loo-seed0"  # never "ml-100k": RecBole would use its own

    counts = script.write_recbole_dataset(tmp_path / "split", meta, tmp_path / "rb", sequential=False)
    folder = tmp_path / "rb" / "convrec-ml-100k-loo-seed0"
    assert counts == {"train": 5, "valid": 2, "test": 2}
    assert (folder / f"{folder.name}.test.inter").read_text() == (tmp_path / "split" / "ml-100k.test.inter").read_text()

    counts = script.write_recbole_dataset(tmp_path / "split", meta, tmp_path / "rb", sequential=True, max_len=3)
    folder = tmp_path / "rb" / "convrec-ml-100k-loo-seed0-seq"
    assert counts == {"train": 3, "valid": 2, "test": 2}  # each user's first training item has no history
    train = (folder / f"{folder.name}.train.inter").read_text().splitlines()
    test = (folder / f"{folder.name}.test.inter").read_text().splitlines()
    assert train[0] == "user_id:token\titem_id_list:token_seq\titem_id:token\ttimestamp:float"
    assert train[1:] == ["1\t5\t6\t1010", "2\t5\t6\t2010", "2\t5 6\t7\t2020"]
    assert test[1:] == ["1\t5 6 7\t8\t1030", "2\t6 7 8\t9\t2040"]  # history truncated to the last 3


def test_sequential_models_refuse_an_untimed_split(tmp_path: Path) -> None:
    frame = pd.DataFrame([(1, i, 4.0, i) for i in range(1, 11)], columns=["user_id", "item_id", "rating", "timestamp"])
    make_split(frame, np.array([1]), np.arange(1, 11), dataset="toy", protocol="random", seed=0).save(tmp_path / "s")
    done = subprocess.run([sys.executable, str(SCRIPT), "--split-dir", str(tmp_path / "s"), "--models", "GRU4Rec",
                           "--out", str(tmp_path / "o.json"), "--venv", str(tmp_path / "never")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "need a time-ordered split" in done.stderr
    assert not (tmp_path / "never").exists()
