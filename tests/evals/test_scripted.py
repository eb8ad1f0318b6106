"""The scripted dialogue suite: case schema and loader, every check on hand-made turn results, reference
resolution, the runner with a stub service, the report, and (slow) the whole packaged suite on real data."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from convrec.agent.service import Recommendation, TurnResult
from convrec.core.errors import UserError
from convrec.evals.cases import CASES_DIR, BrokenCase, Case, Expect, PickRef, load_case, load_cases
from convrec.evals.report import markdown_table, print_summary, summarize, write_scripted_report
from convrec.evals.results import CaseResult
from convrec.evals.scripted import (
    CaseError,
    check_turn,
    exit_code,
    main_scripted,
    resolve_pick,
    run_case,
    run_cases,
)

GOOD = """\
name: good
category: critique
description: A valid case.
turns:
  - say: "a 90s crime film"
    expect:
      intent: recommend
      recommendations: non_empty
      every_pick: {genre_present: Crime, year_min: 1990}
  - feedback: {pick: 2, kind: seen}
    expect:
      never_shown: [{turn: 1, pick: 2}]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def card(item_id: int, title: str, year: int | None, genres: list[str], reasons: list[str] | None = None):  # noqa: ANN201
    return Recommendation(item_id=item_id, title=title, year=year, genres=genres,
                          reasons=["A reason."] if reasons is None else reasons)


def turn(*cards: Recommendation, intent: str = "recommend", reply: str = "Here are some picks.") -> TurnResult:
    return TurnResult(session="s", intent=intent, reply=reply, recommendations=list(cards))


HEAT = card(7, "Heat", 1995, ["Action", "Crime", "Thriller"])
FARGO = card(8, "Fargo", 1996, ["Crime", "Drama", "Thriller"])
CLUELESS = card(11, "Clueless", 1995, ["Comedy", "Romance"])
CASABLANCA = card(17, "Casablanca", 1942, ["Drama", "Romance", "War"])
STAR_WARS = card(1, "Star Wars", 1977, ["Action", "Adventure", "Sci-Fi"])


def run_checks(expect: dict, result: TurnResult, history: list[TurnResult] | None = None, *,  # noqa: ANN001
               catalogue, user_id: int | None = None, feedback: dict | None = None) -> list:
    return check_turn(Expect.model_validate(expect), result, history or [], turn=len(history or []) + 1,
                      catalogue=catalogue, user_id=user_id, feedback=feedback)


def passed(checks: list) -> bool:
    return bool(checks) and all(c.passed for c in checks)


# --- schema and loader ------------------------------------------------------------------------------------


def test_valid_case_loads_with_coercions(tmp_path: Path) -> None:
    case = load_case(write(tmp_path, "good.yaml", GOOD))
    assert isinstance(case, Case) and case.file == "good.yaml"
    assert case.turns[0].expect.intent == ["recommend"]
    assert case.turns[0].expect.every_pick.genre_present == ["Crime"]
    assert case.turns[1].feedback.pick == 2 and case.turns[1].message is None
    assert case.turns[1].expect.never_shown == [PickRef(turn=1, pick=2)]


def test_repeat_builds_a_long_message(tmp_path: Path) -> None:
    text = GOOD.replace('  - say: "a 90s crime film"\n', '  - say: "films "\n    repeat: 1000\n')
    case = load_case(write(tmp_path, "long.yaml", text))
    assert isinstance(case, Case) and len(case.turns[0].message) == 6000


