"""A ranker that reads texts (DUIP reads titles) can be the chat's personal ranker: fitted with the texts, used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convrec.agent.context import load_context
from convrec.agent.service import ChatService, open_checkpointer
from convrec.core.settings import Settings
from convrec.training.rankers.duip import DUIP


@pytest.mark.slow  # a whole context of its own (index, classifiers): a minute on 2 busy cores
def test_duip_is_a_personal_ranker_the_chat_fits_with_titles_and_uses(tiny_dataset_dir: Path, tmp_path: Path) -> None:
    # duip_lstm: DUIP's class and text wiring without the language model, so the test stays seconds long.
    settings = Settings(data_dir=tmp_path / "cache", dataset_dir=tiny_dataset_dir, top_n=3,
                        personal_ranker="duip_lstm", profile_ranker="none")
    context = load_context(settings)
    assert isinstance(context.personal, DUIP) and context.personal.titles
    scores = context.personal.score(np.array([0]))
    assert scores.shape == (1, context.interactions.n_items)
    service = ChatService(context, open_checkpointer(tmp_path / "conversations.sqlite"))
    try:
        answer = service.ask("s1", "recommend me a movie", user_id=1)
    finally:
        service.close()
    assert answer.recommendations
