"""The conversation graph: every edge of the agent lives here, read top to bottom.

guard_input -> classify_intent -> (small_talk | answer_item_question | explain_pick | update_preferences)
update_preferences -> retrieve -> (no_match | rank -> rerank -> explain);
every branch ends in respond, which records the answer in the checkpointed state.

Every turn that asks for films, adds to the request or reacts to picks (recommend, more, refine, feedback) is
answered with films; a request too vague to act on gets them too, with one focused question (explain asks it).
Questions about a film, "why", goodbyes, small talk and out-of-scope messages are answered without a list.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from .card_feedback import judged_card
from .context import AgentContext
from .nodes.answer_item_question import answer_item_question
from .nodes.classify_intent import classify_intent
from .nodes.explain import explain
from .nodes.explain_pick import explain_pick
from .nodes.guard_input import guard_input
from .nodes.no_match import no_match
from .nodes.rank import rank
from .nodes.rerank import rerank
from .nodes.respond import respond
from .nodes.retrieve import retrieve
from .nodes.small_talk import small_talk
from .nodes.update_preferences import update_preferences
from .preferences import asked_about_known_elsewhere
from .state import AgentState


def after_guard(state: AgentState) -> Literal["classify_intent", "respond"]:
    """Invalid input is answered at once."""
    return "respond" if state.get("intent") == "invalid" else "classify_intent"


def by_intent(state: AgentState, runtime: Runtime[AgentContext]) -> Literal[
        "small_talk", "answer_item_question", "explain_pick", "update_preferences"]:
    """Route on the classified intent.

    A question about a film the catalogue lacks, which real dialogues know, is answered (the film is unknown) with the
    films people recommend beside it.
    """
    match state.get("intent"):
        case "chitchat" | "out_of_scope" | "goodbye":
            return "small_talk"
        case "item_question":
            known = asked_about_known_elsewhere(runtime.context.prior, state.get("understanding", {}))
            return "update_preferences" if known else "answer_item_question"
        case "why":
            return "explain_pick"
        case "recommend" | "more" | "refine" | "feedback":
            return "update_preferences"
        case other:
            raise ValueError(f"unexpected intent {other!r}")


def after_retrieve(state: AgentState) -> Literal["rank", "no_match"]:
    """No candidate means nothing satisfies the constraints, unless a card was judged: the other cards stay."""
    return "rank" if state.get("candidates") or judged_card(state) is not None else "no_match"


def build_graph(
        checkpointer: BaseCheckpointSaver[Any] | None = None,
) -> CompiledStateGraph[AgentState, AgentContext, AgentState, AgentState]:
    """Compile the graph; run it with `context=AgentContext` and `thread_id` = the conversation id."""
    builder = StateGraph(AgentState, context_schema=AgentContext)
    for name, node in [("guard_input", guard_input), ("classify_intent", classify_intent),
                       ("small_talk", small_talk), ("answer_item_question", answer_item_question),
                       ("explain_pick", explain_pick), ("update_preferences", update_preferences),
                       ("retrieve", retrieve), ("no_match", no_match), ("rank", rank),
                       ("rerank", rerank), ("explain", explain), ("respond", respond)]:
        builder.add_node(name, node)
    builder.add_edge(START, "guard_input")
    builder.add_conditional_edges("guard_input", after_guard)
    builder.add_conditional_edges("classify_intent", by_intent)
    builder.add_edge("update_preferences", "retrieve")
    builder.add_conditional_edges("retrieve", after_retrieve)
    builder.add_edge("rank", "rerank")
    builder.add_edge("rerank", "explain")
    for terminal in ("small_talk", "answer_item_question", "explain_pick", "no_match", "explain"):
        builder.add_edge(terminal, "respond")
    builder.add_edge("respond", END)
    return builder.compile(checkpointer=checkpointer)
