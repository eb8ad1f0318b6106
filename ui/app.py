"""The Gradio chat app: one conversation pane (messages, each answer's cards under it), a message box, a user picker.

Handlers only call the agent's `ChatService`; the conversation lives in the checkpointed graph state. The page
keeps the conversation id and the user in the browser's storage (encrypted with a key kept in the data folder),
so a reload or an app restart brings the same conversation, its user and its cards back.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from convrec.agent.service import FEEDBACK_TEXT, ChatService, TurnResult
from convrec.core.errors import UserError

from .assets import APP_CSS, COMPOSER_JS, CONVERSATION_JS
from .view import View, composer_html, render

logger = logging.getLogger(__name__)
ANONYMOUS = "anonymous"
STORAGE_KEY = "convrec-conversation"


def parse_user(choice: str | None) -> int | None:
    """Map the picker's value to a user id (None for anonymous)."""
    if not choice or choice == ANONYMOUS:
        return None
    try:
        return int(str(choice).split()[0])
    except ValueError:
        raise UserError(f"unknown user {choice!r}") from None


def message_problem(text: str, limit: int) -> str | None:
    """Why a message cannot be sent (the page checks the same before sending), or None."""
    if not text.strip():
        return "Type a message first."
    if len(text) > limit:
        return f"That message is {len(text):,} characters long; the limit is {limit:,}. Please say it more briefly."
    return None


def browser_secret(folder: Path) -> str:
    """The key that encrypts the page's stored conversation id.

    It is made once and kept with the data, so it survives restarts: a new key each start would make every browser
    forget its conversation.
    """
    path = folder / "ui-secret"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    folder.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(24)
    path.write_text(secret, encoding="utf-8")
    path.chmod(0o600)
    return secret


def status_line(service: ChatService, result: TurnResult | None) -> str:
    """The turn's internals for the Details panel: provider, model, intent, time, offline fallbacks."""
    provider = service.context.provider
    if result is None:
        return f"provider: {provider.name} ({provider.model})"
    fallback = (" \u00b7 offline fallback: " + "; ".join(result.fallbacks)) if result.fallbacks else ""
    return (f"provider: {result.provider} ({result.model or provider.model}) \u00b7 intent: {result.intent} \u00b7 "
            f"{result.elapsed_ms:.0f} ms{fallback}")


def switch_notice(old: str, new: str) -> str:
    """What the page says when the user changes with a conversation under way."""
    who = "anonymous" if new == ANONYMOUS else f"MovieLens user {new}"
    was = "anonymously" if old == ANONYMOUS else f"as MovieLens user {old}"
    return (f"You switched to {who}, so this is a new conversation: picks now come from "
            f"{'what you say' if new == ANONYMOUS else 'their ratings and what you say'}. "
            f"The conversation you had {was} is closed.")


