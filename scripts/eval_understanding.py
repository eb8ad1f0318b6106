"""Measure the two learned readers of a message on real dialogues, held out by conversation.

Usage: .venv/bin/python scripts/eval_understanding.py [--out reports/understanding] [--seed 0]

- Acts (what the person wants from the turn): 600 hand-labelled ReDial seeker turns (docs/labelling.md), 5-fold
  grouped by conversation; each fold trains on every template plus the other folds' real turns. Beside it: the
  classifier trained on templates only (what convrec had before) and the majority act. "Answer kind" folds the
  acts into what the graph does with them: films (recommend, more, refine, feedback), a film's facts
  (item_question), why, goodbye, small talk, out of scope.
- Stance towards a named film: every ReDial film the seeker named first (the sentence around it) and every single
  suggested film the seeker reacted to (their next turn), labelled by ReDial's own questionnaire, 5-fold grouped by
  conversation, against the majority stance and a cue-word rule.
Writes results.json and report.md to --out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from convrec.agent.offline.understand import adjacent_cue
from convrec.core.data import load_catalogue
from convrec.core.encoder import load_encoder
from convrec.core.intents import RECOMMENDING_INTENTS
from convrec.core.settings import Settings
from convrec.training import intent, stance
from convrec.training.dialogues import load_dialogues


def answer_kind(act: str) -> str:
    """What the graph does with an act: films for the four recommending acts, else the act itself."""
    return "films" if act in RECOMMENDING_INTENTS else act


def scores(truth: list[str], guess: list[str]) -> dict:
    """Accuracy, macro-F1 and per-stance F1 over the stance labels."""
    from sklearn.metrics import accuracy_score, f1_score

    per = f1_score(truth, guess, labels=list(stance.LABELS), average=None, zero_division=0)
    return {"accuracy": round(float(accuracy_score(truth, guess)), 4),
            "macro_f1": round(float(f1_score(truth, guess, labels=list(stance.LABELS), average="macro",
                                             zero_division=0)), 4),
            "f1": {label: round(float(v), 4) for label, v in zip(stance.LABELS, per, strict=True)}}


def table(rows: list[list[str]], headers: list[str]) -> str:
    """A Markdown table."""
    return "\n".join(["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers),
                      *("| " + " | ".join(r) + " |" for r in rows)])


def main() -> None:
    """Run both cross-validations and write the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("reports/understanding"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = Settings()
    encoder = load_encoder(settings.encoder_path)
    titles = intent.sample_titles([i.title for i in load_catalogue(settings).items.values()], seed=args.seed)
    templates = intent.expand(intent.load_utterances(), titles, seed=args.seed)
    real = intent.real_examples(intent.load_real_turns())
    acts = intent.cross_validate_real(templates, real, encoder, folds=5, seed=args.seed)
    truth = [e.intent for e in real]
    guessed = acts.pop("predicted")
    kinds = float(np.mean([answer_kind(t) == answer_kind(g) for t, g in zip(truth, guessed, strict=True)]))
    films_truth = [answer_kind(t) == "films" for t in truth]
    films_guess = [answer_kind(g) == "films" for g in guessed]
    missed_films = sum(t and not g for t, g in zip(films_truth, films_guess, strict=True))
    acts["answer_kind_accuracy"] = round(kinds, 4)
    acts["film_turns_answered_without_films"] = {"count": missed_films, "of": sum(films_truth)}
    examples = stance.examples_from(load_dialogues())
    stances = stance.cross_validate(examples, encoder, folds=5, seed=args.seed)
    predicted = stances.pop("predicted")
    named = stances["sources"]["named"]
    rows = named.pop("rows")
    combined = [adjacent_cue(examples[i].text, examples[i].text.find(stance.PLACEHOLDER)) or predicted[i]
                for i in rows]
    named["cue then model (the chat)"] = scores([examples[i].label for i in rows], combined)
    stances["sources"]["reaction"].pop("rows")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"acts": acts, "stance": stances}, indent=2) + "\n")

    act_rows = [[name, f"{acts[key]['accuracy']:.3f}", f"{acts[key]['macro_f1']:.3f}"]
                for name, key in (("templates + real turns (convrec)", "templates_and_real"),
                                  ("templates only (before)", "templates_only"))]
    act_rows.append([f"majority ({acts['majority']['act']})", f"{acts['majority']['accuracy']:.3f}",
                     f"{acts['majority']['macro_f1']:.3f}"])
    per_act = [[act, str(acts["label_counts"][act]), f"{acts['templates_and_real']['f1'][act]:.3f}",
                f"{acts['templates_only']['f1'][act]:.3f}"] for act in acts["label_counts"]]
    stance_rows = []
    for source, data in stances["sources"].items():
        for name in ("model", "cue then model (the chat)", "majority", "rule"):
            if name not in data:
                continue
            got = data[name]
            stance_rows.append([source, name if name != "majority" else f"majority ({got['label']})",
                                f"{got['accuracy']:.3f}", f"{got['macro_f1']:.3f}",
                                *(f"{got['f1'][label]:.2f}" for label in stance.LABELS)])
    lines = [
        "# Understanding real messages: acts and stances (ReDial validation, held out by conversation)", "",
        "Command: `.venv/bin/python scripts/eval_understanding.py`", "",
        f"## Acts: {acts['real_turns']} hand-labelled seeker turns from {acts['conversations']} conversations",
        "", "Labels and how they were made: `docs/labelling.md`. 5 folds grouped by conversation; every fold trains on "
        "all templates (`training/data/intent_utterances.jsonl`) plus the other folds' real turns.", "",
        table(act_rows, ["classifier", "accuracy", "macro-F1"]), "",
        table(per_act, ["act", "turns", "F1 (convrec)", "F1 (templates only)"]), "",
        f"What the graph does with the act (films / a film's facts / why / goodbye / small talk / out of scope) is "
        f"right for {acts['answer_kind_accuracy']:.1%} of real turns; "
        f"{acts['film_turns_answered_without_films']['count']} of {acts['film_turns_answered_without_films']['of']} "
        "turns that want films would get none from the classifier alone (before the rules in "
        "`agent/offline/understand.py:settle`).", "",
        f"## Stance towards a named film: {stances['examples']} ReDial mentions", "",
        "`named`: a film the seeker named first, read from the sentence around it; `reaction`: the seeker's next turn "
        "after a single suggested film. Labels are ReDial's questionnaire (liked / seen), folded into one stance.", "",
        table(stance_rows, ["source", "reader", "accuracy", "macro-F1", *(f"F1 {label}" for label in stance.LABELS)]),
        "", "Label counts: " + "; ".join(f"{source}: " + ", ".join(f"{k} {v}" for k, v in data["label_counts"].items())
                                         for source, data in stances["sources"].items()) + ".", "",
        "The questionnaire describes the whole dialogue, not the sentence, so rare stances (seen, neutral) are hard "
        "to read from one sentence; in the chat a cue word right before a title (\u201chated Scream\u201d, "
        "\u201chaven't seen Heat\u201d) settles the stance before the model is asked.", "",
        "Data: ReDial (Li et al. 2018, CC BY 4.0), validation split only.", ""]
    (args.out / "report.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
