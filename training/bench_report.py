"""Turn a benchmark results document into report.md and PNG plots.

Every number in the report comes from the results document it is written from; published reference
figures sit beside ours with their source and protocol, and a note says where protocols differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .significance import BASELINES, LEVEL, METRICS, verdict

# Published figures, full ranking. Only rows whose protocol matches the run are shown beside ours.
REFERENCES: list[dict[str, Any]] = [
    {"model": "BPR", "dataset": "ml-100k", "protocol": "random",
     "metrics": {"recall@10": 0.2368, "ndcg@10": 0.2768, "mrr@10": 0.4519, "hit@10": 0.7614},
     "source": "RecBole README (v1.2.1), ML-100K, random 8:1:1 per user, full ranking, training items masked"},
    {"model": "GRU4Rec", "dataset": "ml-100k", "protocol": "loo",
     "metrics": {"hit@10": 0.1103, "ndcg@10": 0.0513},
     "source": "RecBole docs quick start, ML-100K, time-ordered leave-one-out, full ranking, history NOT masked "
               "(RecBole's sequential default): a floor, not a tuned result",
     "caveat": "RecBole's quick-start run uses its default settings and leaves seen items as candidates, while we mask "
               "them and tuned the learning rate on validation, so the gap mostly measures those differences."},
    {"model": "BPR", "dataset": "ml-1m", "protocol": "random", "metrics": {"ndcg@10": 0.2401},
     "source": "RecBole-GNN, ML-1M ratings >= 3, random 8:1:1, full ranking"},
    {"model": "LightGCN", "dataset": "ml-1m", "protocol": "random", "metrics": {"ndcg@10": 0.2538},
     "source": "RecBole-GNN, ML-1M ratings >= 3, random 8:1:1, full ranking"},
]
PROTOCOL_NAMES = {
    "loo": "leave-one-out by time (last item test, second-last validation; ties broken by file order)",
    "temporal": ("per-user temporal 60/20/20 (LLM-TUP), 5 negatives per training positive drawn from outside the "
                 "user's training rows"),
    "chrono": "global chronological 80/10/10 (DUIP)",
    "random": "per-user random 8:1:1 with RecBole's rounding (RecBole's BPR reference)",
    "coldstart": ("cold start: leave-one-out by time, except that a seeded 20% of users keep only their 5 earliest "
                  "ratings in training (tested on the next one, no validation row) and a seeded 10% of items have "
                  "no training or validation rating (a test rating of one stays)"),
}
SEEDED_SPLITS = {"random", "temporal"}  # temporal: its training negatives are sampled per seed
SPLIT_BY_SEED = {"random", "coldstart"}  # the rows of each part depend on the seed
SLICES = {"cold_start_users": "cold-start", "head_items": "head", "tail_items": "tail", "new_items": "new-item"}
MAIN_COLUMNS = ("recall@10", "ndcg@10", "hit@10", "mrr@10", "precision@10", "recall@20", "ndcg@20")


def _cell(stats: dict[str, float] | None, digits: int = 4) -> str:
    if not stats:
        return "-"
    if stats.get("n", 1) > 1:
        return f"{stats['mean']:.{digits}f} ± {stats['std']:.{digits}f}"
    return f"{stats['mean']:.{digits}f}"


def _table(summary: dict[str, dict[str, dict[str, float]]], columns: tuple[str, ...], prefix: str = "") -> list[str]:
    lines = ["| model | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for model, stats in summary.items():
        lines.append(f"| {model} | " + " | ".join(_cell(stats.get(prefix + c)) for c in columns) + " |")
    return lines


def render_markdown(results: dict[str, Any], command: str, extra_rows: list[dict[str, Any]] | None = None) -> str:
    """The whole report as Markdown."""
    summary = results["summary"]
    protocol = results["protocol"]
    seeds = results["seeds"]
    out = [f"# Offline ranker benchmark: {results['dataset']}, {protocol}", "",
           f"Command: `{command}`  ", f"Protocol: {PROTOCOL_NAMES.get(protocol, protocol)}.  ",
           f"Seeds: {seeds}, mean ± std over seeds. " + (
               "The split depends on the seed (and so do initialisation and sampling).  " if protocol in SPLIT_BY_SEED
               else "The rows of this split are fixed by time; seeds vary its sampled training negatives, "
               "initialisation and sampling.  " if protocol in SEEDED_SPLITS
               else "This split is fixed by time; seeds vary initialisation and sampling only.  "),
           "Full ranking over every item the user has not interacted with in train + validation; ties go to the "
           "lower item id. Early stopping on validation NDCG@10.  ",
           f"Machine: {results['machine']}." + (" **Quick mode: few epochs, not a real result.**"
                                                 if results.get("quick") else ""), ""]
    # DUIP's paper reports HR@1 and NDCG@1 on its chronological split: shown there beside the standard columns.
    columns = (*MAIN_COLUMNS, "hit@1", "ndcg@1") if results["protocol"] == "chrono" else MAIN_COLUMNS
    out += ["## Main table (test)", "", *_table(summary, columns), ""]
    references = [r for r in REFERENCES if r["dataset"] == results["dataset"] and r["protocol"] == protocol
                  and r["model"].lower() in summary]
    if references or extra_rows:
        out += ["## Beside published and side-by-side figures", "",
                "| row | recall@10 | ndcg@10 | hit@10 | mrr@10 | source |", "|---|---|---|---|---|---|"]
        for ref in references:
            m = ref["metrics"]
            out.append(f"| {ref['model']} (published) | " + " | ".join(
                f"{m[k]:.4f}" if k in m else "-" for k in ("recall@10", "ndcg@10", "hit@10", "mrr@10"))
                + f" | {ref['source']} |")
        for row in extra_rows or []:
            m = row.get("metrics", {})
            out.append(f"| {row['model']} | " + " | ".join(
                f"{m[k]:.4f}" if k in m else "-" for k in ("recall@10", "ndcg@10", "hit@10", "mrr@10"))
                + f" | {row.get('source', '')} |")
        for ref in references:
            ours = summary.get(ref["model"].lower(), {}).get("ndcg@10")
            if ours and "ndcg@10" in ref["metrics"]:
                gap = (ours["mean"] - ref["metrics"]["ndcg@10"]) / ref["metrics"]["ndcg@10"]
                out.append("")
                caveat = (" Not like for like: " + ref["caveat"]) if ref.get("caveat") else ""
                out.append(f"Our {ref['model']} NDCG@10 is {ours['mean']:.4f}, {gap:+.1%} against the published "
                           f"{ref['metrics']['ndcg@10']:.4f}.{caveat}")
        out.append("")
    out += _slices_section(results)
    out += ["", "## Lists and costs", "",
            "| model | coverage@10 | avg popularity@10 | train s | peak RSS added (MB) | scoring users/s |",
            "|---|---|---|---|---|---|"]
    for model, stats in summary.items():
        out.append(f"| {model} | {_cell(stats.get('coverage@10'), 3)} | {_cell(stats.get('avg_pop@10'), 1)} | "
                   f"{_cell(stats.get('train_seconds'), 1)} | {_cell(stats.get('peak_rss_mb'), 0)} | "
                   f"{_cell(stats.get('users_per_second'), 0)} |")
    out += _network_section(results)
    out += _paired_section(results)
    out += _profile_section(results)
    if any("sampled/ndcg@10" in stats for stats in summary.values()):
        out += ["", "## Secondary: sampled protocol (1 positive + 100 sampled negatives)", "",
                "**Not comparable with full ranking**: 100 random negatives are mostly easy, so every number is "
                "higher. A tie with a negative counts against the positive.", "",
                *_table(summary, ("hit@1", "hit@5", "hit@10", "ndcg@10", "mrr@10"), prefix="sampled/")]
    out += ["", "Train seconds of a model loaded from the cache are those measured when it was fitted.",
            "Plots: `metric_at_k.png` (NDCG@K and Recall@K), `quality_vs_time.png` (NDCG@10 against train time)"
            + (", `fusion_weights.png` (LLM-TUP's per-user weights)." if "tup" in summary else "."),
            ""]
    return "\n".join(out)


def _network_section(results: dict[str, Any]) -> list[str]:
    """Per torch model (its first recorded seed): parameters, epochs and seconds per epoch."""
    rows = {}
    for run in results["runs"]:
        if run.get("parameters") and run.get("epochs") and run["model"] not in rows:
            rows[run["model"]] = run
    if not rows:
        return []
    out = ["", "Torch networks with a recorded fit: parameters, trainable "
           "ones (a frozen language model counts in the first only), epochs run and seconds per epoch (validation "
           "included).", "", "| model | parameters | trainable | epochs | s / epoch |", "|---|---|---|---|---|"]
    for model, run in rows.items():
        out.append(f"| {model} | {run['parameters']:,} | {run['trainable_parameters']:,} | {run['epochs']} | "
                   f"{run['fit_seconds'] / run['epochs']:.1f} |")
    return out


def _slices_section(results: dict[str, Any]) -> list[str]:
    """Cold-start users, then head and tail items side by side, then new items where the split has them."""
    summary = results["summary"]
    present = [name for name in SLICES if any(f"{name}/ndcg@10" in stats for stats in summary.values())]
    cold = ("Cold-start users: the split's seeded 20% cut to 5 training ratings. " if results["protocol"] == "coldstart"
            else "Cold-start users: the 20% of evaluated users with the fewest training interactions. ")
    notes = [cold + "Head items: test items among the 20% most popular items by training count; tail items: the "
             "other 80%" + (" (new items included: they have no training rating). New items: test items the split "
             "removed from training." if "new_items" in present else ".")]
    if not present:
        return []
    users = _slice_users(results)
    if users:
        notes.append("Test users per slice (seed 0): " + ", ".join(
            f"{SLICES[name]} {users[name]}" for name in present if name in users) + ".")
    columns = [(name, metric) for name in present for metric in ("ndcg@10", "recall@10")]
    if any("new_items/recall@100" in stats for stats in summary.values()):
        columns.append(("new_items", "recall@100"))
        notes.append("New items are also scored at 100 (popularity ranks them last).")
    header = "| model | " + " | ".join(f"{SLICES[name]} {metric}" for name, metric in columns) + " |"
    lines = [header, "|---" * (len(columns) + 1) + "|"]
    for model, stats in summary.items():
        lines.append(f"| {model} | " + " | ".join(_cell(stats.get(f"{name}/{metric}")) for name, metric in columns)
                     + " |")
    return ["## Slices", "", "  \n".join(notes), "", *lines]


def _slice_users(results: dict[str, Any]) -> dict[str, int]:
    """Test users in each slice on the first seed's split (the same for every model of that seed)."""
    for run in results.get("runs", []):
        if run.get("seed") == 0 and run.get("slice_users"):
            return dict(run["slice_users"])
    return {}


