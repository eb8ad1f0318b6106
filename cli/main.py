"""The `convrec` command: chat app, one-shot and batch turns, index building, settings.

This is the composition root: it builds `Settings` once, wires the agent, UI and evaluations, and turns a
`UserError` into one line on stderr with exit code 2. Heavy imports happen inside the commands, so
`convrec --help` stays fast.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from convrec.core.errors import UserError
from convrec.core.settings import Settings

app = typer.Typer(
    name="convrec", no_args_is_help=True, add_completion=False,
    help="convrec: a conversational film recommender over MovieLens-100K, offline by default.",
)
log = logging.getLogger("convrec")


def _setup(verbose: bool = False) -> Settings:
    """Quiet third-party noise, log our progress to stderr, and read the settings."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from rich.logging import RichHandler

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s",
                        handlers=[RichHandler(console=_stderr(), show_path=False, show_time=False)], force=True)
    logging.getLogger("convrec").setLevel(logging.INFO)
    for noisy in ("httpx", "httpx2", "httpcore", "openai", "chromadb", "sentence_transformers", "urllib3", "gradio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:  # a bad CONVREC_* value is the user's to fix
        problems = "; ".join(f"CONVREC_{'_'.join(map(str, e['loc'])).upper()}={e.get('input')!r}: {e['msg']}"
                             for e in exc.errors())
        raise UserError(f"invalid setting: {problems}") from None


def _stderr():  # noqa: ANN202 - rich is imported lazily
    from rich.console import Console

    return Console(stderr=True)


def _open_service(settings: Settings):  # noqa: ANN202
    from convrec.agent.service import ChatService

    return ChatService.open(settings, show_progress=sys.stderr.isatty())


def _check_user(service: Any, user: int | None) -> None:
    if user is not None and user not in service.context.catalogue.users:
        ids = sorted(service.context.catalogue.users)
        raise UserError(f"unknown user id {user}: MovieLens users run from {ids[0]} to {ids[-1]}")


@app.command()
def config() -> None:
    """Show every setting, the environment variable that sets it, and its current value."""
    settings = _setup()
    from rich.table import Table

    table = Table("environment variable", "value", "meaning")
    for name, field in Settings.model_fields.items():
        table.add_row(f"CONVREC_{name.upper()}", str(getattr(settings, name)), field.description or "")
    from rich.console import Console

    Console().print(table)


@app.command()
def index(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rebuild even if the cached index is current.")] = False,
) -> None:
    """Build (or check) the vector index of item documents; rebuilt only when data, template or encoder change.

    With `CONVREC_PROFILE_CHANNEL=pte` (the default) the documents include PtE's item profiles, fitted once first.
    """
    settings = _setup(verbose=True)
    from convrec.agent.context import open_search_index

    built = open_search_index(settings, rebuild=rebuild, show_progress=True)
    state = f"built in {built.build_seconds:.1f}s" if built.built else "already current"
    print(f"index {built.key}: {len(built.documents)} documents, {state} ({settings.index_dir})")


@app.command()
def profiles(
    kind: Annotated[str, typer.Option(help="Which profiles: 'tup' (short- and long-term, LLM-TUP).")] = "tup",
    users: Annotated[str | None, typer.Option(help="Comma-separated user ids to write and print (default: all, "
                                                   "printing none).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Profiles written at once (for an LLM server).")] = 1,
) -> None:
    """Write every user's profiles from their rated history, in batches saved as they finish (resumable).

    Profiles are cached under a hash of (history, writer, model, prompt): a second run, or the chat, reuses
    them, and a run cut short keeps every finished batch. The writer is the configured LLM provider's
    (offline by default: composed from genres, eras, ratings and dates in the history).
    """
    settings = _setup(verbose=True)
    if kind != "tup":
        raise UserError(f"unknown profile kind {kind!r}; choose: tup")
    from convrec.core.data import load_catalogue
    from convrec.training.interactions import Interactions
    from convrec.training.profiles.factory import make_profile_writer
    from convrec.training.profiles.history import histories, ratings_lookup
    from convrec.training.profiles.store import ProfileStore, generate_profiles

    catalogue = load_catalogue(settings)
    everyone = histories(Interactions.from_catalogue(catalogue), catalogue.items,
                         ratings_lookup(catalogue.interactions))
    wanted = _parse_users(users, everyone) if users else sorted(everyone)
    writer = make_profile_writer(settings)
    folder = settings.data_dir / "text" / "profiles"
    from convrec.training.profiles.offline_writer import OfflineProfileWriter

    fallback = None if isinstance(writer, OfflineProfileWriter) else OfflineProfileWriter()
    written = generate_profiles({u: everyone[u] for u in wanted}, writer, folder, workers=workers,
                                show_progress=sys.stderr.isatty(), fallback=fallback)
    print(f"{len(written)} users' profiles ({writer.identity}) in {ProfileStore(folder, writer.identity).path}")
    for user in wanted if users else []:
        print(f"\nuser {user} ({len(everyone[user])} ratings)")
        print(f"  short-term: {written[user].short_term}")
        print(f"  long-term:  {written[user].long_term}")


def _parse_users(text: str, known: dict[int, Any]) -> list[int]:
    """Parse '1,2,3' into known user ids; a typo or unknown id is a one-line error."""
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(f"--users takes comma-separated numbers, not {text!r}") from None
    unknown = [u for u in ids if u not in known]
    if unknown:
        raise UserError(f"unknown or empty user id(s) {unknown}; users run from {min(known)} to {max(known)}")
    return ids


@app.command()
def chat(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 7860).")] = None,
    user: Annotated[int | None, typer.Option(help="Start as this MovieLens user id (default anonymous).")] = None,
) -> None:
    """Start the chat app in the browser."""
    settings = _setup(verbose=True)
    if host:
        settings.host = host
    if port:
        settings.port = port
    service = _open_service(settings)
    _check_user(service, user)
    from convrec.ui.app import build_app, launch

    demo = build_app(service, default_user=user)
    log.info("convrec chat on http://%s:%d", settings.host, settings.port)
    launch(demo, settings.host, settings.port)


