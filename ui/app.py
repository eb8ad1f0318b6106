"""The Gradio chat app: the conversation, recommendation cards with feedback buttons, a user picker.

Handlers only call the agent's `ChatService`; the conversation itself lives in the checkpointed graph
state, so the page can be reloaded (or the server restarted) and the session id picks it up again.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterator
from typing import Any

from convrec.agent.service import ChatService, Recommendation, TurnResult
from convrec.core.errors import UserError
from convrec.core.intents import RECOMMENDING_INTENTS

MAX_CARDS = 5
ANONYMOUS = "anonymous"
APP_CSS = """
.rec-card {border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 8px;}
.rec-card h3 {margin: 0 0 4px 0;}
.rec-genres {color: var(--body-text-color-subdued); font-size: 0.9em;}
.rec-reasons li {margin: 2px 0;}
"""
FEEDBACK_BUTTONS = (("like", "Like", "like"), ("seen", "Seen it", "seen"), ("dislike", "Not for me", "not-for-me"))


def card_markdown(rank: int, card: Recommendation) -> str:
    """Render one card: title, year, genres and its reasons (escaped: titles are data, not markup)."""
    year = f" ({card.year})" if card.year else ""
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in card.reasons)
    return (f"<h3>#{rank} {html.escape(card.title)}{year}</h3>"
            f"<div class='rec-genres'>{html.escape(', '.join(card.genres))}</div>"
            f"<ul class='rec-reasons'>{reasons}</ul>")


def parse_user(choice: str | None) -> int | None:
    """Map the picker's value to a user id (None for anonymous)."""
    if not choice or choice == ANONYMOUS:
        return None
    try:
        return int(str(choice).split()[0])
    except ValueError:
        raise UserError(f"unknown user {choice!r}") from None


def chat_messages(service: ChatService, session: str) -> list[dict[str, str]]:
    """The transcript as Gradio's role/content messages."""
    return [{"role": m.get("role", "assistant"), "content": m.get("content", "")}
            for m in service.transcript(session)]


