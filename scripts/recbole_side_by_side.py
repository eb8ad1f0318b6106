"""Run RecBole 1.2.1 itself on one of our saved splits and write its figures as extra benchmark rows.

Why: our rankers, metrics and evaluation are our own code; running the reference implementation on exactly
the same train/valid/test rows says whether a gap to a published figure comes from the model or the protocol.

    .venv/bin/python scripts/recbole_side_by_side.py --split-dir .convrec/test/splits/ml-100k-random-seed0-<key> \
        --models BPR,LightGCN --out reports/bench/recbole.json [--venv .venv-recbole] [--epochs N]

RecBole runs in its own virtual environment (never the project's: it needs numpy<2, scipy<1.13, pandas<2.3 and
setuptools<81). The script creates it when missing: `pip install torch==2.13.0` first (the cached CPU wheel),
then `recbole==1.2.1` with those pins, then `pip check`. Each model runs in a subprocess of that venv through a
small runner written to a temporary folder, with `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1` (torch 2.13 otherwise
refuses to reload RecBole's best checkpoint).

The split's atomic files (`<dataset>.train.inter`, `.valid.inter`, `.test.inter`) are already in RecBole's format
and are copied unchanged, under a dataset name of their own (`convrec-<dataset>-<protocol>-seed<n>`: RecBole 1.2.1
always reads a dataset named `ml-100k` from its own wheel, whatever `data_path` says). RecBole reads them through
`benchmark_filename: [train, valid, test]`, so it needs no `<dataset>.inter`. Sequential models get pre-augmented
files instead (history lists; see `write_recbole_dataset`). Evaluation is RecBole's full ranking (`mode: full`)
with Recall, NDCG, Hit, MRR and Precision at 1, 5, 10, 20; no interaction is filtered out; the model kept is the
epoch with the best validation NDCG@10 (RecBole's early stopping: 10 validations without improvement).

Masking: for general models (BPR, LightGCN, ...) RecBole removes the user's training items from the ranking at
validation, and training plus validation items at test, as our evaluation does. For sequential models (GRU4Rec,
SASRec, ...) it masks nothing, so they may rank films the user has already seen: those rows are not
like-for-like with ours (which mask history for every model), and each row says which masking it used.
Sequential models also need a time-ordered split (`loo`, `temporal` or `chrono`); RecBole refuses others.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RECBOLE = "recbole==1.2.1"
TORCH = "torch==2.13.0"  # the cached CPU wheel; any other spec would download a CUDA build
PINS = ("numpy<2", "scipy<1.13", "pandas<2.3", "setuptools<81")
READY_MARK = ".convrec-recbole-ready"
PARTS = ("train", "valid", "test")
TIME_ORDERED = ("loo", "temporal", "chrono")  # protocols whose parts follow each other in time
MAX_ITEM_LIST_LENGTH = 50  # RecBole's default history length for sequential models
SEQ_HEADER = "user_id:token\titem_id_list:token_seq\titem_id:token\ttimestamp:float"
TOPK = [1, 5, 10, 20]
METRICS = ["Recall", "NDCG", "Hit", "MRR", "Precision"]
SEQUENTIAL = {"GRU4Rec", "SASRec", "NARM", "STAMP", "Caser", "NextItNet", "BERT4Rec", "FPMC", "SRGNN", "GCSAN",
              "TransRec", "SHAN", "LightSANs", "CORE", "FOSSIL", "HGN", "HRM", "NPE", "RepeatNet", "S3Rec"}
MASKING_GENERAL = ("RecBole full ranking; training items masked at validation, training and validation items "
                   "masked at test (as in our evaluation)")
MASKING_SEQUENTIAL = ("RecBole full ranking; nothing masked: already-seen items stay candidates (unlike our "
                      "evaluation, which masks history for every model)")

# Written to a temporary folder and run with the RecBole venv's python: one model, one JSON result on stdout's
# last line. RecBole's Config parses sys.argv, so the runner reads its job file (argument 1) and then hides it.
RUNNER = r'''
import json, os, sys, time
job = json.load(open(sys.argv[1]))
sys.argv = sys.argv[:1]
from recbole.config import Config
from recbole.data import create_dataset, data_preparation
from recbole.utils import get_model, get_trainer, init_seed
import recbole, torch
torch.set_num_threads(job["threads"])
config = Config(model=job["model"], dataset=job["dataset"], config_dict=job["config"])
init_seed(config["seed"], config["reproducibility"])
dataset = create_dataset(config)
train_data, valid_data, test_data = data_preparation(config, dataset)
init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
model = get_model(config["model"])(config, train_data._dataset).to(config["device"])
trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
started = time.perf_counter()
best_score, best_valid = trainer.fit(train_data, valid_data, saved=True, show_progress=False)
train_seconds = time.perf_counter() - started
started = time.perf_counter()
test_result = trainer.evaluate(test_data, load_best_model=True, show_progress=False)
eval_seconds = time.perf_counter() - started
print(json.dumps({
    "recbole": recbole.__version__, "torch": torch.__version__, "model_type": str(config["MODEL_TYPE"]),
    "best_valid_score": float(best_score), "valid": {k: float(v) for k, v in best_valid.items()},
    "test": {k: float(v) for k, v in test_result.items()}, "epochs": len(trainer.train_loss_dict),
    "train_seconds": train_seconds, "eval_seconds": eval_seconds,
    "users": int(dataset.user_num - 1), "items": int(dataset.item_num - 1),
    "interactions": int(len(dataset.inter_feat)),
}))
'''


def run_checked(cmd: list[str], what: str, env: dict[str, str] | None = None) -> str:
    """Run a command, returning stdout; on failure exit with the last lines of its output."""
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        sys.exit(f"{what} failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def ensure_venv(venv: Path) -> Path:
    """Create RecBole's venv if it is missing or unfinished; return its python."""
    python = venv / "bin" / "python"
    if (venv / READY_MARK).is_file() and python.is_file():
        return python
    if not python.is_file():
        print(f"creating {venv} ...", file=sys.stderr)
        run_checked([sys.executable, "-m", "venv", str(venv)], "python -m venv")
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    print(f"installing {TORCH} (cached CPU wheel) ...", file=sys.stderr)
    run_checked([*pip, TORCH], f"pip install {TORCH}")
    print(f"installing {RECBOLE} with {', '.join(PINS)} ...", file=sys.stderr)
    run_checked([*pip, RECBOLE, *PINS, TORCH], f"pip install {RECBOLE}")
    run_checked([str(python), "-m", "pip", "check"], "pip check")
    (venv / READY_MARK).write_text(f"{TORCH} {RECBOLE} {' '.join(PINS)}\n", encoding="utf-8")
    return python


