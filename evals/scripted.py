"""Run the scripted dialogue cases against the chat service and check every turn's structured result.

Each case runs in a fresh conversation (a new uuid session); a turn is a message or a card click, and the
checks look only at the typed `TurnResult` (intent, reply, recommendation cards), never at internal state,
so the same cases hold for the offline provider and an LLM-backed one.
"""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from tqdm import tqdm

from convrec.agent.service import ChatService, Recommendation, TurnResult
from convrec.core.errors import UserError
from convrec.core.settings import Settings
from convrec.core.title_search import TitleMatch

from .cases import CASES_DIR, BrokenCase, Case, EveryPick, Expect, PickRef, TurnRef, load_cases
from .report import print_summary, write_scripted_report
from .results import CaseResult, CheckResult, TurnRecord

logger = logging.getLogger(__name__)

SAID_LIMIT = 300  # characters of a message kept in the results (a 5,000-character message is summarised)


class CatalogueLike(Protocol):
    """What the checks need from the catalogue: title search and a user's rated history."""

    def find_title(self, query: str, *, limit: int = 5, cutoff: float = 80.0) -> list[TitleMatch]:
        """Resolve a title a case names to the items it most likely means, best first."""

    def history(self, user_id: int) -> Any:
        """The user's rated history, whose `item_id` column the checks compare picks with."""


class CaseError(Exception):
    """A problem inside a case (a reference to a pick that does not exist, an unknown title)."""


# --- references -------------------------------------------------------------------------------------------


def resolve_pick(ref: PickRef, history: Sequence[TurnResult | None]) -> Recommendation:
    """The card that was pick `ref.pick` of turn `ref.turn` (both 1-based) in this case's earlier turns."""
    if ref.turn > len(history):
        raise CaseError(f"turn {ref.turn} has not happened yet")
    result = history[ref.turn - 1]
    if result is None:
        raise CaseError(f"turn {ref.turn} returned no result")
    if not 1 <= ref.pick <= len(result.recommendations):
        raise CaseError(f"turn {ref.turn} has no pick {ref.pick} (it had {len(result.recommendations)})")
    return result.recommendations[ref.pick - 1]


def resolve_text(value: str | PickRef, history: Sequence[TurnResult | None]) -> str:
    """A literal text, or the title / year of an earlier pick."""
    if isinstance(value, str):
        return value
    card = resolve_pick(value, history)
    return card.title if value.field == "title" else str(card.year)


def resolve_item(value: str | PickRef, history: Sequence[TurnResult | None], catalogue: CatalogueLike) -> int:
    """The item id a title (best `find_title` match) or a pick reference names."""
    if isinstance(value, PickRef):
        return resolve_pick(value, history).item_id
    matches = catalogue.find_title(value, limit=1)
    if not matches:
        raise CaseError(f"{value!r} is not a catalogue title")
    return matches[0].item_id


def _turn_years(ref: TurnRef, history: Sequence[TurnResult | None]) -> list[int]:
    if ref.turn > len(history) or history[ref.turn - 1] is None:
        raise CaseError(f"turn {ref.turn} returned no result")
    years = [c.year for c in history[ref.turn - 1].recommendations if c.year]  # type: ignore[union-attr]
    if not years:
        raise CaseError(f"turn {ref.turn} had no picks with a year to compare with")
    return years


# --- checks -----------------------------------------------------------------------------------------------


def _label(card: Recommendation, rank: int) -> str:
    year = f" ({card.year})" if card.year else ""
    return f"pick {rank} {card.title}{year} [{', '.join(card.genres)}]"


