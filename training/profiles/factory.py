"""Pick the profile writer the settings ask for (offline unless a language model is configured)."""

from __future__ import annotations

from convrec.core.errors import UserError
from convrec.core.settings import Settings

from .offline_writer import OfflineProfileWriter
from .writer import ProfileWriter


def make_profile_writer(settings: Settings) -> ProfileWriter:
    """The writer `settings.profile_writer` asks for ('auto': the LLM when one is configured).

    Profiles are cached per writer identity, never mixed.
    """
    wants_llm = settings.profile_writer == "llm" or (
        settings.profile_writer == "auto" and settings.llm_provider != "offline")
    if not wants_llm:
        return OfflineProfileWriter()
    if settings.llm_provider == "offline":
        raise UserError("CONVREC_PROFILE_WRITER=llm needs an LLM: set CONVREC_LLM_PROVIDER=openai")
    if settings.llm_provider == "openai":
        from convrec.core.llm_client import LLMClient

        from .llm_writer import LLMProfileWriter

        return LLMProfileWriter(LLMClient(settings))
    raise UserError(f"no profile writer for provider {settings.llm_provider!r}")