def read_split(split_dir: Path) -> dict:
    """Read split.json and check the three atomic files are there."""
    meta_path = split_dir / "split.json"
    if not meta_path.is_file():
        sys.exit(f"{split_dir}: not a saved split (no split.json); make one with training.splits.load_or_make_split")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    for part in PARTS:
        if not (split_dir / f"{meta['dataset']}.{part}.inter").is_file():
            sys.exit(f"{split_dir}: missing {meta['dataset']}.{part}.inter")
    return meta


def recbole_name(meta: dict) -> str:
    """The dataset name RecBole sees: never `ml-100k`, which RecBole 1.2.1 always reads from its own wheel."""
    return f"convrec-{meta['dataset']}-{meta['protocol']}-seed{meta['seed']}"


def write_recbole_dataset(split_dir: Path, meta: dict, data_root: Path, *, sequential: bool,
                          max_len: int = MAX_ITEM_LIST_LENGTH) -> dict[str, int]:
    """Write the split as RecBole benchmark files under `<data_root>/<name>/`; return rows written per part.

    General models read the three parts unchanged. Sequential models need pre-augmented files (RecBole does
    no augmentation when `benchmark_filename` is set): one row per target with the user's preceding items
    (earlier parts first, then earlier rows of the same part, which the saved split keeps in time order),
    truncated to the last `max_len`, as RecBole's own `data_augmentation` builds them. Targets with no
    preceding item are dropped (RecBole cannot score an empty sequence); the counts say how many remain.
    """
    name = recbole_name(meta)
    folder = data_root / (name + ("-seq" if sequential else ""))
    folder.mkdir(parents=True, exist_ok=True)
    sources = {part: split_dir / f"{meta['dataset']}.{part}.inter" for part in PARTS}
    written: dict[str, int] = {}
    if not sequential:
        for part, source in sources.items():
            shutil.copyfile(source, folder / f"{folder.name}.{part}.inter")
            written[part] = sum(1 for _ in source.open(encoding="utf-8")) - 1
        return written
    history: dict[str, list[str]] = {}
    for part, source in sources.items():
        lines = [SEQ_HEADER]
        with source.open(encoding="utf-8") as rows:
            next(rows)  # header: user_id, item_id, rating, timestamp
            for row in rows:
                user, item, _rating, timestamp = row.rstrip("\n").split("\t")
                seen = history.setdefault(user, [])
                if seen:
                    lines.append(f"{user}\t{' '.join(seen[-max_len:])}\t{item}\t{timestamp}")
                seen.append(item)
        (folder / f"{folder.name}.{part}.inter").write_text("\n".join(lines) + "\n", encoding="utf-8")
        written[part] = len(lines) - 1
    return written


