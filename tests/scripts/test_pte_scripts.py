"""The PtE measurement scripts: their help names their options, and the profile-stage one runs on the fixture."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from . import SCRIPTS


@pytest.mark.parametrize(("script", "options"), [
    ("pte_profile_stage.py", ("--rounds", "--folder")),
    ("pte_channel_dialogues.py", ("--weights", "--whole-text", "--out")),
])
def test_help_names_the_options(script: str, options: tuple[str, ...]) -> None:
    done = subprocess.run([sys.executable, str(SCRIPTS / script), "--help"], capture_output=True, text=True,
                          check=True)
    for option in options:
        assert option in done.stdout


def test_the_profile_stage_summary_on_the_fixture(tiny_dataset_dir: Path, tmp_path: Path) -> None:
    env = {"CONVREC_DATASET_DIR": str(tiny_dataset_dir), "CONVREC_DATA_DIR": str(tmp_path / "cache"),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, str(SCRIPTS / "pte_profile_stage.py"), "--rounds", "1", "--folder",
                           str(tmp_path / "pte")], capture_output=True, text=True, check=True, env=env)
    summary = json.loads(done.stdout)
    assert summary["users"] == 20 and summary["items"] == 21  # the fixture's placeholder title is no film
    assert sum(summary["chosen"].values()) == 20 and len(summary["round_changes"]) == 1
    assert 0 < summary["movement"][0]["users"] < 1
