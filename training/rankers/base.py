"""The one interface every ranker implements, the explicit registry of rankers, and the fit-once cache.

A ranker scores (user, item) pairs by row/column positions of an `Interactions` matrix. Baselines and
research models share the same verbs, so the benchmark and the chat agent never branch on the model:
`fit`, `score` (known users), `score_history` (an ad-hoc user given the films they liked), `params`,
`save`/`load`. Top-k, seen-item exclusion and metrics live in the benchmark, not here.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, ValidationError

from convrec.core.errors import UserError
from convrec.core.hashing import content_hash

from ..configs import load_params
from ..interactions import Interactions

if TYPE_CHECKING:
    from ..text_inputs import TextInputs

log = logging.getLogger(__name__)

ARRAYS_FILE = "arrays.npz"
META_FILE = "ranker.json"
FORMAT_VERSION = 1


Validator = Callable[["Ranker"], float]


class RankerParams(BaseModel):
    """Base of every ranker's hyper-parameters: typed, immutable, and a typo is an error, not a default.

    A Params class declares names, types and bounds only; the values live in `training/configs/<name>.yaml`
    (the ranker's constructor fills every field the caller leaves out from there), so the YAML is the one
    place a default is written down.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class Ranker(ABC):
    """Score items for users; subclasses set `Params` and implement the abstract methods.

    `version` is part of the cache key: bump it when a change to the algorithm makes old saved models wrong.
    `personal` says whether scores depend on the user (the contract test checks personal rankers against
    the fixture's known next item).
    """

    name: ClassVar[str] = ""
    version: ClassVar[int] = 1
    personal: ClassVar[bool] = True
    # Rankers that read texts (profiles, item documents) beside the matrix get them through `attach`.
    needs_text: ClassVar[bool] = False
    Params: ClassVar[type[RankerParams]] = RankerParams

    def __init__(self, **params: Any) -> None:
        """Take `params` over the values in the ranker's YAML, and validate them before any fitting.

        A typo or an out-of-range value fails here. The YAML's per-protocol overrides are not applied:
        callers that train for a protocol pass `load_params(name, protocol)` (the bench, the chat).
        """
        self.hparams = self.Params(**load_params(self.name, overrides=params))
        self.fitted = False

    # ----- the interface ---------------------------------------------------------------------------
    @abstractmethod
    def fit(self, data: Interactions, *, seed: int, show_progress: bool = False,
            validate: Validator | None = None) -> Self:
        """Learn from the interactions; return self so `get_ranker(...).fit(...)` chains.

        Iterative models call `validate(self)` (validation NDCG@10, higher is better) every few epochs,
        keep the best state and stop early when it stops improving; closed-form models ignore it.
        """

    def attach(self, inputs: TextInputs) -> None:  # noqa: B027 - a hook, empty unless `needs_text`
        """Receive item texts, ratings with dates, a profile writer and an encoder (text rankers only)."""

    def set_history(self, data: Interactions) -> None:
        """Score from now on with `data` as every user's known history, without retraining.

        At test time of a leave-one-out split the validation item is part of the history: models that read
        histories when scoring (item-kNN, sequential models) take it from here; embedding models ignore it.
        """
        return None  # embedding models score from their learned user vectors

    @abstractmethod
    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Return float32 scores of shape (len(users), len(items)); `items=None` means every column."""

    @abstractmethod
    def score_history(
        self, history: np.ndarray, items: np.ndarray | None = None, weights: np.ndarray | None = None
    ) -> np.ndarray:
        """Return 1-D float32 scores for a user known only by the columns they liked (optionally weighted).

        The chat uses it for anonymous users who name films, and for known users plus in-chat likes.
        """

    def params(self) -> dict[str, Any]:
        """Return the hyper-parameters as a JSON-able dict (defaults filled in)."""
        return self.hparams.model_dump(mode="json")

    # ----- persistence -----------------------------------------------------------------------------
    @abstractmethod
    def _arrays(self) -> dict[str, np.ndarray]:
        """Return the fitted state as plain numeric arrays (no objects: they are loaded without pickle)."""

    @abstractmethod
    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        """Set the fitted state from the arrays `_arrays` returned."""

    def save(self, path: Path) -> None:
        """Write the fitted model into folder `path`: arrays as `.npz`, name and params as JSON."""
        self._require_fitted()
        path.mkdir(parents=True, exist_ok=True)
        np.savez(path / ARRAYS_FILE, allow_pickle=False, **self._arrays())
        meta = {"name": self.name, "version": self.version, "format": FORMAT_VERSION, "params": self.params()}
        (path / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a model that `save` wrote; `Ranker.load` picks the class from the saved name."""
        meta_path = path / META_FILE
        if not meta_path.is_file():
            raise UserError(f"{path}: not a saved ranker (no {META_FILE})")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        name = meta.get("name", "")
        if cls is Ranker or getattr(cls, "__abstractmethods__", None):
            target: type[Ranker] = _lookup(name)
        elif name != cls.name:
            raise UserError(f"{path}: holds a {name!r} ranker, not {cls.name!r}")
        else:
            target = cls
        if meta.get("version") != target.version or meta.get("format") != FORMAT_VERSION:
            raise UserError(f"{path}: saved by another version of the {name!r} ranker; delete it to refit")
        ranker = target(**meta.get("params", {}))
        with np.load(path / ARRAYS_FILE, allow_pickle=False) as archive:
            ranker._restore({key: archive[key] for key in archive.files})
        ranker.fitted = True
        return ranker  # type: ignore[return-value]

    # ----- helpers for subclasses ------------------------------------------------------------------
    def _require_fitted(self) -> None:
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() or load() first")

    def __repr__(self) -> str:
        """Show the class and its hyper-parameters, as they appear in logs and reports."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


# ----- sparse matrices as plain arrays -------------------------------------------------------------
def sparse_to_arrays(prefix: str, matrix: sp.csr_matrix) -> dict[str, np.ndarray]:
    """Flatten a CSR matrix into four arrays that `np.load(allow_pickle=False)` can read back."""
    return {
        f"{prefix}_data": matrix.data, f"{prefix}_indices": matrix.indices,
        f"{prefix}_indptr": matrix.indptr, f"{prefix}_shape": np.asarray(matrix.shape, dtype=np.int64),
    }


def arrays_to_sparse(prefix: str, arrays: dict[str, np.ndarray]) -> sp.csr_matrix:
    """Rebuild the CSR matrix that `sparse_to_arrays` flattened."""
    shape = tuple(int(v) for v in arrays[f"{prefix}_shape"])
    return sp.csr_matrix(
        (arrays[f"{prefix}_data"], arrays[f"{prefix}_indices"], arrays[f"{prefix}_indptr"]), shape=shape
    )


# ----- registry ------------------------------------------------------------------------------------
REGISTRY: dict[str, type[Ranker]] = {}
R = TypeVar("R", bound=type[Ranker])


def register(name: str) -> Callable[[R], R]:
    """Register a ranker class under `name` (its `name` attribute is set to match)."""

    def decorate(cls: R) -> R:
        if name in REGISTRY and REGISTRY[name] is not cls:
            raise ValueError(f"ranker name {name!r} is already taken by {REGISTRY[name].__name__}")
        cls.name = name
        REGISTRY[name] = cls
        return cls

    return decorate


def _lookup(name: str) -> type[Ranker]:
    if name not in REGISTRY:
        raise UserError(f"unknown ranker {name!r}; choose one of: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def get_ranker(name: str, **params: Any) -> Ranker:
    """Build an unfitted ranker by name; a bad name or parameter is a UserError naming the options."""
    cls = _lookup(name)
    try:
        return cls(**params)
    except ValidationError as exc:
        configured = load_params(name)
        fields = ", ".join(f"{k} ({getattr(f.annotation, '__name__', f.annotation)}, "
                           f"training/configs/{name}.yaml: {configured.get(k, '-')!r})"
                           for k, f in cls.Params.model_fields.items()) or "none"
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        message = f"bad parameters for ranker {name!r}: {problems}; its parameters are: {fields}"
        raise UserError(message) from None


# ----- fit once, then load -------------------------------------------------------------------------
def cache_key(ranker: Ranker, data: Interactions, seed: int, validation_key: str = "",
              inputs: TextInputs | None = None) -> str:
    """Hash everything that determines a fitted model.

    That is the data, ranker name and version, params, seed, the validation data that early stopping read
    and, for text rankers, the texts, writer and encoder.
    """
    parts = [data.fingerprint(), ranker.name, ranker.version, ranker.params(), int(seed), FORMAT_VERSION,
             validation_key]
    if ranker.needs_text and inputs is not None:  # appended only here, so other rankers keep their keys
        parts.append(inputs.fingerprint())
    return content_hash(*parts)


def fit_or_load(
    ranker_name: str,
    data: Interactions,
    *,
    cache_dir: Path,
    seed: int,
    params: dict[str, Any] | None = None,
    show_progress: bool = False,
    validate: Validator | None = None,
    validation_key: str = "",
    inputs: TextInputs | None = None,
) -> Ranker:
    """Return the ranker fitted on `data`, loading it from `cache_dir` when this exact fit was saved before.

    The model is saved into a temporary folder and renamed into place, so a save cut short (crash, Ctrl-C)
    leaves only a `.tmp-*` folder that is never read; two processes racing both fit, and the first
    rename wins.
    """
    ranker = get_ranker(ranker_name, **(params or {}))
    if ranker.needs_text and inputs is None:
        raise UserError(f"ranker {ranker_name!r} reads profiles and item texts, which this caller does not provide")
    folder = cache_dir / f"{ranker_name}-{cache_key(ranker, data, seed, validation_key if validate else '', inputs)}"
    if (folder / META_FILE).is_file():
        log.info("Loading ranker %s from %s", ranker_name, folder)
        loaded = type(ranker).load(folder)
        if inputs is not None:
            loaded.attach(inputs)
        return loaded
    if inputs is not None:
        ranker.attach(inputs)
    log.info("Fitting ranker %s (%s) on %d interactions", ranker_name, ranker.params(), data.nnz)
    ranker.fit(data, seed=seed, show_progress=show_progress, validate=validate)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{folder.name}-", dir=cache_dir))
    try:
        ranker.save(tmp)
        tmp.rename(folder)
    except OSError:
        if not (folder / META_FILE).is_file():
            raise
        log.info("Another process saved %s first; keeping its copy", folder.name)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return ranker


def as_positions(values: np.ndarray | None, size: int) -> np.ndarray:
    """Return `values` as an int64 position array, or every position below `size` when None."""
    if values is None:
        return np.arange(size, dtype=np.int64)
    return np.asarray(values, dtype=np.int64).reshape(-1)
