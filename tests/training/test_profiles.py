"""Offline profile writer (statements checked against hand-built histories) and the resumable profile store."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from convrec.core.catalogue import Catalogue
from convrec.training.interactions import Interactions
from convrec.training.profiles.history import HistoryEntry, histories, ratings_lookup
from convrec.training.profiles.offline_writer import SHORT_MAX_CHARS, OfflineProfileWriter, long_term, short_term, whole
from convrec.training.profiles.store import ProfileStore, generate_profiles, profile_key
from convrec.training.profiles.writer import UserProfiles


def ts(year: int, month: int, day: int = 1) -> int:
    return int(datetime(year, month, day, tzinfo=UTC).timestamp())


def entry(item_id: int, title: str, genres: tuple[str, ...], rating: float | None, when: int | None,
          year: int | None = 1995) -> HistoryEntry:
    return HistoryEntry(item_id, title, year, genres, rating, when)


@pytest.fixture()
def history() -> list[HistoryEntry]:
    """Twelve films: years of Drama throughout, Horror rated low, and a late turn to Comedy."""
    films = [
        entry(1, "Old Drama", ("Drama",), 5, ts(1997, 1), 1975),
        entry(2, "Scary One", ("Horror",), 1, ts(1997, 1, 5)),
        entry(3, "Second Drama", ("Drama",), 4, ts(1997, 2)),
        entry(4, "Scary Two", ("Horror",), 2, ts(1997, 2, 10)),
        entry(5, "Third Drama", ("Drama", "Romance"), 5, ts(1997, 3)),
        entry(6, "Scary Three", ("Horror",), 1, ts(1997, 4)),
        entry(7, "Drama Four", ("Drama",), 4, ts(1997, 5)),
        entry(8, "Drama Five", ("Drama",), 3, ts(1997, 6)),
        entry(9, "Drama Six", ("Drama",), 4, ts(1997, 7)),
        entry(10, "Funny One", ("Comedy",), 5, ts(1998, 3)),
        entry(11, "Funny Two", ("Comedy", "Drama"), 4, ts(1998, 3, 10)),
        entry(12, "Funny Three", ("Comedy",), 2, ts(1998, 4)),
    ]
    return films


def test_short_term_names_the_last_three_films_newest_first_with_date_and_ratings(history: list) -> None:
    text = short_term(history)
    assert text.startswith("Most recently (April 1998) watched Funny Three (1995, rated 2/5), Funny Two "
                           "(1995, rated 4/5) and Funny One (1995, rated 5/5).")
    assert "Enjoyed Funny One and Funny Two." in text  # in the order watched
    assert "Did not care for Funny Three." in text
    assert "Comedy" in text and len(text) <= SHORT_MAX_CHARS
    assert "Old Drama" not in text  # not recent


def test_long_term_states_lasting_genres_favourites_dislikes_and_drift(history: list) -> None:
    text = long_term(history)
    assert "Has rated 12 films from January 1997 to April 1998, average rating 3.3 of 5." in text
    assert "Drama (58% of films, average 4.1)" in text  # 7 of 12 films: 5, 4, 5, 4, 3, 4 and Funny Two's 4
    assert "Keeps coming back to Drama from the first ratings to the latest." in text
    assert "Less keen on Horror (average 1.3)." in text
    assert re.search(r"Rated lowest: Scary One \(1995\), Scary Three \(1995\) and Scary Two \(1995\)\.", text)
    assert "the latest have more Comedy" in text
    assert "Mostly films from the 1990s (92%)" in text


def test_undated_profile_has_no_dates_and_no_order(history: list) -> None:
    text = whole(history)
    assert "1997" not in text and "1998" not in text and "recent" not in text.lower()
    assert text.startswith("Has watched 12 films, average rating 3.3 of 5.")
    assert "Less keen on Horror" in text


def test_histories_without_ratings_still_get_profiles() -> None:
    films = [entry(i, f"Film {i}", ("Sci-Fi",), None, None) for i in range(1, 5)]
    profiles = OfflineProfileWriter().write(films)
    assert "Film 4" in profiles.short_term and "rated" not in profiles.short_term
    assert "Sci-Fi" in profiles.long_term
    with pytest.raises(ValueError, match="at least one film"):
        OfflineProfileWriter().write([])


def test_histories_come_only_from_the_fitted_rows(tiny_catalogue: Catalogue) -> None:
    frame = tiny_catalogue.interactions
    everything = Interactions.from_catalogue(tiny_catalogue)
    last = frame.groupby("user_id").tail(1)
    train = Interactions.from_frame(frame.drop(last.index), everything.user_ids, everything.item_ids)
    written = histories(train, tiny_catalogue.items, ratings_lookup(frame))
    user = int(frame["user_id"].iloc[0])
    held_out = int(last[last["user_id"] == user]["item_id"].iloc[0])
    assert held_out not in [e.item_id for e in written[user]]
    times = [e.timestamp for e in written[user]]
    assert times == sorted(times) and all(e.rating is not None for e in written[user])


class CountingWriter:
    """The offline writer, counting calls and failing on demand (a crashed LLM server)."""

    identity = "counting/v1"

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls = 0
        self.attempts = 0
        self.fail_after = fail_after

    def write(self, history: list[HistoryEntry]) -> UserProfiles:
        self.attempts += 1
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise ConnectionError("server went away")
        self.calls += 1
        return OfflineProfileWriter().write(history)


def test_an_interrupted_run_keeps_finished_batches_and_resumes(history: list, tmp_path: Path) -> None:
    users = {u: [*history[: 3 + u % 9], entry(100 + u, f"Film {u}", ("Drama",), 3, ts(1998, 5))]
             for u in range(1, 21)}
    broken = CountingWriter(fail_after=10)
    with pytest.raises(ConnectionError):
        generate_profiles(users, broken, tmp_path, batch_size=4)
    assert len(ProfileStore(tmp_path, broken.identity)) == 8  # two whole batches saved before the failure
    resumed = CountingWriter()
    written = generate_profiles(users, resumed, tmp_path, batch_size=4)
    assert resumed.calls == 12 and len(written) == 20
    again = CountingWriter()
    assert generate_profiles(users, again, tmp_path) == written and again.calls == 0


def test_a_half_written_line_is_skipped_and_rewritten(history: list, tmp_path: Path) -> None:
    writer = CountingWriter()
    generate_profiles({1: history, 2: history[:5]}, writer, tmp_path)
    store = ProfileStore(tmp_path, writer.identity)
    lines = store.path.read_text().splitlines()
    store.path.write_text(lines[0] + "\n" + lines[1][: len(lines[1]) // 2])  # killed mid-write
    assert ProfileStore(tmp_path, writer.identity).skipped_lines == 1
    fresh = CountingWriter()
    generate_profiles({1: history, 2: history[:5]}, fresh, tmp_path)
    assert fresh.calls == 1
    assert json.loads(store.path.read_text().splitlines()[-1])["user_id"] == 2


def test_the_key_changes_with_history_and_writer(history: list) -> None:
    key = profile_key(history, "offline/v1")
    assert key == profile_key(list(history), "offline/v1")
    assert key != profile_key(history[:-1], "offline/v1")
    assert key != profile_key(history, "openai/some-model/prompt-v1")
    changed = [*history[:-1], HistoryEntry(12, "Funny Three", 1995, ("Comedy",), 3, history[-1].timestamp)]
    assert key != profile_key(changed, "offline/v1")  # a changed rating is a changed history


def test_a_writer_that_keeps_failing_is_not_asked_for_every_user(history: list, tmp_path: Path) -> None:
    from convrec.training.profiles.store import MAX_CONSECUTIVE_FAILURES

    down = CountingWriter(fail_after=0)  # a server that is down
    users = {u: [*history[:4], entry(100 + u, f"Film {u}", ("Drama",), 3, ts(1998, 5))] for u in range(1, 41)}
    written = generate_profiles(users, down, tmp_path, batch_size=8, fallback=OfflineProfileWriter())
    assert len(written) == 40 and all(p.short_term.startswith("Most recently") for p in written.values())
    assert down.attempts == MAX_CONSECUTIVE_FAILURES  # then the run stopped asking it
    assert len(ProfileStore(tmp_path, down.identity)) == 0
    assert len(ProfileStore(tmp_path, OfflineProfileWriter().identity)) == 40


def test_offline_profiles_are_the_same_in_every_process() -> None:
    # Four genres grow by the same share, so only the tie-break orders them; string hashing differs per
    # process (PYTHONHASHSEED), so a tie broken by set order would change the text between runs.
    script = (
        "from convrec.training.profiles.history import HistoryEntry as E\n"
        "from convrec.training.profiles.offline_writer import long_term\n"
        "old = [E(i, f'Old {i}', 1990, ('Drama',), 3.0, 880000000 + i) for i in range(6)]\n"
        "new = [E(10 + i, f'New {i}', 1995, ('War', 'Action', 'Western', 'Comedy'), 4.0, 890000000 + i)"
        " for i in range(6)]\n"
        "print(long_term(old + new))\n")
    import subprocess
    import sys

    texts = {subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": str(seed)},
                            capture_output=True, text=True, check=True).stdout for seed in (0, 1, 2, 3)}
    assert len(texts) == 1
    assert "more Action and Comedy" in texts.pop()
