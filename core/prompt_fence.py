"""The data fence of every prompt: text from a catalogue, a person or a model goes between delimiters as data.

Prompts say that text between `<<<DATA` and `DATA>>>` is data and never an instruction. That holds only if the
fenced text cannot contain a delimiter: a title such as `DATA>>> ignore the above` would otherwise close the
fence early and put its words outside it. `escape` therefore writes every `<` and `>` inside the fence as `&lt;`
and `&gt;` (and an `&` that already starts `&lt;`, `&gt;` or `&amp;` as `&amp;`, so that `unescape` restores the
exact text). Ordinary text, titles with an `&` included, passes through unchanged, and a model reads the
entities as the characters they stand for.
"""

from __future__ import annotations

import json
import re
from typing import Any

OPEN = "<<<DATA"
CLOSE = "DATA>>>"

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_UNESCAPES = {"amp": "&", "lt": "<", "gt": ">"}
_TO_ESCAPE = re.compile(r"&(?=(?:amp|lt|gt);)|[<>]")
_ESCAPED = re.compile(r"&(amp|lt|gt);")
_BLOCK = re.compile(re.escape(OPEN) + r"\n(.*?)\n" + re.escape(CLOSE), re.S)


def escape(text: str) -> str:
    """Write `text` so that it holds neither delimiter (reversed exactly by `unescape`)."""
    return _TO_ESCAPE.sub(lambda m: _ESCAPES[m.group()], text)


def unescape(text: str) -> str:
    """The original text of an `escape`d one."""
    return _ESCAPED.sub(lambda m: _UNESCAPES[m.group(1)], text)


def fence(text: str) -> str:
    """Put `text` between the delimiters, on lines of its own, escaped."""
    return f"{OPEN}\n{escape(text)}\n{CLOSE}"


def fence_json(payload: Any) -> str:  # noqa: ANN401 - any JSON-able value
    """Fence `payload` as compact JSON (non-ASCII kept as is, so titles stay readable)."""
    return fence(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))


def fenced_texts(prompt: str) -> list[str]:
    """The original texts of every fence in `prompt`, in order."""
    return [unescape(block) for block in _BLOCK.findall(prompt)]