@pytest.mark.parametrize(("text", "reason"), [
    (GOOD.replace("intent: recommend", "intnet: recommend"), "intnet"),
    (GOOD.replace("category: critique", "category: gossip"), "category"),
    (GOOD.replace("intent: recommend", "intent: shout"), "intent"),
    (GOOD.replace("kind: seen", "kind: love"), "kind"),
    (GOOD.replace("  - feedback: {pick: 2, kind: seen}\n", '  - say: "hi"\n    feedback: {pick: 2, kind: seen}\n'),
     "exactly one of 'say' or 'feedback'"),
    (GOOD.replace("{turn: 1, pick: 2}", "{turn: 2, pick: 2}"), "not an earlier turn"),
    (GOOD.replace("never_shown: [{turn: 1, pick: 2}]", "unseen_by_user: true"), "sets no 'user'"),
    (GOOD.replace("turns:\n", "turns: []\nx:\n"), "turns"),
    ("name: x\ncategory: [unclosed\n", "invalid case"),
    ("- just\n- a list\n", "must hold a mapping"),
    ("", "must hold a mapping"),
])
def test_malformed_file_is_one_line_naming_the_file(tmp_path: Path, text: str, reason: str) -> None:
    case = load_case(write(tmp_path, "bad-case.yaml", text))
    assert isinstance(case, BrokenCase)
    assert case.error.startswith("bad-case.yaml: invalid case:") and "\n" not in case.error
    assert reason in case.error
    assert "Traceback" not in case.error


def test_feedback_cannot_come_first(tmp_path: Path) -> None:
    text = GOOD.replace('  - say: "a 90s crime film"', "  - feedback: {pick: 1, kind: like}")
    case = load_case(write(tmp_path, "first.yaml", text))
    assert isinstance(case, BrokenCase) and "first turn cannot be feedback" in case.error


def test_loader_sorts_files_and_flags_duplicate_names(tmp_path: Path) -> None:
    write(tmp_path, "b.yaml", GOOD)
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "c.yaml", "name: [")
    write(tmp_path, "notes.txt", "not a case")
    cases = load_cases(tmp_path)
    assert [c.file for c in cases] == ["a.yaml", "b.yaml", "c.yaml"]
    assert isinstance(cases[0], Case)
    assert isinstance(cases[1], BrokenCase) and "also used by a.yaml" in cases[1].error
    assert isinstance(cases[2], BrokenCase)


def test_broken_case_becomes_a_failed_result_without_touching_the_service(tmp_path: Path) -> None:
    write(tmp_path, "bad.yaml", GOOD.replace("category: critique", "category: nope"))
    [result] = run_cases(None, load_cases(tmp_path))  # type: ignore[arg-type]
    assert not result.passed and result.status == "fail" and result.category == "broken"
    assert len(result.failures) == 1 and result.failures[0].startswith("bad.yaml: invalid case:")


def test_packaged_cases_are_valid_and_cover_the_taxonomy() -> None:
    cases = load_cases()
    broken = [c.error for c in cases if isinstance(c, BrokenCase)]
    assert not broken, broken
    assert len(cases) >= 60
    categories = {c.category for c in cases}
    assert categories >= {"chitchat", "item_question", "unknown_title", "hard_constraints", "soft_constraints",
                          "mixed", "history_only", "critique", "why", "impossible", "out_of_scope",
                          "prompt_injection", "odd_input"}
    assert all(c.file == f"{c.name}.yaml" for c in cases)
    known = [c for c in cases if isinstance(c, Case) and c.known_failure]
    assert len(known) <= len(cases) // 10  # known failures stay few


# --- references -------------------------------------------------------------------------------------------


def test_resolve_pick_and_its_errors() -> None:
    history = [turn(HEAT, FARGO), turn(intent="why", reply="because")]
    assert resolve_pick(PickRef(turn=1, pick=2), history) == FARGO
    with pytest.raises(CaseError, match="turn 1 has no pick 3"):
        resolve_pick(PickRef(turn=1, pick=3), history)
    with pytest.raises(CaseError, match="turn 2 has no pick 1"):
        resolve_pick(PickRef(turn=2, pick=1), history)
    with pytest.raises(CaseError, match="has not happened"):
        resolve_pick(PickRef(turn=5, pick=1), history)


# --- each check, passing and failing ------------------------------------------------------------------


