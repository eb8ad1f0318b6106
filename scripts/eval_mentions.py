"""Measure film-mention finding on ReDial's validation dialogues (Li et al. 2018, CC BY 4.0).

Usage: .venv/bin/python scripts/eval_mentions.py [--finder mentions|titles|both] [--examples 20] [--limit N]

Each message's `@<id>` tokens are replaced by the film's name written three ways: "Title (Year)" as ReDial gives
it ("year"), the title alone ("title") and the title in lower case ("lower"); those spans are the gold mentions.
For each variant it reports recall (a gold span counts when a found mention overlaps it), for films in the
catalogue and films it lacks, how often the found item is right (a catalogue film's id; None for a film the
catalogue lacks), and false positives (found mentions overlapping no gold span) per 1,000 messages. The gold
item of a name is `catalogue.find_title("Title Year")`'s exact-key match within a year, as a reference.
Messages with no `@` token are scanned too: mentions there are typed by hand or false.
`--finder titles` measures the older `Catalogue.find_titles_in_text` (ids only, one per film) the same way.
Only the validation split is read; ReDial's test split is never used.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from convrec.core.catalogue import Catalogue
from convrec.core.data import load_catalogue
from convrec.core.mentions import Mention, find_mentions
from convrec.core.settings import Settings
from convrec.core.titles import search_key

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "redial" / "valid_dialogues.jsonl"
VARIANTS = ("year", "title", "lower")
_NAME = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)\s*$")
_TOKEN = re.compile(r"@(\d+)")

Finder = Callable[[str], list[Mention]]


@dataclass(frozen=True)
class Gold:
    """A film name written into a message: its span and the catalogue film it means (None: not in it)."""

    start: int
    end: int
    item_id: int | None


@dataclass
class Tally:
    """Counts for one variant and one finder."""

    messages: int = 0
    gold_in: int = 0
    gold_out: int = 0
    found_in: int = 0
    right_in: int = 0
    found_out: int = 0
    right_out: int = 0
    wrong_out: int = 0
    exact_span: int = 0
    false_positives: list[tuple[str, Mention]] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    seconds_100: list[float] = field(default_factory=list)  # messages of 80-120 characters


def parse_name(name: str) -> tuple[str, int | None]:
    """Split ReDial's "Title  (Year)" into the title and the year."""
    match = _NAME.match(name.strip())
    if match:
        return " ".join(match.group("title").split()), int(match.group("year"))
    return " ".join(name.split()), None


def gold_item(catalogue: Catalogue, title: str, year: int | None) -> int | None:
    """The reference catalogue film for a name.

    It is an exact search-key match (the exact path of `Catalogue.find_title`), within one year when a year is given,
    most rated first. `find_title` itself is not called: it reads the "2001" of "2001: A Space Odyssey" as a year.
    """
    ranked = catalogue.title_search.exact_ids(search_key(title))
    if year is not None:
        ranked = [i for i in ranked if abs((catalogue.items[i].year or year) - year) <= 1]
    return ranked[0] if ranked else None


def render(text: str, names: dict[str, tuple[str, int | None, int | None]], variant: str) -> tuple[str, list[Gold]]:
    """Write each `@id` of a message as a film name in one of the three variants; return the text and gold."""
    parts: list[str] = []
    gold: list[Gold] = []
    position = 0
    length = 0
    for match in _TOKEN.finditer(text):
        if match.group(1) not in names:
            continue  # one token in the split names no film
        title, year, item_id = names[match.group(1)]
        written = {"year": f"{title} ({year})" if year else title, "title": title, "lower": title.lower()}[variant]
        before = text[position:match.start()]
        parts.append(before)
        length += len(before)
        gold.append(Gold(length, length + len(written), item_id))
        parts.append(written)
        length += len(written)
        position = match.end()
    parts.append(text[position:])
    return "".join(parts), gold


def titles_finder(catalogue: Catalogue) -> Finder:
    """`Catalogue.find_titles_in_text` as mentions: spans located in order, ids only (no unknown films)."""

    def find(text: str) -> list[Mention]:
        found = []
        cursor = 0
        for match in catalogue.find_titles_in_text(text):
            start = text.find(match.span, cursor)
            if start < 0:
                start = text.find(match.span)
            if start < 0:
                continue
            cursor = start + len(match.span)
            found.append(Mention(start, cursor, match.span, match.span, None, match.item_id, match.score))
        return found

    return find


def evaluate(dialogues: list[dict], catalogue: Catalogue, finder: Finder, variant: str) -> Tally:
    """Run one finder over every message of one variant."""
    tally = Tally()
    for dialogue in dialogues:
        names = {}
        for movie_id, name in dialogue["movieMentions"].items():
            if name:
                title, year = parse_name(name)
                names[movie_id] = (title, year, gold_item(catalogue, title, year))
        for message in dialogue["messages"]:
            text, gold = render(message["text"], names, variant)
            tally.messages += 1
            started = time.perf_counter()
            found = finder(text)
            tally.seconds.append(time.perf_counter() - started)
            if 80 <= len(text) <= 120:
                tally.seconds_100.append(tally.seconds[-1])
            for span in gold:
                hits = [m for m in found if m.start < span.end and span.start < m.end]
                tally.exact_span += any(m.start == span.start and m.end == span.end for m in hits)
                if span.item_id is None:
                    tally.gold_out += 1
                    tally.found_out += bool(hits)
                    tally.right_out += bool(hits) and all(m.item_id is None for m in hits)
                    tally.wrong_out += any(m.item_id is not None for m in hits)
                else:
                    tally.gold_in += 1
                    tally.found_in += bool(hits)
                    tally.right_in += any(m.item_id == span.item_id for m in hits)
            for mention in found:
                if not any(mention.start < g.end and g.start < mention.end for g in gold):
                    tally.false_positives.append((text, mention))
    return tally


