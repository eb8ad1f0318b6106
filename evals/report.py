"""Evaluation reports: `results.json` for machines, `report.md` for people, a compact table for the terminal.

The table, JSON and Markdown helpers are generic (rows in, text out), so the simulated-user report can reuse
them; `write_scripted_report` and `print_summary` are the scripted suite's own layout on top.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .results import CaseResult

STATUS_LABEL = {"pass": "pass", "fail": "FAIL", "known_failure": "known failure", "fixed": "fixed (still marked)"}
COUNT_KEYS = ("cases", "passed", "known_failures", "failed", "fixed")


# --- generic helpers --------------------------------------------------------------------------------------


def write_json(path: Path, payload: Any) -> Path:  # noqa: ANN401 - any JSON-serialisable payload
    """Write `payload` as indented UTF-8 JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _cell(value: object) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table; pipes and line breaks inside cells are escaped."""
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def print_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[object]], *,
                console: Any = None) -> None:  # noqa: ANN401 - a rich Console, imported lazily
    """Print a compact rich table (to stdout unless a console is given)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    (console or Console()).print(table)


# --- the scripted suite -----------------------------------------------------------------------------------


def _counts(results: Iterable[CaseResult]) -> dict[str, int]:
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for result in results:
        counts["cases"] += 1
        counts[{"pass": "passed", "fail": "failed", "known_failure": "known_failures", "fixed": "fixed"}[
            result.status]] += 1
    return counts


def summarize(results: Sequence[CaseResult]) -> dict[str, Any]:
    """Totals over all cases and per category (categories sorted by name)."""
    categories = sorted({r.category for r in results})
    return {
        "totals": _counts(results),
        "by_category": {c: _counts(r for r in results if r.category == c) for c in categories},
    }


def scripted_payload(results: Sequence[CaseResult], *, runtime_s: float, **meta: Any) -> dict[str, Any]:  # noqa: ANN401
    """The results.json object: metadata, totals, per-category counts and every case with every check."""
    turn_ms = [t.elapsed_ms for r in results for t in r.turns if t.elapsed_ms is not None]
    return {
        "suite": "scripted",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "runtime_s": round(runtime_s, 2),
        "turns": len(turn_ms),
        "mean_turn_ms": round(sum(turn_ms) / len(turn_ms), 1) if turn_ms else None,
        **{k: str(v) for k, v in meta.items()},
        **summarize(results),
        "cases": [{"status": r.status, **r.model_dump()} for r in results],
    }


def scripted_markdown(payload: dict[str, Any]) -> str:
    """The report.md text for a results.json payload."""
    totals = payload["totals"]
    lines = [
        "# Scripted dialogue evaluation", "",
        f"{totals['cases']} cases: {totals['passed']} passed, {totals['known_failures']} known failures, "
        f"{totals['failed']} unexpected failures, {totals['fixed']} marked as known failures but now passing. "
        f"{payload['turns']} turns in {payload['runtime_s']} s"
        + (f" (mean {payload['mean_turn_ms']} ms per turn)." if payload.get("mean_turn_ms") else "."),
        *([f"Provider: {payload['provider']}."] if payload.get("provider") else []),
        "", "## By category", "",
        markdown_table(["category", "cases", "passed", "known failures", "failed", "fixed"],
                       [[c, *(n[k] for k in COUNT_KEYS)] for c, n in payload["by_category"].items()]
                       + [["**all**", *(totals[k] for k in COUNT_KEYS)]]),
        "", "## Cases", "",
        markdown_table(["case", "category", "turns", "result", "note"],
                       [[c["name"], c["category"], len(c["turns"]), STATUS_LABEL[c["status"]],
                         c["known_failure"] or (c["failures"][0] if c["failures"] else "")]
                        for c in payload["cases"]]),
    ]
    failing = [c for c in payload["cases"] if c["failures"] or c["status"] == "fixed"]
    if failing:
        lines += ["", "## Failures", ""]
    for case in failing:
        lines += [f"### {case['name']} ({case['category']}): {STATUS_LABEL[case['status']]}", ""]
        if case["known_failure"]:
            lines += [f"Known failure: {case['known_failure']}", ""]
        if case["file"]:
            lines += [f"File: `{case['file']}`. {case['description']}".rstrip(), ""]
        said = {t["turn"]: t for t in case["turns"]}
        failed = [c for c in case["checks"] if not c["passed"]]
        if not failed:
            lines += [f"- {failure}" for failure in case["failures"]]
        for number in sorted({c["turn"] for c in failed}):
            turn = said.get(number)
            if turn is None:  # a schema problem: no turn was played
                lines += [f"- {c['message']}" for c in failed if c["turn"] == number]
                continue
            action = (f"said {json.dumps(turn['said'], ensure_ascii=False)}" if turn["said"] is not None
                      else f"card feedback {json.dumps(turn['feedback'])}")
            lines.append(f"- turn {number}, {action}:")
            lines += [f"  - {c['check']}: {c['message']}" for c in failed if c["turn"] == number]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_scripted_report(results: Sequence[CaseResult], out: Path, *, runtime_s: float,
                          **meta: Any) -> tuple[Path, Path]:  # noqa: ANN401
    """Write `out/results.json` and `out/report.md`; return both paths."""
    payload = scripted_payload(results, runtime_s=runtime_s, **meta)
    json_path = write_json(out / "results.json", payload)
    md_path = out / "report.md"
    md_path.write_text(scripted_markdown(payload), encoding="utf-8")
    return json_path, md_path


def print_summary(results: Sequence[CaseResult], *, console: Any = None) -> None:  # noqa: ANN401
    """Print pass/fail per category, then every case that did not simply pass."""
    summary = summarize(results)
    rows = [[c, *(n[k] for k in COUNT_KEYS)] for c, n in summary["by_category"].items()]
    rows.append(["all", *(summary["totals"][k] for k in COUNT_KEYS)])
    print_table("Scripted cases by category", ["category", "cases", "pass", "known", "fail", "fixed"], rows,
                console=console)
    others = [r for r in results if r.status != "pass"]
    if others:
        print_table("Cases not simply passing", ["case", "result", "why"],
                    [[r.name, STATUS_LABEL[r.status], _clip(r.known_failure or (r.failures or [""])[0])]
                     for r in others], console=console)


def _clip(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
