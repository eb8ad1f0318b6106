"""The Chroma index: cached by content, rebuilt when half-built, filters that always hold, no network."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from convrec.core.catalogue import Catalogue
from convrec.core.encoder import load_encoder
from convrec.core.errors import UserError
from convrec.core.settings import Settings
from convrec.retrieval import index as index_module
from convrec.retrieval.documents import build_documents, kg_facts_trustworthy
from convrec.retrieval.index import (
    COLLECTION_PREFIX,
    EncoderEmbeddingFunction,
    ItemIndex,
    chroma_client,
    index_key,
    parse_chroma_url,
)
from convrec.retrieval.query import Constraints


@pytest.fixture(scope="module")
def tiny_index(tiny_dataset_dir: Path, tiny_catalogue: Catalogue,
               tmp_path_factory: pytest.TempPathFactory) -> ItemIndex:
    """One index over the tiny fixture, shared by the read-only tests of this module."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("index"), dataset_dir=tiny_dataset_dir)
    return ItemIndex.open(settings, tiny_catalogue)


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any attempt to open a network connection."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def item_collections(settings: Settings) -> set[str]:
    names = {c.name for c in chroma_client(settings).list_collections()}
    return {name for name in names if name.startswith(COLLECTION_PREFIX)}


# ----- building and caching ------------------------------------------------------------------------
def test_build_then_reopen_reuses(tiny_settings: Settings, tiny_catalogue: Catalogue) -> None:
    first = ItemIndex.open(tiny_settings, tiny_catalogue)
    second = ItemIndex.open(tiny_settings, tiny_catalogue)
    assert first.built and first.build_seconds > 0
    assert not second.built and second.build_seconds == 0.0
    assert second.key == first.key
    assert item_collections(tiny_settings) == {COLLECTION_PREFIX + first.key}
    assert set(second.documents) == set(tiny_catalogue.items)


def test_rebuild_flag_rebuilds(tiny_settings: Settings, tiny_catalogue: Catalogue) -> None:
    first = ItemIndex.open(tiny_settings, tiny_catalogue)
    again = ItemIndex.open(tiny_settings, tiny_catalogue, rebuild=True)
    assert again.built and again.key == first.key
    assert again.search("comedy", n=100)


