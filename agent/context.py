"""Run-time dependencies of the graph: catalogue, index, rankers, provider. Built once per process.

Loading is where heavy work may happen (first index build, first ranker fit, first classifier fit), each
cached on disk under a content hash, so a chat turn only reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard

import numpy as np
from pydantic import BaseModel

from convrec.core.catalogue import Catalogue
from convrec.core.data import load_catalogue
from convrec.core.encoder import TextEncoder, load_encoder
from convrec.core.errors import UserError
from convrec.core.llm import make_provider
from convrec.core.settings import Settings
from convrec.retrieval.documents import document_texts_for, kg_facts_trustworthy
from convrec.retrieval.index import ItemIndex
from convrec.training.configs import load_params
from convrec.training.conversation_prior import ConversationPrior
from convrec.training.conversation_prior import load_or_fit as load_conversation_prior
from convrec.training.intent import load_or_train
from convrec.training.interactions import Interactions
from convrec.training.profiles.factory import make_profile_writer, make_pte_writer
from convrec.training.profiles.pte_writer import without_subject
from convrec.training.rankers import REGISTRY
from convrec.training.rankers.base import Ranker, fit_or_load, get_ranker
from convrec.training.rankers.profiled import ProfileRanker
from convrec.training.rankers.pte import PtERanker
from convrec.training.stance import load_or_train as load_stance_model
from convrec.training.text_inputs import TextInputs

from .llm.provider import LLMProvider
from .offline.provider import OfflineProvider
from .profile_channel import ProfileChannel
from .provider import Provider

log = logging.getLogger(__name__)


class UserProfile(BaseModel):
    """What the system believes about a known user: LLM-TUP's two profiles and their fusion weights."""

    user_id: int
    short_term: str
    long_term: str
    weight_short_term: float
    weight_long_term: float


@dataclass(frozen=True)
class AgentOptions:
    """Switches that the simulated-user evaluation flips to show what each component is worth.

    `personal_ranker` scores known users and named films (any registered ranker fitted on the context's
    interactions); `profile_ranker` (LLM-TUP, or None) scores known users from their stored profiles, with
    `personal_ranker` as the fallback; `elicit` allows the clarifying question; `retrieval_only` orders picks
    by retrieval similarity alone (no personal score, popularity, preferences, diversity or extra candidate
    sources); `conversation_prior` uses what real dialogues say people recommend (off: MovieLens popularity
    only); `co_mention_weight` is how much films named beside the person's films count against plain prior
    popularity (tuned on ReDial validation dialogues, see reports/dialogues/).
    """

    personal_ranker: str = "itemknn"
    profile_ranker: str | None = "tup"
    elicit: bool = True
    retrieval_only: bool = False
    conversation_prior: bool = True
    co_mention_weight: float = 2.0
    profile_channel: bool = True
    profile_weight: float = 0.2


@dataclass
class AgentContext:
    """What every node may read; nothing in it changes during a turn."""

    settings: Settings
    catalogue: Catalogue
    index: ItemIndex
    interactions: Interactions
    rankers: dict[str, Ranker]
    provider: Provider
    kg_trusted: bool = False
    load_seconds: dict[str, float] = field(default_factory=dict)
    options: AgentOptions = field(default_factory=AgentOptions)
    profile_inputs: TextInputs | None = None  # what the profile ranker's profiles are written from
    conversation: ConversationPrior | None = None  # what people recommend in real dialogues
    channel: ProfileChannel | None = None  # PtE's scores for a profile written from the conversation

    @property
    def profile_channel(self) -> ProfileChannel | None:
        """The conversation-profile channel, unless the options switch it off."""
        return self.channel if self.options.profile_channel else None

    @property
    def prior(self) -> ConversationPrior | None:
        """The conversation prior, unless the options switch it off."""
        return self.conversation if self.options.conversation_prior else None

    @property
    def personal(self) -> Ranker:
        """The ranker that scores a person's history (item-kNN unless an evaluation swaps it)."""
        return self.rankers[self.options.personal_ranker]

    @property
    def profiled(self) -> ProfileRanker | None:
        """The profile ranker (LLM-TUP) when this context loaded one."""
        name = self.options.profile_ranker
        model = self.rankers.get(name) if name else None
        return model if isinstance(model, ProfileRanker) else None

    def user_profile(self, user_id: int | None) -> UserProfile | None:
        """The short- and long-term profiles of a known user and the weight the model gives each, or None."""
        model, inputs = self.profiled, self.profile_inputs
        if user_id is None or model is None or inputs is None or not self.has_profile(user_id):
            return None
        written = inputs.profile_of(self.interactions, user_id)
        if written is None:
            return None
        row = self.interactions.user_index(user_id)
        if row is None:  # has_profile checked that the user is known
            return None
        weights = dict(zip(model.kinds, model.fusion_weights(np.array([row]))[0].tolist(), strict=True))
        return UserProfile(user_id=user_id, short_term=written.short_term, long_term=written.long_term,
                           weight_short_term=round(weights.get("short_term", 0.0), 3),
                           weight_long_term=round(weights.get("long_term", 0.0), 3))

    def has_profile(self, user_id: int | None) -> TypeGuard[int]:
        """Whether the profile ranker holds stored profiles for this user (a known user with ratings)."""
        model = self.profiled
        if model is None or user_id is None:
            return False
        row = self.interactions.user_index(int(user_id))
        return row is not None and bool(model.profiled_users()[row])

    @property
    def neighbours(self) -> Ranker:
        """Item-kNN, always: "films watched with this one" must stay co-watching, whatever ranks picks."""
        return self.rankers["itemknn"]

    @property
    def by_item(self) -> Any:  # noqa: ANN401 - scipy.sparse.csc_matrix (scipy has no types)
        """The interaction matrix in column form, built once: facts slice item columns on every turn."""
        if not hasattr(self, "_by_item"):
            self._by_item = self.interactions.matrix.tocsc()
        return self._by_item

    @property
    def popularity_norm(self) -> dict[int, float]:
        """Popularity in 0-1, cached on first use: log counts blended half and half with the mean rating.

        The mean is shrunk towards the catalogue's (`Settings.rating_prior_weight` ratings' worth), so two
        5/5 ratings never make a film look better than hundreds of 4/5 ones; no raw mean enters ranking.
        """
        if not hasattr(self, "_popularity_norm"):
            counts = self.catalogue.popularity.astype(float)
            log_counts = np.log1p(counts)
            shrunk = self.catalogue.shrunk_rating(self.settings.rating_prior_weight)
            quality = (shrunk - shrunk.min()) / max(float(shrunk.max() - shrunk.min()), 1e-9)
            blended = 0.5 * log_counts / max(float(log_counts.max()), 1e-9) + 0.5 * quality
            self._popularity_norm = {int(i): float(v) for i, v in blended.items()}
        return self._popularity_norm


