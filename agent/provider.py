"""The provider interface: the tasks a node may delegate to a language model or to its offline counterpart.

`OfflineProvider` (agent/offline/) answers every task from trained classifiers, lexicons and the catalogue;
`LLMProvider` (agent/llm/) answers the same tasks with a model and falls back to the offline one, so nodes never
know which one they talk to. `core.llm.make_provider` picks one from the settings.
"""

from __future__ import annotations

from typing import Protocol

from .schemas import (
    ExplainRequest,
    ItemExplanation,
    ReplyRequest,
    RerankRequest,
    Understanding,
    UnderstandRequest,
)


class Provider(Protocol):
    """The tasks a node may delegate to a language model (or to its offline counterpart)."""

    name: str

    @property
    def model(self) -> str:
        """The model that answers (read-only: the LLM provider reads it from its client)."""
        ...

    def understand(self, request: UnderstandRequest) -> Understanding:
        """Classify the message's intent and extract its preference slots."""
        ...

    def rerank(self, request: RerankRequest) -> list[int]:
        """Return up to `top_n` candidate ids in final order, ids from the candidate list only."""
        ...

    def explain(self, request: ExplainRequest) -> list[ItemExplanation]:
        """Choose and phrase reasons for each pick from its facts."""
        ...

    def write_reply(self, request: ReplyRequest) -> str:
        """Write the assistant's reply text."""
        ...
