"""The real-dialogue evaluation: scoring by hand-computed values, case-file errors, folds, and (slow, in CI) the
whole ReDial validation set run through the command, held out by conversation, against the issue's targets."""

from __future__ import annotations

import json
from math import comb
from pathlib import Path

import pytest

from convrec.core.errors import UserError
from convrec.evals import dialogues
from convrec.evals.dialogues import DialogueCase, fold_of, load_dialogue_cases, recall_at, score_list

from ..cli.test_cli import convrec

CASES = Path(__file__).resolve().parents[1] / "data" / "redial_valid_cases.jsonl"


def case(name: str = "1-2", targets: tuple[int, ...] = (3,), mentioned: tuple[int, ...] = ()) -> DialogueCase:
    return DialogueCase(case=name, seeker_turns=["hi"], targets=list(targets), mentioned=list(mentioned))


def test_named_films_are_removed_before_cutting_at_k() -> None:
    listed, recall = score_list([5, 7, 3, 9], case(targets=(3,), mentioned=(7,)), ks=(1, 2, 3))
    assert listed == [5, 3, 9] and recall == {"recall@1": 0.0, "recall@2": 1.0, "recall@3": 1.0}
    assert recall_at([1, 2], [2, 8], 1) == 0.0 and recall_at([1, 2], [2, 8], 2) == 1.0  # any pick counts


def test_random_baseline_is_the_exact_expectation() -> None:
    # 10 films, 2 named: a pool of 8; one target: k/8; two targets: 1 - C(6, k) / C(8, k).
    one = dialogues.random_baseline(10, [case(mentioned=(1, 2))])
    assert one["recall@1"] == pytest.approx(1 / 8, abs=1e-4) and one["recall@5"] == pytest.approx(5 / 8, abs=1e-4)
    two = dialogues.random_baseline(10, [case(targets=(3, 4), mentioned=(1, 2))])
    assert two["recall@5"] == pytest.approx(1 - comb(6, 5) / comb(8, 5), abs=1e-4)
    assert two["recall@10"] == 1.0


def test_popularity_baseline_ranks_by_count_with_the_same_exclusions() -> None:
    counts = {1: 50, 2: 40, 3: 30, 4: 20}
    scores = dialogues.popularity_baseline(counts, [case(targets=(3,), mentioned=(1,)), case(targets=(4,))])
    assert scores["recall@1"] == 0.0 and scores["recall@5"] == 1.0
    assert dialogues.popularity_baseline(counts, [case(targets=(2,), mentioned=(1,))])["recall@1"] == 1.0


def test_folds_keep_a_conversation_together_and_are_stable() -> None:
    assert case("123-4").conversation == "123" and case("123-10").conversation == "123"
    assert fold_of("123", 5) == fold_of("123", 5) and 0 <= fold_of("123", 5) < 5
    assert {fold_of(str(i), 5) for i in range(50)} == set(range(5)) and fold_of("123", 1) == 0


def test_case_file_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        load_dialogue_cases(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"case": "1-1", "seeker_turns": ["hi"], "targets": [1]}\n{"case": "1-2", "seeker_turns": []}\n')
    with pytest.raises(UserError, match=r"bad.jsonl:2: seeker_turns"):
        load_dialogue_cases(bad)
    assert len(load_dialogue_cases(CASES)) == 453


def test_every_case_runs_in_its_own_session_against_its_folds_models(tiny_context) -> None:  # noqa: ANN001
    cases = [DialogueCase(case="1-2", seeker_turns=["hi", "something like Heat"], targets=[9], mentioned=[7]),
             DialogueCase(case="2-2", seeker_turns=["a comedy please"], targets=[11]),
             DialogueCase(case="3-2", seeker_turns=["bye!"], targets=[8])]
    held_out: list[set[str]] = []

    def for_fold(context, conversations):  # noqa: ANN001, ANN202
        held_out.append(set(conversations))
        return context

    results = dialogues.run_dialogue_eval(tiny_context, cases, top=10, folds=3, context_for_fold=for_fold)
    assert sorted(c for fold in held_out for c in fold) == ["1", "2", "3"]  # each conversation held out once
    assert results["cases"] == 3 and results["errors"] == 0
    outcomes = {o["case"]: o for o in results["outcomes"]}
    assert 7 not in outcomes["1-2"]["listed"] and outcomes["1-2"]["listed"]  # Heat was named: never scored
    assert all(i in (11, 12, 14, 15, 16) for i in outcomes["2-2"]["listed"][:1])  # a comedy
    assert outcomes["3-2"]["listed"] == [] and results["no_list_cases"] == 1
    assert len(outcomes["1-2"]["turn_ms"]) == 2
    markdown = dialogues.dialogue_markdown({**results, "command": "x"}, "x")
    assert "No list in 1 of 3 cases" in markdown


@pytest.mark.slow
def test_redial_validation_cases_meet_the_targets(real_service, tmp_path: Path) -> None:  # noqa: ANN001
    """CI: every validation case, each fold against models that never saw it; no crash, lists for 95% of cases,
    and the Recall targets of issue 19."""
    done = convrec("eval", "dialogues", "--cases", str(CASES), "--folds", "5", "--max-no-list", "0.05",
                   "--out", str(tmp_path), timeout=1200)
    results = json.loads((tmp_path / "results.json").read_text())
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    assert results["errors"] == 0 and results["no_list_share"] <= 0.05
    assert results["agent"]["recall@10"] >= 0.16 and results["agent"]["recall@1"] >= 0.03
    assert results["agent"]["recall@10"] > 3 * results["baselines"]["popularity"]["recall@10"] - 0.01
    assert (tmp_path / "report.md").is_file() and (tmp_path / "dialogues.png").is_file()
