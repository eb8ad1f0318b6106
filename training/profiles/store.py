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
from pathlib import Path

from tqdm import tqdm

from convrec.core.hashing import content_hash

from .history import HistoryEntry
from .writer import ProfileWriter, UserProfiles

log = logging.getLogger(__name__)

STORE_VERSION = 1
MAX_CONSECUTIVE_FAILURES = 5  # a writer failing this often in a row is taken as down for the rest of a run


def profile_key(history: list[HistoryEntry], writer_identity: str) -> str:
    """The cache key of one user's profiles: history, writer identity and store format."""
    return content_hash(STORE_VERSION, writer_identity, [entry.key() for entry in history], length=24)


class ProfileStore:
    """Profiles of one writer in `<folder>/<writer>.jsonl`, loaded once and appended to batch by batch."""

    def __init__(self, folder: Path, writer_identity: str) -> None:
        self.writer_identity = writer_identity
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in writer_identity)
        self.path = folder / f"{safe}-{content_hash(writer_identity, length=8)}.jsonl"
        self._profiles: dict[str, UserProfiles] = {}
        self.skipped_lines = 0
        self._read()

    def _read(self) -> None:
        if not self.path.is_file():
            return
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                    self._profiles[record["key"]] = UserProfiles(**record["profiles"])
                except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                    self.skipped_lines += 1  # a line cut short by a kill mid-write: that profile is redone
        if self.skipped_lines:
            log.warning("%s: skipped %d unreadable line(s); those profiles will be written again",
                        self.path, self.skipped_lines)

    def __len__(self) -> int:
        """Number of profiles stored."""
        return len(self._profiles)

    def get(self, key: str) -> UserProfiles | None:
        """The stored profiles for a key, or None."""
        return self._profiles.get(key)

    def append(self, records: list[tuple[str, int, UserProfiles]]) -> None:
        """Append (key, user_id, profiles) records and force them to disk before returning."""
        if not records:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        torn = self.path.is_file() and self.path.stat().st_size > 0 and not self.path.read_bytes().endswith(b"\n")
        with self.path.open("a", encoding="utf-8") as out:
            if torn:  # a kill mid-write left half a line: end it, so the next record starts on its own line
                out.write("\n")
            for key, user_id, profiles in records:
                out.write(json.dumps({"key": key, "user_id": user_id, "profiles": profiles.model_dump()}) + "\n")
                self._profiles[key] = profiles
            out.flush()
            os.fsync(out.fileno())


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
    """`writer.write`, returning None where it fails (the caller then uses `fallback`).

    After a run of failures (a server that is down) it stops asking, so 943 users do not each wait for a timeout.
    """
    lock = threading.Lock()
    streak = [0]  # consecutive failures

    def write(history: list[HistoryEntry]) -> UserProfiles | None:
        with lock:
            if streak[0] >= MAX_CONSECUTIVE_FAILURES:
                return None
        try:
            written = writer.write(history)
        except Exception as exc:  # noqa: BLE001 - any failure of one user's profile: use the fallback
            with lock:
                streak[0] += 1
                if streak[0] == MAX_CONSECUTIVE_FAILURES:
                    log.warning("profile writer %s failed %d times in a row (%s); the remaining profiles of this "
                                "run are written by %s", writer.identity, streak[0], exc, fallback.identity)
                elif streak[0] < MAX_CONSECUTIVE_FAILURES:
                    log.warning("profile writer %s failed (%s); using %s", writer.identity, exc, fallback.identity)
            return None
        with lock:
            streak[0] = 0
        return written

    return write