def load_context(settings: Settings, *, show_progress: bool = False, rebuild_index: bool = False,
                 catalogue: Catalogue | None = None, options: AgentOptions | None = None,
                 extra_rankers: Collection[str] = ()) -> AgentContext:
    """Load (or build once and cache) everything the graph needs.

    An evaluation passes `catalogue` with held-out interactions removed: rankers and histories then come
    from it, while the item index stays the one built from the full dataset (its documents only carry
    aggregate rating counts), so an evaluation never rebuilds or replaces the app's index. It names
    `extra_rankers` to swap in later with `AgentOptions(personal_ranker=...)`: they are fitted here too.
    """
    options = options or AgentOptions(personal_ranker=settings.personal_ranker,
                                      profile_ranker=None if settings.profile_ranker == "none" else
                                      settings.profile_ranker)
    history_rankers = dict.fromkeys(("pop", "itemknn", options.personal_ranker, *extra_rankers))
    unknown = [name for name in history_rankers if name not in REGISTRY]
    if unknown:
        raise UserError(f"unknown ranker {unknown[0]!r} (CONVREC_PERSONAL_RANKER, or an evaluation's --rankers); "
                        f"choose one of: {', '.join(sorted(REGISTRY))}")
    if options.profile_ranker and not is_profile_ranker(options.profile_ranker):
        profile_models = sorted(n for n in REGISTRY if is_profile_ranker(n))
        raise UserError(f"profile ranker {options.profile_ranker!r} is not a profile model; choose one of: "
                        f"{', '.join(profile_models)}, or none")
    timings: dict[str, float] = {}
    start = time.perf_counter()
    full = load_catalogue(settings)
    catalogue = catalogue or full
    timings["catalogue"] = time.perf_counter() - start

    encoder = load_encoder(settings.encoder_path)
    cache = settings.models_dir
    documents = document_texts_for(full)(full)  # the search documents without item profiles: what rankers read
    interactions = Interactions.from_catalogue(catalogue)
    channel, item_profiles = None, None
    if settings.profile_channel == "pte":
        start = time.perf_counter()
        inputs_pte = _pte_inputs(settings, catalogue, documents, show_progress)
        model = _fit_pte(inputs_pte, interactions, settings, show_progress)
        channel = ProfileChannel(model, inputs_pte.embeddings, catalogue, show_progress=show_progress)
        # The index states who each film is for from all of MovieLens, whatever rows an evaluation holds out.
        item_profiles = _index_profiles(model if catalogue is full else _fit_pte(
            _pte_inputs(settings, full, documents, show_progress), Interactions.from_catalogue(full), settings,
            show_progress))
        timings["profile_channel"] = time.perf_counter() - start

    start = time.perf_counter()
    index = ItemIndex.open(settings, full, rebuild=rebuild_index, show_progress=show_progress,
                           item_profiles=item_profiles)
    timings["index"] = time.perf_counter() - start

    inputs = None
    if options.profile_ranker or any(REGISTRY[name].needs_text for name in history_rankers):
        # What text rankers read (titles, documents, profiles). The index's vectors embed these same texts only
        # when no item profile was added to them.
        inputs = TextInputs(catalogue.items, catalogue.interactions, documents, encoder, settings.data_dir / "text",
                            writer=make_profile_writer(settings), show_progress=show_progress,
                            item_embeddings=index.embeddings if item_profiles is None else None)

    start = time.perf_counter()
    # A text ranker as personal ranker (DUIP reads titles) gets the texts; the others the matrix alone.
    rankers = {name: fit_or_load(name, interactions, cache_dir=cache, seed=0, params=load_params(name, "chat"),
                                 show_progress=show_progress, inputs=inputs if REGISTRY[name].needs_text else None)
               for name in history_rankers}
    timings["rankers"] = time.perf_counter() - start

    if options.profile_ranker:
        assert inputs is not None
        start = time.perf_counter()
        rankers[options.profile_ranker] = fit_or_load(
            options.profile_ranker, interactions, cache_dir=cache, seed=0, show_progress=show_progress,
            params=load_params(options.profile_ranker, "chat"), inputs=inputs)
        timings["profile_ranker"] = time.perf_counter() - start

    start = time.perf_counter()
    provider, conversation = _dialogue_models(settings, catalogue, interactions, index, encoder)
    timings["dialogue_models"] = time.perf_counter() - start
    log.info("Agent loaded in %.1fs (%s)", sum(timings.values()),
             ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    return AgentContext(settings, catalogue, index, interactions, rankers, provider,
                        kg_facts_trustworthy(catalogue), timings, options, inputs, conversation, channel)


def open_search_index(settings: Settings, *, rebuild: bool = False, show_progress: bool = False) -> ItemIndex:
    """The app's search index, as `load_context` opens it (with PtE's item profiles when the channel is on)."""
    full = load_catalogue(settings)
    profiles = None
    if settings.profile_channel == "pte":
        documents = document_texts_for(full)(full)
        profiles = _index_profiles(_fit_pte(_pte_inputs(settings, full, documents, show_progress),
                                            Interactions.from_catalogue(full), settings, show_progress))
    return ItemIndex.open(settings, full, rebuild=rebuild, show_progress=show_progress, item_profiles=profiles)


def _pte_inputs(settings: Settings, catalogue: Catalogue, documents: dict[int, str],
                show_progress: bool) -> TextInputs:
    """What PtE's profiles and vectors are made from: the catalogue's rows and the search documents' texts."""
    return TextInputs(catalogue.items, catalogue.interactions, documents, load_encoder(settings.encoder_path),
                      settings.data_dir / "text", show_progress=show_progress, catalogue=catalogue,
                      pte_writer=make_pte_writer(settings))


def _fit_pte(inputs: TextInputs, interactions: Interactions, settings: Settings, show_progress: bool) -> PtERanker:
    """PtE fitted once on `interactions` (its profiles written, embedded and cached on disk on the way)."""
    model = fit_or_load("pte", interactions, cache_dir=settings.models_dir, seed=0, show_progress=show_progress,
                        params=load_params("pte", "chat"), inputs=inputs)
    if not isinstance(model, PtERanker):
        raise TypeError(f"ranker 'pte' is a {type(model).__name__}, not PtE")
    return model


def _index_profiles(model: PtERanker) -> dict[int, str]:
    """What the search documents add from PtE's item profiles: who each film is for (not its title line again)."""
    return {item_id: without_subject(text) for item_id, text in model.item_profiles.items()}


def is_profile_ranker(name: str) -> bool:
    """Whether the registered ranker `name` reads written profiles (a `ProfileRanker`, e.g. LLM-TUP)."""
    return name in REGISTRY and isinstance(get_ranker(name, **load_params(name, "chat")), ProfileRanker)


def _dialogue_models(settings: Settings, catalogue: Catalogue, interactions: Interactions, index: ItemIndex,
                     encoder: TextEncoder, held_out: Collection[str] = ()) -> tuple[Provider, ConversationPrior]:
    """Build what is learned from real dialogues and the provider that reads messages with it.

    What is learned is the act classifier, the stance model and the conversation prior, each trained once and cached,
    leaving out the `held_out` conversations.
    """
    cache = settings.models_dir
    titles = [item.title for item in catalogue.items.values()]
    classifier = load_or_train(encoder, cache, titles, seed=0, exclude=sorted(held_out))
    stance = load_stance_model(encoder, cache, exclude=held_out)
    conversation = load_conversation_prior(catalogue, interactions.item_ids, cache, exclude=held_out)
    offline = OfflineProvider(catalogue=catalogue, predict_intent=classifier.predict, embeddings_of=index.embeddings,
                              predict_stance=stance.predict)
    fallback: Provider = offline  # typed as the protocol: make_provider returns it or the LLM provider
    provider = make_provider(settings, fallback, lambda client: LLMProvider(client, offline, catalogue))
    return provider, conversation


def held_out_context(context: AgentContext, conversations: Collection[str]) -> AgentContext:
    """The same context whose dialogue-trained parts never saw `conversations` (an evaluation scores them)."""
    encoder = load_encoder(context.settings.encoder_path)
    provider, conversation = _dialogue_models(context.settings, context.catalogue, context.interactions,
                                              context.index, encoder, held_out=conversations)
    return replace(context, provider=provider, conversation=conversation)