def recbole_config(model: str, data_root: Path, work: Path, *, epochs: int | None, seed: int) -> dict:
    """RecBole settings for one model: our pre-split files, full ranking, our metric set, no filtering."""
    sequential = model in SEQUENTIAL
    config = {
        "data_path": str(data_root),
        "benchmark_filename": list(PARTS),
        "USER_ID_FIELD": "user_id", "ITEM_ID_FIELD": "item_id", "RATING_FIELD": "rating",
        "TIME_FIELD": "timestamp",
        "load_col": {"inter": ["user_id", "item_id", "rating", "timestamp"]},
        "user_inter_num_interval": "[0,inf)", "item_inter_num_interval": "[0,inf)",
        # With benchmark files RecBole takes the parts as given and ignores `split`; `order` must still be set.
        "eval_args": {"split": {"RS": [0.8, 0.1, 0.1]}, "order": "TO" if sequential else "RO",
                      "group_by": "user", "mode": "full"},
        "metrics": METRICS, "topk": TOPK, "valid_metric": "NDCG@10", "metric_decimal_place": 6,
        "seed": seed, "reproducibility": True, "checkpoint_dir": str(work / "saved"),
        "show_progress": False, "save_dataset": False, "save_dataloaders": False, "log_wandb": False,
    }
    if sequential:
        config.update({
            "load_col": {"inter": ["user_id", "item_id_list", "item_id", "timestamp"]},
            "alias_of_item_id": ["item_id_list"],  # history ids share the item id space
            "MAX_ITEM_LIST_LENGTH": MAX_ITEM_LIST_LENGTH,
            "train_neg_sample_args": None,  # GRU4Rec/SASRec default to cross-entropy over all items
        })
    if epochs is not None:
        config["epochs"] = epochs
    return config


