"""The offline provider: every provider task answered without a language model."""

from __future__ import annotations

from dataclasses import dataclass

from convrec.core.catalogue import Catalogue
from convrec.core.llm import (
    ExplainRequest,
    ItemExplanation,
    ReplyRequest,
    RerankRequest,
    Understanding,
    UnderstandRequest,
)

from .explain import explain
from .reply import write_reply
from .rerank import EmbeddingLookup, rerank
from .understand import IntentPredictor, understand


@dataclass
class OfflineProvider:
    """Trained intent classifier + lexicons + fusion rerank + fact selection + templates."""

    catalogue: Catalogue
    predict_intent: IntentPredictor
    embeddings_of: EmbeddingLookup
    name: str = "offline"
    model: str = "intent-classifier+lexicons"

    def understand(self, request: UnderstandRequest) -> Understanding:
        """Classify the intent and fill the slots of a message."""
        return understand(request, self.catalogue, self.predict_intent)

    def rerank(self, request: RerankRequest) -> list[int]:
        """Fuse candidate signals and diversify."""
        return rerank(request, self.embeddings_of)

    def explain(self, request: ExplainRequest) -> list[ItemExplanation]:
        """Pick each item's strongest facts."""
        return explain(request)

    def write_reply(self, request: ReplyRequest) -> str:
        """Compose the reply text from a template."""
        return write_reply(request)