def test_intent(tiny_catalogue) -> None:  # noqa: ANN001
    assert passed(run_checks({"intent": ["recommend", "refine"]}, turn(HEAT), catalogue=tiny_catalogue))
    [check] = run_checks({"intent": "why"}, turn(HEAT), catalogue=tiny_catalogue)
    assert not check.passed and check.message == "intent is 'recommend', expected why"


def test_recommendations_empty_and_non_empty(tiny_catalogue) -> None:  # noqa: ANN001
    assert passed(run_checks({"recommendations": "non_empty"}, turn(HEAT), catalogue=tiny_catalogue))
    assert passed(run_checks({"recommendations": "empty"}, turn(), catalogue=tiny_catalogue))
    [check] = run_checks({"recommendations": "non_empty"}, turn(), catalogue=tiny_catalogue)
    assert not check.passed and "got none" in check.message
    [check] = run_checks({"recommendations": "empty"}, turn(HEAT, FARGO), catalogue=tiny_catalogue)
    assert not check.passed and "got 2: Heat, Fargo" in check.message


@pytest.mark.parametrize(("rule", "ok"), [
    ({"year_min": 1995, "year_max": 1996}, True),
    ({"year_min": 1996}, False),
    ({"year_max": 1995}, False),
    ({"genre_present": "Crime"}, True),
    ({"genre_present": ["Action", "Drama"]}, True),
    ({"genre_present": "Action"}, False),
    ({"genre_all": ["Crime", "Thriller"]}, True),
    ({"genre_all": ["Crime", "Action"]}, False),
    ({"genre_absent": ["Horror", "Comedy"]}, True),
    ({"genre_absent": "Drama"}, False),
    ({"reasons_mention": "you asked"}, True),
    ({"reasons_mention": ["heat", "nothing"]}, False),
])
def test_every_pick(tiny_catalogue, rule: dict, ok: bool) -> None:  # noqa: ANN001
    heat = card(7, "Heat", 1995, ["Action", "Crime", "Thriller"], ["Crime, as You Asked."])
    fargo = card(8, "Fargo", 1996, ["Crime", "Drama", "Thriller"], ["Crime, as you asked.", "Rated 4.2/5."])
    [check] = run_checks({"every_pick": rule}, turn(heat, fargo), catalogue=tiny_catalogue)
    assert check.passed is ok
    if not ok:
        assert check.message.startswith("pick ")


def test_every_pick_failure_names_the_pick(tiny_catalogue) -> None:  # noqa: ANN001
    [check] = run_checks({"every_pick": {"genre_absent": "Drama", "year_max": 1990}}, turn(HEAT, FARGO),
                         catalogue=tiny_catalogue)
    assert check.message == ("pick 1 Heat (1995) [Action, Crime, Thriller]: year 1995 is after 1990; "
                             "pick 2 Fargo (1996) [Crime, Drama, Thriller]: year 1996 is after 1990; "
                             "pick 2 Fargo (1996) [Crime, Drama, Thriller]: has Drama")


def test_older_and_newer_than_an_earlier_turn(tiny_catalogue) -> None:  # noqa: ANN001
    history = [turn(HEAT, FARGO)]  # 1995, 1996
    older = {"every_pick": {"older_than": {"turn": 1}}}
    newer = {"every_pick": {"newer_than": {"turn": 1}}}
    assert passed(run_checks(older, turn(CASABLANCA, STAR_WARS), history, catalogue=tiny_catalogue))
    [check] = run_checks(older, turn(CASABLANCA, CLUELESS), history, catalogue=tiny_catalogue)
    assert not check.passed and "Clueless" in check.message and "(1995)" in check.message
    assert not passed(run_checks(newer, turn(FARGO), history, catalogue=tiny_catalogue))
    assert passed(run_checks(newer, turn(card(6, "Contact", 1997, ["Drama", "Sci-Fi"])), history,
                             catalogue=tiny_catalogue))
    [check] = run_checks(older, turn(CASABLANCA), [turn()], catalogue=tiny_catalogue)
    assert not check.passed and check.message.startswith("case error:")