@app.command()
def ask(
    message: Annotated[str | None, typer.Argument(help="What you would type in the chat.")] = None,
    session: Annotated[str | None, typer.Option(help="Conversation id; reuse it to continue a conversation.")] = None,
    user: Annotated[int | None, typer.Option(help="MovieLens user id (default anonymous).")] = None,
    top: Annotated[int | None, typer.Option(min=1, max=20, help="Number of recommendations.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
    batch: Annotated[Path | None, typer.Option(help="JSONL file of {session, message, user?, top?} turns.")] = None,
) -> None:
    """Run one turn (or a batch of turns) of a conversation from the shell."""
    if batch is None and message is None:
        raise UserError("give a MESSAGE, or --batch FILE.jsonl")
    if batch is not None and message is not None:
        raise UserError("give either a MESSAGE or --batch, not both")
    if batch is not None and not batch.is_file():
        raise UserError(f"{batch}: file not found")
    settings = _setup()
    with _open_service(settings) as service:
        if batch is not None:
            _run_batch(service, batch)
            return
        _check_user(service, user)
        session_id = session or uuid.uuid4().hex[:12]
        result = service.ask(session_id, message or "", user_id=user, top=top)
        if as_json:
            print(json.dumps(result.public(), ensure_ascii=False))
            return
        print(result.reply)
        for rank, card in enumerate(result.recommendations, start=1):
            year = f" ({card.year})" if card.year else ""
            print(f"\n#{rank} {card.title}{year} [{', '.join(card.genres)}]")
            for reason in card.reasons:
                print(f"   - {reason}")
        if session is None:
            print(f"\n(session {session_id}: pass --session {session_id} to continue)", file=sys.stderr)


@app.command()
def bench(
    dataset: Annotated[str, typer.Option(help="Dataset: ml-100k (default), ml-1m, amazon-<category>.")] = "ml-100k",
    protocol: Annotated[str, typer.Option(help="loo | temporal | chrono | random | coldstart (leave-one-out with "
                                                "20% of users cut to 5 training ratings and 10% of items unseen in "
                                                "training).")] = "loo",
    models: Annotated[str, typer.Option(help="Comma-separated rankers.")] = "pop,itemknn,bpr,lightgcn,gru4rec,sasrec",
    seeds: Annotated[int, typer.Option(min=1, help="Seeds (each a different split and initialisation).")] = 3,
    out: Annotated[Path, typer.Option(help="Folder for results.json, report.md and plots.")] = Path("reports/bench"),
    quick: Annotated[bool, typer.Option("--quick", help="Few epochs (for CI and smoke tests).")] = False,
    sampled: Annotated[bool, typer.Option(help="Also the sampled 1+100 table (leave-one-out only).")] = True,
    extra: Annotated[Path | None, typer.Option(help="JSON rows to show beside ours (e.g. RecBole run here).")] = None,
    rerender: Annotated[bool, typer.Option("--rerender", help="Only rewrite report.md and plots from the "
                                                               "results.json already in --out.")] = False,
) -> None:
    """Benchmark rankers on saved, identical splits; write results.json, report.md and PNG plots."""
    settings = _setup(verbose=True)
    from convrec.core.data import load_catalogue
    from convrec.retrieval.documents import document_texts_for
    from convrec.training.bench import BenchConfig, run_bench
    from convrec.training.bench_inputs import ML_100K, bench_data, bench_text_inputs
    from convrec.training.bench_report import render_markdown, render_plots

    if rerender:
        saved = out / "results.json"
        if not saved.is_file():
            raise UserError(f"{saved}: file not found (run the benchmark first)")
        results = json.loads(saved.read_text())
        (out / "report.md").write_text(render_markdown(results, results.get("command", "convrec bench"),
                                                       _read_extra(extra)))
        render_plots(results, out)
        print(f"rewrote {out / 'report.md'} and plots from {saved}")
        return

    names = [m.strip() for m in models.split(",") if m.strip()]
    config = BenchConfig(dataset=dataset, protocol=protocol, models=names, seeds=seeds, quick=quick, sampled=sampled)
    config.validate()
    extra_rows = _read_extra(extra)
    frame, user_ids, item_ids = bench_data(settings, dataset)
    item_texts = document_texts_for(load_catalogue(settings)) if dataset == ML_100K else None
    text_inputs = bench_text_inputs(settings, dataset, item_texts=item_texts, show_progress=sys.stderr.isatty())
    results = run_bench(config, frame, user_ids, item_ids, cache_dir=settings.data_dir / "bench",
                        show_progress=sys.stderr.isatty(), text_inputs=text_inputs)
    command = "convrec bench " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else "convrec bench"
    results["command"] = command
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "report.md").write_text(render_markdown(results, command, extra_rows))
    render_plots(results, out)
    print(f"wrote {out / 'results.json'}, {out / 'report.md'} and plots")
    for model, stats in results["summary"].items():
        print(f"  {model:10s} NDCG@10 {stats['ndcg@10']['mean']:.4f}  Recall@10 {stats['recall@10']['mean']:.4f}")


eval_app = typer.Typer(help="Conversation evaluations driven through the same graph as the app.",
                       no_args_is_help=True)
app.add_typer(eval_app, name="eval")


PROVIDER_HELP = ("offline | openai: the agent's provider for this run (default CONVREC_LLM_PROVIDER); openai "
                 "uses CONVREC_LLM_BASE_URL and CONVREC_LLM_MODEL.")


def _with_provider(settings: Settings, provider: str | None) -> Settings:
    """Settings with the LLM provider a command's --provider names (validated like the setting)."""
    if provider is None:
        return settings
    from convrec.core.llm import PROVIDERS

    if provider not in PROVIDERS:
        raise UserError(f"unknown provider {provider!r}; choose one of: {', '.join(PROVIDERS)}")
    return settings.model_copy(update={"llm_provider": provider})


@eval_app.command("scripted")
def eval_scripted(
    cases: Annotated[Path | None, typer.Option(help="Folder of *.yaml cases (default: the packaged suite).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for results.json and report.md.")] = Path("reports/eval"),
    provider: Annotated[str | None, typer.Option(help=PROVIDER_HELP)] = None,
    one_per_category: Annotated[bool, typer.Option("--one-per-category", help="Only the first case of each "
                                                   "category (a quick pass, e.g. with a slow local model).")] = False,
) -> None:
    """Run the scripted dialogue cases; exit 1 when a case fails unexpectedly."""
    settings = _with_provider(_setup(verbose=True), provider)
    from convrec.evals.scripted import main_scripted

    raise typer.Exit(main_scripted(settings, cases, out, show_progress=sys.stderr.isatty(),
                                   sample=one_per_category))


@eval_app.command("simulate")
def eval_simulate(
    users: Annotated[int, typer.Option(min=1, help="Held-out MovieLens users to simulate.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed for the users, targets and the simulator's wording.")] = 0,
    rankers: Annotated[str | None, typer.Option(help="Extra personal rankers to compare (default: all registered; "
                                                      "'none' for none).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for results.json, report.md and plots.")] = Path("reports/eval"),
    provider: Annotated[str | None, typer.Option(help=PROVIDER_HELP)] = None,
) -> None:
    """Simulated users (iEvaLM protocol) against the full agent and its ablations."""
    settings = _with_provider(_setup(verbose=True), provider)
    from convrec.evals.simulate import run_simulation, simulation_markdown, simulation_plot

    chosen = None if rankers is None else [] if rankers == "none" else [r.strip() for r in rankers.split(",")]
    results = run_simulation(settings, users=users, seed=seed, rankers=chosen, show_progress=sys.stderr.isatty())
    command = "convrec eval simulate " + " ".join(sys.argv[3:])
    results["command"] = command
    out.mkdir(parents=True, exist_ok=True)
    (out / "simulate_results.json").write_text(json.dumps(results, indent=2))
    (out / "simulate_report.md").write_text(simulation_markdown(results, command))
    simulation_plot(results, out)
    for name, data in results["variants"].items():
        m = data["all"]
        print(f"  {name:22s} success@5 {m['success@5']:.3f}  re-shown {m['rejected_reshown']}  "
              f"violations {m['constraint_violations']}")


REDIAL_CASES = Path(__file__).resolve().parents[1] / "tests" / "data" / "redial_valid_cases.jsonl"
"""ReDial's 453 validation cases (a copy of ../shared/data/redial/valid_cases.jsonl, CC BY 4.0), in a checkout."""


@eval_app.command("dialogues")
def eval_dialogues(
    cases: Annotated[Path, typer.Option(help="JSON-lines cases (ReDial's valid_cases.jsonl format: case, "
                                             "seeker_turns, targets, mentioned).")] = REDIAL_CASES,
    top: Annotated[int, typer.Option(min=10, max=100, help="Films asked for per answer (named films are removed "
                                                          "before scoring the first 1/5/10).")] = 20,
    folds: Annotated[int, typer.Option(min=1, max=20, help="Cross-validation folds over conversations: each fold "
                                                           "runs against dialogue-trained models that never saw it "
                                                           "(1: the packaged models, not held out).")] = 5,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N cases (a quick pass).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for results.json, report.md and dialogues.png.")] = Path(
        "reports/dialogues"),
    provider: Annotated[str | None, typer.Option(help=PROVIDER_HELP)] = None,
    max_no_list: Annotated[float | None, typer.Option(help="Exit 1 when the share of cases with no list is above "
                                                           "this (e.g. 0.05), or when any case raised.")] = None,
    ablations: Annotated[bool, typer.Option("--ablations", help="Also run the agent with the conversation prior "
                                                                "off (MovieLens popularity only), and with PtE's "
                                                                "conversation-profile channel off when it is on "
                                                                "(CONVREC_PROFILE_CHANNEL=pte).")] = False,
) -> None:
    """Real dialogues (He et al. protocol): each case's seeker turns in a fresh session, the last answer scored."""
    settings = _with_provider(_setup(verbose=True), provider)
    from dataclasses import replace

    from convrec.agent.context import held_out_context, load_context
    from convrec.evals.dialogues import dialogue_markdown, dialogue_plot, load_dialogue_cases, run_dialogue_eval
    from convrec.evals.report import write_json

    chosen = load_dialogue_cases(cases)[:limit]
    context = load_context(settings, show_progress=sys.stderr.isatty())
    variants = {"conversation prior off": replace(context.options, conversation_prior=False),
                **({"PtE channel off": replace(context.options, profile_channel=False)} if context.channel else {})
                } if ablations else None
    results = run_dialogue_eval(context, chosen, top=top, folds=folds, ablations=variants,
                                context_for_fold=held_out_context if folds > 1 else None,
                                show_progress=sys.stderr.isatty())
    command = "convrec eval dialogues " + " ".join(sys.argv[3:])
    results["command"] = command
    results["cases_file"] = str(cases)
    write_json(out / "results.json", results)
    (out / "report.md").write_text(dialogue_markdown(results, command), encoding="utf-8")
    dialogue_plot(results, out)
    agent, pop = results["agent"], results["baselines"]["popularity"]
    print(f"  convrec     R@1 {agent['recall@1']:.3f}  R@5 {agent['recall@5']:.3f}  R@10 {agent['recall@10']:.3f}")
    print(f"  popularity  R@1 {pop['recall@1']:.3f}  R@5 {pop['recall@5']:.3f}  R@10 {pop['recall@10']:.3f}")
    print(f"  no list {results['no_list_cases']}/{results['cases']} ({results['no_list_share']:.1%}), "
          f"errors {results['errors']}, turn p50 {results['latency_ms']['p50']} ms -> {out}")
    if max_no_list is not None and (results["no_list_share"] > max_no_list or results["errors"]):
        raise typer.Exit(1)


