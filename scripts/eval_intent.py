"""Grouped 5-fold cross-validation of the offline intent classifier on its labelled utterances.

Usage: .venv/bin/python scripts/eval_intent.py [--seed 0]
Templates with a {title} placeholder are filled with real MovieLens titles; all fills of one template stay
in the same fold, so the score measures generalisation to new phrasings, not to new titles only.
"""

from __future__ import annotations

import argparse
import json

from convrec.core.data import load_catalogue
from convrec.core.encoder import load_encoder
from convrec.core.settings import Settings
from convrec.training import intent


def main() -> None:
    """Print accuracy, macro-F1 and per-class F1 as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = Settings()
    catalogue = load_catalogue(settings)
    titles = intent.sample_titles([item.title for item in catalogue.items.values()], seed=args.seed)
    examples = intent.expand(intent.load_utterances(), titles, seed=args.seed)
    report = intent.cross_validate(examples, load_encoder(settings.encoder_path), folds=5, seed=args.seed)
    summary = {"examples": report["n_examples"], "accuracy": round(report["accuracy"], 3),
               "macro_f1": round(report["macro_f1"], 3),
               "per_class_f1": {k: round(v, 3) for k, v in report["per_class_f1"].items()}}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