def test_never_shown_by_title_and_by_reference(tiny_catalogue) -> None:  # noqa: ANN001
    history = [turn(CLUELESS, CASABLANCA)]
    expect = {"never_shown": ["heat", {"turn": 1, "pick": 2}]}
    assert passed(run_checks(expect, turn(FARGO, STAR_WARS), history, catalogue=tiny_catalogue))
    [check] = run_checks(expect, turn(FARGO, HEAT, CASABLANCA), history, catalogue=tiny_catalogue)
    assert not check.passed
    assert "pick 2 Heat (1995)" in check.message and "pick 3 Casablanca (1942)" in check.message
    # "The Usual Suspects" is found through the catalogue's title search ("Usual Suspects, The")
    suspects = card(9, "The Usual Suspects", 1995, ["Crime", "Thriller"])
    assert not passed(run_checks({"never_shown": ["the usual suspects"]}, turn(suspects), catalogue=tiny_catalogue))
    [check] = run_checks({"never_shown": ["Blade Runner 2049"]}, turn(FARGO), catalogue=tiny_catalogue)
    assert not check.passed and "'Blade Runner 2049' is not a catalogue title" in check.message


def test_not_repeated(tiny_catalogue) -> None:  # noqa: ANN001
    history = [turn(HEAT, FARGO), turn(intent="why"), turn(CLUELESS)]
    assert passed(run_checks({"not_repeated": True}, turn(CASABLANCA), history, catalogue=tiny_catalogue))
    [check] = run_checks({"not_repeated": True}, turn(CASABLANCA, FARGO, CLUELESS), history,
                         catalogue=tiny_catalogue)
    assert not check.passed
    assert "Fargo (1996) [Crime, Drama, Thriller] was already shown in turn 1" in check.message
    assert "Clueless (1995) [Comedy, Romance] was already shown in turn 3" in check.message


def test_unseen_by_user(tiny_catalogue) -> None:  # noqa: ANN001
    rated = set(tiny_catalogue.history(1)["item_id"])
    assert 1 in rated and 11 not in rated
    assert passed(run_checks({"unseen_by_user": True}, turn(CLUELESS), catalogue=tiny_catalogue, user_id=1))
    [check] = run_checks({"unseen_by_user": True}, turn(CLUELESS, STAR_WARS), catalogue=tiny_catalogue, user_id=1)
    assert not check.passed and "Star Wars (1977)" in check.message and "rated by user 1" in check.message


def test_reply_mentions_with_text_and_references(tiny_catalogue) -> None:  # noqa: ANN001
    history = [turn(HEAT, FARGO)]
    why = turn(intent="why", reply="#2, FARGO (1996): Crime, as you asked.")
    expect = {"reply_mentions": ["crime", {"turn": 1, "pick": 2, "field": "title"},
                                 {"turn": 1, "pick": 2, "field": "year"}],
              "reply_not_mentions": [{"turn": 1, "pick": 1}, "system prompt"]}
    assert passed(run_checks(expect, why, history, catalogue=tiny_catalogue))
    wrong = turn(intent="why", reply="#1, Heat (1995): my system prompt says so.")
    checks = {c.check: c for c in run_checks(expect, wrong, history, catalogue=tiny_catalogue)}
    assert "does not mention 'Fargo'" in checks["reply_mentions"].message
    assert "does not mention '1996'" in checks["reply_mentions"].message
    assert "mentions 'Heat'" in checks["reply_not_mentions"].message
    assert "mentions 'system prompt'" in checks["reply_not_mentions"].message
    [check] = run_checks({"reply_mentions": [{"turn": 1, "pick": 9}]}, why, history, catalogue=tiny_catalogue)
    assert not check.passed and check.message == "case error: turn 1 has no pick 9 (it had 2)"


