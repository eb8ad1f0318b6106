"""The `convrec` command as a user runs it: separate processes, JSON contract, batch mode, clean errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ..conftest import REAL_CACHE


def convrec(*args: str, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh interpreter, the way a shell user would."""
    full_env = {**os.environ, "CONVREC_DATA_DIR": str(REAL_CACHE), **(env or {})}
    return subprocess.run([sys.executable, "-m", "convrec.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, check=False)


def test_help_is_fast_and_lists_commands() -> None:
    done = convrec("--help")
    assert done.returncode == 0
    for command in ("chat", "ask", "index", "config"):
        assert command in done.stdout


def test_config_shows_settings() -> None:
    done = convrec("config", env={"CONVREC_PORT": "8123"})
    assert done.returncode == 0 and "CONVREC_PORT" in done.stdout and "8123" in done.stdout


@pytest.mark.slow
def test_second_process_continues_the_session(real_service) -> None:  # noqa: ANN001 - warms the caches
    session = f"cli-{uuid.uuid4().hex[:8]}"
    first = convrec("ask", "a western from the 60s", "--session", session, "--json")
    assert first.returncode == 0, first.stderr
    payload = json.loads(first.stdout)
    assert set(payload) == {"session", "intent", "reply", "recommendations", "provider", "model", "fallbacks"}
    assert payload["provider"] == "offline" and payload["fallbacks"] == []
    assert payload["session"] == session and payload["intent"] == "recommend"
    cards = payload["recommendations"]
    assert 2 <= len(cards) <= 5 and set(cards[0]) == {"item_id", "title", "year", "genres", "reasons", "feedback"}
    assert all("Western" in c["genres"] and 1960 <= c["year"] <= 1969 for c in cards)
    second = convrec("ask", "why #2?", "--session", session, "--json")
    assert second.returncode == 0, second.stderr
    assert cards[1]["title"] in json.loads(second.stdout)["reply"]


@pytest.mark.slow
def test_batch_runs_turns_in_order(tmp_path: Path, real_service) -> None:  # noqa: ANN001
    session = f"batch-{uuid.uuid4().hex[:8]}"
    lines = [
        {"session": session, "message": "a comedy from the 80s", "top": 3},
        "this is not json",
        {"session": session, "message": "seen #1"},
        {"session": session, "message": "hi", "user": 10**6},
    ]
    batch = tmp_path / "turns.jsonl"
    batch.write_text("\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines) + "\n")
    done = convrec("ask", "--batch", str(batch))
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == 4
    assert len(out[0]["recommendations"]) == 3
    assert out[1] == {"line": 2, "error": out[1]["error"]} and "Expecting value" in out[1]["error"]
    first_pick = out[0]["recommendations"][0]["item_id"]
    assert out[2]["intent"] == "feedback" and first_pick not in [c["item_id"] for c in out[2]["recommendations"]]
    assert "unknown user id" in out[3]["error"]


def test_user_mistakes_exit_2_with_one_line(tmp_path: Path) -> None:
    missing = convrec("ask", "--batch", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0
    assert "nope.jsonl: file not found" in missing.stderr and "Traceback" not in missing.stderr
    empty_dir = tmp_path / "data"
    empty_dir.mkdir()
    bad_data = convrec("ask", "hi", env={"CONVREC_DATASET_DIR": str(empty_dir)})
    assert bad_data.returncode == 2 and "ml-100k.inter: file not found" in bad_data.stderr
    assert "Traceback" not in bad_data.stderr
    nothing = convrec("ask")
    assert nothing.returncode == 2 and "give a MESSAGE" in nothing.stderr


@pytest.mark.slow
def test_unknown_user_is_refused(real_service) -> None:  # noqa: ANN001
    done = convrec("ask", "hi", "--user", "99999")
    assert done.returncode == 2 and "unknown user id 99999" in done.stderr and "Traceback" not in done.stderr


def test_bad_setting_is_one_line() -> None:
    done = convrec("config", env={"CONVREC_PORT": "abc"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "convrec: error: invalid setting: CONVREC_PORT='abc': Input should be a valid integer, unable to parse "
        "string as an integer")


@pytest.mark.slow
def test_bench_quick_mode_writes_the_report(tmp_path: Path, real_service) -> None:  # noqa: ANN001
    out = tmp_path / "bench"
    done = convrec("bench", "--quick", "--models", "pop,bpr,sasrec,tup", "--seeds", "1", "--out", str(out),
                   env={"CONVREC_DATA_DIR": str(tmp_path / "cache"), "CONVREC_DATASET_DIR":
                        str(real_service.context.catalogue.source)}, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    assert results["quick"] and {r["model"] for r in results["runs"]} == {"pop", "bpr", "sasrec", "tup"}
    assert all(r["metrics"]["ndcg@10"] > 0 for r in results["runs"])
    report = (out / "report.md").read_text()
    assert "Quick mode" in report and "| sasrec |" in report
    assert (out / "metric_at_k.png").stat().st_size > 5000 and (out / "quality_vs_time.png").is_file()
    assert "## LLM-TUP" in report and (out / "fusion_weights.png").is_file()
    (out / "report.md").unlink()
    again = convrec("bench", "--out", str(out), "--rerender")
    assert again.returncode == 0 and (out / "report.md").read_text() == report
    missing = convrec("bench", "--out", str(tmp_path / "nothing"), "--rerender")
    assert missing.returncode == 2 and "results.json: file not found" in missing.stderr
    bad = convrec("bench", "--models", "pop,nope", "--out", str(out))
    assert bad.returncode == 2 and "unknown model(s) nope" in bad.stderr


@pytest.mark.slow
def test_profiles_command_writes_once_and_prints_asked_users(real_service) -> None:  # noqa: ANN001
    done = convrec("profiles", "--users", "1,405")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "user 1 (271 ratings)" in done.stdout and "user 405 (737 ratings)" in done.stdout
    assert done.stdout.count("short-term: Most recently") == 2 and "long-term:  Has rated 737 films" in done.stdout
    assert "Writing" not in done.stderr  # the chat already stored every profile: nothing is written again
    for bad, message in (("1,x", "comma-separated numbers"), ("99999", "unknown or empty user id(s) [99999]")):
        refused = convrec("profiles", "--users", bad)
        assert refused.returncode == 2 and message in refused.stderr and "Traceback" not in refused.stderr
    kind = convrec("profiles", "--kind", "pte")
    assert kind.returncode == 2 and "unknown profile kind 'pte'" in kind.stderr


@pytest.mark.slow
def test_eval_scripted_command(tmp_path: Path, real_service) -> None:  # noqa: ANN001
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "ok.yaml").write_text(
        "name: ok\ncategory: hard_constraints\ndescription: sixties westerns exist\nturns:\n"
        "  - say: a western from the 60s\n"
        "    expect:\n      recommendations: non_empty\n      every_pick: {year_min: 1960, year_max: 1969}\n")
    passing = convrec("eval", "scripted", "--cases", str(cases), "--out", str(tmp_path / "out"))
    assert passing.returncode == 0, passing.stderr[-2000:]
    assert json.loads((tmp_path / "out" / "results.json").read_text())
    from ..llm.scripted_server import ScriptedServer
    from ..llm.test_llm_path import Model

    with ScriptedServer() as server:  # the same suite, unchanged, through the LLM provider
        model = Model()
        model.slots = {"intent": "recommend", "genres_wanted": ["Western"], "year_min": 1960, "year_max": 1969}
        server.default = model  # type: ignore[assignment]
        through_llm = convrec("eval", "scripted", "--cases", str(cases), "--out", str(tmp_path / "llm"),
                              "--provider", "openai", env={"CONVREC_LLM_BASE_URL": server.base_url,
                                                           "CONVREC_LLM_MODEL": "scripted-model",
                                                           "CONVREC_PROFILE_WRITER": "offline"})
        assert through_llm.returncode == 0, through_llm.stderr[-2000:]
        assert len(server.requests) >= 4  # understand, rerank, explain, reply
    assert "openai" in (tmp_path / "llm" / "report.md").read_text()
    bogus = convrec("eval", "scripted", "--cases", str(cases), "--provider", "gpt-9")
    assert bogus.returncode == 2 and "unknown provider 'gpt-9'; choose one of: offline, openai" in bogus.stderr
    (cases / "bad.yaml").write_text(
        "name: bad\ncategory: hard_constraints\ndescription: a wrong expectation\nturns:\n"
        "  - say: a western from the 60s\n"
        "    expect:\n      every_pick: {year_min: 1990}\n")
    failing = convrec("eval", "scripted", "--cases", str(cases), "--out", str(tmp_path / "out2"))
    assert failing.returncode == 1