def _read_extra(path: Path | None) -> list[dict[str, Any]]:
    if path is None:
        return []
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(rows, dict) and isinstance(rows.get("rows"), list):  # scripts/recbole_side_by_side.py output
        source = rows.get("source", "")
        return [{**row, "source": row.get("source") or source} for row in rows["rows"]]
    return rows if isinstance(rows, list) else [rows]


def _run_batch(service: Any, path: Path) -> None:
    """One result line per input line; a malformed line gets an error object and the batch goes on."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                turn = json.loads(line)
                if not isinstance(turn, dict) or not isinstance(turn.get("session"), str) or not isinstance(
                        turn.get("message"), str):
                    raise ValueError("needs string fields 'session' and 'message'")
                user = turn.get("user")
                if user is not None and (not isinstance(user, int) or user not in service.context.catalogue.users):
                    raise ValueError(f"unknown user id {user!r}")
                top = turn.get("top")
                if top is not None and (not isinstance(top, int) or not 1 <= top <= 20):
                    raise ValueError("'top' must be an integer from 1 to 20")
            except ValueError as exc:
                print(json.dumps({"line": number, "error": str(exc)}), flush=True)
                continue
            result = service.ask(turn["session"], turn["message"], user_id=user, top=top)
            print(json.dumps(result.public(), ensure_ascii=False), flush=True)


def run() -> None:
    """Console-script entry point: user mistakes exit 2 with one line, never a traceback."""
    try:
        app()
    except UserError as exc:
        print(f"convrec: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("convrec: interrupted", file=sys.stderr)
        raise SystemExit(130) from None


if __name__ == "__main__":
    run()
