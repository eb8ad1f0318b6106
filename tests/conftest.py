"""Shared fixtures: the tiny atomic-file dataset, settings pointing at temporary folders, and (for slow
tests) the real MovieLens-100K catalogue cached across runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from convrec.core.catalogue import Catalogue  # noqa: E402
from convrec.core.settings import Settings  # noqa: E402

from .fixtures import write_dataset  # noqa: E402

# The real dataset and its index are cached here between test runs (gitignored), so only the first run
# pays for the download and the index build.
REAL_CACHE = Path(os.environ.get("CONVREC_TEST_CACHE", Path(__file__).resolve().parents[1] / ".convrec" / "test"))


@pytest.fixture(scope="session")
def tiny_dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder with the tiny fixture's atomic files."""
    return write_dataset(tmp_path_factory.mktemp("tiny") / "ml-100k")


@pytest.fixture(scope="session")
def tiny_catalogue(tiny_dataset_dir: Path) -> Catalogue:
    """The catalogue built from the tiny fixture."""
    return Catalogue.load(tiny_dataset_dir)


@pytest.fixture()
def tiny_settings(tiny_dataset_dir: Path, tmp_path: Path) -> Settings:
    """Settings that read the tiny fixture and keep every cache in a fresh temporary folder."""
    return Settings(data_dir=tmp_path / "cache", dataset_dir=tiny_dataset_dir)


@pytest.fixture(scope="session")
def real_settings() -> Settings:
    """Settings over the real MovieLens-100K, with the cache shared by all test runs."""
    return Settings(data_dir=REAL_CACHE)


@pytest.fixture(scope="session")
def real_catalogue(real_settings: Settings) -> Catalogue:
    """The real MovieLens-100K catalogue (fetched once into the shared test cache)."""
    from convrec.core.data import load_catalogue

    return load_catalogue(real_settings)


@pytest.fixture(scope="session")
def tiny_context(tiny_dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A full agent context (index, rankers, intent classifier) over the tiny fixture."""
    from convrec.agent.context import load_context

    settings = Settings(data_dir=tmp_path_factory.mktemp("tiny-cache"), dataset_dir=tiny_dataset_dir, top_n=3)
    return load_context(settings)


@pytest.fixture(scope="session")
def real_service(real_settings: Settings, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """The chat service over real MovieLens-100K (caches shared across runs, conversations per session)."""
    from convrec.agent.context import load_context
    from convrec.agent.service import ChatService, open_checkpointer

    context = load_context(real_settings)
    service = ChatService(context, open_checkpointer(tmp_path_factory.mktemp("conv") / "c.sqlite"))
    yield service
    service.close()