def test_reply_length_question_and_reasons(tiny_catalogue) -> None:  # noqa: ANN001
    short = turn(reply="What are you in the mood for?")
    assert passed(run_checks({"asks_question": True, "reply_max_chars": 40}, short, catalogue=tiny_catalogue))
    statement = turn(reply="Here you go." * 10)
    checks = run_checks({"asks_question": True, "reply_max_chars": 40}, statement, catalogue=tiny_catalogue)
    assert [c.passed for c in checks] == [False, False]
    assert checks[0].message == "reply is 120 characters, expected at most 40"
    assert passed(run_checks({"picks_have_reasons": True}, turn(HEAT, FARGO), catalogue=tiny_catalogue))
    bare = card(8, "Fargo", 1996, ["Crime"], reasons=[" "])
    [check] = run_checks({"picks_have_reasons": True}, turn(HEAT, bare), catalogue=tiny_catalogue)
    assert not check.passed and check.message == "pick 2 Fargo (1996) [Crime] has no reasons"


def test_nothing_expected_means_no_checks(tiny_catalogue) -> None:  # noqa: ANN001
    assert run_checks({}, turn(HEAT), catalogue=tiny_catalogue) == []


# --- the runner, with a stub service ----------------------------------------------------------------------


class StubService:
    """Answers from a script, records card clicks, and crashes on the message "boom"."""

    def __init__(self, catalogue, answers: list[TurnResult]) -> None:  # noqa: ANN001
        self.context = SimpleNamespace(catalogue=catalogue)
        self.answers = list(answers)
        self.calls: list[tuple] = []

    def ask(self, session: str, message: str, *, user_id=None, top=None) -> TurnResult:  # noqa: ANN001
        self.calls.append(("ask", session, message, user_id, top))
        if message == "boom":
            raise RuntimeError("kaput\nsecond line")
        return self.answers.pop(0)

    def feedback(self, session: str, item_id: int, kind: str, *, user_id=None, top=None) -> TurnResult:  # noqa: ANN001
        self.calls.append(("feedback", session, item_id, kind, user_id, top))
        return self.answers.pop(0)


def make_case(turns: list[dict], **extra) -> Case:  # noqa: ANN003
    return Case.model_validate({"name": "c", "category": "critique", "description": "d", "turns": turns, **extra})


def test_feedback_clicks_the_latest_answer_with_picks(tiny_catalogue) -> None:  # noqa: ANN001
    case = make_case([
        {"say": "a crime film", "expect": {"recommendations": "non_empty"}},
        {"say": "why #1?", "expect": {"intent": "why"}},
        {"feedback": {"pick": 2, "kind": "dislike"},
         "expect": {"never_shown": [{"turn": 1, "pick": 2}], "not_repeated": True}},
    ], user=3, top=2)
    service = StubService(tiny_catalogue, [turn(HEAT, FARGO), turn(intent="why", reply="Because."),
                                           turn(CLUELESS, intent="refine")])
    result = run_case(service, case)  # type: ignore[arg-type]
    assert result.passed and result.status == "pass" and not result.failures
    assert service.calls[2][0] == "feedback" and service.calls[2][2:] == (8, "dislike", 3, 2)
    assert len({call[1] for call in service.calls}) == 1  # one session for the whole case
    assert result.turns[2].feedback == {"pick": 2, "kind": "dislike", "item_id": 8}
    assert result.turns[0].said == "a crime film" and result.turns[0].result["intent"] == "recommend"
    assert [c.check for c in result.checks] == ["recommendations", "intent", "never_shown", "not_repeated"]


def test_each_case_gets_a_fresh_session(tiny_catalogue) -> None:  # noqa: ANN001
    service = StubService(tiny_catalogue, [turn(HEAT), turn(FARGO)])
    case = make_case([{"say": "a crime film"}])
    run_cases(service, [case, case])  # type: ignore[arg-type]
    assert service.calls[0][1] != service.calls[1][1]