def _gap(gap: dict[str, float] | None) -> str:
    """'+0.0012 [-0.0030, +0.0051] level' for one paired gap, '-' when there is none."""
    if not gap:
        return "-"
    return f"{gap['diff']:+.4f} [{gap['low']:+.4f}, {gap['high']:+.4f}] {verdict(gap)}"


def _paired_section(results: dict[str, Any]) -> list[str]:
    """Each model's per-user gap to each reference baseline, with its bootstrap interval."""
    comparisons = results.get("comparisons") or {}
    if not comparisons:
        return []
    out = ["", "## Paired with the baselines (test, user by user)", "",
           f"Mean per-user difference (model minus baseline) over the seeds, with a {LEVEL:.0%} bootstrap interval "
           "(users resampled within each seed's split). 'ahead' or 'behind' only when the interval leaves out zero; "
           "'level' otherwise, whatever the means say.", "",
           "| model | against | ndcg@10 difference | recall@10 difference |", "|---|---|---|---|"]
    for model, against in comparisons.items():
        for baseline, gaps in against.items():
            out.append(f"| {model} | {baseline} | {_gap(gaps.get('ndcg@10'))} | {_gap(gaps.get('recall@10'))} |")
    return out + [""]


PROFILE_MODELS = {"tup": "LLM-TUP (short + long, attention, MLP)", "tup_short": "short-term profile only",
                  "tup_long": "long-term profile only", "tup_single": "no temporal split (one undated profile)",
                  "tup_dot": "dot product instead of the MLP"}
