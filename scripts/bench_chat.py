"""Measure the chat's speed targets: first index build, warm turn latency (p50/p95), app start-up.

Usage: .venv/bin/python scripts/bench_chat.py [--turns 50] [--out reports/chat_speed.json]
Targets (2-core machine, offline path): warm turn p50 < 150 ms. Numbers in the README come from this script.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from convrec.agent.context import load_context
from convrec.agent.service import ChatService, open_checkpointer
from convrec.core.data import load_catalogue
from convrec.core.settings import Settings
from convrec.retrieval.index import ItemIndex

GENRES = ["sci-fi", "comedy", "crime", "western", "romance", "horror", "war", "mystery", "drama", "thriller"]
DECADES = ["90s", "80s", "70s", "60s", "50s"]
TEMPLATES = [
    "a smart {decade} {genre} movie, nothing too violent", "seen #2", "something lighter than that",
    "why #2?", "tell me about {title}", "no {genre2} please", "more like the first one",
    "something from the {decade2} instead", "a {genre2} film like {title}", "I've seen them all",
]


def conversation(round_number: int, titles: list[str]) -> list[str]:
    """Ten turns of one conversation.

    Every round uses other genres, decades and titles, so no turn is answered from a cache filled by an earlier round.
    """
    pick = round_number * 7
    fills = {"genre": GENRES[round_number % len(GENRES)], "genre2": GENRES[(round_number + 3) % len(GENRES)],
             "decade": DECADES[round_number % len(DECADES)], "decade2": DECADES[(round_number + 2) % len(DECADES)],
             "title": titles[pick % len(titles)]}
    return [template.format(**fills) for template in TEMPLATES]


def first_index_build(settings: Settings) -> float:
    """Build the index from scratch in a temporary cache (dataset copied in, so only the build is timed)."""
    catalogue = load_catalogue(settings)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Settings(data_dir=Path(tmp), dataset_dir=catalogue.source)
        started = time.perf_counter()
        ItemIndex.open(fresh, load_catalogue(fresh), rebuild=True)
        return time.perf_counter() - started


def turn_latencies(settings: Settings, turns: int) -> tuple[list[float], list[float]]:
    """Run `turns` warm turns over several conversations and return ms per turn for each kind of user.

    The conversations alternate a known user (7, ranked by LLM-TUP from stored profiles) and anonymous users.
    """
    with tempfile.TemporaryDirectory() as tmp:
        service = ChatService(load_context(settings), open_checkpointer(Path(tmp) / "bench.sqlite"))
        popular = service.context.catalogue.popularity.sort_values(ascending=False).index[:200]
        titles = [service.context.catalogue.items[int(i)].title for i in popular]
        for message in ("hello", "a heist film", "why #1?"):  # warm-up: one-off costs (lazy imports, caches)
            service.ask("warmup", message)
        known: list[float] = []
        anonymous: list[float] = []
        for i in range(turns):
            round_number = i // len(TEMPLATES)
            user = 7 if round_number % 2 == 0 else None
            message = conversation(round_number + 1, titles)[i % len(TEMPLATES)]
            started = time.perf_counter()
            service.ask(f"bench-{round_number}", message, user_id=user)
            (known if user is not None else anonymous).append((time.perf_counter() - started) * 1000)
        service.close()
        return known, anonymous


def app_startup(settings: Settings) -> float:
    """Seconds from launching `convrec chat` (warm caches) until the page answers HTTP 200."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "CONVREC_DATA_DIR": str(settings.data_dir)}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "convrec.cli", "chat", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < 180:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the app did not start within 180 s")
    finally:
        process.terminate()
        process.wait(timeout=30)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def main() -> None:
    """Run all three measurements and write them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=50, help="warm turns to time (default 50)")
    parser.add_argument("--out", type=Path, default=Path("reports/chat_speed.json"), help="where to write JSON")
    args = parser.parse_args()
    settings = Settings()
    build = first_index_build(settings)
    known, anonymous = turn_latencies(settings, args.turns)
    latencies = known + anonymous
    startup = app_startup(settings)
    result = {
        "command": f"python scripts/bench_chat.py --turns {args.turns}",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "first_index_build_s": round(build, 2),
        "turns": len(latencies),
        "turn_ms_p50": round(percentile(latencies, 50), 1),
        "turn_ms_p95": round(percentile(latencies, 95), 1),
        "turn_ms_mean": round(statistics.mean(latencies), 1),
        "known_user_turn_ms_p50": round(percentile(known, 50), 1),
        "known_user_turn_ms_p95": round(percentile(known, 95), 1),
        "anonymous_turn_ms_p50": round(percentile(anonymous, 50), 1),
        "app_startup_s": round(startup, 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