def test_failures_crashes_and_bad_feedback_are_one_line(tiny_catalogue) -> None:  # noqa: ANN001
    failing = make_case([{"say": "a crime film", "expect": {"recommendations": "empty"}}])
    result = run_case(StubService(tiny_catalogue, [turn(HEAT)]), failing)  # type: ignore[arg-type]
    assert result.status == "fail" and result.failures == [
        "turn 1 recommendations: expected no recommendations, got 1: Heat"]
    crash = make_case([{"say": "boom"}, {"say": "never sent"}])
    service = StubService(tiny_catalogue, [])
    result = run_case(service, crash)  # type: ignore[arg-type]
    assert result.failures == ["turn 1: agent raised RuntimeError: kaput second line"]
    assert len(service.calls) == 1 and len(result.turns) == 1
    click = make_case([{"say": "hi"}, {"feedback": {"pick": 4, "kind": "seen"}}])
    result = run_case(StubService(tiny_catalogue, [turn(HEAT, FARGO)]), click)  # type: ignore[arg-type]
    assert result.failures == ["turn 2: case error: feedback on pick 4, but the latest answer with picks had 2"]


def test_known_failure_status_and_exit_code(tiny_catalogue) -> None:  # noqa: ANN001
    case = make_case([{"say": "x", "expect": {"recommendations": "empty"}}], known_failure="agent bug")
    still_failing = run_case(StubService(tiny_catalogue, [turn(HEAT)]), case)  # type: ignore[arg-type]
    fixed = run_case(StubService(tiny_catalogue, [turn()]), case)  # type: ignore[arg-type]
    assert still_failing.status == "known_failure" and fixed.status == "fixed"
    plain_fail = CaseResult(name="f", category="critique", passed=False, failures=["x"])
    assert exit_code([still_failing, fixed]) == 0
    assert exit_code([still_failing, fixed, plain_fail]) == 1


# --- the report -------------------------------------------------------------------------------------------


def sample_results() -> list[CaseResult]:
    return [
        CaseResult(name="a", category="why", passed=True),
        CaseResult(name="b", category="why", passed=False, failures=["turn 1 intent: intent is 'x' | y"]),
        CaseResult(name="c", category="critique", passed=False, known_failure="agent bug", failures=["turn 1 z"]),
        CaseResult(name="d", category="critique", passed=True, known_failure="agent bug"),
    ]


def test_summary_counts_by_category() -> None:
    summary = summarize(sample_results())
    assert summary["totals"] == {"cases": 4, "passed": 1, "known_failures": 1, "failed": 1, "fixed": 1}
    assert summary["by_category"]["why"] == {"cases": 2, "passed": 1, "known_failures": 0, "failed": 1, "fixed": 0}
    assert list(summary["by_category"]) == ["critique", "why"]


def test_report_files(tmp_path: Path) -> None:
    json_path, md_path = write_scripted_report(sample_results(), tmp_path / "out", runtime_s=1.234, provider="p")
    payload = json.loads(json_path.read_text(encoding="utf-8"))
    assert payload["suite"] == "scripted" and payload["runtime_s"] == 1.23 and payload["provider"] == "p"
    assert payload["totals"]["failed"] == 1 and [c["status"] for c in payload["cases"]] == [
        "pass", "fail", "known_failure", "fixed"]
    text = md_path.read_text(encoding="utf-8")
    assert "| why | 2 | 1 | 0 | 1 | 0 |" in text and "| **all** | 4 | 1 | 1 | 1 | 1 |" in text
    assert "### b (why): FAIL" in text and "intent is 'x' \\| y" in text
    assert "- turn 1 intent: intent is 'x' | y" in text
    assert "### d (critique): fixed (still marked)" in text and "### a (" not in text


def test_markdown_table_and_rich_summary() -> None:
    assert markdown_table(["a", "b"], [[1, "x|y\nz"]]) == "| a | b |\n|---|---|\n| 1 | x\\|y z |"
    from rich.console import Console

    out = io.StringIO()
    print_summary(sample_results(), console=Console(file=out, width=120))
    text = out.getvalue()
    assert "critique" in text and "known failure" in text and "agent bug" in text and "FAIL" in text


