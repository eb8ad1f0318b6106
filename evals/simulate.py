"""Simulated-user evaluation (iEvaLM protocol): held-out real users, hidden targets, at most 5 turns.

Two tracks, because they exercise different parts of the agent:
- `known`: the system knows the MovieLens user (history minus the target); the user opens with one genre.
- `anonymous`: the system knows nothing; the user opens vaguely ("Can you recommend a film?"), so asking a
  question first (elicitation) can matter.
Each variant switches one component off or swaps the personal ranker, on the same users, targets and seed.
"""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from convrec.agent.context import AgentContext, AgentOptions, load_context
from convrec.agent.service import ChatService, open_checkpointer
from convrec.core.catalogue import Catalogue, Item
from convrec.core.data import load_catalogue
from convrec.core.settings import Settings
from convrec.training.rankers import REGISTRY

from .simulator import SimulatedUser

Voice = Callable[[str, Item], str]

log = logging.getLogger(__name__)
MAX_TURNS = 5
LIST_LENGTH = 10
KS = (1, 5, 10)
ABLATIONS = ("no_profiles", "no_elicitation", "no_conversation_prior", "popularity_ranker", "retrieval_only")
VAGUE_OPENING = "Can you recommend a film?"


@dataclass
class Episode:
    """One simulated conversation and what it showed."""

    track: str
    user_id: int
    target_id: int
    success_turn: int | None = None
    turns: list[dict[str, Any]] = field(default_factory=list)
    reshown: int = 0
    violations: int = 0
    last_list: list[int] = field(default_factory=list)


def pick_users(catalogue: Catalogue, n: int, seed: int) -> list[tuple[int, int]]:
    """`n` real users (seeded) with their last film by time as the hidden target."""
    rng = np.random.default_rng(seed)
    users = sorted(catalogue.users)
    chosen = rng.choice(users, size=min(n, len(users)), replace=False)
    pairs = []
    for user in sorted(int(u) for u in chosen):
        history = catalogue.history(user)
        if len(history) >= 2:
            pairs.append((user, int(history["item_id"].iloc[-1])))
    return pairs


def run_episode(service: ChatService, track: str, user_id: int, target_id: int, seed: int,
                voice: Voice | None = None) -> Episode:
    """Converse until the target is shown or five turns pass (`voice` words the user's messages, LLM path)."""
    catalogue = service.context.catalogue
    simulated = SimulatedUser(catalogue.items[target_id], catalogue, np.random.default_rng([seed, user_id]))
    known = user_id if track == "known" else None
    message = simulated.opening() if track == "known" else VAGUE_OPENING
    if voice is not None:
        message = voice(message, simulated.target)
    episode = Episode(track, user_id, target_id)
    session = f"sim-{uuid.uuid4().hex}"
    shown: set[int] = set()
    for turn in range(1, MAX_TURNS + 1):
        result = service.ask(session, message, user_id=known, top=LIST_LENGTH)
        picks = [card.item_id for card in result.recommendations]
        episode.reshown += len(set(picks) & shown)
        shown |= set(picks)
        episode.violations += simulated.violations(picks)
        asked = "?" in result.reply  # a question, maybe shown with starter picks: the person answers it
        accepted, reply = simulated.respond(picks, asked)
        episode.turns.append({"user": message, "intent": result.intent, "picks": picks, "asked": asked})
        if picks:
            episode.last_list = picks
        if accepted:
            episode.success_turn = turn
            break
        message = voice(reply, simulated.target) if voice is not None else reply
    return episode


def summarise(episodes: list[Episode]) -> dict[str, Any]:
    """Success@turn, Recall@K of the last list, average turns to success, re-shown items, violations."""
    n = len(episodes)
    if not n:
        return {}
    success = {f"success@{t}": sum(1 for e in episodes if e.success_turn and e.success_turn <= t) / n
               for t in range(1, MAX_TURNS + 1)}
    recall = {f"recall@{k}": sum(1 for e in episodes if e.target_id in e.last_list[:k]) / n for k in KS}
    turns = [e.success_turn for e in episodes if e.success_turn]
    return {"episodes": n, **success, **recall,
            "avg_turns_to_success": float(np.mean(turns)) if turns else None,
            "rejected_reshown": int(sum(e.reshown for e in episodes)),
            "constraint_violations": int(sum(e.violations for e in episodes))}


def variants(extra_rankers: list[str]) -> dict[str, AgentOptions]:
    """The full agent and its ablations: each switches one thing off or swaps the personal ranker.

    The full agent scores known users with LLM-TUP; `no_profiles` leaves them to item-kNN over their history,
    and the ranker swaps (popularity included) replace that history ranker with LLM-TUP switched off.
    """
    out = {"full": AgentOptions(), "no_profiles": AgentOptions(profile_ranker=None),
           "no_elicitation": AgentOptions(elicit=False),
           "no_conversation_prior": AgentOptions(conversation_prior=False),
           "popularity_ranker": AgentOptions(personal_ranker="pop", profile_ranker=None),
           "retrieval_only": AgentOptions(retrieval_only=True)}
    for name in extra_rankers:
        out[f"ranker:{name}"] = AgentOptions(personal_ranker=name, profile_ranker=None)
    return out