def build_app(service: ChatService, *, default_user: int | None = None):  # noqa: ANN201 - gradio lazily
    """Build the Blocks app around a loaded service."""
    import gradio as gr

    users = [ANONYMOUS] + [str(u) for u in sorted(service.context.catalogue.users)]
    start_user = str(default_user) if default_user is not None else ANONYMOUS

    def card_updates(cards: list[Recommendation]) -> list[Any]:
        updates: list[Any] = []
        for slot in range(MAX_CARDS):
            if slot < len(cards):
                updates += [gr.update(visible=True), gr.update(value=card_markdown(slot + 1, cards[slot]))]
            else:
                updates += [gr.update(visible=False), gr.update(value="")]
        return updates

    def status_line(result: TurnResult | None) -> str:
        if result is None:
            return f"provider: {service.context.provider.name} ({service.context.provider.model})"
        fallback = (" \u00b7 offline fallback: " + "; ".join(result.fallbacks)) if result.fallbacks else ""
        return (f"provider: {result.provider} ({result.model or service.context.provider.model}) \u00b7 intent: "
                f"{result.intent} \u00b7 {result.elapsed_ms:.0f} ms{fallback}")

    def show(session: str, result: TurnResult | None) -> list[Any]:
        cards = result.recommendations if result else service.last_recommendations(session)
        if result is not None and not result.recommendations and result.intent not in RECOMMENDING_INTENTS:
            cards = service.last_recommendations(session)
        ids = [c.item_id for c in cards[:MAX_CARDS]]
        return [chat_messages(service, session), ids, status_line(result), *card_updates(cards[:MAX_CARDS])]

    def send(message: str, session: str, user_choice: str) -> Iterator[list[Any]]:
        try:
            user_id = parse_user(user_choice)
        except UserError as exc:
            raise gr.Error(str(exc)) from None
        earlier = chat_messages(service, session)
        for item in service.ask_stream(session, message or "", user_id=user_id):
            if isinstance(item, str):  # the model's reply so far: show it growing under the message
                draft = [*earlier, {"role": "user", "content": message}, {"role": "assistant", "content": item}]
                yield ["", draft, gr.skip(), "writing\u2026", *[gr.skip()] * (2 * MAX_CARDS)]
            else:
                yield ["", *show(session, item)]

    def give_feedback(kind: str, slot: int, session: str, user_choice: str, ids: list[int]) -> list[Any]:
        if slot >= len(ids):
            raise gr.Error("That card is no longer shown.")
        result = service.feedback(session, ids[slot], kind, user_id=parse_user(user_choice))  # type: ignore[arg-type]
        return show(session, result)

    def profile_markdown(user_choice: str | None) -> str:
        try:
            profile = service.profile(parse_user(user_choice))
        except UserError:
            profile = None
        if profile is None:
            return ("Pick a MovieLens user to see the profiles convrec holds for them. Anonymous chats have "
                    "none: recommendations then come from what you say and the films you name.")
        return (f"**Lately** (weight {profile.weight_short_term:.2f}): {profile.short_term}\n\n"
                f"**Over the years** (weight {profile.weight_long_term:.2f}): {profile.long_term}\n\n"
                "_Written from this user's ratings; the weights are how much the ranking model leans on each._")

    def new_conversation() -> list[Any]:
        session = uuid.uuid4().hex
        return [session, "", *show(session, None)]

    with gr.Blocks(title="convrec") as demo:
        session = gr.State(lambda: uuid.uuid4().hex)
        shown_ids = gr.State([])
        gr.Markdown("## convrec \u2014 tell me what you'd like to watch")
        with gr.Row():
            user_picker = gr.Dropdown(users, value=start_user, label="MovieLens user (or anonymous)",
                                      filterable=True, elem_id="user-picker", scale=3)
            new_button = gr.Button("New conversation", elem_id="new-conversation", scale=1)
        with gr.Accordion("What convrec believes about you", open=False, elem_id="profile-panel"):
            profile_body = gr.Markdown(profile_markdown(start_user), elem_id="profile-body")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Conversation", height=420, elem_id="chat")
                with gr.Row():
                    box = gr.Textbox(placeholder="e.g. a smart 90s sci-fi movie, nothing too violent",
                                     show_label=False, scale=5, elem_id="message", max_lines=4)
                    send_button = gr.Button("Send", variant="primary", scale=1, elem_id="send")
                status = gr.Markdown(status_line(None), elem_id="status")
            with gr.Column(scale=2):
                card_outputs: list[Any] = []
                feedback_buttons: list[tuple[Any, str, int]] = []
                for slot in range(MAX_CARDS):
                    with gr.Group(visible=False, elem_id=f"card-{slot}", elem_classes=["rec-card"]) as group:
                        body = gr.Markdown(elem_id=f"card-body-{slot}")
                        with gr.Row(equal_height=True):
                            for kind, label, slug in FEEDBACK_BUTTONS:
                                button = gr.Button(label, size="sm", elem_id=f"{slug}-{slot}", min_width=80)
                                feedback_buttons.append((button, kind, slot))
                    card_outputs += [group, body]
        shown_outputs = [chatbot, shown_ids, status, *card_outputs]
        box.submit(send, [box, session, user_picker], [box, *shown_outputs], api_name="respond")
        send_button.click(send, [box, session, user_picker], [box, *shown_outputs], api_name=False)
        for button, kind, slot in feedback_buttons:
            button.click(lambda s, u, ids, k=kind, n=slot: give_feedback(k, n, s, u, ids),
                         [session, user_picker, shown_ids], shown_outputs, api_name=False)
        new_button.click(new_conversation, None, [session, box, *shown_outputs], api_name="new_conversation")
        user_picker.change(new_conversation, None, [session, box, *shown_outputs], api_name=False)
        user_picker.change(profile_markdown, [user_picker], [profile_body], api_name=False)
    return demo


def launch(demo: Any, host: str, port: int, *, block: bool = True) -> None:
    """Serve the app on host:port (no sharing, no flagging, only the app's own assets)."""
    demo.launch(server_name=host, server_port=port, show_error=False, quiet=True, share=False,
                css=APP_CSS, prevent_thread_lock=not block, footer_links=[])
