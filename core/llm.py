"""The language-model provider factory: which provider the agent's nodes talk to, chosen from the settings.

The provider interface and its request/answer schemas belong to the agent (`agent/provider.py`,
`agent/schemas.py`); the guarded model client is `core/llm_client.py`. This factory only picks between the
caller's offline provider and an LLM provider wrapped around an `LLMClient` for the configured endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from .errors import UserError
from .settings import Settings

if TYPE_CHECKING:
    from .llm_client import LLMClient

P = TypeVar("P")
PROVIDERS = ("offline", "openai")


def make_provider(settings: Settings, offline: P, online: Callable[[LLMClient], P] | None = None) -> P:
    """Pick the provider named by `settings.llm_provider`.

    `offline` is the offline implementation; `online` wraps an `LLMClient` for the configured endpoint into the
    caller's LLM provider (the agent's checks and fallbacks live with the agent, not here).
    """
    match settings.llm_provider:
        case "offline":
            return offline
        case "openai":
            if online is None:
                raise UserError("this command has no LLM path; set CONVREC_LLM_PROVIDER=offline")
            from .llm_client import LLMClient

            return online(LLMClient(settings))
        case other:
            raise UserError(f"unknown LLM provider {other!r}; choose one of: {', '.join(PROVIDERS)}")