def _short(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _pick_problems(rule: EveryPick, card: Recommendation, history: Sequence[TurnResult | None]) -> list[str]:
    problems = []
    genres = set(card.genres)
    if rule.year_min is not None and (card.year is None or card.year < rule.year_min):
        problems.append(f"year {card.year} is before {rule.year_min}")
    if rule.year_max is not None and (card.year is None or card.year > rule.year_max):
        problems.append(f"year {card.year} is after {rule.year_max}")
    if rule.year_not_between is not None:
        low, high = rule.year_not_between
        if card.year is None or low <= card.year <= high:
            problems.append(f"year {card.year} is within the excluded {low}-{high}")
    if rule.genre_present and not genres & set(rule.genre_present):
        problems.append(f"has none of {', '.join(rule.genre_present)}")
    if missing := [g for g in rule.genre_all if g not in genres]:
        problems.append(f"lacks {', '.join(missing)}")
    if banned := [g for g in rule.genre_absent if g in genres]:
        problems.append(f"has {', '.join(banned)}")
    if rule.older_than is not None:
        oldest = min(_turn_years(rule.older_than, history))
        if card.year is None or card.year >= oldest:
            problems.append(f"is not older than turn {rule.older_than.turn}'s oldest pick ({oldest})")
    if rule.newer_than is not None:
        newest = max(_turn_years(rule.newer_than, history))
        if card.year is None or card.year <= newest:
            problems.append(f"is not newer than turn {rule.newer_than.turn}'s newest pick ({newest})")
    if rule.reasons_mention:
        wanted = [w.lower() for w in rule.reasons_mention]
        if not any(w in reason.lower() for reason in card.reasons for w in wanted):
            problems.append(f"no reason mentions {' or '.join(repr(w) for w in rule.reasons_mention)}")
    return problems


def _one_card_problems(cards: Sequence[Recommendation], history: Sequence[TurnResult | None],
                       feedback: dict[str, Any] | None) -> list[str]:
    """What breaks "a card click changes that card only" (see `Expect.one_card_changed`)."""
    if feedback is None:
        raise CaseError("one_card_changed needs a feedback turn")
    latest = next((r for r in reversed(history) if r is not None and r.recommendations), None)
    before = [c.item_id for c in latest.recommendations] if latest else []
    after = [c.item_id for c in cards]
    slot = int(feedback["pick"]) - 1
    problems = [f"pick {n + 1} changed from {old} to {after[n] if n < len(after) else 'nothing'}"
                for n, old in enumerate(before) if n != slot and (n >= len(after) or after[n] != old)]
    earlier = {c.item_id for r in history if r is not None for c in r.recommendations}
    if feedback["kind"] == "like":
        if slot >= len(after) or after[slot] != before[slot]:
            problems.append(f"the liked pick {slot + 1} was replaced")
    elif slot < len(after) and after[slot] in earlier:
        problems.append(f"pick {slot + 1} was replaced by a film shown before ({after[slot]})")
    return problems


def _check(turn: int, name: str, problems: list[str]) -> CheckResult:
    return CheckResult(turn=turn, check=name, passed=not problems, message="; ".join(problems))


def check_turn(expect: Expect, result: TurnResult, history: Sequence[TurnResult | None], *, turn: int,
               catalogue: CatalogueLike, user_id: int | None = None,
               feedback: dict[str, Any] | None = None) -> list[CheckResult]:
    """Run every check `expect` asks for on `result`; `history` holds the case's earlier turn results."""
    checks: list[CheckResult] = []
    cards = result.recommendations
    reply = result.reply.lower()

    def run(name: str, body: Any) -> None:  # noqa: ANN401 - a closure returning the problems found
        try:
            problems = body()
        except CaseError as error:
            problems = [f"case error: {error}"]
        checks.append(_check(turn, name, problems))

    if expect.intent is not None:
        run("intent", lambda: [] if result.intent in expect.intent else [
            f"intent is {result.intent!r}, expected {' or '.join(expect.intent)}"])
    if expect.recommendations == "non_empty":
        run("recommendations", lambda: [] if cards else ["expected recommendations, got none"])
    elif expect.recommendations == "empty":
        run("recommendations", lambda: [] if not cards else [
            f"expected no recommendations, got {len(cards)}: " + ", ".join(c.title for c in cards[:5])])
    if expect.every_pick is not None:
        rule = expect.every_pick
        run("every_pick", lambda: [f"{_label(c, i)}: {p}" for i, c in enumerate(cards, 1)
                                   for p in _pick_problems(rule, c, history)])
    if expect.never_shown:
        def never_shown() -> list[str]:
            banned = {resolve_item(v, history, catalogue): v for v in expect.never_shown}
            return [f"{_label(c, i)} must not be shown" for i, c in enumerate(cards, 1) if c.item_id in banned]
        run("never_shown", never_shown)
    if expect.not_repeated:
        def not_repeated() -> list[str]:
            earlier: dict[int, int] = {}
            for n, r in enumerate(history, 1):
                for c in r.recommendations if r is not None else []:
                    earlier.setdefault(c.item_id, n)
            return [f"{_label(c, i)} was already shown in turn {earlier[c.item_id]}"
                    for i, c in enumerate(cards, 1) if c.item_id in earlier]
        run("not_repeated", not_repeated)
    if expect.unseen_by_user:
        def unseen() -> list[str]:
            if user_id is None:
                raise CaseError("unseen_by_user needs the case's user")
            rated = {int(i) for i in catalogue.history(user_id)["item_id"]}
            return [f"{_label(c, i)} was already rated by user {user_id}"
                    for i, c in enumerate(cards, 1) if c.item_id in rated]
        run("unseen_by_user", unseen)
    if expect.reply_mentions:
        run("reply_mentions", lambda: [
            f"reply does not mention {text!r} (reply: {_short(result.reply)!r})"
            for text in (resolve_text(v, history) for v in expect.reply_mentions) if text.lower() not in reply])
    if expect.reply_not_mentions:
        run("reply_not_mentions", lambda: [
            f"reply mentions {text!r} (reply: {_short(result.reply)!r})"
            for text in (resolve_text(v, history) for v in expect.reply_not_mentions) if text.lower() in reply])
    if expect.reply_max_chars is not None:
        limit = expect.reply_max_chars
        run("reply_max_chars", lambda: [] if len(result.reply) <= limit else [
            f"reply is {len(result.reply)} characters, expected at most {limit}"])
    if expect.asks_question:
        run("asks_question", lambda: [] if "?" in result.reply else [
            f"reply asks no question (reply: {_short(result.reply)!r})"])
    if expect.one_card_changed:
        run("one_card_changed", lambda: _one_card_problems(cards, history, feedback))
    if expect.picks_have_reasons:
        run("picks_have_reasons", lambda: [f"{_label(c, i)} has no reasons" for i, c in enumerate(cards, 1)
                                           if not [r for r in c.reasons if r.strip()]])
    return checks


# --- running ----------------------------------------------------------------------------------------------


def _broken_result(case: BrokenCase) -> CaseResult:
    return CaseResult(name=case.name, category=case.category, file=case.file, passed=False,
                      failures=[case.error], checks=[CheckResult(turn=0, check="schema", passed=False,
                                                                 message=case.error)])


def run_case(service: ChatService, case: Case) -> CaseResult:
    """Play one case turn by turn in a fresh session and collect every check."""
    session = f"eval-{uuid.uuid4()}"
    catalogue = service.context.catalogue
    history: list[TurnResult | None] = []
    records: list[TurnRecord] = []
    checks: list[CheckResult] = []
    failures: list[str] = []
    for number, turn in enumerate(case.turns, start=1):
        record = TurnRecord(turn=number)
        records.append(record)
        try:
            if turn.feedback is not None:
                latest = next((r for r in reversed(history) if r is not None and r.recommendations), None)
                shown = latest.recommendations if latest else []
                if not 1 <= turn.feedback.pick <= len(shown):
                    raise CaseError(f"feedback on pick {turn.feedback.pick}, but the latest answer with picks "
                                    f"had {len(shown)}")
                item_id = shown[turn.feedback.pick - 1].item_id
                record.feedback = {"pick": turn.feedback.pick, "kind": turn.feedback.kind, "item_id": item_id}
                result = service.feedback(session, item_id, turn.feedback.kind, user_id=case.user, top=case.top)
            else:
                message = turn.message or ""
                record.said = message if len(message) <= SAID_LIMIT else message[:SAID_LIMIT] + "..."
                record.said_chars = len(message)
                result = service.ask(session, message, user_id=case.user, top=case.top)
        except CaseError as error:
            record.error = f"case error: {error}"
        except Exception as error:  # the agent crashing is a failed case, reported in one line
            logger.debug("case %s turn %d raised", case.name, number, exc_info=True)
            record.error = f"agent raised {type(error).__name__}: {_short(str(error), 200)}"
        if record.error is not None:
            failures.append(f"turn {number}: {record.error}")
            checks.append(CheckResult(turn=number, check="turn", passed=False, message=record.error))
            break
        record.result = result.public()
        record.elapsed_ms = result.elapsed_ms
        turn_checks = check_turn(turn.expect, result, history, turn=number, catalogue=catalogue,
                                 user_id=case.user, feedback=record.feedback)
        checks += turn_checks
        failures += [f"turn {c.turn} {c.check}: {c.message}" for c in turn_checks if not c.passed]
        history.append(result)
    return CaseResult(name=case.name, category=case.category, file=case.file, description=case.description,
                      passed=not failures, known_failure=case.known_failure, failures=failures, checks=checks,
                      turns=records)


def run_cases(service: ChatService, cases: Sequence[Case | BrokenCase], *,
              show_progress: bool = False) -> list[CaseResult]:
    """Run every case in order; a broken case file becomes a failed result naming the file."""
    results = []
    for case in tqdm(cases, desc="scripted cases", unit="case", disable=not show_progress):
        results.append(_broken_result(case) if isinstance(case, BrokenCase) else run_case(service, case))
    return results


def exit_code(results: Sequence[CaseResult]) -> int:
    """0 when every case passed or failed as known, 1 when any failed unexpectedly."""
    return 1 if any(r.status == "fail" for r in results) else 0


def one_per_category(cases: Sequence[Case | BrokenCase]) -> list[Case | BrokenCase]:
    """The first case (by file name) of every category: a quick pass over the whole taxonomy, for slow models."""
    seen: set[str] = set()
    chosen = []
    for case in cases:
        category = getattr(case, "category", None)
        if category is not None and category not in seen:
            seen.add(category)
            chosen.append(case)
    return chosen


def main_scripted(settings: Settings, cases_dir: Path | None, out: Path, show_progress: bool,
                  sample: bool = False) -> int:
    """Load the cases, run them against a freshly loaded agent, write the report to `out`, print a summary.

    Conversations go to a temporary checkpoint database (the same SQLite code path as the app), so an
    evaluation never adds sessions to the user's own conversation store.
    """
    from convrec.agent.context import load_context
    from convrec.agent.service import open_checkpointer

    folder = CASES_DIR if cases_dir is None else cases_dir
    if not folder.is_dir():
        raise UserError(f"case folder {folder} does not exist; pass --cases with a folder of *.yaml cases")
    cases = load_cases(folder)
    if not cases:
        raise UserError(f"no case files (*.yaml) in {folder}")
    if sample:
        cases = one_per_category(cases)
    context = load_context(settings, show_progress=show_progress)
    with tempfile.TemporaryDirectory(prefix="convrec-eval-") as scratch:
        with ChatService(context, open_checkpointer(Path(scratch) / "eval.sqlite")) as service:
            started = time.perf_counter()
            results = run_cases(service, cases, show_progress=show_progress)
            runtime_s = time.perf_counter() - started
    write_scripted_report(results, out, runtime_s=runtime_s, cases_dir=folder,
                          provider=f"{context.provider.name} ({context.provider.model})")
    print_summary(results)
    return exit_code(results)