def run_model(python: Path, model: str, dataset: str, data_root: Path, *, epochs: int | None, seed: int,
              threads: int) -> dict:
    """Train and test one RecBole model in its venv; return the runner's result."""
    with tempfile.TemporaryDirectory(prefix=f"recbole-{model}-") as tmp:
        work = Path(tmp)
        (work / "runner.py").write_text(RUNNER, encoding="utf-8")
        job = {"model": model, "dataset": dataset, "threads": threads,
               "config": recbole_config(model, data_root, work, epochs=epochs, seed=seed)}
        (work / "job.json").write_text(json.dumps(job), encoding="utf-8")
        env = {**os.environ, "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1", "PYTHONNOUSERSITE": "1",
               "OMP_NUM_THREADS": str(threads)}  # RecBole's torch and Python read these only from the environment
        started = time.perf_counter()
        # cwd=work: RecBole writes its log/ and log_tensorboard/ folders into the working directory.
        done = subprocess.run([str(python), str(work / "runner.py"), str(work / "job.json")], capture_output=True,
                              text=True, cwd=work, env=env, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
            sys.exit(f"RecBole {model} failed (exit {done.returncode}):\n{tail}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["wall_seconds"] = wall
        return result


def make_row(model: str, meta: dict, result: dict, *, epochs: int | None, seed: int) -> dict:
    """One benchmark row in the shape of our own rows, marked as RecBole's."""
    sequential = model in SEQUENTIAL
    return {
        "model": f"recbole-{model}",
        "source": f"RecBole {result['recbole']} run here on our split",
        "protocol": meta["protocol"], "dataset": meta["dataset"], "split_seed": meta["seed"],
        "recbole_seed": seed,
        "evaluation": "full ranking over all items RecBole knows (those in any part of the split)",
        "masking": MASKING_SEQUENTIAL if sequential else MASKING_GENERAL,
        "metrics": {k.lower(): round(v, 6) for k, v in result["test"].items()},
        "valid_metrics": {k.lower(): round(v, 6) for k, v in result["valid"].items()},
        "epochs_run": result["epochs"], "max_epochs": epochs if epochs is not None else "RecBole default (300)",
        "early_stopping": "RecBole default: stop after 10 validations without NDCG@10 improving; best epoch kept",
        "train_seconds": round(result["train_seconds"], 2), "eval_seconds": round(result["eval_seconds"], 2),
        "wall_seconds": round(result["wall_seconds"], 2),
        "recbole_counts": {"users": result["users"], "items": result["items"],
                           "interactions": result["interactions"]},
        "torch": result["torch"],
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split-dir", type=Path, required=True, help="folder a saved Split was written to")
    parser.add_argument("--models", default="BPR", help="comma-separated RecBole model names, e.g. BPR,LightGCN")
    parser.add_argument("--out", type=Path, required=True, help="JSON file for the rows")
    parser.add_argument("--venv", type=Path, default=Path(".venv-recbole"), help="RecBole's own venv")
    parser.add_argument("--epochs", type=int, default=None, help="maximum epochs (RecBole's default: 300)")
    parser.add_argument("--seed", type=int, default=2020, help="RecBole's training seed (its default: 2020)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads for RecBole")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Create the venv, run each model on the split and write the rows."""
    args = parse_args(argv)
    meta = read_split(args.split_dir)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models:
        sys.exit("--models: name at least one RecBole model")
    untimed = [m for m in models if m in SEQUENTIAL and meta["protocol"] not in TIME_ORDERED]
    if untimed:
        sys.exit(f"{', '.join(untimed)}: sequential models need a time-ordered split ({', '.join(TIME_ORDERED)}), "
                 f"not {meta['protocol']!r}")
    python = ensure_venv(args.venv.resolve())
    command = " ".join(["scripts/recbole_side_by_side.py", *(argv if argv is not None else sys.argv[1:])])
    rows = []
    with tempfile.TemporaryDirectory(prefix="recbole-data-") as tmp:
        data_root = Path(tmp)
        written: dict[bool, dict[str, int]] = {}
        for model in models:
            sequential = model in SEQUENTIAL
            if sequential not in written:
                written[sequential] = write_recbole_dataset(args.split_dir, meta, data_root, sequential=sequential)
            dataset = recbole_name(meta) + ("-seq" if sequential else "")
            print(f"RecBole {model} on {meta['dataset']} {meta['protocol']} seed {meta['seed']} ...",
                  file=sys.stderr)
            result = run_model(python, model, dataset, data_root, epochs=args.epochs, seed=args.seed,
                               threads=args.threads)
            row = make_row(model, meta, result, epochs=args.epochs, seed=args.seed)
            row["rows_given_to_recbole"] = written[sequential]
            row["command"] = command
            rows.append(row)
            shown = {k: row["metrics"].get(k) for k in ("recall@10", "ndcg@10", "mrr@10", "hit@10")}
            print(f"  {row['epochs_run']} epochs, {row['train_seconds']} s: {shown}", file=sys.stderr)
    document = {
        "source": f"RecBole {RECBOLE.split('==')[1]} run here on our split ({args.split_dir.name})",
        "split": {"dataset": meta["dataset"], "protocol": meta["protocol"], "seed": meta["seed"],
                  "counts": meta.get("counts", {})},
        "masking": {"general": MASKING_GENERAL, "sequential": MASKING_SEQUENTIAL},
        "rows": rows,
    }
    document["rows"] = merged_rows(args.out, document)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} row(s) to {args.out} ({len(document['rows'])} in all)", file=sys.stderr)


def merged_rows(out: Path, document: dict) -> list[dict]:
    """Rows of an earlier run on the same split that this run did not redo, then this run's rows."""
    if not out.is_file():
        return document["rows"]
    earlier = json.loads(out.read_text(encoding="utf-8"))
    same_split = {k: earlier.get("split", {}).get(k) for k in ("dataset", "protocol", "seed")} == {
        k: document["split"][k] for k in ("dataset", "protocol", "seed")}
    if not same_split:
        return document["rows"]
    redone = {row["model"] for row in document["rows"]}
    return [row for row in earlier.get("rows", []) if row["model"] not in redone] + document["rows"]


if __name__ == "__main__":
    main()