def test_key_follows_template_profiles_and_encoder(tiny_catalogue: Catalogue,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    encoder = load_encoder(None)
    plain = build_documents(tiny_catalogue, state_kg_facts=False)
    key = index_key(plain, encoder)
    assert index_key(build_documents(tiny_catalogue, state_kg_facts=False), encoder) == key
    profiled = build_documents(tiny_catalogue, state_kg_facts=False, item_profiles={3: "Rain and neon."})
    assert index_key(profiled, encoder) != key
    monkeypatch.setattr(index_module, "DOCUMENT_TEMPLATE_VERSION", "changed")
    assert index_key(plain, encoder) != key


def test_new_content_replaces_the_old_collection(tiny_settings: Settings, tiny_catalogue: Catalogue) -> None:
    plain = ItemIndex.open(tiny_settings, tiny_catalogue)
    profiled = ItemIndex.open(tiny_settings, tiny_catalogue, item_profiles={3: "Rain and neon."})
    assert profiled.built and profiled.key != plain.key
    assert profiled.documents[3].text.endswith("Profile: Rain and neon.")
    assert item_collections(tiny_settings) == {COLLECTION_PREFIX + profiled.key}


def test_half_built_collection_is_rebuilt(tiny_settings: Settings, tiny_catalogue: Catalogue,
                                          caplog: pytest.LogCaptureFixture) -> None:
    documents = build_documents(tiny_catalogue, state_kg_facts=kg_facts_trustworthy(tiny_catalogue))
    key = index_key(documents, load_encoder(tiny_settings.encoder_path))
    function = EncoderEmbeddingFunction(None)
    crashed = chroma_client(tiny_settings).create_collection(  # what a crash after the first batch leaves
        COLLECTION_PREFIX + key, metadata={"complete": False}, embedding_function=function,  # type: ignore[arg-type]
    )
    crashed.add(ids=["1"], embeddings=function(["Star Wars"]), metadatas=[documents[0].metadata])  # type: ignore[list-item]
    with caplog.at_level(logging.WARNING, logger=index_module.__name__):
        index = ItemIndex.open(tiny_settings, tiny_catalogue)
    assert index.built and index.key == key
    assert "incomplete" in caplog.text
    assert len(index.search("film", n=100)) == len(tiny_catalogue.items)
    assert not ItemIndex.open(tiny_settings, tiny_catalogue).built


def test_embedding_function_round_trips_through_its_config(tiny_index: ItemIndex) -> None:
    function = EncoderEmbeddingFunction.for_encoder(tiny_index.encoder)
    config = function.get_config()
    assert EncoderEmbeddingFunction.build_from_config(config).encoder is tiny_index.encoder
    assert config["fingerprint"] == tiny_index.encoder.fingerprint
    rows = function(["a quiet drama"])
    assert len(rows) == 1 and np.linalg.norm(rows[0]) == pytest.approx(1.0, abs=1e-5)


def test_collection_opened_without_a_function_resolves_to_ours(tiny_settings: Settings,
                                                               tiny_catalogue: Catalogue) -> None:
    index = ItemIndex.open(tiny_settings, tiny_catalogue)
    raw = chroma_client(tiny_settings).get_collection(COLLECTION_PREFIX + index.key, embedding_function=None)
    assert isinstance(raw.configuration["embedding_function"], EncoderEmbeddingFunction)
    assert raw.configuration["hnsw"]["space"] == "cosine"  # type: ignore[index]


def test_build_and_search_touch_no_network(tiny_settings: Settings, tiny_catalogue: Catalogue,
                                           no_network: None) -> None:
    assert ItemIndex.open(tiny_settings, tiny_catalogue).built
    reopened = ItemIndex.open(tiny_settings, tiny_catalogue)
    assert reopened.search("a scary film", constraints=Constraints(genres_any=("Horror",)), n=5)


# ----- searching -----------------------------------------------------------------------------------
CONSTRAINTS = [
    Constraints(year_min=1990, year_max=1995),
    Constraints(year_max=1980),
    Constraints(genres_any=("Sci-Fi",)),
    Constraints(genres_any=("Comedy", "Horror")),
    Constraints(genres_none=("Thriller", "Drama")),
    Constraints(exclude_ids=(1, 2, 3, 11)),
    Constraints(year_min=1990, genres_any=("Crime", "Romance"), genres_none=("Drama",), exclude_ids=(9,)),
    Constraints(genres_any=("sci-fi",), genres_none=("action",)),
]


@pytest.mark.parametrize("constraints", CONSTRAINTS, ids=str)
def test_every_hit_satisfies_the_constraints(tiny_index: ItemIndex, tiny_catalogue: Catalogue,
                                             constraints: Constraints,
                                             caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger=index_module.__name__):
        hits = tiny_index.search("a good film", constraints=constraints, n=100)
    admitted = {i for i, item in tiny_catalogue.items.items() if constraints.admits(item)}
    assert admitted, "each case should leave something to find"
    assert {h.item_id for h in hits} == admitted  # nothing forbidden, nothing allowed missing
    assert not caplog.records, "Chroma's filter let a forbidden item through"


@pytest.mark.parametrize(
    "constraints",
    [Constraints(year_min=2031), Constraints(year_min=1999, year_max=1990),
     Constraints(genres_any=("Anime",)), Constraints(exclude_ids=tuple(range(1, 30)))],
    ids=str,
)
def test_impossible_filter_returns_nothing(tiny_index: ItemIndex, constraints: Constraints) -> None:
    assert tiny_index.search("anything", constraints=constraints, n=10) == []


def test_unwanted_genre_the_catalogue_lacks_excludes_nothing(tiny_index: ItemIndex,
                                                            tiny_catalogue: Catalogue) -> None:
    hits = tiny_index.search("film", constraints=Constraints(genres_none=("Anime",)), n=100)
    assert len(hits) == len(tiny_catalogue.items)


def test_space_opera_finds_mostly_sci_fi(tiny_index: ItemIndex, tiny_catalogue: Catalogue) -> None:
    # Top-5 share, not the top hit: Apollo 13 (a space film the fixture files as Action/Drama/Thriller) and
    # Alien sit within 0.02 of each other, so which one leads says nothing about the retriever. Chance would
    # put 6/21 sci-fi films, about 1.4 of 5, in the list.
    hits = tiny_index.search("space opera with robots", n=5)
    assert sum("Sci-Fi" in tiny_catalogue.items[h.item_id].genres for h in hits) >= 4


def test_hits_are_sorted_and_capped(tiny_index: ItemIndex, tiny_catalogue: Catalogue) -> None:
    hits = tiny_index.search("romantic comedy", n=5)
    assert len(hits) == 5
    similarities = [h.similarity for h in hits]
    assert similarities == sorted(similarities, reverse=True)
    assert all(-1.0 <= s <= 1.0 for s in similarities)
    # The Shining and Clueless tie within 0.02 on this tiny fixture, so the share of the top 5 is what is checked.
    assert sum(bool({"Comedy", "Romance"} & set(tiny_catalogue.items[h.item_id].genres)) for h in hits) >= 4
    assert len(tiny_index.search("film", n=1000)) == len(tiny_catalogue.items)
    assert tiny_index.search("film", n=0) == []


def test_similarity_is_cosine_of_stored_vectors(tiny_index: ItemIndex) -> None:
    query = tiny_index.encode_query("a heist thriller")
    hits = tiny_index.search("ignored when an embedding is given", query_embedding=query, n=3)
    assert hits == tiny_index.search("a heist thriller", n=3)
    vectors = tiny_index.embeddings([h.item_id for h in hits])
    np.testing.assert_allclose(vectors @ query, [h.similarity for h in hits], atol=1e-4)


def test_embeddings_rows_follow_the_requested_order(tiny_index: ItemIndex) -> None:
    ids = [5, 1, 22, 5]
    vectors = tiny_index.embeddings(ids)
    assert vectors.shape == (4, tiny_index.encoder.dimension) and vectors.dtype == np.float32
    expected = tiny_index.encoder.encode([tiny_index.documents[i].text for i in ids])
    np.testing.assert_allclose(vectors, expected, atol=1e-4)
    assert tiny_index.embeddings([]).shape == (0, tiny_index.encoder.dimension)
    with pytest.raises(KeyError, match="21"):
        tiny_index.embeddings([1, 21])


# ----- Chroma server -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [("http://localhost:8000", ("localhost", 8000, False)),
     ("https://chroma.example.org", ("chroma.example.org", 443, True)),
     ("10.0.0.5:9000", ("10.0.0.5", 9000, False)), ("http://chroma", ("chroma", 8000, False))],
)
def test_parse_chroma_url(url: str, expected: tuple[str, int, bool]) -> None:
    assert parse_chroma_url(url) == expected