def test_main_scripted_rejects_a_missing_folder(tmp_path: Path, tiny_settings) -> None:  # noqa: ANN001
    with pytest.raises(UserError, match="does not exist"):
        main_scripted(tiny_settings, tmp_path / "nope", tmp_path / "out", False)
    with pytest.raises(UserError, match="no case files"):
        main_scripted(tiny_settings, tmp_path, tmp_path / "out", False)


# --- the whole suite on real MovieLens-100K ---------------------------------------------------------------


@pytest.mark.slow
def test_packaged_suite_has_no_unexpected_failures(real_service) -> None:  # noqa: ANN001
    results = run_cases(real_service, load_cases(CASES_DIR))
    assert len(results) >= 60
    unexpected = [f"{r.name}: {r.failures}" for r in results if r.status == "fail"]
    assert not unexpected, "\n".join(unexpected)


@pytest.mark.slow
def test_main_scripted_end_to_end(real_settings, tmp_path: Path) -> None:  # noqa: ANN001
    cases = tmp_path / "cases"
    cases.mkdir()
    write(cases, "hello.yaml", "name: hello\ncategory: chitchat\ndescription: d\nturns:\n"
                               "  - say: hi there\n    expect: {intent: chitchat, recommendations: empty}\n")
    assert main_scripted(real_settings, cases, tmp_path / "out", False) == 0
    write(cases, "broken.yaml", "name: broken\n")
    assert main_scripted(real_settings, cases, tmp_path / "out", False) == 1
    payload = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert payload["totals"] == {"cases": 2, "passed": 1, "known_failures": 0, "failed": 1, "fixed": 0}
    assert (tmp_path / "out" / "report.md").exists()


def test_one_per_category_keeps_the_first_case_of_each() -> None:
    from convrec.evals.cases import load_cases
    from convrec.evals.scripted import one_per_category

    cases = load_cases()
    chosen = one_per_category(cases)
    categories = [c.category for c in chosen]  # type: ignore[union-attr]
    assert len(categories) == len(set(categories)) == len({c.category for c in cases})  # type: ignore[union-attr]
    firsts = [next(c for c in cases if getattr(c, "category", None) == k) for k in categories]
    assert all(first is pick for first, pick in zip(firsts, chosen, strict=True))


def test_one_card_changed(tiny_catalogue) -> None:  # noqa: ANN001
    before = turn(HEAT, FARGO, CLUELESS)
    dislike = {"pick": 2, "kind": "dislike", "item_id": 8}
    swapped = run_checks({"one_card_changed": True}, turn(HEAT, CASABLANCA, CLUELESS, intent="feedback"), [before],
                         catalogue=tiny_catalogue, feedback=dislike)
    assert passed(swapped)
    everything = run_checks({"one_card_changed": True}, turn(CASABLANCA, HEAT, CLUELESS), [before],
                            catalogue=tiny_catalogue, feedback=dislike)
    assert not passed(everything) and "pick 1 changed from 7 to 17" in everything[0].message
    assert "shown before (7)" in everything[0].message
    liked = {"pick": 1, "kind": "like", "item_id": 7}
    assert passed(run_checks({"one_card_changed": True}, turn(HEAT, FARGO, CLUELESS), [before],
                             catalogue=tiny_catalogue, feedback=liked))
    replaced = run_checks({"one_card_changed": True}, turn(STAR_WARS, FARGO, CLUELESS), [before],
                          catalogue=tiny_catalogue, feedback=liked)
    assert replaced[0].message == "the liked pick 1 was replaced"
    no_click = run_checks({"one_card_changed": True}, before, [before], catalogue=tiny_catalogue)
    assert not passed(no_click) and "needs a feedback turn" in no_click[0].message
