"""The on-disk profile store: one JSON line per written profile, keyed by a hash of what produced it.

The key hashes the history (films, ratings, dates), the writer's identity (kind, model, prompt version) and
the store format, so a changed history or prompt gets a new profile and an unchanged one is never written
twice. Profiles are generated in batches and each finished batch is appended and flushed to disk before the
next starts: an interrupted run (Ctrl-C, a crashed LLM server) keeps every finished profile and the next run
writes only the rest. A half-written last line (a kill mid-write) is skipped when the file is read.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

from convrec.core.hashing import content_hash

from .history import HistoryEntry
from .writer import ProfileWriter, UserProfiles

log = logging.getLogger(__name__)

R = TypeVar("R")

STORE_VERSION = 1
MAX_CONSECUTIVE_FAILURES = 5  # a writer failing this often in a row is taken as down for the rest of a run


def profile_key(history: list[HistoryEntry], writer_identity: str) -> str:
    """The cache key of one user's profiles: history, writer identity and store format."""
    return content_hash(STORE_VERSION, writer_identity, [entry.key() for entry in history], length=24)


def store_path(folder: Path, writer_identity: str) -> Path:
    """`<folder>/<writer identity, made file-safe>-<hash>.jsonl`: one file per writer, never mixed."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in writer_identity)
    return folder / f"{safe}-{content_hash(writer_identity, length=8)}.jsonl"


def read_records(path: Path, accept: Callable[[dict[str, object]], None]) -> int:
    """Hand each JSON line of `path` (if it exists) to `accept`; return the number of unreadable lines skipped.

    A line cut short by a kill mid-write (or one `accept` rejects with KeyError, TypeError or ValueError) is
    skipped with a warning: what it held is written again by the next run.
    """
    skipped = 0
    if not path.is_file():
        return skipped
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                accept(json.loads(line))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                skipped += 1
    if skipped:
        log.warning("%s: skipped %d unreadable line(s); those profiles will be written again", path, skipped)
    return skipped


def append_records(path: Path, records: list[dict[str, object]]) -> None:
    """Append records as JSON lines and force them to disk before returning (a batch survives a later kill)."""
    if not records:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    torn = path.is_file() and path.stat().st_size > 0 and _last_byte(path) != b"\n"
    with path.open("a", encoding="utf-8") as out:
        if torn:  # a kill mid-write left half a line: end it, so the next record starts on its own line
            out.write("\n")
        for record in records:
            out.write(json.dumps(record) + "\n")
        out.flush()
        os.fsync(out.fileno())


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)


class ProfileStore:
    """Profiles of one writer in `<folder>/<writer>.jsonl`, loaded once and appended to batch by batch."""

    def __init__(self, folder: Path, writer_identity: str) -> None:
        self.writer_identity = writer_identity
        self.path = store_path(folder, writer_identity)
        self._profiles: dict[str, UserProfiles] = {}
        self.skipped_lines = read_records(self.path, self._read_one)

    def _read_one(self, record: dict[str, object]) -> None:
        self._profiles[str(record["key"])] = UserProfiles.model_validate(record["profiles"])

    def __len__(self) -> int:
        """Number of profiles stored."""
        return len(self._profiles)

    def get(self, key: str) -> UserProfiles | None:
        """The stored profiles for a key, or None."""
        return self._profiles.get(key)

    def append(self, records: list[tuple[str, int, UserProfiles]]) -> None:
        """Append (key, user_id, profiles) records and force them to disk before returning."""
        append_records(self.path, [{"key": key, "user_id": user_id, "profiles": profiles.model_dump()}
                                    for key, user_id, profiles in records])
        for key, _, profiles in records:
            self._profiles[key] = profiles


class TextStore:
    """Single texts of one writer (PtE's user and item profiles) in `<folder>/<writer>.jsonl`, keyed by hash.

    The same file format and guarantees as `ProfileStore` (loaded once, appended batch by batch, fsynced, a torn
    last line skipped), for writers whose output is one text per key rather than LLM-TUP's three.
    """

    def __init__(self, folder: Path, writer_identity: str) -> None:
        self.writer_identity = writer_identity
        self.path = store_path(folder, writer_identity)
        self._texts: dict[str, str] = {}
        self.skipped_lines = read_records(self.path, self._read_one)

    def _read_one(self, record: dict[str, object]) -> None:
        text = record["text"]
        if not isinstance(text, str):
            raise TypeError("a stored text must be a string")
        self._texts[str(record["key"])] = text

    def __len__(self) -> int:
        """Number of texts stored."""
        return len(self._texts)

    def get(self, key: str) -> str | None:
        """The stored text for a key, or None."""
        return self._texts.get(key)

    def append(self, records: list[tuple[str, str, str]]) -> None:
        """Append (key, label, text) records (label: whose text, for a person reading the file) and fsync."""
        append_records(self.path, [{"key": key, "label": label, "text": text} for key, label, text in records])
        self._texts.update((key, text) for key, _, text in records)


TextJobs = Mapping[str, tuple[str, Callable[[], str]]]  # {key: (label, write)}


@dataclass(frozen=True)
class TextFallback:
    """Who writes the texts the main writer fails on: a second writer, stored apart under its own identity.

    `jobs` maps each main key to (the fallback writer's key, its write). The fallback's texts go to that
    writer's own store (`folder`, `identity`), never under the main writer's identity, so the next run asks the
    main writer again. `guard` watches the main writer; share one across a run's calls so a server that is down
    is given up on once, not once per call.
    """

    folder: Path
    identity: str
    jobs: Mapping[str, tuple[str, Callable[[], str]]]
    guard: FailureGuard


def generate_texts(store: TextStore, jobs: TextJobs, *, batch_size: int = 256, show_progress: bool = False,
                   desc: str = "texts", workers: int = 1, fallback: TextFallback | None = None) -> dict[str, str]:
    """Return the text of every key in `jobs` ({key: (label, write)}), writing only those not stored yet.

    Written in batches, each appended to `store` before the next starts, so an interrupted run keeps what it
    finished and the next one writes only the rest. `workers` > 1 writes a batch concurrently (a language-model
    server taking parallel requests). With `fallback`, a key whose write raises gets the fallback writer's text
    (returned under the main key, stored under the fallback's); without one the error stops the run after the
    batches already saved.
    """
    missing = [key for key in jobs if store.get(key) is None]
    if missing:
        log.info("Writing %d of %d texts with %s (%d already stored)", len(missing), len(jobs),
                 store.writer_identity, len(jobs) - len(missing))
    guard = fallback.guard if fallback is not None else None

    def write(key: str) -> str | None:
        return jobs[key][1]() if guard is None else guard(jobs[key][1])

    failed: list[str] = []
    with tqdm(total=len(missing), desc=desc, unit="text", disable=not show_progress or not missing) as bar, \
            ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for start in range(0, len(missing), batch_size):
            batch = missing[start:start + batch_size]
            written = list((pool.map if workers > 1 else map)(write, batch))
            failed.extend(key for key, text in zip(batch, written, strict=True) if text is None)
            store.append([(key, jobs[key][0], text) for key, text in zip(batch, written, strict=True)
                          if text is not None])
            bar.update(len(batch))
    out = {key: store.get(key) or "" for key in jobs}
    if failed and fallback is not None:
        out.update(_fallback_texts(failed, jobs, fallback, batch_size))
    return out


def _fallback_texts(failed: list[str], jobs: TextJobs, fallback: TextFallback, batch_size: int) -> dict[str, str]:
    """The fallback writer's texts of the keys the main writer failed on, by main key (stored under its identity)."""
    spare = {key: fallback.jobs[key] for key in failed}
    texts = generate_texts(TextStore(fallback.folder, fallback.identity),
                           {fkey: (jobs[key][0], write) for key, (fkey, write) in spare.items()}, batch_size=batch_size)
    return {key: texts[fkey] for key, (fkey, _) in spare.items()}


def generate_profiles(histories: Mapping[int, list[HistoryEntry]], writer: ProfileWriter, folder: Path, *,
                      batch_size: int = 64, workers: int = 1, show_progress: bool = False,
                      desc: str = "profiles", fallback: ProfileWriter | None = None) -> dict[int, UserProfiles]:
    """Return every user's profiles, writing (in batches, saved as each finishes) only those not stored yet.

    `workers` > 1 writes a batch's profiles concurrently (for a language-model server that takes parallel
    requests); the offline writer is fast enough with one. With `fallback`, a user whose profiles `writer`
    cannot write (it raises) gets the fallback's, stored under the fallback's identity (and tried again with
    `writer` on the next run); without one the error stops the run after the batches already saved.
    """
    store = ProfileStore(folder, writer.identity)
    keys = {user: profile_key(history, writer.identity) for user, history in histories.items()}
    missing = [user for user, key in keys.items() if store.get(key) is None]
    if missing:
        log.info("Writing %d of %d profiles with %s (%d already stored)", len(missing), len(keys),
                 writer.identity, len(keys) - len(missing))
    write = writer.write if fallback is None else _guarded(writer, fallback)
    failed: set[int] = set()
    with tqdm(total=len(missing), desc=desc, unit="user", disable=not show_progress or not missing) as bar, \
            ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for start in range(0, len(missing), batch_size):
            batch = missing[start:start + batch_size]
            written = list(pool.map(lambda user: write(histories[user]), batch))
            failed.update(user for user, profiles in zip(batch, written, strict=True) if profiles is None)
            store.append([(keys[user], user, p) for user, p in zip(batch, written, strict=True) if p is not None])
            bar.update(len(batch))
    out = {user: store.get(key) for user, key in keys.items() if user not in failed}
    if failed and fallback is not None:
        out.update(generate_profiles({u: histories[u] for u in failed}, fallback, folder))
    return out  # type: ignore[return-value]


def _guarded(writer: ProfileWriter, fallback: ProfileWriter) -> Callable[[list[HistoryEntry]], UserProfiles | None]:
    """`writer.write`, returning None where it fails (the caller then uses `fallback`); see `FailureGuard`."""
    guard = FailureGuard(writer.identity, fallback.identity)
    return lambda history: guard(partial(writer.write, history))


class FailureGuard:
    """Runs one writer's calls, turning a failure into None (the caller then uses its fallback writer).

    After `MAX_CONSECUTIVE_FAILURES` failures in a row (a server that is down) it stops asking, so 943 users do
    not each wait for a timeout; a success in between resets the count. Safe to share between threads.
    """

    def __init__(self, writer_identity: str, fallback_identity: str) -> None:
        self.writer_identity = writer_identity
        self.fallback_identity = fallback_identity
        self._lock = threading.Lock()
        self._streak = 0  # consecutive failures

    @property
    def given_up(self) -> bool:
        """Whether the writer failed too often in a row to be asked again this run."""
        with self._lock:
            return self._streak >= MAX_CONSECUTIVE_FAILURES

    def __call__(self, write: Callable[[], R]) -> R | None:
        """`write()`, or None when it raises or the writer was given up on."""
        if self.given_up:
            return None
        try:
            written = write()
        except Exception as exc:  # noqa: BLE001 - any failure of one text or profile: use the fallback
            self._failed(exc)
            return None
        with self._lock:
            self._streak = 0
        return written

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            self._streak += 1
            streak = self._streak
        if streak == MAX_CONSECUTIVE_FAILURES:
            log.warning("profile writer %s failed %d times in a row (%s); the remaining profiles of this run are "
                        "written by %s", self.writer_identity, streak, exc, self.fallback_identity)
        elif streak < MAX_CONSECUTIVE_FAILURES:
            log.warning("profile writer %s failed (%s); using %s", self.writer_identity, exc, self.fallback_identity)