def run_simulation(settings: Settings, *, users: int, seed: int, rankers: list[str] | None = None,
                   tracks: tuple[str, ...] = ("known", "anonymous"), show_progress: bool = False) -> dict[str, Any]:
    """Run every variant on the same held-out users and targets; return the results document."""
    full = load_catalogue(settings)
    pairs = pick_users(full, users, seed)
    held_out = full.without(set(pairs))
    extra = [r for r in (rankers if rankers is not None else sorted(REGISTRY))
             if r not in {"pop", "itemknn"} and not REGISTRY[r].needs_text]  # profile models: see `no_profiles`
    base = load_context(settings, catalogue=held_out, show_progress=show_progress, extra_rankers=extra)
    voice = None
    simulator = "offline templates over target attributes"
    if settings.llm_provider == "openai":
        from convrec.core.llm_client import LLMClient

        from .llm_voice import LLMVoice

        voice = LLMVoice(LLMClient(settings), full)
        simulator = f"template decisions over target attributes, worded by {settings.llm_model}"
    results: dict[str, Any] = {"users": len(pairs), "seed": seed, "max_turns": MAX_TURNS,
                               "list_length": LIST_LENGTH, "simulator": simulator,
                               "provider": base.provider.name, "model": base.provider.model, "variants": {}}
    with tempfile.TemporaryDirectory(prefix="convrec-sim-") as scratch:
        for name, options in variants(extra).items():
            context: AgentContext = replace(base, options=options)
            started = time.perf_counter()
            with ChatService(context, open_checkpointer(Path(scratch) / f"{name.replace(':', '-')}.sqlite")) as svc:
                episodes = [run_episode(svc, track, user, target, seed, voice)
                            for track in tracks
                            for user, target in tqdm(pairs, desc=f"{name}/{track}", disable=not show_progress)]
            by_track = {track: summarise([e for e in episodes if e.track == track]) for track in tracks}
            results["variants"][name] = {"all": summarise(episodes), **by_track,
                                         "seconds": round(time.perf_counter() - started, 1)}
            log.info("%s: success@5 %.3f", name, results["variants"][name]["all"]["success@5"])
    return results


def simulation_markdown(results: dict[str, Any], command: str) -> str:
    """The simulated-user report: one row per variant, both tracks, the two must-be-zero counts."""
    headers = ["variant", "success@1", "success@3", "success@5", "recall@1", "recall@5", "recall@10",
               "avg turns", "known s@5", "anonymous s@5", "re-shown", "violations"]
    rows = []
    for name, data in results["variants"].items():
        m = data["all"]
        turns = f"{m['avg_turns_to_success']:.2f}" if m.get("avg_turns_to_success") else "-"
        rows.append([name, *(f"{m[k]:.3f}" for k in ("success@1", "success@3", "success@5", "recall@1", "recall@5",
                                                      "recall@10")), turns,
                     f"{data.get('known', {}).get('success@5', 0):.3f}",
                     f"{data.get('anonymous', {}).get('success@5', 0):.3f}", m["rejected_reshown"],
                     m["constraint_violations"]])
    full = results["variants"].get("full", {}).get("all", {}).get("success@5", 0.0)
    ablations = [n for n in results["variants"] if n in ABLATIONS]
    beaten = [n for n in ablations if results["variants"][n]["all"]["success@5"] >= full]
    verdict = (f"The full agent (success@5 {full:.3f}) beats every ablation ({', '.join(ablations)}) on success "
                "within 5 turns." if not beaten else
               "The full agent does **not** beat: " + ", ".join(
                   f"{n} ({results['variants'][n]['all']['success@5']:.3f} vs {full:.3f})" for n in beaten) + ".")
    swaps = {n: d["all"]["success@5"] for n, d in results["variants"].items() if n.startswith("ranker:")}
    if swaps:
        better = [f"{n.split(':', 1)[1]} {v:.3f}" for n, v in sorted(swaps.items(), key=lambda kv: -kv[1]) if v > full]
        verdict += (" Swapping the history ranker (the full agent ranks known users with LLM-TUP and named films "
                    "with item-kNN; a swap replaces both with the named ranker, LLM-TUP off): " + (
            "better with " + ", ".join(better) + " (`CONVREC_PERSONAL_RANKER=... CONVREC_PROFILE_RANKER=none`)."
            if better else "no swap does better."))
    lines = [
        "# Simulated-user evaluation (iEvaLM protocol)", "", f"Command: `{command}`  ",
        f"{results['users']} held-out MovieLens users (seed {results['seed']}), each with a hidden target (their "
        f"last film by time, removed from the history the system sees); at most {results['max_turns']} turns; "
        f"the system shows {results['list_length']} films per turn. Simulator: {results['simulator']}; "
        f"agent provider: {results['provider']}.  ",
        "Tracks: `known` (the system knows the user; the user opens with one genre) and `anonymous` (no user id; "
        "the user opens with \u201cCan you recommend a film?\u201d). Each variant has both tracks on the same users.",
        "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers),
        *("| " + " | ".join(str(c) for c in row) + " |" for row in rows), "",
        "success@t: target shown within t turns. recall@K: target in the first K of the last list (films already "
        "shown are never repeated, so earlier mentions are excluded by construction). re-shown: films shown again "
        "after an earlier turn (must be 0). violations: picks breaking a genre or year the user stated (must be 0).",
        "", verdict, "", "Plot: `success_by_turn.png`.", ""]
    return "\n".join(lines)


def simulation_plot(results: dict[str, Any], out_dir: Path) -> Path:
    """Success-by-turn curves, one per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(7, 4.5))
    turns = list(range(1, results["max_turns"] + 1))
    for name, data in results["variants"].items():
        axis.plot(turns, [data["all"][f"success@{t}"] for t in turns], marker="o", label=name)
    axis.set_xlabel("turn")
    axis.set_ylabel("share of users whose target was shown")
    axis.set_xticks(turns)
    axis.set_ylim(0, 1)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    axis.set_title(f"Simulated users: success by turn ({results['users']} users, both tracks)")
    fig.tight_layout()
    path = out_dir / "success_by_turn.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