PROFILE_BASELINES = BASELINES


def _profile_section(results: dict[str, Any]) -> list[str]:
    """LLM-TUP beside the baselines it must beat, its ablations, and the per-user fusion weights."""
    summary = results["summary"]
    if "tup" not in summary:
        return []
    out = ["", "## LLM-TUP: against the baselines, ablations, fusion weights", "",
           "| model | what changes | ndcg@10 | recall@10 | ndcg@10 vs tup |", "|---|---|---|---|---|"]
    full = summary["tup"]["ndcg@10"]["mean"]
    for model in [m for m in (*PROFILE_BASELINES, *PROFILE_MODELS) if m in summary]:
        stats = summary[model]
        gap = (stats["ndcg@10"]["mean"] - full) / full if full else float("nan")
        out.append(f"| {model} | {PROFILE_MODELS.get(model, 'baseline')} | {_cell(stats.get('ndcg@10'))} | "
                   f"{_cell(stats.get('recall@10'))} | {'-' if model == 'tup' else f'{gap:+.1%}'} |")
    verdicts = []
    for baseline in [b for b in PROFILE_BASELINES if b in summary]:
        ours, theirs = summary["tup"], summary[baseline]
        won = [m for m in ("ndcg@10", "recall@10") if ours[m]["mean"] > theirs[m]["mean"]]
        gap = (ours["ndcg@10"]["mean"] - theirs["ndcg@10"]["mean"]) / theirs["ndcg@10"]["mean"]
        paired = (results.get("comparisons") or {}).get("tup", {}).get(baseline, {})
        sides = [f"{label} {verdict(paired[metric])}" for metric, label in METRICS.items() if metric in paired]
        verdicts.append(f"{baseline}: {'beats it on both' if len(won) == 2 else 'does not beat it on both'} "
                        f"NDCG@10 and Recall@10 (NDCG@10 {gap:+.1%}"
                        + (f"; user by user: {', '.join(sides)}" if sides else "") + ")")
    out += ["", "tup against " + "; ".join(verdicts) + ".", ""]
    fusion = [run["fusion"] for run in results["runs"] if run["model"] == "tup" and run.get("fusion")]
    if fusion:
        means = [f["mean_short"] for f in fusion]
        medians = [f["quantiles_short"]["p50"] for f in fusion]
        led = [f["share_short_led"] for f in fusion]
        out += ["Fusion weights (tup, per user, from the profiles it was trained with): the short-term profile "
                f"gets on average {np.mean(means):.3f} of the weight (median user {np.mean(medians):.3f}); "
                f"{np.mean(led):.1%} of users lean more on the short-term profile than on the long-term one "
                f"(means over {len(fusion)} seed(s)). Distribution: `fusion_weights.png`.", ""]
    return out


