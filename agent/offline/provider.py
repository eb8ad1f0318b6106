"""The offline provider: every provider task answered without a language model."""

from __future__ import annotations

from dataclasses import dataclass

from convrec.core.catalogue import Catalogue

from ..schemas import ExplainRequest, ItemExplanation, ReplyRequest, RerankRequest, Understanding, UnderstandRequest
from .explain import explain
from .reply import write_reply
from .rerank import EmbeddingLookup, rerank
from .understand import IntentPredictor, StancePredictor, understand


@dataclass
class OfflineProvider:
    """Trained act and stance classifiers + mention finder + lexicons + fusion rerank + fact selection + templates."""

    catalogue: Catalogue
    predict_intent: IntentPredictor
    embeddings_of: EmbeddingLookup
    predict_stance: StancePredictor | None = None
    name: str = "offline"
    model: str = "act+stance classifiers, lexicons"

    def understand(self, request: UnderstandRequest) -> Understanding:
        """Classify the act, find the films named and the stance towards each, and fill the other slots."""
        return understand(request, self.catalogue, self.predict_intent, self.predict_stance)

    def rerank(self, request: RerankRequest) -> list[int]:
        """Fuse candidate signals and diversify."""
        return rerank(request, self.embeddings_of)

    def explain(self, request: ExplainRequest) -> list[ItemExplanation]:
        """Pick each item's strongest facts."""
        return explain(request)

    def write_reply(self, request: ReplyRequest) -> str:
        """Compose the reply text from a template."""
        return write_reply(request)
