"""Pick the profile writer the settings ask for (offline unless a language model is configured).

LLM-TUP's writer (`make_profile_writer`) and PtE's (`make_pte_writer`) follow the same switch,
`settings.profile_writer`, so one setting decides who writes every kind of profile.
"""

from __future__ import annotations

from convrec.core.errors import UserError
from convrec.core.settings import Settings

from .offline_writer import OfflineProfileWriter
from .pte_writer import OfflinePtEWriter, PtEWriter
from .writer import ProfileWriter


def make_profile_writer(settings: Settings) -> ProfileWriter:
    """The writer `settings.profile_writer` asks for ('auto': the LLM when one is configured).

    Profiles are cached per writer identity, never mixed.
    """
    if not _wants_llm(settings):
        return OfflineProfileWriter()
    from convrec.core.llm_client import LLMClient

    from .llm_writer import LLMProfileWriter

    return LLMProfileWriter(LLMClient(settings))


def make_pte_writer(settings: Settings, temperature: float | None = None) -> PtEWriter:
    """The PtE writer `settings.profile_writer` asks for, as `make_profile_writer` decides.

    `temperature` samples the LLM writer's answers (PtE's sampled candidates); the offline writer ignores it.
    Texts are cached per writer identity, never mixed; pair an LLM writer with `OfflinePtEWriter()` as the
    fallback of `build_pte_profiles`.
    """
    if not _wants_llm(settings):
        return OfflinePtEWriter()
    from convrec.core.llm_client import LLMClient

    from .pte_llm_writer import LLMPtEWriter

    return LLMPtEWriter(LLMClient(settings), temperature=temperature)


def _wants_llm(settings: Settings) -> bool:
    """Whether the settings ask for an LLM writer ('auto': when one is configured); an impossible ask is an error."""
    wants_llm = settings.profile_writer == "llm" or (
        settings.profile_writer == "auto" and settings.llm_provider != "offline")
    if not wants_llm:
        return False
    if settings.llm_provider == "offline":
        raise UserError("CONVREC_PROFILE_WRITER=llm needs an LLM: set CONVREC_LLM_PROVIDER=openai")
    if settings.llm_provider == "openai":
        return True
    raise UserError(f"no profile writer for provider {settings.llm_provider!r}")