def plain_messages(dialogues: list[dict], finder: Finder) -> tuple[int, list[tuple[str, Mention]]]:
    """Messages with no `@` token and the mentions found in them."""
    texts = [m["text"] for d in dialogues for m in d["messages"] if "@" not in m["text"]]
    return len(texts), [(text, mention) for text in texts for mention in finder(text)]


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:5.1f}%" if whole else "  n/a"


def report(name: str, tallies: dict[str, Tally], plain: tuple[int, list[tuple[str, Mention]]],
           catalogue: Catalogue, examples: int, rng: random.Random) -> dict:
    """Print one finder's results and return them as numbers."""
    print(f"\n=== {name} ===")
    print("variant  msgs  gold-in recall right-id | gold-out recall right-None wrong-id | all: recall exact-span"
          " | FP/1k msgs | ms/msg mean, p99, 80-120 chars")
    summary: dict = {}
    for variant, t in tallies.items():
        fp_rate = 1000.0 * len(t.false_positives) / t.messages
        times = sorted(t.seconds)
        mean_ms = 1000 * statistics.fmean(times)
        p99_ms = 1000 * times[int(0.99 * (len(times) - 1))]
        mean_100_ms = 1000 * statistics.fmean(t.seconds_100)
        gold = t.gold_in + t.gold_out
        print(f"{variant:7s} {t.messages:5d} {t.gold_in:6d} {_pct(t.found_in, t.gold_in)} {_pct(t.right_in, t.gold_in)}"
              f"  | {t.gold_out:6d} {_pct(t.found_out, t.gold_out)} {_pct(t.right_out, t.gold_out)}    "
              f"{_pct(t.wrong_out, t.gold_out)}  |    {_pct(t.found_in + t.found_out, gold)} {_pct(t.exact_span, gold)}"
              f"     | {fp_rate:7.1f}    | {mean_ms:.2f}, {p99_ms:.2f}, {mean_100_ms:.2f}")
        summary[variant] = {
            "messages": t.messages, "gold_in_catalogue": t.gold_in, "recall_in": t.found_in / t.gold_in,
            "right_item_in": t.right_in / t.gold_in, "gold_out_of_catalogue": t.gold_out,
            "recall_out": t.found_out / t.gold_out, "right_none_out": t.right_out / t.gold_out,
            "wrong_id_out": t.wrong_out / t.gold_out, "recall_all": (t.found_in + t.found_out) / gold,
            "exact_span_all": t.exact_span / gold,
            "false_positives_per_1k_messages": fp_rate, "ms_per_message_mean": mean_ms, "ms_per_message_p99": p99_ms,
            "ms_per_message_80_120_chars": mean_100_ms,
        }
    count, found = plain
    print(f"messages without @: {count}, mentions found: {len(found)} ({1000.0 * len(found) / count:.1f} per 1k)")
    summary["plain"] = {"messages": count, "mentions": len(found), "per_1k": 1000.0 * len(found) / count}
    for variant, t in tallies.items():
        print(f"\n-- {name}, variant {variant}: {min(examples, len(t.false_positives))} of {len(t.false_positives)} "
              "false positives --")
        for text, mention in rng.sample(t.false_positives, min(examples, len(t.false_positives))):
            print(f"  {_show(mention, catalogue)}  <- {text[:150]!r}")
    print(f"\n-- {name}: {min(examples, len(found))} of {len(found)} mentions in messages without @ --")
    for text, mention in rng.sample(found, min(examples, len(found))):
        print(f"  {_show(mention, catalogue)}  <- {text[:150]!r}")
    return summary


def _show(mention: Mention, catalogue: Catalogue) -> str:
    film = catalogue.items[mention.item_id].label if mention.item_id is not None else "not in catalogue"
    return f"[{mention.text}] -> {film} ({mention.score:.0f})"


def main() -> None:
    """Evaluate the chosen finders and print a table, examples, and the numbers as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--finder", choices=("mentions", "titles", "both"), default="both")
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--limit", type=int, default=0, help="only the first N dialogues (0: all 1,000)")
    parser.add_argument("--seed", type=int, default=0, help="which false positives are printed")
    args = parser.parse_args()
    dialogues = [json.loads(line) for line in args.source.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.limit:
        dialogues = dialogues[:args.limit]
    catalogue = load_catalogue(Settings())
    finders: dict[str, Finder] = {}
    if args.finder in ("titles", "both"):
        finders["Catalogue.find_titles_in_text"] = titles_finder(catalogue)
    if args.finder in ("mentions", "both"):
        catalogue.title_lexicon  # noqa: B018  built once, outside the timings
        finders["mentions.find_mentions"] = lambda text: find_mentions(text, catalogue)
    results = {}
    for name, finder in finders.items():
        tallies = {variant: evaluate(dialogues, catalogue, finder, variant) for variant in VARIANTS}
        results[name] = report(name, tallies, plain_messages(dialogues, finder), catalogue, args.examples,
                               random.Random(args.seed))
    print("\n" + json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
