"""What PtE's conversation-profile channel is worth on real dialogues: ReDial validation, channel on and off.

Usage: .venv/bin/python scripts/pte_channel_dialogues.py [--weights 0.1,0.4] [--whole-text] [--out FILE]

Loads the chat's context with `CONVREC_PROFILE_CHANNEL=pte` (fitting PtE once on first use: minutes) and runs
the 453 ReDial validation cases (`convrec eval dialogues`, 5 folds held out by conversation) with the channel at
its weight (`AgentOptions.profile_weight`), at each of `--weights`, and off. `--whole-text` runs once more with
each conversation's whole profile encoded, rather than the mean of its statements' precomputed vectors (what the
average loses). Prints Recall@1/5/10 over all cases, the tuning folds (0-2, which choose a weight) and the check
folds (3-4), and writes everything as JSON to `--out`. The validation cases only: ReDial's test split is never read.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from convrec.agent.context import held_out_context, load_context
from convrec.agent.profile_channel import ProfileChannel
from convrec.cli.main import REDIAL_CASES
from convrec.core.settings import Settings
from convrec.evals.dialogues import load_dialogue_cases, run_dialogue_eval


def main() -> None:
    """Run the variants and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="0.1,0.4", help="other channel weights to try, comma-separated")
    parser.add_argument("--whole-text", action="store_true", help="also encode each conversation's whole profile")
    parser.add_argument("--out", type=Path, default=Path("pte_channel_dialogues.json"))
    args = parser.parse_args()
    context = load_context(Settings(profile_channel="pte"))
    if context.channel is None:
        raise SystemExit("the channel did not load")
    cases = load_dialogue_cases(REDIAL_CASES)
    base = context.options
    variants = {"channel off": replace(base, profile_channel=False),
                **{f"weight {w}": replace(base, profile_weight=float(w)) for w in args.weights.split(",") if w}}
    runs = {"agent": run_dialogue_eval(context, cases, folds=5, ablations=variants, context_for_fold=held_out_context)}
    if args.whole_text:
        whole = ProfileChannel(context.channel.model, context.channel.embeddings, context.catalogue, whole_text=True)
        runs["whole text"] = run_dialogue_eval(replace(context, channel=whole), cases, folds=5,
                                               context_for_fold=held_out_context)
    args.out.write_text(json.dumps(runs, indent=2))
    main_run = runs["agent"]
    print(f"weight {base.profile_weight}: {main_run['agent']} tuning/other folds {main_run['by_tuning']} "
          f"latency {main_run['latency_ms']}")
    for name, row in main_run["ablations"].items():
        print(f"{name}: {row}")
    if "whole text" in runs:
        print(f"whole text: {runs['whole text']['agent']} tuning/other folds {runs['whole text']['by_tuning']}")


if __name__ == "__main__":
    main()