@pytest.mark.parametrize("url", ["ftp://host:1", "http://", "http://host:notaport"])
def test_parse_chroma_url_rejects_nonsense(url: str) -> None:
    with pytest.raises(UserError, match="CONVREC_CHROMA_URL"):
        parse_chroma_url(url)


@pytest.fixture()
def chroma_server(tmp_path: Path) -> Iterator[str]:
    """Run `chroma run` on a free local port for the duration of one test."""
    binary = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    if not Path(binary).exists():
        pytest.skip("the chroma command is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([binary, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                                "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("chroma server did not start")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_same_index_code_over_a_chroma_server(chroma_server: str, tiny_settings: Settings,
                                              tiny_catalogue: Catalogue) -> None:
    settings = tiny_settings.model_copy(update={"chroma_url": chroma_server})
    first = ItemIndex.open(settings, tiny_catalogue)
    second = ItemIndex.open(settings, tiny_catalogue)
    assert first.built and not second.built and second.key == first.key
    assert not settings.index_dir.exists()  # nothing embedded on disk: the server holds it
    hits = second.search("robots", constraints=Constraints(year_max=1990, genres_any=("Sci-Fi",)), n=100)
    assert {h.item_id for h in hits} == {1, 2, 3, 4}


# ----- the real MovieLens-100K ---------------------------------------------------------------------
@pytest.mark.slow
def test_real_index(real_settings: Settings, real_catalogue: Catalogue) -> None:
    index = ItemIndex.open(real_settings, real_catalogue)
    assert len(index.documents) == 1681
    assert kg_facts_trustworthy(real_catalogue) is False
    nineties_sci_fi = Constraints(year_min=1990, year_max=1999, genres_any=("Sci-Fi",))
    hits = index.search("90s sci-fi", constraints=nineties_sci_fi, n=100)
    assert hits
    for hit in hits:
        item = real_catalogue.items[hit.item_id]
        assert "Sci-Fi" in item.genres and item.year is not None and 1990 <= item.year <= 1999, item
    expected = {i for i, item in real_catalogue.items.items() if nineties_sci_fi.admits(item)}
    assert {h.item_id for h in hits} == expected  # fewer than 100 match: all of them come back
    reopened = ItemIndex.open(real_settings, real_catalogue)
    assert not reopened.built and reopened.key == index.key