def build_app(service: ChatService, *, default_user: int | None = None) -> gr.Blocks:
    """Build the Blocks app around a loaded service."""
    users = [ANONYMOUS] + [str(u) for u in sorted(service.context.catalogue.users)]
    known_users = set(users)
    start_user = str(default_user) if default_user is not None else ANONYMOUS
    limit = service.context.settings.max_message_chars
    secret = browser_secret(service.context.settings.data_dir)
    quiet = {"show_progress": "hidden", "api_name": False}

    def pane(messages: Sequence[Mapping[str, Any]], user: str, **now: Any) -> str:  # noqa: ANN401
        return render(View(messages=messages, user_label=user, **now))

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

    def restore(stored: dict[str, Any] | None) -> list[Any]:
        stored = stored or {}
        session = str(stored.get("session") or uuid.uuid4().hex)
        user = str(stored.get("user")) if stored.get("user") in known_users else start_user
        messages = service.transcript(session)
        return [session, gr.update(value=user), pane(messages, user), status_line(service, None),
                profile_markdown(user), {"session": session, "user": user}]

    def accept(text: str, session: str, user: str) -> list[Any]:
        problem = message_problem(text, limit)
        if problem is not None:
            gr.Warning(problem)
            return [gr.skip(), None]
        return [pane(service.transcript(session), user, pending=text), {"text": text}]

    def on_submit(session: str, user: str, evt: gr.EventData) -> list[Any]:
        return accept(str(evt._data.get("text", "")), session, user)

    def on_click(session: str, user: str, evt: gr.EventData) -> list[Any]:
        data = evt._data or {}
        if data.get("action") == "example":
            return accept(str(data.get("text", "")), session, user)
        if data.get("action") != "feedback" or data.get("kind") not in FEEDBACK_TEXT:
            return [gr.skip(), None]
        item_id, kind = int(data.get("item_id", -1)), str(data["kind"])
        if item_id not in {c.item_id for c in service.last_recommendations(session)}:
            gr.Warning("That card is no longer shown.")
            return [pane(service.transcript(session), user), None]
        text = service.feedback_message(item_id, kind)  # type: ignore[arg-type]
        return [pane(service.transcript(session), user, pending=text),
                {"text": text, "feedback": kind, "item_id": item_id}]

    def answer(pending: dict[str, Any] | None, session: str, user: str) -> Iterator[list[Any]]:
        if not pending:
            yield [gr.skip(), gr.skip()]
            return
        try:
            yield from run_turn(pending, session, user)
        except Exception:  # a bug must not leave the page waiting: say so, keep what was said
            logger.exception("turn failed in session %s", session)
            gr.Warning("Sorry, that turn failed (the error is in the app's log). Please try again.")
            notice = f"That turn failed. You sent: \u201c{pending['text']}\u201d. Please try again."
            yield [pane(service.transcript(session), user, notice=notice), status_line(service, None)]

    def run_turn(pending: dict[str, Any], session: str, user: str) -> Iterator[list[Any]]:
        user_id = parse_user(user)
        if "feedback" in pending:
            result = service.feedback(session, int(pending["item_id"]), pending["feedback"], user_id=user_id)
            yield [pane(service.transcript(session), user), status_line(service, result)]
            return
        earlier = service.transcript(session)
        for item in service.ask_stream(session, pending["text"], user_id=user_id):
            if isinstance(item, str):  # the model's reply so far: show it growing under the message
                yield [pane(earlier, user, pending=pending["text"], draft=item), "writing\u2026"]
            else:
                yield [pane(service.transcript(session), user), status_line(service, item)]

    def new_conversation(user: str) -> list[Any]:
        session = uuid.uuid4().hex
        return [session, pane([], user), status_line(service, None), {"session": session, "user": user}]

    def switch_user(user: str, stored: dict[str, Any] | None) -> list[Any]:
        stored = stored or {}
        old_session, old_user = str(stored.get("session") or ""), str(stored.get("user") or ANONYMOUS)
        session = uuid.uuid4().hex
        notice = switch_notice(old_user, user) if old_session and service.transcript(old_session) else None
        return [session, pane([], user, notice=notice), status_line(service, None), profile_markdown(user),
                {"session": session, "user": user}]

    with gr.Blocks(title="convrec") as demo:
        stored = gr.BrowserState({}, storage_key=STORAGE_KEY, secret=secret)
        session = gr.State("")
        pending = gr.State(None)
        gr.Markdown("# convrec\nFilm recommendations you can talk to, each with its reasons.", elem_id="title")
        with gr.Row(equal_height=True):
            user_picker = gr.Dropdown(users, value=start_user, label="Whose MovieLens ratings to use (or anonymous)",
                                      filterable=True, elem_id="user-picker", scale=3)
            new_button = gr.Button("New conversation", elem_id="new-conversation", scale=1, min_width=140)
        with gr.Accordion("What convrec believes about you", open=False, elem_id="profile-panel"):
            profile_body = gr.Markdown(profile_markdown(start_user), elem_id="profile-body")
        conversation = gr.HTML(pane([], start_user), js_on_load=CONVERSATION_JS, elem_id="conversation",
                               min_height=200)
        composer = gr.HTML(composer_html(limit), js_on_load=COMPOSER_JS, elem_id="composer")
        with gr.Accordion("Details", open=False, elem_id="details"):
            status = gr.Markdown(status_line(service, None), elem_id="status")

        demo.load(restore, [stored], [session, user_picker, conversation, status, profile_body, stored], **quiet)
        composer.submit(on_submit, [session, user_picker], [conversation, pending], **quiet).then(
            answer, [pending, session, user_picker], [conversation, status], **quiet)
        conversation.click(on_click, [session, user_picker], [conversation, pending], **quiet).then(
            answer, [pending, session, user_picker], [conversation, status], **quiet)
        new_button.click(new_conversation, [user_picker], [session, conversation, status, stored], **quiet)
        user_picker.input(switch_user, [user_picker, stored],
                          [session, conversation, status, profile_body, stored], **quiet)
    return demo


def launch(demo: Any, host: str, port: int, *, block: bool = True) -> None:  # noqa: ANN401
    """Serve the app on host:port (no sharing, no flagging, only the app's own assets)."""
    demo.launch(server_name=host, server_port=port, show_error=False, quiet=True, share=False,
                css=APP_CSS, prevent_thread_lock=not block, footer_links=[])