def render_plots(results: dict[str, Any], out_dir: Path) -> list[Path]:
    """Metric@K curves and a quality-versus-train-time scatter, as PNG files."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = results["summary"]
    ks = (1, 5, 10, 20)
    paths = []
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in zip(axes, ("ndcg", "recall"), strict=True):
        for model, stats in summary.items():
            means = [stats.get(f"{metric}@{k}", {}).get("mean", float("nan")) for k in ks]
            axis.plot(ks, means, marker="o", label=model)
        axis.set_xlabel("K")
        axis.set_ylabel(f"{metric.upper()}@K")
        axis.set_xticks(ks)
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{results['dataset']} / {results['protocol']}: metric@K (mean over {results['seeds']} seeds)")
    fig.tight_layout()
    paths.append(out_dir / "metric_at_k.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    fig, axis = plt.subplots(figsize=(6, 4))
    for model, stats in summary.items():
        seconds = max(stats.get("train_seconds", {}).get("mean", 0.0), 0.01)
        quality = stats.get("ndcg@10", {}).get("mean", float("nan"))
        axis.scatter([seconds], [quality])
        axis.annotate(model, (seconds, quality), textcoords="offset points", xytext=(5, 5), fontsize=8)
    axis.set_xscale("log")
    axis.set_xlabel("train seconds (log)")
    axis.set_ylabel("NDCG@10")
    axis.grid(alpha=0.3)
    axis.set_title("quality versus train time")
    fig.tight_layout()
    paths.append(out_dir / "quality_vs_time.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    fusion = [run["fusion"] for run in results["runs"] if run["model"] == "tup" and run.get("fusion")]
    if fusion:
        counts = np.sum([f["histogram_short"] for f in fusion], axis=0)
        edges = np.linspace(0.0, 1.0, len(counts) + 1)
        fig, axis = plt.subplots(figsize=(6, 4))
        axis.bar(edges[:-1], counts / len(fusion), width=np.diff(edges), align="edge", edgecolor="white")
        axis.set_xlabel("weight on the short-term profile (long-term gets the rest)")
        axis.set_ylabel(f"users (mean over {len(fusion)} seed(s))")
        axis.set_title(f"LLM-TUP fusion weights per user: {results['dataset']} / {results['protocol']}")
        axis.grid(alpha=0.3)
        fig.tight_layout()
        paths.append(out_dir / "fusion_weights.png")
        fig.savefig(paths[-1], dpi=120)
        plt.close(fig)
    return paths
